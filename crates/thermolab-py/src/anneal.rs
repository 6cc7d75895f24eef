//! `thermolab.anneal` from Python: the library's adaptive simulated annealer (restarts, an
//! automatic initial temperature, L-BFGS refinement) on a model's energy — a MAP search on a
//! posterior — or on a built-in test function.

use crate::model::Model;
use crate::watch::{interrupted_run, watched, Tick, Ticker};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use thermolab::drivers::anneal::{anneal as run_anneal, AnnealEvent, AnnealSettings};
use thermolab::drivers::schedule::Schedule;
use thermolab::energy::{Energy, Gradient};
use thermolab::run::{RunContext, StopFlag, Termination};
use thermolab::systems::{test_function, Bounds};

/// Anneals `model`, or the test function `function` of dimension `dim` (see the Python
/// `thermolab.anneal`); returns the library's `AnnealResult` as JSON text.
#[pyfunction]
#[pyo3(signature = (model = None, *, function = None, dim = 2, x0 = None, bounds = None, restarts = 10, confirmations = 3, iterations = None, schedule = "geometric", t_initial = None, t_final_ratio = 1e-4, refine = true, target_energy = None, max_evaluations = None, seed = 0, progress = None))]
#[allow(clippy::too_many_arguments)]
pub fn anneal<'py>(
    py: Python<'py>,
    model: Option<PyRef<'py, Model>>,
    function: Option<&str>,
    dim: usize,
    x0: Option<Vec<f64>>,
    bounds: Option<(f64, f64)>,
    restarts: usize,
    confirmations: usize,
    iterations: Option<usize>,
    schedule: &str,
    t_initial: Option<f64>,
    t_final_ratio: f64,
    refine: bool,
    target_energy: Option<f64>,
    max_evaluations: Option<u64>,
    seed: u64,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let schedule = Schedule::parse(schedule).ok_or_else(|| {
        PyValueError::new_err(format!(
            "schedule: unknown schedule `{schedule}` (geometric, linear, logarithmic, reheat)"
        ))
    })?;
    // The run's copy of a model: it holds the exception a user's function raises, if any.
    let own = model.as_ref().map(|m| m.energy.fresh());
    let mut energy: Box<dyn Gradient + Send> = match (&own, function) {
        (Some(e), None) => Box::new(e.clone()),
        (None, Some(f)) => test_function(f, dim).map_err(crate::value_error)?,
        _ => {
            return Err(PyValueError::new_err(
                "anneal: give either a model or a test function, not both",
            ))
        }
    };
    let bounds = match (bounds, function) {
        (Some((lower, upper)), _) => {
            if !(lower < upper && lower.is_finite() && upper.is_finite()) {
                return Err(PyValueError::new_err(format!(
                    "bounds: need finite lower < upper, got ({lower}, {upper})"
                )));
            }
            Some(Bounds { lower, upper })
        }
        (None, Some(f)) => Some(test_function(f, dim).map_err(crate::value_error)?.domain()),
        (None, None) => None,
    };
    let d = energy.dim();
    let x0 = x0.unwrap_or_else(|| vec![0.0; d]);
    if x0.len() != d {
        return Err(PyValueError::new_err(format!(
            "x0: {} coordinates for a problem of dimension {d}",
            x0.len()
        )));
    }
    let settings = AnnealSettings {
        schedule,
        iterations,
        restarts,
        confirmations,
        t_initial,
        t_final_ratio,
        refine,
        bounds,
        target_energy,
        max_evaluations,
        ..Default::default()
    }
    .validate()
    .map_err(crate::value_error)?;
    let per_restart = settings.iterations(d);
    let tick = Tick::new(restarts * per_restart);
    let stop = StopFlag::new();
    let (result, interrupted) = watched(py, progress.as_ref(), &tick, &stop, || {
        let ticker = Ticker::new(tick.clone(), |e: &AnnealEvent<'_>| {
            e.restart * per_restart + e.iteration
        });
        let mut ctx = RunContext::new()
            .with_stop(stop.clone())
            .with_observer(ticker);
        run_anneal(&mut *energy, &x0, &settings, seed, &mut ctx)
    })?;
    if let Some(e) = own.as_ref().and_then(|e| e.take_failure()) {
        return Err(e);
    }
    let r = result.map_err(crate::value_error)?;
    let interrupted = interrupted_run(interrupted, r.termination != Termination::Interrupted)?;
    let out = PyDict::new(py);
    out.set_item(
        "run",
        serde_json::to_string(&r).map_err(crate::value_error)?,
    )?;
    out.set_item("interrupted", interrupted)?;
    Ok(out)
}
