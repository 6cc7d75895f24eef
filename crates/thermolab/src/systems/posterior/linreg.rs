//! Conjugate Bayesian linear regression with known noise: `y = Xb + ε`, `ε ~ N(0, σ²I)`,
//! `b ~ N(0, s²I)`. Its evidence is exact: `y ~ N(0, σ²I + s²XXᵀ)`, computed in parameter space
//! with `A = XᵀX/σ² + I/s²`:
//! `ln p(y) = −½[yᵀy/σ² − mᵀA m] − ½[n ln σ² + d ln s² + ln|A|] − (n/2) ln 2π`, `m = A⁻¹Xᵀy/σ²`,
//! and the posterior is `N(m, A⁻¹)`.

use super::split::Posterior;
use crate::data::Dataset;
use crate::energy::EnergyError;
use crate::linalg::{cholesky, lower_solve, lower_t_solve};
use rand_distr::{Distribution, StandardNormal};
use std::f64::consts::PI;

/// The conjugate linear-regression posterior (no intercept unless X has a column of ones).
#[derive(Debug, Clone, PartialEq)]
pub struct LinearRegression {
    x: Vec<f64>,
    y: Vec<f64>,
    n: usize,
    d: usize,
    sigma: f64,
    prior_sd: f64,
    resid: Vec<f64>,
}

impl LinearRegression {
    /// From a data set with one target column.
    pub fn new(data: &Dataset, sigma: f64, prior_sd: f64) -> Result<Self, String> {
        if data.n_targets != 1 {
            return Err("linear regression needs exactly one target column".into());
        }
        if !(sigma > 0.0 && sigma.is_finite() && prior_sd > 0.0 && prior_sd.is_finite()) {
            return Err("sigma and the prior sd must be finite and > 0".into());
        }
        Ok(Self {
            x: data.x.clone(),
            y: data.y.clone(),
            n: data.n,
            d: data.n_inputs,
            sigma,
            prior_sd,
            resid: vec![0.0; data.n],
        })
    }

    /// `A = XᵀX/σ² + I/s²` (row-major) and `Xᵀy/σ²`.
    fn precision(&self) -> (Vec<f64>, Vec<f64>) {
        let (n, d) = (self.n, self.d);
        let s2 = self.sigma * self.sigma;
        let mut a = vec![0.0; d * d];
        let mut xty = vec![0.0; d];
        for i in 0..n {
            let row = &self.x[i * d..(i + 1) * d];
            for j in 0..d {
                xty[j] += row[j] * self.y[i] / s2;
                for k in 0..d {
                    a[j * d + k] += row[j] * row[k] / s2;
                }
            }
        }
        for j in 0..d {
            a[j * d + j] += 1.0 / (self.prior_sd * self.prior_sd);
        }
        (a, xty)
    }

    /// The exact log evidence `ln p(y)`.
    pub fn log_evidence(&self) -> f64 {
        let (n, d) = (self.n as f64, self.d);
        let (a, xty) = self.precision();
        let l = cholesky(&a, d).expect("A is positive definite");
        let mut w = xty.clone();
        lower_solve(&l, d, &mut w); // w = L⁻¹ Xᵀy/σ², so mᵀAm = ‖w‖²
        let quad = self.y.iter().map(|v| v * v).sum::<f64>() / (self.sigma * self.sigma)
            - w.iter().map(|v| v * v).sum::<f64>();
        let log_det_a = 2.0 * (0..d).map(|i| l[i * d + i].ln()).sum::<f64>();
        -0.5 * quad
            - 0.5
                * (n * (self.sigma * self.sigma).ln()
                    + d as f64 * (self.prior_sd * self.prior_sd).ln()
                    + log_det_a)
            - 0.5 * n * (2.0 * PI).ln()
    }

    /// The exact posterior mean.
    pub fn posterior_mean(&self) -> Vec<f64> {
        let (a, xty) = self.precision();
        let l = cholesky(&a, self.d).expect("A is positive definite");
        let mut m = xty;
        lower_solve(&l, self.d, &mut m);
        lower_t_solve(&l, self.d, &mut m);
        m
    }
}

impl Posterior for LinearRegression {
    fn dim(&self) -> usize {
        self.d
    }
    fn prior_energy(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        crate::energy::check_dim(self.d, th)?;
        let s2 = self.prior_sd * self.prior_sd;
        for (gi, t) in g.iter_mut().zip(th) {
            *gi = t / s2;
        }
        Ok(th.iter().map(|t| t * t).sum::<f64>() / (2.0 * s2)
            + 0.5 * self.d as f64 * (2.0 * PI * s2).ln())
    }
    fn lik_energy(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        crate::energy::check_dim(self.d, th)?;
        let (n, d) = (self.n, self.d);
        let s2 = self.sigma * self.sigma;
        let mut ss = 0.0;
        for i in 0..n {
            let row = &self.x[i * d..(i + 1) * d];
            let r = self.y[i] - row.iter().zip(th).map(|(a, b)| a * b).sum::<f64>();
            self.resid[i] = r;
            ss += r * r;
        }
        g.iter_mut().for_each(|v| *v = 0.0);
        for i in 0..n {
            let row = &self.x[i * d..(i + 1) * d];
            for (gj, a) in g.iter_mut().zip(row) {
                *gj -= self.resid[i] * a / s2;
            }
        }
        Ok(ss / (2.0 * s2) + 0.5 * n as f64 * (2.0 * PI * s2).ln())
    }
    fn sample_prior<R: rand::Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) -> bool {
        for o in out.iter_mut() {
            let z: f64 = StandardNormal.sample(rng);
            *o = self.prior_sd * z;
        }
        true
    }
}
