"""SGLD / SGHMC on MNIST 784-100-10 (ReLU) with the `posteriors` library (PyTorch, one thread):
the peer of bench/sgmcmc_mnist.py. Prints one JSON line: seconds per epoch (loop only, wall and
CPU), and the posterior predictive's test accuracy and NLL over the kept samples.

Settings in posteriors' convention (mean log posterior per datum, temperature 1/N for the true
posterior); bench/sgmcmc_mnist.py converts thermolab's ε and T to them.
"""
import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import torch

import posteriors


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mnist", required=True)
    ap.add_argument("--sampler", default="sgld", choices=["sgld", "sghmc"])
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--alpha", type=float, default=0.1)
    ap.add_argument("--temperature", type=float, required=True)
    ap.add_argument("--prior-sd", type=float, default=1.0)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--burn-in-epochs", type=int, default=1)
    ap.add_argument("--thin", type=int, default=100)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    x = torch.tensor(idx(os.path.join(a.mnist, "train-images-idx3-ubyte.gz")).reshape(-1, 784), dtype=torch.float32) / 255.0
    y = torch.tensor(idx(os.path.join(a.mnist, "train-labels-idx1-ubyte.gz")), dtype=torch.long)
    xt = torch.tensor(idx(os.path.join(a.mnist, "t10k-images-idx3-ubyte.gz")).reshape(-1, 784), dtype=torch.float32) / 255.0
    yt = torch.tensor(idx(os.path.join(a.mnist, "t10k-labels-idx1-ubyte.gz")), dtype=torch.long)
    n = x.shape[0]
    model = torch.nn.Sequential(torch.nn.Linear(784, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10))
    params = {k: v.detach().clone() for k, v in model.named_parameters()}

    def log_posterior(p, batch):
        xb, yb = batch
        logits = torch.func.functional_call(model, p, (xb,))
        ll = -torch.nn.functional.cross_entropy(logits, yb)
        lp = posteriors.diag_normal_log_prob(p, sd_diag=a.prior_sd, normalize=False) / n
        return ll + lp, logits

    if a.sampler == "sgld":
        transform = posteriors.sgmcmc.sgld.build(log_posterior, lr=a.lr, temperature=a.temperature)
    else:
        # Momenta start at zero, as thermolab's velocity does (posteriors' default draws them
        # from N(0, 1), far hotter than the target temperature 1/N).
        transform = posteriors.sgmcmc.sghmc.build(log_posterior, lr=a.lr, alpha=a.alpha, temperature=a.temperature, momenta=0.0)
    state = transform.init(params)
    kept = []
    steps = 0
    wall = cpu = 0.0
    for epoch in range(a.epochs):
        perm = torch.randperm(n)
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, n, a.batch_size):
            rows = perm[i:i + a.batch_size]
            state, _ = transform.update(state, (x[rows], y[rows]), inplace=True)
            if epoch >= a.burn_in_epochs:
                steps += 1
                if steps % a.thin == 0:
                    kept.append({k: v.clone() for k, v in state.params.items()})
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
    with torch.no_grad():
        probs = torch.zeros(xt.shape[0], 10, dtype=torch.float64)
        for p in kept:
            probs += torch.softmax(torch.func.functional_call(model, p, (xt,)), dim=1).double()
        probs /= max(len(kept), 1)
        acc = (probs.argmax(1) == yt).double().mean().item()
        nll = -torch.log(probs[torch.arange(len(yt)), yt].clamp_min(1e-300)).mean().item()
    print(json.dumps({"seconds_per_epoch": wall / a.epochs, "cpu_per_epoch": cpu / a.epochs,
                      "accuracy": acc, "nll": nll, "samples": len(kept), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
