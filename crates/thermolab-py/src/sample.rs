//! `thermolab.sample` from Python: the library's sampler run on a worker thread with the GIL
//! released, while the calling thread watches for Ctrl-C (which stops the run and keeps the
//! draws so far) and writes a one-line progress bar to Python's `sys.stderr` (plain text with
//! carriage returns, which terminals and Jupyter both render).

use crate::model::{Kind, Model};
use numpy::ndarray::{Array2, Array3};
use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use thermolab::adapt::MetricKind;
use thermolab::drivers::sample::{
    sample as run_sample, InitPoint, SampleEvent, SampleResult, SampleSettings,
};
use thermolab::energy::Gradient;
use thermolab::kernels::mcmc::{McmcKernel, SamplerKind};
use thermolab::run::{Control, Observer, RunContext, StopFlag};

/// Counts the iterations done, for the progress line.
struct Counter(Arc<AtomicUsize>);

impl<'a> Observer<SampleEvent<'a, McmcKernel>> for Counter {
    fn on_step(&mut self, e: &SampleEvent<'a, McmcKernel>) -> Control {
        self.0.store(e.iteration, Ordering::Relaxed);
        Control::Continue
    }
}

/// Runs `work` on a worker thread with the GIL released; every 100 ms the calling thread checks
/// for signals (a KeyboardInterrupt raises `stop`; the run then ends early and its result is
/// kept) and redraws the progress line from `done` of `total`. Returns the result and whether
/// the user interrupted.
pub fn watched<R: Send>(
    py: Python<'_>,
    label: &str,
    progress: bool,
    (done, total): (Arc<AtomicUsize>, usize),
    stop: &StopFlag,
    work: impl FnOnce() -> R + Send,
) -> PyResult<(R, bool)> {
    let started = Instant::now();
    let mut interrupted = false;
    let mut other: Option<PyErr> = None;
    let mut shown = usize::MAX;
    let stderr = py.import("sys")?.getattr("stderr")?;
    let result = std::thread::scope(|s| -> PyResult<R> {
        let signal = Arc::new((Mutex::new(false), Condvar::new()));
        let ended = signal.clone();
        let handle = s.spawn(move || {
            // Raised even when `work` panics, so that the watcher never waits for ever.
            struct Ended(Arc<(Mutex<bool>, Condvar)>);
            impl Drop for Ended {
                fn drop(&mut self) {
                    *self.0 .0.lock().unwrap_or_else(|p| p.into_inner()) = true;
                    self.0 .1.notify_all();
                }
            }
            let _ended = Ended(ended);
            work()
        });
        loop {
            let finished = py.detach(|| {
                let (lock, cv) = &*signal;
                let guard = lock.lock().unwrap_or_else(|p| p.into_inner());
                let (guard, _) = cv
                    .wait_timeout_while(guard, Duration::from_millis(100), |ended| !*ended)
                    .unwrap_or_else(|p| p.into_inner());
                *guard
            });
            if let Err(e) = py.check_signals() {
                stop.raise();
                if e.is_instance_of::<PyKeyboardInterrupt>(py) {
                    interrupted = true;
                } else {
                    other.get_or_insert(e);
                }
            }
            let n = done.load(Ordering::Relaxed);
            if progress && (n != shown || finished) {
                shown = n;
                let frac = if total == 0 {
                    1.0
                } else {
                    n as f64 / total as f64
                };
                let width = 30;
                let filled = ((frac * width as f64).round() as usize).min(width);
                let line = format!(
                    "\r{label} [{}{}] {n}/{total} {:.1} s{}",
                    "#".repeat(filled),
                    "-".repeat(width - filled),
                    started.elapsed().as_secs_f64(),
                    if interrupted { " (interrupted)" } else { "" }
                );
                let _ = stderr.call_method1("write", (line,));
                let _ = stderr.call_method0("flush");
            }
            if finished {
                break;
            }
        }
        if progress {
            let _ = stderr.call_method1("write", ("\n",));
        }
        py.detach(|| handle.join()).map_err(|_| {
            PyRuntimeError::new_err(
                "thermolab: the sampler thread panicked (a bug: please report it)",
            )
        })
    })?;
    if let Some(e) = other {
        return Err(e);
    }
    Ok((result, interrupted))
}

fn sampler_kind(name: &str, max_depth: u32, steps: u32) -> PyResult<SamplerKind> {
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

fn metric_kind(name: &str) -> PyResult<MetricKind> {
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

/// The arrays of a run: draws `(chains, draws, dim)` and the per-draw statistics under
/// ArviZ's names, `(chains, draws)` each.
fn to_dict<'py>(
    py: Python<'py>,
    r: &SampleResult<McmcKernel>,
    dim: usize,
    beta: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let chains = r.chains.len();
    let n = r.chains.iter().map(|c| c.stats.len()).min().unwrap_or(0);
    let mut draws = Array3::<f64>::zeros((chains, n, dim));
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
    for (c, ch) in r.chains.iter().enumerate() {
        for (i, x) in ch.draws.chunks_exact(dim).take(n).enumerate() {
            for (j, v) in x.iter().enumerate() {
                draws[[c, i, j]] = *v;
            }
        }
    }
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

fn run_on<T: Gradient + Clone + Send + Sync>(
    py: Python<'_>,
    target: &T,
    settings: &SampleSettings,
    seed: u64,
    progress: bool,
) -> PyResult<(Result<SampleResult<McmcKernel>, thermolab::Error>, bool)> {
    let valid = settings
        .clone()
        .validate(target.dim())
        .map_err(crate::value_error)?;
    let done = Arc::new(AtomicUsize::new(0));
    let stop = StopFlag::new();
    let total = settings.warmup + settings.draws * settings.thin;
    let counter = Counter(done.clone());
    let flag = stop.clone();
    watched(py, "sampling", progress, (done, total), &stop, move || {
        let mut ctx = RunContext::new().with_stop(flag).with_observer(counter);
        run_sample(target, &valid, seed, &mut ctx)
    })
}

/// Samples `model` (see the Python `thermolab.sample` for the arguments); returns the draws
/// and statistics as NumPy arrays in a dict.
#[pyfunction]
#[pyo3(signature = (model, *, sampler = "nuts", chains = 4, warmup = 1000, draws = 1000, thin = 1, beta = 1.0, seed = 0, threads = 0, target_accept = None, max_depth = 10, steps = 20, metric = "diag", init = None, init_radius = 2.0, progress = true))]
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
    progress: bool,
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
    };
    let (result, interrupted) = match &model.kind {
        Kind::User(u) => {
            let u = u.fresh();
            let (r, i) = run_on(py, &u, &settings, seed, progress)?;
            if let Some(e) = u.failure.lock().unwrap_or_else(|p| p.into_inner()).take() {
                return Err(e);
            }
            (r, i)
        }
        Kind::Builtin(t, _) => run_on(py, &t.energy, &settings, seed, progress)?,
    };
    let r = result.map_err(crate::value_error)?;
    let stopped = r.termination != thermolab::Termination::Finished;
    if interrupted && !stopped {
        // The Ctrl-C came after the run had ended: it is the caller's, as in plain Python.
        return Err(PyKeyboardInterrupt::new_err(()));
    }
    let d = to_dict(py, &r, model.dim, beta)?;
    d.set_item("interrupted", interrupted && stopped)?;
    d.set_item("names", model.names.clone())?;
    Ok(d)
}
