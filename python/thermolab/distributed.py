"""``thermolab.distributed``: thermolab's runs on more than one process or machine, through an
existing engine — a local process pool (the default), Ray (``RayExecutor``), or Dask
(``DaskExecutor``) — with results identical to the single-process run.

Every task carries plain picklable values (a model travels as the recipe that built it, see
:class:`thermolab.Model`; settings as a dict) and its random streams are keyed by the run's
seed and the task's own indices (chain numbers for ``sample``), so the output does not depend
on how many workers ran it or in which order they finished. Inside a task the Rust core does
the work with the GIL released, on as many threads as the task declared CPUs.

An executor is anything with ``map(fn, tasks, cpus=1, on_done=None) -> list`` returning the
results in the order of ``tasks`` (``on_done(k)`` is called as tasks finish, for the progress
bar); distributed tempering also needs ``actors(cls, args, cpus)`` (see ``_actors``): objects
that stay on their workers for the whole run.
"""
import concurrent.futures as cf
import multiprocessing
import time

import numpy as np

from . import _thermolab
from ._actors import InProcessActors, ProcessActors, RayActors
from .progress import bar as make_bar
from .result import STATS, SampleResult
from .sampling import native_settings


class SerialExecutor:
    """Runs the tasks one after the other in this process (the reference for identity checks,
    and a way to debug a distributed call)."""

    workers = 1

    def actors(self, cls, args, cpus=1):
        return InProcessActors(cls, args)

    def map(self, fn, tasks, cpus=1, on_done=None):
        out = []
        for k, t in enumerate(tasks):
            out.append(fn(t))
            if on_done:
                on_done(k)
        return out


class LocalExecutor:
    """A pool of ``workers`` processes on this machine (default: one per core), started with
    ``spawn`` so that no thread state is inherited."""

    def __init__(self, workers=None):
        self.workers = int(workers or multiprocessing.cpu_count())
        if self.workers < 1:
            raise ValueError(f"workers: must be at least 1, got {workers}")

    def actors(self, cls, args, cpus=1):
        return ProcessActors(cls, args)

    def map(self, fn, tasks, cpus=1, on_done=None):
        ctx = multiprocessing.get_context("spawn")
        pool = cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        try:
            futures = [pool.submit(fn, t) for t in tasks]
            index = {f: k for k, f in enumerate(futures)}
            for f in cf.as_completed(futures):
                f.result()  # an exception in a task is raised here, at once
                if on_done:
                    on_done(index[f])
            return [f.result() for f in futures]
        except BaseException:
            # Ctrl-C or a failed task: drop the tasks not started, stop the running ones.
            workers = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for w in workers:
                w.terminate()
            raise
        finally:
            pool.shutdown(wait=True)


class RayExecutor:
    """Ray tasks: each declares ``cpus`` CPUs (Ray schedules by them; the Rust thread pool is
    capped to them) and is retried up to ``max_retries`` times when its worker dies, which
    loses nothing because a task's output depends only on its inputs. Connects to the cluster
    at ``address`` (``"auto"``: the running one; None: a local one started here, with
    ``init`` passed to ``ray.init``)."""

    def __init__(self, address=None, max_retries=3, **init):
        import ray

        self.ray = ray
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False, **init)
        self.max_retries = int(max_retries)

    @property
    def workers(self):
        return int(self.ray.cluster_resources().get("CPU", 1))

    def actors(self, cls, args, cpus=1):
        return RayActors(self.ray, cls, args, cpus)

    def map(self, fn, tasks, cpus=1, on_done=None):
        ray = self.ray
        remote = ray.remote(fn).options(num_cpus=cpus, max_retries=self.max_retries)
        refs = [remote.remote(t) for t in tasks]
        index = {r: k for k, r in enumerate(refs)}
        pending = list(refs)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for r in done:
                    ray.get(r)  # a task that failed for good raises here
                    if on_done:
                        on_done(index[r])
            return ray.get(refs)
        except KeyboardInterrupt:
            # Ctrl-C: cancel every task still queued or running, then stop as plain Python does.
            for r in pending:
                ray.cancel(r, force=True)
            raise
        except ray.exceptions.RaySystemError as e:
            raise RuntimeError(
                f"the Ray cluster was lost during the run ({type(e).__name__}: {e}); "
                "the tasks are independent and deterministic: run the call again on a live cluster"
            ) from e


