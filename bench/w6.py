"""W6 (log evidence, conjugate linear regression) side by side: thermolab's estimators against
dynesty nested sampling on the reference problems (synthetic n = 100, d = 5 and diabetes,
prior precision α ∈ {0.01, 1, 100}), with the closed-form evidence as the truth.

    .venv-peers/bin/pip install numpy scipy scikit-learn dynesty
    PEER_PYTHON=.venv-peers/bin/python python3 bench/w6.py      # --quick for a smoke run
    PEER_PYTHON=.venv-peers/bin/python python3 bench/w6.py --high-dim

--high-dim runs the two higher-dimensional problems of issue #6's acceptance instead (a
conjugate regression with d = 30 and a 32-D AR(1) Gaussian, bench/peers/w6_highdim_dynesty.py)
over several thermolab seeds, and writes bench/results/w6-highdim.json.
"""
import json
import math
import statistics
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.environ.get("THERMOLAB_PEERS", os.path.join(ROOT, "..", "shared", "bench"))
PY = os.environ.get("PEER_PYTHON", os.path.join(ROOT, ".venv-peers", "bin", "python"))
BIN = os.path.join(ROOT, "target", "release", "thermolab")
QUICK = "--quick" in sys.argv
HIGH_DIM = "--high-dim" in sys.argv
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")


