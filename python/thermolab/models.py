"""Models from the user: a Python function, a compiled function pointer (numba ``cfunc``,
ctypes), a JAX function, or a built-in target by name. Each returns a :class:`thermolab.Model`.
"""
import ctypes

from ._thermolab import Model

#: The C signature of a compiled model: ``double f(const double *x, double *grad, int64_t n)``,
#: returning the log density (or the energy, with ``kind="energy"``) at the ``n`` coordinates
#: ``x`` and writing its gradient into ``grad``. Return NaN for a point outside the support.
C_SIGNATURE = "double f(const double *x, double *grad, int64_t n)"


def _with_recipe(model, fn, args, kwargs=None):
    """``model``, remembering that ``fn(*args, **kwargs)`` builds it (how it is pickled)."""
    model._set_recipe((fn, tuple(args), dict(kwargs or {})))
    return model


def _rebuild(recipe):
    """The model a recipe builds (the other half of ``Model.__reduce__``)."""
    fn, args, kwargs = recipe
    return fn(*args, **kwargs)


def from_logp(f, dim, names=None):
    """A model from ``f(x) -> (log_density, gradient)`` of a float64 array of length ``dim``.

    The function is called with the GIL held (the chains then take turns); for speed write it
    as a numba ``cfunc`` and use :func:`from_cfunc`.
    """
    return _with_recipe(Model.from_callable(f, int(dim), "logp", names), from_logp, (f, dim, names))


def from_energy(f, dim, names=None):
    """A model from ``f(x) -> (energy, gradient)``, the energy being minus the log density."""
    return _with_recipe(Model.from_callable(f, int(dim), "energy", names), from_energy, (f, dim, names))


def _address(f):
    if isinstance(f, int):
        return f
    if hasattr(f, "address"):  # a numba cfunc
        return int(f.address)
    if isinstance(f, ctypes._CFuncPtr):
        return ctypes.cast(f, ctypes.c_void_p).value
    raise TypeError(
        f"from_cfunc: expected a numba cfunc, a ctypes function or an address, got {type(f).__name__}"
    )


def from_cfunc(f, dim, kind="logp", names=None):
    """A model from a compiled function of signature :data:`C_SIGNATURE` (a numba ``cfunc``
    with signature ``float64(CPointer(float64), CPointer(float64), int64)``, a ctypes function,
    or its address as an int).

    It is called from the sampler's threads **without the GIL**: chains run in parallel and
    Python stays free. The function must be thread-safe and must not call into Python. The
    model keeps ``f`` alive; with a bare address, keep its owner (the loaded library) alive.
    Such a model cannot be pickled (an address means nothing in another process): for the
    distributed calls, pass a function that builds it.
    """
    return Model.from_pointer(_address(f), int(dim), kind, names, owner=f)


def from_jax(logp, dim, names=None):
    """A model from a JAX log density ``logp(x) -> scalar``: compiled once with
    ``jax.jit(jax.value_and_grad(logp))`` and called through :func:`from_logp` in float64.
    """
    import jax
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    vg = jax.jit(jax.value_and_grad(logp))

    def f(x):
        v, g = vg(x)
        return float(v), np.asarray(g, dtype=np.float64)

    return _with_recipe(from_logp(f, dim, names), from_jax, (logp, dim, names))


def builtin(name, **params):
    """A built-in target by name, as ``thermolab sample --target NAME``: ``gauss``, ``funnel``,
    ``funnel-nc``, ``mixture``, ``logreg``, ``bnn`` and the posteriordb posteriors
    (``eight-schools``, ``eight-schools-nc``, ``sblrc-blr``, ``ark``, ``gp-pois-regr``,
    ``low-dim-gauss-mix``, ``diamonds``). Parameters as the command line's: ``dim``, ``rho``,
    ``separation``, ``data``, ``target_column``, ``prior_sd``, ``noise_sd``, ``arch``, ``f64``.
    """
    return _with_recipe(Model.builtin(name, **params), builtin, (name,), params)
