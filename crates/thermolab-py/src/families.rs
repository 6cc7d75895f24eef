//! Built-in families on the user's NumPy data: conjugate linear regression (exact evidence),
//! logistic regression and Bayesian dense networks of any architecture. Each is the library's
//! own model, so it samples at the speed of the built-in targets and has a prior/likelihood
//! split for the evidence estimators.

use crate::model::{default_names, Exact, Model, ModelEnergy};
use numpy::{PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::sync::Arc;
use thermolab::data::Dataset;
use thermolab::energy::PathAt;
use thermolab::nn::{Loss, MlpEnergy};
use thermolab::systems::posterior::{
    BayesianMlp, BuiltinTarget, LinearRegression, LogisticRegression,
};
use thermolab::targets::{network_names, BuiltinPath};

/// The values of a 2-D float64 array, row-major, refusing NaN and infinities with the row and
/// column of the first (1-based, as a spreadsheet shows them).
fn finite_rows(name: &str, a: &PyReadonlyArray2<'_, f64>) -> PyResult<(Vec<f64>, usize, usize)> {
    let shape = a.shape();
    let (n, k) = (shape[0], shape[1]);
    let v: Vec<f64> = a.as_array().iter().copied().collect();
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(PyValueError::new_err(format!(
            "{name}: row {}, column {} is {} (the data must be finite)",
            i / k + 1,
            i % k + 1,
            v[i]
        )));
    }
    Ok((v, n, k))
}

/// A data set from inputs `x` (`n × p`) and targets `y` (`n × k`), with column names.
pub(crate) fn dataset(
    x: &PyReadonlyArray2<'_, f64>,
    y: &PyReadonlyArray2<'_, f64>,
    input_names: Option<Vec<String>>,
) -> PyResult<Dataset> {
    let (xv, n, p) = finite_rows("X", x)?;
    let (yv, ny, k) = finite_rows("y", y)?;
    if n != ny {
        return Err(PyValueError::new_err(format!(
            "y: {ny} rows for {n} rows of X"
        )));
    }
    if n < 2 {
        return Err(PyValueError::new_err(format!(
            "X: {n} row(s); at least 2 are needed"
        )));
    }
    if p == 0 {
        return Err(PyValueError::new_err("X: no columns"));
    }
    let input_names = default_names(p, input_names)
        .map_err(|_| PyValueError::new_err(format!("feature_names: expected {p} names")))?;
    Ok(Dataset {
        x: xv,
        y: yv,
        n,
        n_inputs: p,
        n_targets: k,
        input_names,
        target_names: (0..k).map(|j| format!("y{j}")).collect(),
    })
}

/// A column name safe in a parameter name: letters, digits and `_`.
fn safe(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Bayesian linear regression with known noise sd, `y = Xb + ε`, `b ~ N(0, prior_sd² I)`: the
/// posterior and the evidence are exact.
#[pyfunction]
#[pyo3(signature = (x, y, noise_sd = 1.0, prior_sd = 1.0, feature_names = None))]
pub fn linear_regression(
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray2<'_, f64>,
    noise_sd: f64,
    prior_sd: f64,
    feature_names: Option<Vec<String>>,
) -> PyResult<Model> {
    let d = dataset(&x, &y, feature_names)?;
    let p = LinearRegression::new(&d, noise_sd, prior_sd).map_err(crate::value_error)?;
    let exact = Exact {
        log_z: p.log_evidence(),
        mean: Some(p.posterior_mean()),
    };
    let names = d
        .input_names
        .iter()
        .map(|c| format!("b_{}", safe(c)))
        .collect();
    let path = BuiltinPath::Linreg(p);
    Ok(Model::family(
        "linear_regression",
        ModelEnergy::Path(PathAt::new(path.clone(), 1.0)),
        Some(path),
        Some(exact),
        names,
        vec!["no intercept unless X has a column of ones".into()],
    ))
}

/// Bayesian logistic regression with 0/1 targets `y`, a N(0, prior_sd²) prior on every weight
/// and the bias; features standardised first when `standardise`. `f64` keeps the
/// double-precision kernel (the default runs f32 data and kernels with f64 sums).
#[pyfunction]
#[pyo3(signature = (x, y, prior_sd = 1.0, standardise = true, f64 = false, feature_names = None))]
pub fn logistic_regression(
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray2<'_, f64>,
    prior_sd: f64,
    standardise: bool,
    f64: bool,
    feature_names: Option<Vec<String>>,
) -> PyResult<Model> {
    let d = dataset(&x, &y, feature_names)?;
    let t = LogisticRegression::new(&d, prior_sd, standardise).map_err(crate::value_error)?;
    let t = if f64 { t.double_precision() } else { t };
    let mut names: Vec<String> = d
        .input_names
        .iter()
        .map(|c| format!("w_{}", safe(c)))
        .collect();
    names.push("bias".into());
    let notes = if standardise {
        vec!["features standardised to mean 0 and sd 1 before fitting: w_<feature> is the change in log-odds per standard deviation of the feature, bias the log-odds at the feature means".into()]
    } else {
        Vec::new()
    };
    Ok(Model::family(
        "logistic_regression",
        ModelEnergy::Builtin(BuiltinTarget::Logistic(t.clone())),
        Some(BuiltinPath::Logistic(t)),
        None,
        names,
        notes,
    ))
}

/// A Bayesian dense network `arch` (e.g. `"4-16-1:tanh"`; its first width must be the number
/// of columns of X and its last that of y) with a Gaussian likelihood of sd `noise_sd` and a
/// N(0, prior_sd²) prior on every weight and bias.
#[pyfunction]
#[pyo3(signature = (x, y, arch, noise_sd = 0.1, prior_sd = 1.0, f64 = false))]
pub fn mlp(
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray2<'_, f64>,
    arch: &str,
    noise_sd: f64,
    prior_sd: f64,
    f64: bool,
) -> PyResult<Model> {
    let d = dataset(&x, &y, None)?;
    let arch: thermolab::nn::Architecture = arch.parse().map_err(crate::value_error)?;
    let names = network_names(&arch);
    let net = MlpEnergy::new(arch, Arc::new(d), Loss::Mse).map_err(crate::value_error)?;
    let t = BayesianMlp::new(net, noise_sd, prior_sd).map_err(crate::value_error)?;
    let t = if f64 { t.double_precision() } else { t };
    Ok(Model::family(
        "mlp",
        ModelEnergy::Builtin(BuiltinTarget::Network(Box::new(t.clone()))),
        Some(BuiltinPath::Network(Box::new(t))),
        None,
        names,
        vec!["parameters named by layer as Stan does (1-based): Wk.i.j is the weight from unit j of layer k − 1 (layer 0: the inputs) to unit i of layer k, bk.i the bias of unit i".into()],
    ))
}
