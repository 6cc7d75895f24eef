"""Calibration and trust of the evidence estimators on the posteriordb posteriors with an exact
ln Z (eight schools, both forms; sblrc-blr; arK): `thermolab evidence` with its default settings
over many seeds. Per posterior and estimator: how often it was trusted, and among trusted runs
the fraction within 1, 2 and 3 reported standard errors and the largest error; over all runs the
same, to show what the verdict removed. No peers needed.

    python3 bench/posteriordb_calibration.py [--seeds 20] [--targets eight-schools,ark]
"""
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "thermolab")
TARGETS = ["eight-schools", "eight-schools-nc", "sblrc-blr", "ark"]


def opt(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def share(zs, k):
    return sum(abs(z) <= k for z in zs) / len(zs) if zs else None


def main():
    seeds = int(opt("--seeds", "20"))
    targets = opt("--targets", ",".join(TARGETS)).split(",")
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "thermolab-cli"], cwd=ROOT, check=True)
    out = {"seeds": seeds, "load": os.getloadavg()[0], "targets": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for t in targets:
            per = {}
            cpu = []
            best = []
            for s in range(seeds):
                t0 = time.process_time()
                r0 = os.times()
                subprocess.run([BIN, "evidence", "--target", t, "--seed", str(s), "--threads", "1",
                                "--out", f"{t}-{s}", "--no-plots", "--format", "json"],
                               cwd=tmp, check=True, capture_output=True)
                r1 = os.times()
                cpu.append(r1.children_user - r0.children_user + r1.children_system - r0.children_system)
                with open(os.path.join(tmp, f"{t}-{s}", "run.json")) as fh:
                    r = json.load(fh)["results"]
                exact = r["exact_log_evidence"]
                v = r["verdict"]
                for e in r["estimates"]:
                    se, val = e["log_z"]["se"], e["log_z"]["value"]
                    if se is None or val is None:
                        z = None
                    else:
                        z = (val - exact) / se
                    d = per.setdefault(e["method"], {"all_z": [], "trusted_z": [], "trusted_err": [], "trusted": 0})
                    if z is not None:
                        d["all_z"].append(z)
                    if e["trusted"]:
                        d["trusted"] += 1
                        d["trusted_z"].append(z)
                        d["trusted_err"].append(val - exact)
                if v.get("best"):
                    b = next(e for e in r["estimates"] if e["method"] == v["best"])
                    best.append(b["log_z"]["value"] - exact)
            summary = {}
            for m, d in per.items():
                summary[m] = {
                    "trusted_runs": d["trusted"],
                    "trusted_within_1_2_3_se": [share(d["trusted_z"], k) for k in (1, 2, 3)],
                    "trusted_max_abs_error": max((abs(x) for x in d["trusted_err"]), default=None),
                    "all_within_1_2_3_se": [share(d["all_z"], k) for k in (1, 2, 3)],
                }
            out["targets"][t] = {
                "estimators": summary,
                "best_max_abs_error": max((abs(x) for x in best), default=None),
                "runs_with_a_trusted_estimate": len(best),
                "median_cpu_s": sorted(cpu)[len(cpu) // 2],
            }
            print(t, json.dumps(out["targets"][t], indent=1), flush=True)
    path = os.path.join(ROOT, "bench", "results", "posteriordb_calibration.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
