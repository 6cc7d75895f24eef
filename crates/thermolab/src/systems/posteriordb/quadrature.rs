//! Exact evidence and posterior means of the models that are linear-Gaussian given one scale:
//! the coefficients are integrated out in closed form, the log-scale ξ by the trapezoid rule on
//! a fine grid over the range where the integrand is within e⁻⁶⁰ of its peak (for a smooth
//! integrand that decays at both ends the trapezoid rule converges faster than any power of
//! the step; the tests halve the step to show it).

use super::models::{CoefPrior, EightSchools, Regression};
use std::f64::consts::PI;

/// Exact results by quadrature.
#[derive(Debug, Clone, PartialEq)]
pub struct Exact {
    /// `ln Z`, the log marginal likelihood.
    pub log_z: f64,
    /// The posterior mean of every coordinate (on the unconstrained scale).
    pub mean: Vec<f64>,
}

/// `∫ e^{f(ξ)} dξ` and the `e^f`-weighted means of `g(ξ)`, by the trapezoid rule with `step`.
pub(crate) fn integrate(f: impl Fn(f64, &mut [f64]) -> f64, dim: usize, step: f64) -> Exact {
    let mut scratch = vec![0.0; dim];
    // Locate the bulk on a coarse grid, then integrate on the fine one.
    let coarse: Vec<(f64, f64)> = (0..=2000)
        .map(|i| {
            let xi = -60.0 + 0.05 * i as f64;
            (xi, f(xi, &mut scratch))
        })
        .collect();
    let peak = coarse.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let inside: Vec<f64> = coarse
        .iter()
        .filter(|p| p.1 > peak - 60.0)
        .map(|p| p.0)
        .collect();
    let (lo, hi) = (inside[0] - 0.1, inside[inside.len() - 1] + 0.1);
    let n = ((hi - lo) / step).ceil() as usize;
    let h = (hi - lo) / n as f64;
    let mut vals = Vec::with_capacity(n + 1);
    let mut means = Vec::with_capacity(n + 1);
    for i in 0..=n {
        let xi = lo + h * i as f64;
        let mut m = vec![0.0; dim];
        vals.push(f(xi, &mut m));
        means.push(m);
    }
    let top = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut total = 0.0;
    let mut mean = vec![0.0; dim];
    for (i, (v, m)) in vals.iter().zip(&means).enumerate() {
        let w = if i == 0 || i == n { 0.5 } else { 1.0 } * (v - top).exp();
        total += w;
        mean.iter_mut().zip(m).for_each(|(a, b)| *a += w * b);
    }
    mean.iter_mut().for_each(|a| *a /= total);
    Exact {
        log_z: top + (total * h).ln(),
        mean,
    }
}

/// Eight schools: given τ, `y_j ~ N(μ, σ_j² + τ²)` with `μ ~ N(0, 5²)`.
pub(crate) fn eight_schools(m: &EightSchools) -> Exact {
    eight_schools_step(m, 1e-3)
}

pub(crate) fn eight_schools_step(m: &EightSchools, step: f64) -> Exact {
    integrate(
        |xi, mean| eight_schools_given(m, xi, mean) - super::priors::half_cauchy_log(xi, 5.0).0,
        2 + m.y.len(),
        step,
    )
}

/// `ln p(y | τ = e^ξ)` with μ and θ integrated out; the posterior means given τ into `mean`.
pub(crate) fn eight_schools_given(m: &EightSchools, xi: f64, mean: &mut [f64]) -> f64 {
    let tau2 = (2.0 * xi).exp();
    let v: Vec<f64> = m.sigma.iter().map(|s| s * s + tau2).collect();
    let a: f64 = v.iter().map(|v| 1.0 / v).sum::<f64>() + 1.0 / 25.0;
    let b: f64 = m.y.iter().zip(&v).map(|(y, v)| y / v).sum();
    let mu = b / a;
    let q: f64 =
        m.y.iter()
            .zip(&v)
            .map(|(y, v)| (y - mu).powi(2) / v)
            .sum::<f64>()
            + mu * mu / 25.0;
    mean[0] = mu;
    mean[1] = xi;
    for j in 0..m.y.len() {
        let s2 = m.sigma[j] * m.sigma[j];
        // E[θ_j | μ, τ, y] is linear in μ, so its mean given τ uses E[μ | τ, y].
        let theta = (m.y[j] / s2 + mu / tau2) / (1.0 / s2 + 1.0 / tau2);
        mean[2 + j] = if m.noncentred {
            (theta - mu) / xi.exp()
        } else {
            theta
        };
    }
    -0.5 * v.iter().map(|v| (2.0 * PI * v).ln()).sum::<f64>()
        - 0.5 * 25f64.ln()
        - 0.5 * a.ln()
        - 0.5 * q
}

/// A regression with zero-mean Gaussian coefficient priors (`None` for others): given σ, the
/// coefficients integrate out.
pub(crate) fn regression(m: &Regression) -> Option<Exact> {
    regression_step(m, 1e-3)
}

pub(crate) fn regression_step(m: &Regression, step: f64) -> Option<Exact> {
    let d = m.ls.d;
    let prior_var: Vec<f64> = m
        .coef
        .iter()
        .map(|c| match c {
            CoefPrior::Normal(mean, s) if *mean == 0.0 => Some(s * s),
            _ => None,
        })
        .collect::<Option<_>>()?;
    Some(integrate(
        |xi, mean| {
            let log_lik =
                m.ls.log_marginal((2.0 * xi).exp(), &prior_var, &mut mean[..d]);
            mean[d] = xi;
            log_lik - m.scale.energy(xi).0
        },
        d + 1,
        step,
    ))
}
