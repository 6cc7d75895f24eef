//! Annealed importance sampling: one engine, forward and reverse, for every family of models.
//!
//! Forward AIS (Neal 2001): particles start from the path's reference end `p_{t_0}`; at each
//! `t_k` a particle's log weight gains `ln p*_{t_k}(x) − ln p*_{t_{k−1}}(x)`, then a kernel step
//! that leaves `p_{t_k}` invariant moves it. `E[w] = Z(t_K)/Z(t_0)`, so
//! `ln Ẑ(t_K) = ln Z(t_0) + ln mean(w)`, biased low by Jensen's inequality. Reverse AIS runs the
//! same path backwards from samples of `p_{t_K}`: `E[w] = Z(t_0)/Z(t_K)`, and
//! `ln Ẑ(t_K) = ln Z(t_0) − ln mean(w)` is biased high — but only when the start states are exact
//! samples (Burda, Grosse & Salakhutdinov 2015).
//!
//! Particles move in groups, each group drawing from its own named streams, in lockstep over
//! the schedule; a family may tune its kernel between temperatures from the whole population's
//! acceptance (in a fixed order), so the result does not depend on the thread count.
//!
//! Families: [`PathParticles`] (continuous [`LinearPath`](crate::energy::LinearPath)s with HMC),
//! [`RbmParticles`] (Boltzmann machines along their base-rate path, hidden units summed out).
//!
//! # References
//! - R. M. Neal (2001), "Annealed importance sampling", *Statistics and Computing* 11.
//! - R. Salakhutdinov & I. Murray (2008), "On the quantitative analysis of deep belief networks".
//! - Y. Burda, R. Grosse & R. Salakhutdinov (2015), "Accurate and conservative estimates of MRF
//!   log-likelihood using reverse annealing".

mod continuous;
mod rbm;

pub use continuous::{PathParticles, PathTuning};
pub(crate) use rbm::check_base;
pub use rbm::{
    adaptive_betas, ais_estimate, ais_log_z, ais_part, reverse_ais_log_z, AisSchedule, AisSettings,
    RbmParticles, ValidAisSettings,
};

use crate::error::Error;
use crate::estimate::series::Estimate;
use crate::rng::{self, Purpose, Rng};
use crate::run::{Observer, RunContext, Termination};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// What AIS needs of a family: groups of particles that it can weight and move along t.
pub trait AisFamily: Sync {
    /// Particles moved together (their kernel, buffers and streams).
    type Group: Send;
    /// Kernel tuning shared by every group, updated between temperatures.
    type Tuning: Send + Sync;
    /// Group `index` of `len` particles at the start of the schedule (`t_0`), drawing from
    /// `rng` (the group's own named stream, which it keeps for its moves).
    fn start(&self, index: usize, len: usize, t0: f64, rng: Rng) -> Result<Self::Group, Error>;
    /// Adds `ln p*_to(x) − ln p*_from(x)` of every particle to `log_w`.
    fn add_log_ratio(&self, group: &Self::Group, from: f64, to: f64, log_w: &mut [f64]);
    /// Moves every particle by one kernel step at `t`; returns (sum of acceptance statistics,
    /// evaluations).
    fn advance(
        &self,
        group: &mut Self::Group,
        t: f64,
        tuning: &Self::Tuning,
    ) -> Result<(f64, u64), Error>;
    /// The tuning at the start of the schedule.
    fn tuning(&self) -> Self::Tuning;
    /// Updates the tuning from the population's mean acceptance at `t`.
    fn retune(&self, _tuning: &mut Self::Tuning, _t: f64, _mean_accept: f64) {}
}

/// Log weights of an AIS run along a schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AisRun {
    /// Log importance weight of every particle.
    pub log_weights: Vec<f64>,
    /// Evaluations spent (the family's unit).
    pub evaluations: u64,
    /// Temperatures of the schedule reached.
    pub temperatures: usize,
    /// Why the run ended (an interrupted run's weights stop short of the end).
    pub termination: Termination,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Each particle's log ratio over the last step divided by the step's length: on a linear
    /// path `−ΔE` of its final state, whose weighted mean a caller can compare with an
    /// independent run at the end of the path (particles that never reached its bulk show
    /// there, while their weights can look healthy). Empty when the run stopped short.
    pub final_slope: Vec<f64>,
    /// The weighted population at each probe position of [`run_probed`] inside the schedule.
    #[serde(default)]
    pub probes: Vec<Probe>,
}

