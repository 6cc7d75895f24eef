//! Parallel tempering: one non-reversible replica-exchange engine for every family of models.
//!
//! Replicas sit on a ladder `t_0 < … < t_K` along a path `p_t ∝ exp(−E_ref − t·ΔE)`; each round
//! every replica takes kernel steps at its rung (in parallel), then neighbouring replicas
//! exchange states with probability `min(1, p_{t_i}(x_j) p_{t_j}(x_i) / (p_{t_i}(x_i) p_{t_j}(x_j)))`
//! — on a linear path `min(1, exp((t_i − t_j)(ΔE(x_i) − ΔE(x_j))))`. Swaps follow the
//! deterministic even/odd scheme (even pairs on even rounds, odd pairs on odd rounds), whose
//! round-trip rate grows linearly rather than quadratically with the number of replicas. During
//! warm-up the ladder can be re-spaced so that each pair rejects equally often (after 100, 200,
//! 400, … rounds), from the measured communication barrier Λ = Σ rejection rates; `2Λ + 1`
//! replicas is the advised count.
//!
//! A family ([`Family`]) says how its replicas move and how their log density changes along t;
//! the engine does the rest — swaps ([`Exchange`], also used by tempered PCD training), round
//! trips, Λ, ladder adaptation, and the rungs that stepping-stone and thermodynamic integration
//! read. The families: [`PathReplicas`] (any continuous [`LinearPath`](crate::energy::LinearPath)
//! with any tuned MCMC kernel), [`SpinReplicas`] (Ising models), [`RbmReplicas`] (Boltzmann
//! machines along their base-rate path, with the hidden units summed out).
//!
//! # References
//! - Swendsen, R. H. & Wang, J.-S. (1986), "Replica Monte Carlo simulation of spin glasses", *PRL* 57.
//! - Syed, Bouchard-Côté, Deligiannidis & Doucet (2022), "Non-reversible parallel tempering: a
//!   scalable highly parallel MCMC scheme", *JRSS B* 84.

mod conductor;
mod continuous;
mod rbm;
mod relay;
mod spin;

pub use conductor::{Conductor, RoundEnd};
pub use continuous::{temper, temper_chains, PathMover, PathReplicas, PathState, TemperedDraws};
pub use rbm::{
    temper_rbm, JointChains, JointReplicas, RbmReplicas, RbmTemperSettings, RbmTempering,
    ValidRbmTemperSettings,
};
pub use relay::{
    decode_orders, decode_reports, encode_orders, encode_reports, relay_in_process, Order, Relay,
    Report, Walkable, Walkers,
};
pub use spin::{temper_ising, IsingTempering, SpinReplicas, SpinState};

