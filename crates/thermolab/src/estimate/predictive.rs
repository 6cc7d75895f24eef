//! Predictive metrics of a posterior (or an ensemble) on held-out data: accuracy, negative
//! log-likelihood and expected calibration error of averaged class probabilities, and RMSE and
//! Gaussian NLL of averaged regression means, each with a standard error over the test rows.

use serde::{Deserialize, Serialize};

/// Metrics of class probabilities against labels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassificationMetrics {
    /// Fraction of rows whose most probable class is the label.
    pub accuracy: f64,
    /// Its standard error, √(a(1 − a)/n).
    pub accuracy_se: f64,
    /// Mean of −ln p(label) over the rows.
    pub nll: f64,
    /// Its standard error (the rows' spread over √n).
    pub nll_se: f64,
    /// Expected calibration error: Σ_bins (n_b/n)·|accuracy_b − confidence_b| over 15 equal
    /// bins of the top probability (Guo et al. 2017).
    pub ece: f64,
    /// Its standard error, from 200 bootstrap resamplings of the rows (seeded).
    pub ece_se: f64,
    /// Rows.
    pub n: usize,
}

/// Bins of the expected calibration error.
pub const ECE_BINS: usize = 15;

/// Metrics of `probs` (`n × k`, each row a distribution) against `labels`.
///
/// ```
/// use thermolab::estimate::predictive::classification_metrics;
/// let probs = [0.9, 0.1, 0.2, 0.8, 0.6, 0.4];
/// let m = classification_metrics(&probs, &[0, 1, 1], 2);
/// assert!((m.accuracy - 2.0 / 3.0).abs() < 1e-12);
/// assert!((m.nll - (-(0.9f64.ln() + 0.8f64.ln() + 0.4f64.ln()) / 3.0)).abs() < 1e-12);
/// ```
pub fn classification_metrics(probs: &[f64], labels: &[u32], k: usize) -> ClassificationMetrics {
    let n = labels.len();
    assert_eq!(probs.len(), n * k, "probabilities are not n × k");
    // Per row: correct, −ln p(label), top probability.
    let rows: Vec<(bool, f64, f64)> = probs
        .chunks_exact(k)
        .zip(labels)
        .map(|(p, &y)| {
            let (arg, top) =
                p.iter().enumerate().fold(
                    (0, f64::NEG_INFINITY),
                    |b, (j, &v)| if v > b.1 { (j, v) } else { b },
                );
            (arg == y as usize, -p[y as usize].max(1e-300).ln(), top)
        })
        .collect();
    let nf = n.max(1) as f64;
    let accuracy = rows.iter().filter(|r| r.0).count() as f64 / nf;
    let nll = rows.iter().map(|r| r.1).sum::<f64>() / nf;
    let nll_var = rows.iter().map(|r| (r.1 - nll).powi(2)).sum::<f64>() / (nf - 1.0).max(1.0);
    let idx: Vec<usize> = (0..n).collect();
    let ece = ece_of(&rows, &idx);
    let mut rng = crate::rng::stream(0, crate::rng::Purpose::Pilot, 0xECE);
    let boots: Vec<f64> = (0..200)
        .map(|_| {
            use rand::Rng;
            let pick: Vec<usize> = (0..n).map(|_| rng.random_range(0..n.max(1))).collect();
            ece_of(&rows, &pick)
        })
        .collect();
    let bm = boots.iter().sum::<f64>() / boots.len() as f64;
    let ece_se = (boots.iter().map(|b| (b - bm).powi(2)).sum::<f64>() / 199.0).sqrt();
    ClassificationMetrics {
        accuracy,
        accuracy_se: (accuracy * (1.0 - accuracy) / nf).sqrt(),
        nll,
        nll_se: (nll_var / nf).sqrt(),
        ece,
        ece_se,
        n,
    }
}

/// One bin of a reliability diagram: the rows whose top probability fell in it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    /// The bin's lower edge (bins are [b/15, (b + 1)/15)).
    pub lower: f64,
    /// Mean top probability of its rows.
    pub confidence: f64,
    /// Fraction of its rows whose top class is the label.
    pub accuracy: f64,
    /// Its standard error, √(a(1 − a)/n_b).
    pub accuracy_se: f64,
    /// Rows in the bin.
    pub count: usize,
}

