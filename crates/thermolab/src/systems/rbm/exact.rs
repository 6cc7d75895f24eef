//! Exact log partition functions of small Boltzmann machines by enumerating the smaller layer
//! (log-sum-exp in f64, blocks of states in parallel, combined in a fixed order so the result
//! does not depend on the thread count).

use super::dense::{gemm, softplus_sum, View};
use super::{Rbm, RbmError, VisibleKind};
use rayon::prelude::*;

const BLOCK_BITS: usize = 12;

/// `ln Z` of `rbm`, enumerating the smaller layer (always the hidden layer for Gaussian visible
/// units, whose integral is done in closed form). Refuses layers wider than `max_units`.
///
/// - hidden enumerated: `ln Z = lse_h [c·h + Σ_i softplus(b_i + (Wh)_i)]` (Bernoulli) or
///   `lse_h [c·h + Σ_i (b_i a_i/σ_i + a_i²/2)] + Σ_i ln(√(2π) σ_i)` with `a = Wh` (Gaussian);
/// - visible enumerated: `ln Z = lse_v [b·v + Σ_j softplus(c_j + (vW)_j)]`.
pub fn log_partition_exact(rbm: &Rbm, max_units: usize) -> Result<f64, RbmError> {
    rbm.validate()?;
    let hidden = rbm.visible == VisibleKind::Gaussian || rbm.n_hidden <= rbm.n_visible;
    let units = if hidden { rbm.n_hidden } else { rbm.n_visible };
    if units > max_units || units > 40 {
        return Err(RbmError::TooLarge {
            units,
            limit: max_units.min(40),
        });
    }
    let total: u64 = 1 << units;
    let block = 1u64 << BLOCK_BITS.min(units);
    let blocks = total / block;
    let parts: Vec<(f64, f64)> = (0..blocks)
        .into_par_iter()
        .map(|k| block_lse(rbm, hidden, units, k * block, block as usize))
        .collect();
    let constant = match rbm.visible {
        VisibleKind::Bernoulli => 0.0,
        VisibleKind::Gaussian => rbm
            .sigma
            .iter()
            .map(|&s| (s as f64 * (2.0 * std::f64::consts::PI).sqrt()).ln())
            .sum(),
    };
    Ok(combine(&parts) + constant)
}

/// Combines per-block `(max, Σ e^{x − max})` pairs into one log-sum-exp.
fn combine(parts: &[(f64, f64)]) -> f64 {
    let m = parts.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + parts
        .iter()
        .map(|&(pm, s)| s * (pm - m).exp())
        .sum::<f64>()
        .ln()
}

/// Log-sum-exp of the terms of states `start .. start + len` as `(max, Σ e^{x − max})`.
fn block_lse(rbm: &Rbm, hidden: bool, units: usize, start: u64, len: usize) -> (f64, f64) {
    let terms = state_terms(rbm, hidden, units, start, len);
    let m = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (m, terms.iter().map(|&t| (t - m).exp()).sum())
}