use crate::error::Error;
use crate::estimate::evidence::{stepping_stones, thermodynamic_integration, Rung, TiNode, TiRule};
use crate::estimate::series::Estimate;
use crate::rng::{self, Purpose, Rng};
use crate::run::{Observer, RunContext, Termination};
use crate::settings::{nonzero, SettingsError};
use rand::Rng as _;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// What parallel tempering needs of a family of models.
///
/// A replica's `State` travels between rungs through swaps; its `Mover` (kernel, tuning, random
/// stream) stays at its rung. A state may hold several independent chains (`lanes`, e.g. a batch
/// of Boltzmann-machine chains updated together); swaps are decided lane by lane.
pub trait Family: Sync {
    /// What travels between rungs.
    type State: Send;
    /// What stays at a rung.
    type Mover: Send;
    /// Independent chains per state.
    fn lanes(&self) -> usize {
        1
    }
    /// The mover and initial state of rung `k` at position `t`, drawing from `rng` (the rung's
    /// own named stream).
    fn start(&self, k: usize, t: f64, rng: Rng) -> Result<(Self::Mover, Self::State), Error>;
    /// Moves `state` at position `t` (adapting the mover while `warmup`); returns the
    /// evaluations made.
    fn advance(
        &self,
        mover: &mut Self::Mover,
        state: &mut Self::State,
        t: f64,
        warmup: bool,
    ) -> Result<u64, Error>;
    /// `ln p*_to(x) − ln p*_from(x)` for the chain in `lane` of `state`.
    fn log_ratio(&self, state: &Self::State, lane: usize, from: f64, to: f64) -> f64;
    /// `∂_t ln p*_t(x)` for the chain in `lane` (`−ΔE` on a linear path).
    fn slope(&self, state: &Self::State, lane: usize, t: f64) -> f64;
    /// Exchanges the chains in `lane` of two states (the whole states for one-lane families).
    fn exchange(&self, a: &mut Self::State, b: &mut Self::State, lane: usize);
    /// The state now lives at `t` (after a swap or a re-spaced ladder).
    fn relocate(&self, _state: &mut Self::State, _t: f64) {}
    /// The rung of `mover` moved to `t` (the ladder was re-spaced during warm-up).
    fn respaced(&self, _mover: &mut Self::Mover, _t: f64) {}
    /// Warm-up is over: fix the mover's tuning.
    fn end_warmup(&self, _mover: &mut Self::Mover) {}
    /// `ln Z` at t = 0, when it is known (anchors stepping-stone and TI from a ladder at 0).
    fn log_z_start(&self) -> Option<f64> {
        None
    }
    /// Whether `ln p*_t` is linear in t (TI's variance correction holds).
    fn linear(&self) -> bool {
        true
    }
}

/// Swap bookkeeping of one ladder: even/odd rounds, acceptance counts per pair, and the labels
/// of the walkers for round trips. Used by [`run`] and by tempered PCD training.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Exchange {
    /// Swap attempts per neighbouring pair.
    pub tries: Vec<u64>,
    /// Rejected swaps per neighbouring pair.
    pub rejected: Vec<u64>,
    /// Round trips (one end of the ladder → the other → back) completed by the walkers.
    pub round_trips: u64,
    lanes: usize,
    /// Walker at (rung, lane).
    labels: Vec<u32>,
    /// Per walker: 0 not yet at an end, 1 last at rung 0, 2 last at the top rung.
    last_end: Vec<u8>,
    odd: bool,
    rng: Rng,
}

impl Exchange {
    /// Bookkeeping for `rungs` rungs of `lanes` chains, deciding swaps with `rng`.
    pub fn new(rungs: usize, lanes: usize, rng: Rng) -> Self {
        Self {
            tries: vec![0; rungs.saturating_sub(1)],
            rejected: vec![0; rungs.saturating_sub(1)],
            round_trips: 0,
            lanes,
            labels: (0..(rungs * lanes) as u32).collect(),
            last_end: vec![0; rungs * lanes],
            odd: false,
            rng,
        }
    }

    /// One pass of swaps (even pairs, or odd pairs on alternate calls) between the `states` at
    /// `ladder`, then the round-trip update.
    pub fn round<F: Family + ?Sized>(
        &mut self,
        family: &F,
        ladder: &[f64],
        states: &mut [F::State],
    ) {
        let swapped = self.decide(states.len(), |k, lane| {
            let (a, b) = (ladder[k], ladder[k + 1]);
            family.log_ratio(&states[k], lane, a, b) + family.log_ratio(&states[k + 1], lane, b, a)
        });
        exchange_states(family, ladder, states, &swapped);
    }

