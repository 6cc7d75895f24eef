"""W4b peer: scikit-learn's BernoulliRBM (PCD-1, lr 0.05, batch 10, 16 hidden) on binarised digits
(pixel/16 > 0.5), images 0-1499 train and 1500-1796 test; exact test log-likelihood (log Z by
enumerating the 2^16 hidden states) after 20, 50 and 100 epochs, with fit times. One JSON line.
Also a numpy AIS (Salakhutdinov & Murray, base-rate start, hidden summed out, linear schedule)
on a machine given as a thermolab model.json, timed against the exact log Z.

usage: python w4b_sklearn.py [--model model.json --chains 100 --temperatures 1000 --seeds 10]
"""
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from scipy.special import logsumexp  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.neural_network import BernoulliRBM  # noqa: E402


def softplus(x):
    return np.logaddexp(0.0, x)


def exact_log_z(W, b, c):
    H = W.shape[1]
    idx = np.arange(2 ** H)
    h = ((idx[:, None] >> np.arange(H)) & 1).astype(np.float64)
    return float(logsumexp(h @ c + softplus(h @ W.T + b).sum(axis=1)))


def avg_ll(W, b, c, V):
    return float((V @ b + softplus(V @ W + c).sum(axis=1)).mean() - exact_log_z(W, b, c))


def ais(W, b, c, base, chains, temps, rng):
    betas = np.linspace(0.0, 1.0, temps)
    pa = 1.0 / (1.0 + np.exp(-base))
    v = (rng.random((chains, W.shape[0])) < pa).astype(np.float64)
    lw = np.zeros(chains)

    def logp(v, beta):
        return (1 - beta) * v @ base + beta * (v @ b) + softplus(beta * (v @ W + c)).sum(axis=1)

    for k in range(1, temps):
        lw += logp(v, betas[k]) - logp(v, betas[k - 1])
        if k + 1 < temps:
            ph = 1.0 / (1.0 + np.exp(-betas[k] * (v @ W + c)))
            h = (rng.random(ph.shape) < ph).astype(np.float64)
            pv = 1.0 / (1.0 + np.exp(-((1 - betas[k]) * base + betas[k] * (h @ W.T + b))))
            v = (rng.random(pv.shape) < pv).astype(np.float64)
    log_za = W.shape[1] * np.log(2.0) + softplus(base).sum()
    return float(log_za + logsumexp(lw) - np.log(chains))


def main():
    args = sys.argv[1:]

    def arg(name, default):
        return type(default)(args[args.index(name) + 1]) if name in args else default

    X = load_digits().data / 16.0
    Xb = (X > 0.5).astype(np.float64)
    train, test = Xb[:1500], Xb[1500:]
    out = {"peer": "sklearn_bernoulli_rbm_w4b", "runs": {}}
    for epochs in (20, 50, 100):
        rbm = BernoulliRBM(n_components=16, learning_rate=0.05, batch_size=10, n_iter=epochs,
                           random_state=0, verbose=0)
        t0 = time.perf_counter()
        rbm.fit(train)
        fit_s = time.perf_counter() - t0
        W, b, c = rbm.components_.T, rbm.intercept_visible_, rbm.intercept_hidden_
        out["runs"][str(epochs)] = {"fit_s": fit_s, "test_loglik": avg_ll(W, b, c, test)}
    model = arg("--model", "")
    if model:
        m = json.load(open(model))["rbm"]
        nv, nh = m["n_visible"], m["n_hidden"]
        W = np.array(m["w"], dtype=np.float64).reshape(nv, nh)
        b, c = np.array(m["b"], dtype=np.float64), np.array(m["c"], dtype=np.float64)
        exact = exact_log_z(W, b, c)
        p = (train.sum(0) + 0.5) / (train.shape[0] + 1.0)
        base = np.log(p / (1 - p))
        errs, times = [], []
        for s in range(arg("--seeds", 10)):
            rng = np.random.default_rng(s)
            t0 = time.perf_counter()
            est = ais(W, b, c, base, arg("--chains", 100), arg("--temperatures", 1000), rng)
            times.append(time.perf_counter() - t0)
            errs.append(est - exact)
        out["ais"] = {"exact_log_z": exact, "errors": errs, "seconds": times}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
