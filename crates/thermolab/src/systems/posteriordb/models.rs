//! The six posteriordb models written from their mathematics on the unconstrained scale: every
//! prior and likelihood normalised, scales as `ξ = ln σ` with the log-Jacobian in the prior,
//! the prior/likelihood split of a power posterior, and a sampler of the prior.

use super::linear::LeastSquares;
use super::priors::*;
use rand::Rng;
use std::f64::consts::PI;

/// Eight schools (Rubin 1981): `μ ~ N(0, 5)`, `τ ~ half-Cauchy(0, 5)`, `θ_j ~ N(μ, τ)`,
/// `y_j ~ N(θ_j, σ_j)`; coordinates `(μ, ln τ, θ or θ̃)`.
#[derive(Debug, Clone, PartialEq)]
pub struct EightSchools {
    pub(crate) y: Vec<f64>,
    pub(crate) sigma: Vec<f64>,
    /// `θ_j = μ + τ θ̃_j` with `θ̃_j ~ N(0, 1)` (non-centred) instead of `θ_j` itself.
    pub(crate) noncentred: bool,
}

impl EightSchools {
    fn theta(&self, x: &[f64], j: usize) -> f64 {
        if self.noncentred {
            x[0] + x[1].exp() * x[2 + j]
        } else {
            x[2 + j]
        }
    }
    pub(crate) fn prior(&self, x: &[f64], g: &mut [f64]) -> f64 {
        g.iter_mut().for_each(|v| *v = 0.0);
        let (e_mu, d_mu) = normal(x[0], 0.0, 5.0);
        let (e_tau, d_tau) = half_cauchy_log(x[1], 5.0);
        let mut e = e_mu + e_tau;
        g[0] = d_mu;
        g[1] = d_tau;
        let j_n = self.y.len();
        if self.noncentred {
            for j in 0..j_n {
                let (ej, dj) = normal(x[2 + j], 0.0, 1.0);
                e += ej;
                g[2 + j] = dj;
            }
        } else {
            let tau2 = (2.0 * x[1]).exp();
            for j in 0..j_n {
                let r = x[2 + j] - x[0];
                e += 0.5 * r * r / tau2 + x[1] + 0.5 * (2.0 * PI).ln();
                g[2 + j] = r / tau2;
                g[0] -= r / tau2;
                g[1] += 1.0 - r * r / tau2;
            }
        }
        e
    }
    pub(crate) fn likelihood(&self, x: &[f64], g: &mut [f64]) -> f64 {
        g.iter_mut().for_each(|v| *v = 0.0);
        let tau = x[1].exp();
        let mut e = 0.0;
        for j in 0..self.y.len() {
            let (ej, dj) = normal(self.theta(x, j), self.y[j], self.sigma[j]);
            e += ej;
            if self.noncentred {
                g[0] += dj;
                g[1] += dj * tau * x[2 + j];
                g[2 + j] = dj * tau;
            } else {
                g[2 + j] = dj;
            }
        }
        e
    }
    pub(crate) fn sample_prior<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) {
        out[0] = draw_normal(rng, 0.0, 5.0);
        out[1] = draw_half_cauchy_log(rng, 5.0);
        let (mu, tau) = (out[0], out[1].exp());
        for o in out[2..].iter_mut() {
            *o = if self.noncentred {
                draw_normal(rng, 0.0, 1.0)
            } else {
                draw_normal(rng, mu, tau)
            };
        }
    }
}

/// Which prior a regression's noise scale has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ScalePrior {
    HalfNormal(f64),
    HalfCauchy(f64),
    HalfStudentT(f64, f64),
}

impl ScalePrior {
    pub(crate) fn energy(self, xi: f64) -> (f64, f64) {
        match self {
            Self::HalfNormal(s) => half_normal_log(xi, s),
            Self::HalfCauchy(s) => half_cauchy_log(xi, s),
            Self::HalfStudentT(nu, s) => half_student_t_log(xi, nu, s),
        }
    }
    fn draw<R: Rng + ?Sized>(self, rng: &mut R) -> f64 {
        match self {
            Self::HalfNormal(s) => draw_half_normal_log(rng, s),
            Self::HalfCauchy(s) => draw_half_cauchy_log(rng, s),
            Self::HalfStudentT(nu, s) => draw_half_student_t_log(rng, nu, s),
        }
    }
}

/// A coefficient's prior in a regression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum CoefPrior {
    Normal(f64, f64),
    StudentT(f64, f64, f64),
}

/// A Gaussian linear regression `y ~ N(Xβ, σ)` with independent coefficient priors and a scale
/// prior on σ; coordinates `(β, ln σ)`. sblrc-blr, arK (lags as the design) and diamonds.
#[derive(Debug, Clone, PartialEq)]
pub struct Regression {
    pub(crate) ls: LeastSquares,
    pub(crate) coef: Vec<CoefPrior>,
    pub(crate) scale: ScalePrior,
}

