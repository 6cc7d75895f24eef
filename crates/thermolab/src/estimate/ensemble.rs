//! Ensembles as microstates: SWAG's Gaussian over an optimiser's iterates (Maddox, Garipov,
//! Izmailov, Vetrov & Wilson 2019; MultiSWAG is one per member, Wilson & Izmailov 2020), the
//! members' spread in weight space and in function space, and the ensemble's predictive entropy
//! split into its expected member entropy and the mutual information between prediction and
//! member (the ensemble's own entropy in function space: zero when the members agree).

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// SWAG: the mean, the diagonal variance and the last `rank` deviations from the mean of an
/// optimiser's iterates; draws are θ̄ + √(Σ_diag/2)·z₁ + D·z₂/√(2(K − 1)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Swag {
    /// The iterates' mean θ̄.
    pub mean: Vec<f64>,
    /// Their variance per coordinate (clamped at 0).
    pub variance: Vec<f64>,
    /// The last K iterates less θ̄ (the low-rank part), K = min(rank, iterates).
    pub deviations: Vec<Vec<f64>>,
}

impl Swag {
    /// Fits SWAG to `iterates` (at least 2, all of one length) with a low-rank part of at most
    /// `rank` deviations; `None` with fewer than 2 iterates.
    ///
    /// ```
    /// use thermolab::estimate::ensemble::Swag;
    /// let it = [vec![0.0, 1.0], vec![2.0, 1.0], vec![1.0, 1.0]];
    /// let views: Vec<&[f64]> = it.iter().map(|v| v.as_slice()).collect();
    /// let s = Swag::fit(&views, 2).unwrap();
    /// assert_eq!(s.mean, vec![1.0, 1.0]);
    /// assert!((s.variance[0] - 2.0 / 3.0).abs() < 1e-12 && s.variance[1] == 0.0);
    /// assert_eq!(s.deviations.len(), 2);
    /// ```
    pub fn fit(iterates: &[&[f64]], rank: usize) -> Option<Self> {
        if iterates.len() < 2 {
            return None;
        }
        let d = iterates[0].len();
        let n = iterates.len() as f64;
        let mut mean = vec![0.0; d];
        let mut square = vec![0.0; d];
        for it in iterates {
            for ((m, s), &v) in mean.iter_mut().zip(&mut square).zip(*it) {
                *m += v / n;
                *s += v * v / n;
            }
        }
        let variance = mean
            .iter()
            .zip(&square)
            .map(|(m, s)| (s - m * m).max(0.0))
            .collect();
        let keep = rank.min(iterates.len());
        let deviations = iterates[iterates.len() - keep..]
            .iter()
            .map(|it| it.iter().zip(&mean).map(|(v, m)| v - m).collect())
            .collect();
        Some(Self {
            mean,
            variance,
            deviations,
        })
    }

    /// One draw from the SWAG Gaussian.
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<f64> {
        let mut theta: Vec<f64> = self
            .mean
            .iter()
            .zip(&self.variance)
            .map(|(m, v)| {
                let z: f64 = StandardNormal.sample(rng);
                m + (0.5 * v).sqrt() * z
            })
            .collect();
        let k = self.deviations.len();
        if k >= 2 {
            let scale = 1.0 / (2.0 * (k - 1) as f64).sqrt();
            for dev in &self.deviations {
                let z: f64 = StandardNormal.sample(rng);
                for (t, d) in theta.iter_mut().zip(dev) {
                    *t += scale * z * d;
                }
            }
        }
        theta
    }
}

/// How far apart an ensemble's members sit in weight space.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WeightSpread {
    /// Mean Euclidean distance over pairs of members.
    pub mean_distance: f64,
    /// Mean norm of a member.
    pub mean_norm: f64,
    /// Mean squared distance over pairs, over twice the mean squared norm about the origin
    /// (0: identical members; about 1: as far apart as independent draws around zero).
    pub relative: f64,
}

/// The weight-space spread of `members` (at least 2).
pub fn weight_spread(members: &[&[f64]]) -> WeightSpread {
    assert!(members.len() >= 2, "an ensemble's spread needs two members");
    let norm2 = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>();
    let m = members.len();
    let (mut dist, mut dist2, mut pairs) = (0.0, 0.0, 0.0);
    for i in 0..m {
        for j in i + 1..m {
            let d2: f64 = members[i]
                .iter()
                .zip(members[j])
                .map(|(a, b)| (a - b).powi(2))
                .sum();
            dist += d2.sqrt();
            dist2 += d2;
            pairs += 1.0;
        }
    }
    let mean_norm2 = members.iter().map(|v| norm2(v)).sum::<f64>() / m as f64;
    WeightSpread {
        mean_distance: dist / pairs,
        mean_norm: members.iter().map(|v| norm2(v).sqrt()).sum::<f64>() / m as f64,
        relative: if mean_norm2 > 0.0 {
            dist2 / pairs / (2.0 * mean_norm2)
        } else {
            0.0
        },
    }
}

