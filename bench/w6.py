"""W6 (log evidence, conjugate linear regression) side by side: thermolab's estimators against
dynesty nested sampling on the reference problems (synthetic n = 100, d = 5 and diabetes,
prior precision α ∈ {0.01, 1, 100}), with the closed-form evidence as the truth.

    .venv-peers/bin/pip install numpy scipy scikit-learn dynesty
    PEER_PYTHON=.venv-peers/bin/python python3 bench/w6.py      # --quick for a smoke run
"""
import json
import math
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
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "thermolab-cli"], cwd=ROOT, check=True)
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
                                                  "z": err / se if se > 0 else None, "seconds": e["seconds"], "evaluations": e["evaluations"]}
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
