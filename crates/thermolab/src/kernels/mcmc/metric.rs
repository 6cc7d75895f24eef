//! The metric: an inverse mass matrix Σ (diagonal or dense) that doubles as the proposal
//! covariance of RWM and MALA. Momenta are drawn from `N(0, M)` with `M = Σ⁻¹`; the kinetic
//! energy is `½ pᵀ Σ p`.

use crate::linalg::{cholesky, lower_mul, lower_solve, lower_t_solve, sym_mat_vec};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// An inverse mass matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Metric {
    /// Diagonal Σ.
    Diag {
        /// Σ_ii.
        inv_mass: Vec<f64>,
    },
    /// Dense Σ with its lower Cholesky factor.
    Dense {
        /// Dimension.
        dim: usize,
        /// Σ, row-major.
        inv_mass: Vec<f64>,
        /// `L` with `Σ = L Lᵀ`.
        chol: Vec<f64>,
    },
}

impl Metric {
    /// The identity.
    pub fn identity(dim: usize) -> Self {
        Self::Diag {
            inv_mass: vec![1.0; dim],
        }
    }
    /// A diagonal metric from variances (each > 0).
    pub fn diag(var: Vec<f64>) -> Self {
        Self::Diag { inv_mass: var }
    }
    /// A dense metric from a covariance matrix (symmetrised: `(Σ + Σᵀ)/2`); `None` unless
    /// positive definite.
    pub fn dense(cov: Vec<f64>, dim: usize) -> Option<Self> {
        let cov: Vec<f64> = (0..dim * dim)
            .map(|k| 0.5 * (cov[k] + cov[(k % dim) * dim + k / dim]))
            .collect();
        let chol = cholesky(&cov, dim)?;
        Some(Self::Dense {
            dim,
            inv_mass: cov,
            chol,
        })
    }
    /// Dimension.
    pub fn dim(&self) -> usize {
        match self {
            Self::Diag { inv_mass } => inv_mass.len(),
            Self::Dense { dim, .. } => *dim,
        }
    }
    /// Whether the metric is well formed (sizes agree, entries finite, variances positive): a
    /// check for metrics read back from a file.
    pub fn is_valid(&self) -> bool {
        match self {
            Self::Diag { inv_mass } => inv_mass.iter().all(|v| v.is_finite() && *v > 0.0),
            Self::Dense {
                dim,
                inv_mass,
                chol,
            } => {
                inv_mass.len() == dim * dim
                    && chol.len() == dim * dim
                    && inv_mass.iter().chain(chol.iter()).all(|v| v.is_finite())
                    && (0..*dim).all(|i| chol[i * dim + i] > 0.0)
            }
        }
    }
    /// The diagonal of Σ.
    pub fn variances(&self) -> Vec<f64> {
        match self {
            Self::Diag { inv_mass } => inv_mass.clone(),
            Self::Dense { dim, inv_mass, .. } => (0..*dim).map(|i| inv_mass[i * dim + i]).collect(),
        }
    }
    /// `out = Σ p` (the velocity of momentum p).
    pub fn velocity(&self, p: &[f64], out: &mut [f64]) {
        match self {
            Self::Diag { inv_mass } => {
                for ((o, a), b) in out.iter_mut().zip(p).zip(inv_mass) {
                    *o = a * b;
                }
            }
            Self::Dense { dim, inv_mass, .. } => sym_mat_vec(inv_mass, *dim, p, out),
        }
    }
    /// Draws `p ~ N(0, Σ⁻¹)`.
    pub fn sample_momentum<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) {
        match self {
            Self::Diag { inv_mass } => {
                for (o, s) in out.iter_mut().zip(inv_mass) {
                    let z: f64 = StandardNormal.sample(rng);
                    *o = z / s.sqrt();
                }
            }
            Self::Dense { dim, chol, .. } => {
                for o in out.iter_mut() {
                    *o = StandardNormal.sample(rng);
                }
                lower_t_solve(chol, *dim, out);
            }
        }
    }
    /// Draws `ξ ~ N(0, Σ)`; a dense metric uses `scratch` (resized once, then reused).
    pub fn sample_noise<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        out: &mut [f64],
        scratch: &mut Vec<f64>,
    ) {
        match self {
            Self::Diag { inv_mass } => {
                for (o, s) in out.iter_mut().zip(inv_mass) {
                    let z: f64 = StandardNormal.sample(rng);
                    *o = z * s.sqrt();
                }
            }
            Self::Dense { dim, chol, .. } => {
                scratch.clear();
                scratch.extend((0..*dim).map(|_| -> f64 { StandardNormal.sample(rng) }));
                lower_mul(chol, *dim, scratch, out);
            }
        }
    }
    /// `dᵀ Σ⁻¹ d`; a dense metric uses `scratch` (resized once, then reused).
    pub fn inv_quad(&self, d: &[f64], scratch: &mut Vec<f64>) -> f64 {
        match self {
            Self::Diag { inv_mass } => d.iter().zip(inv_mass).map(|(a, s)| a * a / s).sum(),
            Self::Dense { dim, chol, .. } => {
                scratch.clear();
                scratch.extend_from_slice(d);
                lower_solve(chol, *dim, scratch);
                scratch.iter().map(|a| a * a).sum()
            }
        }
    }
}
