"""thermolab.distributed side by side, in one run (issue 16's measurements):

1. 16 chains of W5 logistic regression (the built-in target, 1000 warm-up × 1000 draws), one
   chain per task and eight, on a Ray cluster of 1 CPU and of 2 CPUs (one CPU per task): wall
   time (medians of five), and the draws checked bit for bit against the one-process run.
2. Ray's per-task overhead: the round trip of an empty task (median of 200), and of a task
   that returns a sampling result, against the same work done in this process.
3. What travels: pickled bytes of a sampling task (the model travels as its recipe) and of
   its result.

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install numpy pandas ray
    /tmp/peers/bin/pip install .
    /tmp/peers/bin/python bench/distributed.py [--quick]

Writes bench/results/distributed.json. Each configuration gets a fresh local cluster.
"""
import json
import os
import pickle
import statistics
import sys
import time

import numpy as np

import thermolab
from thermolab import distributed as td

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = "--quick" in sys.argv
WARM, DRAWS = (200, 200) if QUICK else (1000, 1000)
CHAINS = 16


def empty(x):
    return x


def main():
    import ray

    model = thermolab.builtin("logreg")
    kw = dict(warmup=WARM, draws=DRAWS, seed=5)
    out = {"quick": QUICK, "chains": CHAINS, "warmup": WARM, "draws": DRAWS,
           "load_start": os.getloadavg()[0], "cpus": os.cpu_count()}
    t0 = time.perf_counter()
    ref = thermolab.sample(model, chains=CHAINS, threads=1, progress=False, **kw)
    out["one_process_one_thread_s"] = time.perf_counter() - t0
    task = (model, dict(kw, chains=1, first_chain=0, threads=1))
    out["task_bytes"] = len(pickle.dumps(task))
    one = td._sample_task(task)
    out["result_bytes_per_chain"] = len(pickle.dumps(one))
    for cpus in (1, 2):
        ex = td.RayExecutor(num_cpus=cpus)
        td.sample(model, ex, chains=2, progress=False, warmup=20, draws=20, seed=0)  # warm the workers
        for per_task in (1, 8):
            walls = []
            for _ in range(1 if QUICK else 5):
                t0 = time.perf_counter()
                r = td.sample(model, ex, chains=CHAINS, chains_per_task=per_task, progress=False, **kw)
                walls.append(time.perf_counter() - t0)
                assert np.array_equal(r.draws, ref.draws), "Ray draws differ from the one-process run"
            out[f"ray_{cpus}_cpu_{per_task}_per_task_wall_s"] = statistics.median(walls)
            out[f"ray_{cpus}_cpu_{per_task}_per_task_runs"] = walls
        if cpus == 2:
            remote = ray.remote(empty).options(num_cpus=1)
            ray.get([remote.remote(0) for _ in range(20)])
            rt = []
            for _ in range(200):
                t0 = time.perf_counter()
                ray.get(remote.remote(0))
                rt.append(time.perf_counter() - t0)
            out["empty_task_round_trip_ms"] = 1e3 * statistics.median(rt)
            # A short sampling task through Ray against the same call here.
            small = (model, dict(kw, chains=1, first_chain=0, threads=1, warmup=50, draws=50))
            st = ray.remote(td._sample_task).options(num_cpus=1)
            ray.get(st.remote(small))
            a, b = [], []
            for _ in range(20):
                t0 = time.perf_counter()
                ray.get(st.remote(small))
                a.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                td._sample_task(small)
                b.append(time.perf_counter() - t0)
            out["small_task_ray_ms"] = 1e3 * statistics.median(a)
            out["small_task_local_ms"] = 1e3 * statistics.median(b)
            out["small_task_overhead_ms"] = out["small_task_ray_ms"] - out["small_task_local_ms"]
        ray.shutdown()
    for per_task in (1, 8):
        out[f"speedup_2_vs_1_{per_task}_per_task"] = (out[f"ray_1_cpu_{per_task}_per_task_wall_s"]
                                                      / out[f"ray_2_cpu_{per_task}_per_task_wall_s"])
    out["identical_to_one_process"] = True
    out["load_end"] = os.getloadavg()[0]
    path = os.path.join(ROOT, "bench", "results", "distributed-quick.json" if QUICK else "distributed.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
    print(json.dumps({k: v for k, v in out.items() if not isinstance(v, list)}, indent=1))
    print("wrote", path)


if __name__ == "__main__":
    main()
