"""The local learning coefficient side by side with devinterp (PyTorch), one thread each, the
same model, data process, settings and number of draws: λ̂ of a deep linear network by
minibatch SGLD (batch 100, nβ = n/ln n, devinterp's step convention), seconds of sampling
(medians over seeds; devinterp's chains run one after another, thermolab's on one thread).

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install torch devinterp
    PEER_PYTHON=/tmp/peers/bin/python python3 bench/llc_devinterp.py [--seeds 3] [--draws 5000]

Writes bench/results/llc_devinterp.json.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = os.environ.get("PEER_PYTHON", "/tmp/peers/bin/python")
BIN = os.path.join(ROOT, "target", "release", "thermolab")
PEER = os.path.join(ROOT, "bench", "peers", "llc_devinterp.py")
ENV = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")


def arg(name, default):
    return type(default)(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


SEEDS = arg("--seeds", 3)
DRAWS = arg("--draws", 5000)
CHAINS, ROWS, BATCH, GAMMA = 4, 10000, 100, 1.0
MODELS = [("3,2,3", 1, 2e-5), ("10,10,10,10", 3, 2e-6)]


def thermolab(widths, rank, step, seed):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "run")
        cmd = [BIN, "llc", "--widths", widths, "--rank", str(rank), "--rows", str(ROWS),
               "--chains", str(CHAINS), "--draws", str(DRAWS), "--burn-in", "0",
               "--step-size", str(step), "--localization", str(GAMMA), "--batch-size", str(BATCH),
               "--threads", "1", "--seed", str(seed), "--out", out, "--no-plots"]
        p = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"thermolab failed: {p.stderr}")
        r = json.load(open(os.path.join(out, "run.json")))
        return {"seconds": r["timings"]["sampling_seconds"], "lambda": r["results"]["lambda"],
                "se": r["results"]["se"], "exact": r["results"]["exact"]}


def devinterp(widths, rank, step, seed):
    cmd = [PY, PEER, widths, str(rank), str(ROWS), str(CHAINS), str(DRAWS), str(step), str(GAMMA),
           str(BATCH), str(seed)]
    p = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"devinterp failed: {p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    load = os.getloadavg()[0]
    results = []
    for widths, rank, step in MODELS:
        ours = [thermolab(widths, rank, step, s) for s in range(SEEDS)]
        peer = [devinterp(widths, rank, step, s) for s in range(SEEDS)]
        t_ours = statistics.median(r["seconds"] for r in ours)
        t_peer = statistics.median(r["seconds"] for r in peer)
        row = {"widths": widths, "rank": rank, "step_size": step, "exact_lambda": ours[0]["exact"],
               "thermolab": ours, "devinterp": peer, "thermolab_seconds": t_ours,
               "devinterp_seconds": t_peer, "speedup": t_peer / t_ours}
        results.append(row)
        print(f"{widths} rank {rank}: thermolab {t_ours:.3f} s, devinterp {t_peer:.3f} s "
              f"({t_peer / t_ours:.0f}x); λ̂ {statistics.median(r['lambda'] for r in ours):.2f} vs "
              f"{statistics.median(r['lambda'] for r in peer):.2f} (exact {ours[0]['exact']})")
    out = {"chains": CHAINS, "draws": DRAWS, "rows": ROWS, "batch": BATCH, "localization": GAMMA,
           "seeds": SEEDS, "threads": 1, "load_at_start": load, "models": results}
    path = os.path.join(ROOT, "bench", "results", "llc_devinterp.json")
    with open(path + ".tmp", "w") as f:
        json.dump(out, f, indent=1)
    os.replace(path + ".tmp", path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
