"""thermolab from Python, notebook-style: the thermodynamic side — a posterior on your data and
its evidence, tempering a multimodal density, an Ising heat-capacity curve and free energy, a
QUBO, a Boltzmann machine with its exact partition function, annealing and training.

    pip install .            # from the repository root (builds the Rust core with maturin)
    pip install pandas arviz scipy
    python examples/python_thermodynamics.py
"""
import os

import numpy as np

import thermolab

HERE = os.path.dirname(os.path.abspath(__file__))
QUIET = dict(progress=False)

# %% A Bayesian linear regression on your arrays: exact posterior and evidence to compare with.
rng = np.random.default_rng(0)
X = rng.normal(size=(100, 3))
y = X @ np.array([1.0, -2.0, 0.5]) + 0.5 * rng.normal(size=100)
model = thermolab.linear_regression(X, y, noise_sd=0.5, prior_sd=2.0)
post = thermolab.sample(model, chains=4, warmup=500, draws=1000, seed=1, **QUIET)
print(post.summary()[["mean", "sd", "mcse_mean", "ess_bulk", "r_hat"]].round(4))
print("exact posterior mean", np.round(model.exact()["mean"], 4))

# %% Its evidence by every estimator, with the verdict on which to trust.
ev = thermolab.evidence(model, seed=1, **QUIET)
print(ev)  # the trusted estimate with the smallest error, and the exact value
print(ev.table()[["log_z", "se", "trusted"]].round(4))

# %% Logistic regression on the built-in breast-cancer table: the same model as the CLI's.
table = np.loadtxt(os.path.join(HERE, "..", "crates", "thermolab", "data", "breast_cancer.csv"),
                   delimiter=",", skiprows=1)
logreg = thermolab.logistic_regression(table[:, :-1], table[:, -1])
r = thermolab.sample(logreg, chains=4, warmup=500, draws=500, seed=3, **QUIET)
print(f"logistic regression: {logreg.dim} parameters, min bulk ESS "
      f"{r.summary()['ess_bulk'].min():.0f}, {r.divergences} divergences")

# %% Tempering a two-mode density: the draws at β = 1 find both modes in their weights.
mixture = thermolab.builtin("mixture", dim=2, separation=10.0)
t = thermolab.temper(mixture, replicas=12, chains=2, warmup=1000, rounds=5000, seed=4, **QUIET)
print(t, "left-mode weight", round(float((t.draws[:, :, 0] < 0).mean()), 3), "(exact 0.3)")

# %% The 2-D Ising model on a 16 × 16 torus: heat capacity against Kaufman's exact solution.
sweep = thermolab.ising(np.linspace(1.8, 3.0, 7), lattice=(2, 16), algorithm="wolff",
                        sweeps=5000, ti_points=20, seed=5, **QUIET)
print(sweep.table()[["energy", "energy_se", "exact_energy", "heat_capacity",
                     "heat_capacity_se", "exact_heat_capacity"]].round(4))
print("free energy per site at T = 1.8 by integration:",
      sweep.integration()["free_energy"].iloc[-1].round(5),
      "exact:", sweep.table()["exact_free_energy"].iloc[0].round(5))

# %% A QUBO, E(x) = xᵀQx over x ∈ {0, 1}: sampled near T = 0.3, checked by enumeration.
Q = np.triu(rng.normal(size=(12, 12)))
q = thermolab.ising([0.3], Q=Q, algorithm="heatbath", sweeps=20000, seed=6, **QUIET)
print("QUBO ⟨E⟩ per site", q.table()[["energy", "energy_se", "exact_energy"]].round(4).to_dict("records"))
best = thermolab.anneal(thermolab.from_energy(lambda x: (float(x @ x), 2 * x), dim=2), seed=7, **QUIET)
print("annealing a quadratic:", best)

# %% A Boltzmann machine on binarised digits: log-likelihood with an exact ln Z, then AIS.
digits = np.loadtxt(os.path.join(HERE, "..", "crates", "thermolab", "data", "digits.csv"),
                    delimiter=",", skiprows=1)
V = (digits[:, :64] > 7).astype(float)
rbm = thermolab.RBM(n_components=16, n_iter=20, random_state=8, progress=False).fit(V)
exact, _, _ = rbm.log_z("exact")
ais, se, _ = rbm.log_z("ais", chains=200, temperatures=2000)
print(f"RBM ln Z exact {exact:.3f}, AIS {ais:.3f} ± {se:.3f}; mean log-likelihood {rbm.score(V):.3f}")

# %% Training is the T → 0 limit: fit a network, then sample its posterior around the fit.
xs = rng.uniform(-3, 3, size=(200, 1))
ys = np.sin(xs) + 0.1 * rng.normal(size=xs.shape)
fit = thermolab.train(xs, ys, hidden=(10,), epochs=2000, learning_rate=0.01, seed=9, **QUIET)
net = thermolab.mlp(xs, ys, hidden=(10,), noise_sd=0.1)
bnn = thermolab.sample(net, chains=2, warmup=500, draws=500, init=fit.theta, seed=10, **QUIET)
print(fit, "|", bnn)

# %% Everything with a thermodynamic side has an ArviZ group for it.
try:
    print(t.to_arviz().thermodynamics)
except ImportError:
    print("arviz not installed: skipping to_arviz()")
