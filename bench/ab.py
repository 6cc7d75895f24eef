"""Old binary against new, in one run: W3 (spin-flip attempts per second, plain and multi-spin
Metropolis), W4 (RBM PCD-1 milliseconds per epoch on the digits, 16 and 64 hidden units, 200
epochs: shorter runs are dominated by noise) and W5
(NUTS: microseconds per gradient and bulk ESS per chain-second on the gauss100, non-centred
funnel and logistic-regression targets). Each figure is the median over `--repeats` runs that
alternate old and new, so the machine's load falls on both; every run is kept in the JSON.

    python3 bench/ab.py OLD_BINARY [--repeats 5] [--quick] > bench/results/ab.json

The figures come from each run's own run.json (kernel seconds for W3, training seconds for W4,
chain seconds for W5), not from process times. W5's ESS depends on the random streams, which
differ between versions; its speed figure is the time per gradient.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEW = os.path.join(ROOT, "target", "release", "thermolab")
ENV = dict(os.environ, OMP_NUM_THREADS="1")


def arg(name, default):
    return type(default)(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


QUICK = "--quick" in sys.argv
REPEATS = arg("--repeats", 2 if QUICK else 5)


def run(binary, tmp, name, args):
    subprocess.run([binary, *args, "--out", name, "--no-plots", "--format", "json"], cwd=tmp,
                   env=ENV, check=True, capture_output=True, text=True)
    with open(os.path.join(tmp, name, "run.json")) as fh:
        return json.load(fh)


def w3(binary, tmp, name, alg, sweeps):
    r = run(binary, tmp, name, ["ising", "--L", "64", "--T", "2.269185314213022", "--algorithm", alg,
                                "--sweeps", str(sweeps), "--thermalize", "1", "--threads", "1"])
    return r["results"]["flips_per_second"]


def w4(binary, tmp, name, hidden, data):
    r = run(binary, tmp, name, ["rbm", "train", "--data", data, "--test", data, "--hidden", str(hidden),
                                "--epochs", "20" if QUICK else "200", "--batch-size", "10", "--lr", "0.1",
                                "--momentum", "0", "--weight-decay", "0", "--monitor-rows", "10",
                                "--eval-every", "1000"])
    res = r["results"]
    return 1e3 * res["train_seconds"] / res["epochs"]


def w5(binary, tmp, name, target, seed):
    r = run(binary, tmp, name, ["sample", *target, "--chains", "4", "--warmup", "1000", "--draws", "1000",
                                "--threads", "1", "--seed", str(seed)])
    secs = r["timings"]["warmup_seconds"] + r["timings"]["sampling_seconds"]
    g = r["results"]["gradient_evaluations"]
    grads = g["warmup"] + g["sampling"]
    return {"us_per_grad": 1e6 * secs / grads, "ess_per_s": r["results"]["min_ess_bulk"] / secs}


def main():
    old = sys.argv[1]
    cases = {
        "w3_metropolis_L64": lambda b, t, n: w3(b, t, n, "metropolis", 200 if QUICK else 1000),
        "w3_multispin_L64": lambda b, t, n: w3(b, t, n, "msc", 100 if QUICK else 1000),
        "w4_pcd_16_hidden_ms_per_epoch": lambda b, t, n: w4(b, t, n, 16, "digits"),
        "w4_pcd_64_hidden_ms_per_epoch": lambda b, t, n: w4(b, t, n, 64, "digits"),
    }
    targets = {
        "gauss100": ["--target", "gauss", "--dim", "100", "--rho", "0.9"],
        "funnel_nc": ["--target", "funnel-nc", "--dim", "10"],
        "logreg": ["--target", "logreg"],
    }
    for name, args in targets.items():
        cases[f"w5_{name}"] = (lambda a: lambda b, t, n, s=0: w5(b, t, n, a, s))(args)
    out = {"old": old, "new": NEW, "repeats": REPEATS, "load": os.getloadavg(), "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for case, f in cases.items():
            runs = {"old": [], "new": []}
            for k in range(REPEATS):
                for who, binary in (("old", old), ("new", NEW)) if k % 2 == 0 else (("new", NEW), ("old", old)):
                    name = f"{case}_{who}_{k}"
                    runs[who].append(f(binary, tmp, name, k) if case.startswith("w5") else f(binary, tmp, name))
            if case.startswith("w5"):
                summary = {}
                for key in ("us_per_grad", "ess_per_s"):
                    o = statistics.median(r[key] for r in runs["old"])
                    n = statistics.median(r[key] for r in runs["new"])
                    summary[key] = {"old": o, "new": n, "new_over_old": n / o}
            else:
                o, n = statistics.median(runs["old"]), statistics.median(runs["new"])
                summary = {"old": o, "new": n, "new_over_old": n / o}
            out["cases"][case] = {"median": summary, "runs": runs}
            print(case, json.dumps(summary), file=sys.stderr, flush=True)
    out["load_after"] = os.getloadavg()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
