//! Ladders along a path: the one spacing rule (points evenly spaced in a cumulative measure of
//! distance along t), the two measures it is used with (thermodynamic length and the
//! communication barrier Λ), and Λ itself.
//!
//! - Thermodynamic length `L(t) = ∫ sd_t(∂_t ln p*) dt` (Gelman & Meng 1998; Crooks 2007): AIS
//!   and stepping-stone lose least when their steps are equally long in it.
//! - Overlap length: per interval `√(−ln ESS)`, with ESS the share of effective samples among
//!   the importance weights between neighbouring rungs (the smaller of the two directions).
//!   For Gaussian ΔE it equals the thermodynamic length of the interval; unlike a trapezoid
//!   over standard deviations it stays finite and honest where ΔE is heavy-tailed (a scale
//!   prior with mass near 0 makes `sd_0(ΔE)` enormous or infinite while the first stone is
//!   fine), and it saturates, at `√(ln n)`, for an interval whose rungs do not overlap at all —
//!   so a ladder is re-measured after respacing.
//! - The communication barrier `Λ(t) = ∫ λ`, with λ the local rejection rate of replica swaps
//!   (Syed, Bouchard-Côté, Deligiannidis & Doucet 2022): non-reversible parallel tempering
//!   performs best when every neighbouring pair rejects equally often, and needs about 2Λ + 1
//!   replicas.
//!
//! # References
//! - Gelman, A. & Meng, X.-L. (1998), "Simulating normalizing constants: from importance sampling
//!   to bridge sampling to path sampling", *Statistical Science* 13.
//! - Syed, S., Bouchard-Côté, A., Deligiannidis, G. & Doucet, A. (2022), "Non-reversible parallel
//!   tempering: a scalable highly parallel MCMC scheme", *JRSS B* 84.

use crate::estimate::evidence::Rung;

/// `count` points from `ts[0]` to `ts[last]` (ends included) evenly spaced in the cumulative
/// measure `cum` (non-decreasing, one value per `ts`), by linear interpolation between nodes.
/// Coincident points are nudged apart so the result increases strictly.
pub fn space_evenly(ts: &[f64], cum: &[f64], count: usize) -> Vec<f64> {
    space_evenly_by(ts, cum, count, false)
}

/// [`space_evenly`], interpolating geometrically within intervals that do not start at 0
/// (`geometric`): for paths whose scale changes by orders of magnitude in t, as a power
/// posterior near t = 0 does.
pub fn space_evenly_by(ts: &[f64], cum: &[f64], count: usize, geometric: bool) -> Vec<f64> {
    let n = ts.len();
    let (first, last) = (ts[0], ts[n - 1]);
    if count < 2 || n < 2 {
        return vec![first, last];
    }
    let total = cum[n - 1] - cum[0];
    let mut out = Vec::with_capacity(count);
    out.push(first);
    let mut k = 1;
    for j in 1..count - 1 {
        let target = cum[0] + total * j as f64 / (count - 1) as f64;
        while k < n - 1 && cum[k] < target {
            k += 1;
        }
        let (c0, c1) = (cum[k - 1], cum[k]);
        let f = if c1 > c0 {
            ((target - c0) / (c1 - c0)).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (a, b) = (ts[k - 1], ts[k]);
        out.push(if geometric && a > 0.0 && b > a {
            a * (b / a).powf(f)
        } else {
            a + f * (b - a)
        });
    }
    out.push(last);
    let tiny = 1e-12 * (last - first).abs().max(1e-300);
    for i in 1..out.len() - 1 {
        if out[i] <= out[i - 1] {
            out[i] = out[i - 1] + tiny;
        }
    }
    out
}

/// The weights' effective sample size as a share of their number, `(Σw)²/(nΣw²)`.
fn ess_share(log_w: &[f64]) -> f64 {
    let m = log_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return 0.0;
    }
    let (mut s1, mut s2) = (0.0, 0.0);
    for v in log_w {
        let w = (v - m).exp();
        s1 += w;
        s2 += w * w;
    }
    s1 * s1 / (s2 * log_w.len() as f64)
}

