//! `thermolab.train` from Python: first-order training (Adam or SGD, full-batch or
//! minibatches) of a dense network on the user's data — the T → 0 limit of sampling its
//! posterior — with the loss per epoch.

use crate::families::dataset;
use crate::watch::{interrupted_run, watched, Tick, Ticker};
use numpy::{PyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::Arc;
use thermolab::drivers::optim::OptimizerSettings;
use thermolab::drivers::train::{train as run_train, TrainEvent, TrainSettings};
use thermolab::nn::{Architecture, Init, Loss, MlpEnergy};
use thermolab::rng::init_stream;
use thermolab::run::{RunContext, StopFlag, Termination};

/// Trains the network `arch` on `x`, `y` (see the Python `thermolab.train`); returns the
/// library's `TrainResult` as JSON text and the final parameters.
#[pyfunction]
#[pyo3(signature = (x, y, arch, *, loss = "mse", epochs = 2000, batch_size = None, optimizer = "adam", learning_rate = 1e-3, momentum = 0.9, init = "auto", seed = 0, progress = None))]
#[allow(clippy::too_many_arguments)]
pub fn train<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    y: PyReadonlyArray2<'py, f64>,
    arch: &str,
    loss: &str,
    epochs: usize,
    batch_size: Option<usize>,
    optimizer: &str,
    learning_rate: f64,
    momentum: f64,
    init: &str,
    seed: u64,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let loss = Loss::parse(loss).ok_or_else(|| {
        PyValueError::new_err(format!("loss: unknown loss `{loss}` (mse, cross-entropy)"))
    })?;
    let optimizer = match optimizer {
        "adam" => OptimizerSettings::adam(learning_rate),
        "sgd" => OptimizerSettings::sgd(learning_rate, momentum),
        o => {
            return Err(PyValueError::new_err(format!(
                "optimizer: unknown optimiser `{o}` (adam, sgd)"
            )))
        }
    };
    let settings = TrainSettings {
        epochs,
        batch_size,
        optimizer,
    }
    .validate()
    .map_err(crate::value_error)?;
    let arch: Architecture = arch.parse().map_err(crate::value_error)?;
    let init = match init {
        "auto" => Init::Auto,
        "he" => Init::He,
        "glorot" => Init::Glorot,
        i => {
            return Err(PyValueError::new_err(format!(
                "init: unknown initialisation `{i}` (auto, he, glorot)"
            )))
        }
    };
    let theta0 = init.sample(&arch, &mut init_stream(seed));
    let data = dataset(&x, &y, None)?;
    let mut energy = MlpEnergy::new(arch, Arc::new(data), loss).map_err(crate::value_error)?;
    let tick = Tick::new(epochs);
    let stop = StopFlag::new();
    let (result, interrupted) = watched(py, progress.as_ref(), &tick, &stop, || {
        let ticker = Ticker::new(tick.clone(), |e: &TrainEvent<'_>| match e {
            TrainEvent::Epoch { epoch, .. } => epoch + 1,
            TrainEvent::Batch { epoch, .. } => *epoch,
        });
        let mut ctx = RunContext::new()
            .with_stop(stop.clone())
            .with_observer(ticker);
        run_train(&mut energy, theta0, &settings, seed, &mut ctx)
    })?;
    let r = result.map_err(crate::value_error)?;
    let interrupted = interrupted_run(interrupted, r.termination != Termination::Interrupted)?;
    let d = PyDict::new(py);
    d.set_item("theta", PyArray1::from_slice(py, &r.theta))?;
    d.set_item(
        "run",
        serde_json::to_string(&r).map_err(crate::value_error)?,
    )?;
    d.set_item("interrupted", interrupted)?;
    Ok(d)
}
