//! The models a Python user hands to thermolab — their own function ([`crate::user`]), a
//! built-in target by name, or a built-in family on their NumPy data ([`crate::families`]) — as
//! one energy type that every driver runs ([`ModelEnergy`]), with what the library knows of each:
//! a prior/likelihood split for the evidence estimators, an exact `ln Z` and posterior mean.

use crate::user::{CFn, Source, UserEnergy};
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use thermolab::energy::{Energy, EnergyError, Gradient, PathAt};
use thermolab::systems::posterior::BuiltinTarget;
use thermolab::targets::{BuiltinPath, TargetParams, TargetSpec};

/// The energy of a model, as the drivers call it.
#[derive(Clone)]
pub enum ModelEnergy {
    /// A user's function.
    User(UserEnergy),
    /// A built-in target.
    Builtin(BuiltinTarget),
    /// A posterior with a prior/likelihood split, at t = 1.
    Path(PathAt<BuiltinPath>),
}

impl ModelEnergy {
    /// A copy for one run: a user's function gets its own exception slot.
    pub fn fresh(&self) -> Self {
        match self {
            Self::User(u) => Self::User(u.fresh()),
            other => other.clone(),
        }
    }
    /// The exception a user's function raised during the run, if any.
    pub fn take_failure(&self) -> Option<PyErr> {
        match self {
            Self::User(u) => u.take_failure(),
            _ => None,
        }
    }
    fn inner(&mut self) -> &mut dyn Gradient {
        match self {
            Self::User(u) => u,
            Self::Builtin(t) => t,
            Self::Path(p) => p,
        }
    }
}

impl Energy for ModelEnergy {
    fn dim(&self) -> usize {
        match self {
            Self::User(u) => u.dim(),
            Self::Builtin(t) => t.dim(),
            Self::Path(p) => p.dim(),
        }
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        self.inner().energy(x)
    }
}

impl Gradient for ModelEnergy {
    fn energy_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, EnergyError> {
        self.inner().energy_grad(x, grad)
    }
}

/// What the library knows exactly of a model.
#[derive(Clone, Debug)]
pub struct Exact {
    /// `ln ∫ e^{−E}` (the evidence of a posterior).
    pub log_z: f64,
    /// The posterior mean, per coordinate, where known.
    pub mean: Option<Vec<f64>>,
}

/// A model to sample, temper, anneal or integrate: a user's log density or energy (with its
/// gradient), a built-in target, or a built-in family on the user's data.
#[pyclass(frozen, module = "thermolab._thermolab")]
pub struct Model {
    /// The energy.
    pub energy: ModelEnergy,
    /// Its prior/likelihood split (`None`: the evidence estimators reach it from a fitted
    /// Gaussian reference instead).
    pub path: Option<BuiltinPath>,
    /// What is known exactly.
    pub exact: Option<Exact>,
    #[pyo3(get)]
    pub dim: usize,
    #[pyo3(get)]
    pub names: Vec<String>,
    /// `"logp"`, `"energy"`, `"builtin"` or the family's name (`"linear_regression"`, …).
    #[pyo3(get)]
    pub kind_name: String,
    /// What a reader of the draws must know (preprocessing, how names map to the model).
    #[pyo3(get)]
    pub notes: Vec<String>,
    /// What owns a compiled function (the numba cfunc, the loaded library), kept alive with
    /// the model; readable as `model.owner`.
    #[pyo3(get)]
    owner: Option<Py<PyAny>>,
    /// How to build the model again in another process: `(function, args, kwargs)` of the
    /// Python constructor that made it (set once by `python/thermolab`; see `__reduce__`).
    recipe: std::sync::OnceLock<Py<PyAny>>,
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

/// `names`, or `x0`, `x1`, … when none are given.
pub fn default_names(dim: usize, names: Option<Vec<String>>) -> PyResult<Vec<String>> {
    match names {
        None => Ok((0..dim).map(|j| format!("x{j}")).collect()),
        Some(n) if n.len() == dim => Ok(n),
        Some(n) => Err(PyValueError::new_err(format!(
            "names: {} names for a model of dimension {dim}",
            n.len()
        ))),
    }
}

/// The prior/likelihood split of a built-in target, where it has one.
fn path_of(t: &BuiltinTarget) -> Option<BuiltinPath> {
    match t {
        BuiltinTarget::Logistic(l) => Some(BuiltinPath::Logistic(l.clone())),
        BuiltinTarget::Network(n) => Some(BuiltinPath::Network(n.clone())),
        BuiltinTarget::PosteriorDb(p) => Some(BuiltinPath::PosteriorDb(p.path.clone())),
        _ => None,
    }
}

/// What is known exactly of a built-in target.
fn exact_of(spec: &TargetSpec) -> PyResult<Option<Exact>> {
    use thermolab::systems::posterior::Funnel;
    use thermolab::systems::Ar1Gaussian;
    Ok(match spec {
        TargetSpec::Gauss { dim, rho } => Some(Exact {
            log_z: Ar1Gaussian::new(*dim, *rho, 1.0)
                .map_err(crate::value_error)?
                .log_z(1.0),
            mean: Some(vec![0.0; *dim]),
        }),
        TargetSpec::Funnel { dim } | TargetSpec::FunnelNc { dim } => Some(Exact {
            log_z: Funnel::new(*dim, matches!(spec, TargetSpec::Funnel { .. }))
                .map_err(crate::value_error)?
                .log_z(),
            mean: Some(vec![0.0; *dim]),
        }),
        TargetSpec::PosteriorDb { name } => {
            let p = thermolab::systems::posteriordb::PosteriorDb::from_name(name)
                .map_err(crate::value_error)?;
            p.exact().map(|e| Exact {
                log_z: e.log_z,
                mean: Some(e.mean),
            })
        }
        _ => None,
    })
}

impl Model {
    /// A model of one of the built-in families (see [`crate::families`]).
    pub fn family(
        kind_name: &str,
        energy: ModelEnergy,
        path: Option<BuiltinPath>,
        exact: Option<Exact>,
        names: Vec<String>,
        notes: Vec<String>,
    ) -> Self {
        Self {
            dim: energy.dim(),
            energy,
            path,
            exact,
            names,
            kind_name: kind_name.into(),
            notes,
            owner: None,
            recipe: std::sync::OnceLock::new(),
        }
    }

