"""The engines beside ``sample`` from Python, each against an exact answer: tempering (mode
weights of a mixture, the heat capacity of a Gaussian), evidence (a user's function and a
posteriordb posterior), spin sweeps (Kaufman, enumeration of a QUBO, dense = sparse couplings),
Boltzmann machines (AIS against enumeration), annealing and training."""
import os

import numpy as np
import pytest

import thermolab

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "crates", "thermolab", "data")
QUIET = dict(progress=False)


def block_se(x, blocks=20):
    """Standard error of the mean of a correlated series from block means."""
    b = np.array([c.mean() for c in np.array_split(x, blocks)])
    return b.std(ddof=1) / np.sqrt(blocks)


def test_temper_recovers_the_mode_weights_of_a_mixture():
    m = thermolab.builtin("mixture", dim=2, separation=8.0)
    r = thermolab.temper(m, replicas=10, chains=2, warmup=1000, rounds=6000, seed=3, **QUIET)
    assert r.draws.shape == (2, 6000, 2) and r.termination == "finished"
    assert all(t > 5 for t in r.round_trips)
    left = (r.draws[:, :, 0] < 0).astype(float)
    p = left.mean()
    se = np.sqrt(np.mean([block_se(c) ** 2 for c in left]) / left.shape[0])
    assert abs(p - 0.3) < 4 * se + 0.005, (p, se)


def test_temper_heat_capacity_of_a_gaussian_is_half_the_dimension():
    d = 6
    m = thermolab.builtin("gauss", dim=d, rho=0.5)
    r = thermolab.temper(m, replicas=6, beta_min=0.1, chains=1, warmup=500, rounds=8000,
                         seed=4, **QUIET)
    t = r.thermodynamics
    z = (t["heat_capacity"][0] - d / 2) / t["heat_capacity_se"][0]
    assert np.all(np.abs(z) < 4.5), z
    # ln Z(1) − ln Z(β_min) = (d/2) ln β_min for a Gaussian.
    ratio = t["log_z_ratio"][0] - d / 2 * np.log(r.ladder[0][0])
    assert abs(ratio) < 4 * t["log_z_ratio_se"][0] + 0.02
    idata = r.to_arviz()
    assert idata.thermodynamics["heat_capacity"].shape == (1, 6)


def test_evidence_of_a_users_function():
    sd = np.array([0.5, 1.0, 3.0])

    def logp(x):
        z = x / sd
        return -0.5 * z @ z, -z / sd

    m = thermolab.from_logp(logp, dim=3)
    e = thermolab.evidence(m, ais=False, draws=600, seed=2, **QUIET)
    exact = 1.5 * np.log(2 * np.pi) + np.log(sd).sum()
    assert e.reference == "fitted Gaussian" and e.trusted
    assert abs(e.log_z - exact) < 4 * e.se + 0.03, e
    assert "thermodynamics" in e.to_arviz().groups()


def test_log_z_of_a_posteriordb_posterior_against_its_exact_value():
    m = thermolab.builtin("eight-schools-nc")
    e = thermolab.log_z(m, seed=1, **QUIET)
    assert e.exact is not None and e.trusted
    assert abs(e.log_z - e.exact) < 4 * e.se + 0.05, e


def test_a_raising_callable_ends_tempering_with_its_exception():
    def logp(x):
        if abs(x[0]) > 2:
            raise ArithmeticError("out of the box")
        return -0.5 * x @ x, -x

    m = thermolab.from_logp(logp, dim=1)
    with pytest.raises(ArithmeticError, match="out of the box"):
        thermolab.temper(m, replicas=4, warmup=200, rounds=2000, seed=0, **QUIET)


def test_ising_lattice_matches_kaufman():
    r = thermolab.ising([2.0, 2.4, 3.0], lattice=(2, 8), algorithm="wolff", sweeps=20000,
                        seed=5, **QUIET)
    t = r.table()
    assert r.exact_source == "kaufman"
    for q in ("energy", "heat_capacity"):
        z = (t[q] - t[f"exact_{q}"]) / t[f"{q}_se"]
        assert (z.abs() < 4).all(), (q, z.to_numpy())


def test_qubo_free_energy_by_integration_matches_enumeration():
    rng = np.random.default_rng(11)
    Q = np.triu(rng.normal(size=(10, 10)))
    r = thermolab.ising([1.0], Q=Q, algorithm="heatbath", sweeps=20000, ti_points=24, seed=6,
                        **QUIET)
    t, ti = r.table(), r.integration()
    assert r.exact_source == "enumeration"
    assert abs(t["energy"].iloc[0] - t["exact_energy"].iloc[0]) < 4 * t["energy_se"].iloc[0]
    f = ti["free_energy"].iloc[-1]
    assert abs(f - t["exact_free_energy"].iloc[0]) < 4 * ti["free_energy_se"].iloc[-1] + 1e-3


