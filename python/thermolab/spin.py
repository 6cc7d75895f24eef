"""``thermolab.ising``: temperature sweeps of Ising models — a periodic lattice, a spin glass
or any graph from your couplings (a dense NumPy or a ``scipy.sparse`` matrix), or a QUBO — with
per-site thermodynamics, their errors, the exact values where the library has them (Kaufman's
finite lattice, enumeration up to 20 spins), and free energy and entropy by thermodynamic
integration.

Conventions: an Ising model has ``E(s) = −Σ_{i<j} J_ij s_i s_j − Σ_i h_i s_i`` with
``s ∈ {−1, +1}`` (give J symmetric or upper-triangular, with a zero diagonal); a QUBO has
``E(x) = xᵀ Q x`` with ``x ∈ {0, 1}`` (any square Q).
"""
import warnings

import numpy as np

from . import _thermolab
from .progress import bar


def _triplets(name, m):
    """``(n, rows, cols, values)`` of a square dense or scipy.sparse matrix."""
    if hasattr(m, "tocoo"):
        c = m.tocoo()
        c.sum_duplicates()
        shape, r, k, v = c.shape, c.row, c.col, c.data
    else:
        a = np.asarray(m, dtype=np.float64)
        if a.ndim != 2:
            raise ValueError(f"{name}: expected a square matrix, got shape {a.shape}")
        shape = a.shape
        r, k = np.nonzero(a)
        v = a[r, k]
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"{name}: expected a square matrix, got shape {tuple(shape)}")
    v = np.asarray(v, dtype=np.float64)
    if not np.all(np.isfinite(v)):
        bad = int(np.flatnonzero(~np.isfinite(v))[0])
        raise ValueError(f"{name}: entry ({int(r[bad])}, {int(k[bad])}) is {v[bad]}")
    keep = v != 0
    return int(shape[0]), np.asarray(r)[keep].astype(np.int64), np.asarray(k)[keep].astype(np.int64), v[keep]


def _ising_terms(J, h):
    """The terms of ``−Σ_{i<j} J_ij s_i s_j − Σ h_i s_i`` from J (symmetric or upper-triangular)."""
    n, r, c, v = _triplets("J", J)
    if np.any(r == c):
        i = int(r[np.flatnonzero(r == c)[0]])
        raise ValueError(f"J: diagonal entry ({i}, {i}) is not zero (give fields in h)")
    upper = {(int(a), int(b)): w for a, b, w in zip(r, c, v) if a < b}
    lower = {(int(b), int(a)): w for a, b, w in zip(r, c, v) if a > b}
    if lower and lower != upper:
        i, j = min(k for k in set(upper) | set(lower) if upper.get(k, 0.0) != lower.get(k, 0.0))
        raise ValueError(
            f"J: not symmetric: J[{i}, {j}] = {upper.get((i, j), 0.0)} but "
            f"J[{j}, {i}] = {lower.get((i, j), 0.0)} (give J symmetric or upper-triangular)"
        )
    rows = [i for i, _ in upper]
    cols = [j for _, j in upper]
    vals = list(upper.values())
    if h is not None:
        h = np.asarray(h, dtype=np.float64).ravel()
        if h.shape != (n,):
            raise ValueError(f"h: {h.size} fields for {n} spins")
        if not np.all(np.isfinite(h)):
            raise ValueError(f"h: entry {int(np.flatnonzero(~np.isfinite(h))[0])} is not finite")
        nz = np.flatnonzero(h)
        rows += nz.tolist()
        cols += nz.tolist()
        vals += h[nz].tolist()
    return (n, np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64), np.array(vals, dtype=np.float64))