/// Cumulative overlap length (see the module notes) at each rung of a linear path.
pub fn overlap_length(rungs: &[Rung]) -> Vec<f64> {
    let mut cum = vec![0.0; rungs.len()];
    for k in 1..rungs.len() {
        let (a, b) = (&rungs[k - 1], &rungs[k]);
        let dt = b.t - a.t;
        let fwd: Vec<f64> = a.delta.iter().map(|u| -dt * u).collect();
        let bwd: Vec<f64> = b.delta.iter().map(|u| dt * u).collect();
        let n = a.delta.len().min(b.delta.len()).max(2) as f64;
        let share = ess_share(&fwd).min(ess_share(&bwd)).clamp(1.0 / n, 1.0);
        cum[k] = cum[k - 1] + (-share.ln()).sqrt();
    }
    cum
}

/// Cumulative thermodynamic length at each of `ts`, by the trapezoid rule over the local
/// standard deviations `sds`.
pub fn thermodynamic_length(ts: &[f64], sds: &[f64]) -> Vec<f64> {
    let mut len = vec![0.0; ts.len()];
    for k in 1..ts.len() {
        len[k] = len[k - 1] + (ts[k] - ts[k - 1]) * 0.5 * (sds[k] + sds[k - 1]);
    }
    len
}

/// Cumulative barrier Λ at each rung from the rejection rate of each neighbouring pair (each
/// floored at `floor`, so that a pair that never rejected still carries some distance).
pub fn cumulative_barrier(rejection: &[f64], floor: f64) -> Vec<f64> {
    let mut cum = vec![0.0; rejection.len() + 1];
    for (k, r) in rejection.iter().enumerate() {
        cum[k + 1] = cum[k] + r.max(floor);
    }
    cum
}

/// A ladder re-spaced so that every neighbouring pair would reject equally often, from the
/// rejection rates measured on `ladder` (a piecewise-linear Λ(t)).
pub fn respace_by_rejection(ladder: &[f64], rejection: &[f64]) -> Vec<f64> {
    space_evenly(ladder, &cumulative_barrier(rejection, 1e-3), ladder.len())
}

/// The swap rejection rate expected between two rungs of a linear path from their draws:
/// `E[1 − min(1, e^{(t_b − t_a)(ΔE_b − ΔE_a)})]` over paired draws.
pub fn predicted_rejection(a: &Rung, b: &Rung) -> f64 {
    let dt = b.t - a.t;
    let m = a.delta.len().min(b.delta.len()).max(1);
    a.delta
        .iter()
        .zip(&b.delta)
        .map(|(u0, u1)| 1.0 - (dt * (u1 - u0)).exp().min(1.0))
        .sum::<f64>()
        / m as f64
}

/// Λ(t) along a ladder of independently sampled rungs, `(t, Λ)`, from the predicted rejection of
/// each neighbouring pair.
pub fn barrier_of_rungs(rungs: &[Rung]) -> Vec<(f64, f64)> {
    let rejection: Vec<f64> = rungs
        .windows(2)
        .map(|w| predicted_rejection(&w[0], &w[1]))
        .collect();
    rungs
        .iter()
        .map(|r| r.t)
        .zip(cumulative_barrier(&rejection, 0.0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_spacing_inverts_the_cumulative_measure() {
        // cum(t) = t² on [0, 1]: evenly spaced values of t² are at √(j/4).
        let ts: Vec<f64> = (0..=1000).map(|k| k as f64 / 1000.0).collect();
        let cum: Vec<f64> = ts.iter().map(|t| t * t).collect();
        let out = space_evenly(&ts, &cum, 5);
        for (j, t) in out.iter().enumerate() {
            assert!((t - (j as f64 / 4.0).sqrt()).abs() < 1e-3, "{out:?}");
        }
        // A flat stretch (no distance) is crossed without stalling.
        let flat = vec![0.0, 0.0, 0.0, 1.0];
        let out = space_evenly(&[0.0, 0.3, 0.6, 1.0], &flat, 4);
        assert!(out.windows(2).all(|w| w[1] > w[0]), "{out:?}");
        // Equal rejection everywhere keeps an evenly spaced ladder.
        let l = [0.0, 0.25, 0.5, 0.75, 1.0];
        let r = respace_by_rejection(&l, &[0.3; 4]);
        assert!(
            r.iter().zip(&l).all(|(a, b)| (a - b).abs() < 1e-12),
            "{r:?}"
        );
    }
}