/// The log-weights (up to one constant) of the enumerated layer's states `start .. start + len`.
fn state_terms(rbm: &Rbm, hidden: bool, units: usize, start: u64, len: usize) -> Vec<f64> {
    let (nv, nh) = (rbm.n_visible, rbm.n_hidden);
    let mut states = vec![0.0f32; len * units];
    for (r, row) in states.chunks_exact_mut(units).enumerate() {
        let s = start + r as u64;
        for (u, x) in row.iter_mut().enumerate() {
            *x = ((s >> u) & 1) as f32;
        }
    }
    let other = if hidden { nv } else { nh };
    let mut act = vec![0.0f32; len * other];
    if hidden {
        gemm(
            &mut act,
            View::n(&states, len, nh),
            View::t(&rbm.w, nv, nh),
            1.0,
            false,
        );
    } else {
        gemm(
            &mut act,
            View::n(&states, len, nv),
            View::n(&rbm.w, nv, nh),
            1.0,
            false,
        );
    }
    let (own_bias, other_bias) = if hidden {
        (&rbm.c, &rbm.b)
    } else {
        (&rbm.b, &rbm.c)
    };
    let terms: Vec<f64> = states
        .chunks_exact(units)
        .zip(act.chunks_exact_mut(other))
        .map(|(s, a)| {
            let lin: f64 = s
                .iter()
                .zip(own_bias.iter())
                .map(|(&x, &b)| x as f64 * b as f64)
                .sum();
            match rbm.visible {
                VisibleKind::Bernoulli => {
                    for (x, b) in a.iter_mut().zip(other_bias.iter()) {
                        *x += b;
                    }
                    lin + softplus_sum(a, 1.0)
                }
                VisibleKind::Gaussian => {
                    lin + a
                        .iter()
                        .zip(&rbm.b)
                        .zip(&rbm.sigma)
                        .map(|((&x, &b), &sg)| {
                            let x = x as f64;
                            b as f64 * x / sg as f64 + 0.5 * x * x
                        })
                        .sum::<f64>()
                }
            }
        })
        .collect();
    terms
}

/// `n` exact samples of the visible units of `rbm` (`n × V`), by enumerating the smaller layer
/// (at most `max_units` units, and never more than 22): its marginal is drawn exactly, and the
/// visible units given hidden ones from their conditional. These are the start states under
/// which reverse AIS is biased high.
pub fn exact_visible_samples<R: rand::Rng + ?Sized>(
    rbm: &Rbm,
    n: usize,
    max_units: usize,
    rng: &mut R,
) -> Result<Vec<f32>, RbmError> {
    use rand_distr::{Distribution, StandardNormal};
    rbm.validate()?;
    let hidden = rbm.visible == VisibleKind::Gaussian || rbm.n_hidden <= rbm.n_visible;
    let units = if hidden { rbm.n_hidden } else { rbm.n_visible };
    let limit = max_units.min(22);
    if units > limit {
        return Err(RbmError::TooLarge { units, limit });
    }
    let terms = state_terms(rbm, hidden, units, 0, 1 << units);
    let m = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut cdf = Vec::with_capacity(terms.len());
    let mut acc = 0.0;
    for t in &terms {
        acc += (t - m).exp();
        cdf.push(acc);
    }
    let (nv, nh) = (rbm.n_visible, rbm.n_hidden);
    let mut out = Vec::with_capacity(n * nv);
    let mut h = vec![0.0f32; nh];
    for _ in 0..n {
        let u = rng.random::<f64>() * acc;
        let state = cdf.partition_point(|c| *c <= u).min(cdf.len() - 1) as u64;
        if !hidden {
            out.extend((0..nv).map(|i| ((state >> i) & 1) as f32));
            continue;
        }
        for (j, x) in h.iter_mut().enumerate() {
            *x = ((state >> j) & 1) as f32;
        }
        for i in 0..nv {
            let wh: f64 = (0..nh)
                .map(|j| f64::from(rbm.w[i * nh + j]) * f64::from(h[j]))
                .sum();
            let b = f64::from(rbm.b[i]);
            out.push(match rbm.visible {
                VisibleKind::Bernoulli => {
                    let p = crate::math::sigmoid(b + wh);
                    f32::from(u8::from(rng.random::<f64>() < p))
                }
                VisibleKind::Gaussian => {
                    let sg = f64::from(rbm.sigma[i]);
                    let z: f64 = StandardNormal.sample(rng);
                    (b + sg * wh + sg * z) as f32
                }
            });
        }
    }
    Ok(out)
}

/// The average log-likelihood `mean_v(−F(v)) − ln Z` of the rows of `data` (nats per row).
pub fn average_log_likelihood(rbm: &Rbm, data: &[f32], log_z: f64) -> f64 {
    let f = rbm.free_energies(data);
    -f.iter().sum::<f64>() / f.len().max(1) as f64 - log_z
}
