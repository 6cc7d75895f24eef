"""MNIST peer for W4: scikit-learn's BernoulliRBM (PCD-1, 500 hidden, batch 100, lr 0.1) on
MNIST's 60 000 training images binarised at pixel >= 128, one thread; seconds per epoch over
N epochs (default 1). Reads the IDX files from $THERMOLAB_MNIST. One JSON line.
"""
import gzip
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from sklearn.neural_network import BernoulliRBM  # noqa: E402


def load(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    n, r, c = (int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, r * c)


def main():
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    d = os.environ["THERMOLAB_MNIST"]
    name = "train-images-idx3-ubyte"
    path = os.path.join(d, name + ".gz") if os.path.exists(os.path.join(d, name + ".gz")) else os.path.join(d, name)
    X = (load(path) >= 128).astype(np.float64)
    rbm = BernoulliRBM(n_components=500, learning_rate=0.1, batch_size=100, n_iter=epochs, random_state=0)
    t0 = time.perf_counter()
    rbm.fit(X)
    wall = time.perf_counter() - t0
    print(json.dumps({"peer": "sklearn_bernoulli_rbm_mnist", "epochs": epochs, "s_per_epoch": wall / epochs}))


if __name__ == "__main__":
    main()
