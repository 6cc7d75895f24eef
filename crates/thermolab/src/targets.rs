//! Targets by name: the built-in sampling targets ([`TargetSpec`] → [`Target`]) and evidence
//! paths ([`PathSpec`] → [`BuiltinPath`]) that the command line, the `certify` suite and
//! bindings build from a name and a few parameters. A spec serialises to the description that
//! run files record, and a checkpoint is resumed only with the spec it was made for.
//!
//! ```
//! use thermolab::targets::{TargetParams, TargetSpec};
//!
//! let spec = TargetSpec::from_name("funnel-nc", &TargetParams { dim: 5, ..Default::default() })?;
//! let target = spec.build()?;
//! assert_eq!(target.names[0], "v");
//! assert_eq!(thermolab::energy::Energy::dim(&target.energy), 5);
//! # Ok::<(), thermolab::Error>(())
//! ```

use crate::data::{load_csv, sin_data, synthetic_regression, Columns, CsvSpec, Dataset};
use crate::energy::{EnergyError, LinearPath, PathAt, PathEnergy, ReferencePath};
use crate::error::Error;
use crate::nn::{Loss, MlpEnergy};
use crate::settings::SettingsError;
use crate::systems::posterior::{
    BayesianMlp, BuiltinTarget, Funnel, GaussianMixture, LinearRegression, LogisticRegression,
    NigRegression,
};
use crate::systems::posteriordb::PosteriorDb;
use crate::systems::Ar1Gaussian;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

/// The precision of a target with single-precision kernels.
const SINGLE: &str = "f32 data and kernel, f64 sums";

/// The names [`TargetSpec::from_name`] accepts.
pub const TARGETS: &[&str] = &[
    "gauss",
    "funnel",
    "funnel-nc",
    "mixture",
    "logreg",
    "bnn",
    "eight-schools",
    "eight-schools-nc",
    "sblrc-blr",
    "ark",
    "gp-pois-regr",
    "low-dim-gauss-mix",
    "diamonds",
];

/// The parameters a target name may use, with the command line's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetParams {
    /// Dimension (gauss, funnel, mixture).
    pub dim: usize,
    /// AR(1) correlation (gauss).
    pub rho: f64,
    /// Distance between the two modes (mixture).
    pub separation: f64,
    /// A CSV file (logreg, bnn); `None` for the built-in data.
    pub data: Option<PathBuf>,
    /// The target column of the CSV.
    pub target_column: Option<String>,
    /// Prior standard deviation of the weights (logreg, bnn).
    pub prior_sd: f64,
    /// Observation noise sd (bnn).
    pub noise_sd: f64,
    /// Network architecture (bnn), e.g. `1-10-1:tanh`.
    pub arch: String,
    /// Keep the f64 kernels (logreg, bnn use f32 kernels with f64 sums by default).
    pub f64: bool,
}

impl Default for TargetParams {
    fn default() -> Self {
        Self {
            dim: 10,
            rho: 0.9,
            separation: 8.0,
            data: None,
            target_column: None,
            prior_sd: 1.0,
            noise_sd: 0.1,
            arch: "1-10-1:tanh".into(),
            f64: false,
        }
    }
}

/// A built-in sampling target, by name and parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "target", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TargetSpec {
    /// A zero-mean AR(1) Gaussian.
    Gauss {
        /// Dimension.
        dim: usize,
        /// Correlation.
        rho: f64,
    },
    /// Neal's funnel, centred.
    Funnel {
        /// Dimension.
        dim: usize,
    },
    /// Neal's funnel, non-centred.
    FunnelNc {
        /// Dimension.
        dim: usize,
    },
    /// Two Gaussian modes with weights 0.3 / 0.7.
    Mixture {
        /// Dimension.
        dim: usize,
        /// Distance between the modes.
        separation: f64,
    },
    /// Bayesian logistic regression.
    Logreg {
        /// A CSV file (`None`: the built-in breast-cancer data).
        data: Option<PathBuf>,
        /// The CSV's 0/1 target column.
        target_column: Option<String>,
        /// Prior sd of the weights.
        prior_sd: f64,
        /// Keep the f64 kernel.
        f64: bool,
    },
    /// A Bayesian dense network with a Gaussian likelihood.
    Bnn {
        /// Architecture, e.g. `1-10-1:tanh`.
        arch: String,
        /// A CSV file (`None`: 200 points of the built-in sin data).
        data: Option<PathBuf>,
        /// The CSV's target column.
        target_column: Option<String>,
        /// Observation noise sd.
        noise_sd: f64,
        /// Prior sd of the weights.
        prior_sd: f64,
        /// Keep the f64 kernel.
        f64: bool,
    },
    /// A posteriordb posterior ([`crate::systems::posteriordb`]) at t = 1.
    PosteriorDb {
        /// Its name (one of [`crate::systems::posteriordb::NAMES`]).
        name: String,
    },
}

