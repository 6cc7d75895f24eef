"""thermolab from Python, notebook-style: one model four ways — a NumPy function, a numba
cfunc (the fast path, no GIL), a JAX function — and a built-in posteriordb target, with the
results read by pandas and ArviZ.

    pip install .            # from the repository root (builds the Rust core with maturin)
    pip install numba jax arviz pandas
    python examples/python_quickstart.py
"""
import time

import numpy as np

import thermolab

# %% A Bayesian logistic regression on synthetic data, as a log density and its gradient.
rng = np.random.default_rng(0)
n, d = 500, 5
X = rng.normal(size=(n, d))
y = (rng.random(n) < 1 / (1 + np.exp(-X @ np.linspace(-1, 1, d)))).astype(float)


def logp(beta):
    z = X @ beta
    p = 1 / (1 + np.exp(-z))
    lp = float(y @ z - np.logaddexp(0, z).sum() - 0.5 * beta @ beta)
    return lp, X.T @ (y - p) - beta


def run(label, model):
    t0 = time.perf_counter()
    r = thermolab.sample(model, chains=4, warmup=500, draws=1000, seed=1, progress=False)
    s = r.summary()
    print(f"{label:<16} {time.perf_counter() - t0:6.2f} s  min bulk ESS {s['ess_bulk'].min():7.0f}"
          f"  max R̂ {s['r_hat'].max():.4f}")
    return r


# %% 1. A NumPy function (the GIL is taken once per gradient; chains take turns).
r = run("NumPy", thermolab.from_logp(logp, dim=d))
print(r.summary().round(3))

# %% 2. A numba cfunc: compiled, called from Rust's threads without the GIL.
try:
    import numba
    from numba import types

    Xc, yc = np.ascontiguousarray(X), np.ascontiguousarray(y)

    @numba.cfunc(types.float64(types.CPointer(types.float64), types.CPointer(types.float64), types.int64))
    def logp_c(b, grad, k):
        lp = 0.0
        for j in range(k):
            grad[j] = -b[j]
            lp -= 0.5 * b[j] * b[j]
        for i in range(Xc.shape[0]):
            z = 0.0
            for j in range(k):
                z += Xc[i, j] * b[j]
            p = 1.0 / (1.0 + np.exp(-z))
            lp += yc[i] * z - (max(z, 0.0) + np.log1p(np.exp(-abs(z))))
            for j in range(k):
                grad[j] += Xc[i, j] * (yc[i] - p)
        return lp

    run("numba cfunc", thermolab.from_cfunc(logp_c, dim=d))
except ImportError:
    print("numba not installed: skipping the cfunc route")

# %% 3. A JAX function, jitted with its gradient.
try:
    import jax.numpy as jnp

    def logp_jax(beta):
        z = jnp.asarray(X) @ beta
        return jnp.dot(jnp.asarray(y), z) - jnp.sum(jnp.logaddexp(0, z)) - 0.5 * beta @ beta

    run("JAX", thermolab.from_jax(logp_jax, dim=d))
except ImportError:
    print("jax not installed: skipping the JAX route")

# %% 4. A built-in target with an exact answer: eight schools, non-centred.
m = thermolab.builtin("eight-schools-nc")
r = run("eight-schools-nc", m)
exact = m.exact()
print("posterior means", np.round(r.draws.mean(axis=(0, 1)), 3))
print("exact means    ", np.round(exact["mean"], 3))

# %% ArviZ reads the draws and the sampler's statistics.
try:
    import arviz as az

    idata = r.to_arviz()
    print(az.summary(idata, round_to=3).head())
    print("divergences:", int(idata.sample_stats["diverging"].sum()))
except ImportError:
    print("arviz not installed: skipping to_arviz()")
