"""Stochastic-gradient MCMC on MNIST 784-100-10 (ReLU), batch 100, side by side with the
`posteriors` library (PyTorch), one thread each, the same settings and seeds: seconds per epoch
(the sampling loop only; medians over seeds) and the posterior predictive's test accuracy and NLL
over the same kept samples (one every --thin steps after the burn-in).

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install torch posteriors
    PEER_PYTHON=/tmp/peers/bin/python python3 bench/sgmcmc_mnist.py [--epochs 10] [--seeds 3]

thermolab's convention (energy summed over the data, x ← x − (ε/2)∇E + √(εT)ξ) maps onto
posteriors' (mean log posterior per datum, θ ← θ + lr∇ + √(2·lr·T_p)ξ) by lr = εN/2 and
T_p = T/N; SGHMC's friction a per step is posteriors' lr·α, with ε = lr²/N. Both start from
PyTorch's Linear initialisation (thermolab's --init pytorch), each from its own random draw.
Writes bench/results/sgmcmc_mnist.json.
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
MNIST = os.environ.get("THERMOLAB_MNIST", os.path.join(ROOT, "..", "shared", "data", "mnist"))
ENV = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", THERMOLAB_MNIST=MNIST)


def arg(name, default):
    return type(default)(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


EPOCHS = arg("--epochs", 10)
BURN = arg("--burn-in", max(1, EPOCHS // 5))
SEEDS = arg("--seeds", 3)
N = 60000
RUNS = {  # name -> (thermolab sampler flags, posteriors flags)
    # SGLD: ε = 1e-6 at T = 1 ⇔ lr = 0.03, T_p = 1/N.
    "sgld": (["--sampler", "sgld", "--step-size", "1e-6"],
             ["--sampler", "sgld", "--lr", "0.03"]),
    # SGHMC: lr = 0.01, α = 1 ⇔ friction 0.01 per step, ε = lr²/N.
    "sghmc": (["--sampler", "sghmc", "--step-size", str(0.01 ** 2 / N), "--friction", "0.01"],
              ["--sampler", "sghmc", "--lr", "0.01", "--alpha", "1.0"]),
}


def thermolab(flags, seed):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "run")
        cmd = [BIN, "sample", *flags, "--data", "mnist", "--arch", "784-100-10:relu",
               "--batch-size", "100", "--epochs", str(EPOCHS), "--burn-in-epochs", str(BURN),
               "--thin", "100", "--chains", "1", "--threads", "1", "--temperature", "1",
               "--prior-sd", "1", "--init", "pytorch", "--seed", str(seed), "--out", out, "--no-plots"]
        p = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"thermolab failed: {p.stderr}")
        r = json.load(open(os.path.join(out, "run.json")))
        t = r["results"]["test"]
        return {"seconds_per_epoch": r["timings"]["seconds_per_epoch"], "accuracy": t["accuracy"],
                "nll": t["nll"], "samples": r["results"]["samples"],
                "divergences": r["results"]["divergences"]}


def peer(flags, seed):
    cmd = [PY, os.path.join(ROOT, "bench", "peers", "sgmcmc_posteriors.py"), *flags,
           "--mnist", MNIST, "--temperature", str(1.0 / N), "--prior-sd", "1",
           "--epochs", str(EPOCHS), "--burn-in-epochs", str(BURN), "--thin", "100",
           "--batch-size", "100", "--seed", str(seed)]
    p = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"posteriors failed: {p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    load = os.getloadavg()[0]
    out = {"epochs": EPOCHS, "burn_in_epochs": BURN, "seeds": SEEDS, "load_before": load}
    for name, (ours, theirs) in RUNS.items():
        rows = []
        for seed in range(SEEDS):
            a, b = thermolab(ours, seed), peer(theirs, seed)
            rows.append({"seed": seed, "thermolab": a, "posteriors": b})
            print(name, seed, "thermolab", a, "posteriors", b, flush=True)
        med = lambda who, k: statistics.median(r[who][k] for r in rows)
        out[name] = {
            "runs": rows,
            "thermolab_seconds_per_epoch": med("thermolab", "seconds_per_epoch"),
            "posteriors_seconds_per_epoch": med("posteriors", "seconds_per_epoch"),
            "speedup": med("posteriors", "seconds_per_epoch") / med("thermolab", "seconds_per_epoch"),
            "thermolab_accuracy": statistics.mean(r["thermolab"]["accuracy"] for r in rows),
            "posteriors_accuracy": statistics.mean(r["posteriors"]["accuracy"] for r in rows),
            "thermolab_nll": statistics.mean(r["thermolab"]["nll"] for r in rows),
            "posteriors_nll": statistics.mean(r["posteriors"]["nll"] for r in rows),
        }
        o = out[name]
        print(f"{name}: {o['thermolab_seconds_per_epoch']:.3f} s/epoch vs {o['posteriors_seconds_per_epoch']:.3f} "
              f"({o['speedup']:.2f}x); accuracy {100 * o['thermolab_accuracy']:.2f} % vs "
              f"{100 * o['posteriors_accuracy']:.2f} %", flush=True)
    out["load_after"] = os.getloadavg()[0]
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "sgmcmc_mnist.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
