//! The prior densities the posteriordb models use, as energies (−log density, normalised) of
//! an unconstrained coordinate with the transform's log-Jacobian included, each with its
//! derivative and a sampler.

use rand::Rng;
use rand_distr::{Beta, Distribution, Gamma, StandardNormal};
use statrs::function::gamma::ln_gamma;
use std::f64::consts::PI;

/// `N(m, s)` on x itself: (energy, dE/dx).
pub(crate) fn normal(x: f64, m: f64, s: f64) -> (f64, f64) {
    let z = (x - m) / s;
    (0.5 * z * z + s.ln() + 0.5 * (2.0 * PI).ln(), z / s)
}

/// A scale `σ = e^ξ` with a half-Cauchy(0, s) prior, as an energy of ξ (Jacobian included).
pub(crate) fn half_cauchy_log(xi: f64, s: f64) -> (f64, f64) {
    // ln(1 + r²) with r = e^ξ/s, without overflow for large ξ.
    let u = 2.0 * (xi - s.ln());
    let (l, d) = if u > 0.0 {
        (u + (-u).exp().ln_1p(), 2.0 / (1.0 + (-u).exp()))
    } else {
        let r2 = u.exp();
        (r2.ln_1p(), 2.0 * r2 / (1.0 + r2))
    };
    (-(2.0 / (PI * s)).ln() + l - xi, d - 1.0)
}

/// A scale `σ = e^ξ` with a half-normal(0, s) prior, as an energy of ξ.
pub(crate) fn half_normal_log(xi: f64, s: f64) -> (f64, f64) {
    let r2 = (xi.exp() / s).powi(2);
    (
        -(2.0 / (s * (2.0 * PI).sqrt())).ln() + 0.5 * r2 - xi,
        r2 - 1.0,
    )
}

/// `ln` of Student-t(ν, m, s)'s normalising constant.
fn student_norm(nu: f64, s: f64) -> f64 {
    ln_gamma((nu + 1.0) / 2.0) - ln_gamma(nu / 2.0) - 0.5 * (nu * PI).ln() - s.ln()
}

/// Student-t(ν, m, s) on x itself.
pub(crate) fn student_t(x: f64, nu: f64, m: f64, s: f64) -> (f64, f64) {
    let z = (x - m) / s;
    let u = z * z / nu;
    (
        -student_norm(nu, s) + 0.5 * (nu + 1.0) * u.ln_1p(),
        (nu + 1.0) * z / (s * nu * (1.0 + u)),
    )
}

/// A scale `σ = e^ξ` with a half-Student-t(ν, 0, s) prior, as an energy of ξ.
pub(crate) fn half_student_t_log(xi: f64, nu: f64, s: f64) -> (f64, f64) {
    let sigma = xi.exp();
    let (e, de) = student_t(sigma, nu, 0.0, s);
    (e - 2f64.ln() - xi, de * sigma - 1.0)
}

/// `ρ = e^ξ` with a Gamma(shape a, rate b) prior, as an energy of ξ.
pub(crate) fn gamma_log(xi: f64, a: f64, b: f64) -> (f64, f64) {
    let rho = xi.exp();
    (-(a * b.ln() - ln_gamma(a)) - a * xi + b * rho, -a + b * rho)
}

/// `θ = logistic(u)` with a Beta(a, b) prior, as an energy of u.
pub(crate) fn beta_logit(u: f64, a: f64, b: f64) -> (f64, f64) {
    let log_b = ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);
    // ln θ = −softplus(−u), ln(1 − θ) = −softplus(u).
    let sp = |v: f64| v.max(0.0) + (-v.abs()).exp().ln_1p();
    let theta = 1.0 / (1.0 + (-u).exp());
    (
        log_b + a * sp(-u) + b * sp(u),
        -a * (1.0 - theta) + b * theta,
    )
}

pub(crate) fn draw_normal<R: Rng + ?Sized>(rng: &mut R, m: f64, s: f64) -> f64 {
    let z: f64 = StandardNormal.sample(rng);
    m + s * z
}

/// ξ = ln σ for σ ~ half-Cauchy(0, s).
pub(crate) fn draw_half_cauchy_log<R: Rng + ?Sized>(rng: &mut R, s: f64) -> f64 {
    let u: f64 = rng.random::<f64>();
    (s * (0.5 * PI * u).tan()).max(f64::MIN_POSITIVE).ln()
}

/// ξ = ln σ for σ ~ half-normal(0, s).
pub(crate) fn draw_half_normal_log<R: Rng + ?Sized>(rng: &mut R, s: f64) -> f64 {
    (draw_normal(rng, 0.0, s).abs()).max(f64::MIN_POSITIVE).ln()
}

/// ξ = ln σ for σ ~ half-Student-t(ν, 0, s).
pub(crate) fn draw_half_student_t_log<R: Rng + ?Sized>(rng: &mut R, nu: f64, s: f64) -> f64 {
    (s * draw_student_t(rng, nu).abs())
        .max(f64::MIN_POSITIVE)
        .ln()
}

/// A standard Student-t(ν) variate: z / sqrt(χ²_ν / ν).
pub(crate) fn draw_student_t<R: Rng + ?Sized>(rng: &mut R, nu: f64) -> f64 {
    let z: f64 = StandardNormal.sample(rng);
    let chi2 = Gamma::new(nu / 2.0, 2.0).expect("ν > 0").sample(rng);
    z / (chi2 / nu).sqrt()
}

/// ξ = ln ρ for ρ ~ Gamma(shape a, rate b).
pub(crate) fn draw_gamma_log<R: Rng + ?Sized>(rng: &mut R, a: f64, b: f64) -> f64 {
    Gamma::new(a, 1.0 / b)
        .expect("a, b > 0")
        .sample(rng)
        .max(f64::MIN_POSITIVE)
        .ln()
}

/// u = logit θ for θ ~ Beta(a, b).
pub(crate) fn draw_beta_logit<R: Rng + ?Sized>(rng: &mut R, a: f64, b: f64) -> f64 {
    let t: f64 = Beta::new(a, b).expect("a, b > 0").sample(rng);
    let t = t.clamp(1e-300, 1.0 - 1e-16);
    (t / (1.0 - t)).ln()
}