/// A built target: the energy, its parameter names and the precision of its kernel.
#[derive(Debug, Clone)]
pub struct Target {
    /// The energy.
    pub energy: BuiltinTarget,
    /// One name per coordinate (`x0`, `v`, `w3`, `bias`, `theta12`, …).
    pub names: Vec<String>,
    /// `f32 data and kernel, f64 sums` when the target runs single-precision kernels, else
    /// `f64`.
    pub precision: &'static str,
    /// What a reader of the draws must know: preprocessing of the data, how the names map to
    /// the model.
    pub notes: Vec<String>,
}

fn csv_spec(target_column: &Option<String>) -> CsvSpec {
    CsvSpec {
        targets: target_column
            .as_ref()
            .map_or(Columns::Default, |t| Columns::Named(vec![t.clone()])),
        ..Default::default()
    }
}

fn names(d: usize, prefix: &str) -> Vec<String> {
    (0..d).map(|i| format!("{prefix}{i}")).collect()
}

/// The names of a network's flat parameters as Stan writes array elements (1-based):
/// `Wk.i.j` (from unit j of layer k − 1 to unit i of layer k) and `bk.i`, layers k = 1, 2, ….
pub fn network_names(arch: &crate::nn::Architecture) -> Vec<String> {
    let mut out = vec![String::new(); arch.n_params()];
    for (k, l) in arch.layers().iter().enumerate() {
        for i in 0..l.n_out {
            for j in 0..l.n_in {
                out[l.w + i * l.n_in + j] = format!("W{}.{}.{}", k + 1, i + 1, j + 1);
            }
            out[l.b + i] = format!("b{}.{}", k + 1, i + 1);
        }
    }
    out
}

/// A model's refusal of its data, naming the data file when there is one.
fn in_file(path: Option<&std::path::Path>, e: impl Into<Error> + std::fmt::Display) -> Error {
    match path {
        Some(p) => crate::data::DataError::Unsuitable {
            path: p.to_path_buf(),
            message: e.to_string(),
        }
        .into(),
        None => e.into(),
    }
}