class DaskExecutor:
    """A Dask ``distributed.Client``'s workers (tasks are submitted with ``pure=False`` and
    gathered in order)."""

    def __init__(self, client):
        self.client = client

    @property
    def workers(self):
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def actors(self, cls, args, cpus=1):
        raise TypeError("DaskExecutor runs tasks, not actors: distributed tempering needs "
                        "RayExecutor, LocalExecutor or SerialExecutor")

    def map(self, fn, tasks, cpus=1, on_done=None):
        from distributed import as_completed

        futures = [self.client.submit(fn, t, pure=False) for t in tasks]
        index = {f.key: k for k, f in enumerate(futures)}
        for f in as_completed(futures):
            f.result()
            if on_done:
                on_done(index[f.key])
        return self.client.gather(futures)


class _TaskBar:
    """One progress bar for a distributed call: tasks done of tasks in all."""

    def __init__(self, label, total, progress):
        self.bar = make_bar(label, progress)
        self.total = total
        self.done = 0
        self.t0 = time.perf_counter()
        if self.bar:
            self.bar.update(0, total, 0.0, "tasks")

    def __call__(self, _k):
        self.done += 1
        if self.bar:
            self.bar.update(self.done, self.total, time.perf_counter() - self.t0, "tasks")

    def close(self):
        if self.bar:
            self.bar.close(False)


def _model_of(model):
    """The model of a task: a Model as it is, or what a builder function returns."""
    from ._thermolab import Model

    return model if isinstance(model, Model) else model()


def _check_model(model):
    """A Model, or a builder taking no arguments (a log density must be made a Model first)."""
    import inspect

    from ._thermolab import Model

    if isinstance(model, Model):
        return
    if not callable(model):
        raise TypeError("model: expected a thermolab.Model or a function that builds one")
    try:
        params = inspect.signature(model).parameters.values()
    except (TypeError, ValueError):
        return
    if any(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
           for p in params):
        raise TypeError(
            "model: a function given here must build the model and take no arguments; make a "
            "log density a model first (thermolab.from_logp(f, dim))"
        )


def _sample_task(task):
    model, kw = task
    return _thermolab.sample(_model_of(model), progress=None, **kw)


def _gather_samples(outs):
    """One run's dict from the tasks' dicts, in chain order (chains cut to the shortest)."""
    n = min(o["draws"].shape[1] for o in outs)
    g = {k: np.concatenate([o[k][:, :n] for o in outs]) for k in ("draws",) + STATS}
    g["gradient_evaluations"] = np.concatenate([o["gradient_evaluations"] for o in outs])
    g["names"] = outs[0]["names"]
    stopped = [o["termination"] for o in outs if o["termination"] != "finished"]
    g["termination"] = stopped[0] if stopped else "finished"
    g["interrupted"] = any(o["interrupted"] for o in outs)
    g["seconds"] = max(o["seconds"] for o in outs)
    return g


def sample(model, executor=None, chains=16, chains_per_task=1, cpus_per_task=1, seed=0,
           progress=True, **settings):
    """:func:`thermolab.sample` with its chains spread over ``executor``'s workers
    (``LocalExecutor()`` by default): ``chains_per_task`` chains per task, each task on
    ``cpus_per_task`` threads. ``model`` is a :class:`thermolab.Model` that can be pickled
    (built-in targets and families, functions that pickle), or a function of no arguments that
    builds the model in the worker (for a numba ``cfunc``). Other keyword arguments are
    :func:`thermolab.sample`'s. The draws are bit-identical to ``thermolab.sample(model,
    chains=chains, seed=seed, ...)`` in one process, whatever the executor and its number of
    workers, on machines of the same architecture and CPU features (the f32 kernels pick
    AVX2/FMA code at run time, which rounds differently); ``result.seconds`` is the slowest
    task's sampling time."""
    executor = executor or LocalExecutor()
    _check_model(model)
    if chains < 1 or chains_per_task < 1 or cpus_per_task < 1:
        raise ValueError("chains, chains_per_task and cpus_per_task must be at least 1")
    for bad in ("first_chain", "threads", "out", "force", "progress", "dim"):
        if bad in settings:
            raise ValueError(f"{bad}: set by thermolab.distributed.sample itself"
                             if bad != "dim" else "dim: make the model with thermolab.from_logp(f, dim)")
    tasks = []
    for first in range(0, chains, chains_per_task):
        kw = native_settings(**dict(settings, chains=min(chains_per_task, chains - first),
                                    first_chain=first, seed=seed, threads=cpus_per_task))
        tasks.append((model, kw))
    tb = _TaskBar("sampling", len(tasks), progress)
    try:
        outs = executor.map(_sample_task, tasks, cpus=cpus_per_task, on_done=tb)
    finally:
        tb.close()
    s = dict(settings, chains=chains, seed=seed, executor=type(executor).__name__,
             workers=getattr(executor, "workers", None))
    return SampleResult(_gather_samples(outs), settings=s)


