//! Gaussian linear models `y ~ N(Xβ, σ)` through sufficient statistics: the residual sum of
//! squares and its gradient in O(d²) per evaluation, and the marginal likelihood with the
//! coefficients integrated out under independent Gaussian priors (for exact evidence by
//! quadrature over σ).

use crate::linalg::{cholesky, lower_solve, lower_t_solve};
use std::f64::consts::PI;

/// `XᵀX`, and the residuals' statistics around the least-squares point `b₀` (expanding there
/// keeps the cancellation at the size of the residuals, not of `yᵀy`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LeastSquares {
    pub n: usize,
    pub d: usize,
    gram: Vec<f64>,
    b0: Vec<f64>,
    /// `‖y − Xb₀‖²`, summed row by row.
    ss0: f64,
    /// `Xᵀ(y − Xb₀)` (zero up to rounding).
    h: Vec<f64>,
}

impl LeastSquares {
    /// From a row-major `n × d` design and the responses.
    pub fn new(x: &[f64], y: &[f64], d: usize) -> Self {
        let n = y.len();
        let mut gram = vec![0.0; d * d];
        let mut xty = vec![0.0; d];
        for (row, yi) in x.chunks_exact(d).zip(y) {
            for j in 0..d {
                xty[j] += row[j] * yi;
                for k in 0..d {
                    gram[j * d + k] += row[j] * row[k];
                }
            }
        }
        // A ridge of 1e-12 of the diagonal's scale only to keep a rank-deficient design solvable.
        let scale = (0..d).map(|j| gram[j * d + j]).fold(0.0, f64::max).max(1.0);
        let mut ridged = gram.clone();
        (0..d).for_each(|j| ridged[j * d + j] += 1e-12 * scale);
        let mut b0 = xty;
        if let Some(l) = cholesky(&ridged, d) {
            lower_solve(&l, d, &mut b0);
            lower_t_solve(&l, d, &mut b0);
        } else {
            b0.iter_mut().for_each(|v| *v = 0.0);
        }
        let mut ss0 = 0.0;
        let mut h = vec![0.0; d];
        for (row, yi) in x.chunks_exact(d).zip(y) {
            let r = yi - row.iter().zip(&b0).map(|(a, b)| a * b).sum::<f64>();
            ss0 += r * r;
            h.iter_mut().zip(row).for_each(|(hj, a)| *hj += r * a);
        }
        Self {
            n,
            d,
            gram,
            b0,
            ss0,
            h,
        }
    }

    /// `‖y − Xβ‖²`, its gradient in β written into `g`.
    pub fn rss(&self, beta: &[f64], g: &mut [f64]) -> f64 {
        let d = self.d;
        let mut s = self.ss0;
        for j in 0..d {
            let dj = beta[j] - self.b0[j];
            let gd: f64 = (0..d)
                .map(|k| self.gram[j * d + k] * (beta[k] - self.b0[k]))
                .sum();
            s += -2.0 * dj * self.h[j] + dj * gd;
            g[j] = -2.0 * self.h[j] + 2.0 * gd;
        }
        s.max(0.0)
    }

    /// `ln p(y | σ²)` with `β_j ~ N(0, prior_var[j])` integrated out, and the posterior mean of
    /// β given σ² (written into `mean`).
    pub fn log_marginal(&self, noise_var: f64, prior_var: &[f64], mean: &mut [f64]) -> f64 {
        let d = self.d;
        let mut a: Vec<f64> = self.gram.iter().map(|g| g / noise_var).collect();
        (0..d).for_each(|j| a[j * d + j] += 1.0 / prior_var[j]);
        let Some(l) = cholesky(&a, d) else {
            return f64::NEG_INFINITY;
        };
        // b = Xᵀy/σ² = (G b₀ + h)/σ²; the mode m = A⁻¹ b.
        for (j, m) in mean.iter_mut().enumerate().take(d) {
            let gb: f64 = (0..d).map(|k| self.gram[j * d + k] * self.b0[k]).sum();
            *m = (gb + self.h[j]) / noise_var;
        }
        lower_solve(&l, d, mean);
        lower_t_solve(&l, d, mean);
        let mut g = vec![0.0; d];
        let q = self.rss(mean, &mut g) / noise_var
            + mean
                .iter()
                .zip(prior_var)
                .map(|(m, v)| m * m / v)
                .sum::<f64>();
        let log_det_a = 2.0 * (0..d).map(|i| l[i * d + i].ln()).sum::<f64>();
        -0.5 * self.n as f64 * (2.0 * PI * noise_var).ln()
            - 0.5 * prior_var.iter().map(|v| v.ln()).sum::<f64>()
            - 0.5 * log_det_a
            - 0.5 * q
    }
}
