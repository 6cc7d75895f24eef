//! The spin family of parallel tempering: replicas of an Ising model (any graph, any field) at
//! inverse temperatures β = t·β_max (t ∈ [0, 1] on the ladder), each swept by single-spin
//! Metropolis or heat-bath, and `ln Z` by stepping-stone from `ln Z(0) = N ln 2` along a ladder
//! that starts at t = 0.

use super::{run, Family, TemperingEvent, ValidTempering};
use crate::error::Error;
use crate::estimate::series::Estimate;
use crate::kernels::spin::{SingleSpin, SpinRule};
use crate::kernels::Kernel;
use crate::rng::{fast_from, FastRng, Rng};
use crate::run::{Observer, RunContext, Termination};
use crate::settings::SettingsError;
use crate::systems::spin::IsingGraph;
use rand::Rng as _;
use serde::{Deserialize, Serialize};

/// A replica's spins and their energy.
#[derive(Debug, Clone, PartialEq)]
pub struct SpinState {
    /// Spins ±1.
    pub spins: Vec<i8>,
    /// `E(s)`.
    pub energy: f64,
}

/// Replicas of an Ising model swept by a single-spin rule; every replica starts from random
/// spins.
#[derive(Debug, Clone, Copy)]
pub struct SpinReplicas<'a> {
    /// The model.
    pub graph: &'a IsingGraph,
    /// Metropolis or heat-bath.
    pub rule: SpinRule,
    /// The inverse temperature at the top of the ladder (t = 1).
    pub beta_max: f64,
}

impl<'a> Family for SpinReplicas<'a> {
    type State = SpinState;
    type Mover = (SingleSpin, FastRng);

    fn start(&self, _k: usize, _t: f64, mut rng: Rng) -> Result<(Self::Mover, Self::State), Error> {
        let mut fast = fast_from(&mut rng);
        let spins: Vec<i8> = (0..self.graph.n())
            .map(|_| if fast.random::<bool>() { 1 } else { -1 })
            .collect();
        let energy = self.graph.energy(&spins);
        Ok((
            (SingleSpin::new(self.rule), fast),
            SpinState { spins, energy },
        ))
    }

    fn advance(
        &self,
        (kernel, rng): &mut Self::Mover,
        s: &mut Self::State,
        t: f64,
        _warmup: bool,
    ) -> Result<u64, Error> {
        let mut g = self.graph;
        let st = kernel.step(&mut g, &mut s.spins, t * self.beta_max, rng)?;
        s.energy = self.graph.energy(&s.spins);
        Ok(st.attempts)
    }

    fn log_ratio(&self, s: &Self::State, _lane: usize, from: f64, to: f64) -> f64 {
        -(to - from) * self.beta_max * s.energy
    }

    fn slope(&self, s: &Self::State, _lane: usize, _t: f64) -> f64 {
        -self.beta_max * s.energy
    }

    fn exchange(&self, a: &mut Self::State, b: &mut Self::State, _lane: usize) {
        std::mem::swap(a, b);
    }

    fn log_z_start(&self) -> Option<f64> {
        Some(self.graph.n() as f64 * std::f64::consts::LN_2)
    }
}

/// What [`temper_ising`] measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsingTempering {
    /// The ladder of β, from 0.
    pub betas: Vec<f64>,
    /// `ln Z(β_k) / N` by stepping-stone from `ln Z(0) = N ln 2`, for every rung.
    pub log_z_per_site: Vec<Estimate>,
    /// `ln Z(β_max) / N` by thermodynamic integration over the same rungs.
    pub log_z_ti_per_site: Estimate,
    /// Swap acceptance rate of each neighbouring pair.
    pub swap_acceptance: Vec<f64>,
    /// Round trips of the replicas between β = 0 and the top of the ladder.
    pub round_trips: u64,
    /// Why the run ended.
    pub termination: Termination,
}

/// Parallel tempering of an Ising model over a ladder of β = t·`beta_max` with t from 0 to 1,
/// then `ln Z` at every rung by stepping-stone.
pub fn temper_ising<O>(
    graph: &IsingGraph,
    rule: SpinRule,
    beta_max: f64,
    settings: &ValidTempering,
    seed: u64,
    ctx: &mut RunContext<O>,
) -> Result<IsingTempering, Error>
where
    O: for<'a> Observer<TemperingEvent<'a, SpinState>>,
{
    if settings.get().ladder[0] != 0.0 {
        return Err(SettingsError::new("ladder", "must start at β = 0 for ln Z").into());
    }
    crate::settings::positive("beta_max", beta_max)?;
    let family = SpinReplicas {
        graph,
        rule,
        beta_max,
    };
    let r = run(&family, settings, seed, 0, ctx)?;
    let n = graph.n() as f64;
    Ok(IsingTempering {
        betas: r.ladder.iter().map(|t| t * beta_max).collect(),
        log_z_per_site: r
            .stepping_stones()
            .iter()
            .map(|e| Estimate {
                value: e.value / n,
                se: e.se / n,
            })
            .collect(),
        log_z_ti_per_site: {
            let e = r.log_z_ti();
            Estimate {
                value: e.value / n,
                se: e.se / n,
            }
        },
        swap_acceptance: r.rejection.iter().map(|v| 1.0 - v).collect(),
        round_trips: r.round_trips,
        termination: r.termination,
    })
}
