//! The two halves of distributed tempering for `thermolab.distributed.temper`: a group of
//! walkers that one worker (a Ray actor, a process) holds, and the driver's relay that decides
//! the swaps. They talk in bytes (orders and reports of a few dozen bytes per replica); states
//! and draws stay with the walkers until the end.

use crate::model::{Model, ModelEnergy};
use crate::temper::{chain_summary, family_of, settings_of, ModelReplicas};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::sync::Mutex;
use thermolab::drivers::tempering::{Relay, ValidTempering, Walkers};
use thermolab::run::Termination;

/// Locks a mutex, a poisoned one included (a panic already became a Python error).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Round numbers and positions of the draws a group kept.
type KeptDraws<'py> = (Bound<'py, PyArray1<u64>>, Bound<'py, numpy::PyArray2<f64>>);

/// The replicas `walkers` of tempered chain `run` of seed `seed` (the arguments as for
/// `thermolab.temper`), moved on `threads` threads.
#[pyclass(module = "thermolab._thermolab")]
pub struct TemperWalkers {
    walkers: Mutex<Walkers<ModelReplicas>>,
    energy: ModelEnergy,
    first: Vec<u8>,
    dim: usize,
}

#[pymethods]
impl TemperWalkers {
    #[new]
    #[pyo3(signature = (model, walkers, *, replicas = 14, beta_min = 0.01, ladder = None, sampler = "hmc", warmup = 4000, rounds = 20000, adapt_ladder = true, init = None, threads = 1, seed = 0, run = 0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        model: &Model,
        walkers: Vec<u32>,
        replicas: usize,
        beta_min: f64,
        ladder: Option<Vec<f64>>,
        sampler: &str,
        warmup: usize,
        rounds: usize,
        adapt_ladder: bool,
        init: Option<Vec<f64>>,
        threads: usize,
        seed: u64,
        run: u32,
    ) -> PyResult<Self> {
        let settings = settings_of(replicas, beta_min, ladder, warmup, rounds, adapt_ladder, 0)?;
        let (family, energy) = family_of(model, sampler, init)?;
        let made = py.detach(|| Walkers::new(family, &settings, walkers, seed, run, threads));
        if let Some(e) = energy.take_failure() {
            return Err(e);
        }
        let (walkers, first) = made.map_err(crate::value_error)?;
        Ok(Self {
            walkers: Mutex::new(walkers),
            energy,
            first,
            dim: model.dim,
        })
    }

    /// The walkers' first reports (their rungs' parts), for `TemperRelay.start`.
    fn first_reports<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.first)
    }

    /// Carries out one round's orders (bytes from `TemperRelay.orders`) with the GIL released;
    /// returns the reports.
    fn advance<'py>(&self, py: Python<'py>, orders: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let out = py.detach(|| lock(&self.walkers).advance(orders));
        if let Some(e) = self.energy.take_failure() {
            return Err(e);
        }
        let out = out.map_err(crate::value_error)?;
        Ok(PyBytes::new(py, &out))
    }

    /// The draws kept here: round numbers (uint64) and positions `(n, dim)`.
    fn draws<'py>(&self, py: Python<'py>) -> PyResult<KeptDraws<'py>> {
        let w = lock(&self.walkers);
        let (rounds, x) = w.draws();
        kept_draws(py, rounds.to_vec(), x.to_vec(), self.dim)
    }

    /// Takes the draws kept so far (as `draws` gives them) and forgets them here.
    fn take_draws<'py>(&self, py: Python<'py>) -> PyResult<KeptDraws<'py>> {
        let (rounds, x) = lock(&self.walkers).take_draws();
        kept_draws(py, rounds, x, self.dim)
    }

    /// The replicas between two rounds, as bytes (their states exactly; not the draws).
    fn snapshot<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &lock(&self.walkers).snapshot())
    }

    /// Puts the replicas back to a `snapshot` of the same walkers; the draws kept here are
    /// dropped. A damaged or foreign snapshot raises ValueError and changes nothing.
    fn restore(&self, snapshot: &[u8]) -> PyResult<()> {
        lock(&self.walkers)
            .restore(snapshot)
            .map_err(crate::value_error)
    }
}

/// Round numbers and `(n, dim)` positions as NumPy arrays.
fn kept_draws(
    py: Python<'_>,
    rounds: Vec<u64>,
    x: Vec<f64>,
    dim: usize,
) -> PyResult<KeptDraws<'_>> {
    let a = Array2::from_shape_vec((rounds.len(), dim), x).map_err(crate::value_error)?;
    Ok((PyArray1::from_vec(py, rounds), a.into_pyarray(py)))
}