/// The importance-weighted particles' mean slope at one position `t` of the path (on a linear
/// path the mean of `−ΔE` under the distribution at `t`), which an independent equilibrium run
/// there should match: a population that lags the moving target shows as a difference, while
/// its weights can look healthy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    /// The position on the path.
    pub t: f64,
    /// The self-normalised weighted mean of the particles' slope there.
    pub mean: f64,
    /// Its delta-method standard error, `√(Σ w̃ᵢ² (fᵢ − mean)²)`.
    pub se: f64,
    /// The weights' effective sample size there.
    pub ess: f64,
}

/// The probe at `t` from the particles' log weights at the end of a step over `[from, to]`
/// (with `from < t ≤ to`) and their slopes over it: reweighted from `to` back to `t` exactly,
/// because the log ratio is linear in t within the step.
fn probe(t: f64, to: f64, after: &[f64], slope: &[f64]) -> Probe {
    let lw: Vec<f64> = after
        .iter()
        .zip(slope)
        .map(|(a, f)| a - (to - t) * f)
        .collect();
    let m = lw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = lw.iter().map(|x| (x - m).exp()).collect();
    let s1: f64 = w.iter().sum();
    let wn: Vec<f64> = w.iter().map(|x| x / s1).collect();
    let mean: f64 = wn.iter().zip(slope).map(|(a, f)| a * f).sum();
    let var: f64 = wn
        .iter()
        .zip(slope)
        .map(|(a, f)| a * a * (f - mean) * (f - mean))
        .sum();
    Probe {
        t,
        mean,
        se: var.sqrt(),
        ess: 1.0 / wn.iter().map(|a| a * a).sum::<f64>(),
    }
}

/// What an AIS run reports to observers after each temperature.
#[derive(Debug, Clone, Copy)]
pub struct AisEvent {
    /// Temperatures done.
    pub step: usize,
    /// Temperatures in all.
    pub steps: usize,
    /// The current position on the path.
    pub t: f64,
}

/// Runs AIS of `particles` particles in groups of `group_size` along `schedule` (either
/// direction; run `run` of seed `seed`: group g draws from stream (seed, particle, run·2³² + g)).
pub fn run<F, O>(
    family: &F,
    schedule: &[f64],
    particles: usize,
    group_size: usize,
    threads: usize,
    stream: (u64, u32),
    ctx: &mut RunContext<O>,
) -> Result<AisRun, Error>
where
    F: AisFamily,
    O: Observer<AisEvent>,
{
    run_probed(
        family,
        schedule,
        &[],
        particles,
        group_size,
        threads,
        stream,
        ctx,
    )
}

/// [`run`], recording the weighted population at each of `probes` (positions inside an
/// increasing schedule; see [`Probe`]).
#[allow(clippy::too_many_arguments)]
pub fn run_probed<F, O>(
    family: &F,
    schedule: &[f64],
    probes: &[f64],
    particles: usize,
    group_size: usize,
    threads: usize,
    stream: (u64, u32),
    ctx: &mut RunContext<O>,
) -> Result<AisRun, Error>
where
    F: AisFamily,
    O: Observer<AisEvent>,
{
    let groups = Groups {
        particles,
        size: group_size,
        first: 0,
    };
    run_groups(family, schedule, probes, groups, threads, stream, ctx)
}

/// Which particles a run moves: `particles` of them in groups of `size`, the first group being
/// group `first` of a larger run (its random stream is that group's), so that runs of
/// consecutive groups give exactly the weights of one run of them all — when the family's
/// tuning does not adapt from the population (it is shared by every group).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Groups {
    /// Particles in this run.
    pub particles: usize,
    /// Particles per group (per random stream).
    pub size: usize,
    /// The index of the first group in the whole run.
    pub first: usize,
}

