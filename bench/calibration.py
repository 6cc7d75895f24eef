"""Calibration of the evidence estimators' standard errors: `thermolab evidence` on a conjugate
linear regression (exact evidence) over many seeds; reports, per estimator, the fraction of
seeds whose error lies within 1, 2 and 3 reported standard errors (ideal: 68 %, 95 %, 99.7 %)
and the mean error. No peers needed.

    python3 bench/calibration.py [--seeds 100] [--dim 5] [--n 100]
    python3 bench/calibration.py --suite posteriordb [--seeds 20]   # the posteriordb suite
    python3 bench/calibration.py --suite all                        # both, one after the other

The posteriordb suite (eight schools in both forms, sblrc-blr, arK, default settings) is
bench/posteriordb_calibration.py, which also reports how often each estimator was trusted.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "thermolab")


def arg(name, default):
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def main():
    suite = sys.argv[sys.argv.index("--suite") + 1] if "--suite" in sys.argv else "regression"
    if suite not in ("regression", "posteriordb", "all"):
        sys.exit(f"--suite: unknown suite `{suite}` (regression, posteriordb, all)")
    if suite in ("posteriordb", "all"):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import posteriordb_calibration
        posteriordb_calibration.main()
    if suite in ("regression", "all"):
        regression()


def regression():
    seeds, dim, n = arg("--seeds", 100), arg("--dim", 5), arg("--n", 100)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "thermolab-cli"], cwd=ROOT, check=True)
    z = {}
    err = {}
    with tempfile.TemporaryDirectory() as tmp:
        for s in range(seeds):
            subprocess.run([BIN, "evidence", "--target", "linreg", "--dim", str(dim), "--n", str(n), "--seed", str(s),
                            "--estimators", "ti,ss,ais,bridge", "--out", f"r{s}", "--no-plots", "--format", "json"],
                           cwd=tmp, check=True, capture_output=True)
            with open(os.path.join(tmp, f"r{s}", "run.json")) as fh:
                r = json.load(fh)["results"]
            exact = r["exact_log_evidence"]
            for e in r["estimates"]:
                d = e["log_z"]["value"] - exact
                z.setdefault(e["method"], []).append(d / e["log_z"]["se"])
                err.setdefault(e["method"], []).append(d)
    out = {}
    for m, zs in z.items():
        cover = {k: sum(abs(v) <= k for v in zs) / len(zs) for k in (1, 2, 3)}
        out[m] = {"within_1se": cover[1], "within_2se": cover[2], "within_3se": cover[3],
                  "mean_error": statistics.mean(err[m]), "mean_abs_error": statistics.mean(abs(v) for v in err[m])}
        print(f"{m:<30} within 1/2/3 SE: {cover[1]:.2f} / {cover[2]:.2f} / {cover[3]:.2f}   "
              f"mean error {out[m]['mean_error']:+.4f}, mean |error| {out[m]['mean_abs_error']:.4f}")
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    path = os.path.join(ROOT, "bench", "results", f"calibration_d{dim}_seeds{seeds}.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
