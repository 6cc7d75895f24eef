"""Built-in families on your NumPy (or pandas) data: Bayesian linear regression (exact
posterior and evidence), logistic regression and dense networks of any architecture. They run
the library's own kernels, as fast as the built-in targets, and have a prior/likelihood split,
so :func:`thermolab.evidence` integrates them from their prior.
"""
import numpy as np

from . import _thermolab
from .models import _with_recipe


def _matrix(name, a):
    """A 2-D float64 array of ``a`` and its column names (a DataFrame's, else None)."""
    names = None
    if hasattr(a, "columns"):
        names = [str(c) for c in a.columns]
    try:
        m = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name}: not an array of numbers ({e})") from None
    if m.ndim == 1:
        m = m[:, None]
    if m.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array (rows × columns), got shape {m.shape}")
    return np.ascontiguousarray(m), names


def linear_regression(X, y, noise_sd=1.0, prior_sd=1.0, intercept=False):
    """``y = X b + ε``, ``ε ~ N(0, noise_sd²)``, ``b ~ N(0, prior_sd² I)``: conjugate, so
    ``model.exact()`` gives the evidence ``ln p(y)`` and the posterior mean. With
    ``intercept=True`` a column of ones is appended to X (its coefficient is ``b_intercept``).
    """
    args = (X, y)
    kwargs = dict(noise_sd=noise_sd, prior_sd=prior_sd, intercept=intercept)
    X, names = _matrix("X", X)
    y, _ = _matrix("y", y)
    if intercept:
        X = np.hstack([X, np.ones((X.shape[0], 1))])
        names = (names or [f"x{j}" for j in range(X.shape[1] - 1)]) + ["intercept"]
    m = _thermolab.linear_regression(X, y, float(noise_sd), float(prior_sd), names)
    return _with_recipe(m, linear_regression, args, kwargs)


def logistic_regression(X, y, prior_sd=1.0, standardise=True, f64=False):
    """Bayesian logistic regression of 0/1 targets ``y`` on the columns of X with a
    ``N(0, prior_sd²)`` prior on every weight and the bias. Features are standardised first
    (weights per standard deviation) unless ``standardise=False``; ``f64=True`` keeps the
    double-precision kernel instead of f32 data with f64 sums."""
    args, kwargs = (X, y), dict(prior_sd=prior_sd, standardise=standardise, f64=f64)
    X, names = _matrix("X", X)
    y, _ = _matrix("y", y)
    m = _thermolab.logistic_regression(X, y, float(prior_sd), bool(standardise), bool(f64), names)
    return _with_recipe(m, logistic_regression, args, kwargs)


def mlp(X, y, hidden=(10,), activation="tanh", noise_sd=0.1, prior_sd=1.0, f64=False):
    """A Bayesian dense network from the columns of X through ``hidden`` layers (widths, with
    ``activation``: relu, tanh, sigmoid, identity) to the columns of y, with a Gaussian
    likelihood of sd ``noise_sd`` and a ``N(0, prior_sd²)`` prior on every weight and bias.
    Parameters are named as Stan names arrays: ``W1.i.j``, ``b1.i``, …"""
    args = (X, y)
    kwargs = dict(hidden=hidden, activation=activation, noise_sd=noise_sd, prior_sd=prior_sd, f64=f64)
    X, _ = _matrix("X", X)
    y, _ = _matrix("y", y)
    widths = [X.shape[1], *[int(h) for h in hidden], y.shape[1]]
    arch = "-".join(str(w) for w in widths) + f":{activation}"
    m = _thermolab.mlp(X, y, arch, float(noise_sd), float(prior_sd), bool(f64))
    return _with_recipe(m, mlp, args, kwargs)
