//! Restricted Boltzmann machines from Python: a machine from the user's arrays (`W`, `b`, `c`)
//! or trained on their binary data by CD, PCD or tempered PCD; its `ln Z` exact (enumeration of
//! the smaller layer) or by AIS with an error; free energies, log-likelihoods,
//! pseudo-log-likelihoods and fantasy samples. The scikit-learn-style class is
//! `thermolab.RBM` (python/thermolab/rbm.py).

use crate::watch::{interrupted_run, watched, Tick, Ticker};
use numpy::ndarray::Array2;
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use thermolab::drivers::ais::AisEvent;
use thermolab::drivers::rbm::{
    ais_estimate, ais_part, fantasies, final_log_z, init_rbm, AisRun, AisSettings, EpochEvent,
    LogZMethod, Method, RbmTrainer, TrainSettings,
};
use thermolab::run::{RunContext, StopFlag, Termination};
use thermolab::systems::rbm::{log_partition_exact, Rbm as Machine, VisibleKind};

/// The rows of a 2-D array as f32 values, checked against `machine` (binary, finite, `V` wide).
fn rows(machine: &Machine, x: &PyReadonlyArray2<'_, f64>) -> PyResult<Vec<f32>> {
    let shape = x.shape();
    if shape[1] != machine.n_visible {
        return Err(PyValueError::new_err(format!(
            "X: {} columns for a machine of {} visible units",
            shape[1], machine.n_visible
        )));
    }
    let v: Vec<f32> = x.as_array().iter().map(|&a| a as f32).collect();
    machine
        .check_data(&v)
        .map_err(|e| PyValueError::new_err(format!("X: {e}")))?;
    Ok(v)
}

fn vec_f32(name: &str, a: &PyReadonlyArray1<'_, f64>) -> PyResult<Vec<f32>> {
    let v: Vec<f32> = a.as_array().iter().map(|&x| x as f32).collect();
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(PyValueError::new_err(format!(
            "{name}: entry {i} is not finite"
        )));
    }
    Ok(v)
}

/// What pickling an [`Rbm`] gives: its type and the arrays `(W, b, c)` it is built from.
type Reduced<'py> = (
    Bound<'py, pyo3::types::PyType>,
    (Py<PyAny>, Py<PyAny>, Py<PyAny>),
);

/// A binary-visible restricted Boltzmann machine, `E(v, h) = −bᵀv − cᵀh − vᵀWh`.
#[pyclass(module = "thermolab._thermolab")]
#[derive(Clone)]
pub struct Rbm {
    pub machine: Machine,
}

#[pymethods]
impl Rbm {
    /// A machine from its weights `w` (`V × H`), visible biases `b` (`V`) and hidden biases
    /// `c` (`H`).
    #[new]
    fn new(
        w: PyReadonlyArray2<'_, f64>,
        b: PyReadonlyArray1<'_, f64>,
        c: PyReadonlyArray1<'_, f64>,
    ) -> PyResult<Self> {
        let shape = w.shape();
        let (nv, nh) = (shape[0], shape[1]);
        let mut m = Machine::zeros(VisibleKind::Bernoulli, nv, nh).map_err(crate::value_error)?;
        let wv: Vec<f32> = w.as_array().iter().map(|&x| x as f32).collect();
        if let Some(i) = wv.iter().position(|x| !x.is_finite()) {
            return Err(PyValueError::new_err(format!(
                "W: entry ({}, {}) is not finite",
                i / nh,
                i % nh
            )));
        }
        let (bv, cv) = (vec_f32("b", &b)?, vec_f32("c", &c)?);
        if bv.len() != nv {
            return Err(PyValueError::new_err(format!(
                "b: {} visible biases for W of {nv} rows",
                bv.len()
            )));
        }
        if cv.len() != nh {
            return Err(PyValueError::new_err(format!(
                "c: {} hidden biases for W of {nh} columns",
                cv.len()
            )));
        }
        m.w = wv;
        m.b = bv;
        m.c = cv;
        m.validate().map_err(crate::value_error)?;
        Ok(Self { machine: m })
    }

