"""W1 (seed network training) and W2 (annealing) side by side: thermolab against its peers in
one run, printing ratios and writing bench/results/w1_w2.json.

Peers are the reference scripts in ../shared/bench (or $THERMOLAB_PEERS); they run with the
Python of a venv that has numpy, scipy and torch ($PEER_PYTHON, default .venv-peers/bin/python):

    python3 -m venv .venv-peers
    .venv-peers/bin/pip install numpy scipy torch
    python3 bench/w1_w2.py            # add --quick for a smoke run

thermolab's side is the release binary, run as a user would (`thermolab train`, `thermolab
anneal`); its timings come from the run folders (loop / solve time) and from the wall clock
around the whole process.
"""
import json
import os
import statistics
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


def peer(script, *args):
    """Runs a peer script; returns (its JSON line, wall seconds of the whole process)."""
    t = time.perf_counter()
    out = subprocess.run([PY, os.path.join(PEERS, script), *args], cwd=PEERS, env=ENV,
                         check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - t
    return json.loads(out.strip().splitlines()[-1]), wall


def ours(args, cwd):
    """Runs thermolab with --format json; returns (run.json, wall seconds of the process)."""
    t = time.perf_counter()
    subprocess.run([BIN, *args, "--format", "json", "--no-plots"], cwd=cwd, env=ENV, check=True,
                   capture_output=True, text=True)
    wall = time.perf_counter() - t
    out = args[args.index("--out") + 1]
    with open(os.path.join(cwd, out, "run.json")) as fh:
        return json.load(fh), wall


def w1(tmp):
    # The same data and initial weights as the peers (numpy default_rng(0) noise, seed-1 init).
    code = (
        "import sys, numpy as np; sys.path.insert(0, %r); import _common as C\n"
        "x, y = C.w1_data(np); W1, c1, W2, c2 = C.w1_init(np)\n"
        "open('w1.csv','w').write('x,y\\n' + ''.join(f'{a!r},{b!r}\\n' for a, b in zip(x.tolist(), y.tolist())))\n"
        "th = np.concatenate([W1.ravel(), c1, W2.ravel(), c2]).tolist()\n"
        "open('w1_init.txt','w').write('\\n'.join(repr(v) for v in th) + '\\n')\n" % PEERS
    )
    subprocess.run([PY, "-c", code], cwd=tmp, check=True, env=ENV)
    reps = 2 if QUICK else 7
    runs = [ours(["train", "--data", "w1.csv", "--init", "w1_init.txt", "--arch", "1-10-1:relu",
                  "--optimizer", "adam", "--lr", "0.01", "--epochs", "2000",
                  "--out", f"w1-{i}"], tmp) for i in range(reps)]
    loop = min(r["results"]["loop_seconds"] for r, _ in runs)
    proc = min(w for _, w in runs)
    mse = runs[0][0]["results"]["final_loss"]
    np_runs = [peer("w1_numpy.py") for _ in range(reps)]
    np_loop = min(j["wall_s"] for j, _ in np_runs)
    np_proc = min(w for _, w in np_runs)
    res = {"thermolab": {"loop_s": loop, "us_per_epoch": 1e6 * loop / 2000, "process_s": proc, "final_mse": mse},
           "numpy": {"loop_s": np_loop, "process_s": np_proc, "final_mse": np_runs[0][0]["final_mse"]}}
    try:
        t_runs = [peer("w1_torch.py", "--dtype", "float64") for _ in range(2 if QUICK else 3)]
        res["torch"] = {"loop_s": min(j["wall_s"] for j, _ in t_runs),
                        "process_s": min(w for _, w in t_runs),
                        "final_mse": t_runs[0][0]["final_mse"]}
    except (subprocess.CalledProcessError, FileNotFoundError) as e:
        res["torch"] = {"error": str(e)}
    res["ratios"] = {"loop_vs_numpy": np_loop / loop, "process_vs_numpy": np_proc / proc}
    if "loop_s" in res["torch"]:
        res["ratios"]["loop_vs_torch"] = res["torch"]["loop_s"] / loop
        res["ratios"]["process_vs_torch"] = res["torch"]["process_s"] / proc
    return res


W2_PROBLEMS = [("quadratic2d", "quadratic", 2), ("rastrigin10", "rastrigin", 10),
               ("ackley10", "ackley", 10), ("rosenbrock10", "rosenbrock", 10)]


def start_points(tmp, seeds):
    code = ("import json, sys; sys.path.insert(0, %r); import _w2\n"
            "print(json.dumps({n: [_w2.start_point(n, s).tolist() for s in range(%d)] for n in _w2.PROBLEMS}))"
            % (PEERS, seeds))
    return json.loads(subprocess.run([PY, "-c", code], cwd=tmp, check=True, capture_output=True,
                                     text=True, env=ENV).stdout)


def w2(tmp):
    seeds = 3 if QUICK else 20
    starts = start_points(tmp, seeds)
    tol = {"quadratic2d": 1e-2, "rastrigin10": 1e-2, "ackley10": 1e-2, "rosenbrock10": 1e-1}
    res = {"thermolab": {}, "thermolab_blog": {}}
    for key, name, dim in W2_PROBLEMS:
        for method, bucket in (("adaptive", "thermolab"), ("blog", "thermolab_blog")):
            best, cost, wall = [], [], []
            for s in range(seeds):
                x0 = ",".join(repr(v) for v in starts[key][s])
                r, _ = ours(["anneal", "--function", name, "--dim", str(dim), "--method", method,
                             f"--x0={x0}", "--seed", str(s), "--out", f"w2-{key}-{method}-{s}"], tmp)
                best.append(r["results"]["best_energy"])
                ev = r["results"]["run"]["evaluations"]
                cost.append(ev["energy"] + 2 * ev["gradient"])
                wall.append(r["timings"]["solve_seconds"])
            res[bucket][key] = {"success_rate": sum(b < tol[key] for b in best) / seeds,
                                "median_evaluations": statistics.median(cost),
                                "median_wall_s": statistics.median(wall),
                                "max_evaluations": max(cost)}
    args = ["--quick"] if QUICK else []
    res["scipy_dual_annealing"] = peer("w2_scipy_dual_annealing.py", *args)[0]["problems"]
    res["numpy_blog"] = peer("w2_seed_sa.py", *args)[0]["problems"]
    ratios = {}
    for key, _, _ in W2_PROBLEMS:
        sp, us = res["scipy_dual_annealing"][key], res["thermolab"][key]
        nb, ub = res["numpy_blog"][key], res["thermolab_blog"][key]
        ratios[key] = {
            "evaluations_vs_scipy": us["median_evaluations"] / sp["median_nfev"],
            "wall_speedup_vs_scipy": sp["median_wall_s"] / us["median_wall_s"],
            "blog_per_iteration_speedup_vs_numpy": nb["median_wall_s"] / ub["median_wall_s"],
        }
    res["ratios"] = ratios
    return res


def main():
    if not os.path.exists(PY):
        sys.exit(f"peer Python not found at {PY}: create the venv (see this file's docstring) or set PEER_PYTHON")
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "thermolab-cli"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = {"quick": QUICK, "w1": w1(tmp), "w2": w2(tmp)}
    r1 = out["w1"]
    print("W1  seed network, 2000 Adam epochs (1 thread)")
    print(f"    thermolab loop {r1['thermolab']['us_per_epoch']:.2f} µs/epoch, process {r1['thermolab']['process_s']*1e3:.1f} ms, MSE {r1['thermolab']['final_mse']:.10f}")
    print(f"    numpy     loop {r1['numpy']['loop_s']*1e6/2000:.2f} µs/epoch, process {r1['numpy']['process_s']*1e3:.1f} ms, MSE {r1['numpy']['final_mse']:.10f}")
    if "loop_s" in r1["torch"]:
        print(f"    torch     loop {r1['torch']['loop_s']*1e6/2000:.2f} µs/epoch, process {r1['torch']['process_s']*1e3:.1f} ms, MSE {r1['torch']['final_mse']:.10f}")
    for k, v in r1["ratios"].items():
        print(f"    {k:<20} {v:8.1f}x")
    print("W2  annealing, 20 seeds (success / median evaluations / median wall)")
    for key, _, _ in W2_PROBLEMS:
        us, sp = out["w2"]["thermolab"][key], out["w2"]["scipy_dual_annealing"][key]
        ra = out["w2"]["ratios"][key]
        print(f"    {key:<13} thermolab {us['success_rate']:.2f} {us['median_evaluations']:>8.0f} {us['median_wall_s']*1e3:8.3f} ms | "
              f"scipy {sp['success_rate']:.2f} {sp['median_nfev']:>8.0f} {sp['median_wall_s']*1e3:8.1f} ms | "
              f"evals {ra['evaluations_vs_scipy']:.2f}x, wall {ra['wall_speedup_vs_scipy']:.0f}x faster; "
              f"blog/iter {ra['blog_per_iteration_speedup_vs_numpy']:.0f}x faster than numpy")
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    path = os.path.join(ROOT, "bench", "results", "w1_w2%s.json" % ("-quick" if QUICK else ""))
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
