"""thermolab for Python: sample your own model (a NumPy function, a numba ``cfunc``, a JAX
function) or a built-in target with thermolab's Rust samplers, and read the draws with NumPy,
pandas or ArviZ.

Sign convention, stated once: an *energy* is minus the log density, ``E(x) = -log p(x)``.
``from_logp`` takes a function returning the log density and its gradient; ``from_energy`` one
returning the energy and its gradient.

>>> import numpy as np, thermolab
>>> model = thermolab.from_logp(lambda x: (-0.5 * x @ x, -x), dim=2)
>>> result = thermolab.sample(model, chains=2, warmup=200, draws=200, seed=1, progress=False)
>>> result.draws.shape
(2, 200, 2)
"""
from ._thermolab import Model, Rbm, __version__
from . import distributed
from .certify import certify
from .evidence import EvidenceResult, evidence, log_z
from .families import linear_regression, logistic_regression, mlp
from .models import builtin, from_cfunc, from_energy, from_jax, from_logp
from .optimise import AnnealResult, TrainResult, anneal, train
from .rbm import RBM
from .result import SampleResult
from .sampling import sample
from .spin import SpinResult, ising
from .tempering import TemperResult, temper

__all__ = [
    "AnnealResult",
    "TrainResult",
    "EvidenceResult",
    "Model",
    "RBM",
    "Rbm",
    "SampleResult",
    "SpinResult",
    "TemperResult",
    "__version__",
    "anneal",
    "builtin",
    "certify",
    "distributed",
    "evidence",
    "from_cfunc",
    "from_energy",
    "from_jax",
    "from_logp",
    "ising",
    "linear_regression",
    "log_z",
    "logistic_regression",
    "mlp",
    "sample",
    "temper",
    "train",
]
