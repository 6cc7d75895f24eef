"""Distributed runs: identical draws whatever the executor and its number of workers (one
process, a process pool, a Ray cluster), models that travel by their recipe, a worker killed
mid-run, and temperature scans split over tasks."""
import os
import pickle
import signal
import threading
import time

import numpy as np
import pytest

import thermolab
from thermolab import distributed as td
from conftest import same_tempering

SETTINGS = dict(warmup=150, draws=150, seed=7)


def slow_logp(x):
    # About 50 µs per call, so that a run lasts long enough to be interrupted.
    s = 0.0
    for k in range(300):
        s += k * 1e-12
    return -0.5 * float(x @ x) + 0.0 * s, -x


def build_slow():
    return thermolab.from_logp(slow_logp, dim=3)


@pytest.fixture(scope="module")
def model():
    return thermolab.builtin("gauss", dim=5, rho=0.5)


@pytest.fixture(scope="module")
def reference(model):
    return thermolab.sample(model, chains=16, progress=False, **SETTINGS)


def test_models_travel_by_their_recipe(model):
    again = pickle.loads(pickle.dumps(model))
    x = np.linspace(-1, 1, 5)
    assert again.energy_and_grad(x)[0] == model.energy_and_grad(x)[0]
    X = np.random.default_rng(0).normal(size=(20, 2))
    lin = thermolab.linear_regression(X, X @ [1.0, 2.0], noise_sd=0.5)
    assert pickle.loads(pickle.dumps(lin)).exact()["log_z"] == lin.exact()["log_z"]
    fn = pickle.loads(pickle.dumps(build_slow()))
    assert fn.energy_and_grad(x[:3])[0] == pytest.approx(0.5 * float(x[:3] @ x[:3]))


def test_a_compiled_model_refuses_to_travel(clib):
    from conftest import fn_pointer

    m = thermolab.from_cfunc(fn_pointer(clib, "gauss_logp"), dim=3)
    with pytest.raises(TypeError, match="cannot be sent to another process"):
        pickle.dumps(m)


@pytest.mark.parametrize("per_task", [1, 4, 16])
def test_serial_tasks_draw_what_one_run_draws(model, reference, per_task):
    r = td.sample(model, td.SerialExecutor(), chains=16, chains_per_task=per_task, progress=False,
                  **SETTINGS)
    assert np.array_equal(r.draws, reference.draws)
    assert np.array_equal(r.stats["step_size"], reference.stats["step_size"])


@pytest.mark.parametrize("workers", [1, 2])
def test_a_process_pool_draws_what_one_run_draws(model, reference, workers):
    r = td.sample(model, td.LocalExecutor(workers), chains=16, chains_per_task=4, progress=False,
                  **SETTINGS)
    assert np.array_equal(r.draws, reference.draws)


def test_a_log_density_must_be_made_a_model_first():
    with pytest.raises(TypeError, match="from_logp"):
        td.sample(slow_logp, td.SerialExecutor(), chains=2, progress=False, **SETTINGS)
    with pytest.raises(ValueError, match="dim"):
        td.sample(build_slow, td.SerialExecutor(), chains=2, dim=3, progress=False, **SETTINGS)
    with pytest.raises(TypeError, match="bogus"):
        td.sample(build_slow, td.SerialExecutor(), chains=2, bogus=1, progress=False)


def test_a_builder_function_makes_the_model_in_the_worker():
    ref = thermolab.sample(build_slow(), chains=4, progress=False, **SETTINGS)
    r = td.sample(build_slow, td.LocalExecutor(2), chains=4, chains_per_task=2, progress=False,
                  **SETTINGS)
    assert np.array_equal(r.draws, ref.draws)


def test_a_split_temperature_scan_measures_what_one_scan_does():
    kw = dict(lattice=(2, 8), sweeps=1000, algorithm="wolff", seed=3)
    temps = [1.8, 2.2, 2.6, 3.0]
    whole = thermolab.ising(temps, progress=False, **kw).table()
    split = td.ising(temps, td.LocalExecutor(2), temperatures_per_task=3, progress=False,
                     **kw).table()
    assert whole.equals(split)


