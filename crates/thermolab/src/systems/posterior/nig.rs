//! Bayesian linear regression with a Normal–Inverse-Gamma prior: `σ² ~ IG(a₀, b₀)`,
//! `b | σ² ~ N(0, σ² g I)`, `y | b, σ² ~ N(Xb, σ² I)`. Sampled in θ = (b, s = ln σ²) (the prior
//! energy includes the Jacobian of the log transform). The evidence is exact: `y` is
//! multivariate Student-t with `2a₀` degrees of freedom and scale `(b₀/a₀)(I + gXXᵀ)`, evaluated
//! in parameter space with `M = I/g + XᵀX`:
//! `ln p(y) = lnΓ(a₀+n/2) − lnΓ(a₀) + a₀ ln b₀ − (n/2) ln 2π − ½(d ln g + ln|M|)
//!  − (a₀+n/2) ln(b₀ + ½[yᵀy − yᵀX M⁻¹ Xᵀy])`.

use crate::data::Dataset;
use crate::energy::{check_dim, EnergyError};
use crate::linalg::{cholesky, lower_solve};
use crate::systems::ModelError;
use rand_distr::{Distribution, Gamma, StandardNormal};
use statrs::function::gamma::ln_gamma;
use std::f64::consts::PI;

/// The Normal–Inverse-Gamma regression posterior; parameters are `d` coefficients, then `ln σ²`.
#[derive(Debug, Clone, PartialEq)]
pub struct NigRegression {
    x: Vec<f64>,
    y: Vec<f64>,
    n: usize,
    d: usize,
    a0: f64,
    b0: f64,
    g: f64,
    resid: Vec<f64>,
}

impl NigRegression {
    /// From a data set with one target column and prior constants `a₀, b₀, g > 0`.
    pub fn new(data: &Dataset, a0: f64, b0: f64, g: f64) -> Result<Self, ModelError> {
        if data.n_targets != 1 {
            return Err(ModelError::new(
                "data",
                "regression needs exactly one target column",
            ));
        }
        if ![a0, b0, g].iter().all(|v| v.is_finite() && *v > 0.0) {
            return Err(ModelError::new("a0", "a0, b0 and g must be finite and > 0"));
        }
        Ok(Self {
            x: data.x.clone(),
            y: data.y.clone(),
            n: data.n,
            d: data.n_inputs,
            a0,
            b0,
            g,
            resid: vec![0.0; data.n],
        })
    }

    /// The exact log evidence.
    pub fn log_evidence(&self) -> f64 {
        let (n, d) = (self.n, self.d);
        let mut m = vec![0.0; d * d];
        let mut xty = vec![0.0; d];
        for i in 0..n {
            let row = &self.x[i * d..(i + 1) * d];
            for j in 0..d {
                xty[j] += row[j] * self.y[i];
                for k in 0..d {
                    m[j * d + k] += row[j] * row[k];
                }
            }
        }
        for j in 0..d {
            m[j * d + j] += 1.0 / self.g;
        }
        let l = cholesky(&m, d).expect("M is positive definite");
        lower_solve(&l, d, &mut xty);
        let quad =
            self.y.iter().map(|v| v * v).sum::<f64>() - xty.iter().map(|v| v * v).sum::<f64>();
        let log_det_m = 2.0 * (0..d).map(|i| l[i * d + i].ln()).sum::<f64>();
        let (nf, df) = (n as f64, d as f64);
        ln_gamma(self.a0 + nf / 2.0) - ln_gamma(self.a0) + self.a0 * self.b0.ln()
            - 0.5 * nf * (2.0 * PI).ln()
            - 0.5 * (df * self.g.ln() + log_det_m)
            - (self.a0 + nf / 2.0) * (self.b0 + 0.5 * quad).ln()
    }
}

impl crate::energy::LinearPath for NigRegression {
    fn log_z_reference(&self) -> Option<f64> {
        Some(0.0)
    }
    fn dim(&self) -> usize {
        self.d + 1
    }
    fn reference_energy(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.d + 1, th)?;
        let d = self.d as f64;
        let s = th[self.d];
        let es = (-s).exp();
        let bb: f64 = th[..self.d].iter().map(|v| v * v).sum();
        for (gi, b) in g[..self.d].iter_mut().zip(&th[..self.d]) {
            *gi = b * es / self.g;
        }
        g[self.d] = (d / 2.0 + self.a0) - bb * es / (2.0 * self.g) - self.b0 * es;
        Ok(0.5 * d * (2.0 * PI * self.g).ln() - self.a0 * self.b0.ln()
            + ln_gamma(self.a0)
            + (d / 2.0 + self.a0) * s
            + bb * es / (2.0 * self.g)
            + self.b0 * es)
    }
    fn delta_energy(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.d + 1, th)?;
        let (n, d) = (self.n, self.d);
        let s = th[d];
        let es = (-s).exp();
        let mut rr = 0.0;
        for i in 0..n {
            let row = &self.x[i * d..(i + 1) * d];
            let r = self.y[i] - row.iter().zip(&th[..d]).map(|(a, b)| a * b).sum::<f64>();
            self.resid[i] = r;
            rr += r * r;
        }
        g.iter_mut().for_each(|v| *v = 0.0);
        for i in 0..n {
            let row = &self.x[i * d..(i + 1) * d];
            for (gj, a) in g[..d].iter_mut().zip(row) {
                *gj -= self.resid[i] * a * es;
            }
        }
        g[d] = 0.5 * n as f64 - 0.5 * rr * es;
        Ok(0.5 * n as f64 * ((2.0 * PI).ln() + s) + 0.5 * rr * es)
    }
    fn sample_reference<R: rand::Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) -> bool {
        let gamma = Gamma::new(self.a0, 1.0 / self.b0).expect("valid shape and scale");
        let precision: f64 = gamma.sample(rng);
        let var = 1.0 / precision;
        for o in out[..self.d].iter_mut() {
            let z: f64 = StandardNormal.sample(rng);
            *o = (var * self.g).sqrt() * z;
        }
        out[self.d] = var.ln();
        true
    }
}
