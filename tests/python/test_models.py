"""Each route by which a user hands thermolab a model, sampled and checked statistically:
moments within a few MCSE of the exact ones (fixed seeds), and a posteriordb target against
its exact posterior means."""
import numpy as np
import pytest

import thermolab
from conftest import MU, SD, check_moments, fn_pointer, logp


def test_numpy_callable_logp():
    m = thermolab.from_logp(logp, dim=3, names=["a", "b", "c"])
    r = thermolab.sample(m, chains=4, warmup=500, draws=1000, seed=1, progress=False)
    assert r.draws.shape == (4, 1000, 3)
    assert r.names == ["a", "b", "c"]
    check_moments(r)


def test_energy_callable_has_the_opposite_sign():
    m = thermolab.from_energy(lambda x: tuple(-v for v in logp(x)), dim=3)
    r = thermolab.sample(m, chains=4, warmup=500, draws=1000, seed=2, progress=False)
    check_moments(r)
    # energy_and_grad reports the energy, minus the log density, and its gradient
    x = MU + 1.0
    e, g = m.energy_and_grad(x)
    lp, glp = logp(x)
    assert e == pytest.approx(-lp) and np.allclose(g, -glp)
    e, g = thermolab.from_logp(logp, dim=3).energy_and_grad(x)
    assert e == pytest.approx(-lp) and np.allclose(g, -glp)


def test_a_bare_function_with_dim():
    r = thermolab.sample(logp, dim=3, chains=2, warmup=300, draws=300, seed=3, progress=False)
    assert r.draws.shape == (2, 300, 3)


def test_c_function_pointer(clib):
    m = thermolab.from_cfunc(fn_pointer(clib, "gauss_logp"), dim=3)
    r = thermolab.sample(m, chains=4, warmup=500, draws=2000, seed=4, progress=False)
    check_moments(r)


def test_results_do_not_depend_on_threads(clib):
    m = thermolab.from_cfunc(fn_pointer(clib, "gauss_logp"), dim=3)
    a = thermolab.sample(m, chains=3, warmup=200, draws=200, seed=5, threads=1, progress=False)
    b = thermolab.sample(m, chains=3, warmup=200, draws=200, seed=5, threads=3, progress=False)
    assert np.array_equal(a.draws, b.draws)


def test_numba_cfunc():
    numba = pytest.importorskip("numba")
    from numba import types

    sig = types.float64(types.CPointer(types.float64), types.CPointer(types.float64), types.int64)
    mu, sd = MU.copy(), SD.copy()

    @numba.cfunc(sig, nopython=True)
    def gauss(x, grad, n):
        lp = 0.0
        for i in range(n):
            z = (x[i] - mu[i]) / sd[i]
            lp -= 0.5 * z * z
            grad[i] = -z / sd[i]
        return lp

    r = thermolab.sample(thermolab.from_cfunc(gauss, dim=3), chains=4, warmup=500, draws=2000,
                         seed=6, progress=False)
    check_moments(r)


def test_jax_function():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy

    def lp(x):
        z = (x - jnp.asarray(MU)) / jnp.asarray(SD)
        return -0.5 * jnp.sum(z * z)

    r = thermolab.sample(thermolab.from_jax(lp, dim=3), chains=4, warmup=500, draws=1000,
                         seed=7, progress=False)
    check_moments(r)


def test_posteriordb_target_against_its_exact_means():
    m = thermolab.builtin("eight-schools-nc")
    exact = m.exact()
    assert exact is not None and exact["log_z"] == pytest.approx(-31.3113, abs=1e-3)
    r = thermolab.sample(m, chains=4, warmup=1000, draws=1500, seed=8, progress=False)
    s = r.summary()
    for j, name in enumerate(r.names):
        assert abs(s.loc[name, "mean"] - exact["mean"][j]) < 4 * s.loc[name, "mcse_mean"], name
    assert r.names[0] == "mu"


def test_builtin_targets_by_name():
    m = thermolab.builtin("gauss", dim=4, rho=0.5)
    # AR(1) with unit variances: ln Z = (d/2) ln 2π + ½ (d − 1) ln(1 − ρ²).
    exact = 2 * np.log(2 * np.pi) + 1.5 * np.log(0.75)
    assert m.dim == 4 and abs(m.exact()["log_z"] - exact) < 1e-12
    assert thermolab.builtin("logreg").exact() is None
    r = thermolab.sample(m, chains=2, warmup=300, draws=500, seed=9, progress=False)
    s = r.summary()
    assert (abs(s["mean"]) < 4 * s["mcse_mean"]).all()