def run_ours(tmp, args, exact, tag):
    """One `thermolab evidence` run: per estimator the estimate, SE, error, z, seconds."""
    t0 = time.perf_counter()
    subprocess.run([BIN, "evidence", *args, "--threads", "1", "--out", "e-" + tag, "--no-plots", "--format", "json"],
                   cwd=tmp, env=ENV, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    with open(os.path.join(tmp, "e-" + tag, "run.json")) as fh:
        r = json.load(fh)["results"]
    res = {"exact": exact, "exact_thermolab": r.get("exact_log_evidence"), "process_s": wall, "estimators": {}}
    for e in r["estimates"]:
        err = e["log_z"]["value"] - exact
        se = e["log_z"]["se"]
        res["estimators"][e["method"]] = {"log_z": e["log_z"]["value"], "se": se, "err": err,
                                          "z": err / se if se and se > 0 else None, "seconds": e["seconds"],
                                          "evaluations": e["evaluations"]}
    return res


def high_dim():
    """The d = 30 regression and the 32-D Gaussian: thermolab over seeds, dynesty twice each."""
    script = os.path.join(ROOT, "bench", "peers", "w6_highdim_dynesty.py")
    seeds = range(2 if QUICK else 5)
    out = {"quick": QUICK, "thermolab": {}}
    with tempfile.TemporaryDirectory() as tmp:
        exact = json.loads(subprocess.run([PY, script, "--out", tmp, "--data-only"], env=ENV, check=True,
                                          capture_output=True, text=True).stdout)["exact"]
        problems = {"linreg_d30": ["--target", "linreg", "--data", "linreg_d30.csv", "--sigma", "0.7", "--prior-sd", "1"],
                    "gauss_d32": ["--target", "gauss", "--dim", "32", "--rho", "0.5", "--ref-sd", "2"]}
        for name, args in problems.items():
            out["thermolab"][name] = [run_ours(tmp, [*args, "--seed", str(s)], exact[name], f"{name}-{s}") for s in seeds]
        p = subprocess.run([PY, script, "--out", tmp, "--reps", "1" if QUICK else "2", *(["--quick"] if QUICK else [])],
                           env=ENV, capture_output=True, text=True)
        out["dynesty"] = json.loads(p.stdout.strip().splitlines()[-1]) if p.returncode == 0 else {"error": p.stderr[-800:]}
    for name, runs in out["thermolab"].items():
        print(name, "exact", f"{runs[0]['exact']:.3f}")
        for est in runs[0]["estimators"]:
            if est == "harmonic mean":
                continue
            errs = [r["estimators"][est]["err"] for r in runs]
            zs = [r["estimators"][est]["z"] for r in runs if r["estimators"][est]["z"] is not None]
            secs = statistics.median(r["estimators"][est]["seconds"] for r in runs)
            print(f"  {est:<30} mean |err| {statistics.mean(abs(e) for e in errs):.3f}  max |err| {max(abs(e) for e in errs):.3f}"
                  f"  max |z| {max((abs(z) for z in zs), default=float('nan')):.1f}  median {secs:.2f} s")
        print(f"  thermolab process (all estimators) median {statistics.median(r['process_s'] for r in runs):.2f} s")
        d = out["dynesty"].get("problems", {}).get(name)
        if d:
            print(f"  dynesty mean |err| {d['mean_abs_err']:.3f} (logzerr {d['mean_logzerr']:.3f}), median {d['median_wall_s']:.1f} s,"
                  f" errors {[round(r['err'], 3) for r in d['runs']]}")
    path = os.path.join(ROOT, "bench", "results", "w6-highdim%s.json" % ("-quick" if QUICK else ""))
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
    print("wrote", path)


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "thermolab-cli"], cwd=ROOT, check=True)
    if HIGH_DIM:
        return high_dim()
    out = {"quick": QUICK, "thermolab": {}}
    with tempfile.TemporaryDirectory() as tmp:
        code = ("import sys, json, math; sys.path.insert(0, %r); import _w6\n"
                "ps = _w6.problems(source='internal')\n"
                "meta = []\n"
                "for i, p in enumerate(ps):\n"
                "    X, y = p['X'], p['y']\n"
                "    open(f'p{i}.csv', 'w').write(','.join(f'x{j}' for j in range(X.shape[1])) + ',y\\n' + ''.join(','.join(repr(float(v)) for v in list(X[r]) + [y[r]]) + '\\n' for r in range(len(y))))\n"
                "    ex, _ = _w6.exact_A(X, y, p['params']['sigma'], p['params']['s'])\n"
                "    meta.append({'name': p['name'], 'file': f'p{i}.csv', 'sigma': p['params']['sigma'], 's': p['params']['s'], 'exact': ex, 'd': X.shape[1]})\n"
                "print(json.dumps(meta))\n" % PEERS)
        meta = json.loads(subprocess.run([PY, "-c", code], cwd=tmp, check=True, capture_output=True, text=True, env=ENV).stdout)
        if QUICK:
            meta = meta[::3]
        for m in meta:
            t0 = time.perf_counter()
            subprocess.run([BIN, "evidence", "--target", "linreg", "--data", m["file"], "--sigma", repr(m["sigma"]),
                            "--prior-sd", repr(m["s"]), "--threads", "1", "--out", "e-" + m["file"], "--no-plots", "--format", "json"],
                           cwd=tmp, env=ENV, check=True, capture_output=True)
            wall = time.perf_counter() - t0
            with open(os.path.join(tmp, "e-" + m["file"], "run.json")) as fh:
                r = json.load(fh)["results"]
            res = {"exact": m["exact"], "exact_thermolab": r["exact_log_evidence"], "process_s": wall, "estimators": {}}
            for e in r["estimates"]:
                err = e["log_z"]["value"] - m["exact"]
                se = e["log_z"]["se"]
                res["estimators"][e["method"]] = {"log_z": e["log_z"]["value"], "se": se, "err": err,
                                                  "z": err / se if se else None, "trusted": e.get("trusted"), "seconds": e["seconds"], "evaluations": e["evaluations"]}
            out["thermolab"][m["name"]] = res
    p = subprocess.run([PY, os.path.join(PEERS, "w6_dynesty.py"), "--source", "internal", "--reps", "1" if QUICK else "3",
                        *(["--quick"] if QUICK else [])], cwd=PEERS, env=ENV, capture_output=True, text=True)
    out["dynesty"] = json.loads(p.stdout.strip().splitlines()[-1]) if p.returncode == 0 else {"error": p.stderr[-800:]}
    for name, r in out["thermolab"].items():
        line = f"{name:<24} exact {r['exact']:10.3f} | "
        line += " ".join(f"{k[:6]} {v['err']:+.3f}({v['z']:+.1f}σ, {v['seconds']:.1f}s)" for k, v in r["estimators"].items() if v["z"] is not None and k != "harmonic mean")
        line += f" | thermolab process {r['process_s']:.2f} s"
        d = out["dynesty"].get("problems", {}).get(name)
        if d:
            line += f" | dynesty |err| {d['mean_abs_err']:.3f} (±{d['mean_logzerr']:.3f}) {d['median_wall_s']:.1f} s"
        elif name in out["dynesty"].get("skipped", {}):
            line += " | dynesty skipped (cannot reach the posterior)"
        print(line)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    path = os.path.join(ROOT, "bench", "results", "w6%s.json" % ("-quick" if QUICK else ""))
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