    #[getter]
    fn n_visible(&self) -> usize {
        self.machine.n_visible
    }
    #[getter]
    fn n_hidden(&self) -> usize {
        self.machine.n_hidden
    }
    /// The weights, `V × H`.
    #[getter]
    fn w<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let m = &self.machine;
        let a = Array2::from_shape_vec(
            (m.n_visible, m.n_hidden),
            m.w.iter().map(|&x| f64::from(x)).collect(),
        )
        .map_err(crate::value_error)?;
        Ok(a.into_pyarray(py))
    }
    /// The visible biases.
    #[getter]
    fn b<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, self.machine.b.iter().map(|&x| f64::from(x)).collect())
    }
    /// The hidden biases.
    #[getter]
    fn c<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, self.machine.c.iter().map(|&x| f64::from(x)).collect())
    }

    /// The free energy `F(v) = −ln Σ_h e^{−E(v, h)}` of every row of `x`.
    fn free_energy<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let v = rows(&self.machine, &x)?;
        let m = &self.machine;
        Ok(PyArray1::from_vec(py, py.detach(|| m.free_energies(&v))))
    }

    /// The hidden units' probabilities `p(h_j = 1 | v)` of every row of `x` (`n × H`).
    fn transform<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let v = rows(&self.machine, &x)?;
        let m = &self.machine;
        let p = py.detach(|| {
            let mut p = Vec::new();
            m.hidden_probabilities(&v, &mut p);
            p
        });
        let a = Array2::from_shape_vec(
            (v.len() / self.machine.n_visible, self.machine.n_hidden),
            p.iter().map(|&x| f64::from(x)).collect(),
        )
        .map_err(crate::value_error)?;
        Ok(a.into_pyarray(py))
    }

    /// The pseudo-log-likelihood of every row of `x` (sum over units of `ln p(v_i | v_rest)`).
    fn pseudo_log_likelihood<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let v = rows(&self.machine, &x)?;
        let m = &self.machine;
        let p = py
            .detach(|| m.pseudo_log_likelihood(&v))
            .map_err(crate::value_error)?;
        Ok(PyArray1::from_vec(py, p))
    }

    /// `ln Z`: `method` `exact` (enumeration of the smaller layer, at most 25 units), `ais`
    /// (forward AIS from the base-rate machine of `base_data`: `chains` runs of `temperatures`
    /// steps; low in expectation, with its error), or `auto` (exact when possible). Returns a
    /// dict: `log_z`, `se`, `method`, and for AIS its diagnostics.
    #[pyo3(signature = (method = "auto", base_data = None, chains = 100, temperatures = 1000, seed = 0, threads = 0, progress = None))]
    #[allow(clippy::too_many_arguments)]
    fn log_z<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        base_data: Option<PyReadonlyArray2<'py, f64>>,
        chains: usize,
        temperatures: usize,
        seed: u64,
        threads: usize,
        progress: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let m = &self.machine;
        let d = PyDict::new(py);
        if method == "exact" {
            let lz = py
                .detach(|| log_partition_exact(m, thermolab::drivers::rbm::EXACT_UNITS))
                .map_err(crate::value_error)?;
            d.set_item("log_z", lz)?;
            d.set_item("se", 0.0)?;
            d.set_item("method", "exact")?;
            return Ok(d);
        }
        if method != "auto" && method != "ais" {
            return Err(PyValueError::new_err(format!(
                "method: unknown method `{method}` (auto, exact, ais)"
            )));
        }
        let base = match &base_data {
            Some(x) => rows(m, x)?,
            None => Vec::new(),
        };
        let ais = AisSettings {
            chains,
            temperatures,
            threads,
            ..Default::default()
        };
        let tick = Tick::new(temperatures);
        let stop = StopFlag::new();
        let (result, interrupted) = watched(py, progress.as_ref(), &tick, &stop, || {
            let mut ctx = RunContext::new()
                .with_stop(stop.clone())
                .with_observer(Ticker::new(tick.clone(), |e: &AisEvent| e.step));
            final_log_z(m, &base, method == "ais", ais, seed, &mut ctx)
        })?;
        if interrupted {
            return Err(pyo3::exceptions::PyKeyboardInterrupt::new_err(()));
        }
        let lz = result.map_err(crate::value_error)?;
        d.set_item("log_z", lz.value)?;
        d.set_item("se", lz.se())?;
        d.set_item("method", lz.method_name())?;
        if let LogZMethod::Ais(e) = &lz.method {
            d.set_item("pareto_k", e.pareto_k)?;
            d.set_item("ess", e.ess)?;
            d.set_item("low", e.low)?;
            d.set_item("high", e.high)?;
        }
        d.set_item("seconds", lz.seconds)?;
        Ok(d)
    }

    /// `n` fantasy samples (visible means after `sweeps` Gibbs sweeps) from rows of `start`.
    #[pyo3(signature = (start, n, sweeps = 1000, seed = 0))]
    fn sample<'py>(
        &self,
        py: Python<'py>,
        start: PyReadonlyArray2<'py, f64>,
        n: usize,
        sweeps: usize,
        seed: u64,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let s = rows(&self.machine, &start)?;
        let have = s.len() / self.machine.n_visible;
        if n > have {
            return Err(PyValueError::new_err(format!(
                "n: {n} samples asked from {have} start rows (one chain per row: give at least {n})"
            )));
        }
        let m = &self.machine;
        let out = py.detach(|| fantasies(m, &s, n, sweeps, seed));
        let nv = self.machine.n_visible;
        let a = Array2::from_shape_vec(
            (out.len(), nv),
            out.iter().flatten().map(|&x| f64::from(x)).collect(),
        )
        .map_err(crate::value_error)?;
        Ok(a.into_pyarray(py))
    }

    /// The base-rate machine's visible biases for data `x` (where forward AIS starts).
    fn base_rate_biases(&self, x: PyReadonlyArray2<'_, f64>) -> PyResult<Vec<f64>> {
        let v = rows(&self.machine, &x)?;
        Ok(self
            .machine
            .base_rate_biases(&v)
            .iter()
            .map(|&b| f64::from(b))
            .collect())
    }

    /// The weights of forward AIS of chains `first_chain .. first_chain + chains` (a part of a
    /// run split over processes), from the base-rate machine with visible biases `base_b`, as
    /// the library's `AisRun` in JSON.
    #[pyo3(signature = (base_b, chains, temperatures, first_chain, chains_per_stream = 50, seed = 0, threads = 0))]
    #[allow(clippy::too_many_arguments)]
    fn _ais_part(
        &self,
        py: Python<'_>,
        base_b: Vec<f64>,
        chains: usize,
        temperatures: usize,
        first_chain: usize,
        chains_per_stream: usize,
        seed: u64,
        threads: usize,
    ) -> PyResult<String> {
        let s = AisSettings {
            chains,
            temperatures,
            first_chain,
            chains_per_stream,
            threads,
            ..Default::default()
        }
        .validate()
        .map_err(crate::value_error)?;
        let base: Vec<f32> = base_b.iter().map(|&b| b as f32).collect();
        let m = &self.machine;
        let run = py
            .detach(|| ais_part(m, &base, &s, seed, &mut RunContext::new()))
            .map_err(crate::value_error)?;
        serde_json::to_string(&run).map_err(crate::value_error)
    }

    /// The `ln Z` estimate from the parts' weights (JSON of `_ais_part`, in chain order): the
    /// dict `log_z` gives for AIS.
    fn _ais_combine<'py>(
        &self,
        py: Python<'py>,
        base_b: Vec<f64>,
        parts: Vec<String>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let runs = parts
            .iter()
            .map(|p| serde_json::from_str::<AisRun>(p).map_err(crate::value_error))
            .collect::<PyResult<Vec<_>>>()?;
        let base: Vec<f32> = base_b.iter().map(|&b| b as f32).collect();
        let e =
            ais_estimate(&self.machine, &base, AisRun::concat(runs)).map_err(crate::value_error)?;
        let d = PyDict::new(py);
        d.set_item("log_z", e.log_z)?;
        d.set_item("se", e.se)?;
        d.set_item("method", "ais")?;
        d.set_item("pareto_k", e.pareto_k)?;
        d.set_item("ess", e.ess)?;
        d.set_item("low", e.low)?;
        d.set_item("high", e.high)?;
        Ok(d)
    }

    /// Pickling: the machine travels as its arrays.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Reduced<'py>> {
        Ok((
            py.get_type::<Rbm>(),
            (
                self.w(py)?.into_any().unbind(),
                self.b(py).into_any().unbind(),
                self.c(py).into_any().unbind(),
            ),
        ))
    }

    fn __repr__(&self) -> String {
        format!(
            "thermolab.Rbm({} visible × {} hidden)",
            self.machine.n_visible, self.machine.n_hidden
        )
    }
}