/// [`run_probed`] of the particles `groups` names.
pub fn run_groups<F, O>(
    family: &F,
    schedule: &[f64],
    probes: &[f64],
    groups: Groups,
    threads: usize,
    (seed, run): (u64, u32),
    ctx: &mut RunContext<O>,
) -> Result<AisRun, Error>
where
    F: AisFamily,
    O: Observer<AisEvent>,
{
    let Groups {
        particles,
        size: group_size,
        first,
    } = groups;
    let t0 = Instant::now();
    let size = group_size.max(1);
    let sizes: Vec<usize> = (0..particles)
        .step_by(size)
        .map(|s| size.min(particles - s))
        .collect();
    let mut groups: Vec<(F::Group, Vec<f64>)> = sizes
        .iter()
        .enumerate()
        .map(|(i, &len)| {
            let r = rng::stream2(seed, Purpose::Particle, run, (first + i) as u32);
            Ok((family.start(i, len, schedule[0], r)?, vec![0.0; len]))
        })
        .collect::<Result<_, Error>>()?;
    let mut tuning = family.tuning();
    let pool = crate::workers::Workers::lend(threads);
    let mut evaluations = 0u64;
    let mut termination = Termination::Finished;
    let mut reached = 1;
    let mut final_slope = Vec::new();
    let mut recorded = Vec::new();
    ctx.init::<AisEvent>();
    for k in 1..schedule.len() {
        let (from, to) = (schedule[k - 1], schedule[k]);
        let last = k + 1 == schedule.len();
        let tune = &tuning;
        let here: Vec<f64> = probes
            .iter()
            .copied()
            .filter(|&p| from < p && p <= to)
            .collect();
        let before: Vec<f64> = if last || !here.is_empty() {
            groups
                .iter()
                .flat_map(|(_, lw)| lw.iter().copied())
                .collect()
        } else {
            Vec::new()
        };
        let work = || {
            groups
                .par_iter_mut()
                .map(|(g, lw)| -> Result<(f64, u64), Error> {
                    family.add_log_ratio(g, from, to, lw);
                    if last {
                        Ok((0.0, 0))
                    } else {
                        family.advance(g, to, tune)
                    }
                })
                .collect::<Result<Vec<_>, Error>>()
        };
        let stats = pool.install(work)?;
        reached = k + 1;
        if (last || !here.is_empty()) && to != from {
            let after: Vec<f64> = groups
                .iter()
                .flat_map(|(_, lw)| lw.iter().copied())
                .collect();
            let slope: Vec<f64> = after
                .iter()
                .zip(&before)
                .map(|(a, b)| (a - b) / (to - from))
                .collect();
            recorded.extend(here.iter().map(|&t| probe(t, to, &after, &slope)));
            if last {
                final_slope = slope;
            }
        }
        evaluations += stats.iter().map(|s| s.1).sum::<u64>();
        if !last {
            let accept = stats.iter().map(|s| s.0).sum::<f64>() / particles.max(1) as f64;
            family.retune(&mut tuning, to, accept);
        }
        let ev = AisEvent {
            step: k + 1,
            steps: schedule.len(),
            t: to,
        };
        if let Some(t) = ctx.step(&ev, evaluations) {
            if !last {
                termination = t;
                break;
            }
        }
    }
    ctx.finish::<AisEvent>(termination);
    Ok(AisRun {
        log_weights: groups.into_iter().flat_map(|(_, lw)| lw).collect(),
        evaluations,
        temperatures: reached,
        termination,
        seconds: t0.elapsed().as_secs_f64(),
        final_slope,
        probes: recorded,
    })
}

impl AisRun {
    /// One run from runs of consecutive groups of it, in order (see [`Groups`]): their weights
    /// and final slopes one after the other, evaluations summed, the shortest reach, the first
    /// stop, the longest wall time. Probes are not carried (they are population averages).
    pub fn concat(parts: Vec<AisRun>) -> AisRun {
        let termination = parts
            .iter()
            .map(|p| p.termination)
            .find(|t| *t != Termination::Finished)
            .unwrap_or(Termination::Finished);
        AisRun {
            temperatures: parts.iter().map(|p| p.temperatures).min().unwrap_or(0),
            evaluations: parts.iter().map(|p| p.evaluations).sum(),
            seconds: parts.iter().map(|p| p.seconds).fold(0.0, f64::max),
            final_slope: parts
                .iter()
                .flat_map(|p| p.final_slope.iter().copied())
                .collect(),
            log_weights: parts.into_iter().flat_map(|p| p.log_weights).collect(),
            termination,
            probes: Vec::new(),
        }
    }
}

/// An AIS estimate of `ln Z` at the far end of the schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AisEstimate {
    /// The estimate of `ln Z`.
    pub log_z: f64,
    /// Its standard error: the larger of the delta method on the mean importance weight
    /// (which can never exceed about 1 nat, however wrong the estimate) and a log-normal
    /// heuristic, `√((e^{σ²} − 1)/n)` with σ from the interquartile range of the log-weights
    /// within 30 nats of the largest, which grows without bound as the weights spread; infinite
    /// when fewer than 10 particles carry weight. (`low` and `high` use the delta method, as
    /// Salakhutdinov & Murray do.)
    pub se: f64,
    /// Pareto k̂ of the weights ([`crate::estimate::pareto`]): above
    /// [`crate::estimate::pareto::k_threshold`] the standard error is not to be trusted.
    pub pareto_k: f64,
    /// `ln Z_0 + ln(mean(w) − 3·sd(w)/√n)` (−∞ when that is not positive) and
    /// `ln Z_0 + ln(mean(w) + 3·sd(w)/√n)`, as Salakhutdinov & Murray report (for reverse AIS the
    /// roles of the two are swapped so that `low ≤ high`).
    pub low: f64,
    /// See [`AisEstimate::low`].
    pub high: f64,
    /// Effective sample size of the importance weights, `(Σw)²/Σw²`.
    pub ess: f64,
    /// `ln Z` at the start of a forward run (the end of a reverse one).
    pub log_z_base: f64,
    /// Log importance weight of every particle.
    pub log_weights: Vec<f64>,
    /// Temperatures used.
    pub temperatures: usize,
    /// Evaluations spent.
    pub evaluations: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Why the run ended.
    pub termination: Termination,
    /// The importance-weighted mean of the particles' final slope (on a linear path the
    /// posterior mean of `−ΔE`) and its standard error, for comparison with an independent run.
    #[serde(default)]
    pub final_slope: Option<Estimate>,
    /// The weighted population at the run's probe positions ([`run_probed`]).
    #[serde(default)]
    pub probes: Vec<Probe>,
}

