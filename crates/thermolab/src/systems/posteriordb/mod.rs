//! Six real posteriors from posteriordb (Magnusson, Bürkner & Vehtari), written from their
//! mathematics on the unconstrained scale with every normalising constant, so that `ln Z` is the
//! model's marginal likelihood: eight schools (centred and non-centred), sblrc-blr, arK,
//! gp_pois_regr, low_dim_gauss_mix and diamonds. Each is a power-posterior path (prior as the
//! reference, likelihood as the delta) with a sampler of its prior, and a plain energy at t = 1
//! for sampling. For the three that are linear-Gaussian given one scale (eight schools,
//! sblrc-blr, arK), [`PosteriorDb::exact`] gives `ln Z` and the posterior means by 1-D
//! quadrature over the log-scale.
//!
//! The data of the five small posteriors are compiled in; diamonds (2.3 MB) is read from
//! `$THERMOLAB_POSTERIORDB/diamonds/diamonds.json` (or `data/posteriordb`,
//! `../shared/data/posteriordb` relative to the working folder).
//!
//! ```
//! use thermolab::prelude::*;
//! use thermolab::systems::posteriordb::PosteriorDb;
//!
//! let schools = PosteriorDb::from_name("eight-schools-nc")?;
//! let exact = schools.exact().expect("eight schools has an exact evidence");
//! assert!((exact.log_z - (-31.31)).abs() < 0.01);
//! let mut posterior = PathAt::new(schools, 1.0);
//! assert!(posterior.energy(&[4.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])?.is_finite());
//! # Ok::<(), thermolab::Error>(())
//! ```

mod linear;
mod models;
mod priors;
mod quadrature;

pub use models::{EightSchools, GpPoisson, NormalMixture, Regression};
pub use quadrature::Exact;

use crate::data::DataError;
use crate::energy::{check_dim, EnergyError, LinearPath};
use crate::error::Error;
use linear::LeastSquares;
use models::{CoefPrior, ScalePrior};
use rand::Rng;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

/// The environment variable naming a folder with posteriordb's data (for diamonds).
pub const POSTERIORDB_ENV: &str = "THERMOLAB_POSTERIORDB";

/// The names [`PosteriorDb::from_name`] accepts.
pub const NAMES: &[&str] = &[
    "eight-schools",
    "eight-schools-nc",
    "sblrc-blr",
    "ark",
    "gp-pois-regr",
    "low-dim-gauss-mix",
    "diamonds",
];

/// One of the models.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Model {
    /// Eight schools, centred or not.
    EightSchools(EightSchools),
    /// sblrc-blr, arK or diamonds.
    Regression(Regression),
    /// gp_pois_regr.
    GpPoisson(GpPoisson),
    /// low_dim_gauss_mix.
    NormalMixture(NormalMixture),
}

/// A posteriordb posterior as a power-posterior path.
#[derive(Debug, Clone)]
pub struct PosteriorDb {
    name: &'static str,
    model: Arc<Model>,
    names: Arc<Vec<String>>,
}

fn parse(name: &str, text: &str) -> Result<Value, Error> {
    serde_json::from_str(text).map_err(|e| {
        Error::from(DataError::Columns {
            path: PathBuf::from(name),
            message: format!("not valid JSON: {e}"),
        })
    })
}

fn numbers(v: &Value, field: &str, file: &str) -> Result<Vec<f64>, Error> {
    let bad = || {
        Error::from(DataError::Columns {
            path: PathBuf::from(file),
            message: format!("field `{field}` must be an array of finite numbers"),
        })
    };
    let arr = v.get(field).and_then(Value::as_array).ok_or_else(bad)?;
    let mut out = Vec::with_capacity(arr.len());
    for x in arr {
        match x {
            Value::Array(row) => {
                for y in row {
                    out.push(y.as_f64().filter(|f| f.is_finite()).ok_or_else(bad)?);
                }
            }
            _ => out.push(x.as_f64().filter(|f| f.is_finite()).ok_or_else(bad)?),
        }
    }
    Ok(out)
}

/// The diamonds data file, found as the module documentation says.
fn diamonds_file() -> Result<PathBuf, Error> {
    let rel = "diamonds/diamonds.json";
    if let Some(dir) = std::env::var_os(POSTERIORDB_ENV) {
        let p = PathBuf::from(dir).join(rel);
        if p.exists() {
            return Ok(p);
        }
        return Err(DataError::Columns {
            path: p,
            message: format!("${POSTERIORDB_ENV} is set but this file does not exist"),
        }
        .into());
    }
    for c in ["data/posteriordb", "../shared/data/posteriordb"] {
        let p = PathBuf::from(c).join(rel);
        if p.exists() {
            return Ok(p);
        }
    }
    Err(DataError::Columns {
        path: PathBuf::from(rel),
        message: format!(
            "the diamonds data (2.3 MB) are not compiled in: set ${POSTERIORDB_ENV} to a folder \
             holding diamonds/diamonds.json from posteriordb"
        ),
    }
    .into())
}

