//! The models a Python user hands to thermolab — a Python callable, a C function pointer (a
//! numba `cfunc`, a ctypes function, a compiled library's symbol) or a built-in target by name —
//! as energies the Rust samplers call.
//!
//! Sign convention, stated once: an *energy* is minus the log density, `E(x) = −log p(x)` (up
//! to a constant). A model made from a log density is negated here, gradient included.

use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::sync::{Arc, Mutex};
use thermolab::energy::{Energy, EnergyError, Gradient};
use thermolab::targets::{Target, TargetParams, TargetSpec};

/// The C signature of a compiled model: `double f(const double *x, double *grad, int64_t n)`,
/// returning the value (log density or energy, as the model says) at the `n` coordinates `x`
/// and writing its gradient into `grad`. A NaN or infinite return is a rejected move (a
/// counted divergence), never an error.
pub type CFn = unsafe extern "C" fn(*const f64, *mut f64, i64) -> f64;

/// Where a user's values come from.
#[derive(Clone)]
enum Source {
    /// `f(x) -> (value, gradient)`, called with the GIL held.
    Callable(Arc<Py<PyAny>>),
    /// A compiled function, called from the sampler's threads without the GIL.
    Pointer(CFn),
}

/// A user's model as an energy: `E(x) = sign · f(x)`.
#[derive(Clone)]
pub struct UserEnergy {
    source: Source,
    dim: usize,
    /// +1 when `f` returns the energy, −1 when it returns the log density.
    sign: f64,
    /// The first exception the callable raised (it ends the run and is raised again).
    pub failure: Arc<Mutex<Option<PyErr>>>,
    /// Gradient scratch for `energy`.
    scratch: Vec<f64>,
    /// Called from Python with the GIL held (`Model.energy_and_grad`), not from a sampler's
    /// thread.
    from_python: bool,
}

/// A failure of the user's callable, carried through the sampler to be raised again.
#[derive(Debug)]
struct CallableFailed;

impl std::fmt::Display for CallableFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the model's function raised an exception")
    }
}

impl std::error::Error for CallableFailed {}

