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
from ._thermolab import Model, __version__
from .models import builtin, from_cfunc, from_energy, from_jax, from_logp
from .result import SampleResult
from .sampling import sample

__all__ = [
    "Model",
    "SampleResult",
    "__version__",
    "builtin",
    "from_cfunc",
    "from_energy",
    "from_jax",
    "from_logp",
    "sample",
]