/// The number of columns of a row-major design `x` with one row per response.
fn columns(x: &[f64], y: &[f64], min: usize, file: &str) -> Result<usize, Error> {
    let k = x.len() / y.len().max(1);
    if y.is_empty() || k < min || k * y.len() != x.len() {
        return Err(DataError::Columns {
            path: PathBuf::from(file),
            message: format!(
                "the design must have one row of at least {min} numbers per response ({} numbers for {} responses)",
                x.len(),
                y.len()
            ),
        }
        .into());
    }
    Ok(k)
}

fn indexed(prefix: &str, n: usize) -> impl Iterator<Item = String> + '_ {
    (1..=n).map(move |i| format!("{prefix}.{i}"))
}

impl PosteriorDb {
    /// The posterior called `name` (one of [`NAMES`]).
    pub fn from_name(name: &str) -> Result<Self, Error> {
        let name: &'static str = NAMES.iter().find(|n| **n == name).ok_or_else(|| {
            crate::settings::SettingsError::new(
                "target",
                format!(
                    "unknown posteriordb posterior `{name}` (one of {})",
                    NAMES.join(", ")
                ),
            )
        })?;
        let (model, names): (Model, Vec<String>) = match name {
            "eight-schools" | "eight-schools-nc" => {
                let f = "eight_schools.json";
                let v = parse(
                    f,
                    include_str!("../../../data/posteriordb/eight_schools.json"),
                )?;
                let noncentred = name == "eight-schools-nc";
                let theta = if noncentred { "theta_tilde" } else { "theta" };
                let m = EightSchools {
                    y: numbers(&v, "y", f)?,
                    sigma: numbers(&v, "sigma", f)?,
                    noncentred,
                };
                let n = m.y.len();
                let names = ["mu".to_string(), "log_tau".into()]
                    .into_iter()
                    .chain(indexed(theta, n))
                    .collect();
                (Model::EightSchools(m), names)
            }
            "sblrc-blr" => {
                let f = "sblrc.json";
                let v = parse(f, include_str!("../../../data/posteriordb/sblrc.json"))?;
                let (x, y) = (numbers(&v, "X", f)?, numbers(&v, "y", f)?);
                let d = columns(&x, &y, 1, f)?;
                let m = Regression {
                    ls: LeastSquares::new(&x, &y, d),
                    coef: vec![CoefPrior::Normal(0.0, 10.0); d],
                    scale: ScalePrior::HalfNormal(10.0),
                };
                let names = indexed("beta", d).chain(["log_sigma".into()]).collect();
                (Model::Regression(m), names)
            }
            "ark" => {
                let f = "arK.json";
                let v = parse(f, include_str!("../../../data/posteriordb/arK.json"))?;
                let series = numbers(&v, "y", f)?;
                let k = 5;
                let mut x = Vec::new();
                let mut y = Vec::new();
                for t in k..series.len() {
                    x.push(1.0);
                    x.extend((1..=k).map(|l| series[t - l]));
                    y.push(series[t]);
                }
                let m = Regression {
                    ls: LeastSquares::new(&x, &y, k + 1),
                    coef: vec![CoefPrior::Normal(0.0, 10.0); k + 1],
                    scale: ScalePrior::HalfCauchy(2.5),
                };
                let names = ["alpha".to_string()]
                    .into_iter()
                    .chain(indexed("beta", k))
                    .chain(["log_sigma".into()])
                    .collect();
                (Model::Regression(m), names)
            }
            "gp-pois-regr" => {
                let f = "gp_pois_regr.json";
                let v = parse(
                    f,
                    include_str!("../../../data/posteriordb/gp_pois_regr.json"),
                )?;
                let k = numbers(&v, "k", f)?;
                let log_fact = k
                    .iter()
                    .map(|&c| statrs::function::gamma::ln_gamma(c + 1.0))
                    .sum();
                let m = GpPoisson {
                    x: numbers(&v, "x", f)?,
                    k,
                    log_fact,
                };
                let names = ["log_rho".to_string(), "log_alpha".into()]
                    .into_iter()
                    .chain(indexed("f_tilde", m.x.len()))
                    .collect();
                (Model::GpPoisson(m), names)
            }
            "low-dim-gauss-mix" => {
                let f = "low_dim_gauss_mix.json";
                let v = parse(
                    f,
                    include_str!("../../../data/posteriordb/low_dim_gauss_mix.json"),
                )?;
                let m = NormalMixture {
                    y: numbers(&v, "y", f)?,
                };
                let names = [
                    "mu.1",
                    "log_mu_gap",
                    "log_sigma.1",
                    "log_sigma.2",
                    "logit_theta",
                ]
                .map(String::from)
                .to_vec();
                (Model::NormalMixture(m), names)
            }
            _ => return Self::diamonds(&diamonds_file()?),
        };
        Ok(Self {
            name,
            model: Arc::new(model),
            names: Arc::new(names),
        })
    }

    /// diamonds from its posteriordb data file (`diamonds.json`).
    pub fn diamonds(path: &std::path::Path) -> Result<Self, Error> {
        let f = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| DataError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let v = parse(&f, &text)?;
        let (x, y) = (numbers(&v, "X", &f)?, numbers(&v, "Y", &f)?);
        let k = columns(&x, &y, 2, &f)?;
        // Columns 2…K centred at their means, then a column of ones for the intercept.
        let n = y.len();
        let means: Vec<f64> = (1..k)
            .map(|j| (0..n).map(|i| x[i * k + j]).sum::<f64>() / n as f64)
            .collect();
        let mut xc = Vec::with_capacity(n * k);
        for i in 0..n {
            xc.extend((1..k).map(|j| x[i * k + j] - means[j - 1]));
            xc.push(1.0);
        }
        let mut coef = vec![CoefPrior::Normal(0.0, 1.0); k - 1];
        coef.push(CoefPrior::StudentT(3.0, 8.0, 10.0));
        let m = Regression {
            ls: LeastSquares::new(&xc, &y, k),
            coef,
            scale: ScalePrior::HalfStudentT(3.0, 10.0),
        };
        let names = indexed("b", k - 1)
            .chain(["Intercept".into(), "log_sigma".into()])
            .collect();
        Ok(Self {
            name: "diamonds",
            model: Arc::new(Model::Regression(m)),
            names: Arc::new(names),
        })
    }

    /// The posterior's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// One name per coordinate (scales as `log_…`).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Exact `ln Z` and posterior means by quadrature, for the models linear-Gaussian given one
    /// scale (eight schools, sblrc-blr, arK); `None` for the others.
    pub fn exact(&self) -> Option<Exact> {
        match self.model.as_ref() {
            Model::EightSchools(m) => Some(quadrature::eight_schools(m)),
            Model::Regression(m) => quadrature::regression(m),
            _ => None,
        }
    }

    /// A short statement of what the model is, for reports.
    pub fn describe(&self) -> &'static str {
        match self.name {
            "eight-schools" => "eight schools, centred: mu ~ N(0,5), tau ~ half-Cauchy(0,5), theta_j ~ N(mu,tau), y_j ~ N(theta_j,sigma_j)",
            "eight-schools-nc" => "eight schools, non-centred: theta_j = mu + tau theta_tilde_j, theta_tilde_j ~ N(0,1)",
            "sblrc-blr" => "linear regression, N = 100, D = 5: beta ~ N(0,10), sigma ~ half-normal(0,10)",
            "ark" => "AR(5): alpha, beta ~ N(0,10), sigma ~ half-Cauchy(0,2.5), 195 conditioned steps",
            "gp-pois-regr" => "Gaussian-process Poisson regression, N = 11: rho ~ Gamma(25,4), alpha ~ half-normal(0,2)",
            "low-dim-gauss-mix" => "two-component normal mixture, N = 1000, ordered means",
            _ => "diamonds: log-price regression, N = 5000, 24 centred predictors, Student-t priors",
        }
    }
}

macro_rules! each {
    ($self:expr, $m:ident => $e:expr) => {
        match $self.model.as_ref() {
            Model::EightSchools($m) => $e,
            Model::Regression($m) => $e,
            Model::GpPoisson($m) => $e,
            Model::NormalMixture($m) => $e,
        }
    };
}

fn finite(e: f64) -> Result<f64, EnergyError> {
    if e.is_nan() {
        Err(EnergyError::NonFinite { value: e })
    } else {
        Ok(e)
    }
}

impl LinearPath for PosteriorDb {
    fn dim(&self) -> usize {
        self.names.len()
    }
    fn reference_energy(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.names.len(), x)?;
        finite(each!(self, m => m.prior(x, g)))
    }
    fn delta_energy(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.names.len(), x)?;
        finite(each!(self, m => m.likelihood(x, g)))
    }
    fn log_z_reference(&self) -> Option<f64> {
        Some(0.0)
    }
    fn sample_reference<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) -> bool {
        each!(self, m => m.sample_prior(rng, out));
        true
    }
}

#[cfg(test)]
mod tests;
