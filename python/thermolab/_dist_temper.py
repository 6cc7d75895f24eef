"""Distributed parallel tempering (``thermolab.distributed.temper``): the driver's loop, its
saves between rounds, recovery from lost actors, and checkpoint files that a later call
continues from.

The replicas live on actors; each round the driver's ``TemperRelay`` sends them orders and
takes their reports (a few scalars per replica). Every ``checkpoint_every`` rounds the driver
saves the run between two rounds: its relay, every group's replicas (exact states, as bytes)
and the draws kept so far (taken from the actors). An actor that dies makes the driver start
fresh actors, put every group back to the last save, and go on: the output is the undisturbed
run's, bit for bit. With ``checkpoint=PATH`` the save is also written to a file (through a
temporary name and a rename), so that a lost driver or cluster head loses only the rounds
since the last save: the same call, rerun, continues from the file.
"""
import hashlib
import json
import os
import pickle
import tempfile

import numpy as np

from . import _thermolab
from ._actors import ActorLost

CHECKPOINT_FORMAT = "thermolab-distributed-temper-1"


class _TemperActor:
    """What one worker of distributed tempering holds: the model, and the walkers of the
    chain under way."""

    def __init__(self, model):
        from .distributed import _model_of

        self.model = _model_of(model)
        self.walkers = None

    def begin(self, walkers, kw):
        self.walkers = _thermolab.TemperWalkers(self.model, walkers, **kw)
        return self.walkers.first_reports(), list(self.model.names), int(self.model.dim)

    def resume(self, walkers, kw, snapshot):
        self.begin(walkers, kw)
        self.walkers.restore(snapshot)
        return list(self.model.names), int(self.model.dim)

    def advance(self, orders):
        return self.walkers.advance(orders)

    def save(self):
        rounds, x = self.walkers.take_draws()
        return self.walkers.snapshot(), rounds, x

    def take_draws(self):
        rounds, x = self.walkers.take_draws()
        return None, rounds, x