/// A column name safe in a CSV header and a file name: letters, digits and `_`.
fn column_safe(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

impl TargetSpec {
    /// The spec of target `name` (one of [`TARGETS`]) with parameters `p`.
    pub fn from_name(name: &str, p: &TargetParams) -> Result<Self, SettingsError> {
        Ok(match name {
            "gauss" => Self::Gauss {
                dim: p.dim,
                rho: p.rho,
            },
            "funnel" => Self::Funnel { dim: p.dim },
            "funnel-nc" => Self::FunnelNc { dim: p.dim },
            "mixture" => Self::Mixture {
                dim: p.dim,
                separation: p.separation,
            },
            "logreg" => Self::Logreg {
                data: p.data.clone(),
                target_column: p.target_column.clone(),
                prior_sd: p.prior_sd,
                f64: p.f64,
            },
            "bnn" => Self::Bnn {
                arch: p.arch.clone(),
                data: p.data.clone(),
                target_column: p.target_column.clone(),
                noise_sd: p.noise_sd,
                prior_sd: p.prior_sd,
                f64: p.f64,
            },
            other if crate::systems::posteriordb::NAMES.contains(&other) => Self::PosteriorDb {
                name: other.to_string(),
            },
            other => {
                return Err(SettingsError::new(
                    "target",
                    format!("unknown target `{other}` ({})", TARGETS.join(", ")),
                ))
            }
        })
    }

    /// The data file of a logreg or bnn target, if one was given.
    fn data_file(&self) -> Option<&std::path::Path> {
        match self {
            Self::Logreg { data, .. } | Self::Bnn { data, .. } => data.as_deref(),
            _ => None,
        }
    }

    /// The target's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Gauss { .. } => "gauss",
            Self::Funnel { .. } => "funnel",
            Self::FunnelNc { .. } => "funnel-nc",
            Self::Mixture { .. } => "mixture",
            Self::Logreg { .. } => "logreg",
            Self::Bnn { .. } => "bnn",
            Self::PosteriorDb { name } => crate::systems::posteriordb::NAMES
                .iter()
                .find(|n| *n == name)
                .copied()
                .unwrap_or("posteriordb"),
        }
    }

    /// Builds the target (reading its data file, if any).
    pub fn build(&self) -> Result<Target, Error> {
        let plain = |energy, names| Target {
            energy,
            names,
            precision: "f64",
            notes: Vec::new(),
        };
        Ok(match self {
            Self::Gauss { dim, rho } => plain(
                BuiltinTarget::Gaussian(Ar1Gaussian::new(*dim, *rho, 1.0)?),
                names(*dim, "x"),
            ),
            Self::Funnel { dim } | Self::FunnelNc { dim } => {
                let centred = matches!(self, Self::Funnel { .. });
                let f = Funnel::new(*dim, centred)?;
                let mut n = vec!["v".to_string()];
                n.extend((1..*dim).map(|i| format!("{}{i}", if centred { "x" } else { "z" })));
                plain(BuiltinTarget::Funnel(f), n)
            }
            Self::Mixture { dim, separation } => plain(
                BuiltinTarget::Mixture(GaussianMixture::two_modes(*dim, *separation)?),
                names(*dim, "x"),
            ),
            Self::Logreg {
                data,
                target_column,
                prior_sd,
                f64,
            } => {
                let d = match data {
                    None => LogisticRegression::breast_cancer_data(),
                    Some(path) => load_csv(path, &csv_spec(target_column))?,
                };
                let t = LogisticRegression::new(&d, *prior_sd, true)
                    .map_err(|e| in_file(data.as_deref(), e))?;
                let t = if *f64 { t.double_precision() } else { t };
                let precision = if t.single_precision() { SINGLE } else { "f64" };
                let mut n: Vec<String> = d
                    .input_names
                    .iter()
                    .map(|c| format!("w_{}", column_safe(c)))
                    .collect();
                n.push("bias".into());
                Target {
                    energy: BuiltinTarget::Logistic(t),
                    names: n,
                    precision,
                    notes: vec![format!(
                        "features standardised to mean 0 and sd 1 before fitting: w_<feature> is the change in log-odds of {} = 1 per standard deviation of the feature, bias the log-odds at the feature means",
                        d.target_names.first().map_or("the target", |t| t.as_str())
                    )],
                }
            }
            Self::Bnn {
                arch,
                data,
                target_column,
                noise_sd,
                prior_sd,
                f64,
            } => {
                let data = match data {
                    None => sin_data(200, 0.1, 0),
                    Some(path) => load_csv(path, &csv_spec(target_column))?,
                };
                let arch: crate::nn::Architecture = arch.parse()?;
                let names = network_names(&arch);
                let net = MlpEnergy::new(arch, Arc::new(data), Loss::Mse)
                    .map_err(|e| in_file(self.data_file(), e))?;
                let t = BayesianMlp::new(net, *noise_sd, *prior_sd)?;
                let t = if *f64 { t.double_precision() } else { t };
                let precision = if t.single_precision() { SINGLE } else { "f64" };
                Target {
                    energy: BuiltinTarget::Network(Box::new(t)),
                    names,
                    precision,
                    notes: vec!["parameters named by layer as Stan does (1-based, ArviZ reads them as arrays): Wk.i.j is the weight from unit j of layer k − 1 (layer 0: the inputs) to unit i of layer k, bk.i the bias of unit i".into()],
                }
            }
            Self::PosteriorDb { name } => {
                let p = PosteriorDb::from_name(name)?;
                Target {
                    names: p.names().to_vec(),
                    notes: vec![
                        p.describe().to_string(),
                        "scales sampled on the log scale (log_…), with the log-Jacobian in the density".into(),
                    ],
                    energy: BuiltinTarget::PosteriorDb(Box::new(PathAt::new(p, 1.0))),
                    precision: "f64",
                }
            }
        })
    }
}