    /// One pass of swap decisions over `rungs` rungs (even pairs, or odd pairs on alternate
    /// calls), `log_acc(k, lane)` being the log acceptance of exchanging the chains in `lane` of
    /// rungs k and k+1; then the round-trip update. Returns the accepted (k, lane), whose
    /// chains the caller exchanges (pairs of one pass are disjoint, so the order is free).
    pub fn decide(
        &mut self,
        rungs: usize,
        mut log_acc: impl FnMut(usize, usize) -> f64,
    ) -> Vec<(usize, usize)> {
        let mut swapped = Vec::new();
        let mut k = usize::from(self.odd);
        while k + 1 < rungs {
            for lane in 0..self.lanes {
                let log_acc = log_acc(k, lane);
                self.tries[k] += 1;
                if log_acc >= 0.0 || self.rng.random::<f64>() < log_acc.exp() {
                    self.labels
                        .swap(k * self.lanes + lane, (k + 1) * self.lanes + lane);
                    swapped.push((k, lane));
                } else {
                    self.rejected[k] += 1;
                }
            }
            k += 2;
        }
        self.odd = !self.odd;
        for lane in 0..self.lanes {
            let bottom = self.labels[lane] as usize;
            if self.last_end[bottom] == 2 {
                self.round_trips += 1;
            }
            self.last_end[bottom] = 1;
            let top = self.labels[(rungs - 1) * self.lanes + lane] as usize;
            self.last_end[top] = 2;
        }
        swapped
    }

    /// Whether this bookkeeping is for `rungs` rungs of `lanes` chains (a check for states read
    /// back from a checkpoint).
    pub fn fits(&self, rungs: usize, lanes: usize) -> bool {
        self.lanes == lanes
            && self.tries.len() == rungs.saturating_sub(1)
            && self.rejected.len() == self.tries.len()
            && self.labels.len() == rungs * lanes
            && self.last_end.len() == rungs * lanes
            && {
                // The labels are a permutation of the walkers.
                let mut seen = vec![false; rungs * lanes];
                self.labels.iter().all(|&l| {
                    (l as usize) < seen.len() && !std::mem::replace(&mut seen[l as usize], true)
                })
            }
            && self.last_end.iter().all(|&e| e <= 2)
    }

    /// Starts counting round trips afresh (at the end of warm-up): only the walkers now at an
    /// end of the ladder have a last end.
    pub fn restart_trips(&mut self) {
        self.round_trips = 0;
        self.last_end.iter_mut().for_each(|e| *e = 0);
        let n = self.labels.len() / self.lanes.max(1);
        for lane in 0..self.lanes {
            self.last_end[self.labels[lane] as usize] = 1;
            if n > 0 {
                self.last_end[self.labels[(n - 1) * self.lanes + lane] as usize] = 2;
            }
        }
    }

    /// Rejection rate of each neighbouring pair since the last reset.
    pub fn rejection(&self) -> Vec<f64> {
        self.rejected
            .iter()
            .zip(&self.tries)
            .map(|(&r, &t)| if t == 0 { 0.0 } else { r as f64 / t as f64 })
            .collect()
    }

    /// Forgets the acceptance counts (after a re-spaced ladder, or at the end of warm-up).
    pub fn reset_counts(&mut self) {
        self.tries.iter_mut().for_each(|v| *v = 0);
        self.rejected.iter_mut().for_each(|v| *v = 0);
    }
}

/// Settings of a tempering run (the engine's part; the family carries its kernel).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TemperingSettings {
    /// The initial ladder of t values, strictly increasing in [0, 1], ending at 1.
    pub ladder: Vec<f64>,
    /// Kernel steps between swap rounds.
    pub steps_per_round: usize,
    /// Warm-up rounds (step sizes and, if asked, the ladder adapt; not kept).
    pub warmup: usize,
    /// Kept rounds.
    pub rounds: usize,
    /// Re-space the ladder during warm-up (the end points stay).
    pub adapt_ladder: bool,
    /// Worker threads (0: all cores). Results do not depend on it.
    pub threads: usize,
}

impl Default for TemperingSettings {
    fn default() -> Self {
        Self {
            ladder: (0..10)
                .map(|k| 0.01f64.powf(1.0 - k as f64 / 9.0))
                .collect(),
            steps_per_round: 1,
            warmup: 2000,
            rounds: 10_000,
            adapt_ladder: true,
            threads: 0,
        }
    }
}

/// Tempering settings that passed [`TemperingSettings::validate`] (re-validate after loading).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidTempering(TemperingSettings);

impl ValidTempering {
    /// The checked settings.
    pub fn get(&self) -> &TemperingSettings {
        &self.0
    }
}

