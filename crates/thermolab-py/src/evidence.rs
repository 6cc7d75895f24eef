//! `thermolab.evidence` from Python: every evidence estimator of the library on a model, with
//! the verdict on which to trust. A model with a prior/likelihood split runs the power-posterior
//! path from its prior; any other model (a user's function, a plain target) runs from a Gaussian
//! fitted to a pilot run, so the estimate is `ln ∫ e^{−E}` of its energy.

use crate::model::Model;
use crate::watch::{interrupted_run, watched, Tick, Ticker};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use thermolab::drivers::evidence::{
    evidence as run_evidence, evidence_of_energy, EvidenceEvent, EvidenceSettings,
};
use thermolab::run::{RunContext, StopFlag, Termination};

/// Runs the evidence estimators on `model` (see the Python `thermolab.evidence`); returns the
/// run as JSON text (the library's `EvidenceRun`), the reference it started from, and the exact
/// `ln Z` where known.
#[pyfunction]
#[pyo3(signature = (model, *, rungs = 32, power = 5.0, chains = 2, warmup = 300, draws = 1000, ais = true, ais_particles = 256, ais_steps = 1000, adaptive = true, ladder = None, threads = 0, seed = 0, progress = None))]
#[allow(clippy::too_many_arguments)]
pub fn evidence<'py>(
    py: Python<'py>,
    model: &Model,
    rungs: usize,
    power: f64,
    chains: usize,
    warmup: usize,
    draws: usize,
    ais: bool,
    ais_particles: usize,
    ais_steps: usize,
    adaptive: bool,
    ladder: Option<Vec<f64>>,
    threads: usize,
    seed: u64,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let valid = EvidenceSettings {
        rungs,
        power,
        chains,
        warmup,
        draws,
        ais_particles,
        ais_steps,
        threads,
        ladder,
        adaptive,
        ais_ladder: None,
        ais,
    }
    .validate()
    .map_err(crate::value_error)?;
    let energy = model.energy.fresh();
    let tick = Tick::new(rungs + 1);
    let stop = StopFlag::new();
    let (result, interrupted) = watched(py, progress.as_ref(), &tick, &stop, || {
        let ticker = Ticker::new(tick.clone(), |e: &EvidenceEvent| {
            tick.stage(e.stage, e.done, e.total);
            e.done
        });
        let mut ctx = RunContext::new()
            .with_stop(stop.clone())
            .with_observer(ticker);
        match &model.path {
            Some(path) => run_evidence(path, &valid, seed, &mut ctx),
            None => evidence_of_energy(&energy, &valid, seed, &mut ctx).map(|(run, _)| run),
        }
    })?;
    if let Some(e) = energy.take_failure() {
        return Err(e);
    }
    let run = result.map_err(crate::value_error)?;
    let interrupted = interrupted_run(interrupted, run.termination == Termination::Finished)?;
    let d = PyDict::new(py);
    d.set_item(
        "run",
        serde_json::to_string(&run).map_err(crate::value_error)?,
    )?;
    d.set_item(
        "reference",
        if model.path.is_some() {
            "prior"
        } else {
            "fitted Gaussian"
        },
    )?;
    d.set_item("exact_log_z", model.exact.as_ref().map(|e| e.log_z))?;
    d.set_item("interrupted", interrupted)?;
    Ok(d)
}