/// The driver of distributed tempered chain `run` of seed `seed`: its walkers in `groups`
/// (lists of walker numbers, every one of 0 … replicas − 1 in exactly one). With `snapshot`
/// (bytes from `TemperRelay.snapshot` of a run with the same arguments), the driver is that
/// one, at the round it was saved.
#[pyclass(module = "thermolab._thermolab")]
pub struct TemperRelay {
    relay: Mutex<Option<Relay>>,
    settings: ValidTempering,
}

impl TemperRelay {
    fn with<R>(&self, f: impl FnOnce(&mut Relay) -> R) -> PyResult<R> {
        let mut g = lock(&self.relay);
        match g.as_mut() {
            Some(r) => Ok(f(r)),
            None => Err(PyValueError::new_err("this tempering run is finished")),
        }
    }
}

#[pymethods]
impl TemperRelay {
    #[new]
    #[pyo3(signature = (groups, *, replicas = 14, beta_min = 0.01, ladder = None, warmup = 4000, rounds = 20000, adapt_ladder = true, seed = 0, run = 0, snapshot = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        groups: Vec<Vec<u32>>,
        replicas: usize,
        beta_min: f64,
        ladder: Option<Vec<f64>>,
        warmup: usize,
        rounds: usize,
        adapt_ladder: bool,
        seed: u64,
        run: u32,
        snapshot: Option<Vec<u8>>,
    ) -> PyResult<Self> {
        let settings = settings_of(replicas, beta_min, ladder, warmup, rounds, adapt_ladder, 0)?;
        let fresh = Relay::new(&settings, groups, true, seed, run).map_err(crate::value_error)?;
        let relay = match snapshot {
            None => fresh,
            Some(bytes) => {
                let saved = Relay::restore(&settings, &bytes).map_err(crate::value_error)?;
                if saved.groups() != fresh.groups() {
                    return Err(PyValueError::new_err(
                        "snapshot: a tempering driver of other groups of walkers",
                    ));
                }
                saved
            }
        };
        Ok(Self {
            relay: Mutex::new(Some(relay)),
            settings,
        })
    }

    /// Takes the groups' first reports, in the order of the groups.
    fn start(&self, reports: Vec<Vec<u8>>) -> PyResult<()> {
        self.with(|r| r.start(&reports))?
            .map_err(crate::value_error)
    }

    /// The next round's orders, one bytes message per group.
    fn orders<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let m = self.with(|r| r.orders())?.map_err(crate::value_error)?;
        Ok(m.iter().map(|b| PyBytes::new(py, b)).collect())
    }

    /// The closing orders (the last draw is kept, nobody moves).
    fn closing_orders<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let m = self
            .with(|r| r.closing_orders())?
            .map_err(crate::value_error)?;
        Ok(m.iter().map(|b| PyBytes::new(py, b)).collect())
    }

    /// Takes the round's reports (in the order of the groups) and decides the swaps.
    fn absorb(&self, reports: Vec<Vec<u8>>) -> PyResult<()> {
        self.with(|r| r.absorb(&reports))?
            .map_err(crate::value_error)
    }

    /// Whether every round is done.
    #[getter]
    fn done(&self) -> PyResult<bool> {
        self.with(|r| r.conductor().done())
    }

    /// Rounds done, warm-up included.
    #[getter]
    fn round(&self) -> PyResult<usize> {
        self.with(|r| r.conductor().round())
    }

    /// Rounds in all, warm-up included.
    #[getter]
    fn total(&self) -> usize {
        let s = self.settings.get();
        s.warmup + s.rounds
    }

    /// Bytes sent in orders and received in reports so far.
    #[getter]
    fn traffic(&self) -> PyResult<(u64, u64)> {
        self.with(|r| r.traffic())
    }

    /// The driver between two rounds, as bytes (for `TemperRelay(..., snapshot=)`).
    fn snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let b = self.with(|r| r.snapshot())?;
        Ok(PyBytes::new(py, &b))
    }

    /// Ends the run (`interrupted`: stopped early by the user) and returns the chain's dict as
    /// `thermolab.temper` gives it.
    fn finish<'py>(&self, py: Python<'py>, interrupted: bool) -> PyResult<Bound<'py, PyDict>> {
        let relay = lock(&self.relay)
            .take()
            .ok_or_else(|| PyValueError::new_err("this tempering run is finished"))?;
        let termination = match interrupted {
            true => Termination::Interrupted,
            false => Termination::Finished,
        };
        let run = relay.finish(termination, None);
        let d = chain_summary(py, &run)?;
        d.set_item("termination", termination.as_str())?;
        Ok(d)
    }
}