    /// A user's model of `dim` coordinates from `source`.
    fn user(
        source: Source,
        dim: usize,
        kind: &str,
        names: Option<Vec<String>>,
        owner: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        if dim == 0 {
            return Err(PyValueError::new_err("dim: must be at least 1"));
        }
        Ok(Self {
            energy: ModelEnergy::User(UserEnergy::new(source, dim, sign_of(kind)?)),
            path: None,
            exact: None,
            dim,
            names: default_names(dim, names)?,
            kind_name: kind.to_string(),
            notes: Vec::new(),
            owner,
            recipe: std::sync::OnceLock::new(),
        })
    }
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
        if !f.is_callable() {
            return Err(PyValueError::new_err("f: not callable"));
        }
        Self::user(
            Source::Callable(std::sync::Arc::new(f.unbind())),
            dim,
            kind,
            names,
            None,
        )
    }

    /// A model from the address of a compiled function
    /// `double f(const double *x, double *grad, int64_t n)` (a numba `cfunc`'s `.address`, a
    /// ctypes function cast to an integer). It is called from the drivers' threads without
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
        Ok(Self::family(
            "builtin",
            ModelEnergy::Builtin(target.energy.clone()),
            path_of(&target.energy),
            exact_of(&spec)?,
            target.names,
            target.notes,
        ))
    }

    /// The exact answer where the library knows one (the AR(1) Gaussian, the funnels, the
    /// posteriordb posteriors that are linear-Gaussian given one scale, conjugate linear
    /// regression): a dict with `log_z` and, where known, `mean` (per coordinate, on the
    /// sampled scale); else None.
    fn exact<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(e) = &self.exact else {
            return Ok(None);
        };
        let d = PyDict::new(py);
        d.set_item("log_z", e.log_z)?;
        if let Some(m) = &e.mean {
            d.set_item("mean", PyArray1::from_slice(py, m))?;
        }
        Ok(Some(d))
    }

    /// Whether the model has a prior/likelihood split (the evidence then runs from the prior).
    #[getter]
    fn has_prior(&self) -> bool {
        self.path.is_some()
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
        let r = match &self.energy {
            ModelEnergy::User(u) => {
                let mut u = u.for_python();
                let r = u.raw(&x, &mut g);
                if let Some(e) = u.take_failure() {
                    return Err(e);
                }
                r
            }
            other => other.clone().energy_grad(&x, &mut g),
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

    /// Records how to build this model again (`(function, args, kwargs)`), once.
    fn _set_recipe(&self, recipe: Py<PyAny>) {
        let _ = self.recipe.set(recipe);
    }

    /// Pickling: the model travels as its recipe and is built again where it lands (a worker
    /// process, a Ray node). A model without one (a compiled function pointer, which means
    /// nothing in another process) refuses with a clear error.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (Py<PyAny>,))> {
        let Some(r) = self.recipe.get() else {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "a {} model cannot be sent to another process (a compiled function's address means nothing there): give the distributed call a function that builds the model instead",
                self.kind_name
            )));
        };
        let rebuild = py.import("thermolab.models")?.getattr("_rebuild")?;
        Ok((rebuild, (r.clone_ref(py),)))
    }
}