impl Regression {
    pub(crate) fn prior(&self, x: &[f64], g: &mut [f64]) -> f64 {
        let d = self.ls.d;
        let mut e = 0.0;
        for (j, c) in self.coef.iter().enumerate() {
            let (ej, dj) = match *c {
                CoefPrior::Normal(m, s) => normal(x[j], m, s),
                CoefPrior::StudentT(nu, m, s) => student_t(x[j], nu, m, s),
            };
            e += ej;
            g[j] = dj;
        }
        let (es, ds) = self.scale.energy(x[d]);
        g[d] = ds;
        e + es
    }
    pub(crate) fn likelihood(&self, x: &[f64], g: &mut [f64]) -> f64 {
        let d = self.ls.d;
        let xi = x[d];
        let inv = (-2.0 * xi).exp();
        let rss = self.ls.rss(&x[..d], &mut g[..d]);
        g[..d].iter_mut().for_each(|v| *v *= 0.5 * inv);
        let n = self.ls.n as f64;
        g[d] = n - rss * inv;
        0.5 * rss * inv + n * xi + 0.5 * n * (2.0 * PI).ln()
    }
    pub(crate) fn sample_prior<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) {
        for (o, c) in out.iter_mut().zip(&self.coef) {
            *o = match *c {
                CoefPrior::Normal(m, s) => draw_normal(rng, m, s),
                CoefPrior::StudentT(nu, m, s) => m + s * draw_student_t(rng, nu),
            };
        }
        out[self.ls.d] = self.scale.draw(rng);
    }
}

/// Gaussian-process Poisson regression: `ρ ~ Gamma(25, 4)`, `α ~ half-normal(0, 2)`,
/// `f = chol(C) f̃`, `f̃ ~ N(0, I)`, `C_ij = α² exp(−(x_i − x_j)²/2ρ²) + 10⁻¹⁰δ_ij`,
/// `k_i ~ Poisson(e^{f_i})`; coordinates `(ln ρ, ln α, f̃)`.
#[derive(Debug, Clone, PartialEq)]
pub struct GpPoisson {
    pub(crate) x: Vec<f64>,
    pub(crate) k: Vec<f64>,
    /// `Σ ln k_i!`.
    pub(crate) log_fact: f64,
}

impl GpPoisson {
    pub(crate) fn prior(&self, x: &[f64], g: &mut [f64]) -> f64 {
        let (e_rho, d_rho) = gamma_log(x[0], 25.0, 4.0);
        let (e_a, d_a) = half_normal_log(x[1], 2.0);
        g[0] = d_rho;
        g[1] = d_a;
        let mut e = e_rho + e_a;
        for (gi, f) in g[2..].iter_mut().zip(&x[2..]) {
            let (ef, df) = normal(*f, 0.0, 1.0);
            e += ef;
            *gi = df;
        }
        e
    }
    /// `C` and its derivatives in ln ρ and ln α.
    fn covariance(&self, x: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let n = self.x.len();
        let (rho, a2) = (x[0].exp(), (2.0 * x[1]).exp());
        let (mut c, mut dr, mut da) = (vec![0.0; n * n], vec![0.0; n * n], vec![0.0; n * n]);
        for i in 0..n {
            for j in 0..n {
                let d2 = (self.x[i] - self.x[j]).powi(2) / (rho * rho);
                let kij = a2 * (-0.5 * d2).exp();
                c[i * n + j] = kij + if i == j { 1e-10 } else { 0.0 };
                dr[i * n + j] = kij * d2;
                da[i * n + j] = 2.0 * kij;
            }
        }
        (c, dr, da)
    }
    pub(crate) fn likelihood(&self, x: &[f64], g: &mut [f64]) -> f64 {
        let n = self.x.len();
        let (c, dr, da) = self.covariance(x);
        let Some(l) = crate::linalg::cholesky(&c, n) else {
            g.iter_mut().for_each(|v| *v = f64::NAN);
            return f64::NAN;
        };
        let ft = &x[2..];
        let mut f = vec![0.0; n];
        crate::linalg::lower_mul(&l, n, ft, &mut f);
        let mut e = self.log_fact;
        let mut gf = vec![0.0; n];
        for i in 0..n {
            let ef = f[i].exp();
            e += ef - self.k[i] * f[i];
            gf[i] = ef - self.k[i];
        }
        // ∂/∂f̃ = Lᵀ g_f.
        for j in 0..n {
            g[2 + j] = (j..n).map(|i| l[i * n + j] * gf[i]).sum();
        }
        // ∂L from ∂C (Murray 2016): ∂L = L Φ(L⁻¹ ∂C L⁻ᵀ), Φ the lower triangle, diagonal halved.
        for (slot, dc) in [(0, &dr), (1, &da)] {
            let dl = cholesky_derivative(&l, dc, n);
            let mut df = vec![0.0; n];
            crate::linalg::lower_mul(&dl, n, ft, &mut df);
            g[slot] = gf.iter().zip(&df).map(|(a, b)| a * b).sum();
        }
        e
    }
    pub(crate) fn sample_prior<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) {
        out[0] = draw_gamma_log(rng, 25.0, 4.0);
        out[1] = draw_half_normal_log(rng, 2.0);
        for o in out[2..].iter_mut() {
            *o = draw_normal(rng, 0.0, 1.0);
        }
    }
}

