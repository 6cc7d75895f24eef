//! The bookkeeping of one tempering run, apart from where its replicas live: the ladder and its
//! re-spacing, the swap decisions, the warm-up schedule and the rungs kept for stepping-stone
//! and TI. The in-process engine ([`run`](super::run)) and the distributed one
//! ([`Relay`](super::Relay)) both drive a [`Conductor`], so the two cannot drift apart.

use super::{Exchange, Tempering, ValidTempering};
use crate::drivers::ladder::respace_by_rejection;
use crate::estimate::evidence::Rung;
use crate::estimate::series::integrated_autocorrelation_time;
use crate::rng::{self, Purpose};
use crate::run::Termination;
use serde::{Deserialize, Serialize};

/// What changed at the end of a round, for the replicas and their movers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoundEnd {
    /// The ladder was re-spaced: every mover restarts its adaptation at its rung's new t and
    /// every state moves to its rung's new t.
    pub respaced: bool,
    /// Warm-up ended: every mover fixes its tuning.
    pub end_warmup: bool,
}

/// The state of a tempering run that is not its replicas (see the module docs). It serialises
/// (its floats as their bits, so that a run read back continues bit for bit, infinities
/// included).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Conductor {
    #[serde(with = "float_bits")]
    ladder: Vec<f64>,
    swaps: Exchange,
    lanes: usize,
    linear: bool,
    warmup: usize,
    total: usize,
    adapt_ladder: bool,
    round: usize,
    kept: usize,
    next_adapt: usize,
    evaluations: u64,
    #[serde(with = "nested_float_bits")]
    slopes: Vec<Vec<f64>>,
    #[serde(with = "nested_float_bits")]
    forward: Vec<Vec<f64>>,
}

impl Conductor {
    /// Run `run` of seed `seed` with `settings`, for replicas of `lanes` chains along a path
    /// that is `linear` in t or not; the swaps draw from stream (seed, swap, run).
    pub fn new(settings: &ValidTempering, lanes: usize, linear: bool, seed: u64, run: u32) -> Self {
        let s = settings.get();
        let n = s.ladder.len();
        let mut forward = vec![Vec::new(); n];
        if !linear {
            forward
                .iter_mut()
                .take(n - 1)
                .for_each(|f| f.reserve(s.rounds * lanes));
        }
        Self {
            ladder: s.ladder.clone(),
            swaps: Exchange::new(n, lanes, rng::stream(seed, Purpose::Swap, u64::from(run))),
            lanes,
            linear,
            warmup: s.warmup,
            total: s.warmup + s.rounds,
            adapt_ladder: s.adapt_ladder,
            round: 0,
            kept: 0,
            next_adapt: 100,
            evaluations: 0,
            slopes: vec![Vec::with_capacity(s.rounds * lanes); n],
            forward,
        }
    }

    /// Whether this bookkeeping, read back from a checkpoint, could be one of `settings` for
    /// `lanes` chains: its sizes, schedule and (on a fixed ladder) ladder agree (a damaged or
    /// foreign one would index out of its vectors later). Seeds and paths are not recorded
    /// here: the caller checks that the run is the same.
    pub fn fits(&self, settings: &ValidTempering, lanes: usize) -> bool {
        let s = settings.get();
        let n = s.ladder.len();
        self.ladder.len() == n
            && self.lanes == lanes
            && self.swaps.fits(n, lanes)
            && self.warmup == s.warmup
            && self.total == s.warmup + s.rounds
            && self.adapt_ladder == s.adapt_ladder
            && (self.adapt_ladder || self.ladder == s.ladder)
            && self.round <= self.total
            && self.kept <= self.round
            && self.slopes.len() == n
            && self.forward.len() == n
    }

    /// The ladder now.
    pub fn ladder(&self) -> &[f64] {
        &self.ladder
    }
    /// Rounds done (warm-up included).
    pub fn round(&self) -> usize {
        self.round
    }
    /// Rounds in all (warm-up included).
    pub fn total(&self) -> usize {
        self.total
    }
    /// Whether every round is done.
    pub fn done(&self) -> bool {
        self.round >= self.total
    }
    /// Whether the round under way is a warm-up round.
    pub fn warm(&self) -> bool {
        self.round < self.warmup
    }
    /// Kept rounds done.
    pub fn kept(&self) -> usize {
        self.kept
    }
    /// Evaluations counted so far.
    pub fn evaluations(&self) -> u64 {
        self.evaluations
    }
    /// The walker (0 … rungs·lanes − 1, its starting place) now at rung `k`, lane `lane`.
    pub fn walker_at(&self, k: usize, lane: usize) -> u32 {
        self.swaps.labels[k * self.lanes + lane]
    }
    /// Counts `evaluations` more.
    pub fn count(&mut self, evaluations: u64) {
        self.evaluations += evaluations;
    }

