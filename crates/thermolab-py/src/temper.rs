//! `thermolab.temper` from Python: parallel tempering of a model through the library's one
//! replica-exchange engine (non-reversible swaps, a ladder re-spaced during warm-up), keeping
//! the draws at β = 1, the swap statistics and the canonical averages along the ladder.

use crate::model::{Model, ModelEnergy};
use crate::watch::{interrupted_run, watched, Tick, Ticker};
use numpy::ndarray::Array3;
use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use thermolab::drivers::tempering::{
    temper_chains, PathReplicas, PathState, Tempering, TemperingEvent, TemperingSettings,
    ValidTempering,
};
use thermolab::energy::BoltzmannPath;
use thermolab::estimate::series::{canonical_averages, Estimate};
use thermolab::kernels::mcmc::{McmcKernel, SamplerKind};
use thermolab::run::{RunContext, StopFlag, Termination};

/// Blocks of kept rounds for the errors of the canonical averages.
const BLOCKS: usize = 20;

/// Tempers `model` (see the Python `thermolab.temper`); returns the draws at β = 1 as a NumPy
/// array `(chains, rounds, dim)` and, per chain, the final ladder, swap rejections, barrier,
/// round trips and canonical averages per rung.
#[pyfunction]
#[pyo3(signature = (model, *, replicas = 14, beta_min = 0.01, ladder = None, sampler = "hmc", chains = 2, warmup = 4000, rounds = 20000, adapt_ladder = true, init = None, threads = 0, seed = 0, progress = None))]
#[allow(clippy::too_many_arguments)]
pub fn temper<'py>(
    py: Python<'py>,
    model: &Model,
    replicas: usize,
    beta_min: f64,
    ladder: Option<Vec<f64>>,
    sampler: &str,
    chains: usize,
    warmup: usize,
    rounds: usize,
    adapt_ladder: bool,
    init: Option<Vec<f64>>,
    threads: usize,
    seed: u64,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let dim = model.dim;
    if chains == 0 {
        return Err(PyValueError::new_err("chains: must be at least 1"));
    }
    let settings = settings_of(
        replicas,
        beta_min,
        ladder,
        warmup,
        rounds,
        adapt_ladder,
        threads,
    )?;
    let (family, energy) = family_of(model, sampler, init)?;
    let tick = Tick::new(chains * (warmup + rounds));
    let stop = StopFlag::new();
    let (result, interrupted) = watched(py, progress.as_ref(), &tick, &stop, || {
        // Rounds of the chains before this one, and the last round seen.
        let (mut before, mut last) = (0, 0);
        let ticker = Ticker::new(tick.clone(), move |e: &TemperingEvent<'_, PathState>| {
            if e.round < last {
                before += last;
            }
            last = e.round;
            before + e.round
        });
        let mut ctx = RunContext::new()
            .with_stop(stop.clone())
            .with_observer(ticker);
        temper_chains(&family, &settings, chains, seed, &mut ctx)
    })?;
    if let Some(e) = energy.take_failure() {
        return Err(e);
    }
    let results = result.map_err(crate::value_error)?;
    let termination = results
        .iter()
        .map(|r| r.run.termination)
        .find(|t| *t != Termination::Finished)
        .unwrap_or(if results.len() == chains {
            Termination::Finished
        } else {
            Termination::Interrupted
        });
    let interrupted = interrupted_run(interrupted, termination == Termination::Finished)?;
    let n = results
        .iter()
        .map(|r| r.draws.len() / dim)
        .min()
        .unwrap_or(0);
    let mut draws = Array3::<f64>::zeros((results.len(), n, dim));
    for (c, r) in results.iter().enumerate() {
        for (i, x) in r.draws.chunks_exact(dim).take(n).enumerate() {
            for (j, v) in x.iter().enumerate() {
                draws[[c, i, j]] = *v;
            }
        }
    }
    let per_chain = PyList::empty(py);
    for r in &results {
        per_chain.append(chain_summary(py, &r.run)?)?;
    }
    let d = PyDict::new(py);
    d.set_item("draws", draws.into_pyarray(py))?;
    d.set_item("chains", per_chain)?;
    d.set_item("names", model.names.clone())?;
    d.set_item("termination", termination.as_str())?;
    d.set_item("interrupted", interrupted)?;
    Ok(d)
}

