"""Results of the drivers: NumPy arrays underneath, pandas summaries computed by the library's
diagnostics, and ArviZ ``InferenceData`` on request (with a ``thermodynamics`` group where the
run measured one: the β ladder, ⟨E⟩, the heat capacity, ln Z with its error)."""
import warnings

import numpy as np

from . import _thermolab

#: Per-draw statistics, under ArviZ's names.
STATS = ("diverging", "tree_depth", "n_steps", "energy", "lp", "step_size", "acceptance_rate")


def add_group(idata, name, variables, coords):
    """``idata`` with a group ``name`` made of ``variables`` (name → (dims, array))."""
    import xarray as xr

    ds = xr.Dataset({k: (dims, np.asarray(v)) for k, (dims, v) in variables.items()}, coords=coords)
    idata.add_groups({name: ds}, warn_on_custom_groups=False)
    return idata


class Draws:
    """Draws ``(chains, draws, dim)`` in :attr:`draws` with parameter :attr:`names`."""

    def __init__(self, draws, names):
        self.draws = draws
        self.names = list(names)

    def summary(self):
        """The posterior summary (library diagnostics: rank-normalised split R̂, bulk and tail
        ESS, MCSE) as a pandas DataFrame indexed by parameter name."""
        import pandas as pd

        cols = _thermolab.summary(np.ascontiguousarray(self.draws, dtype=np.float64))
        return pd.DataFrame(cols, index=self.names)

    def _posterior(self):
        return {n: self.draws[:, :, j] for j, n in enumerate(self.names)}


class SampleResult(Draws):
    """The result of :func:`thermolab.sample`: draws ``(chains, draws, dim)`` in
    :attr:`draws`, per-draw statistics ``(chains, draws)`` in :attr:`stats` (``diverging``,
    ``tree_depth``, ``n_steps``, ``energy`` — the Hamiltonian —, ``lp`` — the log density
    ``-beta * E`` —, ``step_size``, ``acceptance_rate``), parameter :attr:`names`, and why the
    run ended (:attr:`termination`: ``finished`` or ``interrupted``).
    """

    def __init__(self, out, settings=None):
        super().__init__(out["draws"], out["names"])
        self.stats = {k: out[k] for k in STATS}
        self.termination = out["termination"]
        self.interrupted = bool(out["interrupted"])
        self.seconds = float(out["seconds"])
        self.gradient_evaluations = np.asarray(out["gradient_evaluations"])
        self.settings = dict(settings or {})
        #: The run folder written with ``out=`` (None without, or when writing it failed).
        self.folder = out.get("folder")
        if out.get("folder_error"):
            warnings.warn(f"the run folder could not be written (the draws are kept here): "
                          f"{out['folder_error']}", RuntimeWarning, stacklevel=3)
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

    def to_arviz(self):
        """The run as an ``arviz.InferenceData`` with groups ``posterior`` (one variable per
        parameter name) and ``sample_stats`` (ArviZ's names)."""
        import arviz as az

        return az.from_dict(posterior=self._posterior(), sample_stats=dict(self.stats))

    def __repr__(self):
        c, n, d = self.draws.shape
        return (
            f"SampleResult({c} chains × {n} draws of {d} parameters, "
            f"{self.divergences} divergences, {self.termination})"
        )