    /// Keeps, in a kept round, the slope `∂_t ln p*_t` of the chain at rung `k`, lane `lane`,
    /// and on a non-linear path its forward log ratio `ln p*_{t_{k+1}} − ln p*_{t_k}` (below the
    /// top rung). Does nothing in warm-up rounds.
    pub fn record(&mut self, k: usize, slope: f64, forward: Option<f64>) {
        if self.warm() {
            return;
        }
        self.slopes[k].push(slope);
        if let (false, Some(f)) = (self.linear, forward) {
            if k + 1 < self.ladder.len() {
                self.forward[k].push(f);
            }
        }
    }

    /// The round's swap pass: `log_acc(k, lane, t_k, t_{k+1})` is the log acceptance of
    /// exchanging the chains in `lane` of rungs k and k+1. Returns the accepted (k, lane).
    pub fn swap(
        &mut self,
        mut log_acc: impl FnMut(usize, usize, f64, f64) -> f64,
    ) -> Vec<(usize, usize)> {
        let ladder = &self.ladder;
        self.swaps.decide(ladder.len(), |k, lane| {
            log_acc(k, lane, ladder[k], ladder[k + 1])
        })
    }

    /// Ends the round: re-spaces the ladder on its schedule during warm-up (after 100, 200,
    /// 400 … rounds) and ends warm-up after its last round.
    pub fn end_round(&mut self) -> RoundEnd {
        let mut end = RoundEnd::default();
        let warm = self.warm();
        self.round += 1;
        if !warm {
            self.kept += 1;
        }
        if warm && self.adapt_ladder && self.round == self.next_adapt {
            self.ladder = respace_by_rejection(&self.ladder, &self.swaps.rejection());
            self.swaps.reset_counts();
            self.next_adapt *= 2;
            end.respaced = true;
        }
        if self.round == self.warmup {
            self.swaps.reset_counts();
            self.swaps.restart_trips();
            end.end_warmup = true;
        }
        end
    }

    /// Whether a run stopped now stopped during warm-up, with no round kept (its movers never
    /// fixed their tuning).
    pub fn stopped_in_warmup(&self) -> bool {
        self.warmup > 0 && self.kept == 0
    }

    /// The run's result with the replicas' final `states` (in ladder order).
    pub fn finish<S>(
        self,
        states: Vec<S>,
        termination: Termination,
        log_z_start: Option<f64>,
    ) -> Tempering<S> {
        let Self {
            ladder,
            swaps,
            lanes,
            linear,
            kept,
            evaluations,
            slopes,
            mut forward,
            ..
        } = self;
        let n = ladder.len();
        let rungs = slopes
            .into_iter()
            .enumerate()
            .map(|(k, s)| {
                let delta: Vec<f64> = s.iter().map(|v| -v).collect();
                let ess = lane_ess(&delta, lanes);
                Rung {
                    t: ladder[k],
                    forward: (!linear && k + 1 < n).then(|| std::mem::take(&mut forward[k])),
                    delta,
                    ess,
                    chains: 0,
                }
            })
            .collect();
        let rejection = swaps.rejection();
        let barrier: f64 = rejection.iter().sum();
        Tempering {
            ladder,
            advised_replicas: (2.0 * barrier).ceil() as usize + 1,
            rejection,
            barrier,
            round_trips: swaps.round_trips,
            evaluations,
            rounds: kept,
            termination,
            rungs,
            log_z_start,
            linear,
            states,
        }
    }
}

/// Serialises a `Vec<f64>` as the bits of its floats.
mod float_bits {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let bits: Vec<u64> = v.iter().map(|x| x.to_bits()).collect();
        bits.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<u64>::deserialize(d)?
            .into_iter()
            .map(f64::from_bits)
            .collect())
    }
}

/// Serialises a `Vec<Vec<f64>>` as the bits of its floats.
mod nested_float_bits {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &[Vec<f64>], s: S) -> Result<S::Ok, S::Error> {
        let bits: Vec<Vec<u64>> = v
            .iter()
            .map(|r| r.iter().map(|x| x.to_bits()).collect())
            .collect();
        bits.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<f64>>, D::Error> {
        Ok(Vec::<Vec<u64>>::deserialize(d)?
            .into_iter()
            .map(|r| r.into_iter().map(f64::from_bits).collect())
            .collect())
    }
}

/// The effective sample size of a round-major series of `lanes` independent chains: the sum
/// over lanes of `n / (2 τ_int)`.
fn lane_ess(x: &[f64], lanes: usize) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    (0..lanes)
        .map(|c| {
            let series: Vec<f64> = x.iter().skip(c).step_by(lanes).copied().collect();
            let tau = integrated_autocorrelation_time(&series);
            series.len() as f64 / (2.0 * tau).max(1.0)
        })
        .sum()
}
