//! How close an approximate posterior predictive is to a reference one (a long full-batch HMC
//! run), in the two metrics of the NeurIPS 2021 approximate-inference competition (Wilson,
//! Izmailov, Hoffman, Gal, Li, Pradier, Vikram, Foong, Lotfi & Farquhar 2022): top-1 agreement
//! and total variation of the class probabilities; for regression, where there is no top class,
//! the total variation of the predictive densities (Gaussian mixtures over the samples) and the
//! overlap 1 − TV as the agreement.

use serde::{Deserialize, Serialize};

/// Agreement of an approximate predictive with a reference, averaged over the test rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// Classification: the fraction of rows whose most probable class is the reference's.
    /// Regression: the mean overlap 1 − TV of the predictive densities.
    pub agreement: f64,
    /// Its standard error over the rows.
    pub agreement_se: f64,
    /// Mean total variation ½∫|p − q| between the predictives.
    pub total_variation: f64,
    /// Its standard error over the rows.
    pub total_variation_se: f64,
    /// Rows.
    pub n: usize,
}

fn mean_se(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, (var / n).sqrt())
}

/// The row means of per-row agreements and total variations, with their errors.
fn summarise(agree: &[f64], tv: &[f64]) -> Agreement {
    let (agreement, agreement_se) = mean_se(agree);
    let (total_variation, total_variation_se) = mean_se(tv);
    Agreement {
        agreement,
        agreement_se,
        total_variation,
        total_variation_se,
        n: tv.len(),
    }
}

fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, &p) in row.iter().enumerate() {
        if p > row[best] {
            best = i;
        }
    }
    best
}

/// Agreement of class probabilities `approx` with `reference` (both `n × k`, each row a
/// distribution).
///
/// ```
/// use thermolab::estimate::agreement::classification_agreement;
/// let reference = [0.9, 0.1, 0.4, 0.6];
/// let approx = [0.7, 0.3, 0.6, 0.4];
/// let a = classification_agreement(&reference, &approx, 2);
/// assert_eq!(a.agreement, 0.5);
/// assert!((a.total_variation - 0.2).abs() < 1e-12);
/// ```
pub fn classification_agreement(reference: &[f64], approx: &[f64], k: usize) -> Agreement {
    assert!(k > 0 && reference.len() == approx.len() && reference.len().is_multiple_of(k));
    let (same, tv): (Vec<f64>, Vec<f64>) = reference
        .chunks_exact(k)
        .zip(approx.chunks_exact(k))
        .map(|(p, q)| {
            let tv = 0.5 * p.iter().zip(q).map(|(a, b)| (a - b).abs()).sum::<f64>();
            (f64::from(u8::from(argmax(p) == argmax(q))), tv)
        })
        .unzip();
    summarise(&same, &tv)
}

/// Points of the quadrature over y for one value's two mixtures.
const GRID: usize = 1024;

/// The total variation between the two regression predictives of [`regression_agreement`] at
/// each test value, in order (for paired comparisons of two approximations on the same rows).
pub fn regression_total_variation_rows(
    reference: &[&[f64]],
    approx: &[&[f64]],
    noise_sd: f64,
) -> Vec<f64> {
    assert!(!reference.is_empty() && !approx.is_empty() && noise_sd > 0.0);
    let values = reference[0].len();
    assert!(reference.iter().chain(approx).all(|s| s.len() == values));
    let density = |samples: &[&[f64]], j: usize, y: f64| -> f64 {
        samples
            .iter()
            .map(|s| (-0.5 * ((y - s[j]) / noise_sd).powi(2)).exp())
            .sum::<f64>()
            / (samples.len() as f64 * noise_sd * (2.0 * std::f64::consts::PI).sqrt())
    };
    (0..values)
        .map(|j| {
            let (lo, hi) = reference
                .iter()
                .chain(approx)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| {
                    (lo.min(s[j]), hi.max(s[j]))
                });
            let (lo, hi) = (lo - 7.0 * noise_sd, hi + 7.0 * noise_sd);
            let h = (hi - lo) / (GRID - 1) as f64;
            let mut integral = 0.0;
            for i in 0..GRID {
                let y = lo + h * i as f64;
                let w = if i == 0 || i == GRID - 1 { 0.5 } else { 1.0 };
                integral += w * (density(reference, j, y) - density(approx, j, y)).abs();
            }
            (0.5 * integral * h).min(1.0)
        })
        .collect()
}

/// Agreement of two regression predictives, each given by its samples' network outputs
/// (`reference[s]` and `approx[s]` hold one sample's outputs at every test value) with Gaussian
/// noise of sd `noise_sd`: at each value the predictive density is the mixture
/// (1/S)·Σ_s N(y; f_s, sd²), and the total variation between the two mixtures is integrated
/// by the trapezoid rule on 1024 points spanning both (±7 sd beyond their outputs).
///
/// ```
/// use thermolab::estimate::agreement::regression_agreement;
/// // One test value; the reference's samples predict 0, the approximation's 1, noise sd 1:
/// // the TV of N(0, 1) and N(1, 1) is 2Φ(1/2) − 1 = 0.3829.
/// let a = regression_agreement(&[&[0.0][..]], &[&[1.0][..]], 1.0);
/// assert!((a.total_variation - 0.3829).abs() < 1e-3);
/// assert!((a.agreement - (1.0 - a.total_variation)).abs() < 1e-12);
/// ```
pub fn regression_agreement(reference: &[&[f64]], approx: &[&[f64]], noise_sd: f64) -> Agreement {
    let tv = regression_total_variation_rows(reference, approx, noise_sd);
    let overlap: Vec<f64> = tv.iter().map(|t| 1.0 - t).collect();
    summarise(&overlap, &tv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_variation_of_two_gaussians_is_the_closed_form() {
        // TV(N(0, 1), N(d, 1)) = 2Φ(d/2) − 1; Φ from statrs.
        use statrs::distribution::{ContinuousCDF, Normal};
        let phi = Normal::new(0.0, 1.0).unwrap();
        for d in [0.1, 0.5, 2.0, 5.0] {
            let a = regression_agreement(&[&[0.0][..]], &[&[d][..]], 1.0);
            let exact = 2.0 * phi.cdf(d / 2.0) - 1.0;
            assert!(
                (a.total_variation - exact).abs() < 1e-5,
                "{d}: {a:?} vs {exact}"
            );
        }
        // Identical sample sets agree fully; mixtures with different weights do not.
        let same = regression_agreement(
            &[&[0.0, 3.0][..], &[1.0, 2.0]],
            &[&[1.0, 2.0][..], &[0.0, 3.0]],
            0.5,
        );
        assert!(same.total_variation < 1e-12 && (same.agreement - 1.0).abs() < 1e-12);
        assert_eq!(same.n, 2);
    }

    #[test]
    fn classification_agreement_counts_top_classes_and_halves_the_l1_distance() {
        let p = [1.0, 0.0, 0.0, 0.2, 0.3, 0.5];
        let q = [0.0, 1.0, 0.0, 0.1, 0.2, 0.7];
        let a = classification_agreement(&p, &q, 3);
        assert_eq!(a.agreement, 0.5);
        assert!((a.total_variation - (1.0 + 0.2) / 2.0).abs() < 1e-12);
        assert!(a.agreement_se > 0.0);
    }
}
