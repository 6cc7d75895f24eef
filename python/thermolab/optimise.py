"""Low temperature: ``thermolab.anneal`` (the adaptive simulated annealer on a model's energy —
a MAP search — or on a built-in test function) and ``thermolab.train`` (Adam or SGD on a dense
network's loss, the T → 0 limit of sampling its posterior)."""
import json

import numpy as np

from . import _thermolab
from .families import _matrix
from .progress import bar


class AnnealResult:
    """:attr:`x` and :attr:`energy`: the best state found and its energy; :attr:`restarts`:
    one dict per restart (``t_initial``, ``annealed_energy``, ``refined_energy``,
    ``acceptance_rate``, …); :attr:`evaluations`; :attr:`termination` (why it stopped)."""

    def __init__(self, out):
        run = json.loads(out["run"])
        self.run = run
        self.x = np.array(run["best_x"])
        self.energy = run["best_energy"]
        self.restarts = run["restarts"]
        self.evaluations = run["evaluations"]
        self.termination = run["termination"]
        self.interrupted = bool(out["interrupted"])

    def __repr__(self):
        return (f"AnnealResult(energy {self.energy:.6g} after {len(self.restarts)} restarts, "
                f"{self.termination})")


def anneal(model=None, *, function=None, dim=2, x0=None, bounds=None, restarts=10,
           confirmations=3, iterations=None, schedule="geometric", t_initial=None,
           t_final_ratio=1e-4, refine=True, target_energy=None, max_evaluations=None, seed=0,
           progress=True):
    """Minimises the energy of ``model`` (a :class:`thermolab.Model`: for a posterior, the MAP),
    or the test ``function`` (``quadratic``, ``rastrigin``, ``ackley``, ``rosenbrock``) of
    dimension ``dim`` on its conventional box, by simulated annealing with up to ``restarts``
    restarts from ``x0`` (default: the origin) or uniformly in ``bounds=(lower, upper)``; the
    temperature follows ``schedule`` (geometric, linear, logarithmic, reheat) from an automatic
    (or given) ``t_initial`` down to ``t_final_ratio`` of it, and each restart's best state is
    refined by L-BFGS. It stops once ``confirmations`` restarts reach the same best energy, at
    ``target_energy``, or after ``max_evaluations``."""
    out = _thermolab.anneal(
        model, function=function, dim=int(dim),
        x0=None if x0 is None else [float(v) for v in x0],
        bounds=None if bounds is None else (float(bounds[0]), float(bounds[1])),
        restarts=int(restarts), confirmations=int(confirmations),
        iterations=None if iterations is None else int(iterations), schedule=schedule,
        t_initial=t_initial, t_final_ratio=float(t_final_ratio), refine=bool(refine),
        target_energy=target_energy, max_evaluations=max_evaluations, seed=int(seed),
        progress=bar("annealing", progress),
    )
    return AnnealResult(out)


class TrainResult:
    """:attr:`theta` (the final parameters, flat, in the order of
    ``thermolab.mlp(...).names``), :attr:`losses` (per epoch), :attr:`final_loss` (on all the
    data; NaN if training diverged), :attr:`termination`."""

    def __init__(self, out):
        run = json.loads(out["run"])
        self.run = run
        self.theta = out["theta"]
        self.losses = np.array(run["losses"], dtype=float)
        self.final_loss = run["final_loss"] if run["final_loss"] is not None else float("nan")
        self.termination = run["termination"]
        self.interrupted = bool(out["interrupted"])

    def __repr__(self):
        return (f"TrainResult({len(self.losses)} epochs, final loss {self.final_loss:.6g}, "
                f"{self.termination})")


def train(X, y, hidden=(10,), activation="tanh", *, loss="mse", epochs=2000, batch_size=None,
          optimizer="adam", learning_rate=1e-3, momentum=0.9, init="auto", seed=0,
          progress=True):
    """Trains a dense network from the columns of X through ``hidden`` layers (``activation``)
    to the columns of y with ``loss="mse"``, or to one logit per class with
    ``loss="cross-entropy"`` (y a column of class indices 0, 1, …), by ``optimizer`` (``adam`` or ``sgd`` with ``momentum``) for ``epochs`` epochs, full-batch
    or in shuffled minibatches of ``batch_size``. Parameters start from ``init`` (``auto``,
    ``he``, ``glorot``) drawn from ``seed``'s stream."""
    X, _ = _matrix("X", X)
    y, _ = _matrix("y", y)
    out_width = y.shape[1] if loss == "mse" else int(np.max(y)) + 1 if y.size else 1
    widths = [X.shape[1], *[int(h) for h in hidden], out_width]
    arch = "-".join(str(w) for w in widths) + f":{activation}"
    out = _thermolab.train(
        X, y, arch, loss=loss, epochs=int(epochs),
        batch_size=None if batch_size is None else int(batch_size), optimizer=optimizer,
        learning_rate=float(learning_rate), momentum=float(momentum), init=init,
        seed=int(seed), progress=bar("training", progress),
    )
    return TrainResult(out)