impl AisEstimate {
    /// The estimate from the log weights of `run`, forward (`reverse = false`: the weights
    /// estimate `Z_end / Z_base`) or reverse (they estimate `Z_base / Z_end`).
    pub fn from_run(run: AisRun, log_z_base: f64, reverse: bool) -> Self {
        let lw = run.log_weights;
        let n = lw.len() as f64;
        let m = lw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = lw.iter().map(|&x| (x - m).exp()).collect();
        let s1: f64 = w.iter().sum();
        let s2: f64 = w.iter().map(|x| x * x).sum();
        let mean = s1 / n;
        let var = if n > 1.0 {
            (s2 - n * mean * mean).max(0.0) / (n - 1.0)
        } else {
            0.0
        };
        let log_mean = m + mean.ln();
        let rel_se = var.sqrt() / mean / n.sqrt();
        // The spread of ln w from its interquartile range (σ = IQR/1.349 for a normal), which
        // particles far below the bulk — carrying no weight — do not inflate; over the
        // log-weights within 30 nats of the largest.
        let mut fin: Vec<f64> = lw.iter().copied().filter(|x| *x > m - 30.0).collect();
        fin.sort_by(f64::total_cmp);
        let lvar = if fin.len() >= 10 {
            let q = |p: f64| fin[(p * (fin.len() - 1) as f64).round() as usize];
            ((q(0.75) - q(0.25)) / 1.349).powi(2)
        } else {
            0.0
        };
        let lognormal = ((lvar.exp() - 1.0) / n).sqrt();
        // Fewer than 10 particles carry the weight: no spread can be measured, and the error
        // is unbounded.
        let se = if fin.len() < 10 {
            f64::INFINITY
        } else {
            rel_se.max(lognormal)
        };
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
        let final_slope = (run.final_slope.len() == lw.len() && s1 > 0.0).then(|| {
            let wn: Vec<f64> = w.iter().map(|x| x / s1).collect();
            let m: f64 = wn.iter().zip(&run.final_slope).map(|(a, b)| a * b).sum();
            let v: f64 = wn
                .iter()
                .zip(&run.final_slope)
                .map(|(a, b)| a * (b - m) * (b - m))
                .sum();
            Estimate {
                value: m,
                se: (v / (s1 * s1 / s2)).sqrt(),
            }
        });
        Self {
            final_slope,
            log_z,
            se,
            pareto_k: crate::estimate::pareto::pareto_k(&lw),
            low,
            high,
            ess: s1 * s1 / s2,
            log_z_base,
            log_weights: lw,
            temperatures: run.temperatures,
            evaluations: run.evaluations,
            seconds: run.seconds,
            termination: run.termination,
            probes: run.probes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::probe;

    /// A probe inside a step reweights the particles exactly from the step's end back to it.
    #[test]
    fn a_probe_reweights_back_to_its_position() {
        // Two particles with equal weights at t = 1 and slopes 0 and 1: at t = 0.5 their log
        // weights are −0.5·f, so the weighted mean slope is e^{−1/2} / (1 + e^{−1/2}).
        let p = probe(0.5, 1.0, &[0.0, 0.0], &[1.0, 0.0]);
        let w = (-0.5f64).exp() / (1.0 + (-0.5f64).exp());
        assert!((p.mean - w).abs() < 1e-12);
        assert!((p.ess - 1.0 / (w * w + (1.0 - w) * (1.0 - w))).abs() < 1e-12);
        let se = (w * w * (1.0 - w).powi(2) + (1.0 - w).powi(2) * w * w).sqrt();
        assert!((p.se - se).abs() < 1e-12);
        // At the step's end nothing is reweighted.
        let q = probe(1.0, 1.0, &[0.0, 0.0], &[1.0, 0.0]);
        assert!((q.mean - 0.5).abs() < 1e-12 && (q.ess - 2.0).abs() < 1e-12);
    }
}
