//! Estimates from Monte Carlo series: values with standard errors, blocking, jackknife, and the
//! integrated autocorrelation time.
//!
//! # References
//! - Sokal, A. (1997), "Monte Carlo methods in statistical mechanics: foundations and new
//!   algorithms" (automatic windowing for τ_int, c = 5).
//! - Flyvbjerg, H. & Petersen, H. G. (1989), "Error estimates on averages of correlated data",
//!   *J. Chem. Phys.* 91 (blocking).

use serde::{Deserialize, Serialize};

/// A value with its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Estimate {
    /// The estimate.
    pub value: f64,
    /// Its standard error.
    pub se: f64,
}

impl Estimate {
    /// `(value − reference) / se`.
    pub fn z_score(&self, reference: f64) -> f64 {
        (self.value - reference) / self.se
    }
}

/// Means of `x` over `n_blocks` contiguous blocks of equal length (a remainder at the start is
/// dropped, so the blocks end with the series).
pub fn block_means(x: &[f64], n_blocks: usize) -> Vec<f64> {
    let n_blocks = n_blocks.max(1).min(x.len().max(1));
    let len = x.len() / n_blocks;
    if len == 0 {
        return Vec::new();
    }
    let start = x.len() - len * n_blocks;
    x[start..]
        .chunks_exact(len)
        .map(|c| c.iter().sum::<f64>() / len as f64)
        .collect()
}

/// The mean of a correlated series with its standard error from `n_blocks` contiguous block
/// means (blocks longer than the correlation time make them nearly independent).
pub fn mean_by_blocks(x: &[f64], n_blocks: usize) -> Estimate {
    let b: Vec<[f64; 1]> = block_means(x, n_blocks).iter().map(|v| [*v]).collect();
    jackknife(&b, |v| v[0])
}

/// Jackknife estimate of `f` over independent blocks: `f` receives the mean of a statistic
/// vector over all blocks, or over all blocks but one.
pub fn jackknife<const K: usize>(blocks: &[[f64; K]], f: impl Fn(&[f64; K]) -> f64) -> Estimate {
    let n = blocks.len();
    let mut total = [0.0; K];
    for b in blocks {
        for k in 0..K {
            total[k] += b[k];
        }
    }
    let mean = total.map(|t| t / n as f64);
    let value = f(&mean);
    if n < 2 {
        return Estimate {
            value,
            se: f64::NAN,
        };
    }
    let loo: Vec<f64> = blocks
        .iter()
        .map(|b| {
            let mut m = [0.0; K];
            for k in 0..K {
                m[k] = (total[k] - b[k]) / (n - 1) as f64;
            }
            f(&m)
        })
        .collect();
    let lm = loo.iter().sum::<f64>() / n as f64;
    let var = loo.iter().map(|v| (v - lm) * (v - lm)).sum::<f64>() * (n - 1) as f64 / n as f64;
    Estimate {
        value,
        se: var.sqrt(),
    }
}

/// The canonical averages at one inverse temperature β from a (correlated) series of energies
/// drawn there: ⟨E⟩ and the heat capacity `C = β² (⟨E²⟩ − ⟨E⟩²)`, errors by the jackknife
/// over `n_blocks` contiguous blocks (blocks longer than the correlation time make them nearly
/// independent). The energies are centred first, so a large constant does not cancel away the
/// variance.
///
/// ```
/// use thermolab::estimate::series::canonical_averages;
///
/// let e: Vec<f64> = (0..4000).map(|i| 100.0 + ((i * 7919) % 13) as f64).collect();
/// let (energy, c) = canonical_averages(0.5, &e, 20);
/// assert!((energy.value - 106.0).abs() < 0.1);
/// assert!((c.value - 0.25 * 14.0).abs() < 0.5); // the variance of 0..=12 is 14
/// ```
pub fn canonical_averages(beta: f64, energies: &[f64], n_blocks: usize) -> (Estimate, Estimate) {
    let n = energies.len().max(1) as f64;
    let shift = energies.iter().sum::<f64>() / n;
    let centred: Vec<f64> = energies.iter().map(|e| e - shift).collect();
    let squares: Vec<f64> = centred.iter().map(|e| e * e).collect();
    let b1 = block_means(&centred, n_blocks);
    let b2 = block_means(&squares, n_blocks);
    let blocks: Vec<[f64; 2]> = b1.iter().zip(&b2).map(|(a, b)| [*a, *b]).collect();
    let mut energy = jackknife(&blocks, |m| m[0]);
    energy.value += shift;
    let heat = jackknife(&blocks, |m| beta * beta * (m[1] - m[0] * m[0]));
    (energy, heat)
}

