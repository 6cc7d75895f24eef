"""Bad input from Python raises a clear exception with the library's one-line message, and
never crashes the interpreter; a NaN log density while sampling is a counted divergence."""
import numpy as np
import pytest

import thermolab
from conftest import fn_pointer, logp


def run(model, **kw):
    settings = dict(chains=2, warmup=50, draws=50, seed=0, progress=False)
    return thermolab.sample(model, **{**settings, **kw})


def test_gradient_of_the_wrong_shape():
    m = thermolab.from_logp(lambda x: (0.0, np.zeros(2)), dim=3)
    with pytest.raises(ValueError, match=r"gradient of shape \(3,\).*\[2\]"):
        run(m)


def test_a_function_that_does_not_return_a_pair():
    m = thermolab.from_logp(lambda x: 1.0, dim=3)
    with pytest.raises(ValueError, match="must return \\(value, gradient\\)"):
        run(m)


def test_a_value_that_is_not_a_number():
    m = thermolab.from_logp(lambda x: ("a", np.zeros(3)), dim=3)
    with pytest.raises(ValueError, match="value that is not a float"):
        run(m)


def test_the_callables_own_exception_is_raised_again():
    class Mine(Exception):
        pass

    def bad(x):
        raise Mine("boom")

    with pytest.raises(Mine, match="boom"):
        run(thermolab.from_logp(bad, dim=2))


def test_nan_log_density_is_a_counted_divergence():
    calls = {"n": 0}

    def nan_left(x):
        calls["n"] += 1
        if x[0] < -1.0:
            return float("nan"), np.zeros(3)
        return logp(x)

    r = thermolab.sample(thermolab.from_logp(nan_left, dim=3), chains=2, warmup=300, draws=300,
                         seed=1, progress=False)
    assert np.isfinite(r.draws).all()
    assert (r.draws[:, :, 0] >= -1.0).all()
    assert r.divergences > 0


def test_nan_from_a_compiled_function(clib):
    m = thermolab.from_cfunc(fn_pointer(clib, "gauss_logp_nan"), dim=3)
    r = thermolab.sample(m, chains=2, warmup=300, draws=300, seed=2, progress=False)
    assert (r.draws[:, :, 0] >= -1.0).all() and r.divergences > 0


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"chains": 0}, "chains"),
        ({"sampler": "gibbs"}, "unknown sampler `gibbs`"),
        ({"metric": "full"}, "unknown metric `full`"),
        ({"init": [0.0]}, "init: 1 coordinates for a model of dimension 3"),
        ({"target_accept": 1.5}, "target_accept"),
        ({"beta": -1.0}, "beta"),
    ],
)
def test_impossible_settings(kw, message):
    with pytest.raises(ValueError, match=message):
        run(thermolab.from_logp(logp, dim=3), **kw)


def test_bad_models():
    with pytest.raises(ValueError, match="dim: must be at least 1"):
        thermolab.from_logp(logp, dim=0)
    with pytest.raises(ValueError, match="not callable"):
        thermolab.from_logp(3, dim=2)
    with pytest.raises(ValueError, match="names: 2 names for a model of dimension 3"):
        thermolab.from_logp(logp, dim=3, names=["a", "b"])
    with pytest.raises(ValueError, match="unknown target"):
        thermolab.builtin("nine-schools")
    with pytest.raises(ValueError, match="null function pointer"):
        thermolab.from_cfunc(0, dim=3)
    with pytest.raises(TypeError, match="from_cfunc"):
        thermolab.from_cfunc("not a function", dim=3)
    with pytest.raises(TypeError, match="thermolab.Model"):
        thermolab.sample(logp)


def test_energy_and_grad_checks_the_point():
    m = thermolab.builtin("gauss", dim=3)
    with pytest.raises(ValueError, match="x: expected 3 coordinates, got 2"):
        m.energy_and_grad(np.zeros(2))


def test_summary_refuses_nan_draws():
    with pytest.raises(ValueError, match="NaN"):
        thermolab._thermolab.summary(np.full((2, 10, 1), np.nan))
