//! Gaussian mixtures with isotropic components: `p(x) = Σ_k w_k N(x; μ_k, σ_k² I)`, normalised,
//! so `ln Z = 0` and the mean is `Σ_k w_k μ_k` exactly.

use crate::energy::{check_dim, Energy, EnergyError, Gradient};
use crate::systems::ModelError;
use std::f64::consts::PI;

/// A normalised mixture of isotropic Gaussians.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianMixture {
    weights: Vec<f64>,
    means: Vec<Vec<f64>>,
    sds: Vec<f64>,
    dim: usize,
    logp: Vec<f64>,
}

impl GaussianMixture {
    /// A mixture from weights (normalised here), means and standard deviations.
    pub fn new(weights: Vec<f64>, means: Vec<Vec<f64>>, sds: Vec<f64>) -> Result<Self, ModelError> {
        let k = weights.len();
        if k == 0 || means.len() != k || sds.len() != k {
            return Err(ModelError::new(
                "weights",
                "a mixture needs matching, non-empty weights, means and sds",
            ));
        }
        let dim = means[0].len();
        if dim == 0 || means.iter().any(|m| m.len() != dim) {
            return Err(ModelError::new(
                "means",
                "every component mean needs the same, non-zero dimension",
            ));
        }
        if weights.iter().any(|w| !(*w > 0.0 && w.is_finite()))
            || sds.iter().any(|s| !(*s > 0.0 && s.is_finite()))
        {
            return Err(ModelError::new(
                "sds",
                "weights and sds must be finite and > 0",
            ));
        }
        let total: f64 = weights.iter().sum();
        let weights: Vec<f64> = weights.iter().map(|w| w / total).collect();
        Ok(Self {
            logp: vec![0.0; k],
            weights,
            means,
            sds,
            dim,
        })
    }
    /// Two well-separated modes in `dim` dimensions: weights 0.3/0.7, means ∓`sep/2` on every
    /// coordinate... along the first axis only, unit sds.
    pub fn two_modes(dim: usize, separation: f64) -> Result<Self, ModelError> {
        if dim == 0 {
            return Err(ModelError::new("dim", "must be at least 1"));
        }
        if !(separation.is_finite() && separation >= 0.0) {
            return Err(ModelError::new(
                "separation",
                format!("must be a finite number ≥ 0, got {separation}"),
            ));
        }
        let mut a = vec![0.0; dim];
        let mut b = vec![0.0; dim];
        a[0] = -separation / 2.0;
        b[0] = separation / 2.0;
        Self::new(vec![0.3, 0.7], vec![a, b], vec![1.0, 1.0])
    }
    /// The normalised weights.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
    /// The component means.
    pub fn means(&self) -> &[Vec<f64>] {
        &self.means
    }
    /// Exact mean of the mixture.
    pub fn mean(&self) -> Vec<f64> {
        (0..self.dim)
            .map(|i| {
                self.weights
                    .iter()
                    .zip(&self.means)
                    .map(|(w, m)| w * m[i])
                    .sum()
            })
            .collect()
    }
    /// Index of the component nearest to `x` (for counting mode occupancy).
    pub fn nearest(&self, x: &[f64]) -> usize {
        (0..self.weights.len())
            .min_by(|&a, &b| {
                let d = |k: usize| {
                    self.means[k]
                        .iter()
                        .zip(x)
                        .map(|(m, v)| (m - v) * (m - v))
                        .sum::<f64>()
                };
                d(a).total_cmp(&d(b))
            })
            .unwrap_or(0)
    }
    fn log_terms(&mut self, x: &[f64]) -> f64 {
        let d = self.dim as f64;
        for k in 0..self.weights.len() {
            let s2 = self.sds[k] * self.sds[k];
            let r2: f64 = self.means[k]
                .iter()
                .zip(x)
                .map(|(m, v)| (v - m) * (v - m))
                .sum();
            self.logp[k] = self.weights[k].ln() - 0.5 * r2 / s2 - 0.5 * d * (2.0 * PI * s2).ln();
        }
        let mx = self.logp.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        mx + self.logp.iter().map(|l| (l - mx).exp()).sum::<f64>().ln()
    }
}

impl Energy for GaussianMixture {
    fn dim(&self) -> usize {
        self.dim
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        check_dim(self.dim, x)?;
        Ok(-self.log_terms(x))
    }
}

impl Gradient for GaussianMixture {
    fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.dim, x)?;
        let lse = self.log_terms(x);
        g.iter_mut().for_each(|v| *v = 0.0);
        for k in 0..self.weights.len() {
            let r = (self.logp[k] - lse).exp();
            let s2 = self.sds[k] * self.sds[k];
            for (gi, (v, m)) in g.iter_mut().zip(x.iter().zip(&self.means[k])) {
                *gi += r * (v - m) / s2;
            }
        }
        Ok(-lse)
    }
}