/// Checks a ladder: at least two rungs, strictly increasing, inside [0, 1], ending at 1.
pub fn check_ladder(field: &'static str, ladder: &[f64]) -> Result<(), SettingsError> {
    if ladder.len() < 2 {
        return Err(SettingsError::new(field, "needs at least two rungs"));
    }
    if let Some(b) = ladder.iter().find(|b| !(0.0..=1.0).contains(*b)) {
        return Err(SettingsError::new(
            field,
            format!("every rung must lie in [0, 1], got {b}"),
        ));
    }
    if ladder.windows(2).any(|w| w[1] <= w[0]) {
        return Err(SettingsError::new(field, "must be strictly increasing"));
    }
    if ladder[ladder.len() - 1] != 1.0 {
        return Err(SettingsError::new(field, "must end at 1"));
    }
    Ok(())
}

impl TemperingSettings {
    /// Checks every field.
    pub fn validate(self) -> Result<ValidTempering, SettingsError> {
        check_ladder("ladder", &self.ladder)?;
        nonzero("rounds", self.rounds)?;
        nonzero("steps_per_round", self.steps_per_round)?;
        if self.warmup.checked_add(self.rounds).is_none() {
            return Err(SettingsError::new(
                "warmup",
                "warm-up plus rounds is too large to count",
            ));
        }
        Ok(ValidTempering(self))
    }
}

/// What a tempering run reports to observers after every round.
#[derive(Debug)]
pub struct TemperingEvent<'a, S> {
    /// Rounds done (warm-up included).
    pub round: usize,
    /// Whether the round was a warm-up round.
    pub warmup: bool,
    /// The ladder.
    pub ladder: &'a [f64],
    /// The replicas' states, in ladder order.
    pub states: &'a [S],
}

/// What a tempering run measured.
#[derive(Debug, Clone)]
pub struct Tempering<S> {
    /// The final ladder.
    pub ladder: Vec<f64>,
    /// Rejection rate of each neighbouring pair during the kept rounds.
    pub rejection: Vec<f64>,
    /// The communication barrier Λ = Σ rejection rates.
    pub barrier: f64,
    /// Advised number of replicas, ⌈2Λ⌉ + 1.
    pub advised_replicas: usize,
    /// Round trips completed during the kept rounds.
    pub round_trips: u64,
    /// Evaluations spent (the family's unit: gradients, spin updates, chain sweeps).
    pub evaluations: u64,
    /// Kept rounds done.
    pub rounds: usize,
    /// Why the run ended.
    pub termination: Termination,
    /// The rungs of the kept rounds (every lane of every round), for stepping-stone and TI.
    pub rungs: Vec<Rung>,
    /// `ln Z` at t = 0 when the family knows it.
    pub log_z_start: Option<f64>,
    /// Whether the path is linear in t.
    pub linear: bool,
    /// The replicas' final states, in ladder order.
    pub states: Vec<S>,
}

/// Blocks of kept rounds in the jackknife of [`Tempering::stepping_stones`] and
/// [`Tempering::log_z_ti`].
const JACKKNIFE_BLOCKS: usize = 20;