def _ising_task(task):
    from .spin import ising as local_ising

    temps, first, kw = task
    return local_ising(temps, first_temperature=first, progress=False, **kw)


def ising(temperatures, executor=None, temperatures_per_task=1, cpus_per_task=1, progress=True,
          **settings):
    """A temperature scan of :func:`thermolab.ising` spread over ``executor``'s workers,
    ``temperatures_per_task`` temperatures per task: the heat-capacity curve of a large lattice,
    a spin glass's energy over T. The measurements are identical to ``thermolab.ising`` of all
    the temperatures in one process (temperature k draws from its own stream, whatever task
    runs it). Keyword arguments are :func:`thermolab.ising`'s (the thermodynamic integration,
    ``ti_points``, runs on one machine: call :func:`thermolab.ising` for it)."""
    from .spin import SpinResult

    executor = executor or LocalExecutor()
    for bad in ("first_temperature", "threads", "progress"):
        if bad in settings:
            raise ValueError(f"{bad}: set by thermolab.distributed.ising itself")
    if settings.get("ti_points", 0):
        raise ValueError("ti_points: the integration runs on one machine (thermolab.ising)")
    temps = [float(t) for t in np.atleast_1d(temperatures)]
    if temperatures_per_task < 1 or not temps:
        raise ValueError("need at least one temperature and temperatures_per_task ≥ 1")
    kw = dict(settings, threads=int(cpus_per_task))
    tasks = [(temps[k:k + temperatures_per_task], k, kw)
             for k in range(0, len(temps), temperatures_per_task)]
    tb = _TaskBar("ising", len(tasks), progress)
    try:
        parts = executor.map(_ising_task, tasks, cpus=cpus_per_task, on_done=tb)
    finally:
        tb.close()
    stopped = [p.termination for p in parts if p.termination != "finished"]
    return SpinResult({
        "points": [pt for p in parts for pt in p.points],
        "exact_source": parts[0].exact_source,
        "n_sites": parts[0].n_sites,
        "termination": stopped[0] if stopped else "finished",
        "interrupted": any(p.interrupted for p in parts),
    })


def _ais_task(task):
    machine, base_b, kw = task
    return machine._ais_part(base_b, **kw)


def rbm_log_z(rbm, executor=None, chains=100, chains_per_task=50, temperatures=1000, seed=0,
              base_data=None, cpus_per_task=1, progress=True):
    """An RBM's ``ln Z`` by forward AIS with its ``chains`` spread over ``executor``'s workers,
    ``chains_per_task`` per task (a multiple of the 50 chains of one random stream). The
    estimate is identical to ``rbm.log_z("ais", chains=chains, temperatures=temperatures,
    seed=seed)`` in one process. ``rbm`` is a fitted :class:`thermolab.RBM` (its training data
    is the base-rate machine's, unless ``base_data`` is given) or a :class:`thermolab.Rbm`.
    Returns ``(ln Z, standard error, "ais")``."""
    from .rbm import RBM, _binary

    executor = executor or LocalExecutor()
    if isinstance(rbm, RBM):
        machine = rbm._fitted()
        data = rbm._base if base_data is None else _binary(base_data)
    else:
        machine, data = rbm, None if base_data is None else _binary(base_data)
    per_stream = 50
    if chains < 1 or chains_per_task < 1 or chains_per_task % per_stream:
        raise ValueError(f"chains_per_task: must be a positive multiple of {per_stream}, "
                         f"got {chains_per_task}")
    empty = np.zeros((0, machine.n_visible))
    base_b = machine.base_rate_biases(empty if data is None else data)
    tasks = [(machine, base_b, dict(chains=min(chains_per_task, chains - first),
                                    temperatures=int(temperatures), first_chain=first,
                                    chains_per_stream=per_stream, seed=int(seed),
                                    threads=int(cpus_per_task)))
             for first in range(0, chains, chains_per_task)]
    tb = _TaskBar("ln Z (AIS)", len(tasks), progress)
    try:
        parts = executor.map(_ais_task, tasks, cpus=cpus_per_task, on_done=tb)
    finally:
        tb.close()
    r = machine._ais_combine(base_b, parts)
    return r["log_z"], r["se"], r["method"]