def test_rbm_ais_split_over_workers_gives_the_one_process_estimate():
    rng = np.random.default_rng(4)
    V = (rng.random((300, 20)) < 0.3).astype(float)
    r = thermolab.RBM(n_components=8, n_iter=3, random_state=2, progress=False).fit(V)
    one = r.log_z("ais", chains=150, temperatures=300, seed=3)
    split = td.rbm_log_z(r, td.LocalExecutor(2), chains=150, chains_per_task=50,
                         temperatures=300, seed=3, progress=False)
    assert split == one
    with pytest.raises(ValueError, match="multiple of 50"):
        td.rbm_log_z(r, td.SerialExecutor(), chains_per_task=30, progress=False)


def seed_task(seed):
    r = thermolab.sample(thermolab.builtin("gauss", dim=2, rho=0.0), chains=1, warmup=100,
                         draws=100, seed=seed, threads=1, progress=False)
    return float(r.draws.mean())


def test_map_over_seeds_keeps_their_order():
    seeds = list(range(6))
    assert td.map(seed_task, seeds, td.LocalExecutor(2), progress=False) == [seed_task(s) for s in seeds]


# Ray: a local cluster of two CPUs, started once for these tests (skipped without Ray).


@pytest.fixture(scope="module")
def cluster():
    ray = pytest.importorskip("ray")
    # The workers import this module (for build_slow) and the package as this process does.
    path = os.pathsep.join([os.path.dirname(os.path.abspath(__file__))]
                           + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    try:
        ex = td.RayExecutor(num_cpus=2, runtime_env={"env_vars": {"PYTHONPATH": path}})
    except Exception as e:  # a machine where Ray cannot start a local cluster at all
        pytest.skip(f"no local Ray cluster here: {type(e).__name__}: {e}")
    yield ex
    ray.shutdown()


def test_ray_draws_what_one_run_draws(model, reference, cluster):
    for per_task in (1, 8):
        r = td.sample(model, cluster, chains=16, chains_per_task=per_task, progress=False,
                      **SETTINGS)
        assert np.array_equal(r.draws, reference.draws)


def _ray_workers(tag=b"ray::_sample_task"):
    """PIDs of Ray worker processes running a sampling task now, or holding an actor (Ray
    names them by task or actor class)."""
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as fh:
                    if tag in fh.read():
                        pids.append(int(d))
            except OSError:
                pass
    return pids


def test_a_killed_ray_worker_loses_nothing(cluster):
    kw = dict(warmup=400, draws=400, seed=11)
    ref = thermolab.sample(build_slow(), chains=8, progress=False, **kw)
    result, killed = {}, []

    def run():
        result["r"] = td.sample(build_slow, cluster, chains=8, chains_per_task=1, progress=False, **kw)

    t = threading.Thread(target=run)
    t.start()
    deadline = time.time() + 60
    while not killed and time.time() < deadline and t.is_alive():
        pids = _ray_workers()
        if pids:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])
        time.sleep(0.05)
    t.join(timeout=120)
    assert killed, "no sampling worker was seen to kill"
    assert np.array_equal(result["r"].draws, ref.draws)


CANCEL = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.path.insert(0, {here!r})
import thermolab
from thermolab import distributed as td
from test_distributed import build_slow
ex = {executor}
print("start", flush=True)
t0 = time.time()
try:
    td.sample(build_slow, ex, chains=8, warmup=20000, draws=20000, progress=False)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("cancelled after", round(time.time() - t0, 1), flush=True)
