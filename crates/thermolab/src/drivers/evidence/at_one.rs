//! The evidence estimators that read the draws at t = 1 and the mode rather than the ladder:
//! bridge sampling (against a Gaussian fitted to half the posterior draws), the Laplace
//! approximation and — for teaching — the harmonic mean.

use super::EvidenceEstimate;
use crate::drivers::lbfgs::{minimise, LbfgsSettings};
use crate::energy::{Energy, EnergyError, Gradient, LinearPath, PathAt};
use crate::error::Error;
use crate::estimate::evidence::{bridge_sampling, harmonic_mean, Rung};
use crate::estimate::series::Estimate;
use crate::linalg::{cholesky, lower_mul};
use crate::rng::{self, Purpose};
use rand_distr::{Distribution, StandardNormal};
use std::time::Instant;

/// The Laplace approximation at the mode θ*: `ln Z ≈ −E(θ*) + (d/2) ln 2π − ½ ln |H|`, with the
/// Hessian by central differences of the gradient. Deterministic: it has no standard error (NaN)
/// and its error is the posterior's departure from a Gaussian.
pub fn laplace<P: LinearPath>(post: &P) -> Result<(Estimate, u64), EnergyError> {
    let d = post.dim();
    let mut e = crate::energy::Counted::new(PathAt::new(post.clone(), 1.0));
    let opt = minimise(
        &mut e,
        &vec![0.0; d],
        &LbfgsSettings {
            max_iterations: 2000,
            ..Default::default()
        },
    )?;
    let h = 1e-5;
    let mut hess = vec![0.0; d * d];
    let (mut gp, mut gm) = (vec![0.0; d], vec![0.0; d]);
    let mut x = opt.x.clone();
    for j in 0..d {
        let x0 = x[j];
        x[j] = x0 + h;
        e.energy_grad(&x, &mut gp)?;
        x[j] = x0 - h;
        e.energy_grad(&x, &mut gm)?;
        x[j] = x0;
        for i in 0..d {
            hess[i * d + j] = (gp[i] - gm[i]) / (2.0 * h);
        }
    }
    let sym: Vec<f64> = (0..d * d)
        .map(|k| 0.5 * (hess[k] + hess[(k % d) * d + k / d]))
        .collect();
    let l = cholesky(&sym, d).ok_or_else(|| {
        EnergyError::Data("the Hessian at the mode is not positive definite".into())
    })?;
    let log_det = 2.0 * (0..d).map(|i| l[i * d + i].ln()).sum::<f64>();
    let value = -opt.energy + 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln() - 0.5 * log_det;
    Ok((
        Estimate {
            value,
            se: f64::NAN,
        },
        e.counts().cost(),
    ))
}

/// The estimators that read the draws at t = 1: bridge sampling, Laplace (at the mode) and the
/// harmonic mean.
pub(super) fn draw_estimates<P: LinearPath>(
    post: &P,
    rungs: &[Rung],
    draws: &[Vec<f64>],
    seed: u64,
) -> Result<Vec<EvidenceEstimate>, Error> {
    let d = post.dim();
    let mut out = Vec::new();
    // Bridge sampling against a Gaussian fitted to the first half of the posterior draws; the
    // second half enters the estimate (fitting and estimating on the same draws biases it).
    let t0 = Instant::now();
    let half = draws.len() / 2;
    let (fit, held) = draws.split_at(half);
    let nf = fit.len();
    let mean: Vec<f64> = (0..d)
        .map(|j| fit.iter().map(|x| x[j]).sum::<f64>() / nf as f64)
        .collect();
    let cov: Vec<f64> = (0..d * d)
        .map(|k| {
            let (i, j) = (k / d, k % d);
            fit.iter()
                .map(|x| (x[i] - mean[i]) * (x[j] - mean[j]))
                .sum::<f64>()
                / (nf as f64 - 1.0)
                + if i == j { 1e-12 } else { 0.0 }
        })
        .collect();
    if let (Some(l), true) = (cholesky(&cov, d), nf > d + 1) {
        let log_det = 2.0 * (0..d).map(|i| l[i * d + i].ln()).sum::<f64>();
        let log_q = |x: &[f64]| {
            let mut w: Vec<f64> = x.iter().zip(&mean).map(|(a, m)| a - m).collect();
            crate::linalg::lower_solve(&l, d, &mut w);
            -0.5 * w.iter().map(|v| v * v).sum::<f64>()
                - 0.5 * log_det
                - 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln()
        };
        let mut full = PathAt::new(post.clone(), 1.0);
        let n = held.len();
        let mut lp_post = Vec::with_capacity(n);
        let mut lq_post = Vec::with_capacity(n);
        for x in held {
            lp_post.push(-full.energy(x)?);
            lq_post.push(log_q(x));
        }
        let mut rng = rng::stream(seed, Purpose::Bridge, 0);
        let (mut lp_prop, mut lq_prop) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut z = vec![0.0; d];
        let mut x = vec![0.0; d];
        for _ in 0..n {
            for v in z.iter_mut() {
                *v = StandardNormal.sample(&mut rng);
            }
            lower_mul(&l, d, &z, &mut x);
            x.iter_mut().zip(&mean).for_each(|(a, m)| *a += m);
            lp_prop.push(-full.energy(&x)?);
            lq_prop.push(log_q(&x));
        }
        // The held-out draws' share of the chains' effective sample size.
        let ess_post = rungs
            .last()
            .map_or(n as f64, |r| r.ess * n as f64 / draws.len() as f64);
        let log_z = bridge_sampling(&lp_post, &lq_post, &lp_prop, &lq_prop, ess_post);
        let note = if log_z.value.is_finite() {
            "Gaussian proposal fitted to half the t = 1 draws"
        } else {
            "unavailable: no finite estimate (a Gaussian proposal does not fit this posterior)"
        };
        out.push(EvidenceEstimate {
            method: "bridge sampling".into(),
            log_z,
            evaluations: 2 * n as u64,
            seconds: t0.elapsed().as_secs_f64(),
            note: Some(note.into()),
            ..Default::default()
        });
    }
    let t0 = Instant::now();
    // A mode with an indefinite Hessian (multimodal or degenerate posteriors, e.g. networks)
    // leaves Laplace undefined; the other estimators still stand, so report it as unavailable.
    let (lap, lap_evals, lap_note) = match laplace(post) {
        Ok((lap, evals)) => (
            lap,
            evals,
            "deterministic approximation: no standard error; exact only for a Gaussian posterior"
                .to_string(),
        ),
        Err(e) => (
            Estimate {
                value: f64::NAN,
                se: f64::NAN,
            },
            0,
            format!("unavailable: {e}"),
        ),
    };
    out.push(EvidenceEstimate {
        method: "Laplace".into(),
        log_z: lap,
        evaluations: lap_evals,
        seconds: t0.elapsed().as_secs_f64(),
        note: Some(lap_note),
        ..Default::default()
    });
    if let Some(last) = rungs.last() {
        out.push(EvidenceEstimate {
            method: "harmonic mean".into(),
            log_z: harmonic_mean(&last.delta, last.ess),
            evaluations: 0,
            seconds: 0.0,
            note: Some("unreliable (infinite variance in general): shown for teaching".into()),
            ..Default::default()
        });
    }
    Ok(out)
}
