"""W6 beyond the reference set, dynesty side: the two higher-dimensional evidence problems of
issue #6's acceptance, a conjugate linear regression with d = 30 and a 32-D AR(1) Gaussian,
with dynesty's default settings (nlive 500, bound 'multi', sample 'auto', single thread) as in
../shared/bench/w6_dynesty.py.

    python w6_highdim_dynesty.py --out DIR [--reps 2] [--quick] [--data-only]

Writes DIR/linreg_d30.csv (the regression data, which bench/w6.py --high-dim also gives to
thermolab) and prints one JSON line with, per problem and repetition, log Z, dynesty's logzerr,
the error against the closed form, likelihood calls and wall seconds.

Problems:
- linreg_d30: X ~ N(0, 1) (100 × 30, seed 30), b ~ N(0, 1), y = X b + 0.7 e; model y ~ N(Xb, 0.7²),
  b ~ N(0, I); exact log evidence log N(y; 0, 0.7² I + X Xᵀ).
- gauss_d32: exp(−E) with E(x) = ½ xᵀ Σ⁻¹ x, Σ_ij = 0.5^|i−j| (unit variances); exact ln Z =
  (d/2) ln 2π + ½ ln|Σ|. Nested sampling needs a proper prior: the Gaussian reference N(0, 2² I)
  that thermolab's `evidence --target gauss` also starts from, with likelihood exp(−E)/reference.
"""
import argparse
import json
import math
import os
import time

import numpy as np
from scipy import special


def linreg_problem():
    rng = np.random.default_rng(30)
    n, d, sigma = 100, 30, 0.7
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + sigma * rng.standard_normal(n)
    cov = sigma**2 * np.eye(n) + X @ X.T
    sign, logdet = np.linalg.slogdet(cov)
    exact = float(-0.5 * (y @ np.linalg.solve(cov, y)) - 0.5 * logdet - 0.5 * n * math.log(2 * math.pi))
    c = -0.5 * n * math.log(2 * math.pi * sigma**2)

    def loglike(b):
        r = y - X @ b
        return c - 0.5 * (r @ r) / sigma**2

    def ptform(u):
        return special.ndtri(u)
    return X, y, exact, loglike, ptform, d


def gauss_problem():
    d, rho, ref = 32, 0.5, 2.0
    idx = np.arange(d)
    cov = rho ** np.abs(idx[:, None] - idx[None, :])
    prec = np.linalg.inv(cov)
    exact = 0.5 * d * math.log(2 * math.pi) + 0.5 * (d - 1) * math.log(1 - rho**2)
    log_ref_norm = -0.5 * d * math.log(2 * math.pi * ref**2)

    def loglike(x):
        return -0.5 * (x @ prec @ x) - (log_ref_norm - 0.5 * (x @ x) / ref**2)

    def ptform(u):
        return ref * special.ndtri(u)
    return exact, loglike, ptform, d


def main():
    import dynesty

    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--data-only", action="store_true", help="write the regression CSV and stop")
    a = ap.parse_args()
    X, y, exact_lr, ll_lr, pt_lr, d_lr = linreg_problem()
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "linreg_d30.csv"), "w") as fh:
        fh.write(",".join(f"x{j}" for j in range(X.shape[1])) + ",y\n")
        for r in range(len(y)):
            fh.write(",".join(repr(float(v)) for v in list(X[r]) + [y[r]]) + "\n")
    if a.data_only:
        print(json.dumps({"exact": {"linreg_d30": exact_lr, "gauss_d32": gauss_problem()[0]}}))
        return
    exact_g, ll_g, pt_g, d_g = gauss_problem()
    problems = {"linreg_d30": (exact_lr, ll_lr, pt_lr, d_lr), "gauss_d32": (exact_g, ll_g, pt_g, d_g)}
    nlive = 100 if a.quick else 500
    out = {}
    for pi, (name, (exact, loglike, ptform, ndim)) in enumerate(problems.items()):
        runs = []
        for rep in range(1 if a.quick else a.reps):
            t0 = time.perf_counter()
            s = dynesty.NestedSampler(loglike, ptform, ndim, nlive=nlive,
                                      rstate=np.random.default_rng(1000 * rep + pi))
            s.run_nested(print_progress=False)
            wall = time.perf_counter() - t0
            r = s.results
            logz, logzerr = float(r.logz[-1]), float(r.logzerr[-1])
            runs.append({"logz": logz, "logzerr": logzerr, "err": logz - exact,
                         "ncall": int(np.sum(r.ncall)), "wall_s": wall})
        out[name] = {"exact": exact, "ndim": ndim, "runs": runs,
                     "mean_abs_err": float(np.mean([abs(r["err"]) for r in runs])),
                     "mean_logzerr": float(np.mean([r["logzerr"] for r in runs])),
                     "median_wall_s": float(np.median([r["wall_s"] for r in runs]))}
    print(json.dumps({"peer": "dynesty", "version": dynesty.__version__, "nlive": nlive, "problems": out}))


if __name__ == "__main__":
    main()
