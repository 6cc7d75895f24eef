"""Evidence on the posteriordb posteriors with an exact ln Z, side by side in one run: thermolab's
default `evidence` (one thread; the estimate its verdict calls best) against dynesty's static
(500 live points, dlogz 0.1) and dynamic nested sampling, and UltraNest's reactive nested
sampler (bench/peers/posteriordb_dynesty.py, one thread each). Reports per posterior the median
CPU seconds, median |error| and median reported SE over seeds, and the time ratio.

Equal error: on the posteriors named by --equal-error (default eight-schools-nc, where dynesty's
default run is closest to thermolab's time), static dynesty is rerun with 4×, 16×, 64× … the live
points until its reported SE is within 10 % of thermolab's median SE (or a run passes
--sweep-timeout), so the time ratio at equal error is measured, not extrapolated.
Writes bench/results/posteriordb_vs_dynesty.json.

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install numpy scipy dynesty ultranest
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


PEERS = {"dynesty static": "static", "dynesty dynamic": "dynamic", "ultranest": "ultranest"}


def peer(t, sampler, seed, timeout, nlive=None):
    """One peer run: its JSON line with `err` added, or an `unfinished` row after `timeout`."""
    cmd = [PY, PEER, DATA, t, sampler, str(seed)] + ([str(nlive)] if nlive else [])
    try:
        p = subprocess.run(cmd, check=True, capture_output=True, text=True, env=ENV, timeout=timeout)
        return json.loads(p.stdout.strip().splitlines()[-1])
    except subprocess.TimeoutExpired:
        return {"target": t, "sampler": sampler, "seed": seed, "nlive": nlive, "log_z": None,
                "se": None, "cpu_s": timeout, "unfinished": f"stopped after {timeout:.0f} s"}


def arg(name, default, kind=float):
    return kind(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def main():
    seeds = arg("--seeds", 3, int)
    rest = arg("--seeds-rest", 1, int)
    timeout = arg("--timeout", 240.0)
    sweep_timeout = arg("--sweep-timeout", 600.0)
    equal = arg("--equal-error", "eight-schools-nc", str).split(",")
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "thermolab-cli"], cwd=ROOT, check=True)
    out = {"seeds": seeds, "load_start": os.getloadavg()[0], "targets": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for t in TARGETS:
            rows = {"thermolab": [], **{k: [] for k in PEERS}}
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
                for k, sampler in PEERS.items():
                    d = peer(t, sampler, s, timeout)
                    d["err"] = None if d["log_z"] is None else d["log_z"] - exact
                    rows[k].append(d)
            summary = {}
            for k, v in rows.items():
                errs = [abs(x["err"]) for x in v if x["err"] is not None]
                ses = [x["se"] for x in v if x["se"] is not None]
                summary[k] = {"median_cpu_s": statistics.median(x["cpu_s"] for x in v),
                              "unfinished": sum(1 for x in v if x.get("unfinished")),
                              "median_abs_err": statistics.median(errs) if errs else None,
                              "median_se": statistics.median(ses) if ses else None,
                              "runs": v}
            tl = summary["thermolab"]["median_cpu_s"]
            for k in PEERS:
                summary[k]["time_ratio_vs_thermolab"] = summary[k]["median_cpu_s"] / tl
            target_se = summary["thermolab"]["median_se"]
            if t in equal and target_se is not None:
                sweep, nlive = [], 500
                while True:
                    nlive *= 4
                    d = peer(t, "static", 0, sweep_timeout, nlive)
                    d["err"] = None if d["log_z"] is None else d["log_z"] - exact
                    d["time_ratio_vs_thermolab"] = d["cpu_s"] / tl
                    sweep.append(d)
                    print(t, "dynesty static nlive", nlive, d.get("se"), round(d["cpu_s"], 1), flush=True)
                    # Within 10 % of thermolab's SE counts as equal (the next step costs 4×).
                    if d["se"] is None or d["se"] <= 1.1 * target_se:
                        break
                summary["dynesty static at equal error"] = {
                    "thermolab_median_se": target_se, "reached": sweep[-1]["se"] is not None,
                    "runs": sweep}
            out["targets"][t] = {"exact": exact, **summary}
            print(t, {k: (round(v["median_cpu_s"], 2), v["median_abs_err"] and round(v["median_abs_err"], 4),
                          round(v.get("time_ratio_vs_thermolab", 1.0), 1))
                      for k, v in summary.items() if "median_cpu_s" in v}, flush=True)
    out["load_end"] = os.getloadavg()[0]
    path = os.path.join(ROOT, "bench", "results", "posteriordb_vs_dynesty.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