impl<S> Tempering<S> {
    /// `ln Z(t_k)` at every rung by stepping-stone, anchored at `ln Z(t_0)` when the ladder
    /// starts at 0 and the family knows `ln Z(0)` (else relative to `ln Z(t_0)`).
    ///
    /// The standard error is the larger of two: the per-stone delta-method error (each rung's
    /// own effective sample size, stones taken as independent) and a jackknife over 20
    /// contiguous blocks of rounds (which keeps the correlation that swaps create between
    /// neighbouring rungs, and needs blocks longer than the correlation time; runs of fewer
    /// than 40 rounds have fewer blocks, and under 4 rounds only the per-stone error).
    pub fn stepping_stones(&self) -> Vec<Estimate> {
        let base = self.anchor();
        let full = stepping_stones(&self.rungs);
        let jack = self.jackknife(|rungs| stepping_stones(rungs).iter().map(|e| e.value).collect());
        full.into_iter()
            .zip(jack)
            .map(|(e, j)| Estimate {
                value: base + e.value,
                se: e.se.max(j),
            })
            .collect()
    }
    /// `ln Z(1)` by stepping-stone (see [`Tempering::stepping_stones`]).
    pub fn log_z_stepping_stone(&self) -> Estimate {
        *self.stepping_stones().last().expect("two rungs at least")
    }
    /// `ln Z(1)` by thermodynamic integration over the rungs (trapezoid, corrected on linear
    /// paths), anchored as [`Tempering::stepping_stones`]. The statistical error is taken as in
    /// [`Tempering::stepping_stones`]; the quadrature's discretisation error adds in quadrature.
    pub fn log_z_ti(&self) -> Estimate {
        let ti = |rungs: &[Rung], noise: bool| {
            let nodes: Vec<TiNode> = rungs
                .iter()
                .map(|r| TiNode {
                    se: if noise { TiNode::of(r).se } else { 0.0 },
                    ..TiNode::of(r)
                })
                .collect();
            *thermodynamic_integration(&nodes, TiRule::Trapezoid)
                .last()
                .expect("two rungs at least")
        };
        let full = ti(&self.rungs, true);
        let disc = ti(&self.rungs, false).se;
        let independent = (full.se * full.se - disc * disc).max(0.0).sqrt();
        let jack = self.jackknife(|rungs| vec![ti(rungs, false).value])[0];
        let stat = independent.max(jack);
        Estimate {
            value: self.anchor() + full.value,
            se: (stat * stat + disc * disc).sqrt(),
        }
    }
    /// The jackknife standard error of each value of `f` over up to 20 equal blocks of kept
    /// rounds (at least 2 rounds each; rounds left over at the start stay in every replicate).
    /// 0 when there are fewer than 4 rounds.
    fn jackknife(&self, f: impl Fn(&[Rung]) -> Vec<f64>) -> Vec<f64> {
        let rounds = self.rounds;
        let blocks = JACKKNIFE_BLOCKS.min(rounds / 2);
        let lanes = match self.rungs.first() {
            Some(r) if rounds > 0 => r.delta.len() / rounds,
            _ => 0,
        };
        if blocks < 2 || lanes == 0 {
            return vec![0.0; self.rungs.len()];
        }
        let len = rounds / blocks;
        let first = rounds - len * blocks;
        let cut = |x: &[f64], lo: usize, hi: usize| -> Vec<f64> {
            x[..lo * lanes]
                .iter()
                .chain(&x[hi * lanes..])
                .copied()
                .collect()
        };
        let values: Vec<Vec<f64>> = (0..blocks)
            .map(|b| {
                let (lo, hi) = (first + b * len, first + (b + 1) * len);
                let rungs: Vec<Rung> = self
                    .rungs
                    .iter()
                    .map(|r| Rung {
                        t: r.t,
                        delta: cut(&r.delta, lo, hi),
                        forward: r.forward.as_ref().map(|f| cut(f, lo, hi)),
                        ess: r.ess,
                        chains: 0,
                    })
                    .collect();
                f(&rungs)
            })
            .collect();
        let n = blocks as f64;
        (0..values[0].len())
            .map(|i| {
                let m = values.iter().map(|v| v[i]).sum::<f64>() / n;
                let ss: f64 = values.iter().map(|v| (v[i] - m).powi(2)).sum();
                (ss * (n - 1.0) / n).sqrt()
            })
            .collect()
    }
    fn anchor(&self) -> f64 {
        match (self.ladder.first(), self.log_z_start) {
            (Some(&0.0), Some(z0)) => z0,
            _ => 0.0,
        }
    }
}

