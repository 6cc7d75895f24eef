//! A Gaussian reference fitted to draws of the target, `q = N(μ̂, s²Σ̂)`, as the start of a path
//! to a plain energy: every evidence estimator then gives the energy's own `ln Z` without a
//! prior sampler written by hand. The closer q is to the target, the shorter the path (a
//! Gaussian posterior is one stone away); widening it (`s > 1`) keeps its tails over the
//! target's, which importance weights from q need.

use super::path::{LinearPath, PathEnergy};
use super::{check_dim, EnergyError, Gradient};
use crate::linalg::{cholesky, lower_mul, lower_solve, lower_t_solve};
use rand::Rng;

/// The path `E_t = E_q + t·(E − E_q)` from a fitted Gaussian `q` to the energy `E`.
#[derive(Debug, Clone)]
pub struct FittedReference<E> {
    /// The target energy.
    pub target: E,
    mean: Vec<f64>,
    /// Lower Cholesky factor of the reference covariance (row-major).
    chol: Vec<f64>,
    /// `½ ln|2πΣ|`.
    log_norm: f64,
}

impl<E> FittedReference<E> {
    /// The reference `N(mean, widen² · cov)` of the draws' mean and covariance (row-major
    /// `d × d`); `None` when the covariance is not positive definite.
    pub fn new(target: E, mean: Vec<f64>, cov: &[f64], widen: f64) -> Option<Self> {
        let d = mean.len();
        let scaled: Vec<f64> = cov.iter().map(|c| c * widen * widen).collect();
        let chol = cholesky(&scaled, d)?;
        let log_norm = (0..d).map(|i| chol[i * d + i].ln()).sum::<f64>()
            + 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln();
        Some(Self {
            target,
            mean,
            chol,
            log_norm,
        })
    }

    /// The reference from draws (row-major, `n × d`), widened by `widen`.
    pub fn from_draws(target: E, draws: &[f64], d: usize, widen: f64) -> Option<Self> {
        let n = draws.len() / d.max(1);
        if n <= d + 1 {
            return None;
        }
        let mean: Vec<f64> = (0..d)
            .map(|j| draws.chunks_exact(d).map(|x| x[j]).sum::<f64>() / n as f64)
            .collect();
        let mut cov = vec![0.0; d * d];
        for x in draws.chunks_exact(d) {
            for i in 0..d {
                for j in 0..d {
                    cov[i * d + j] += (x[i] - mean[i]) * (x[j] - mean[j]) / (n as f64 - 1.0);
                }
            }
        }
        Self::new(target, mean, &cov, widen)
    }

    /// The reference mean.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// `E_q(x)`, and `Σ⁻¹(x − μ)` into `g` when given.
    fn reference(&self, x: &[f64], g: Option<&mut [f64]>) -> f64 {
        let d = self.mean.len();
        let mut w: Vec<f64> = x.iter().zip(&self.mean).map(|(a, m)| a - m).collect();
        lower_solve(&self.chol, d, &mut w);
        let e = 0.5 * w.iter().map(|v| v * v).sum::<f64>() + self.log_norm;
        if let Some(g) = g {
            lower_t_solve(&self.chol, d, &mut w);
            g.copy_from_slice(&w);
        }
        e
    }
}

impl<E: Gradient + Clone + Send + Sync> LinearPath for FittedReference<E> {
    fn dim(&self) -> usize {
        self.mean.len()
    }
    fn reference_energy(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.mean.len(), x)?;
        Ok(self.reference(x, Some(g)))
    }
    fn delta_energy(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.mean.len(), x)?;
        let e = self.target.energy_grad(x, g)?;
        let mut gq = vec![0.0; x.len()];
        let eq = self.reference(x, Some(&mut gq));
        g.iter_mut().zip(&gq).for_each(|(a, b)| *a -= b);
        Ok(e - eq)
    }
    fn values(&mut self, x: &[f64]) -> Option<Result<PathEnergy, EnergyError>> {
        if let Err(e) = check_dim(self.mean.len(), x) {
            return Some(Err(e));
        }
        let reference = self.reference(x, None);
        Some(self.target.energy(x).map(|e| PathEnergy {
            reference,
            delta: e - reference,
        }))
    }
    fn log_z_reference(&self) -> Option<f64> {
        Some(0.0)
    }
    fn sample_reference<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) -> bool {
        use rand_distr::{Distribution, StandardNormal};
        let z: Vec<f64> = (0..out.len()).map(|_| StandardNormal.sample(rng)).collect();
        lower_mul(&self.chol, out.len(), &z, out);
        out.iter_mut().zip(&self.mean).for_each(|(o, m)| *o += m);
        true
    }
}