def test_dense_and_sparse_couplings_give_the_same_sweep():
    sp = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(3)
    J = np.triu(rng.normal(size=(12, 12)) * (rng.random((12, 12)) < 0.4), 1)
    h = rng.normal(size=12) * 0.1
    kw = dict(sweeps=2000, seed=1, **QUIET)
    a = thermolab.ising([1.5], J=J + J.T, h=h, **kw).table()
    b = thermolab.ising([1.5], J=sp.csr_matrix(J), h=h, **kw).table()
    assert np.array_equal(a.to_numpy(), b.to_numpy())
    with pytest.raises(ValueError, match="not symmetric"):
        thermolab.ising([1.5], J=J + 2 * J.T, **kw)
    with pytest.raises(ValueError, match="diagonal"):
        thermolab.ising([1.5], J=np.eye(3), **kw)
    with pytest.raises(ValueError, match="exactly one"):
        thermolab.ising([1.5], J=J, lattice=(2, 4), **kw)
    with pytest.raises(ValueError, match=r"J\[0, 1\] = 1.0 but J\[1, 0\] = 0.0"):
        thermolab.ising([1.5], J=np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0], [0.0, 2.0, 0.0]]), **kw)
    with pytest.raises(ValueError, match="field="):
        thermolab.ising([1.5], lattice=(2, 4), h=np.zeros(16), **kw)
    with pytest.raises(ValueError, match="only for lattice"):
        thermolab.ising([1.5], J=J, field=0.5, **kw)


@pytest.fixture(scope="module")
def digits():
    d = np.loadtxt(os.path.join(DATA, "digits.csv"), delimiter=",", skiprows=1)
    return (d[:, :64] > 7).astype(float)


def test_rbm_fit_score_and_log_z(digits):
    r = thermolab.RBM(n_components=12, n_iter=10, random_state=1, progress=False).fit(digits)
    assert r.components_.shape == (12, 64) and r.training_["epochs"] == 10
    exact, se0, how = r.log_z("exact")
    assert se0 == 0 and how == "exact"
    ais, se, how = r.log_z("ais", chains=200, temperatures=1000, seed=2)
    assert how == "ais" and abs(ais - exact) < 4 * se + 0.01
    assert np.isclose(r.score(digits), np.mean(-r.free_energy(digits) - exact))
    same = thermolab.RBM.from_arrays(r.components_.T, r.intercept_visible_, r.intercept_hidden_)
    assert np.isclose(same.log_z("exact")[0], exact)
    assert r.transform(digits[:3]).shape == (3, 12)
    with pytest.raises(ValueError, match="not binary|0 or 1|binary"):
        thermolab.RBM(n_components=4, progress=False).fit(digits * 0.5 + 0.25)
    with pytest.raises(ValueError, match="columns"):
        same.free_energy(digits[:, :10])
    assert r.sample(5, sweeps=10).shape == (5, 64)
    with pytest.raises(ValueError, match="start rows"):
        r.sample(5, sweeps=10, start=digits[:3])


def test_anneal_finds_minima():
    r = thermolab.anneal(function="rastrigin", dim=3, seed=1, **QUIET)
    assert abs(r.energy) < 1e-6 and np.allclose(r.x, 0, atol=1e-4)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = X @ np.array([0.5, -1.0]) + 0.3 * rng.normal(size=40)
    m = thermolab.linear_regression(X, y, noise_sd=0.3)
    r = thermolab.anneal(m, seed=2, **QUIET)
    # A Gaussian posterior's mode is its mean.
    assert np.allclose(r.x, m.exact()["mean"], atol=1e-5)


def test_train_fits_a_sine():
    rng = np.random.default_rng(1)
    X = rng.uniform(-3, 3, size=(200, 1))
    y = np.sin(X) + 0.05 * rng.normal(size=X.shape)
    t = thermolab.train(X, y, hidden=(16,), epochs=1500, learning_rate=0.01, seed=3, **QUIET)
    assert t.termination == "finished" and t.final_loss < 0.02 and t.losses[-1] < t.losses[0]
    m = thermolab.mlp(X, y, hidden=(16,))
    assert len(t.theta) == m.dim


def test_certify_passes():
    c = thermolab.certify(**QUIET)
    assert c.attrs["termination"] == "finished" and len(c) > 20
    assert c["pass"].all(), c[~c["pass"]]
