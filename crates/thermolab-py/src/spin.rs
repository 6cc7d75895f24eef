//! `thermolab.ising` from Python: temperature sweeps of an Ising model — a periodic lattice, or
//! any graph from the user's couplings (a dense or sparse matrix, a QUBO) — with per-site
//! energy, |magnetisation|, heat capacity, susceptibility and Binder cumulant with errors, the
//! exact values where the library has them (Kaufman, enumeration), and free energy and entropy
//! by thermodynamic integration.

use crate::watch::{interrupted_run, watched, Tick, Ticker};
use numpy::PyReadonlyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::Arc;
use thermolab::drivers::spin::{
    lattice_model, run_sweep, thermodynamic_integration, SpinAlgorithm, SpinModel,
    SpinSweepSettings, SweepEvent,
};
use thermolab::estimate::exact::IsingExact;
use thermolab::estimate::series::Estimate;
use thermolab::rng::{Purpose, Streams};
use thermolab::run::{RunContext, StopFlag, Termination};
use thermolab::systems::spin::IsingGraph;

/// A graph's terms from Python: the number of spins, and rows, columns and values.
type Terms<'py> = (
    usize,
    PyReadonlyArray1<'py, i64>,
    PyReadonlyArray1<'py, i64>,
    PyReadonlyArray1<'py, f64>,
);

/// The model of a sweep: a lattice `(dim, L)` with coupling `j` and field `h`, or `n` spins with
/// terms `(rows[k], cols[k], values[k])` (see `IsingGraph::from_terms`).
fn model_of(
    lattice: Option<(usize, usize)>,
    j: f64,
    h: f64,
    terms: Option<Terms<'_>>,
    qubo: bool,
) -> PyResult<SpinModel> {
    match (lattice, terms) {
        (Some((dim, l)), None) => lattice_model(dim, l, j, h).map_err(crate::value_error),
        (None, Some((n, rows, cols, values))) => {
            let (r, c, v) = (rows.as_slice()?, cols.as_slice()?, values.as_slice()?);
            if r.len() != c.len() || r.len() != v.len() {
                return Err(PyValueError::new_err(
                    "couplings: rows, columns and values differ in length",
                ));
            }
            let mut terms = Vec::with_capacity(r.len());
            for k in 0..r.len() {
                if r[k] < 0 || c[k] < 0 {
                    return Err(PyValueError::new_err(format!(
                        "couplings: negative index ({}, {})",
                        r[k], c[k]
                    )));
                }
                terms.push((r[k] as usize, c[k] as usize, v[k]));
            }
            let g = IsingGraph::from_terms(n, terms, qubo).map_err(crate::value_error)?;
            Ok(SpinModel::Ising(Arc::new(g)))
        }
        _ => Err(PyValueError::new_err(
            "ising: give either a lattice or couplings, not both",
        )),
    }
}

fn est(d: &Bound<'_, PyDict>, key: &str, e: &Estimate) -> PyResult<()> {
    d.set_item(key, e.value)?;
    d.set_item(format!("{key}_se"), e.se)
}

