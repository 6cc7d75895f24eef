"""W4 (RBMs on digits) side by side with scikit-learn's BernoulliRBM, one thread each:

- W4: time per epoch at 64 and 16 hidden units (batch 10, lr 0.1, PCD-1, 20 epochs, all 1797
  images; thermolab on the binarised images since its Bernoulli units take binary data —
  the cost per epoch does not depend on the pixel values);
- W4b: binarised digits, images 0-1499 train / 1500-1796 test, 16 hidden: exact test
  log-likelihood against training time (scikit-learn PCD lr 0.05 after 20/50/100 epochs;
  thermolab PCD with momentum and a decaying learning rate after 20/50/100 epochs);
- AIS on thermolab's 100-epoch 64x16 machine, 100 chains x 1000 temperatures: error against the
  exact log Z over seeds and seconds, thermolab against a numpy AIS of the same algorithm;
- with --mnist (needs $THERMOLAB_MNIST): seconds per epoch of a 784x500 machine on MNIST's 60 000
  training images (PCD-1, batch 100, lr 0.1), thermolab against scikit-learn.

    PEER_PYTHON=.venv-peers/bin/python python3 bench/w4.py [--mnist]
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.environ.get("THERMOLAB_PEERS", os.path.join(ROOT, "..", "shared", "bench"))
PY = os.environ.get("PEER_PYTHON", os.path.join(ROOT, ".venv-peers", "bin", "python"))
BIN = os.path.join(ROOT, "target", "release", "thermolab")
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
SEEDS = 20


def run(tmp, *args):
    subprocess.run([BIN, *args, "--format", "json"], cwd=tmp, env=ENV, check=True,
                   capture_output=True, text=True)


def results(tmp, name):
    with open(os.path.join(tmp, name, "run.json")) as fh:
        return json.load(fh)["results"]


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "thermolab-cli"], cwd=ROOT, check=True)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        # The whole digits set as one file (train = test = all 1797 images) for W4 timing.
        subprocess.run(
            [PY, "-c", "from sklearn.datasets import load_digits; import numpy as np; "
             "X = load_digits().data / 16.0; np.savetxt('all.csv', X, delimiter=',', fmt='%.6f')"],
            cwd=tmp, env=ENV, check=True, capture_output=True, text=True)
        sk = subprocess.run([PY, os.path.join(PEERS, "w4_sklearn.py")], cwd=PEERS, env=ENV,
                            check=True, capture_output=True, text=True).stdout
        sk = json.loads(sk.strip().splitlines()[-1])
        w4 = {}
        for h in (64, 16):
            run(tmp, "rbm", "train", "--data", "all.csv", "--test", "all.csv", "--hidden", str(h),
                "--epochs", "20", "--batch-size", "10", "--lr", "0.1", "--momentum", "0",
                "--final-lr-fraction", "1", "--out", f"w4_{h}", "--no-plots", "--eval-every", "20")
            r = results(tmp, f"w4_{h}")
            ours = r["train_seconds"] / r["epochs"]
            peer = sk["runs"][str(h)]["wall_s_per_epoch"]
            w4[h] = {"thermolab_s_per_epoch": ours, "sklearn_s_per_epoch": peer, "ratio": peer / ours}
        out["w4"] = w4
        w4b = {}
        for e in (20, 50, 100):
            run(tmp, "rbm", "train", "--hidden", "16", "--epochs", str(e), "--lr", "0.05",
                "--momentum", "0.5", "--final-lr-fraction", "0", "--out", f"b{e}", "--no-plots")
            r = results(tmp, f"b{e}")
            w4b[e] = {"thermolab_train_s": r["train_seconds"], "thermolab_test_loglik": r["log_likelihood_test"]}
        model = os.path.join(tmp, "b100", "model.json")
        pk = subprocess.run([PY, os.path.join(ROOT, "bench", "peers", "w4b_sklearn.py"), "--model", model,
                             "--seeds", str(SEEDS)], cwd=tmp, env=ENV, check=True, capture_output=True,
                            text=True).stdout
        pk = json.loads(pk.strip().splitlines()[-1])
        for e in (20, 50, 100):
            w4b[e]["sklearn_fit_s"] = pk["runs"][str(e)]["fit_s"]
            w4b[e]["sklearn_test_loglik"] = pk["runs"][str(e)]["test_loglik"]
        out["w4b"] = w4b
        exact = results(tmp, "b100")["log_z"]
        errs, secs = [], []
        for s in range(SEEDS):
            run(tmp, "rbm", "eval", "--model", model, "--ais", "--ais-chains", "100",
                "--ais-temperatures", "1000", "--threads", "1", "--seed", str(s), "--out", f"a{s}", "--no-plots")
            a = results(tmp, f"a{s}")["ais"]
            errs.append(a["log_z"] - exact)
            secs.append(a["seconds"])
        out["ais"] = {
            "exact_log_z": exact,
            "thermolab_errors": errs,
            "thermolab_within_0.02": sum(abs(x) <= 0.02 for x in errs),
            "thermolab_rms_error": (sum(x * x for x in errs) / len(errs)) ** 0.5,
            "thermolab_median_s": statistics.median(secs),
            "numpy_errors": pk["ais"]["errors"],
            "numpy_within_0.02": sum(abs(x) <= 0.02 for x in pk["ais"]["errors"]),
            "numpy_rms_error": (sum(x * x for x in pk["ais"]["errors"]) / len(pk["ais"]["errors"])) ** 0.5,
            "numpy_median_s": statistics.median(pk["ais"]["seconds"]),
        }
        out["ais"]["speed_ratio"] = out["ais"]["numpy_median_s"] / out["ais"]["thermolab_median_s"]
        if "--mnist" in sys.argv:
            run(tmp, "rbm", "train", "--data", "mnist", "--hidden", "500", "--epochs", "2",
                "--batch-size", "100", "--lr", "0.1", "--momentum", "0", "--final-lr-fraction", "1",
                "--eval-every", "2", "--monitor-rows", "50", "--ais-chains", "10", "--ais-temperatures", "100",
                "--out", "mnist", "--no-plots")
            r = results(tmp, "mnist")
            ours = r["train_seconds"] / r["epochs"]
            pm = subprocess.run([PY, os.path.join(ROOT, "bench", "peers", "mnist_sklearn.py"), "1"], cwd=tmp,
                                env=ENV, check=True, capture_output=True, text=True).stdout
            peer = json.loads(pm.strip().splitlines()[-1])["s_per_epoch"]
            out["mnist"] = {"thermolab_s_per_epoch": ours, "sklearn_s_per_epoch": peer, "ratio": peer / ours}
    json.dump(out, sys.stdout, indent=1)
    print()
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "w4.json"), "w") as fh:
        json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