def _groups(replicas, actors):
    """Walkers 0 … replicas − 1 in ``actors`` contiguous groups of (nearly) equal size."""
    return [list(range(a * replicas // actors, (a + 1) * replicas // actors))
            for a in range(actors)]


def _fingerprint(model):
    """What identifies a model across calls: the hash of its recipe, pickled with a fixed
    protocol (cloudpickle, or Ray's copy of it, for lambdas and closures). A model that pickles neither way cannot
    be told apart from another, so a checkpoint is refused for it."""
    dumps = [lambda m: pickle.dumps(m, protocol=4)]
    for name in ("cloudpickle", "ray.cloudpickle"):
        try:
            cp = __import__(name, fromlist=["dumps"])
        except ImportError:
            continue
        dumps.append(lambda m, cp=cp: cp.dumps(m, protocol=4))
        break
    for dump in dumps:
        try:
            return hashlib.sha256(dump(model)).hexdigest()
        except Exception:
            continue
    raise ValueError("checkpoint: the model does not pickle, so a checkpoint cannot tell it "
                     "from another; pass a builder function (a top-level def returning the "
                     "model) or a picklable model")


class _Chain:
    """One tempered chain on the driver: its relay and replicas at the last save (bytes), the
    round of that save, and the draws taken from the actors up to it."""

    def __init__(self, relay=None, walkers=None, round=None, rounds=(), draws=()):
        self.relay = relay          # bytes of TemperRelay.snapshot, or None before any save
        self.walkers = walkers      # bytes of every group's snapshot at that save
        self.round = round          # the rounds done at that save
        self.rounds = list(rounds)  # round numbers of the draws taken, one array per take
        self.draws = list(draws)

    def take(self, parts):
        for _, rounds, x in parts:
            if len(rounds):
                self.rounds.append(np.asarray(rounds))
                self.draws.append(np.asarray(x))

    def ordered(self, dim):
        if not self.rounds:
            return np.zeros((0, dim))
        r = np.concatenate(self.rounds)
        x = np.concatenate([d.reshape(-1, dim) for d in self.draws])
        return x[np.argsort(r, kind="stable")]


class _Checkpoint:
    """A run's saves in a file: the identity of the run, the finished chains (their relays'
    last snapshots and their draws) and the chain under way."""

    def __init__(self, path, identity):
        self.path = None if path is None else os.fspath(path)
        self.identity = identity
        self.written = self.path is not None and os.path.exists(self.path)

    def load(self):
        """The saved run (finished chains, the chain under way, names, dim), or None."""
        if self.path is None or not os.path.exists(self.path):
            return None
        bad = f"checkpoint {self.path}: damaged, or not a distributed tempering checkpoint"
        try:
            with np.load(self.path, allow_pickle=False) as z:
                items = {k: z[k] for k in z.files}
            head = json.loads(bytes(items.pop("header")).decode())
        except Exception as e:
            raise ValueError(f"{bad} ({type(e).__name__}: {e})") from None
        if not isinstance(head, dict) or head.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(bad)
        saved = head.get("identity")
        if not isinstance(saved, dict):
            raise ValueError(f"{bad} (no identity)")
        for k, v in self.identity.items():
            if saved.get(k) != v:
                raise ValueError(
                    f"checkpoint {self.path}: made by a call with other arguments ({k}: "
                    f"{saved.get(k)!r} there, {v!r} now); remove it or give another path")
        try:
            def chain(prefix, groups):
                parts = int(head[f"{prefix}parts"])
                rounds = [items[f"{prefix}rounds{i}"] for i in range(parts)]
                draws = [items[f"{prefix}draws{i}"] for i in range(parts)]
                walkers = None
                if groups:
                    walkers = [bytes(items[f"{prefix}walkers{g}"]) for g in range(groups)]
                return _Chain(bytes(items[f"{prefix}relay"]), walkers,
                              int(head[f"{prefix}round"]), rounds, draws)

            done = [chain(f"done{c}_", 0) for c in range(int(head["done"]))]
            current = None
            if head["current"]:
                if int(head["groups"]) != self.identity["actors"]:
                    raise ValueError(f"{head['groups']} groups for "
                                     f"{self.identity['actors']} actors")
                current = chain("now_", int(head["groups"]))
            names, dim = [str(n) for n in head["names"]], int(head["dim"])
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{bad} ({type(e).__name__}: {e})") from None
        return done, current, names, dim

    def write(self, done, current, names, dim):
        if self.path is None:
            return
        items = {}
        head = dict(format=CHECKPOINT_FORMAT, identity=self.identity, done=len(done),
                    current=current is not None, names=names, dim=dim, groups=0)

        def put(prefix, ch):
            items[f"{prefix}relay"] = np.frombuffer(ch.relay, dtype=np.uint8)
            head[f"{prefix}parts"] = len(ch.rounds)
            head[f"{prefix}round"] = ch.round
            for i, (r, x) in enumerate(zip(ch.rounds, ch.draws)):
                items[f"{prefix}rounds{i}"] = r
                items[f"{prefix}draws{i}"] = x

        for c, ch in enumerate(done):
            put(f"done{c}_", ch)
        if current is not None:
            put("now_", current)
            head["groups"] = len(current.walkers)
            for g, b in enumerate(current.walkers):
                items[f"now_walkers{g}"] = np.frombuffer(b, dtype=np.uint8)
        items["header"] = np.frombuffer(json.dumps(head).encode(), dtype=np.uint8)
        folder = os.path.dirname(os.path.abspath(self.path))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=os.path.basename(self.path) + ".",
                                   suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **items)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
        self.written = True
        try:
            dfd = os.open(folder, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(dfd)
        except OSError:
            pass
        finally:
            os.close(dfd)

    def where(self, chain, relay):
        """Where a rerun of the call would continue from, for error messages."""
        if self.path is None:
            return "no checkpoint was asked for (checkpoint=PATH keeps one)"
        if not self.written:
            return (f"nothing was saved in {self.path} yet (the first save comes after "
                    "checkpoint_every rounds): the same call starts the run again")
        if relay is None:
            return (f"the checkpoint {self.path} holds the chains before chain {chain}: the same "
                    "call continues from it")
        return (f"the run is saved in {self.path} at chain {chain}, round {relay}: the same call "
                "continues from it")


def temper(model, executor, actors, cpus_per_actor, chains, common, walker_kw, progress,
           checkpoint, checkpoint_every, max_restarts, task_bar):
    """The driver of ``thermolab.distributed.temper`` (arguments checked there). Returns the
    output dict of ``thermolab.temper``, the traffic, the number of actors lost and replaced,
    and where the run was continued from (None, or (chain, round) of a checkpoint)."""
    groups = _groups(common["replicas"], actors)
    identity = dict(common, chains=chains, actors=actors, sampler=walker_kw["sampler"],
                    init=walker_kw["init"],
                    model=None if checkpoint is None else _fingerprint(model))
    store = _Checkpoint(checkpoint, identity)
    saved = store.load()
    done, ch, names, dim = saved if saved else ([], None, [], 0)
    resumed = None if saved is None else (len(done), ch.round if ch else None)
    total = chains * (common["warmup"] + common["rounds"])
    bar = task_bar("tempering", total, progress)
    pool, restarts, sent, received = None, 0, 0, 0
    per_chain = []
    for c, old in enumerate(done):
        summary, (s, r) = _finished(old, groups, common, c)
        per_chain.append(summary)
        sent, received = sent + s, received + r
    try:
        for c in range(len(done), chains):
            ch = ch or _Chain()
            while True:
                try:
                    if pool is None:
                        pool = _actors(executor, model, actors, cpus_per_actor, restarts,
                                       lambda: store.where(c, ch.round))
                    relay, names, dim = _start(pool, ch, groups, common, walker_kw, c)
                    step = max(1, relay.total // 200)
                    while not relay.done:
                        relay.absorb(pool.call("advance", [(o,) for o in relay.orders()]))
                        if relay.round % step == 0 or relay.done:
                            bar.done = c * relay.total + relay.round - 1
                            bar(None)
                        if (checkpoint_every and relay.round % checkpoint_every == 0
                                and not relay.done):
                            parts = pool.call("save", [()] * actors)
                            ch.relay, ch.walkers = relay.snapshot(), [p[0] for p in parts]
                            ch.round = relay.round
                            ch.take(parts)
                            store.write(done, ch, names, dim)
                    pool.call("advance", [(o,) for o in relay.closing_orders()])
                    ch.take(pool.call("take_draws", [()] * actors))
                    break
                except ActorLost as e:
                    pool = None
                    restarts += 1
                    if restarts > max_restarts:
                        raise RuntimeError(
                            f"{e}; {restarts} actors lost, more than max_restarts="
                            f"{max_restarts}; {store.where(c, ch.round)}") from e
            s, r = relay.traffic
            sent, received = sent + s, received + r
            ch.relay, ch.walkers, ch.round = relay.snapshot(), None, relay.round
            done.append(ch)
            ch = None
            per_chain.append(relay.finish(False))
            store.write(done, None, names, dim)
    except BaseException as e:
        where = store.where(len(done), ch.round if ch else None)
        if checkpoint is not None and hasattr(e, "add_note") and where not in str(e):
            e.add_note(where)
        raise
    finally:
        if pool is not None:
            pool.close()
        bar.close()
    out = {
        "draws": np.stack([old.ordered(dim) for old in done]),
        "chains": per_chain,
        "names": names,
        "termination": "finished",
        "interrupted": False,
    }
    traffic = {
        "bytes_sent_per_round": sent / total,
        "bytes_received_per_round": received / total,
        "rounds": total,
        "actors": actors,
        "executor": type(executor).__name__,
    }
    return out, traffic, restarts, resumed


def _actors(executor, model, actors, cpus, restarts, where):
    """Starts the actors; when they replace lost ones and cannot be started (the cluster or
    its head is gone), a RuntimeError says where the run is saved."""
    try:
        return executor.actors(_TemperActor, [(model,)] * actors, cpus=cpus)
    except Exception as e:
        if not restarts:
            raise
        raise RuntimeError(f"an actor was lost and no new actors could be started "
                           f"({type(e).__name__}: {e}); {where()}") from e


def _start(pool, ch, groups, common, walker_kw, c):
    """Starts chain ``c`` on the actors: fresh, or from its last save. Returns its relay, the
    model's names and dimension."""
    kw = dict(walker_kw, run=c)
    if ch.relay is None:
        first = pool.call("begin", [(g, kw) for g in groups])
        relay = _thermolab.TemperRelay(groups, **dict(common, run=c))
        relay.start([f[0] for f in first])
        return relay, first[0][1], first[0][2]
    back = pool.call("resume", [(g, kw, w) for g, w in zip(groups, ch.walkers)])
    relay = _thermolab.TemperRelay(groups, **dict(common, run=c), snapshot=ch.relay)
    return relay, back[0][0], back[0][1]


def _finished(ch, groups, common, c):
    """The summary dict and traffic of a chain finished by an earlier call (from its relay's
    last save)."""
    relay = _thermolab.TemperRelay(groups, **dict(common, run=c), snapshot=ch.relay)
    traffic = relay.traffic
    return relay.finish(False), traffic
