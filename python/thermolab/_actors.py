"""Actors for ``thermolab.distributed``: objects that live on a worker for a whole run and are
called round after round (the walkers of distributed tempering), for each executor — in this
process (``SerialExecutor``), in processes of this machine (``LocalExecutor``), or as Ray actors
(``RayExecutor``).

A group of actors is started with ``executor.actors(cls, args, cpus)`` (one actor per entry of
``args``, each built as ``cls(*entry)``) and called with ``group.call(method, per_actor_args)``,
which runs the method on every actor at once and returns the results in actor order;
``group.close()`` stops them. An actor that dies (its process killed, its machine lost) makes
``call`` close the group and raise :class:`ActorLost`; the caller may start a new group.
"""
import multiprocessing


class ActorLost(RuntimeError):
    """An actor of the group died during a call (the whole group is closed)."""


class InProcessActors:
    """The actors as plain objects in this process, called one after the other."""

    def __init__(self, cls, args):
        self.actors = [cls(*a) for a in args]

    def call(self, method, per_actor):
        return [getattr(a, method)(*x) for a, x in zip(self.actors, per_actor)]

    def close(self):
        self.actors = []


def _serve(conn, cls, args):
    """A process actor's loop: build the object, then answer ``(method, args)`` messages until
    ``None``; an exception is sent back as the answer."""
    try:
        obj = cls(*args)
        conn.send(("ok", None))
    except BaseException as e:  # reported to the driver, which raises it
        conn.send(("error", e))
        return
    while True:
        msg = conn.recv()
        if msg is None:
            return
        method, a = msg
        try:
            conn.send(("ok", getattr(obj, method)(*a)))
        except BaseException as e:
            conn.send(("error", e))


class ProcessActors:
    """Each actor in its own process of this machine (``spawn``), talking through a pipe."""

    def __init__(self, cls, args):
        ctx = multiprocessing.get_context("spawn")
        self.procs, self.conns = [], []
        try:
            for a in args:
                mine, theirs = ctx.Pipe()
                p = ctx.Process(target=_serve, args=(theirs, cls, a), daemon=True)
                p.start()
                self.procs.append(p)
                self.conns.append(mine)
            self._gather()
        except BaseException:
            self.close()
            raise

    def _gather(self):
        out = []
        for p, c in zip(self.procs, self.conns):
            try:
                status, value = c.recv()
            except (EOFError, OSError):
                raise ActorLost(f"an actor process (pid {p.pid}) died during the run") from None
            if status == "error":
                raise value
            out.append(value)
        return out

    def call(self, method, per_actor):
        try:
            for p, c, a in zip(self.procs, self.conns, per_actor):
                try:
                    c.send((method, a))
                except OSError:  # a broken pipe: the process is gone
                    raise ActorLost(f"an actor process (pid {p.pid}) died during the run") from None
            return self._gather()
        except BaseException:
            self.close()
            raise

    def close(self):
        for c in self.conns:
            try:
                c.send(None)
            except (OSError, ValueError):
                pass
        for p in self.procs:
            p.join(timeout=2)
            if p.is_alive():
                p.terminate()
                p.join(timeout=2)
        self.procs, self.conns = [], []


class RayActors:
    """Each actor a Ray actor reserving ``cpus`` CPUs (Ray's default for an actor is none)."""

    def __init__(self, ray, cls, args, cpus):
        self.ray = ray
        have = ray.cluster_resources().get("CPU", 0)
        if len(args) * cpus > have:
            raise ValueError(
                f"{len(args)} actors of {cpus} CPUs need {len(args) * cpus:g} CPUs and the Ray "
                f"cluster has {have:g}: they would wait for ever; use fewer actors or a "
                "fraction of a CPU each (cpus_per_actor=0.5)")
        remote = ray.remote(cls).options(num_cpus=cpus, max_restarts=0)
        self.actors = [remote.remote(*a) for a in args]
        try:
            # An actor whose constructor fails raises here.
            ray.get([a.__ray_ready__.remote() for a in self.actors])
        except BaseException as e:
            self.close()
            raise self._lost(e) from e

    def _lost(self, e):
        ray = self.ray
        if isinstance(e, (ray.exceptions.RayActorError, ray.exceptions.RaySystemError)):
            return ActorLost(f"a Ray actor was lost ({type(e).__name__}: {e})")
        if isinstance(e, ray.exceptions.RayTaskError):
            cause = getattr(e, "cause", None)
            if isinstance(cause, Exception):
                return cause
        return e

    def call(self, method, per_actor):
        ray = self.ray
        try:
            refs = [getattr(a, method).remote(*x) for a, x in zip(self.actors, per_actor)]
            return ray.get(refs)
        except BaseException as e:
            self.close()
            err = self._lost(e)
            if err is e:
                raise
            raise err from e

    def close(self):
        for a in self.actors:
            try:
                self.ray.kill(a)
            except Exception:
                pass
        self.actors = []
