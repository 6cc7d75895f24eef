//! The native module of the `thermolab` Python package (`thermolab._thermolab`): models from
//! Python callables, compiled function pointers, built-in targets and built-in families on
//! NumPy data; the library's drivers on them (sampling, tempering, evidence, annealing, spin
//! sweeps, Boltzmann machines, the certification suite); and the posterior summary. The
//! Python layer (`python/thermolab`) adds no algorithm.

mod anneal;
mod certify;
mod evidence;
mod families;
mod folder;
mod model;
mod rbm;
mod relay;
mod sample;
mod spin;
mod temper;
mod train;
mod user;
mod watch;

use numpy::{PyReadonlyArray3, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// A library error as a Python `ValueError` with the library's one-line message.
pub(crate) fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// The library's posterior summary of draws shaped `(chains, draws, dim)`: a dict of columns
/// (`mean`, `sd`, `hdi`-free quantiles `q5`/`q50`/`q95`, `mcse_mean`, `mcse_sd`, `ess_bulk`,
/// `ess_tail`, `r_hat`), one entry per parameter.
#[pyfunction]
fn summary<'py>(
    py: Python<'py>,
    draws: PyReadonlyArray3<'py, f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let shape = draws.shape().to_vec();
    let a = draws.as_array();
    if a.iter().any(|v| !v.is_finite()) {
        return Err(PyValueError::new_err("draws: NaN or infinite values"));
    }
    let (chains, n, dim) = (shape[0], shape[1], shape[2]);
    let cols = [
        "mean",
        "sd",
        "q5",
        "q50",
        "q95",
        "mcse_mean",
        "mcse_sd",
        "ess_bulk",
        "ess_tail",
        "r_hat",
    ];
    let mut out: Vec<Vec<f64>> = vec![Vec::with_capacity(dim); cols.len()];
    for j in 0..dim {
        let per: Vec<Vec<f64>> = (0..chains)
            .map(|c| (0..n).map(|i| a[[c, i, j]]).collect())
            .collect();
        let refs: Vec<&[f64]> = per.iter().map(|c| c.as_slice()).collect();
        let s = thermolab::estimate::diagnostics::summarize("", &refs);
        for (k, v) in [
            s.mean,
            s.sd,
            s.q05,
            s.q50,
            s.q95,
            s.mcse_mean,
            s.mcse_sd,
            s.ess_bulk,
            s.ess_tail,
            s.r_hat,
        ]
        .into_iter()
        .enumerate()
        {
            out[k].push(v);
        }
    }
    let d = PyDict::new(py);
    for (k, c) in cols.iter().zip(out) {
        d.set_item(*k, numpy::PyArray1::from_vec(py, c))?;
    }
    Ok(d)
}

#[pymodule]
fn _thermolab(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<model::Model>()?;
    m.add_function(wrap_pyfunction!(sample::sample, m)?)?;
    m.add_function(wrap_pyfunction!(summary, m)?)?;
    m.add_function(wrap_pyfunction!(families::linear_regression, m)?)?;
    m.add_function(wrap_pyfunction!(families::logistic_regression, m)?)?;
    m.add_function(wrap_pyfunction!(families::mlp, m)?)?;
    m.add_function(wrap_pyfunction!(evidence::evidence, m)?)?;
    m.add_function(wrap_pyfunction!(temper::temper, m)?)?;
    m.add_class::<relay::TemperWalkers>()?;
    m.add_class::<relay::TemperRelay>()?;
    m.add_function(wrap_pyfunction!(spin::ising, m)?)?;
    m.add_function(wrap_pyfunction!(anneal::anneal, m)?)?;
    m.add_function(wrap_pyfunction!(train::train, m)?)?;
    m.add_function(wrap_pyfunction!(certify::certify, m)?)?;
    m.add_class::<rbm::Rbm>()?;
    m.add_function(wrap_pyfunction!(rbm::rbm_fit, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