/// Exchanges the chains of the accepted swaps `(k, lane)` between rungs k and k+1 of `states`
/// and moves every state that changed to its rung's t.
fn exchange_states<F: Family + ?Sized>(
    family: &F,
    ladder: &[f64],
    states: &mut [F::State],
    swapped: &[(usize, usize)],
) {
    for &(k, lane) in swapped {
        let (lo, hi) = states.split_at_mut(k + 1);
        family.exchange(&mut lo[k], &mut hi[0], lane);
    }
    let mut last = usize::MAX;
    for &(k, _) in swapped {
        if k != last {
            family.relocate(&mut states[k], ladder[k]);
            family.relocate(&mut states[k + 1], ladder[k + 1]);
            last = k;
        }
    }
}

/// Runs parallel tempering of `family` (run `run` of seed `seed`: rung k draws from stream
/// (seed, replica, (run, k)), the swaps from (seed, swap, run)). The observer sees every round.
pub fn run<F, O>(
    family: &F,
    settings: &ValidTempering,
    seed: u64,
    run: u32,
    ctx: &mut RunContext<O>,
) -> Result<Tempering<F::State>, Error>
where
    F: Family,
    O: for<'a> Observer<TemperingEvent<'a, F::State>>,
{
    let s = settings.get();
    let n = s.ladder.len();
    let lanes = family.lanes();
    let mut c = Conductor::new(settings, lanes, family.linear(), seed, run);
    let (mut movers, mut states): (Vec<F::Mover>, Vec<F::State>) = (0..n)
        .map(|k| {
            let r = rng::stream2(seed, Purpose::Replica, run, k as u32);
            family.start(k, c.ladder()[k], r)
        })
        .collect::<Result<Vec<_>, Error>>()?
        .into_iter()
        .unzip();
    let pool = crate::workers::Workers::lend(s.threads);
    let mut termination = Termination::Finished;
    ctx.init::<TemperingEvent<'_, F::State>>();
    while !c.done() {
        let warm = c.warm();
        let steps = s.steps_per_round;
        let ladder = c.ladder();
        let work = || {
            movers
                .par_iter_mut()
                .zip(states.par_iter_mut())
                .zip(ladder.par_iter())
                .map(|((m, st), &t)| -> Result<u64, Error> {
                    let mut ev = 0;
                    for _ in 0..steps {
                        ev += family.advance(m, st, t, warm)?;
                    }
                    Ok(ev)
                })
                .collect::<Result<Vec<u64>, Error>>()
        };
        let ev = pool.install(work)?;
        c.count(ev.iter().sum::<u64>());
        if !warm {
            for (k, st) in states.iter().enumerate() {
                for lane in 0..lanes {
                    let (t, next) = (c.ladder()[k], c.ladder().get(k + 1).copied());
                    let slope = family.slope(st, lane, t);
                    let forward = match (family.linear(), next) {
                        (false, Some(u)) => Some(family.log_ratio(st, lane, t, u)),
                        _ => None,
                    };
                    c.record(k, slope, forward);
                }
            }
        }
        let swapped = c.swap(|k, lane, a, b| {
            family.log_ratio(&states[k], lane, a, b) + family.log_ratio(&states[k + 1], lane, b, a)
        });
        exchange_states(family, c.ladder(), &mut states, &swapped);
        let end = c.end_round();
        if end.respaced {
            for ((m, st), &t) in movers.iter_mut().zip(states.iter_mut()).zip(c.ladder()) {
                family.respaced(m, t);
                family.relocate(st, t);
            }
        }
        if end.end_warmup {
            movers.iter_mut().for_each(|m| family.end_warmup(m));
        }
        let ev = TemperingEvent {
            round: c.round(),
            warmup: warm,
            ladder: c.ladder(),
            states: &states,
        };
        if let Some(t) = ctx.step(&ev, c.evaluations()) {
            termination = t;
            break;
        }
    }
    if c.stopped_in_warmup() {
        // Stopped during warm-up: the counts are the warm-up's.
        movers.iter_mut().for_each(|m| family.end_warmup(m));
    }
    ctx.finish::<TemperingEvent<'_, F::State>>(termination);
    Ok(c.finish(states, termination, family.log_z_start()))
}

#[cfg(test)]
mod tests;