/// The reliability diagram of `probs` (`n × k`) against `labels`: the [`ECE_BINS`] bins of the
/// top probability that hold rows, each with its mean confidence and accuracy (a calibrated
/// predictive has accuracy = confidence in every bin; the ECE is their count-weighted gap).
///
/// ```
/// use thermolab::estimate::predictive::reliability;
/// // Top probabilities 0.9, 0.7 and 0.72: bins [0.87, 0.93) and [0.67, 0.73).
/// let bins = reliability(&[0.9, 0.1, 0.3, 0.7, 0.72, 0.28], &[0, 1, 1], 2);
/// assert_eq!(bins.len(), 2);
/// assert_eq!((bins[0].count, bins[0].accuracy), (2, 0.5));
/// assert_eq!((bins[1].count, bins[1].accuracy), (1, 1.0));
/// ```
pub fn reliability(probs: &[f64], labels: &[u32], k: usize) -> Vec<ReliabilityBin> {
    assert_eq!(probs.len(), labels.len() * k, "probabilities are not n × k");
    let mut count = [0usize; ECE_BINS];
    let mut correct = [0.0f64; ECE_BINS];
    let mut conf = [0.0f64; ECE_BINS];
    for (p, &y) in probs.chunks_exact(k).zip(labels) {
        let (arg, top) =
            p.iter().enumerate().fold(
                (0, f64::NEG_INFINITY),
                |b, (j, &v)| if v > b.1 { (j, v) } else { b },
            );
        let b = ((top * ECE_BINS as f64) as usize).min(ECE_BINS - 1);
        count[b] += 1;
        correct[b] += f64::from(u8::from(arg == y as usize));
        conf[b] += top;
    }
    (0..ECE_BINS)
        .filter(|&b| count[b] > 0)
        .map(|b| {
            let n = count[b] as f64;
            let a = correct[b] / n;
            ReliabilityBin {
                lower: b as f64 / ECE_BINS as f64,
                confidence: conf[b] / n,
                accuracy: a,
                accuracy_se: (a * (1.0 - a) / n).sqrt(),
                count: count[b],
            }
        })
        .collect()
}

fn ece_of(rows: &[(bool, f64, f64)], pick: &[usize]) -> f64 {
    let mut count = [0usize; ECE_BINS];
    let mut correct = [0.0f64; ECE_BINS];
    let mut conf = [0.0f64; ECE_BINS];
    for &i in pick {
        let (ok, _, top) = rows[i];
        let b = ((top * ECE_BINS as f64) as usize).min(ECE_BINS - 1);
        count[b] += 1;
        correct[b] += ok as u8 as f64;
        conf[b] += top;
    }
    let n = pick.len().max(1) as f64;
    (0..ECE_BINS)
        .filter(|&b| count[b] > 0)
        .map(|b| (correct[b] - conf[b]).abs() / n)
        .sum()
}

/// −ln p(label) per row of class probabilities `probs` (`n × k`), floored at 10⁻³⁰⁰.
pub fn class_nll_rows(probs: &[f64], labels: &[u32], k: usize) -> Vec<f64> {
    assert_eq!(probs.len(), labels.len() * k, "probabilities are not n × k");
    probs
        .chunks_exact(k)
        .zip(labels)
        .map(|(p, &y)| -p[y as usize].max(1e-300).ln())
        .collect()
}

/// The Gaussian negative log predictive density per row (summed over its `k` values).
pub fn gaussian_nll_rows(mean: &[f64], sd: &[f64], y: &[f64], k: usize) -> Vec<f64> {
    assert!(mean.len() == y.len() && sd.len() == y.len() && k > 0);
    let half_ln_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
    (0..y.len() / k)
        .map(|r| {
            (r * k..(r + 1) * k)
                .map(|j| 0.5 * ((mean[j] - y[j]) / sd[j]).powi(2) + sd[j].ln() + half_ln_2pi)
                .sum()
        })
        .collect()
}

/// The mean over rows of `a − b` with its standard error from the rows' differences: the
/// paired comparison of two predictives on the same test rows, much tighter than their
/// separate errors when the rows' difficulty dominates both.
///
/// ```
/// use thermolab::estimate::predictive::paired_difference;
/// let (d, se) = paired_difference(&[1.0, 5.0, 9.0], &[0.9, 4.8, 8.7]);
/// assert!((d - 0.2).abs() < 1e-12 && se < 0.06);
/// ```
pub fn paired_difference(a: &[f64], b: &[f64]) -> (f64, f64) {
    assert_eq!(a.len(), b.len(), "paired rows differ in number");
    let n = a.len().max(1) as f64;
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let mean = d.iter().sum::<f64>() / n;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, (var / n).sqrt())
}

