"""Nested sampling peers (dynesty static and dynamic, UltraNest) on the posteriordb posteriors
with an exact evidence, written from the same mathematics as thermolab's systems::posteriordb:
eight schools (non-centred), sblrc-blr and arK. Prints one JSON line per run: posterior, sampler,
seed, ln Z, its reported error, CPU seconds, likelihood calls.

    PEER_PYTHON posteriordb_dynesty.py DATA_DIR TARGET SAMPLER SEED [NLIVE]

SAMPLER is `static` (dynesty, NLIVE live points, default 500, dlogz 0.1), `dynamic` (dynesty's
defaults) or `ultranest` (ReactiveNestedSampler, NLIVE minimum live points, default 400).
"""
import json
import math
import os
import sys
import time

import numpy as np
from scipy.special import ndtri
import dynesty

LOG2PI = math.log(2 * math.pi)


def load(data_dir, name):
    with open(os.path.join(data_dir, name)) as fh:
        return json.load(fh)


def half_cauchy(u, s):
    return s * np.tan(0.5 * np.pi * u)


def half_normal(u, s):
    return s * ndtri(0.5 + 0.5 * u)


def eight_schools(data_dir):
    d = load(data_dir, "eight_schools.json")
    y, sig = np.array(d["y"], float), np.array(d["sigma"], float)

    def ptform(u):
        x = np.empty_like(u)
        x[0] = 5 * ndtri(u[0])
        x[1] = half_cauchy(u[1], 5)
        x[2:] = ndtri(u[2:])
        return x

    def loglike(x):
        theta = x[0] + x[1] * x[2:]
        r = (y - theta) / sig
        return float(-0.5 * np.sum(r * r) - np.sum(np.log(sig)) - 0.5 * len(y) * LOG2PI)

    return ptform, loglike, 10


def regression(x_design, y, coef_sd, scale):
    n, d = x_design.shape

    def ptform(u):
        x = np.empty_like(u)
        x[:d] = coef_sd * ndtri(u[:d])
        x[d] = scale(u[d])
        return x

    def loglike(x):
        s = x[d]
        if not s > 0:
            return -1e300
        r = y - x_design @ x[:d]
        return float(-0.5 * np.dot(r, r) / (s * s) - n * math.log(s) - 0.5 * n * LOG2PI)

    return ptform, loglike, d + 1


def sblrc(data_dir):
    d = load(data_dir, "sblrc.json")
    return regression(np.array(d["X"], float), np.array(d["y"], float), 10.0,
                      lambda u: half_normal(u, 10))


def ark(data_dir):
    d = load(data_dir, "arK.json")
    s, k = np.array(d["y"], float), 5
    rows = [[1.0] + [s[t - l] for l in range(1, k + 1)] for t in range(k, len(s))]
    return regression(np.array(rows), s[k:], 10.0, lambda u: half_cauchy(u, 2.5))


def main():
    data_dir, target, sampler, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    nlive = int(sys.argv[5]) if len(sys.argv) > 5 else None
    ptform, loglike, ndim = {"eight-schools-nc": eight_schools, "sblrc-blr": sblrc, "ark": ark}[target](data_dir)
    rng = np.random.default_rng(seed)
    t0 = time.process_time()
    if sampler == "ultranest":
        import logging
        import ultranest
        logging.getLogger("ultranest").setLevel(logging.WARNING)
        np.random.seed(seed)
        names = [f"x{i}" for i in range(ndim)]
        un = ultranest.ReactiveNestedSampler(names, loglike, ptform)
        res = un.run(min_num_live_points=nlive or 400, show_status=False, viz_callback=False)
        log_z, se, calls = res["logz"], res["logzerr"], res["ncall"]
    else:
        if sampler == "static":
            ns = dynesty.NestedSampler(loglike, ptform, ndim, nlive=nlive or 500, rstate=rng)
            ns.run_nested(dlogz=0.1, print_progress=False)
        else:
            ns = dynesty.DynamicNestedSampler(loglike, ptform, ndim, rstate=rng)
            ns.run_nested(print_progress=False)
        res = ns.results
        log_z, se, calls = res.logz[-1], res.logzerr[-1], np.sum(res.ncall)
    print(json.dumps({"target": target, "sampler": sampler, "seed": seed, "nlive": nlive,
                      "log_z": float(log_z), "se": float(se), "cpu_s": time.process_time() - t0,
                      "calls": int(calls)}), flush=True)


if __name__ == "__main__":
    main()