/// Integrated autocorrelation time `τ = ½ + Σ_{t≥1} ρ(t)`, summed up to the first window W with
/// `W ≥ 5 τ(W)` (Sokal). Returns 0.5 for an uncorrelated or constant series.
pub fn integrated_autocorrelation_time(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 4 {
        return 0.5;
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let d: Vec<f64> = x.iter().map(|v| v - mean).collect();
    let c0 = d.iter().map(|v| v * v).sum::<f64>() / n as f64;
    if c0 <= 0.0 {
        return 0.5;
    }
    let mut tau = 0.5;
    for t in 1..n / 2 {
        let ct = d[..n - t]
            .iter()
            .zip(&d[t..])
            .map(|(a, b)| a * b)
            .sum::<f64>()
            / n as f64;
        tau += ct / c0;
        if t as f64 >= 5.0 * tau {
            break;
        }
    }
    tau.max(0.5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::chain_stream;
    use rand_distr::{Distribution, StandardNormal};

    /// Gaussian energies N(μ, σ²): ⟨E⟩ = μ and C = β²σ², with calibrated errors: over 200
    /// seeds the z-scores of both have mean near 0 and sd near 1 (20 blocks: a t with 19
    /// degrees of freedom, sd 1.05), and few lie beyond 3.
    #[test]
    fn canonical_averages_of_gaussian_energies() {
        let (mu, sigma, beta) = (1.0e4, 3.0, 0.7);
        let exact_c = beta * beta * sigma * sigma;
        let (mut zs, mut ze) = (Vec::new(), Vec::new());
        for seed in 0..200 {
            let mut rng = chain_stream(seed, 3);
            let e: Vec<f64> = (0..2000)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    mu + sigma * z
                })
                .collect();
            let (energy, c) = canonical_averages(beta, &e, 20);
            ze.push(energy.z_score(mu));
            zs.push(c.z_score(exact_c));
        }
        for z in [&ze, &zs] {
            let m = z.iter().sum::<f64>() / z.len() as f64;
            let sd = (z.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (z.len() - 1) as f64).sqrt();
            let far = z.iter().filter(|v| v.abs() > 3.0).count();
            assert!(m.abs() < 0.3, "mean z {m}");
            assert!((0.8..1.3).contains(&sd), "sd of z {sd}");
            assert!(far <= 6, "{far} of 200 beyond 3 SE");
        }
    }

    /// AR(1) with coefficient φ has τ_int = ½ (1 + φ)/(1 − φ).
    #[test]
    fn tau_of_an_ar1_process() {
        let mut rng = chain_stream(1, 0);
        let phi: f64 = 0.8;
        let mut x = vec![0.0f64; 200_000];
        for i in 1..x.len() {
            let z: f64 = StandardNormal.sample(&mut rng);
            x[i] = phi * x[i - 1] + z;
        }
        let tau = integrated_autocorrelation_time(&x);
        let exact = 0.5 * (1.0 + phi) / (1.0 - phi);
        assert!((tau - exact).abs() < 0.05 * exact, "{tau} vs {exact}");
        // Blocking: the standard error of the mean matches √(2τ/n)·sd.
        let b = block_means(&x, 50);
        let se = jackknife(&b.iter().map(|v| [*v]).collect::<Vec<_>>(), |m| m[0]).se;
        let sd = (1.0 / (1.0 - phi * phi)).sqrt();
        let want = sd * (2.0 * exact / x.len() as f64).sqrt();
        assert!((se / want - 1.0).abs() < 0.3, "{se} vs {want}");
    }

    #[test]
    fn jackknife_of_a_mean_is_the_standard_error() {
        let blocks: Vec<[f64; 1]> = [1.0, 2.0, 3.0, 4.0].iter().map(|v| [*v]).collect();
        let e = jackknife(&blocks, |m| m[0]);
        assert_eq!(e.value, 2.5);
        let sd = (((1.5f64).powi(2) * 2.0 + 0.5f64.powi(2) * 2.0) / 3.0).sqrt();
        assert!((e.se - sd / 2.0).abs() < 1e-12);
        assert_eq!(block_means(&[1.0, 2.0, 3.0, 4.0, 5.0], 2), vec![2.5, 4.5]);
    }
}
