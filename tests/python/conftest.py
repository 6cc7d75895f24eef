"""Shared fixtures of the Python tests: a correlated Gaussian with known moments, written three
ways (a NumPy function, a C library compiled here, a numba cfunc), its exact moments, and a
check that two tempering results are one run."""
import ctypes
import os
import shutil
import subprocess

import numpy as np
import pytest

# A 3-D Gaussian with means MU and standard deviations SD (independent coordinates).
MU = np.array([1.0, -2.0, 0.5])
SD = np.array([1.0, 0.5, 2.0])

C_SOURCE = r"""
#include <stdint.h>
#include <math.h>
static const double MU[3] = {1.0, -2.0, 0.5};
static const double SD[3] = {1.0, 0.5, 2.0};
/* log density of the Gaussian and its gradient */
double gauss_logp(const double *x, double *grad, int64_t n) {
    double lp = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double z = (x[i] - MU[i]) / SD[i];
        lp -= 0.5 * z * z;
        grad[i] = -z / SD[i];
    }
    return lp;
}
/* the same, slowly: for the GIL and Ctrl-C tests */
double gauss_logp_slow(const double *x, double *grad, int64_t n) {
    volatile double s = 0.0;
    for (int k = 0; k < 20000; k++) s += sqrt((double)k);
    return gauss_logp(x, grad, n) + 0.0 * s;
}
/* NaN outside x0 > -1: a support the sampler must treat as rejected moves */
double gauss_logp_nan(const double *x, double *grad, int64_t n) {
    if (x[0] < -1.0) return NAN;
    return gauss_logp(x, grad, n);
}
"""


def logp(x):
    z = (x - MU) / SD
    return -0.5 * float(z @ z), -z / SD


@pytest.fixture(scope="session")
def clib(tmp_path_factory):
    """The C model, compiled with the system's C compiler (skipped without one)."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    d = tmp_path_factory.mktemp("cmodel")
    src = d / "gauss.c"
    src.write_text(C_SOURCE)
    lib = d / "libgauss.so"
    subprocess.run([cc, "-O2", "-shared", "-fPIC", str(src), "-o", str(lib), "-lm"], check=True)
    return ctypes.CDLL(os.fspath(lib))


def fn_pointer(lib, name):
    f = getattr(lib, name)
    f.restype = ctypes.c_double
    f.argtypes = [ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_double), ctypes.c_int64]
    return f


def check_moments(result, mu=MU, sd=SD, k=4.0):
    """Every mean within k MCSE of `mu`, every sd within k MCSE of `sd`."""
    s = result.summary()
    for j, name in enumerate(result.names):
        row = s.loc[name]
        assert abs(row["mean"] - mu[j]) < k * row["mcse_mean"], (name, row["mean"], mu[j], row["mcse_mean"])
        assert abs(row["sd"] - sd[j]) < k * row["mcse_sd"], (name, row["sd"], sd[j], row["mcse_sd"])
        assert row["r_hat"] < 1.01


def same_tempering(a, b):
    """Two tempering results are the same run: draws, ladders, round trips and canonical
    averages bit for bit."""
    assert np.array_equal(a.draws, b.draws)
    for x, y in zip(a.ladder, b.ladder):
        assert np.array_equal(x, y)
    assert a.round_trips == b.round_trips
    for k in ("energy", "heat_capacity", "log_z_ratio"):
        assert np.array_equal(a.thermodynamics[k], b.thermodynamics[k])