/// Metrics of predicted means against real targets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegressionMetrics {
    /// Root mean squared error over rows and outputs.
    pub rmse: f64,
    /// Its standard error (delta method from the squared errors' spread).
    pub rmse_se: f64,
    /// Mean negative log predictive density per row, when given a predictive sd per value.
    pub nll: f64,
    /// Its standard error.
    pub nll_se: f64,
    /// Rows.
    pub n: usize,
}

/// Metrics of Gaussian predictives (`mean`, `sd` per value) against `y` (all `n × k`).
pub fn regression_metrics(mean: &[f64], sd: &[f64], y: &[f64], k: usize) -> RegressionMetrics {
    assert!(mean.len() == y.len() && sd.len() == y.len() && k > 0);
    let n = y.len() / k;
    let nf = n.max(1) as f64;
    let sq: Vec<f64> = (0..n)
        .map(|r| {
            (r * k..(r + 1) * k)
                .map(|j| (mean[j] - y[j]).powi(2))
                .sum::<f64>()
                / k as f64
        })
        .collect();
    let nl = gaussian_nll_rows(mean, sd, y, k);
    let stats = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / nf;
        let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (nf - 1.0).max(1.0);
        (m, (var / nf).sqrt())
    };
    let (mse, mse_se) = stats(&sq);
    let (nll, nll_se) = stats(&nl);
    let rmse = mse.sqrt();
    RegressionMetrics {
        rmse,
        rmse_se: if rmse > 0.0 {
            mse_se / (2.0 * rmse)
        } else {
            0.0
        },
        nll,
        nll_se,
        n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_calibrated_forecaster_has_small_ece_and_an_overconfident_one_does_not() {
        use rand::Rng;
        let mut rng = crate::rng::init_stream(4);
        let n = 20_000;
        let (mut good, mut bad, mut labels) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..n {
            let p: f64 = rng.random_range(0.5..1.0);
            let y = u32::from(rng.random::<f64>() >= p);
            labels.push(y);
            good.extend([p, 1.0 - p]);
            // Claims 0.99 whatever p is.
            bad.extend([0.99, 0.01]);
        }
        let g = classification_metrics(&good, &labels, 2);
        let b = classification_metrics(&bad, &labels, 2);
        assert!(g.ece < 3.0 * g.ece_se + 0.01, "{g:?}");
        // Accuracy ≈ E[p] = 0.75 against a confidence of 0.99.
        assert!((b.ece - 0.24).abs() < 0.02 && b.ece_se > 0.0, "{b:?}");
        assert!((g.accuracy - 0.75).abs() < 4.0 * g.accuracy_se);
        assert!(b.nll > g.nll + 5.0 * b.nll_se);
    }

    #[test]
    fn the_reliability_diagram_s_gaps_weighted_by_count_are_the_ece() {
        use rand::Rng;
        let mut rng = crate::rng::init_stream(9);
        let (mut probs, mut labels) = (Vec::new(), Vec::new());
        for _ in 0..3000 {
            let p: f64 = rng.random_range(0.5..1.0);
            probs.extend([p, 1.0 - p]);
            labels.push(u32::from(rng.random::<f64>() < 0.5));
        }
        let bins = reliability(&probs, &labels, 2);
        let m = classification_metrics(&probs, &labels, 2);
        let n: usize = bins.iter().map(|b| b.count).sum();
        assert_eq!(n, 3000);
        let ece: f64 = bins
            .iter()
            .map(|b| b.count as f64 * (b.accuracy - b.confidence).abs())
            .sum::<f64>()
            / 3000.0;
        assert!((ece - m.ece).abs() < 1e-12, "{ece} vs {}", m.ece);
        // Labels independent of the claims: every bin's accuracy is near 1/2.
        for b in &bins {
            assert!(
                (b.accuracy - 0.5).abs() < 4.0 * b.accuracy_se.max(0.02),
                "{b:?}"
            );
        }
    }

    #[test]
    fn regression_metrics_are_the_textbook_ones() {
        let m = regression_metrics(&[1.0, 2.0], &[1.0, 1.0], &[0.0, 2.0], 1);
        assert!((m.rmse - 0.5f64.sqrt()).abs() < 1e-12);
        let half_ln_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
        assert!((m.nll - (0.25 + half_ln_2pi)).abs() < 1e-12);
    }
}
