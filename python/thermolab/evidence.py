"""``thermolab.evidence`` (alias ``log_z``): the log evidence ``ln Z = ln ∫ e^{−E}`` of a model
by every estimator of the library (thermodynamic integration, stepping stones forward and
reverse, bridge sampling, annealed importance sampling), with the verdict on which to trust.
"""
import json
import math
import warnings

import numpy as np

from . import _thermolab
from .progress import bar
from .result import add_group
from .sampling import as_model


class EvidenceResult:
    """What :func:`thermolab.evidence` measured.

    :attr:`log_z` and :attr:`se` are the trusted estimate with the smallest error
    (:attr:`method` names it), or NaN when none is trusted: :attr:`verdict` says why in one
    line, and :meth:`table` lists every estimator with its problems. :attr:`exact` is the
    exact value where the library knows one. :attr:`reference` says where the path started:
    the model's ``prior``, or a ``fitted Gaussian`` (a model without a prior/likelihood split).
    """

    def __init__(self, out):
        run = json.loads(out["run"])
        self.run = run
        self.reference = out["reference"]
        self.exact = out["exact_log_z"]
        self.termination = run["termination"]
        self.interrupted = bool(out["interrupted"])
        verdict = run.get("verdict") or {}
        self.verdict = verdict.get("summary", "")
        self.method = verdict.get("best")
        self.estimates = run["estimates"]
        best = next((e for e in self.estimates if e["method"] == self.method), None)
        self.log_z = float(best["log_z"]["value"]) if best else math.nan
        self.se = float(best["log_z"]["se"]) if best else math.nan
        self.trusted = best is not None
        path = np.array(run["path"], dtype=float).reshape(-1, 3)
        self.path = {"t": path[:, 0], "mean_log_likelihood": path[:, 1], "se": path[:, 2]}
        if self.interrupted:
            warnings.warn("evidence interrupted: " + (self.verdict or "no estimate"),
                          RuntimeWarning, stacklevel=3)
        elif not self.trusted:
            warnings.warn("no evidence estimate is trusted: " + self.verdict,
                          RuntimeWarning, stacklevel=3)

    def table(self):
        """Every estimator as a pandas DataFrame: ``log_z``, ``se``, ``trusted``,
        ``problems``, ``note``, ``evaluations``, ``seconds``."""
        import pandas as pd

        rows = [
            {
                "log_z": e["log_z"]["value"],
                "se": e["log_z"]["se"],
                "trusted": bool(e.get("trusted")),
                "problems": "; ".join(e.get("problems") or []),
                "note": e.get("note") or "",
                "evaluations": e["evaluations"],
                "seconds": e["seconds"],
            }
            for e in self.estimates
        ]
        return pd.DataFrame(rows, index=[e["method"] for e in self.estimates])

    def ladder(self):
        """The sampled rungs as a pandas DataFrame: ``t``, ``draws``, ``ess``, ``rhat``,
        ``divergences``, ``retried``."""
        import pandas as pd

        keys = ("t", "draws", "ess", "rhat", "divergences", "retried")
        return pd.DataFrame([{k: r.get(k) for k in keys} for r in self.run.get("ladder", [])])

    def to_arviz(self):
        """An ``arviz.InferenceData`` with one group, ``thermodynamics``: the path ⟨log L⟩_t
        with its error along ``rung`` (coordinate ``t``), and every estimator's ``log_z`` and
        ``log_z_se`` along ``method``."""
        import arviz as az

        methods = [e["method"] for e in self.estimates]
        variables = {
            "t": (("rung",), self.path["t"]),
            "mean_log_likelihood": (("rung",), self.path["mean_log_likelihood"]),
            "mean_log_likelihood_se": (("rung",), self.path["se"]),
            "log_z": (("method",), [e["log_z"]["value"] for e in self.estimates]),
            "log_z_se": (("method",), [e["log_z"]["se"] for e in self.estimates]),
            "trusted": (("method",), [bool(e.get("trusted")) for e in self.estimates]),
        }
        coords = {"rung": np.arange(len(self.path["t"])), "method": methods}
        return add_group(az.InferenceData(), "thermodynamics", variables, coords)

    def __repr__(self):
        exact = "" if self.exact is None else f"; exact {self.exact:.4f}"
        if self.trusted:
            return f"EvidenceResult(ln Z = {self.log_z:.4f} ± {self.se:.4f} by {self.method}{exact})"
        return f"EvidenceResult(no trusted estimate{exact}: {self.verdict})"


def evidence(
    model,
    rungs=32,
    chains=2,
    warmup=300,
    draws=1000,
    seed=0,
    *,
    dim=None,
    power=5.0,
    ais=True,
    ais_particles=256,
    ais_steps=1000,
    adaptive=True,
    ladder=None,
    threads=0,
    progress=True,
):
    """``ln Z`` of ``model`` by every estimator, on a power-posterior ladder of at least
    ``rungs`` rungs (spaced evenly in overlap length when ``adaptive``, else
    ``t_k = (k/rungs)^power``; or an explicit ``ladder`` from 0 to 1), ``chains`` chains of
    ``warmup`` + ``draws`` iterations per rung, and (``ais=True``) annealed importance sampling
    with ``ais_particles`` particles.

    A model with a prior/likelihood split (the built-in families and posteriors) runs from its
    prior, and ``ln Z`` is the evidence. Any other model (your own function) runs from a
    Gaussian fitted to a pilot run, and ``ln Z`` is ``ln ∫ p̃(x) dx`` of its unnormalised
    density — the evidence when your log density is log prior + log likelihood with a
    normalised prior. Rungs whose chains disagree are sampled again; estimates whose
    diagnostics fail are not trusted, and a result with none trusted says so (a warning, NaN
    :attr:`EvidenceResult.log_z`) rather than printing a small error.
    """
    model = as_model(model, dim, "evidence")
    out = _thermolab.evidence(
        model,
        rungs=int(rungs),
        power=float(power),
        chains=int(chains),
        warmup=int(warmup),
        draws=int(draws),
        ais=bool(ais),
        ais_particles=int(ais_particles),
        ais_steps=int(ais_steps),
        adaptive=bool(adaptive),
        ladder=None if ladder is None else [float(t) for t in ladder],
        threads=int(threads),
        seed=int(seed),
        progress=bar("evidence", progress),
    )
    return EvidenceResult(out)


#: ``log_z`` is :func:`evidence` under the physicist's name.
log_z = evidence
