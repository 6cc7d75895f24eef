//! Conjugate Bayesian linear regression with known noise: `y = Xb + ε`, `ε ~ N(0, σ²I)`,
//! `b ~ N(0, s²I)`. Its evidence is exact: `y ~ N(0, σ²I + s²XXᵀ)`, computed in parameter space
//! with `A = XᵀX/σ² + I/s²`:
//! `ln p(y) = −½[yᵀy/σ² − mᵀA m] − ½[n ln σ² + d ln s² + ln|A|] − (n/2) ln 2π`, `m = A⁻¹Xᵀy/σ²`,
//! and the posterior is `N(m, A⁻¹)`.

use crate::data::Dataset;
use crate::energy::EnergyError;
use crate::linalg::{cholesky, dot4, lower_solve, lower_t_solve, sym_mat_vec};
use crate::systems::ModelError;
use rand_distr::{Distribution, StandardNormal};
use std::f64::consts::PI;

/// The conjugate linear-regression posterior (no intercept unless X has a column of ones).
///
/// The data enter only through sufficient statistics, so an energy evaluation costs O(d²)
/// whatever the number of rows: with a reference point `b₀` (the posterior mean), its residual
/// `r₀ = y − Xb₀`, `h = Xᵀr₀` and the Gram matrix `G = XᵀX`, the residual sum of squares is
/// `‖y − Xb‖² = ‖r₀‖² − 2δᵀh + δᵀGδ` with `δ = b − b₀`. Expanding around the posterior mean
/// rather than the origin keeps the cancellation small: every term is of the size of the
/// residuals, not of `yᵀy`.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearRegression {
    n: usize,
    d: usize,
    sigma: f64,
    prior_sd: f64,
    /// `XᵀX` (row-major d × d).
    gram: Vec<f64>,
    /// `Xᵀy`.
    xty: Vec<f64>,
    /// `yᵀy`.
    yty: f64,
    /// The expansion point `b₀`.
    b0: Vec<f64>,
    /// `‖y − Xb₀‖²`, summed row by row.
    ss0: f64,
    /// `Xᵀ(y − Xb₀)`.
    h: Vec<f64>,
    delta: Vec<f64>,
    g_delta: Vec<f64>,
    /// `(d/2) ln 2πs²` and `(n/2) ln 2πσ²`, the energies' normalising constants.
    prior_norm: f64,
    lik_norm: f64,
}

impl LinearRegression {
    /// From a data set with one target column.
    pub fn new(data: &Dataset, sigma: f64, prior_sd: f64) -> Result<Self, ModelError> {
        if data.n_targets != 1 {
            return Err(ModelError::new(
                "data",
                "linear regression needs exactly one target column",
            ));
        }
        if !(sigma > 0.0 && sigma.is_finite() && prior_sd > 0.0 && prior_sd.is_finite()) {
            return Err(ModelError::new(
                "sigma",
                "sigma and the prior sd must be finite and > 0",
            ));
        }
        let (n, d) = (data.n, data.n_inputs);
        let (x, y) = (&data.x, &data.y);
        if let Some(i) = x.iter().chain(y).position(|v| !v.is_finite()) {
            let row = if i < x.len() {
                i / d.max(1)
            } else {
                i - x.len()
            };
            return Err(ModelError::new(
                "data",
                format!("row {}: a non-finite value in the data", row + 1),
            ));
        }
        let mut gram = vec![0.0; d * d];
        let mut xty = vec![0.0; d];
        for i in 0..n {
            let row = &x[i * d..(i + 1) * d];
            for j in 0..d {
                xty[j] += row[j] * y[i];
                for k in 0..d {
                    gram[j * d + k] += row[j] * row[k];
                }
            }
        }
        let mut lr = Self {
            n,
            d,
            sigma,
            prior_sd,
            gram,
            xty,
            yty: y.iter().map(|v| v * v).sum(),
            b0: vec![0.0; d],
            ss0: 0.0,
            h: vec![0.0; d],
            delta: vec![0.0; d],
            g_delta: vec![0.0; d],
            prior_norm: 0.5 * d as f64 * (2.0 * PI * prior_sd * prior_sd).ln(),
            lik_norm: 0.5 * n as f64 * (2.0 * PI * sigma * sigma).ln(),
        };
        let b0 = lr.posterior_mean();
        let mut h = vec![0.0; d];
        let mut ss0 = 0.0;
        for i in 0..n {
            let row = &x[i * d..(i + 1) * d];
            let r = y[i] - row.iter().zip(&b0).map(|(a, b)| a * b).sum::<f64>();
            ss0 += r * r;
            h.iter_mut().zip(row).for_each(|(hj, a)| *hj += r * a);
        }
        lr.b0 = b0;
        lr.ss0 = ss0;
        lr.h = h;
        Ok(lr)
    }

    /// `A = XᵀX/σ² + I/s²` (row-major) and `Xᵀy/σ²`.
    fn precision(&self) -> (Vec<f64>, Vec<f64>) {
        let d = self.d;
        let s2 = self.sigma * self.sigma;
        let mut a: Vec<f64> = self.gram.iter().map(|g| g / s2).collect();
        for j in 0..d {
            a[j * d + j] += 1.0 / (self.prior_sd * self.prior_sd);
        }
        (a, self.xty.iter().map(|v| v / s2).collect())
    }

    /// The exact log evidence `ln p(y)`.
    pub fn log_evidence(&self) -> f64 {
        let (n, d) = (self.n as f64, self.d);
        let (a, xty) = self.precision();
        let l = cholesky(&a, d).expect("A is positive definite");
        let mut w = xty.clone();
        lower_solve(&l, d, &mut w); // w = L⁻¹ Xᵀy/σ², so mᵀAm = ‖w‖²
        let quad = self.yty / (self.sigma * self.sigma) - w.iter().map(|v| v * v).sum::<f64>();
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

impl crate::energy::LinearPath for LinearRegression {
    fn log_z_reference(&self) -> Option<f64> {
        Some(0.0)
    }
    fn dim(&self) -> usize {
        self.d
    }
    fn reference_energy(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        crate::energy::check_dim(self.d, th)?;
        let s2 = self.prior_sd * self.prior_sd;
        for (gi, t) in g.iter_mut().zip(th) {
            *gi = t / s2;
        }
        Ok(dot4(th, th) / (2.0 * s2) + self.prior_norm)
    }
    fn delta_energy(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        crate::energy::check_dim(self.d, th)?;
        let s2 = self.sigma * self.sigma;
        for ((dl, t), b) in self.delta.iter_mut().zip(th).zip(&self.b0) {
            *dl = t - b;
        }
        sym_mat_vec(&self.gram, self.d, &self.delta, &mut self.g_delta);
        let (quad, lin) = (dot4(&self.delta, &self.g_delta), dot4(&self.delta, &self.h));
        for ((gj, gd), h) in g.iter_mut().zip(&self.g_delta).zip(&self.h) {
            *gj = (gd - h) / s2;
        }
        // δᵀGδ ≥ 0 exactly; the sum of squares cannot be negative either.
        let ss = (self.ss0 - 2.0 * lin + quad).max(0.0);
        Ok(ss / (2.0 * s2) + self.lik_norm)
    }
    fn sample_reference<R: rand::Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) -> bool {
        for o in out.iter_mut() {
            let z: f64 = StandardNormal.sample(rng);
            *o = self.prior_sd * z;
        }
        true
    }
}