/// The tempering settings of the Python `temper` arguments: `ladder` as given, or `replicas`
/// geometric rungs from `beta_min` to 1.
#[allow(clippy::too_many_arguments)]
pub fn settings_of(
    replicas: usize,
    beta_min: f64,
    ladder: Option<Vec<f64>>,
    warmup: usize,
    rounds: usize,
    adapt_ladder: bool,
    threads: usize,
) -> PyResult<ValidTempering> {
    let ladder = match ladder {
        Some(l) => l,
        None => {
            if replicas < 2 {
                return Err(PyValueError::new_err(
                    "replicas: tempering needs at least 2 replicas",
                ));
            }
            if !(beta_min > 0.0 && beta_min < 1.0) {
                return Err(PyValueError::new_err(format!(
                    "beta_min: must lie in (0, 1), got {beta_min}"
                )));
            }
            (0..replicas)
                .map(|k| beta_min.powf(1.0 - k as f64 / (replicas - 1) as f64))
                .collect()
        }
    };
    TemperingSettings {
        ladder,
        warmup,
        rounds,
        adapt_ladder,
        threads,
        ..Default::default()
    }
    .validate()
    .map_err(crate::value_error)
}

/// The replicas of `model` (β-tempering of its energy) moved by `sampler`, every one started at
/// `init` (default: the origin), and the energy whose failure the caller checks afterwards.
pub type ModelReplicas = PathReplicas<BoltzmannPath<ModelEnergy>, McmcKernel>;

/// See [`ModelReplicas`].
pub fn family_of(
    model: &Model,
    sampler: &str,
    init: Option<Vec<f64>>,
) -> PyResult<(ModelReplicas, ModelEnergy)> {
    let dim = model.dim;
    let x0 = init.unwrap_or_else(|| vec![0.0; dim]);
    if x0.len() != dim {
        return Err(PyValueError::new_err(format!(
            "init: {} coordinates for a model of dimension {dim}",
            x0.len()
        )));
    }
    let kind = SamplerKind::from_name(sampler, 10, 8).map_err(crate::value_error)?;
    let energy = model.energy.fresh();
    let family = PathReplicas {
        path: BoltzmannPath(energy.clone()),
        kernel: kind.build(dim, 0.5),
        x0,
        target_accept: None,
    };
    Ok((family, energy))
}

/// One tempered chain's dict: final ladder, swap rejections, barrier, round trips, rounds,
/// evaluations, and the canonical averages per rung with ln Z(1) − ln Z(β_min).
pub fn chain_summary<'py, S>(py: Python<'py>, run: &Tempering<S>) -> PyResult<Bound<'py, PyDict>> {
    let c = PyDict::new(py);
    c.set_item("ladder", PyArray1::from_slice(py, &run.ladder))?;
    c.set_item("rejection", PyArray1::from_slice(py, &run.rejection))?;
    c.set_item("barrier", run.barrier)?;
    c.set_item("advised_replicas", run.advised_replicas)?;
    c.set_item("round_trips", run.round_trips)?;
    c.set_item("rounds", run.rounds)?;
    c.set_item("evaluations", run.evaluations)?;
    let avg: Vec<(Estimate, Estimate)> = run
        .rungs
        .iter()
        .map(|g| canonical_averages(g.t, &g.delta, BLOCKS))
        .collect();
    let col = |f: &dyn Fn(&(Estimate, Estimate)) -> f64| {
        PyArray1::from_vec(py, avg.iter().map(f).collect())
    };
    c.set_item(
        "beta",
        PyArray1::from_vec(py, run.rungs.iter().map(|g| g.t).collect()),
    )?;
    c.set_item("energy", col(&|a| a.0.value))?;
    c.set_item("energy_se", col(&|a| a.0.se))?;
    c.set_item("heat_capacity", col(&|a| a.1.value))?;
    c.set_item("heat_capacity_se", col(&|a| a.1.se))?;
    let ss = run.log_z_stepping_stone();
    c.set_item("log_z_ratio", ss.value)?;
    c.set_item("log_z_ratio_se", ss.se)?;
    Ok(c)
}