/// A value averaged over test rows, with its standard error over them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RowMean {
    /// The mean over rows.
    pub mean: f64,
    /// Its standard error.
    pub se: f64,
}

fn row_mean(v: &[f64]) -> RowMean {
    let n = v.len().max(1) as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    RowMean {
        mean,
        se: (var / n).sqrt(),
    }
}

/// How far apart an ensemble's members predict, and the entropy of its predictive.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FunctionSpread {
    /// Fraction of (row, pair of members) whose top classes differ.
    pub disagreement: RowMean,
    /// Mean total variation between two members' class probabilities.
    pub total_variation: RowMean,
    /// Entropy of the averaged prediction, `H(p̄)` (nats per row).
    pub predictive_entropy: RowMean,
    /// The members' mean entropy, `mean_m H(p_m)`.
    pub expected_entropy: RowMean,
    /// Their difference, the mutual information between the prediction and the member (the
    /// part of the predictive's entropy that the ensemble's spread adds).
    pub mutual_information: RowMean,
}

fn entropy(p: &[f64]) -> f64 {
    -p.iter()
        .filter(|&&q| q > 0.0)
        .map(|&q| q * q.ln())
        .sum::<f64>()
}

/// The function-space spread of members' class probabilities (`member_probs[m]` is `n × k`,
/// at least 2 members).
///
/// ```
/// use thermolab::estimate::ensemble::function_spread;
/// // Two members that agree on the first row and split on the second.
/// let a = vec![0.9, 0.1, 0.8, 0.2];
/// let b = vec![0.9, 0.1, 0.2, 0.8];
/// let s = function_spread(&[a, b], 2);
/// assert_eq!(s.disagreement.mean, 0.5);
/// assert!(s.mutual_information.mean > 0.0);
/// ```
pub fn function_spread(member_probs: &[Vec<f64>], k: usize) -> FunctionSpread {
    let m = member_probs.len();
    assert!(m >= 2, "an ensemble's spread needs two members");
    let n = member_probs[0].len() / k;
    let argmax = |row: &[f64]| {
        row.iter()
            .enumerate()
            .fold(
                (0, f64::NEG_INFINITY),
                |b, (j, &v)| if v > b.1 { (j, v) } else { b },
            )
            .0
    };
    let mut dis = Vec::with_capacity(n);
    let mut tv = Vec::with_capacity(n);
    let mut total = Vec::with_capacity(n);
    let mut expected = Vec::with_capacity(n);
    let mut mi = Vec::with_capacity(n);
    let pairs = (m * (m - 1) / 2) as f64;
    let mut mean_row = vec![0.0; k];
    for r in 0..n {
        let rows: Vec<&[f64]> = member_probs
            .iter()
            .map(|p| &p[r * k..(r + 1) * k])
            .collect();
        let (mut d, mut t) = (0.0, 0.0);
        for i in 0..m {
            for j in i + 1..m {
                d += f64::from(u8::from(argmax(rows[i]) != argmax(rows[j])));
                t += 0.5
                    * rows[i]
                        .iter()
                        .zip(rows[j])
                        .map(|(a, b)| (a - b).abs())
                        .sum::<f64>();
            }
        }
        dis.push(d / pairs);
        tv.push(t / pairs);
        mean_row.iter_mut().for_each(|v| *v = 0.0);
        for row in &rows {
            for (acc, &p) in mean_row.iter_mut().zip(*row) {
                *acc += p / m as f64;
            }
        }
        let h = entropy(&mean_row);
        let e = rows.iter().map(|row| entropy(row)).sum::<f64>() / m as f64;
        total.push(h);
        expected.push(e);
        mi.push((h - e).max(0.0));
    }
    FunctionSpread {
        disagreement: row_mean(&dis),
        total_variation: row_mean(&tv),
        predictive_entropy: row_mean(&total),
        expected_entropy: row_mean(&expected),
        mutual_information: row_mean(&mi),
    }
}