/// Where an evidence target's data come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DataSource {
    /// A CSV file with its target column.
    File {
        /// The file.
        path: PathBuf,
        /// The target column (default: the last).
        target_column: Option<String>,
    },
    /// Synthetic regression data: `n` rows, `dim` features, noise sd `sigma`.
    Synthetic {
        /// Rows.
        n: usize,
        /// Features.
        dim: usize,
        /// Noise sd.
        sigma: f64,
        /// Seed of the data (the init stream of this seed).
        seed: u64,
    },
    /// `n` points of the built-in sin data with noise sd 0.1.
    Sin {
        /// Points.
        n: usize,
        /// Seed of the data.
        seed: u64,
    },
}

impl DataSource {
    /// Loads or makes the data.
    pub fn load(&self) -> Result<Dataset, Error> {
        Ok(match self {
            Self::File {
                path,
                target_column,
            } => load_csv(path, &csv_spec(target_column))?,
            Self::Synthetic {
                n,
                dim,
                sigma,
                seed,
            } => {
                if *n < 2 || *dim == 0 {
                    return Err(SettingsError::new(
                        "n",
                        "synthetic data needs n ≥ 2 rows and dim ≥ 1 features",
                    )
                    .into());
                }
                synthetic_regression(*n, *dim, *sigma, *seed)
            }
            Self::Sin { n, seed } => {
                if *n < 2 {
                    return Err(SettingsError::new("n", "needs at least 2 points").into());
                }
                sin_data(*n, 0.1, *seed)
            }
        })
    }
}

/// A built-in evidence target: a posterior split into prior and likelihood, or a plain energy
/// reached from a Gaussian reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "target", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PathSpec {
    /// Conjugate Bayesian linear regression with known noise sd (exact evidence).
    Linreg {
        /// The data.
        data: DataSource,
        /// Noise sd.
        sigma: f64,
        /// Prior sd of the coefficients.
        prior_sd: f64,
    },
    /// Normal–inverse-gamma regression with Zellner's g-prior (exact evidence).
    LinregNig {
        /// The data.
        data: DataSource,
        /// Inverse-gamma shape.
        a0: f64,
        /// Inverse-gamma scale.
        b0: f64,
        /// Zellner's g.
        g: f64,
    },
    /// Bayesian logistic regression.
    Logreg {
        /// The data.
        data: DataSource,
        /// Prior sd.
        prior_sd: f64,
    },
    /// A Bayesian network with Gaussian likelihood.
    Bnn {
        /// The data.
        data: DataSource,
        /// Architecture.
        arch: String,
        /// Noise sd.
        sigma: f64,
        /// Prior sd.
        prior_sd: f64,
    },
    /// A posteriordb posterior (exact evidence for eight schools, sblrc-blr and arK).
    PosteriorDb {
        /// Its name (one of [`crate::systems::posteriordb::NAMES`]).
        name: String,
    },
    /// A plain target (gauss, funnel, funnel-nc, mixture) from `N(0, ref_sd² I)`.
    Reference {
        /// The target.
        of: TargetSpec,
        /// The reference's sd.
        ref_sd: f64,
    },
}

/// A built evidence path.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BuiltinPath {
    /// Conjugate linear regression.
    Linreg(LinearRegression),
    /// Normal–inverse-gamma regression.
    Nig(NigRegression),
    /// Logistic regression.
    Logistic(LogisticRegression),
    /// A Bayesian network.
    Network(Box<BayesianMlp>),
    /// A plain target from a Gaussian reference.
    Reference(ReferencePath<BuiltinTarget>),
    /// A posteriordb posterior.
    PosteriorDb(PosteriorDb),
}

