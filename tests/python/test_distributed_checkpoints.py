"""Faults in distributed tempering: saves between rounds change nothing; a lost actor is
replaced and the run goes back to its last save; a dead driver's checkpoint is continued by the
same call; a lost cluster head is an error naming the checkpoint; foreign or damaged
checkpoints are refused. Every recovered run is compared bit for bit with the undisturbed one."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import thermolab
from thermolab import distributed as td
from thermolab._actors import ActorLost, InProcessActors
from conftest import same_tempering as same

RUN = dict(replicas=8, chains=2, warmup=120, rounds=100, seed=3, progress=False)


@pytest.fixture(scope="module")
def mixture():
    return thermolab.builtin("mixture", dim=2, separation=5.0)


@pytest.fixture(scope="module")
def undisturbed(mixture):
    return thermolab.temper(mixture, **RUN)


class Flaky:
    """Actors in this process whose group dies at the calls numbered in ``die_at`` (counted
    over the whole run); starting actors after ``starts`` starts fails as a lost cluster
    would."""

    def __init__(self, die_at=(), starts=100):
        self.die_at, self.starts, self.started, self.calls = set(die_at), starts, 0, 0

    def actors(self, cls, args, cpus=1):
        self.started += 1
        if self.started > self.starts:
            raise ConnectionError("the cluster's head is gone")
        inner, outer = InProcessActors(cls, args), self

        class Group:
            def call(self, method, per_actor):
                outer.calls += 1
                if outer.calls in outer.die_at:
                    raise ActorLost(f"actor lost at call {outer.calls}")
                return inner.call(method, per_actor)

            def close(self):
                inner.close()

        return Group()


def test_saves_between_rounds_change_nothing_and_a_finished_file_returns_the_run(
        mixture, undisturbed, tmp_path):
    path = tmp_path / "run.tdt"
    r = td.temper(mixture, td.SerialExecutor(), actors=3, checkpoint=path, checkpoint_every=37,
                  **RUN)
    same(r, undisturbed)
    assert r.restarts == 0 and r.resumed_from is None
    assert path.exists() and not list(tmp_path.glob("*.tmp"))
    again = td.temper(mixture, Flaky(starts=0), actors=3, checkpoint=path, checkpoint_every=37,
                      **RUN)
    same(again, undisturbed)
    assert again.resumed_from == (2, None)
    for k in ("bytes_sent_per_round", "bytes_received_per_round"):
        assert again.traffic[k] == r.traffic[k]


@pytest.mark.parametrize("die_at", [[5], [60], [60, 250, 251]])
def test_lost_actors_are_replaced_and_the_run_goes_back_to_its_last_save(
        mixture, undisturbed, die_at):
    # Call 5 is before the first save (the chain starts again); 60 and 250 after saves;
    # 251 is the first call of a replacement group.
    r = td.temper(mixture, Flaky(die_at), actors=2, checkpoint_every=25, **RUN)
    same(r, undisturbed)
    assert r.restarts == len(die_at)


def test_more_lost_actors_than_allowed_is_an_error(mixture):
    with pytest.raises(RuntimeError, match="more than max_restarts=1"):
        td.temper(mixture, Flaky([30, 40]), actors=2, checkpoint_every=25, max_restarts=1,
                  **RUN)
    # Without saves a lost actor restarts the chain.
    r = td.temper(mixture, Flaky([30]), actors=2, checkpoint_every=0, **RUN)
    assert r.restarts == 1


def test_a_lost_head_is_an_error_naming_the_checkpoint_and_the_call_continues_from_it(
        mixture, undisturbed, tmp_path):
    path = tmp_path / "run.tdt"
    with pytest.raises(RuntimeError, match=r"no new actors could be started.*saved in .*run\.tdt"
                                           r" at chain 0, round 100"):
        td.temper(mixture, Flaky([120], starts=1), actors=2, checkpoint=path,
                  checkpoint_every=50, **RUN)
    r = td.temper(mixture, td.SerialExecutor(), actors=2, checkpoint=path, checkpoint_every=50,
                  **RUN)
    assert r.resumed_from == (0, 100)
    same(r, undisturbed)


def test_checkpoints_of_other_calls_or_damaged_ones_are_refused(mixture, tmp_path):
    path = tmp_path / "run.tdt"
    td.temper(mixture, td.SerialExecutor(), actors=2, checkpoint=path, checkpoint_every=50,
              **RUN)
    with pytest.raises(ValueError, match=r"run\.tdt: made by a call with other arguments "
                                         r"\(seed: 3 there, 4 now\)"):
        td.temper(mixture, td.SerialExecutor(), actors=2, checkpoint=path,
                  **dict(RUN, seed=4))
    other = thermolab.builtin("mixture", dim=2, separation=4.0)
    with pytest.raises(ValueError, match="model"):
        td.temper(other, td.SerialExecutor(), actors=2, checkpoint=path, **RUN)
    with np.load(path) as z:
        items = {k: z[k] for k in z.files}
    head = json.loads(bytes(items["header"]).decode())
    for broken in (dict(head, done=None), dict(head, current=True, groups=3),
                   {k: v for k, v in head.items() if k != "names"}, dict(head, identity=[])):
        items["header"] = np.frombuffer(json.dumps(broken).encode(), dtype=np.uint8)
        np.savez(open(path, "wb"), **items)
        with pytest.raises(ValueError, match=r"run\.tdt: damaged"):
            td.temper(mixture, td.SerialExecutor(), actors=2, checkpoint=path, **RUN)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"run\.tdt: damaged"):
        td.temper(mixture, td.SerialExecutor(), actors=2, checkpoint=path, **RUN)
    path.write_text("not a checkpoint")
    with pytest.raises(ValueError, match="damaged"):
        td.temper(mixture, td.SerialExecutor(), actors=2, checkpoint=path, **RUN)
    with pytest.raises(ValueError, match="checkpoint_every"):
        td.temper(mixture, td.SerialExecutor(), checkpoint_every=-1, **RUN)


def test_a_checkpoint_needs_a_model_that_pickles(tmp_path):
    lock = threading.Lock()

    def build():  # a closure over a lock: neither pickle nor cloudpickle can write it
        with lock:
            return thermolab.builtin("mixture", dim=2, separation=5.0)

    with pytest.raises(ValueError, match="checkpoint: the model does not pickle"):
        td.temper(build, td.SerialExecutor(), actors=2, checkpoint=tmp_path / "r.tdt",
                  **RUN)
    assert not (tmp_path / "r.tdt").exists()


def slow_logp(x):
    # About 50 µs per call, so that a run lasts long enough to be disturbed.
    s = 0.0
    for k in range(300):
        s += k * 1e-12
    r = np.array([x[0] - 2.0, x[1]]), np.array([x[0] + 2.0, x[1]])
    a, b = -0.5 * float(r[0] @ r[0]), -0.5 * float(r[1] @ r[1])
    m = max(a, b)
    wa, wb = np.exp(a - m), np.exp(b - m)
    return m + np.log(wa + wb) + 0.0 * s, -(wa * r[0] + wb * r[1]) / (wa + wb)


def build_slow():
    return thermolab.from_logp(slow_logp, dim=2)


SLOW = dict(replicas=6, chains=1, warmup=300, rounds=300, seed=9, progress=False)


@pytest.fixture(scope="module")
def slow_reference():
    return thermolab.temper(build_slow(), **SLOW)


def _wait_for(path, proc=None, timeout=90):
    deadline = time.time() + timeout
    while not os.path.exists(path):
        assert time.time() < deadline, "no checkpoint was written"
        assert proc is None or proc.poll() is None, proc and proc.stdout.read()
        time.sleep(0.02)


def test_a_killed_actor_process_is_replaced_and_changes_nothing(slow_reference, tmp_path):
    import multiprocessing

    path = str(tmp_path / "run.tdt")
    out, killed = {}, []

    def run():
        out["r"] = td.temper(build_slow, td.LocalExecutor(2), actors=2, checkpoint=path,
                             checkpoint_every=100, **SLOW)

    t = threading.Thread(target=run)
    t.start()
    _wait_for(path)
    children = multiprocessing.active_children()
    if children and t.is_alive():
        os.kill(children[0].pid, signal.SIGKILL)
        killed.append(children[0].pid)
    t.join(timeout=180)
    assert killed, "the run ended before an actor could be killed"
    same(out["r"], slow_reference)
    assert out["r"].restarts == 1


DRIVER = """
import sys
sys.path.insert(0, {here!r})
from thermolab import distributed as td
from test_distributed_checkpoints import build_slow, SLOW
td.temper(build_slow(), td.SerialExecutor(), actors=2, checkpoint={path!r}, checkpoint_every=100,
          **SLOW)
