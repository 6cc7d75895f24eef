"""Distributed tempering's cost per round: wall time per round and bytes each way per round
on Ray actors (1, 2, 4 on a two-CPU local cluster), for a 3- and a 100-parameter model, with a
check that every run equals ``thermolab.temper`` bit for bit; then the cost of the saves that
make a run survive lost actors and a lost driver (every 100 rounds, to a checkpoint file).

    PYTHONPATH=$PWD/python .venv-test/bin/python bench/distributed_temper.py
"""
import os
import tempfile
import time

import numpy as np
import ray

import thermolab as tl
from thermolab import distributed as td


def main():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    kw = dict(replicas=32, chains=1, warmup=200, rounds=800, seed=4, progress=False)
    print("dim actors  ms/round  bytes sent/round  bytes received/round  identical")
    for dim in (3, 100):
        m = tl.builtin("gauss", dim=dim, rho=0.5)
        one = tl.temper(m, **kw)
        for actors in (1, 2, 4):
            ex = td.RayExecutor()
            t = time.perf_counter()
            r = td.temper(m, ex, actors=actors, cpus_per_actor=2 / max(actors, 2),
                          checkpoint_every=0, **kw)
            dt = time.perf_counter() - t
            same = np.array_equal(r.draws, one.draws)
            tr = r.traffic
            print(f"{dim:3d} {actors:6d} {1e3 * dt / tr['rounds']:9.2f} "
                  f"{tr['bytes_sent_per_round']:17.0f} {tr['bytes_received_per_round']:21.0f}  "
                  f"{same}")
    print()
    print("dim  ms/round no saves  ms/round saves  ms per save  checkpoint bytes  identical")
    for dim in (3, 100):
        m = tl.builtin("gauss", dim=dim, rho=0.5)
        one = tl.temper(m, **kw)
        times = {}
        for every in (0, 100, 0, 100):
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "run.tdt")
                t = time.perf_counter()
                r = td.temper(m, td.RayExecutor(), actors=2, cpus_per_actor=1,
                              checkpoint=path if every else None, checkpoint_every=every, **kw)
                times.setdefault(every, []).append(time.perf_counter() - t)
                if every:
                    size = os.path.getsize(path)
                    same = np.array_equal(r.draws, one.draws)
        rounds = kw["warmup"] + kw["rounds"]
        plain, saved = min(times[0]), min(times[100])
        saves = rounds // 100 - 1
        print(f"{dim:3d} {1e3 * plain / rounds:17.2f} {1e3 * saved / rounds:15.2f} "
              f"{1e3 * (saved - plain) / saves:12.2f} {size:17d}  {same}")


if __name__ == "__main__":
    main()