/// The spread of members' regression outputs (`member_outputs[m]` holds one value per test row
/// and output): the root mean square over values of the members' standard deviation about
/// their mean, the epistemic sd that the ensemble adds to the noise.
pub fn output_spread(member_outputs: &[Vec<f64>]) -> RowMean {
    let m = member_outputs.len();
    assert!(m >= 2, "an ensemble's spread needs two members");
    let values = member_outputs[0].len();
    let var: Vec<f64> = (0..values)
        .map(|j| {
            let mean = member_outputs.iter().map(|o| o[j]).sum::<f64>() / m as f64;
            member_outputs
                .iter()
                .map(|o| (o[j] - mean).powi(2))
                .sum::<f64>()
                / (m - 1) as f64
        })
        .collect();
    let v = row_mean(&var);
    let rms = v.mean.sqrt();
    RowMean {
        mean: rms,
        se: if rms > 0.0 { v.se / (2.0 * rms) } else { 0.0 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swag_draws_have_the_iterates_mean_and_covariance() {
        // Iterates from a correlated 2-D Gaussian: SWAG's draws (diagonal half plus low-rank
        // half) reproduce its mean and, with every iterate kept as a deviation, its covariance.
        let mut rng = crate::rng::init_stream(3);
        let iterates: Vec<Vec<f64>> = (0..400)
            .map(|_| {
                let (a, b): (f64, f64) = (
                    StandardNormal.sample(&mut rng),
                    StandardNormal.sample(&mut rng),
                );
                vec![1.0 + a, -2.0 + 0.8 * a + 0.6 * b]
            })
            .collect();
        let views: Vec<&[f64]> = iterates.iter().map(|v| v.as_slice()).collect();
        let swag = Swag::fit(&views, 400).unwrap();
        let draws: Vec<Vec<f64>> = (0..20_000).map(|_| swag.draw(&mut rng)).collect();
        let n = draws.len() as f64;
        let mean: Vec<f64> = (0..2)
            .map(|j| draws.iter().map(|d| d[j]).sum::<f64>() / n)
            .collect();
        let cov = |i: usize, j: usize| {
            draws
                .iter()
                .map(|d| (d[i] - mean[i]) * (d[j] - mean[j]))
                .sum::<f64>()
                / n
        };
        for j in 0..2 {
            assert!((mean[j] - swag.mean[j]).abs() < 0.03, "{mean:?}");
        }
        // Diagonal half: var/2; low-rank half: (K/(K − 1))·var/2 ≈ var/2 — together the
        // iterates' covariance, the off-diagonal from the low-rank half alone (half of it).
        let var0 = swag.variance[0];
        assert!(
            (cov(0, 0) - var0).abs() < 0.06 * var0,
            "{} vs {var0}",
            cov(0, 0)
        );
        let c01: f64 = views
            .iter()
            .map(|v| (v[0] - swag.mean[0]) * (v[1] - swag.mean[1]))
            .sum::<f64>()
            / 400.0;
        assert!(
            (cov(0, 1) - 0.5 * c01).abs() < 0.05,
            "{} vs {}",
            cov(0, 1),
            0.5 * c01
        );
        assert!(Swag::fit(&views[..1], 5).is_none());
    }

    #[test]
    fn spreads_vanish_for_identical_members_and_count_what_differs() {
        let a = vec![1.0, 0.0, 2.0];
        let b = vec![1.0, 0.0, 0.0];
        let w = weight_spread(&[&a, &a]);
        assert_eq!((w.mean_distance, w.relative), (0.0, 0.0));
        let w = weight_spread(&[&a, &b]);
        assert!((w.mean_distance - 2.0).abs() < 1e-12);
        let p = vec![0.7, 0.3, 0.5, 0.5];
        let s = function_spread(&[p.clone(), p.clone(), p], 2);
        assert_eq!(s.disagreement.mean, 0.0);
        assert!(s.mutual_information.mean.abs() < 1e-15);
        assert!((s.predictive_entropy.mean - s.expected_entropy.mean).abs() < 1e-15);
        // Two confident members that disagree on a row: MI = ln 2 − H(0.99) there.
        let s = function_spread(&[vec![0.99, 0.01], vec![0.01, 0.99]], 2);
        let h = -(0.99f64 * 0.99f64.ln() + 0.01 * 0.01f64.ln());
        assert!((s.mutual_information.mean - (2f64.ln() - h)).abs() < 1e-12);
        assert!((s.total_variation.mean - 0.98).abs() < 1e-12);
        let o = output_spread(&[vec![0.0, 1.0], vec![2.0, 1.0]]);
        assert!((o.mean - 1.0).abs() < 1e-12, "{o:?}");
    }
}
