//! A user's own model as an energy the Rust drivers call: a Python callable (called with the
//! GIL) or a C function pointer (a numba `cfunc`, a ctypes function, a compiled library's
//! symbol; called from the drivers' threads without the GIL).
//!
//! Sign convention, stated once: an *energy* is minus the log density, `E(x) = −log p(x)` (up
//! to a constant). A model made from a log density is negated here, gradient included.

use numpy::{PyArray1, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;
use std::sync::{Arc, Mutex};
use thermolab::energy::{Energy, EnergyError, Gradient};

/// The C signature of a compiled model: `double f(const double *x, double *grad, int64_t n)`,
/// returning the value (log density or energy, as the model says) at the `n` coordinates `x`
/// and writing its gradient into `grad`. A NaN or infinite return is a rejected move (a
/// counted divergence), never an error.
pub type CFn = unsafe extern "C" fn(*const f64, *mut f64, i64) -> f64;

/// Where a user's values come from.
#[derive(Clone)]
pub enum Source {
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
    failure: Arc<Mutex<Option<PyErr>>>,
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

/// Keeps a Python thread state alive on a pool worker between calls.
///
/// A thread that Python did not start has no thread state, so every `Python::attach` there
/// would create one and destroy it again (measured: about 15 µs per gradient call). On a pool
/// worker (`thermolab::workers`: the library lends its pools again across runs, and rayon's
/// global pool lives as long as the process) the first call makes one, keeps it, and releases
/// the GIL; later calls only take the GIL. Threads that end with their call (the watcher's
/// worker thread, on which a few drivers evaluate directly) keep nothing: `Python::attach`
/// makes and frees a state per call there. A kept state is deliberately never torn down: taking
/// the GIL from a thread-local destructor while the interpreter shuts down is unsound. So the
/// states kept are bounded by the pool threads alive at once (the library keeps up to eight idle
/// pools; each state is about 16 KiB from CPython 3.11 on), freed with the interpreter's.
fn keep_thread_state() {
    thread_local! {
        static KEPT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    KEPT.with(|kept| {
        if kept.get() || !thermolab::workers::on_pool_thread() {
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
    /// The energy `sign · f(x)` of `dim` coordinates from `source`.
    pub fn new(source: Source, dim: usize, sign: f64) -> Self {
        Self {
            source,
            dim,
            sign,
            failure: Arc::default(),
            scratch: Vec::new(),
            from_python: false,
        }
    }

    /// A copy for calls made from Python with the GIL held (not from a driver's thread).
    pub fn for_python(&self) -> Self {
        Self {
            from_python: true,
            ..self.fresh()
        }
    }

    /// The exception the function raised during a run, if it did (taken: asked once).
    pub fn take_failure(&self) -> Option<PyErr> {
        self.failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

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
    pub fn raw(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, EnergyError> {
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
