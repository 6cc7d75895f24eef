//! log Z of a Boltzmann machine by annealed importance sampling (Neal 2001) along the path of
//! Salakhutdinov & Murray (2008) from a base-rate machine, with the hidden units summed out of
//! the importance weights; and reverse AIS, which anneals from (approximate) model samples back
//! to the base machine and gives an estimate from above, so the two bracket ln Z.
//!
//! Forward AIS: `v_0` from the base machine; at each `β_k` the weight gains
//! `ln p*_k(v) − ln p*_{k−1}(v)` and `v` moves by one block-Gibbs sweep that leaves `p_k`
//! invariant. `E[w] = Z_B / Z_A`, so `ln Ẑ = ln Z_A + ln mean(w)`, which is biased *low* (Jensen).
//! Reverse AIS runs the same path backwards from samples of the model: `E[w] = Z_A / Z_B`, and
//! `ln Ẑ = ln Z_A − ln mean(w)` is biased *high* when the start states are exact samples.
//!
//! # References
//! - R. M. Neal (2001), "Annealed importance sampling".
//! - R. Salakhutdinov & I. Murray (2008), "On the quantitative analysis of deep belief networks".
//! - Y. Burda, R. Grosse & R. Salakhutdinov (2015), "Accurate and conservative estimates of MRF
//!   log-likelihood using reverse annealing".

use crate::kernels::rbm::{base_energy, base_log_partition, sample_base, BaseRate, GibbsBatch};
use crate::rng;
use crate::settings::{nonzero, SettingsError};
use crate::systems::rbm::{Rbm, RbmError};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// How the inverse temperatures are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AisSchedule {
    /// Evenly spaced on [0, 1].
    Linear,
    /// Salakhutdinov & Murray's spacing: 1/14.5 of the steps on [0, 0.5], 4/14.5 on [0.5, 0.9],
    /// 10/14.5 on [0.9, 1] (their 1 000 / 4 000 / 10 000).
    Piecewise,
    /// Evenly spaced in thermodynamic length `∫ sd_β(∂_β ln p*_β) dβ`, measured by a short pilot
    /// run (32 chains, 200 linear steps, its own stream): the spacing that minimises the
    /// variance of the log weights for a given number of steps when the chains keep up.
    Adaptive,
}

/// Settings of [`ais_log_z`] and [`reverse_ais_log_z`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AisSettings {
    /// Independent AIS runs (chains).
    pub chains: usize,
    /// Intermediate distributions (temperatures), ends included.
    pub temperatures: usize,
    /// Spacing of the temperatures.
    pub schedule: AisSchedule,
    /// Chains per random stream (a fixed grouping, so results do not depend on thread count).
    pub chains_per_stream: usize,
    /// Threads (0 = all cores).
    pub threads: usize,
    /// Run seed.
    pub seed: u64,
}

impl Default for AisSettings {
    fn default() -> Self {
        Self {
            chains: 100,
            temperatures: 1000,
            schedule: AisSchedule::Adaptive,
            chains_per_stream: 50,
            threads: 0,
            seed: 0,
        }
    }
}

/// Settings that passed [`AisSettings::validate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidAisSettings(AisSettings);

impl ValidAisSettings {
    /// The settings.
    pub fn get(&self) -> &AisSettings {
        &self.0
    }
}

impl AisSettings {
    /// Checks every field.
    pub fn validate(self) -> Result<ValidAisSettings, SettingsError> {
        nonzero("chains", self.chains)?;
        nonzero("chains_per_stream", self.chains_per_stream)?;
        if self.temperatures < 2 {
            return Err(SettingsError::new(
                "temperatures",
                "needs at least 2 (the two ends)",
            ));
        }
        Ok(ValidAisSettings(self))
    }

