//! `thermolab.certify` from Python: the library's certification suite, every estimator against
//! an exact answer, as the CLI's `thermolab certify` runs it.

use crate::watch::{interrupted_run, watched, Tick};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use thermolab::run::{StopFlag, Termination};

/// Runs the library's certification suite (every estimator against an exact answer; see
/// `thermolab certify`) with `|z| ≤ z_max` passing; returns its checks as JSON text. Ctrl-C
/// ends the suite with the checks made so far.
#[pyfunction]
#[pyo3(signature = (z_max = 4.0, threads = 0, progress = None))]
pub fn certify<'py>(
    py: Python<'py>,
    z_max: f64,
    threads: usize,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let tick = Tick::new(0);
    let stop = StopFlag::new();
    let (result, interrupted) = watched(py, progress.as_ref(), &tick, &stop, || {
        thermolab::certify::certify(z_max, threads, &stop)
    })?;
    let c = result.map_err(crate::value_error)?;
    let interrupted = interrupted_run(interrupted, c.termination == Termination::Finished)?;
    let d = PyDict::new(py);
    d.set_item(
        "run",
        serde_json::to_string(&c).map_err(crate::value_error)?,
    )?;
    d.set_item("interrupted", interrupted)?;
    Ok(d)
}