impl PathSpec {
    /// Builds the path and, where it is known, its exact `ln Z` (the evidence).
    pub fn build(&self) -> Result<(BuiltinPath, Option<f64>), Error> {
        Ok(match self {
            Self::Linreg {
                data,
                sigma,
                prior_sd,
            } => {
                let p = LinearRegression::new(&data.load()?, *sigma, *prior_sd)?;
                let exact = p.log_evidence();
                (BuiltinPath::Linreg(p), Some(exact))
            }
            Self::LinregNig { data, a0, b0, g } => {
                let p = NigRegression::new(&data.load()?, *a0, *b0, *g)?;
                let exact = p.log_evidence();
                (BuiltinPath::Nig(p), Some(exact))
            }
            Self::Logreg { data, prior_sd } => (
                BuiltinPath::Logistic(LogisticRegression::new(&data.load()?, *prior_sd, true)?),
                None,
            ),
            Self::Bnn {
                data,
                arch,
                sigma,
                prior_sd,
            } => {
                let net = MlpEnergy::new(arch.parse()?, Arc::new(data.load()?), Loss::Mse)?;
                (
                    BuiltinPath::Network(Box::new(BayesianMlp::new(net, *sigma, *prior_sd)?)),
                    None,
                )
            }
            Self::PosteriorDb { name } => {
                let p = PosteriorDb::from_name(name)?;
                let exact = p.exact().map(|e| e.log_z);
                (BuiltinPath::PosteriorDb(p), exact)
            }
            Self::Reference { of, ref_sd } => {
                crate::settings::positive("ref_sd", *ref_sd)?;
                let exact =
                    match of {
                        TargetSpec::Gauss { dim, rho } => {
                            Some(Ar1Gaussian::new(*dim, *rho, 1.0)?.log_z(1.0))
                        }
                        TargetSpec::Funnel { dim } => Some(Funnel::new(*dim, true)?.log_z()),
                        TargetSpec::FunnelNc { dim } => Some(Funnel::new(*dim, false)?.log_z()),
                        TargetSpec::Mixture { .. } => Some(0.0),
                        _ => return Err(SettingsError::new(
                            "target",
                            "a Gaussian reference path needs gauss, funnel, funnel-nc or mixture",
                        )
                        .into()),
                    };
                let t = of.build()?.energy;
                (
                    BuiltinPath::Reference(ReferencePath {
                        target: t,
                        ref_sd: *ref_sd,
                    }),
                    exact,
                )
            }
        })
    }
}

macro_rules! each_path {
    ($self:expr, $p:ident => $e:expr) => {
        match $self {
            BuiltinPath::Linreg($p) => $e,
            BuiltinPath::Nig($p) => $e,
            BuiltinPath::Logistic($p) => $e,
            BuiltinPath::Network($p) => $e,
            BuiltinPath::Reference($p) => $e,
            BuiltinPath::PosteriorDb($p) => $e,
        }
    };
}

impl LinearPath for BuiltinPath {
    fn dim(&self) -> usize {
        match self {
            Self::Linreg(p) => LinearPath::dim(p),
            Self::Nig(p) => LinearPath::dim(p),
            Self::Logistic(p) => LinearPath::dim(p),
            Self::Network(p) => LinearPath::dim(p.as_ref()),
            Self::Reference(p) => LinearPath::dim(p),
            Self::PosteriorDb(p) => LinearPath::dim(p),
        }
    }
    fn reference_energy(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        each_path!(self, p => p.reference_energy(x, g))
    }
    fn delta_energy(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        each_path!(self, p => p.delta_energy(x, g))
    }
    fn values(&mut self, x: &[f64]) -> Option<Result<PathEnergy, EnergyError>> {
        each_path!(self, p => p.values(x))
    }
    fn log_z_reference(&self) -> Option<f64> {
        each_path!(self, p => p.log_z_reference())
    }
    fn sample_reference<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) -> bool {
        each_path!(self, p => p.sample_reference(rng, out))
    }
}