/// Sweeps the temperatures of an Ising model (see the Python `thermolab.ising`); returns one
/// dict of per-site measurements per temperature, the exact values where known, and the
/// thermodynamic integration when `ti_points` > 0.
#[pyfunction]
#[pyo3(signature = (temperatures, *, lattice = None, j = 1.0, h = 0.0, terms = None, qubo = false, algorithm = "metropolis", sweeps = 10000, thermalization = None, blocks = 32, hot_start = false, ti_points = 0, threads = 0, seed = 0, first_temperature = 0, progress = None))]
#[allow(clippy::too_many_arguments)]
pub fn ising<'py>(
    py: Python<'py>,
    temperatures: Vec<f64>,
    lattice: Option<(usize, usize)>,
    j: f64,
    h: f64,
    terms: Option<Terms<'py>>,
    qubo: bool,
    algorithm: &str,
    sweeps: usize,
    thermalization: Option<usize>,
    blocks: usize,
    hot_start: bool,
    ti_points: usize,
    threads: usize,
    seed: u64,
    first_temperature: usize,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let model = model_of(lattice, j, h, terms, qubo)?;
    let alg = SpinAlgorithm::parse(algorithm).ok_or_else(|| {
        PyValueError::new_err(format!(
            "algorithm: unknown algorithm `{algorithm}` (metropolis, heatbath, wolff, sw, msc)"
        ))
    })?;
    if ti_points == 1 {
        return Err(PyValueError::new_err("ti_points: need at least 2 points"));
    }
    let settings = SpinSweepSettings {
        temperatures: temperatures.clone(),
        algorithm: alg,
        sweeps,
        thermalization,
        blocks,
        threads,
        hot_start,
        first_temperature,
        ..Default::default()
    }
    .validate(&model)
    .map_err(crate::value_error)?;
    // The integration runs on its own uniform β grid up to the coldest temperature.
    let betas: Vec<f64> = if ti_points > 0 {
        let beta_max = 1.0 / temperatures.iter().cloned().fold(f64::INFINITY, f64::min);
        (1..=ti_points)
            .map(|k| beta_max * k as f64 / ti_points as f64)
            .collect()
    } else {
        Vec::new()
    };
    let ti_settings = (ti_points > 0)
        .then(|| {
            SpinSweepSettings {
                temperatures: betas.iter().map(|b| 1.0 / b).collect(),
                first_temperature: 0,
                ..settings.get().clone()
            }
            .validate(&model)
            .map_err(crate::value_error)
        })
        .transpose()?;
    let per_temperature = settings.total() * temperatures.len();
    let tick =
        Tick::new(per_temperature + ti_settings.as_ref().map_or(0, |s| s.total() * betas.len()));
    let stop = StopFlag::new();
    let (result, interrupted) = watched(py, progress.as_ref(), &tick, &stop, || {
        let n_t = temperatures.len();
        let sweep = run_sweep(
            &settings,
            seed,
            &mut RunContext::new()
                .with_stop(stop.clone())
                .with_observer(Ticker::new(tick.clone(), |e: &SweepEvent| e.sweeps * n_t)),
        )?;
        let ti = match &ti_settings {
            Some(s) if sweep.termination.is_complete() => {
                let streams = Streams {
                    seed,
                    purpose: Purpose::Temperature,
                    run: 1,
                };
                let done = per_temperature;
                let n_b = betas.len();
                Some(run_sweep(
                    s,
                    streams,
                    &mut RunContext::new()
                        .with_stop(stop.clone())
                        .with_observer(Ticker::new(tick.clone(), move |e: &SweepEvent| {
                            done + e.sweeps * n_b
                        })),
                )?)
            }
            _ => None,
        };
        Ok::<_, thermolab::Error>((sweep, ti))
    })?;
    let (sweep, ti) = result.map_err(crate::value_error)?;
    let termination = match &ti {
        Some(t) if !t.termination.is_complete() => t.termination,
        _ => sweep.termination,
    };
    let interrupted = interrupted_run(interrupted, termination == Termination::Finished)?;
    let exact = match &model {
        SpinModel::Ising(g) => IsingExact::for_graph(g),
        SpinModel::Potts(_) => IsingExact::None,
    };
    let points = pyo3::types::PyList::empty(py);
    for p in &sweep.points {
        let d = PyDict::new(py);
        d.set_item("temperature", p.temperature)?;
        d.set_item("beta", p.beta)?;
        est(&d, "energy", &p.energy)?;
        est(&d, "abs_magnetization", &p.abs_magnetization)?;
        est(&d, "heat_capacity", &p.heat_capacity)?;
        est(&d, "susceptibility", &p.susceptibility)?;
        est(&d, "binder", &p.binder)?;
        d.set_item("tau_energy", p.tau_energy)?;
        d.set_item("tau_abs_magnetization", p.tau_abs_magnetization)?;
        d.set_item("measurements", p.measurements)?;
        if let Some(x) = exact.at(p.temperature) {
            d.set_item("exact_energy", x.energy_per_site)?;
            d.set_item("exact_heat_capacity", x.heat_capacity_per_site)?;
            d.set_item("exact_free_energy", x.free_energy_per_site)?;
        }
        points.append(d)?;
    }
    let out = PyDict::new(py);
    out.set_item("points", points)?;
    out.set_item("exact_source", exact.source())?;
    out.set_item("n_sites", model.n_sites())?;
    if let Some(t) = ti.filter(|t| t.termination.is_complete()) {
        let u: Vec<Estimate> = t.points.iter().map(|p| p.energy).collect();
        let u0 = model.infinite_temperature_energy().unwrap_or(0.0);
        let rows = pyo3::types::PyList::empty(py);
        for p in thermodynamic_integration(&betas, &u, u0) {
            let d = PyDict::new(py);
            d.set_item("beta", p.beta)?;
            est(&d, "log_z", &p.log_z_per_site)?;
            est(&d, "free_energy", &p.free_energy_per_site)?;
            est(&d, "entropy", &p.entropy_per_site)?;
            rows.append(d)?;
        }
        out.set_item("integration", rows)?;
    }
    out.set_item("termination", termination.as_str())?;
    out.set_item("interrupted", interrupted)?;
    Ok(out)
}
