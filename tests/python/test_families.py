"""Built-in families on NumPy data: linear regression against its exact posterior and
evidence, logistic regression against the built-in target on the same data, a Bayesian MLP's
gradient against finite differences, and the errors bad data gets."""
import os

import numpy as np
import pytest

import thermolab

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "crates", "thermolab", "data")


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(80, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.5 + 0.7 * rng.normal(size=80)
    return X, y


def test_linear_regression_matches_its_exact_posterior(regression):
    X, y = regression
    m = thermolab.linear_regression(X, y, noise_sd=0.7, prior_sd=2.0, intercept=True)
    assert m.names == ["b_x0", "b_x1", "b_x2", "b_intercept"] and m.has_prior
    exact = m.exact()
    r = thermolab.sample(m, chains=4, warmup=500, draws=1000, seed=1, progress=False)
    s = r.summary()
    for j, name in enumerate(m.names):
        assert abs(s.loc[name, "mean"] - exact["mean"][j]) < 4 * s.loc[name, "mcse_mean"], name


def test_linear_regression_evidence_is_exact_within_its_error(regression):
    X, y = regression
    m = thermolab.linear_regression(X, y, noise_sd=0.7, prior_sd=2.0)
    e = thermolab.evidence(m, seed=3, progress=False)
    assert e.trusted and e.reference == "prior"
    assert abs(e.log_z - e.exact) < 4 * e.se + 0.02, e
    table = e.table()
    assert "stepping-stone" in table.index and table["trusted"].any()


def test_logistic_regression_equals_the_builtin_target_on_the_same_data():
    d = np.loadtxt(os.path.join(DATA, "breast_cancer.csv"), delimiter=",", skiprows=1)
    X, y = d[:, :-1], d[:, -1]
    mine = thermolab.logistic_regression(X, y, f64=True)
    builtin = thermolab.builtin("logreg", f64=True)
    assert mine.dim == builtin.dim == 31
    x = np.random.default_rng(1).normal(size=31) * 0.1
    e1, g1 = mine.energy_and_grad(x)
    e2, g2 = builtin.energy_and_grad(x)
    assert abs(e1 - e2) < 1e-9 * abs(e2) and np.allclose(g1, g2, rtol=1e-9, atol=1e-9)


def test_mlp_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    X = rng.uniform(-2, 2, size=(40, 2))
    y = np.sin(X[:, :1]) + X[:, 1:] ** 2
    m = thermolab.mlp(X, y, hidden=(5, 3), activation="tanh", noise_sd=0.3, f64=True)
    assert m.dim == 2 * 5 + 5 + 5 * 3 + 3 + 3 + 1 and m.names[0] == "W1.1.1"
    x = rng.normal(size=m.dim) * 0.5
    _, g = m.energy_and_grad(x)
    h = 1e-6
    for j in range(m.dim):
        d = np.zeros(m.dim)
        d[j] = h
        fd = (m.energy_and_grad(x + d)[0] - m.energy_and_grad(x - d)[0]) / (2 * h)
        assert abs(fd - g[j]) < 1e-5 * (1 + abs(g[j])), (j, fd, g[j])


def test_bad_data_raises_clear_errors(regression):
    X, y = regression
    bad = X.copy()
    bad[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"X: row 5, column 2 is NaN"):
        thermolab.linear_regression(bad, y)
    with pytest.raises(ValueError, match=r"y: 79 rows for 80 rows of X"):
        thermolab.linear_regression(X, y[:-1])
    with pytest.raises(ValueError, match=r"not 0 or 1"):
        thermolab.logistic_regression(X, y)
    with pytest.raises(ValueError, match=r"2-D"):
        thermolab.linear_regression(X[None], y)
    with pytest.raises(ValueError, match=r"sigma"):
        thermolab.linear_regression(X, y, noise_sd=-1)
    with pytest.raises(ValueError):
        thermolab._thermolab.mlp(X, y[:, None], "2-4-1:tanh", 0.1, 1.0, False)
    with pytest.raises(ValueError, match=r"activation"):
        thermolab.mlp(X, y, activation="swish")