/// The derivative of the lower Cholesky factor `l` of C along `dc` (both row-major n × n).
fn cholesky_derivative(l: &[f64], dc: &[f64], n: usize) -> Vec<f64> {
    use crate::linalg::lower_solve;
    // M = L⁻¹ dC L⁻ᵀ: solve columns of dC, then the rows of the result.
    let mut m = vec![0.0; n * n];
    let mut col = vec![0.0; n];
    for j in 0..n {
        (0..n).for_each(|i| col[i] = dc[i * n + j]);
        lower_solve(l, n, &mut col);
        (0..n).for_each(|i| m[i * n + j] = col[i]);
    }
    // (L⁻¹ dC) L⁻ᵀ = (L⁻¹ (L⁻¹ dC)ᵀ)ᵀ.
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        (0..n).for_each(|j| col[j] = m[i * n + j]);
        lower_solve(l, n, &mut col);
        (0..n).for_each(|j| out[i * n + j] = col[j]);
    }
    for i in 0..n {
        for j in 0..n {
            out[i * n + j] *= match i.cmp(&j) {
                std::cmp::Ordering::Greater => 1.0,
                std::cmp::Ordering::Equal => 0.5,
                std::cmp::Ordering::Less => 0.0,
            };
        }
    }
    let mut dl = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            dl[i * n + j] = (j..=i).map(|k| l[i * n + k] * out[k * n + j]).sum();
        }
    }
    dl
}

/// A two-component normal mixture: `μ₁ < μ₂` with `μ_k ~ N(0, 2)` (the ordered pair's density
/// is twice the product), `σ_k ~ half-normal(0, 2)`, `θ ~ Beta(5, 5)`,
/// `y_n ~ θ N(μ₁, σ₁) + (1 − θ) N(μ₂, σ₂)`; coordinates `(μ₁, ln(μ₂ − μ₁), ln σ₁, ln σ₂,
/// logit θ)`.
#[derive(Debug, Clone, PartialEq)]
pub struct NormalMixture {
    pub(crate) y: Vec<f64>,
}

impl NormalMixture {
    pub(crate) fn prior(&self, x: &[f64], g: &mut [f64]) -> f64 {
        let gap = x[1].exp();
        let (e1, d1) = normal(x[0], 0.0, 2.0);
        let (e2, d2) = normal(x[0] + gap, 0.0, 2.0);
        let (es1, ds1) = half_normal_log(x[2], 2.0);
        let (es2, ds2) = half_normal_log(x[3], 2.0);
        let (et, dt) = beta_logit(x[4], 5.0, 5.0);
        g[0] = d1 + d2;
        g[1] = d2 * gap - 1.0;
        g[2] = ds1;
        g[3] = ds2;
        g[4] = dt;
        e1 + e2 - 2f64.ln() - x[1] + es1 + es2 + et
    }
    pub(crate) fn likelihood(&self, x: &[f64], g: &mut [f64]) -> f64 {
        let (m1, gap) = (x[0], x[1].exp());
        let m2 = m1 + gap;
        let (s1, s2) = (x[2].exp(), x[3].exp());
        let theta = 1.0 / (1.0 + (-x[4]).exp());
        let (lt, l1t) = (theta.ln(), (1.0 - theta).ln());
        let c = 0.5 * (2.0 * PI).ln();
        let mut e = 0.0;
        let mut acc = [0.0; 5];
        for &y in &self.y {
            let (z1, z2) = ((y - m1) / s1, (y - m2) / s2);
            let a = lt - 0.5 * z1 * z1 - x[2] - c;
            let b = l1t - 0.5 * z2 * z2 - x[3] - c;
            let m = a.max(b);
            let lse = m + ((a - m).exp() + (b - m).exp()).ln();
            e -= lse;
            let (r1, r2) = ((a - lse).exp(), (b - lse).exp());
            // d(−lse) = −r1 da − r2 db.
            acc[0] -= r1 * z1 / s1 + r2 * z2 / s2;
            acc[1] -= r2 * z2 / s2 * gap;
            acc[2] -= r1 * (z1 * z1 - 1.0);
            acc[3] -= r2 * (z2 * z2 - 1.0);
            acc[4] -= r1 * (1.0 - theta) - r2 * theta;
        }
        g[..5].copy_from_slice(&acc);
        e
    }
    pub(crate) fn sample_prior<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) {
        let (a, b) = (draw_normal(rng, 0.0, 2.0), draw_normal(rng, 0.0, 2.0));
        out[0] = a.min(b);
        out[1] = (a.max(b) - a.min(b)).max(f64::MIN_POSITIVE).ln();
        out[2] = draw_half_normal_log(rng, 2.0);
        out[3] = draw_half_normal_log(rng, 2.0);
        out[4] = draw_beta_logit(rng, 5.0, 5.0);
    }
}
