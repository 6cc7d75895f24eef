//! `thermolab.sample` from Python: the library's sampler on a model, watched by
//! [`crate::watch::watched`] (GIL released, Ctrl-C keeps the draws so far, progress bar).

use crate::model::Model;
use crate::watch::{interrupted_run, watched, Tick, Ticker};
use numpy::ndarray::{Array2, Array3};
use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use thermolab::adapt::MetricKind;
use thermolab::drivers::sample::{
    sample as run_sample, InitPoint, SampleEvent, SampleResult, SampleSettings,
};
use thermolab::kernels::mcmc::{McmcKernel, SamplerKind};
use thermolab::run::{RunContext, StopFlag};

pub fn sampler_kind(name: &str, max_depth: u32, steps: u32) -> PyResult<SamplerKind> {
    Ok(match name {
        "nuts" => SamplerKind::Nuts { max_depth },
        "hmc" => SamplerKind::Hmc { steps },
        "mala" => SamplerKind::Mala,
        "rwm" => SamplerKind::Rwm,
        s => {
            return Err(PyValueError::new_err(format!(
                "sampler: unknown sampler `{s}` (nuts, hmc, mala, rwm)"
            )))
        }
    })
}

pub fn metric_kind(name: &str) -> PyResult<MetricKind> {
    Ok(match name {
        "diag" => MetricKind::Diag,
        "dense" => MetricKind::Dense,
        "identity" => MetricKind::Identity,
        m => {
            return Err(PyValueError::new_err(format!(
                "metric: unknown metric `{m}` (diag, dense, identity)"
            )))
        }
    })
}

/// The draws of a run, `(chains, draws, dim)` (chains cut to the shortest).
pub fn draws_array(r: &SampleResult<McmcKernel>, dim: usize) -> Array3<f64> {
    let n = r.chains.iter().map(|c| c.stats.len()).min().unwrap_or(0);
    let mut draws = Array3::<f64>::zeros((r.chains.len(), n, dim));
    for (c, ch) in r.chains.iter().enumerate() {
        for (i, x) in ch.draws.chunks_exact(dim).take(n).enumerate() {
            for (j, v) in x.iter().enumerate() {
                draws[[c, i, j]] = *v;
            }
        }
    }
    draws
}

/// The arrays of a run: draws `(chains, draws, dim)` and the per-draw statistics under
/// ArviZ's names, `(chains, draws)` each.
pub fn to_dict<'py>(
    py: Python<'py>,
    r: &SampleResult<McmcKernel>,
    dim: usize,
    beta: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let chains = r.chains.len();
    let n = r.chains.iter().map(|c| c.stats.len()).min().unwrap_or(0);
    let draws = draws_array(r, dim);
    let stat = |f: &dyn Fn(&thermolab::kernels::mcmc::StepInfo) -> f64| {
        let mut a = Array2::<f64>::zeros((chains, n));
        for (c, ch) in r.chains.iter().enumerate() {
            for (i, s) in ch.stats.iter().take(n).enumerate() {
                a[[c, i]] = f(s);
            }
        }
        a
    };
    let diverging = stat(&|s| s.divergent as u8 as f64).mapv(|v| v != 0.0);
    let tree_depth = stat(&|s| s.tree_depth as f64).mapv(|v| v as i64);
    let n_steps = stat(&|s| s.n_evals as f64).mapv(|v| v as i64);
    let energy = stat(&|s| s.hamiltonian);
    let lp = stat(&|s| -beta * s.energy);
    let step_size = stat(&|s| s.step_size);
    let acceptance_rate = stat(&|s| s.accept_stat);
    let d = PyDict::new(py);
    d.set_item("draws", draws.into_pyarray(py))?;
    d.set_item("diverging", diverging.into_pyarray(py))?;
    d.set_item("tree_depth", tree_depth.into_pyarray(py))?;
    d.set_item("n_steps", n_steps.into_pyarray(py))?;
    d.set_item("energy", energy.into_pyarray(py))?;
    d.set_item("lp", lp.into_pyarray(py))?;
    d.set_item("step_size", step_size.into_pyarray(py))?;
    d.set_item("acceptance_rate", acceptance_rate.into_pyarray(py))?;
    d.set_item("termination", r.termination.as_str())?;
    d.set_item("seconds", r.seconds)?;
    let evals: Vec<u64> = r
        .chains
        .iter()
        .map(|c| c.evals_warmup + c.evals_sampling)
        .collect();
    d.set_item("gradient_evaluations", PyArray1::from_vec(py, evals))?;
    Ok(d)
}