/// Keeps a Python thread state alive on a sampler thread between calls.
///
/// A thread that Python did not start has no thread state, so every `Python::attach` there
/// would create one and destroy it again (measured: about 15 µs per gradient call). The first
/// call on such a thread makes one, keeps it, and releases the GIL; later calls only take the
/// GIL. The state is deliberately never torn down: the samplers' worker threads end after their
/// run, possibly while the interpreter shuts down, and taking the GIL from a thread-local
/// destructor then is unsound. A dead thread's state is freed with the interpreter's (as a
/// daemon thread's is); each costs a few hundred bytes.
fn keep_thread_state() {
    thread_local! {
        static KEPT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    KEPT.with(|kept| {
        if kept.get() {
            return;
        }
        // SAFETY: the interpreter is running (a model exists) and this thread does not hold the
        // GIL (the samplers' threads never do between calls): make a thread state, take the
        // GIL with it, and release the GIL keeping the state.
        unsafe {
            let _ = pyo3::ffi::PyGILState_Ensure();
            let _ = pyo3::ffi::PyEval_SaveThread();
        }
        kept.set(true);
    });
}

impl UserEnergy {
    /// A copy with its own, empty exception slot (one per run or call, so that runs sharing a
    /// model never see each other's exceptions).
    pub fn fresh(&self) -> Self {
        Self {
            failure: Arc::default(),
            ..self.clone()
        }
    }

    /// Calls the Python function at `x`: its value, and its gradient into `grad`.
    fn call_python(
        &self,
        py: Python<'_>,
        f: &Py<PyAny>,
        x: &[f64],
        grad: &mut [f64],
    ) -> Result<f64, EnergyError> {
        let fail = |e: PyErr| {
            let mut slot = self.failure.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert(e);
            EnergyError::user(CallableFailed)
        };
        let out = f
            .bind(py)
            .call1((PyArray1::from_slice(py, x),))
            .map_err(fail)?;
        let shape = |what: &str| {
            EnergyError::Data(format!(
                "the model's function must return (value, gradient) with a float value and a gradient of shape ({},); it returned {what}",
                self.dim
            ))
        };
        let Ok((value, g)) = out.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>() else {
            let t = out
                .get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default();
            return Err(shape(&format!("a {t}")));
        };
        let value: f64 = value
            .extract()
            .map_err(|_| shape("a value that is not a float"))?;
        // A float64 ndarray is read in place; anything else (a list, float32, a JAX array)
        // goes through numpy.asarray(·, float64) first.
        let g = match g.cast_into::<PyArray1<f64>>() {
            Ok(a) => a,
            Err(e) => {
                let np = py.import("numpy").map_err(fail)?;
                np.call_method1("asarray", (e.into_inner(), "float64"))
                    .map_err(|_| shape("a gradient that is not an array of numbers"))?
                    .cast_into::<PyArray1<f64>>()
                    .map_err(|_| shape("a gradient that is not one-dimensional"))?
            }
        };
        if g.len() != self.dim {
            return Err(shape(&format!("a gradient of shape {:?}", g.shape())));
        }
        let g = g.readonly();
        match g.as_slice() {
            Ok(s) => grad.copy_from_slice(s),
            Err(_) => {
                grad.copy_from_slice(&g.to_vec().map_err(|_| shape("an unreadable gradient"))?)
            }
        }
        Ok(value)
    }

    /// The energy and its gradient, NaN and infinities included.
    fn raw(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, EnergyError> {
        if x.len() != self.dim {
            return Err(EnergyError::DimensionMismatch {
                expected: self.dim,
                got: x.len(),
            });
        }
        let value = match &self.source {
            // SAFETY: the caller of `Model.from_pointer` promised a function of the documented
            // signature that reads `n` doubles from `x` and writes `n` into `grad`; both buffers
            // hold `dim` values.
            Source::Pointer(f) => unsafe { f(x.as_ptr(), grad.as_mut_ptr(), self.dim as i64) },
            Source::Callable(f) => {
                let f = f.clone();
                if !self.from_python {
                    keep_thread_state();
                }
                Python::attach(|py| self.call_python(py, &f, x, grad))?
            }
        };
        if self.sign < 0.0 {
            grad.iter_mut().for_each(|g| *g = -*g);
        }
        Ok(self.sign * value)
    }

    /// [`UserEnergy::raw`], with a non-finite energy or gradient as a rejected move.
    fn evaluate(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, EnergyError> {
        let energy = self.raw(x, grad)?;
        if !energy.is_finite() {
            return Err(EnergyError::NonFinite { value: energy });
        }
        if let Some(g) = grad.iter().find(|g| !g.is_finite()) {
            return Err(EnergyError::NonFinite { value: *g });
        }
        Ok(energy)
    }
}

impl Energy for UserEnergy {
    fn dim(&self) -> usize {
        self.dim
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        let mut g = std::mem::take(&mut self.scratch);
        g.resize(self.dim, 0.0);
        let r = self.evaluate(x, &mut g);
        self.scratch = g;
        r
    }
}

impl Gradient for UserEnergy {
    fn energy_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, EnergyError> {
        self.evaluate(x, grad)
    }
}

/// What a [`Model`] samples.
#[derive(Clone)]
pub enum Kind {
    /// A user's function.
    User(UserEnergy),
    /// A built-in target.
    Builtin(Arc<Target>, TargetSpec),
}

/// A model to sample: a user's log density or energy (with its gradient), or a built-in target.
#[pyclass(frozen, module = "thermolab._thermolab")]
pub struct Model {
    pub kind: Kind,
    #[pyo3(get)]
    pub dim: usize,
    #[pyo3(get)]
    pub names: Vec<String>,
    /// `"logp"`, `"energy"` or `"builtin"`.
    #[pyo3(get)]
    pub kind_name: String,
    /// What owns a compiled function (the numba cfunc, the loaded library), kept alive with
    /// the model; readable as `model.owner`.
    #[pyo3(get)]
    owner: Option<Py<PyAny>>,
}

fn sign_of(kind: &str) -> PyResult<f64> {
    match kind {
        "logp" => Ok(-1.0),
        "energy" => Ok(1.0),
        k => Err(PyValueError::new_err(format!(
            "kind: unknown kind `{k}` (logp: the function returns the log density; energy: it returns −log density)"
        ))),
    }
}

fn default_names(dim: usize, names: Option<Vec<String>>) -> PyResult<Vec<String>> {
    match names {
        None => Ok((0..dim).map(|j| format!("x{j}")).collect()),
        Some(n) if n.len() == dim => Ok(n),
        Some(n) => Err(PyValueError::new_err(format!(
            "names: {} names for a model of dimension {dim}",
            n.len()
        ))),
    }
}

impl Model {
    /// A user's model of `dim` coordinates from `source`.
    fn user(
        source: Source,
        dim: usize,
        kind: &str,
        names: Option<Vec<String>>,
        owner: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        Ok(Self {
            kind: Kind::User(UserEnergy {
                source,
                dim,
                sign: sign_of(kind)?,
                failure: Arc::default(),
                scratch: Vec::new(),
                from_python: false,
            }),
            dim,
            names: default_names(dim, names)?,
            kind_name: kind.to_string(),
            owner,
        })
    }
}

fn check_dim(dim: usize) -> PyResult<()> {
    if dim == 0 {
        return Err(PyValueError::new_err("dim: must be at least 1"));
    }
    Ok(())
}

#[pymethods]
impl Model {
    /// A model from a Python function `f(x) -> (value, gradient)` of a float64 array of
    /// length `dim`; `kind` says whether the value is the log density (`"logp"`) or the
    /// energy (`"energy"`, minus the log density).
    #[staticmethod]
    #[pyo3(signature = (f, dim, kind = "logp", names = None))]
    fn from_callable(
        f: Bound<'_, PyAny>,
        dim: usize,
        kind: &str,
        names: Option<Vec<String>>,
    ) -> PyResult<Self> {
        check_dim(dim)?;
        if !f.is_callable() {
            return Err(PyValueError::new_err("f: not callable"));
        }
        Self::user(
            Source::Callable(Arc::new(f.unbind())),
            dim,
            kind,
            names,
            None,
        )
    }

    /// A model from the address of a compiled function
    /// `double f(const double *x, double *grad, int64_t n)` (a numba `cfunc`'s `.address`, a
    /// ctypes function cast to an integer). It is called from the sampler's threads without
    /// the GIL, so it must be thread-safe and must not call into Python.
    #[staticmethod]
    #[pyo3(signature = (address, dim, kind = "logp", names = None, owner = None))]
    fn from_pointer(
        address: usize,
        dim: usize,
        kind: &str,
        names: Option<Vec<String>>,
        owner: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        check_dim(dim)?;
        if address == 0 {
            return Err(PyValueError::new_err("address: a null function pointer"));
        }
        // SAFETY: a non-null address the caller vouches for as a function of signature `CFn`.
        let f: CFn = unsafe { std::mem::transmute::<usize, CFn>(address) };
        Self::user(Source::Pointer(f), dim, kind, names, owner)
    }

    /// A built-in target by name (as `thermolab sample --target`), with its parameters.
    #[staticmethod]
    #[pyo3(signature = (name, dim = 10, rho = 0.9, separation = 8.0, data = None, target_column = None, prior_sd = 1.0, noise_sd = 0.1, arch = "1-10-1:tanh".to_string(), f64 = false))]
    #[allow(clippy::too_many_arguments)]
    fn builtin(
        name: &str,
        dim: usize,
        rho: f64,
        separation: f64,
        data: Option<std::path::PathBuf>,
        target_column: Option<String>,
        prior_sd: f64,
        noise_sd: f64,
        arch: String,
        f64: bool,
    ) -> PyResult<Self> {
        let params = TargetParams {
            dim,
            rho,
            separation,
            data,
            target_column,
            prior_sd,
            noise_sd,
            arch,
            f64,
        };
        let spec = TargetSpec::from_name(name, &params).map_err(crate::value_error)?;
        let target = spec.build().map_err(crate::value_error)?;
        Ok(Self {
            dim: target.energy.dim(),
            names: target.names.clone(),
            kind: Kind::Builtin(Arc::new(target), spec),
            kind_name: "builtin".into(),
            owner: None,
        })
    }

    /// The exact answer where the library knows one (the posteriordb posteriors that are
    /// linear-Gaussian given one scale: eight schools, sblrc-blr, arK): a dict with `log_z` and
    /// `mean` (per coordinate, on the sampled scale); else None.
    fn exact<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, pyo3::types::PyDict>>> {
        let Kind::Builtin(_, TargetSpec::PosteriorDb { name }) = &self.kind else {
            return Ok(None);
        };
        let p = thermolab::systems::posteriordb::PosteriorDb::from_name(name)
            .map_err(crate::value_error)?;
        let Some(e) = p.exact() else {
            return Ok(None);
        };
        let d = pyo3::types::PyDict::new(py);
        d.set_item("log_z", e.log_z)?;
        d.set_item("mean", PyArray1::from_vec(py, e.mean))?;
        Ok(Some(d))
    }

    /// The energy `E(x)` (minus the log density) and its gradient at `x`.
    fn energy_and_grad<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<(f64, Bound<'py, PyArray1<f64>>)> {
        let x = x.as_slice()?.to_vec();
        if x.len() != self.dim {
            return Err(PyValueError::new_err(format!(
                "x: expected {} coordinates, got {}",
                self.dim,
                x.len()
            )));
        }
        let mut g = vec![0.0; self.dim];
        let r = match &self.kind {
            Kind::User(u) => {
                let mut u = u.fresh();
                u.from_python = true;
                let r = u.raw(&x, &mut g);
                if let Some(e) = u.failure.lock().unwrap_or_else(|p| p.into_inner()).take() {
                    return Err(e);
                }
                r
            }
            Kind::Builtin(t, _) => t.energy.clone().energy_grad(&x, &mut g),
        };
        // A non-finite energy or gradient is returned as it is (NaN where the model has one).
        match r {
            Ok(e) => Ok((e, PyArray1::from_vec(py, g))),
            Err(EnergyError::NonFinite { .. }) => Ok((f64::NAN, PyArray1::from_vec(py, g))),
            Err(e) => Err(crate::value_error(e)),
        }
    }

    fn __repr__(&self) -> String {
        format!("thermolab.Model({}, dim={})", self.kind_name, self.dim)
    }
}
