"""``thermolab.temper``: parallel tempering of a model (the library's replica-exchange engine:
non-reversible swaps, a ladder re-spaced during warm-up), with the draws at β = 1 and the
canonical averages along the ladder."""
import warnings

import numpy as np

from . import _thermolab
from .progress import bar
from .result import Draws, add_group
from .sampling import as_model


class TemperResult(Draws):
    """Draws at β = 1, ``(chains, rounds, dim)``, in :attr:`draws`; per tempered chain (lists
    of one entry per chain): the final :attr:`ladder` of β, the swap :attr:`rejection` rate per
    neighbouring pair, the communication :attr:`barrier` Λ with :attr:`advised_replicas`
    (⌈2Λ⌉ + 1) and :attr:`round_trips`; and the canonical averages per rung in
    :attr:`thermodynamics` (``beta``, ``energy`` ⟨E⟩, ``heat_capacity`` β²Var(E), each with
    ``_se``; ``log_z_ratio`` = ln Z(1) − ln Z(β_min) by stepping stones).
    """

    def __init__(self, out):
        super().__init__(out["draws"], out["names"])
        chains = out["chains"]
        self.termination = out["termination"]
        self.interrupted = bool(out["interrupted"])
        self.ladder = [c["ladder"] for c in chains]
        self.rejection = [c["rejection"] for c in chains]
        self.barrier = [float(c["barrier"]) for c in chains]
        self.advised_replicas = [int(c["advised_replicas"]) for c in chains]
        self.round_trips = [int(c["round_trips"]) for c in chains]
        keys = ("beta", "energy", "energy_se", "heat_capacity", "heat_capacity_se")
        self.thermodynamics = {k: np.array([c[k] for c in chains]) for k in keys}
        self.thermodynamics["log_z_ratio"] = np.array([c["log_z_ratio"] for c in chains])
        self.thermodynamics["log_z_ratio_se"] = np.array([c["log_z_ratio_se"] for c in chains])
        if self.interrupted:
            warnings.warn(
                f"tempering interrupted: keeping {self.draws.shape[1]} rounds per chain",
                RuntimeWarning,
                stacklevel=3,
            )

    def to_arviz(self):
        """``posterior`` (the draws at β = 1) and ``thermodynamics`` (dims ``chain``, ``rung``:
        β, ⟨E⟩, C with errors, and ``log_z_ratio`` per chain)."""
        import arviz as az

        idata = az.from_dict(posterior=self._posterior())
        t = self.thermodynamics
        n_chains, n_rungs = t["beta"].shape
        variables = {k: (("chain", "rung"), t[k]) for k in
                     ("beta", "energy", "energy_se", "heat_capacity", "heat_capacity_se")}
        variables["log_z_ratio"] = (("chain",), t["log_z_ratio"])
        variables["log_z_ratio_se"] = (("chain",), t["log_z_ratio_se"])
        coords = {"chain": np.arange(n_chains), "rung": np.arange(n_rungs)}
        return add_group(idata, "thermodynamics", variables, coords)

    def __repr__(self):
        c, n, d = self.draws.shape
        return (
            f"TemperResult({c} chains × {n} rounds of {d} parameters at β = 1, "
            f"{len(self.ladder[0]) if self.ladder else 0} replicas, barrier "
            f"{', '.join(f'{b:.2f}' for b in self.barrier)}, {self.termination})"
        )


def temper(
    model,
    replicas=14,
    beta_min=0.01,
    chains=2,
    warmup=4000,
    rounds=20000,
    seed=0,
    *,
    dim=None,
    ladder=None,
    sampler="hmc",
    adapt_ladder=True,
    init=None,
    threads=0,
    progress=True,
):
    """Parallel tempering of ``model`` on ``replicas`` inverse temperatures from ``beta_min``
    to 1 (geometric, re-spaced during ``warmup`` rounds unless ``adapt_ladder=False``; or an
    explicit increasing ``ladder`` ending at 1), ``rounds`` kept rounds per chain, each replica
    moved by ``sampler`` (hmc, nuts, mala, rwm) between swap rounds. Every replica starts at
    ``init`` (default: the origin). Use it for multimodal posteriors: the draws at β = 1 visit
    the modes in their weights when the barrier is crossed (see :attr:`TemperResult.round_trips`).
    """
    model = as_model(model, dim, "temper")
    out = _thermolab.temper(
        model,
        replicas=int(replicas),
        beta_min=float(beta_min),
        ladder=None if ladder is None else [float(b) for b in ladder],
        sampler=sampler,
        chains=int(chains),
        warmup=int(warmup),
        rounds=int(rounds),
        adapt_ladder=bool(adapt_ladder),
        init=None if init is None else [float(v) for v in init],
        threads=int(threads),
        seed=int(seed),
        progress=bar("tempering", progress),
    )
    return TemperResult(out)