print("finished", flush=True)
"""


def test_a_dead_driver_s_run_is_continued_from_its_checkpoint(slow_reference, tmp_path):
    path = str(tmp_path / "run.tdt")
    here = os.path.dirname(os.path.abspath(__file__))
    proc = subprocess.Popen([sys.executable, "-c", DRIVER.format(here=here, path=path)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for(path, proc)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the driver ended before it could be killed"
    r = td.temper(build_slow(), td.SerialExecutor(), actors=2, checkpoint=path,
                  checkpoint_every=100, **SLOW)
    assert r.resumed_from is not None and r.resumed_from[1] >= 100
    same(r, slow_reference)


CTRL_C = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.path.insert(0, {here!r})
from thermolab import distributed as td
from test_distributed_checkpoints import build_slow
print("start", flush=True)
try:
    td.temper(build_slow, td.LocalExecutor(2), actors=2, checkpoint={path!r}, checkpoint_every=50,
              replicas=6, chains=1, warmup=20000, rounds=20000, progress=False)
    print("finished", flush=True)
except KeyboardInterrupt as e:
    print("cancelled;", *getattr(e, "__notes__", []), flush=True)
"""


def test_ctrl_c_stops_distributed_tempering_and_says_where_it_is_saved(tmp_path):
    path = str(tmp_path / "run.tdt")
    here = os.path.dirname(os.path.abspath(__file__))
    proc = subprocess.Popen([sys.executable, "-c", CTRL_C.format(here=here, path=path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "start"
        _wait_for(path, proc)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert "cancelled;" in out and "finished" not in out, (out, err[-2000:])
    if sys.version_info >= (3, 11):
        assert f"saved in {path} at chain 0, round" in out, out