    /// The inverse temperatures, from 0 to 1 (for [`AisSchedule::Adaptive`], the linear pilot
    /// schedule; see [`adaptive_betas`]).
    pub fn betas(&self) -> Vec<f64> {
        let k = self.temperatures - 1;
        match self.schedule {
            AisSchedule::Adaptive => (0..=k).map(|i| i as f64 / k as f64).collect(),
            AisSchedule::Linear => (0..=k).map(|i| i as f64 / k as f64).collect(),
            AisSchedule::Piecewise => {
                let n1 = ((k as f64 / 14.5).round() as usize).max(1);
                let n2 = ((4.0 * k as f64 / 14.5).round() as usize).max(1);
                let n3 = k.saturating_sub(n1 + n2).max(1);
                let mut b = vec![0.0];
                for (n, lo, hi) in [(n1, 0.0, 0.5), (n2, 0.5, 0.9), (n3, 0.9, 1.0)] {
                    for i in 1..=n {
                        b.push(lo + (hi - lo) * i as f64 / n as f64);
                    }
                }
                b
            }
        }
    }
}

/// Standard deviation of `∂_β ln p*_β(v) = E_A(v) − (visible term) + Σ_j a_j σ(β a_j)` over
/// chain states `g` (which must have current activations).
fn path_derivative_sd(rbm: &Rbm, base_b: &[f32], g: &GibbsBatch, beta: f64) -> f64 {
    let (nv, nh) = (rbm.n_visible, rbm.n_hidden);
    let u: Vec<f64> =
        g.v.chunks_exact(nv)
            .zip(g.act.chunks_exact(nh))
            .map(|(v, a)| {
                let hid: f64 = a
                    .iter()
                    .map(|&x| x as f64 * crate::math::sigmoid(beta * x as f64))
                    .sum();
                base_energy(rbm, base_b, v) - rbm.visible_term(v) + hid
            })
            .collect();
    let n = u.len() as f64;
    let m = u.iter().sum::<f64>() / n;
    (u.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt()
}

/// `count` inverse temperatures from 0 to 1, evenly spaced in thermodynamic length measured by a
/// pilot AIS run (32 chains, 200 linear steps, on a stream of its own).
pub fn adaptive_betas(rbm: &Rbm, base_b: &[f32], count: usize, seed: u64) -> Vec<f64> {
    const PILOT_STEPS: usize = 200;
    let mut r = rng::stream(seed, u64::MAX);
    let v0 = sample_base(rbm, base_b, 32, &mut r);
    let mut g = GibbsBatch::new(rbm, v0, &mut r);
    let grid: Vec<f64> = (0..=PILOT_STEPS)
        .map(|i| i as f64 / PILOT_STEPS as f64)
        .collect();
    let mut sd = Vec::with_capacity(grid.len());
    for &beta in &grid {
        let base = BaseRate {
            b: base_b,
            alpha: (1.0 - beta) as f32,
        };
        for _ in 0..2 {
            g.sample_hidden(rbm, beta as f32);
            g.sample_visible(rbm, beta as f32, Some(base));
        }
        g.update_activations(rbm);
        sd.push(path_derivative_sd(rbm, base_b, &g, beta).max(1e-12));
    }
    // Cumulative length by the trapezoid rule, then invert at evenly spaced lengths.
    let mut length = vec![0.0f64; grid.len()];
    for i in 1..grid.len() {
        length[i] = length[i - 1] + 0.5 * (sd[i] + sd[i - 1]) * (grid[i] - grid[i - 1]);
    }
    let total = length[grid.len() - 1];
    let k = count - 1;
    let mut out = Vec::with_capacity(count);
    let mut j = 1;
    for i in 0..=k {
        let target = total * i as f64 / k as f64;
        while j < grid.len() - 1 && length[j] < target {
            j += 1;
        }
        let (l0, l1) = (length[j - 1], length[j]);
        let f = if l1 > l0 {
            ((target - l0) / (l1 - l0)).clamp(0.0, 1.0)
        } else {
            0.0
        };
        out.push(grid[j - 1] + f * (grid[j] - grid[j - 1]));
    }
    out[0] = 0.0;
    out[k] = 1.0;
    for i in 1..out.len() {
        if out[i] <= out[i - 1] {
            out[i] = (out[i - 1] + 1e-9).min(1.0);
        }
    }
    out
}

/// An AIS estimate of ln Z with its spread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AisEstimate {
    /// The estimate of ln Z.
    pub log_z: f64,
    /// Its standard error (delta method on the mean importance weight).
    pub se: f64,
    /// `ln Z_A + ln(mean(w) − 3·sd(w)/√n)` (−∞ when that is not positive) and
    /// `ln Z_A + ln(mean(w) + 3·sd(w)/√n)`, as Salakhutdinov & Murray report (for reverse AIS the
    /// roles of the two are swapped so that `low ≤ high`).
    pub low: f64,
    /// See [`AisEstimate::low`].
    pub high: f64,
    /// Effective sample size of the importance weights, `(Σw)²/Σw²`.
    pub ess: f64,
    /// ln Z of the base-rate machine.
    pub log_z_base: f64,
    /// Log importance weight of every chain.
    pub log_weights: Vec<f64>,
    /// Temperatures used.
    pub temperatures: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Mean, sd and ESS of `e^{lw}`, as logs where needed: (ln mean, sd/mean, ess).
fn weight_stats(lw: &[f64]) -> (f64, f64, f64) {
    let m = lw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let n = lw.len() as f64;
    let w: Vec<f64> = lw.iter().map(|&x| (x - m).exp()).collect();
    let s1: f64 = w.iter().sum();
    let s2: f64 = w.iter().map(|x| x * x).sum();
    let mean = s1 / n;
    let var = if n > 1.0 {
        (s2 - n * mean * mean).max(0.0) / (n - 1.0)
    } else {
        0.0
    };
    (m + mean.ln(), var.sqrt() / mean, s1 * s1 / s2)
}

fn estimate(
    lw: Vec<f64>,
    log_z_base: f64,
    reverse: bool,
    temperatures: usize,
    seconds: f64,
) -> AisEstimate {
    let n = lw.len() as f64;
    let (log_mean, rel_sd, ess) = weight_stats(&lw);
    let rel_se = rel_sd / n.sqrt();
    let lo = (1.0 - 3.0 * rel_se).max(0.0).ln();
    let hi = (1.0 + 3.0 * rel_se).ln();
    let (log_z, low, high) = if reverse {
        (
            log_z_base - log_mean,
            log_z_base - log_mean - hi,
            log_z_base - log_mean - lo,
        )
    } else {
        (
            log_z_base + log_mean,
            log_z_base + log_mean + lo,
            log_z_base + log_mean + hi,
        )
    };
    AisEstimate {
        log_z,
        se: rel_se,
        low,
        high,
        ess,
        log_z_base,
        log_weights: lw,
        temperatures,
        seconds,
    }
}

fn run_groups<F>(settings: &AisSettings, f: F) -> Vec<f64>
where
    F: Fn(usize, usize) -> Vec<f64> + Sync,
{
    let groups: Vec<(usize, usize)> = (0..settings.chains)
        .step_by(settings.chains_per_stream)
        .map(|start| {
            (
                start,
                settings.chains_per_stream.min(settings.chains - start),
            )
        })
        .collect();
    let work = || -> Vec<f64> {
        groups
            .par_iter()
            .map(|&(start, len)| f(start / settings.chains_per_stream, len))
            .collect::<Vec<_>>()
            .concat()
    };
    match rayon::ThreadPoolBuilder::new()
        .num_threads(settings.threads)
        .build()
    {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
}

/// Forward AIS from the base-rate machine with visible biases `base_b` (see
/// [`Rbm::base_rate_biases`]) to `rbm`.
pub fn ais_log_z(
    rbm: &Rbm,
    base_b: &[f32],
    settings: &ValidAisSettings,
) -> Result<AisEstimate, RbmError> {
    rbm.validate()?;
    check_base(rbm, base_b)?;
    let s = settings.get();
    let start = Instant::now();
    let betas = schedule(rbm, base_b, s);
    let lw = run_groups(s, |group, len| {
        let mut r = rng::chain_stream(s.seed, group as u64);
        let v0 = sample_base(rbm, base_b, len, &mut r);
        let mut g = GibbsBatch::new(rbm, v0, &mut r);
        let mut lw = vec![0.0f64; len];
        let (mut now, mut before) = (Vec::new(), Vec::new());
        for k in 1..betas.len() {
            let (b0, b1) = (betas[k - 1], betas[k]);
            g.update_activations(rbm);
            g.log_marginals(rbm, b1, Some((base_b, 1.0 - b1)), &mut now);
            g.log_marginals(rbm, b0, Some((base_b, 1.0 - b0)), &mut before);
            for ((w, a), b) in lw.iter_mut().zip(&now).zip(&before) {
                *w += a - b;
            }
            if k + 1 < betas.len() {
                g.sample_hidden_current(b1 as f32);
                g.sample_visible(
                    rbm,
                    b1 as f32,
                    Some(BaseRate {
                        b: base_b,
                        alpha: (1.0 - b1) as f32,
                    }),
                );
            }
        }
        lw
    });
    Ok(estimate(
        lw,
        base_log_partition(rbm, base_b),
        false,
        betas.len(),
        start.elapsed().as_secs_f64(),
    ))
}

/// Reverse AIS from visible states `start` (`n × V`, ideally samples of `rbm`; their number sets
/// the number of chains, `settings.chains` is ignored) back to the base-rate machine.
pub fn reverse_ais_log_z(
    rbm: &Rbm,
    base_b: &[f32],
    start: &[f32],
    settings: &ValidAisSettings,
) -> Result<AisEstimate, RbmError> {
    rbm.validate()?;
    check_base(rbm, base_b)?;
    let n = rbm.check_data(start)?;
    let mut s = settings.get().clone();
    s.chains = n.max(1);
    let t0 = Instant::now();
    let betas = schedule(rbm, base_b, &s);
    let nv = rbm.n_visible;
    let lw = run_groups(&s, |group, len| {
        let mut r = rng::chain_stream(s.seed, group as u64);
        let first = group * s.chains_per_stream;
        let v0 = start[first * nv..(first + len) * nv].to_vec();
        let mut g = GibbsBatch::new(rbm, v0, &mut r);
        let mut lw = vec![0.0f64; len];
        let (mut now, mut next) = (Vec::new(), Vec::new());
        for k in (1..betas.len()).rev() {
            let (b1, b0) = (betas[k], betas[k - 1]);
            g.update_activations(rbm);
            g.log_marginals(rbm, b0, Some((base_b, 1.0 - b0)), &mut next);
            g.log_marginals(rbm, b1, Some((base_b, 1.0 - b1)), &mut now);
            for ((w, a), b) in lw.iter_mut().zip(&next).zip(&now) {
                *w += a - b;
            }
            if k > 1 {
                g.sample_hidden_current(b0 as f32);
                g.sample_visible(
                    rbm,
                    b0 as f32,
                    Some(BaseRate {
                        b: base_b,
                        alpha: (1.0 - b0) as f32,
                    }),
                );
            }
        }
        lw
    });
    Ok(estimate(
        lw,
        base_log_partition(rbm, base_b),
        true,
        betas.len(),
        t0.elapsed().as_secs_f64(),
    ))
}

fn schedule(rbm: &Rbm, base_b: &[f32], s: &AisSettings) -> Vec<f64> {
    match s.schedule {
        AisSchedule::Adaptive => adaptive_betas(rbm, base_b, s.temperatures, s.seed),
        _ => s.betas(),
    }
}

fn check_base(rbm: &Rbm, base_b: &[f32]) -> Result<(), RbmError> {
    if base_b.len() != rbm.n_visible {
        return Err(RbmError::Shape {
            field: "base_b",
            expected: rbm.n_visible,
            found: base_b.len(),
        });
    }
    if let Some(index) = base_b.iter().position(|x| !x.is_finite()) {
        return Err(RbmError::Invalid {
            field: "base_b",
            index,
        });
    }
    Ok(())
}
