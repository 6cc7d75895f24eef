//! Gaussian energies with exact partition functions and moments: isotropic and AR(1)-correlated.
//!
//! For `E(x) = ½ (x−μ)ᵀ Σ⁻¹ (x−μ)` the partition function at inverse temperature β is
//! `Z(β) = ∫ exp(−β E) dx = (2π/β)^{d/2} |Σ|^{1/2}`, and under `p_β` the mean is μ, the
//! covariance Σ/β and the mean energy `⟨E⟩_β = d/(2β)` (equipartition).

use super::ModelError;
use crate::energy::{check_dim, Energy, EnergyError, Gradient};
use std::f64::consts::PI;

/// `N(μ, σ² I)` as an energy.
#[derive(Debug, Clone)]
pub struct IsotropicGaussian {
    mean: Vec<f64>,
    sigma: f64,
}

impl IsotropicGaussian {
    /// A Gaussian with the given (finite) mean vector and standard deviation σ > 0.
    pub fn new(mean: Vec<f64>, sigma: f64) -> Result<Self, ModelError> {
        if !(sigma > 0.0 && sigma.is_finite()) {
            return Err(ModelError::new(
                "sigma",
                format!("must be a finite number > 0, got {sigma}"),
            ));
        }
        if let Some(m) = mean.iter().find(|m| !m.is_finite()) {
            return Err(ModelError::new("mean", format!("must be finite, got {m}")));
        }
        Ok(Self { mean, sigma })
    }
    /// The mean vector.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }
    /// `Cov(x_i, x_j)` at β = 1.
    pub fn covariance(&self, i: usize, j: usize) -> f64 {
        if i == j {
            self.sigma * self.sigma
        } else {
            0.0
        }
    }
    /// Exact `ln Z(β)`.
    pub fn log_z(&self, beta: f64) -> f64 {
        let d = self.mean.len() as f64;
        0.5 * d * (2.0 * PI / beta).ln() + d * self.sigma.ln()
    }
    /// Exact `⟨E⟩_β = d / (2β)`.
    pub fn mean_energy(&self, beta: f64) -> f64 {
        self.mean.len() as f64 / (2.0 * beta)
    }
}

impl Energy for IsotropicGaussian {
    fn dim(&self) -> usize {
        self.mean.len()
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        check_dim(self.mean.len(), x)?;
        let s2 = self.sigma * self.sigma;
        Ok(x.iter()
            .zip(&self.mean)
            .map(|(a, m)| (a - m) * (a - m))
            .sum::<f64>()
            / (2.0 * s2))
    }
}

impl Gradient for IsotropicGaussian {
    fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        let s2 = self.sigma * self.sigma;
        for ((gi, a), m) in g.iter_mut().zip(x).zip(&self.mean) {
            *gi = (a - m) / s2;
        }
        self.energy(x)
    }
}

/// A zero-mean Gaussian with AR(1) covariance `Σ_ij = σ² ρ^{|i−j|}`, |ρ| < 1.
///
/// Its precision matrix is tridiagonal, so energy and gradient cost O(d), and
/// `|Σ| = σ^{2d} (1−ρ²)^{d−1}` is exact.
#[derive(Debug, Clone)]
pub struct Ar1Gaussian {
    dim: usize,
    rho: f64,
    sigma: f64,
}

impl Ar1Gaussian {
    /// AR(1) Gaussian in `dim ≥ 1` dimensions with correlation `rho` (|ρ| < 1) and marginal sd
    /// `sigma` > 0.
    pub fn new(dim: usize, rho: f64, sigma: f64) -> Result<Self, ModelError> {
        if dim == 0 {
            return Err(ModelError::new("dim", "must be at least 1"));
        }
        if rho.is_nan() || rho.abs() >= 1.0 {
            return Err(ModelError::new(
                "rho",
                format!("|rho| must be < 1, got {rho}"),
            ));
        }
        if !(sigma > 0.0 && sigma.is_finite()) {
            return Err(ModelError::new(
                "sigma",
                format!("must be a finite number > 0, got {sigma}"),
            ));
        }
        Ok(Self { dim, rho, sigma })
    }
    /// `Cov(x_i, x_j)` at β = 1.
    pub fn covariance(&self, i: usize, j: usize) -> f64 {
        self.sigma * self.sigma * self.rho.powi((i as i64 - j as i64).unsigned_abs() as i32)
    }
    /// `ln |Σ|`.
    pub fn log_det(&self) -> f64 {
        2.0 * self.dim as f64 * self.sigma.ln()
            + (self.dim as f64 - 1.0) * (1.0 - self.rho * self.rho).ln()
    }
    /// Exact `ln Z(β)`.
    pub fn log_z(&self, beta: f64) -> f64 {
        0.5 * self.dim as f64 * (2.0 * PI / beta).ln() + 0.5 * self.log_det()
    }
    /// Exact `⟨E⟩_β = d / (2β)`.
    pub fn mean_energy(&self, beta: f64) -> f64 {
        self.dim as f64 / (2.0 * beta)
    }
    /// `(Σ⁻¹ x)_i` via the tridiagonal precision.
    fn precision_times(&self, x: &[f64], i: usize) -> f64 {
        let r = self.rho;
        let c = 1.0 / (self.sigma * self.sigma * (1.0 - r * r));
        let d = self.dim;
        if d == 1 {
            return x[0] / (self.sigma * self.sigma);
        }
        let diag = if i == 0 || i == d - 1 {
            1.0
        } else {
            1.0 + r * r
        };
        let mut v = diag * x[i];
        if i > 0 {
            v -= r * x[i - 1];
        }
        if i + 1 < d {
            v -= r * x[i + 1];
        }
        c * v
    }
}

impl Energy for Ar1Gaussian {
    fn dim(&self) -> usize {
        self.dim
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        check_dim(self.dim, x)?;
        Ok(0.5
            * (0..self.dim)
                .map(|i| x[i] * self.precision_times(x, i))
                .sum::<f64>())
    }
}

impl Gradient for Ar1Gaussian {
    fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.dim, x)?;
        let mut e = 0.0;
        for i in 0..self.dim {
            g[i] = self.precision_times(x, i);
            e += x[i] * g[i];
        }
        Ok(0.5 * e)
    }
}
