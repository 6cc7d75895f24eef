//! Welford estimation of the posterior covariance during a warm-up window, regularised towards a
//! small multiple of the identity as Stan does: `Σ̂ = n/(n+5) S + 10⁻³ · 5/(n+5) I`.

use crate::kernels::mcmc::Metric;
use serde::{Deserialize, Serialize};

/// Which metric to adapt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// Keep the identity.
    Identity,
    /// Adapt a diagonal metric.
    #[default]
    Diag,
    /// Adapt a dense metric.
    Dense,
}

impl MetricKind {
    /// Parses `identity`, `diag` or `dense`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "identity" | "unit" => Some(Self::Identity),
            "diag" | "diagonal" => Some(Self::Diag),
            "dense" => Some(Self::Dense),
            _ => None,
        }
    }
}

/// Running mean and (co)variance of draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MassEstimator {
    kind: MetricKind,
    n: u64,
    mean: Vec<f64>,
    m2: Vec<f64>,
}

impl MassEstimator {
    /// A fresh estimator for `dim` coordinates.
    pub fn new(kind: MetricKind, dim: usize) -> Self {
        let m2 = match kind {
            MetricKind::Dense => vec![0.0; dim * dim],
            _ => vec![0.0; dim],
        };
        Self {
            kind,
            n: 0,
            mean: vec![0.0; dim],
            m2,
        }
    }
    /// The dimension of the draws.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }
    /// Whether the estimator's buffers have the sizes its kind and dimension need (a check for
    /// states read back from a checkpoint).
    pub fn is_consistent(&self) -> bool {
        let d = self.mean.len();
        self.m2.len()
            == match self.kind {
                MetricKind::Dense => d * d,
                _ => d,
            }
    }
    /// Forgets every draw.
    pub fn reset(&mut self) {
        self.n = 0;
        self.mean.iter_mut().for_each(|v| *v = 0.0);
        self.m2.iter_mut().for_each(|v| *v = 0.0);
    }
    /// Adds one draw.
    pub fn add(&mut self, x: &[f64]) {
        self.n += 1;
        let n = self.n as f64;
        let d = x.len();
        let delta: Vec<f64> = x.iter().zip(&self.mean).map(|(a, m)| a - m).collect();
        for (m, dl) in self.mean.iter_mut().zip(&delta) {
            *m += dl / n;
        }
        match self.kind {
            MetricKind::Dense => {
                for (i, (xi, mi)) in x.iter().zip(&self.mean).enumerate() {
                    let after_i = xi - mi;
                    for (m2, dj) in self.m2[i * d..(i + 1) * d].iter_mut().zip(&delta) {
                        *m2 += dj * after_i;
                    }
                }
            }
            _ => {
                for ((m2, dl), (xi, mi)) in
                    self.m2.iter_mut().zip(&delta).zip(x.iter().zip(&self.mean))
                {
                    *m2 += dl * (xi - mi);
                }
            }
        }
    }
    /// The regularised metric from the draws so far (`None` with fewer than 3 draws or for the
    /// identity kind).
    pub fn metric(&self) -> Option<Metric> {
        if self.n < 3 || self.kind == MetricKind::Identity {
            return None;
        }
        let n = self.n as f64;
        let (a, b) = (n / (n + 5.0), 1e-3 * 5.0 / (n + 5.0));
        let d = self.mean.len();
        match self.kind {
            MetricKind::Dense => {
                let cov: Vec<f64> = (0..d * d)
                    .map(|k| {
                        let (i, j) = (k / d, k % d);
                        let s = 0.5 * (self.m2[i * d + j] + self.m2[j * d + i]) / (n - 1.0);
                        a * s + if i == j { b } else { 0.0 }
                    })
                    .collect();
                Metric::dense(cov, d)
            }
            _ => Some(Metric::diag(
                self.m2.iter().map(|v| a * v / (n - 1.0) + b).collect(),
            )),
        }
    }
}