/// Trains a machine on binary rows `x` (see the Python `thermolab.RBM.fit`), from `init` or a
/// fresh machine of `n_hidden` units; returns the machine and what training did.
#[pyfunction]
#[pyo3(signature = (x, n_hidden, *, init = None, method = "pcd", k = 1, epochs = 10, batch_size = 20, chains = 0, replicas = 8, beta_min = 0.5, learning_rate = 0.05, final_learning_rate_fraction = 1.0, momentum = 0.5, weight_decay = 1e-4, init_std = 0.01, base_rate_init = true, shuffle = true, seed = 0, progress = None))]
#[allow(clippy::too_many_arguments)]
pub fn rbm_fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    n_hidden: usize,
    init: Option<PyRef<'py, Rbm>>,
    method: &str,
    k: usize,
    epochs: usize,
    batch_size: usize,
    chains: usize,
    replicas: usize,
    beta_min: f64,
    learning_rate: f64,
    final_learning_rate_fraction: f64,
    momentum: f64,
    weight_decay: f64,
    init_std: f64,
    base_rate_init: bool,
    shuffle: bool,
    seed: u64,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<(Rbm, Bound<'py, PyDict>)> {
    let method = match method {
        "cd" => Method::Cd,
        "pcd" => Method::Pcd,
        "tempered" | "tpcd" => Method::Tempered,
        m => {
            return Err(PyValueError::new_err(format!(
                "method: unknown method `{m}` (cd, pcd, tempered)"
            )))
        }
    };
    let settings = TrainSettings {
        method,
        k,
        epochs,
        batch_size,
        chains,
        replicas,
        beta_min,
        learning_rate,
        final_learning_rate_fraction,
        momentum,
        weight_decay,
        init_std,
        base_rate_init,
        shuffle,
    }
    .validate()
    .map_err(crate::value_error)?;
    let nv = x.shape()[1];
    let probe = Machine::zeros(VisibleKind::Bernoulli, nv.max(1), n_hidden.max(1))
        .map_err(crate::value_error)?;
    if nv == 0 {
        return Err(PyValueError::new_err("X: no columns"));
    }
    if n_hidden == 0 {
        return Err(PyValueError::new_err("n_hidden: must be at least 1"));
    }
    let data = rows(&probe, &x)?;
    let machine = match init {
        Some(r) => r.machine.clone(),
        None => init_rbm(VisibleKind::Bernoulli, nv, n_hidden, &data, &settings, seed)
            .map_err(crate::value_error)?,
    };
    let mut trainer =
        RbmTrainer::new(machine, &data, settings, seed).map_err(crate::value_error)?;
    let tick = Tick::new(epochs);
    let stop = StopFlag::new();
    let (result, interrupted) = watched(py, progress.as_ref(), &tick, &stop, || {
        let mut ctx = RunContext::new()
            .with_stop(stop.clone())
            .with_observer(Ticker::new(tick.clone(), |e: &EpochEvent<'_>| {
                e.report.epoch
            }));
        trainer.run(&data, &mut ctx)
    })?;
    let summary = result.map_err(crate::value_error)?;
    let interrupted = interrupted_run(interrupted, summary.termination == Termination::Finished)?;
    let d = PyDict::new(py);
    d.set_item("termination", summary.termination.as_str())?;
    d.set_item("epochs", summary.epochs)?;
    d.set_item("updates", summary.updates)?;
    d.set_item("seconds", summary.seconds)?;
    d.set_item("interrupted", interrupted)?;
    Ok((
        Rbm {
            machine: trainer.rbm().clone(),
        },
        d,
    ))
}
