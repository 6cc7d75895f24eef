"""The Python package side by side (issue 15's benchmarks), in one run, one thread per sampler:

1. W5's logistic regression (breast cancer, 31 parameters) and 100-D AR(1) Gaussian, 4 chains ×
   1000 warm-up × 1000 draws, written by a user four ways — a NumPy callable, a numba cfunc, a
   JAX function (jit + grad) — and sampled by thermolab; against the built-in Rust target from
   Python and from the CLI, and against NumPyro on the same density
   (../shared/bench/w5_numpyro.py) and nutpie (its Python-callable route, ``from_pyfunc``, on the
   same NumPy function). Bulk ESS per second of sampling (compile excluded; numba's
   and JAX's compile times reported), medians over seeds.
2. The overhead per gradient call of a NumPy callable beyond its own cost: a 10-D standard
   normal sampled through a callable, minus the callable's own time per call (timed in a plain
   Python loop), minus the sampler's own time per gradient (the same density as a cfunc).
3. Two chains on two Python threads against the same two one after the other (cfunc logistic
   regression; the GIL is released while sampling), wall-clock medians of three.

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install numpy scipy scikit-learn pandas arviz numba "jax[cpu]" numpyro nutpie
    /tmp/peers/bin/pip install .                      # thermolab itself, from this checkout
    /tmp/peers/bin/python bench/python_models.py [--seeds 3] [--quick]

Writes bench/results/python_models.json.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

import thermolab

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.environ.get("THERMOLAB_PEERS", os.path.join(ROOT, "..", "shared", "bench"))
BIN = os.path.join(ROOT, "target", "release", "thermolab")
sys.path.insert(0, PEERS)
QUICK = "--quick" in sys.argv
SEEDS = int(sys.argv[sys.argv.index("--seeds") + 1]) if "--seeds" in sys.argv else (1 if QUICK else 3)
CHAINS, WARM, DRAWS = (2, 200, 200) if QUICK else (4, 1000, 1000)
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
           XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")


def logreg_data():
    import _w567 as W
    X, y = W.breast_cancer_std()
    return np.ascontiguousarray(np.hstack([X, np.ones((X.shape[0], 1))])), np.asarray(y, float)


RHO = 0.9


def gauss_prec():
    """The AR(1) precision (tridiagonal), dense."""
    i = np.arange(100)
    return np.ascontiguousarray(np.linalg.inv(RHO ** np.abs(np.subtract.outer(i, i))))


def numpy_models():
    X, y = logreg_data()
    P = gauss_prec()

    def logreg(t):
        z = X @ t
        return float(y @ z - np.logaddexp(0.0, z).sum() - 0.5 * t @ t), X.T @ (y - 1 / (1 + np.exp(-z))) - t

    def gauss(x):
        g = P @ x
        return -0.5 * float(x @ g), -g

    return {"logreg": (logreg, X.shape[1]), "gauss100": (gauss, 100)}


def numba_models():
    import numba
    from numba import types
    X, y = logreg_data()
    sig = types.float64(types.CPointer(types.float64), types.CPointer(types.float64), types.int64)
    t0 = time.perf_counter()

    XT = np.ascontiguousarray(X.T)
    p = X.shape[1]

    # As a user who cares for speed writes them: the matrix products through BLAS on carray views
    # of the pointers, one exp and one log1p per row (numba's scalar libm: about 20 µs of the
    # ~22 µs per call on 569 rows; measured against the loop version below, 35 µs); the AR(1)
    # precision is tridiagonal.
    @numba.cfunc(sig, nopython=True, fastmath=True)
    def logreg(tp, gp, k):
        t = numba.carray(tp, (p,))
        g = numba.carray(gp, (p,))
        z = X @ t
        e = np.exp(-np.abs(z))
        lp = np.sum(y * z - (np.maximum(z, 0.0) + np.log1p(e))) - 0.5 * np.dot(t, t)
        r = y - np.where(z >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))
        gg = XT @ r - t
        for j in range(p):
            g[j] = gg[j]
        return lp

    # The same with explicit loops (kept for the record: slower, see above).
    @numba.cfunc(sig, nopython=True, fastmath=True)
    def logreg_loops(t, g, k):
        lp = 0.0
        for j in range(k):
            g[j] = -t[j]
            lp -= 0.5 * t[j] * t[j]
        for i in range(X.shape[0]):
            z = 0.0
            for j in range(k):
                z += X[i, j] * t[j]
            e = np.exp(-abs(z))
            lp += y[i] * z - (max(z, 0.0) + np.log1p(e))
            p = 1.0 / (1.0 + e) if z >= 0.0 else e / (1.0 + e)
            r = y[i] - p
            for j in range(k):
                g[j] += X[i, j] * r
        return lp

    c = 1.0 / (1.0 - RHO * RHO)

    @numba.cfunc(sig, nopython=True, fastmath=True)
    def gauss(x, g, n):
        lp = 0.0
        for i in range(n):
            s = (1.0 if i == 0 or i == n - 1 else 1.0 + RHO * RHO) * x[i]
            if i > 0:
                s -= RHO * x[i - 1]
            if i < n - 1:
                s -= RHO * x[i + 1]
            s *= c
            g[i] = -s
            lp -= 0.5 * x[i] * s
        return lp

    compile_s = time.perf_counter() - t0
    return {"logreg": (logreg, X.shape[1]), "logreg_loops": (logreg_loops, X.shape[1]),
            "gauss100": (gauss, 100)}, compile_s


def jax_models():
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    X, y = logreg_data()
    Xj, yj, Pj = jnp.asarray(X), jnp.asarray(y), jnp.asarray(gauss_prec())

    def logreg(t):
        z = Xj @ t
        return jnp.dot(yj, z) - jnp.sum(jnp.logaddexp(0.0, z)) - 0.5 * t @ t

    def gauss(x):
        return -0.5 * x @ (Pj @ x)

    models = {"logreg": thermolab.from_jax(logreg, 31), "gauss100": thermolab.from_jax(gauss, 100)}
    t0 = time.perf_counter()
    for m in models.values():  # the first call compiles
        m.energy_and_grad(np.zeros(m.dim))
    return models, time.perf_counter() - t0


def run(model, seed, **kw):
    r = thermolab.sample(model, chains=CHAINS, warmup=WARM, draws=DRAWS, seed=seed, threads=1,
                         progress=False, **kw)
    s = r.summary()
    ess = float(s["ess_bulk"].min())
    return {"min_ess_bulk": ess, "max_rhat": float(s["r_hat"].max()), "seconds": r.seconds,
            "ess_per_s": ess / r.seconds, "grads": int(r.gradient_evaluations.sum()),
            "us_per_grad": 1e6 * r.seconds / int(r.gradient_evaluations.sum())}


def cli(args, seed):
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([BIN, "sample", *args, "--chains", str(CHAINS), "--warmup", str(WARM),
                        "--draws", str(DRAWS), "--threads", "1", "--out", "r", "--no-plots",
                        "--format", "json", "--seed", str(seed)], cwd=tmp, env=ENV, check=True,
                       capture_output=True)
        with open(os.path.join(tmp, "r", "run.json")) as fh:
            r = json.load(fh)
    secs = r["timings"]["warmup_seconds"] + r["timings"]["sampling_seconds"]
    ess = r["results"]["min_ess_bulk"]
    return {"min_ess_bulk": ess, "max_rhat": r["results"]["max_r_hat"], "seconds": secs, "ess_per_s": ess / secs}


def numpyro(seed):
    py = os.environ.get("NUMPYRO_PYTHON", sys.executable)
    p = subprocess.run([py, os.path.join(PEERS, "w5_numpyro.py"), "--targets", "logreg,gauss100",
                        "--seed", str(seed)] + (["--quick"] if QUICK else []),
                       cwd=PEERS, env=ENV, capture_output=True, text=True, check=True)
    d = json.loads(p.stdout.strip().splitlines()[-1])
    return {t: {"min_ess_bulk": v["min_ess_bulk"], "max_rhat": v["max_rhat"],
                "seconds": v["sampling_s"], "ess_per_s": v["ess_per_s_sampling"],
                "compile_s": v["compile_s"]} for t, v in d["targets"].items()}


def nutpie_run(model, seed):
    """nutpie (Rust NUTS behind Python) on the same NumPy callable, through its
    ``from_pyfunc`` route, one core: bulk ESS (thermolab's summary of its draws) per second of
    ``nutpie.sample`` (warm-up included, as thermolab's ``seconds``)."""
    import nutpie
    from nutpie.compiled_pyfunc import from_pyfunc

    f, dim = model
    m = from_pyfunc(dim, lambda: f, lambda s1, s2, c: (lambda x: {"theta": np.asarray(x)}),
                    [np.dtype("float64")], [(dim,)], ["theta"])
    t0 = time.perf_counter()
    tr = nutpie.sample(m, chains=CHAINS, tune=WARM, draws=DRAWS, cores=1, seed=seed, progress_bar=False)
    secs = time.perf_counter() - t0
    s = thermolab._thermolab.summary(np.ascontiguousarray(tr.posterior["theta"].values, dtype=np.float64))
    ess = float(np.min(s["ess_bulk"]))
    return {"min_ess_bulk": ess, "max_rhat": float(np.max(s["r_hat"])), "seconds": secs,
            "ess_per_s": ess / secs}


def median_of(rows, key="ess_per_s"):
    return statistics.median(r[key] for r in rows)


def overhead():
    """µs per gradient call a NumPy callable costs beyond its own time and the sampler's."""
    import numba
    from numba import types

    def f(x):
        return -0.5 * float(x @ x), -x

    sig = types.float64(types.CPointer(types.float64), types.CPointer(types.float64), types.int64)

    @numba.cfunc(sig, nopython=True)
    def fc(x, g, n):
        lp = 0.0
        for i in range(n):
            g[i] = -x[i]
            lp -= 0.5 * x[i] * x[i]
        return lp

    x = np.random.default_rng(0).normal(size=10)
    reps = []
    for seed in range(3):
        py = run(thermolab.from_logp(f, 10), seed)
        rust = run(thermolab.from_cfunc(fc, 10), seed)
        n = 200_000
        t0 = time.perf_counter()
        for _ in range(n):
            f(x)
        call_us = 1e6 * (time.perf_counter() - t0) / n
        reps.append({"callable_us_per_grad_in_sampler": py["us_per_grad"], "callable_own_us": call_us,
                     "sampler_us_per_grad_cfunc": rust["us_per_grad"],
                     "overhead_us": py["us_per_grad"] - call_us - rust["us_per_grad"]})
    # Medians over three repetitions (each a whole run and a 200 000-call loop).
    return {k: statistics.median(r[k] for r in reps) for k in reps[0]} | {"runs": reps}


def two_threads(model):
    def one(seed):
        thermolab.sample(model, chains=1, warmup=WARM, draws=DRAWS, seed=seed, threads=1, progress=False)

    seq, par = [], []
    for rep in range(3):
        t0 = time.perf_counter()
        one(2 * rep)
        one(2 * rep + 1)
        seq.append(time.perf_counter() - t0)
        ts = [threading.Thread(target=one, args=(2 * rep + k,)) for k in (0, 1)]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        par.append(time.perf_counter() - t0)
    return {"sequential_s": statistics.median(seq), "two_threads_s": statistics.median(par),
            "speedup": statistics.median(seq) / statistics.median(par)}


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "thermolab-cli"], cwd=ROOT, check=True)
    out = {"quick": QUICK, "seeds": SEEDS, "chains": CHAINS, "warmup": WARM, "draws": DRAWS,
           "load_start": os.getloadavg()[0], "targets": {}}
    npm = numpy_models()
    nbm, out["numba_compile_s"] = numba_models()
    jxm, out["jax_compile_s"] = jax_models()
    builtin = {"logreg": thermolab.builtin("logreg"), "gauss100": thermolab.builtin("gauss", dim=100, rho=0.9)}
    builtin64 = {"logreg": thermolab.builtin("logreg", f64=True), "gauss100": builtin["gauss100"]}
    cli_args = {"logreg": ["--target", "logreg"], "gauss100": ["--target", "gauss", "--dim", "100", "--rho", "0.9"]}
    rows = {t: {k: [] for k in ["numpy", "numba cfunc", "jax", "builtin (Python)", "builtin f64 (Python)",
                                "builtin (CLI)", "numpyro", "nutpie (NumPy callable)"]}
            for t in builtin}
    rows["logreg"]["numba cfunc (loops)"] = []
    for s in range(SEEDS):
        peer = numpyro(s)
        for t in builtin:
            rows[t]["numpy"].append(run(thermolab.from_logp(*npm[t]), s))
            rows[t]["numba cfunc"].append(run(thermolab.from_cfunc(*nbm[t]), s))
            rows[t]["jax"].append(run(jxm[t], s))
            rows[t]["builtin (Python)"].append(run(builtin[t], s))
            rows[t]["builtin f64 (Python)"].append(run(builtin64[t], s))
            rows[t]["builtin (CLI)"].append(cli(cli_args[t], s))
            rows[t]["numpyro"].append(peer[t])
            rows[t]["nutpie (NumPy callable)"].append(nutpie_run(npm[t], s))
            if t == "logreg":
                rows[t]["numba cfunc (loops)"].append(run(thermolab.from_cfunc(*nbm["logreg_loops"]), s))
            print(t, s, {k: round(v[-1]["ess_per_s"], 1) for k, v in rows[t].items()}, flush=True)
    for t, r in rows.items():
        med = {k: median_of(v) for k, v in r.items()}
        out["targets"][t] = {
            "median_ess_per_s": med,
            "cfunc_vs_numpyro": med["numba cfunc"] / med["numpyro"],
            "cfunc_vs_builtin": med["numba cfunc"] / med["builtin (Python)"],
            "cfunc_vs_builtin_f64": med["numba cfunc"] / med["builtin f64 (Python)"],
            "jax_vs_numpyro": med["jax"] / med["numpyro"],
            "numpy_callable_vs_nutpie_callable": med["numpy"] / med["nutpie (NumPy callable)"],
            "builtin_python_vs_cli": med["builtin (Python)"] / med["builtin (CLI)"],
            "runs": r,
        }
        print(t, {k: round(v, 2) for k, v in out["targets"][t].items() if k != "runs" and not isinstance(v, dict)}, flush=True)
    out["overhead"] = overhead()
    print("overhead", out["overhead"], flush=True)
    out["two_threads"] = two_threads(thermolab.from_cfunc(*nbm["logreg"]))
    print("two threads", out["two_threads"], flush=True)
    out["load_end"] = os.getloadavg()[0]
    path = os.path.join(ROOT, "bench", "results", "python_models-quick.json" if QUICK else "python_models.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
