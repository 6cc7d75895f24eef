"""Evidence on the posteriordb posteriors with an exact ln Z, side by side in one run: thermolab's
default `evidence` (one thread; the estimate its verdict calls best) against dynesty's static
(500 live points, dlogz 0.1) and dynamic nested sampling (bench/peers/posteriordb_dynesty.py,
one thread each). Reports per posterior the median CPU seconds and median |error| over seeds,
and the time ratio. Writes bench/results/posteriordb_vs_dynesty.json.

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install numpy scipy dynesty
    PEER_PYTHON=/tmp/peers/bin/python python3 bench/posteriordb_vs_dynesty.py [--seeds 3] [--timeout 240]

A dynesty run that takes longer than --timeout CPU-ish seconds (wall clock, one thread) is
stopped and reported as not finished: on sblrc-blr, whose posterior is ~10⁻³ of the prior's width
in five correlated coefficients, nested sampling must shrink through ~55 nats of prior volume.
Posteriors after the first get one seed (`--seeds-rest`, default 1) to keep the run short.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "thermolab")
PY = os.environ.get("PEER_PYTHON", "python3")
DATA = os.path.join(ROOT, "crates", "thermolab", "data", "posteriordb")
PEER = os.path.join(ROOT, "bench", "peers", "posteriordb_dynesty.py")
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
TARGETS = ["eight-schools-nc", "sblrc-blr", "ark"]


def main():
    seeds = int(sys.argv[sys.argv.index("--seeds") + 1]) if "--seeds" in sys.argv else 3
    rest = int(sys.argv[sys.argv.index("--seeds-rest") + 1]) if "--seeds-rest" in sys.argv else 1
    timeout = float(sys.argv[sys.argv.index("--timeout") + 1]) if "--timeout" in sys.argv else 240.0
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "thermolab-cli"], cwd=ROOT, check=True)
    out = {"seeds": seeds, "load_start": os.getloadavg()[0], "targets": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for t in TARGETS:
            rows = {"thermolab": [], "dynesty static": [], "dynesty dynamic": []}
            exact = None
            for s in range(seeds if t == TARGETS[0] else rest):
                r0 = os.times()
                subprocess.run([BIN, "evidence", "--target", t, "--seed", str(s), "--threads", "1",
                                "--out", f"{t}-{s}", "--no-plots", "--format", "json"],
                               cwd=tmp, check=True, capture_output=True, env=ENV)
                r1 = os.times()
                cpu = r1.children_user - r0.children_user + r1.children_system - r0.children_system
                with open(os.path.join(tmp, f"{t}-{s}", "run.json")) as fh:
                    res = json.load(fh)["results"]
                exact = res["exact_log_evidence"]
                best = res["verdict"]["best"]
                e = next((e for e in res["estimates"] if e["method"] == best), None)
                rows["thermolab"].append({"cpu_s": cpu, "best": best,
                                          "err": None if e is None else e["log_z"]["value"] - exact,
                                          "se": None if e is None else e["log_z"]["se"]})
                for sampler in ["static", "dynamic"]:
                    try:
                        p = subprocess.run([PY, PEER, DATA, t, sampler, str(s)], check=True,
                                           capture_output=True, text=True, env=ENV, timeout=timeout)
                        d = json.loads(p.stdout.strip().splitlines()[-1])
                        d["err"] = d["log_z"] - exact
                    except subprocess.TimeoutExpired:
                        d = {"target": t, "sampler": sampler, "seed": s, "log_z": None, "se": None,
                             "cpu_s": timeout, "err": None, "unfinished": f"stopped after {timeout:.0f} s"}
                    rows[f"dynesty {sampler}"].append(d)
            summary = {}
            for k, v in rows.items():
                errs = [abs(x["err"]) for x in v if x["err"] is not None]
                summary[k] = {"median_cpu_s": statistics.median(x["cpu_s"] for x in v),
                              "unfinished": sum(1 for x in v if x.get("unfinished")),
                              "median_abs_err": statistics.median(errs) if errs else None,
                              "runs": v}
            tl = summary["thermolab"]["median_cpu_s"]
            for k in ["dynesty static", "dynesty dynamic"]:
                summary[k]["time_ratio_vs_thermolab"] = summary[k]["median_cpu_s"] / tl
            out["targets"][t] = {"exact": exact, **summary}
            print(t, {k: (round(v["median_cpu_s"], 2), v["median_abs_err"] and round(v["median_abs_err"], 4),
                          round(v.get("time_ratio_vs_thermolab", 1.0), 1)) for k, v in summary.items()}, flush=True)
    out["load_end"] = os.getloadavg()[0]
    path = os.path.join(ROOT, "bench", "results", "posteriordb_vs_dynesty.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