def map(fn, tasks, executor=None, cpus_per_task=1, progress=True):
    """``[fn(t) for t in tasks]`` on ``executor``'s workers, in the order of ``tasks`` — for
    runs that are independent by construction: a calibration over seeds, a scan over
    temperatures or data sets, annealing restarts from different seeds. ``fn`` must be
    picklable (a module-level function; Ray also takes closures) and should set its runs'
    ``threads`` to ``cpus_per_task``."""
    executor = executor or LocalExecutor()
    tasks = list(tasks)
    tb = _TaskBar("tasks", len(tasks), progress)
    try:
        return executor.map(fn, tasks, cpus=cpus_per_task, on_done=tb)
    finally:
        tb.close()


def temper(model, executor=None, actors=2, cpus_per_actor=1, replicas=14, beta_min=0.01,
           chains=2, warmup=4000, rounds=20000, seed=0, *, ladder=None, sampler="hmc",
           adapt_ladder=True, init=None, progress=True, checkpoint=None, checkpoint_every=500,
           max_restarts=3):
    """:func:`thermolab.temper` with its replicas living on ``actors`` workers of
    ``executor`` (Ray actors with ``RayExecutor``, processes with ``LocalExecutor``, the
    default; each reserves ``cpus_per_actor`` CPUs — a fraction is allowed, e.g. 0.5 to put
    four actors on a two-CPU Ray cluster — and moves its replicas on that many threads, at
    least one). The states never travel: each round the workers move their replicas and send the
    driver a few scalars per replica (energies' log ratios towards the neighbouring rungs, and
    the rung's random-stream position and step size), and the driver decides the swaps from its
    own stream and sends back which replica holds which rung. The draws at β = 1 stay on the
    workers until the end. The output — draws, ladder, swap statistics, canonical averages —
    is bit-identical to ``thermolab.temper`` with the same arguments, whatever the number of
    actors (on machines of the same CPU features). ``result.traffic`` gives the bytes sent and
    received per round.

    Faults: every ``checkpoint_every`` rounds (0: never) the driver saves the run between two
    rounds (every replica's exact state and the draws so far travel once). An actor that dies
    is replaced, every group goes back to the last save, and the run goes on — up to
    ``max_restarts`` times; the output is still the undisturbed run's (``result.restarts``
    counts the times actors were lost and replaced). If no new actors can be started (the
    cluster or its head is gone), the run ends with a RuntimeError saying where it is saved.
    With ``checkpoint=PATH`` each save is also written to that file: if the driver, the
    cluster's head or the machine is lost, the same call run again continues from the file
    (``result.resumed_from`` gives the chain and round) and returns the undisturbed run's
    output; a finished run's file returns its result at once. A file made by a call with
    other arguments is refused, and so is a checkpoint for a model that does not pickle
    (pass a builder function). On Python 3.11 and later, any error raised during the run,
    Ctrl-C included, carries a note saying where it is saved.

    Other arguments as for :func:`thermolab.temper`."""
    from . import _dist_temper
    from .tempering import TemperResult

    executor = executor or LocalExecutor()
    _check_model(model)
    n = len(ladder) if ladder is not None else int(replicas)
    if actors < 1 or chains < 1 or not cpus_per_actor > 0:
        raise ValueError("actors and chains must be at least 1, cpus_per_actor above 0")
    if n < 2:
        raise ValueError("replicas: tempering needs at least 2 replicas")
    if actors > n:
        raise ValueError(f"actors: {actors} actors for {n} replicas (at most one actor per "
                         "replica)")
    if checkpoint_every < 0 or max_restarts < 0:
        raise ValueError("checkpoint_every and max_restarts must be at least 0")
    common = dict(replicas=n, beta_min=float(beta_min),
                  ladder=None if ladder is None else [float(b) for b in ladder],
                  warmup=int(warmup), rounds=int(rounds), adapt_ladder=bool(adapt_ladder),
                  seed=int(seed))
    walker_kw = dict(common, sampler=sampler, threads=max(1, int(cpus_per_actor)),
                     init=None if init is None else [float(v) for v in init])
    # Checks the settings before any worker starts.
    _thermolab.TemperRelay(_dist_temper._groups(n, actors), **common)
    out, traffic, restarts, resumed = _dist_temper.temper(
        model, executor, int(actors), cpus_per_actor, int(chains), common, walker_kw, progress,
        checkpoint, int(checkpoint_every), int(max_restarts), _TaskBar)
    result = TemperResult(out)
    result.traffic = traffic
    result.restarts = restarts
    result.resumed_from = resumed
    return result
