"""``thermolab.RBM``: a binary restricted Boltzmann machine in scikit-learn's conventions
(``fit``, ``transform``, ``score``, ``components_``), trained by the library's CD, PCD or
tempered PCD, with the thing scikit-learn's ``BernoulliRBM`` cannot give: its partition
function, exact (enumeration of the smaller layer, up to 25 units) or by AIS with an error, and
so the true log-likelihood of data.

Energy: ``E(v, h) = −bᵀv − cᵀh − vᵀWh`` with ``v ∈ {0,1}^V``, ``h ∈ {0,1}^H``.
"""
import inspect

import numpy as np

from . import _thermolab
from .progress import bar


def _binary(X):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D array (rows × visible units), got shape {X.shape}")
    return np.ascontiguousarray(X)


class RBM:
    """A Bernoulli–Bernoulli RBM with ``n_components`` hidden units.

    Training: ``method`` ``pcd`` (persistent contrastive divergence, the default), ``cd`` or
    ``tempered`` (PCD with replica exchange between ``replicas`` temperatures down to
    ``beta_min``); ``k`` Gibbs steps per update, ``n_iter`` epochs of minibatches of
    ``batch_size``, SGD with ``learning_rate``, ``momentum`` and ``weight_decay``.
    ``random_state`` is the run's seed (results do not depend on the thread count).

    After :meth:`fit`: ``components_`` (``H × V``, as scikit-learn), ``intercept_visible_``,
    ``intercept_hidden_``, and ``machine_`` (the native :class:`thermolab.Rbm`).
    """

    def __init__(self, n_components=64, *, method="pcd", k=1, n_iter=10, batch_size=20,
                 learning_rate=0.05, momentum=0.5, weight_decay=1e-4, replicas=8, beta_min=0.5,
                 init_std=0.01, random_state=0, progress=True):
        self.n_components = n_components
        self.method = method
        self.k = k
        self.n_iter = n_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.replicas = replicas
        self.beta_min = beta_min
        self.init_std = init_std
        self.random_state = random_state
        self.progress = progress

    # scikit-learn's estimator protocol.
    def get_params(self, deep=True):
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {n: getattr(self, n) for n in names}

    def set_params(self, **params):
        for k, v in params.items():
            if k not in self.get_params():
                raise ValueError(f"set_params: unknown parameter `{k}`")
            setattr(self, k, v)
        return self

    @classmethod
    def from_arrays(cls, W, b, c):
        """A fitted RBM from weights ``W`` (``V × H``), visible biases ``b`` and hidden biases
        ``c``."""
        W = np.asarray(W, dtype=np.float64)
        if W.ndim != 2:
            raise ValueError(f"W: expected a 2-D array (visible × hidden), got shape {W.shape}")
        m = _thermolab.Rbm(np.ascontiguousarray(W), np.asarray(b, dtype=np.float64).ravel(),
                           np.asarray(c, dtype=np.float64).ravel())
        r = cls(n_components=m.n_hidden)
        r._set(m, None)
        return r

    def _set(self, machine, data):
        self.machine_ = machine
        self.components_ = machine.w.T.copy()
        self.intercept_visible_ = machine.b
        self.intercept_hidden_ = machine.c
        self._base = data
        self._log_z = {}

    def _fitted(self):
        if not hasattr(self, "machine_"):
            raise RuntimeError("RBM: not fitted yet (call fit(X) or RBM.from_arrays)")
        return self.machine_

    def fit(self, X, y=None):
        """Trains on binary rows ``X`` (``n × V``, values 0 or 1); continues from the current
        machine when already fitted with the same shape. Ctrl-C ends training after the
        current epoch and keeps the machine."""
        X = _binary(X)
        init = getattr(self, "machine_", None)
        if init is not None and (init.n_visible != X.shape[1] or init.n_hidden != self.n_components):
            init = None
        machine, info = _thermolab.rbm_fit(
            X, int(self.n_components), init=init, method=self.method, k=int(self.k),
            epochs=int(self.n_iter), batch_size=int(self.batch_size),
            replicas=int(self.replicas), beta_min=float(self.beta_min),
            learning_rate=float(self.learning_rate), momentum=float(self.momentum),
            weight_decay=float(self.weight_decay), init_std=float(self.init_std),
            seed=int(self.random_state), progress=bar("rbm fit", self.progress),
        )
        self._set(machine, X)
        self.training_ = info
        return self

    def transform(self, X):
        """``p(h = 1 | v)`` for every row (``n × H``)."""
        return self._fitted().transform(_binary(X))

    def free_energy(self, X):
        """``F(v) = −ln Σ_h e^{−E(v,h)}`` of every row."""
        return self._fitted().free_energy(_binary(X))

    def pseudo_log_likelihood(self, X):
        """The pseudo-log-likelihood of every row (what scikit-learn's ``score_samples``
        reports)."""
        return self._fitted().pseudo_log_likelihood(_binary(X))

    def log_z(self, method="auto", *, chains=100, temperatures=1000, seed=0, progress=None):
        """``(ln Z, standard error, method)``: ``exact`` by enumeration of the smaller layer (at
        most 25 units), ``ais`` (forward AIS from the base-rate machine of the training data,
        low in expectation), or ``auto`` (exact when possible). Cached per setting."""
        m = self._fitted()
        key = (method, chains, temperatures, seed)
        if key not in self._log_z:
            show = self.progress if progress is None else progress
            self._log_z[key] = m.log_z(method, base_data=self._base, chains=int(chains),
                                       temperatures=int(temperatures), seed=int(seed),
                                       progress=bar("ln Z (AIS)", show) if method != "exact" else None)
        r = self._log_z[key]
        return r["log_z"], r["se"], r["method"]

    def score_samples(self, X, method="auto"):
        """``ln p(v) = −F(v) − ln Z`` of every row (``ln Z`` by :meth:`log_z`)."""
        lz, _, _ = self.log_z(method)
        return -self.free_energy(X) - lz

    def score(self, X, y=None, method="auto"):
        """The mean log-likelihood per row, ``mean ln p(v)`` (higher is better, as scikit-learn
        scores)."""
        return float(np.mean(self.score_samples(X, method)))

    def sample(self, n, sweeps=1000, start=None, seed=0):
        """``n`` fantasy samples (visible means after ``sweeps`` Gibbs sweeps), one chain from
        each of the first ``n`` rows of ``start`` (default: the training data)."""
        m = self._fitted()
        s = self._base if start is None else _binary(start)
        if s is None:
            raise ValueError("sample: give start rows (this machine has no training data)")
        return m.sample(s, int(n), int(sweeps), int(seed))

    def __repr__(self):
        p = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items() if k != "progress")
        return f"RBM({p})"
