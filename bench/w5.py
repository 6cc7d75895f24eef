"""W5 (NUTS) side by side: thermolab against NumPyro (and BlackJAX with --blackjax) on the
reference targets, 4 chains x 1000 warm-up x 1000 draws, one thread each. Reports bulk ESS per
second (warm-up included, compile time excluded for the JAX peers and reported apart), ESS per
gradient evaluation, R-hat, divergences, and the time to a first draw from the CLI.

    .venv-peers/bin/pip install numpy scipy arviz jax numpyro blackjax
    PEER_PYTHON=.venv-peers/bin/python python3 bench/w5.py      # --quick for a smoke run

Each library runs every target with seeds 0..K-1 (`--seeds K`, default 3): on the two targets
where every sampler fails to mix (the centred funnel, the multimodal network posterior) the
minimum ESS of one run swings by a factor of 2-3 with the seed, so ratios are of medians over
seeds, and every run is kept in the JSON.
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
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
           XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
TARGETS = {  # peer name -> thermolab arguments
    "gauss100": ["--target", "gauss", "--dim", "100", "--rho", "0.9"],
    "funnel_nc": ["--target", "funnel-nc", "--dim", "10"],
    "funnel_c": ["--target", "funnel", "--dim", "10"],
    "logreg": ["--target", "logreg"],
    "mlp": ["--target", "bnn", "--arch", "1-10-1:tanh", "--noise-sd", "0.1", "--prior-sd", "1", "--data", "w1.csv"],
}


def peer(script, *args):
    p = subprocess.run([PY, os.path.join(PEERS, script), *args], cwd=PEERS, env=ENV, capture_output=True, text=True)
    if p.returncode != 0:
        return {"error": p.stderr[-800:]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def ours(tmp, name, args, chains, warm, draws, seed):
    t = time.perf_counter()
    subprocess.run([BIN, "sample", *args, "--chains", str(chains), "--warmup", str(warm), "--draws", str(draws),
                    "--threads", "1", "--out", name, "--no-plots", "--format", "json", "--seed", str(seed)],
                   cwd=tmp, env=ENV, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t
    with open(os.path.join(tmp, name, "run.json")) as fh:
        r = json.load(fh)
    res = r["results"]
    secs = r["timings"]["warmup_seconds"] + r["timings"]["sampling_seconds"]
    grads = res["gradient_evaluations"]["warmup"] + res["gradient_evaluations"]["sampling"]
    means = {p["name"]: (p["mean"], p["mcse_mean"]) for p in res["parameters"]}
    return {"min_ess_bulk": res["min_ess_bulk"], "max_rhat": res["max_r_hat"], "divergences": res["divergences"],
            "sampling_s": secs, "process_s": wall, "grads_total": grads,
            "ess_per_s": res["min_ess_bulk"] / secs, "ess_per_grad": res["min_ess_bulk"] / grads,
            "us_per_grad": 1e6 * secs / grads, "means": means}


PREDICTIVE = """
import glob, json, sys
import numpy as np
sys.path.insert(0, %r)
import _w5_targets as T
chains = [np.genfromtxt(f, delimiter=",", names=True) for f in sorted(glob.glob(sys.argv[1] + "/draws/chain_*.csv"))]
th = np.stack([np.stack([c["theta%%d" %% k] for k in range(31)], axis=-1) for c in chains])  # (c, s, 31)
h = 10
draws = {"W1": th[..., None, 0:h], "b1": th[..., h:2 * h], "W2": th[..., 2 * h:3 * h, None], "b2": th[..., 3 * h:]}
print(json.dumps(T.mlp_predictive_metrics(draws)))
"""


def predictive(tmp, name):
    """Function-space metrics of the network posterior from a run's draws (peer Python)."""
    p = subprocess.run([PY, "-c", PREDICTIVE % PEERS, os.path.join(tmp, name)], env=ENV, capture_output=True, text=True)
    if p.returncode != 0:
        return {"error": p.stderr[-800:]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def fmt_list(values):
    return ", ".join("%.1f" % v for v in values)


def median_run(runs, key):
    """The run with the median `key` (the lower middle one for an even count)."""
    ranked = sorted(runs, key=lambda r: r[key])
    return ranked[(len(ranked) - 1) // 2]


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "thermolab-cli"], cwd=ROOT, check=True)
    chains, warm, draws = (2, 200, 200) if QUICK else (4, 1000, 1000)
    seeds = int(sys.argv[sys.argv.index("--seeds") + 1]) if "--seeds" in sys.argv else (1 if QUICK else 3)
    names = list(TARGETS)
    out = {"quick": QUICK, "settings": {"chains": chains, "warmup": warm, "draws": draws, "seeds": list(range(seeds))}}
    with tempfile.TemporaryDirectory() as tmp:
        # The W1 data (numpy's noise) for the Bayesian network, as the peers use it.
        code = ("import sys, numpy as np; sys.path.insert(0, %r); import _common as C\n"
                "x, y = C.w1_data(np)\n"
                "open('w1.csv','w').write('x,y\\n' + ''.join(f'{a!r},{b!r}\\n' for a, b in zip(x.tolist(), y.tolist())))\n" % PEERS)
        subprocess.run([PY, "-c", code], cwd=tmp, check=True, env=ENV)
        out["thermolab_runs"] = {t: [ours(tmp, f"{t}-{s}", TARGETS[t], chains, warm, draws, s) for s in range(seeds)]
                                 for t in names}
        # Time to a first draw: the whole CLI process for one draw without warm-up.
        ttfd = []
        for t in names:
            t0 = time.perf_counter()
            subprocess.run([BIN, "sample", *TARGETS[t], "--chains", "1", "--warmup", "0", "--draws", "1",
                            "--out", f"first-{t}", "--no-plots", "--format", "json"], cwd=tmp, env=ENV, check=True, capture_output=True)
            ttfd.append((t, 1e3 * (time.perf_counter() - t0)))
        out["time_to_first_draw_ms"] = dict(ttfd)
        # The network posterior in function space (identifiable, unlike its weights): the
        # peers' own predictive metrics (`_w5_targets.mlp_predictive_metrics`) on our draws.
        for s, r in enumerate(out["thermolab_runs"]["mlp"]):
            r["predictive"] = predictive(tmp, f"mlp-{s}")
        # The single-precision logistic kernel against the f64 code: posterior means of two
        # independent runs (different seeds) within a few combined MCSEs.
        f64_run = ours(tmp, "logreg-f64", TARGETS["logreg"] + ["--f64"], chains, warm, draws, 100)
        f32_means = out["thermolab_runs"]["logreg"][0]["means"]
        z = [abs(m - f64_run["means"][k][0]) / (se * se + f64_run["means"][k][1] ** 2) ** 0.5
             for k, (m, se) in f32_means.items()]
        out["logreg_f32_vs_f64"] = {"max_abs_z": max(z), "f64_us_per_grad": f64_run["us_per_grad"],
                                    "f64_ess_per_s": f64_run["ess_per_s"]}
    quick = ["--quick"] if QUICK else []
    out["numpyro_runs"] = [peer("w5_numpyro.py", "--targets", ",".join(names), "--seed", str(s), *quick)
                           for s in range(seeds)]
    if "--blackjax" in sys.argv:
        out["blackjax_runs"] = [peer("w5_blackjax.py", "--targets", ",".join(names), "--seed", str(s), *quick)
                                for s in range(seeds)]
    # Per target: the median-ESS/s run of each library, and every run's figures.
    out["thermolab"] = {t: median_run(out["thermolab_runs"][t], "ess_per_s") for t in names}
    ratios = {}
    for t in names:
        us_runs = out["thermolab_runs"][t]
        row = {}
        for peer_name in ("numpyro", "blackjax"):
            runs = [r.get("targets", {}).get(t) for r in out.get(peer_name + "_runs", [])]
            runs = [r for r in runs if r and r.get("ess_per_s_sampling")]
            if not runs:
                continue
            p = median_run(runs, "ess_per_s_sampling")
            p_grad = median_run(runs, "ess_per_grad_total")
            us_grad = median_run(us_runs, "ess_per_grad")
            p_cpu = median_run(runs, "ess_per_cpu_s_sampling")
            row[peer_name] = {
                "ess_per_s_ratio": out["thermolab"][t]["ess_per_s"] / p["ess_per_s_sampling"],
                # One thread each: XLA keeps a second core partly busy despite the flags (CPU /
                # wall 1.0-1.3 measured), so the peer's CPU seconds are its one-thread figure.
                "ess_per_cpu_s_ratio": out["thermolab"][t]["ess_per_s"] / p_cpu["ess_per_cpu_s_sampling"],
                "peer_ess_per_cpu_s": p_cpu["ess_per_cpu_s_sampling"],
                "peer_cpu_over_wall_runs": [r["cpu_sampling_s"] / r["sampling_s"] for r in runs],
                "ess_per_grad_ratio": us_grad["ess_per_grad"] / p_grad["ess_per_grad_total"],
                "peer_min_ess": p["min_ess_bulk"], "peer_max_rhat": max(r["max_rhat"] for r in runs),
                "peer_compile_s": p.get("compile_s"), "peer_ess_per_s": p.get("ess_per_s_sampling"),
                "peer_us_per_grad": p.get("us_per_grad_wall"),
                "peer_ess_per_s_runs": [r["ess_per_s_sampling"] for r in runs],
                "peer_rhat_runs": [r["max_rhat"] for r in runs],
            }
        ratios[t] = row
    # Function-space ESS per second of the network posterior (f at the held-out grid).
    fs = {}
    for lib, runs in [("thermolab", out["thermolab_runs"]["mlp"])] + [
            (name, [r.get("targets", {}).get("mlp") for r in out.get(name + "_runs", [])]) for name in ("numpyro", "blackjax")]:
        vals = []
        for r in runs:
            pred = (r or {}).get("predictive") or (r or {}).get("checks") or {}
            secs = (r or {}).get("sampling_s")
            cpu = (r or {}).get("cpu_sampling_s", secs)  # ours: one thread, wall time
            if "f_grid_min_ess_bulk" in pred and secs:
                vals.append({"f_grid_min_ess_bulk": pred["f_grid_min_ess_bulk"], "f_grid_max_rhat": pred["f_grid_max_rhat"],
                             "pred_rmse": pred["pred_rmse_vs_sin_heldout"], "ess_per_s": pred["f_grid_min_ess_bulk"] / secs,
                             "ess_per_cpu_s": pred["f_grid_min_ess_bulk"] / cpu})
        if vals:
            fs[lib] = {"runs": vals, "median_ess_per_s": statistics.median(v["ess_per_s"] for v in vals),
                       "median_ess_per_cpu_s": statistics.median(v["ess_per_cpu_s"] for v in vals)}
    for name in ("numpyro", "blackjax"):
        if "thermolab" in fs and name in fs:
            fs[name]["ratio"] = fs["thermolab"]["median_ess_per_s"] / fs[name]["median_ess_per_s"]
            fs[name]["cpu_ratio"] = fs["thermolab"]["median_ess_per_cpu_s"] / fs[name]["median_ess_per_cpu_s"]
    out["mlp_function_space"] = fs
    out["ratios"] = ratios
    # Known means: gauss and funnels are centred at 0 (worst over seeds).
    checks = {}
    for t in ("gauss100", "funnel_nc", "funnel_c"):
        worst = max(abs(m) / se for r in out["thermolab_runs"][t] for m, se in r["means"].values())
        checks[t] = {"max_abs_mean_over_mcse": worst}
    out["mean_checks"] = checks
    for t in names:
        us = out["thermolab"][t]
        runs = out["thermolab_runs"][t]
        line = (f"{t:<10} thermolab (median of {len(runs)}): ESS {us['min_ess_bulk']:7.0f}  "
                f"R-hat {max(r['max_rhat'] for r in runs):.3f}  div {us['divergences']:4d}  "
                f"{us['ess_per_s']:9.1f} ESS/s [{fmt_list(r['ess_per_s'] for r in runs)}]  "
                f"{us['ess_per_grad']:.4f} ESS/grad  {us['us_per_grad']:.2f} us/grad")
        np_ = ratios[t].get("numpyro")
        if np_ and np_["ess_per_s_ratio"] is not None:
            line += (f" | numpyro {np_['peer_ess_per_s']:9.1f} ESS/s [{fmt_list(np_['peer_ess_per_s_runs'])}]"
                     f" (R-hat up to {np_['peer_max_rhat']:.3f}, compile {np_['peer_compile_s']:.1f} s)"
                     f" -> {np_['ess_per_s_ratio']:.2f}x ESS/s ({np_['ess_per_cpu_s_ratio']:.2f}x per peer CPU-second),"
                     f" {np_['ess_per_grad_ratio']:.2f}x ESS/grad")
        print(line)
    print("time to first draw (whole CLI process, ms):", {k: round(v, 1) for k, v in out["time_to_first_draw_ms"].items()})
    print("known-mean checks:", {k: round(v["max_abs_mean_over_mcse"], 2) for k, v in checks.items()})
    for lib, v in fs.items():
        print(f"mlp function space, {lib}: f(x_grid) min bulk-ESS/s {fmt_list(r['ess_per_s'] for r in v['runs'])}, "
              f"R-hat up to {max(r['f_grid_max_rhat'] for r in v['runs']):.3f}, held-out RMSE "
              f"{fmt_list(1e3 * r['pred_rmse'] for r in v['runs'])} e-3" + (f" -> {v['ratio']:.2f}x ({v['cpu_ratio']:.2f}x per peer CPU-second)" if "ratio" in v else ""))
    c = out["logreg_f32_vs_f64"]
    print(f"logreg f32 kernel vs f64 code: max |mean difference| / combined MCSE {c['max_abs_z']:.2f} over 31 "
          f"parameters; f64 code {c['f64_us_per_grad']:.2f} us/grad")
    for runs in out["thermolab_runs"].values():
        for r in runs:
            r.pop("means", None)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    path = os.path.join(ROOT, "bench", "results", "w5%s.json" % ("-quick" if QUICK else ""))
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
