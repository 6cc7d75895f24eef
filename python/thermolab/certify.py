"""``thermolab.certify``: the library's certification suite from Python — every estimator
against an exact answer (Kaufman, enumeration, conjugate models), as ``thermolab certify``."""
import json

from . import _thermolab
from .progress import bar


def certify(z_max=4.0, threads=0, progress=True):
    """Runs every check (``|z| ≤ z_max`` passes) and returns them as a pandas DataFrame
    (``group``, ``quantity``, ``estimate``, ``se``, ``exact``, ``z``, ``pass``); its
    ``attrs`` hold ``termination`` and the seconds per group."""
    import pandas as pd

    out = _thermolab.certify(float(z_max), int(threads), progress=bar("certify", progress))
    run = json.loads(out["run"])
    df = pd.DataFrame(run["checks"])
    df.attrs["termination"] = run["termination"]
    df.attrs["timings"] = dict((g, s) for g, s in run["timings"])
    return df