"""


@pytest.mark.parametrize("executor", ["td.LocalExecutor(2)",
                                      "td.RayExecutor(num_cpus=2, runtime_env={'env_vars': {'PYTHONPATH': %r}})"])
def test_ctrl_c_cancels_a_distributed_run(executor, request):
    import subprocess
    import sys

    if "Ray" in executor:
        request.getfixturevalue("cluster")  # skips where Ray cannot start a cluster

    here = os.path.dirname(os.path.abspath(__file__))
    path = os.pathsep.join([here] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    if "%r" in executor:
        executor = executor % path
    p = subprocess.Popen([sys.executable, "-c", CANCEL.format(here=here, executor=executor)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert p.stdout.readline().strip() == b"start"
        time.sleep(3.0)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    finally:
        p.kill()
    out = out.decode()
    assert "cancelled after" in out and "finished" not in out, (out, err.decode()[-2000:])


def test_ray_rbm_ais_gives_the_one_process_estimate(cluster):
    rng = np.random.default_rng(5)
    V = (rng.random((200, 16)) < 0.4).astype(float)
    r = thermolab.RBM(n_components=6, n_iter=2, random_state=1, progress=False).fit(V)
    one = r.log_z("ais", chains=100, temperatures=200, seed=1)
    assert td.rbm_log_z(r, cluster, chains=100, chains_per_task=50, temperatures=200, seed=1,
                        progress=False) == one


TEMPER = dict(replicas=32, chains=2, warmup=250, rounds=200, seed=4, progress=False)


@pytest.fixture(scope="module")
def mixture():
    return thermolab.builtin("mixture", dim=3, separation=6.0)


@pytest.fixture(scope="module")
def tempered(mixture):
    return thermolab.temper(mixture, **TEMPER)


@pytest.mark.parametrize("actors", [1, 2, 4])
def test_distributed_tempering_in_one_process_is_the_engine_s_run(mixture, tempered, actors):
    same_tempering(td.temper(mixture, td.SerialExecutor(), actors=actors, **TEMPER), tempered)


def test_distributed_tempering_on_processes_is_the_engine_s_run(mixture, tempered):
    same_tempering(td.temper(mixture, td.LocalExecutor(2), actors=2, **TEMPER), tempered)


@pytest.mark.parametrize("actors", [1, 2, 4])
def test_distributed_tempering_on_ray_actors_is_the_engine_s_run(mixture, tempered, cluster,
                                                                 actors):
    r = td.temper(mixture, cluster, actors=actors, cpus_per_actor=0.5, **TEMPER)
    same_tempering(r, tempered)
    assert r.traffic["actors"] == actors


def test_tempering_traffic_per_round_does_not_grow_with_the_dimension():
    small, big = (td.temper(thermolab.builtin("gauss", dim=d, rho=0.5), td.SerialExecutor(),
                            actors=2, replicas=8, chains=1, warmup=20, rounds=20, seed=1,
                            progress=False).traffic for d in (2, 200))
    assert small["bytes_sent_per_round"] == big["bytes_sent_per_round"]
    assert small["bytes_received_per_round"] == big["bytes_received_per_round"]
    # A few scalars per replica: under 200 bytes each way.
    assert small["bytes_sent_per_round"] < 8 * 200


def test_distributed_tempering_refuses_impossible_layouts(mixture, cluster):
    with pytest.raises(ValueError, match="actors"):
        td.temper(mixture, td.SerialExecutor(), actors=9, replicas=8, progress=False)
    with pytest.raises(ValueError, match="would wait for ever"):
        td.temper(mixture, cluster, actors=3, cpus_per_actor=1, replicas=8, progress=False)
    with pytest.raises(TypeError, match="not actors"):
        td.DaskExecutor(None).actors(object, [()])


def test_a_killed_ray_actor_is_replaced_and_tempering_changes_nothing(cluster, tmp_path):
    kw = dict(replicas=6, chains=1, warmup=300, rounds=300, seed=9, progress=False)
    ref = thermolab.temper(build_slow(), **kw)
    path = str(tmp_path / "run.tdt")
    out, killed = {}, []

    def run():
        out["r"] = td.temper(build_slow, cluster, actors=2, cpus_per_actor=0.5, checkpoint=path,
                             checkpoint_every=100, **kw)

    t = threading.Thread(target=run)
    t.start()
    deadline = time.time() + 120
    while not os.path.exists(path) and time.time() < deadline and t.is_alive():
        time.sleep(0.02)
    pids = _ray_workers(b"ray::_TemperActor")
    if pids and t.is_alive():
        os.kill(pids[0], signal.SIGKILL)
        killed.append(pids[0])
    t.join(timeout=180)
    assert killed, "no tempering actor was seen to kill"
    assert out["r"].restarts == 1
    assert np.array_equal(out["r"].draws, ref.draws)
    assert out["r"].round_trips == ref.round_trips