/// Samples `model` (see the Python `thermolab.sample` for the arguments); returns the draws
/// and statistics as NumPy arrays in a dict.
#[pyfunction]
#[pyo3(signature = (model, *, sampler = "nuts", chains = 4, warmup = 1000, draws = 1000, thin = 1, beta = 1.0, seed = 0, threads = 0, target_accept = None, max_depth = 10, steps = 20, metric = "diag", init = None, init_radius = 2.0, progress = None, out = None, force = false, first_chain = 0))]
#[allow(clippy::too_many_arguments)]
pub fn sample<'py>(
    py: Python<'py>,
    model: &Model,
    sampler: &str,
    chains: usize,
    warmup: usize,
    draws: usize,
    thin: usize,
    beta: f64,
    seed: u64,
    threads: usize,
    target_accept: Option<f64>,
    max_depth: u32,
    steps: u32,
    metric: &str,
    init: Option<Vec<f64>>,
    init_radius: f64,
    progress: Option<Bound<'py, PyAny>>,
    out: Option<std::path::PathBuf>,
    force: bool,
    first_chain: usize,
) -> PyResult<Bound<'py, PyDict>> {
    if let Some(x) = &init {
        if x.len() != model.dim {
            return Err(PyValueError::new_err(format!(
                "init: {} coordinates for a model of dimension {}",
                x.len(),
                model.dim
            )));
        }
    }
    let settings = SampleSettings {
        chains,
        warmup,
        draws,
        thin,
        sampler: sampler_kind(sampler, max_depth, steps)?,
        metric: metric_kind(metric)?,
        target_accept,
        beta,
        init: match init {
            Some(x) => InitPoint::Given { x },
            None => InitPoint::Jitter {
                radius: init_radius,
            },
        },
        threads,
        report_every: 0,
        first_chain,
    };
    let valid = settings
        .clone()
        .validate(model.dim)
        .map_err(crate::value_error)?;
    // The run folder is taken first: one that cannot be used is an error before any work.
    let folder = out
        .as_deref()
        .map(|t| crate::folder::open_folder(t, force))
        .transpose()?;
    let target = model.energy.fresh();
    let tick = Tick::new(settings.warmup + settings.draws * settings.thin);
    let stop = StopFlag::new();
    let (result, interrupted) = watched(py, progress.as_ref(), &tick, &stop, || {
        let counter = Ticker::new(tick.clone(), |e: &SampleEvent<'_, McmcKernel>| e.iteration);
        let mut ctx = RunContext::new()
            .with_stop(stop.clone())
            .with_observer(counter);
        run_sample(&target, &valid, seed, &mut ctx)
    })?;
    if let Some(e) = target.take_failure() {
        return Err(e);
    }
    let r = result.map_err(crate::value_error)?;
    let finished = r.termination == thermolab::Termination::Finished;
    let interrupted = interrupted_run(interrupted, finished)?;
    let d = to_dict(py, &r, model.dim, beta)?;
    d.set_item("interrupted", interrupted)?;
    d.set_item("names", model.names.clone())?;
    if let Some(folder) = folder {
        let description = serde_json::json!({
            "model": model.kind_name,
            "notes": model.notes,
            "dim": model.dim,
            "seed": seed,
            "settings": settings,
        });
        let network = match &model.energy {
            crate::model::ModelEnergy::Builtin(
                thermolab::systems::posterior::BuiltinTarget::Network(b),
            ) => Some((b.as_ref(), format!("a {}-parameter network", model.dim))),
            _ => None,
        };
        let what = crate::folder::Described {
            names: &model.names,
            beta,
            description,
            settings: vec![
                (
                    "model",
                    format!("{} ({} parameters)", model.kind_name, model.dim),
                ),
                ("sampler, metric", format!("{sampler}, {metric}")),
                (
                    "chains × (warm-up + draws)",
                    format!("{chains} × ({warmup} + {draws})"),
                ),
                ("β, seed", format!("{beta}, {seed}")),
            ],
            network,
        };
        let draws = draws_array(&r, model.dim);
        // Written with the GIL released; a failure here keeps the draws (a warning, not an
        // exception: the run is done and is returned).
        match py.detach(|| crate::folder::write_sample_folder(folder, &r, &draws, what)) {
            Ok(path) => d.set_item("folder", path)?,
            Err(e) => d.set_item("folder_error", e)?,
        }
    }
    Ok(d)
}
