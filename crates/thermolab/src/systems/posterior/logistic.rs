//! Bayesian logistic regression: weights and bias with a `N(0, s²)` prior and a Bernoulli
//! likelihood, `E(θ) = Σ_i [log(1 + e^{η_i}) − y_i η_i] + ‖θ‖²/(2s²)`, `η = Xw + b`.
//!
//! Built in: scikit-learn's breast-cancer data (569 × 30), each column standardised to mean 0 and
//! population sd 1, with an N(0, 1) prior (31 parameters) — the W5 reference target.

use crate::data::{load_csv, CsvSpec, DataError, Dataset};
use crate::energy::{check_dim, Energy, EnergyError, Gradient};
use std::path::Path;

static BREAST_CANCER: &str = include_str!("../../../data/breast_cancer.csv");

/// A Bayesian logistic-regression posterior (parameters: `p` weights, then the bias).
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticRegression {
    x: Vec<f64>,
    y: Vec<f64>,
    n: usize,
    p: usize,
    prior_sd: f64,
    eta: Vec<f64>,
}

impl LogisticRegression {
    /// From a data set with one 0/1 target column; features are standardised when `standardise`.
    pub fn new(data: &Dataset, prior_sd: f64, standardise: bool) -> Result<Self, String> {
        if data.n_targets != 1 {
            return Err("logistic regression needs exactly one target column".into());
        }
        if let Some((i, v)) = data
            .y
            .iter()
            .enumerate()
            .find(|(_, v)| **v != 0.0 && **v != 1.0)
        {
            return Err(format!("row {}: target {v} is not 0 or 1", i + 1));
        }
        if !(prior_sd > 0.0 && prior_sd.is_finite()) {
            return Err("the prior sd must be > 0".into());
        }
        let (n, p) = (data.n, data.n_inputs);
        let mut x = data.x.clone();
        if standardise {
            for j in 0..p {
                let mean = (0..n).map(|i| x[i * p + j]).sum::<f64>() / n as f64;
                let var = (0..n).map(|i| (x[i * p + j] - mean).powi(2)).sum::<f64>() / n as f64;
                let sd = if var > 0.0 { var.sqrt() } else { 1.0 };
                for i in 0..n {
                    x[i * p + j] = (x[i * p + j] - mean) / sd;
                }
            }
        }
        Ok(Self {
            x,
            y: data.y.clone(),
            n,
            p,
            prior_sd,
            eta: vec![0.0; n],
        })
    }
    /// Loads a CSV (last column the 0/1 target unless chosen otherwise in `spec`).
    pub fn from_csv(path: &Path, spec: &CsvSpec, prior_sd: f64) -> Result<Self, String> {
        let d = load_csv(path, spec).map_err(|e: DataError| e.to_string())?;
        Self::new(&d, prior_sd, true)
    }
    /// The built-in breast-cancer posterior with an N(0, 1) prior.
    pub fn breast_cancer() -> Self {
        let d = crate::data::parse_csv_text(
            BREAST_CANCER,
            Path::new("breast_cancer.csv"),
            &CsvSpec::default(),
        )
        .expect("built-in data parse");
        Self::new(&d, 1.0, true).expect("built-in data valid")
    }
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.n
    }
}

impl Energy for LogisticRegression {
    fn dim(&self) -> usize {
        self.p + 1
    }
    fn energy(&mut self, th: &[f64]) -> Result<f64, EnergyError> {
        let mut g = vec![0.0; self.p + 1];
        self.energy_grad(th, &mut g)
    }
}

impl Gradient for LogisticRegression {
    fn energy_grad(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.p + 1, th)?;
        let (n, p) = (self.n, self.p);
        let (w, b) = (&th[..p], th[p]);
        let s2 = self.prior_sd * self.prior_sd;
        let mut e = 0.0;
        for i in 0..n {
            let row = &self.x[i * p..(i + 1) * p];
            let eta = b + row.iter().zip(w).map(|(a, c)| a * c).sum::<f64>();
            self.eta[i] = eta;
            // log(1 + e^η) computed stably.
            let sp = if eta > 0.0 {
                eta + (-eta).exp().ln_1p()
            } else {
                eta.exp().ln_1p()
            };
            e += sp - self.y[i] * eta;
        }
        for (gj, tj) in g.iter_mut().zip(th) {
            *gj = tj / s2;
        }
        for i in 0..n {
            let r = 1.0 / (1.0 + (-self.eta[i]).exp()) - self.y[i];
            let row = &self.x[i * p..(i + 1) * p];
            for (gj, a) in g[..p].iter_mut().zip(row) {
                *gj += r * a;
            }
            g[p] += r;
        }
        e += th.iter().map(|t| t * t).sum::<f64>() / (2.0 * s2);
        Ok(e)
    }
}