class SpinResult:
    """One row per temperature in :meth:`table` (per site: ``energy``, ``abs_magnetization``,
    ``heat_capacity``, ``susceptibility``, ``binder``, each with ``_se``; ``tau_energy``; and
    ``exact_energy``, ``exact_heat_capacity``, ``exact_free_energy`` where known), and the
    thermodynamic integration in :meth:`integration` (``log_z``, ``free_energy``, ``entropy``
    per site, with errors) when asked for with ``ti_points``."""

    def __init__(self, out):
        self.points = out["points"]
        self.exact_source = out["exact_source"]
        self.n_sites = int(out["n_sites"])
        self._integration = out.get("integration")
        self.termination = out["termination"]
        self.interrupted = bool(out["interrupted"])
        if self.interrupted:
            warnings.warn("sweep interrupted: keeping the measurements made so far",
                          RuntimeWarning, stacklevel=3)

    def table(self):
        """The sweep as a pandas DataFrame indexed by temperature."""
        import pandas as pd

        return pd.DataFrame(self.points).set_index("temperature")

    def integration(self):
        """The thermodynamic integration as a DataFrame indexed by β (None if not run)."""
        import pandas as pd

        if self._integration is None:
            return None
        return pd.DataFrame(self._integration).set_index("beta")

    def to_arviz(self):
        """An ``arviz.InferenceData`` with a ``thermodynamics`` group along ``temperature``
        (and, with the integration, ``log_z``/``free_energy``/``entropy`` along ``ti_beta``)."""
        import arviz as az

        from .result import add_group

        t = self.table()
        variables = {k: (("temperature",), t[k].to_numpy()) for k in t.columns}
        coords = {"temperature": t.index.to_numpy()}
        ti = self.integration()
        if ti is not None:
            for k in ti.columns:
                variables[f"ti_{k}"] = (("ti_beta",), ti[k].to_numpy())
            coords["ti_beta"] = ti.index.to_numpy()
        return add_group(az.InferenceData(), "thermodynamics", variables, coords)

    def __repr__(self):
        return (f"SpinResult({len(self.points)} temperatures, {self.n_sites} spins, exact: "
                f"{self.exact_source}, {self.termination})")


def ising(
    temperatures,
    J=None,
    h=None,
    *,
    lattice=None,
    coupling=1.0,
    field=0.0,
    Q=None,
    algorithm="metropolis",
    sweeps=10000,
    thermalization=None,
    blocks=32,
    hot_start=False,
    ti_points=0,
    threads=0,
    seed=0,
    progress=True,
    first_temperature=0,
):
    """Sweeps ``temperatures`` (k_B = 1) of one Ising model, given as one of:

    - ``lattice=(dim, L)``: the periodic ``L^dim`` lattice (dim 2 or 3) with uniform
      ``coupling`` and ``field``;
    - ``J`` (dense or ``scipy.sparse``, symmetric or upper-triangular) and fields ``h``;
    - ``Q``: a QUBO, ``E(x) = xᵀ Q x``.

    ``algorithm`` is ``metropolis``, ``heatbath``, ``wolff``, ``sw`` (Swendsen–Wang) or ``msc``
    (multi-spin coding); ``sweeps`` measured sweeps per temperature after ``thermalization``
    (default ``sweeps / 5``); errors by blocking over ``blocks``. ``ti_points`` > 0 adds a
    thermodynamic integration on that many evenly spaced β up to the coldest temperature.
    Results depend on ``seed`` only, never on ``threads``; temperature k draws from the
    stream of temperature ``first_temperature + k``, so a scan split into parts (see
    :func:`thermolab.distributed.ising`) measures what the whole scan does.
    """
    given = [x is not None for x in (lattice, J, Q)]
    if sum(given) != 1:
        raise ValueError("ising: give exactly one of lattice=(dim, L), J (with h) or Q")
    kw = {}
    if lattice is None and (coupling != 1.0 or field != 0.0):
        raise ValueError("coupling, field: only for lattice= (give J and h for your own couplings)")
    if lattice is not None and h is not None:
        raise ValueError("h: with lattice= give the uniform field as field=")
    if lattice is not None:
        dim, L = lattice
        kw["lattice"] = (int(dim), int(L))
        kw["j"], kw["h"] = float(coupling), float(field)
    elif J is not None:
        kw["terms"] = _ising_terms(J, h)
    else:
        if h is not None:
            raise ValueError("h: a QUBO's linear terms are its diagonal")
        n, r, c, v = _triplets("Q", Q)
        kw["terms"], kw["qubo"] = (n, r, c, v), True
    temps = [float(t) for t in np.atleast_1d(temperatures)]
    out = _thermolab.ising(
        temps,
        algorithm=algorithm,
        sweeps=int(sweeps),
        thermalization=None if thermalization is None else int(thermalization),
        blocks=int(blocks),
        hot_start=bool(hot_start),
        ti_points=int(ti_points),
        threads=int(threads),
        seed=int(seed),
        first_temperature=int(first_temperature),
        progress=bar("ising", progress),
        **kw,
    )
    return SpinResult(out)
