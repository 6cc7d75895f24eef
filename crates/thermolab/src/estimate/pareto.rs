//! Pareto k̂: how heavy the right tail of a set of importance weights is, by fitting a
//! generalised Pareto distribution to its largest values (the diagnostic of Pareto-smoothed
//! importance sampling). Below about 0.7 the weights' variance is finite enough for a mean of
//! them — and the standard error beside it — to be trusted; above it the estimate may be far
//! off while its error bar looks small.
//!
//! # References
//! - Zhang, J. & Stephens, M. A. (2009), "A new and efficient estimation method for the
//!   generalized Pareto distribution", *Technometrics* 51 (the fit).
//! - Vehtari, A., Simpson, D., Gelman, A., Yao, Y. & Gabry, J. (2024), "Pareto smoothed
//!   importance sampling", *JMLR* 25 (the tail size, the prior on k and the threshold).

/// k̂ of the weights `exp(log_w)`; `NaN` with fewer than 10 finite weights or a flat tail.
pub fn pareto_k(log_w: &[f64]) -> f64 {
    let mut lw: Vec<f64> = log_w.iter().copied().filter(|v| v.is_finite()).collect();
    let n = lw.len();
    if n < 10 {
        return f64::NAN;
    }
    lw.sort_by(f64::total_cmp);
    let top = lw[n - 1];
    let m = ((0.2 * n as f64).min(3.0 * (n as f64).sqrt()).ceil() as usize).clamp(5, n - 1);
    let cut = (lw[n - m - 1] - top).exp();
    let x: Vec<f64> = lw[n - m..].iter().map(|v| (v - top).exp() - cut).collect();
    if x[m - 1] <= 0.0 {
        return f64::NAN;
    }
    gpd_shape(&x)
}

/// The shape of a generalised Pareto fit to exceedances `x` (ascending, positive), with the
/// weakly informative prior of Vehtari et al. pulling it towards 0.5 by 10 pseudo-points.
fn gpd_shape(x: &[f64]) -> f64 {
    let n = x.len();
    let nf = n as f64;
    let grid = 30 + (nf.sqrt() as usize);
    let quarter = x[((nf / 4.0 + 0.5) as usize).saturating_sub(1).min(n - 1)];
    let last = x[n - 1];
    // Candidate values of θ = −k/σ over a grid, each with its profile log-likelihood.
    let thetas: Vec<f64> = (1..=grid)
        .map(|j| 1.0 / last + (1.0 - (grid as f64 / (j as f64 - 0.5)).sqrt()) / (3.0 * quarter))
        .collect();
    let ks: Vec<f64> = thetas
        .iter()
        .map(|t| x.iter().map(|v| (-t * v).ln_1p()).sum::<f64>() / nf)
        .collect();
    let ll: Vec<f64> = thetas
        .iter()
        .zip(&ks)
        .map(|(t, k)| nf * ((-t / k).ln() - k - 1.0))
        .collect();
    // Posterior-mean θ: weights ∝ exp(ll), normalised stably.
    let weights: Vec<f64> = ll
        .iter()
        .map(|a| 1.0 / ll.iter().map(|b| (b - a).exp()).sum::<f64>())
        .collect();
    let total: f64 = weights.iter().filter(|w| w.is_finite()).sum();
    let theta: f64 = thetas
        .iter()
        .zip(&weights)
        .filter(|(_, w)| w.is_finite())
        .map(|(t, w)| t * w)
        .sum::<f64>()
        / total;
    let k = x.iter().map(|v| (-theta * v).ln_1p()).sum::<f64>() / nf;
    // The prior adds 10 pseudo-observations at 0.5.
    (nf * k + 10.0 * 0.5) / (nf + 10.0)
}

/// The k̂ above which a mean of `n` weights is not trusted: `min(1 − 1/log₁₀ n, 0.7)`.
pub fn k_threshold(n: usize) -> f64 {
    (1.0 - 1.0 / (n.max(11) as f64).log10()).min(0.7)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Weights with a Pareto tail of known shape k (and light-tailed ones near 0).
    #[test]
    fn recovers_known_tail_shapes() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for k in [0.2, 0.5, 0.9, 1.3] {
            let mut hats = Vec::new();
            for _ in 0..20 {
                // Pareto with tail index 1/k: u^{−k}; log weights k·(−ln u).
                let lw: Vec<f64> = (0..4000).map(|_| -k * rng.random::<f64>().ln()).collect();
                hats.push(pareto_k(&lw));
            }
            let mean = hats.iter().sum::<f64>() / hats.len() as f64;
            assert!((mean - k).abs() < 0.12, "k {k}: mean k̂ {mean} ({hats:?})");
        }
        // Gaussian log-weights of sd 0.5 have light tails.
        let lw: Vec<f64> = (0..4000)
            .map(|_| {
                let z: f64 =
                    rand_distr::Distribution::sample(&rand_distr::StandardNormal, &mut rng);
                0.5 * z
            })
            .collect();
        assert!(pareto_k(&lw) < 0.4, "{}", pareto_k(&lw));
        assert!(pareto_k(&[0.0; 5]).is_nan());
        assert!((k_threshold(10_000) - 0.7).abs() < 1e-12);
    }
}
