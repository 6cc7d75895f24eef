"""The result of :func:`thermolab.sample`: NumPy arrays underneath, a pandas summary computed
by the library's diagnostics, and an ArviZ ``InferenceData`` on request."""
import warnings

import numpy as np

from . import _thermolab

#: Per-draw statistics, under ArviZ's names.
STATS = ("diverging", "tree_depth", "n_steps", "energy", "lp", "step_size", "acceptance_rate")


class SampleResult:
    """Draws ``(chains, draws, dim)`` in :attr:`draws`, per-draw statistics ``(chains, draws)``
    in :attr:`stats` (``diverging``, ``tree_depth``, ``n_steps``, ``energy`` — the
    Hamiltonian —, ``lp`` — the log density ``-beta * E`` —, ``step_size``,
    ``acceptance_rate``), parameter :attr:`names`, and why the run ended
    (:attr:`termination`: ``finished`` or ``interrupted``).
    """

    def __init__(self, out, settings=None):
        self.draws = out["draws"]
        self.names = list(out["names"])
        self.stats = {k: out[k] for k in STATS}
        self.termination = out["termination"]
        self.interrupted = bool(out["interrupted"])
        self.seconds = float(out["seconds"])
        self.gradient_evaluations = np.asarray(out["gradient_evaluations"])
        self.settings = dict(settings or {})
        if self.interrupted:
            warnings.warn(
                f"sampling interrupted: keeping {self.draws.shape[1]} draws per chain",
                RuntimeWarning,
                stacklevel=3,
            )

    @property
    def divergences(self):
        """Divergent transitions among the kept draws."""
        return int(self.stats["diverging"].sum())

    def summary(self):
        """The posterior summary (library diagnostics: rank-normalised split R̂, bulk and tail
        ESS, MCSE) as a pandas DataFrame indexed by parameter name."""
        import pandas as pd

        cols = _thermolab.summary(np.ascontiguousarray(self.draws, dtype=np.float64))
        return pd.DataFrame(cols, index=self.names)

    def to_arviz(self):
        """The run as an ``arviz.InferenceData`` with groups ``posterior`` (one variable per
        parameter name) and ``sample_stats`` (ArviZ's names)."""
        import arviz as az

        posterior = {n: self.draws[:, :, j] for j, n in enumerate(self.names)}
        return az.from_dict(posterior=posterior, sample_stats=dict(self.stats))

    def __repr__(self):
        c, n, d = self.draws.shape
        return (
            f"SampleResult({c} chains × {n} draws of {d} parameters, "
            f"{self.divergences} divergences, {self.termination})"
        )
