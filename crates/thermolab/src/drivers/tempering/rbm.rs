//! The Boltzmann-machine family of parallel tempering: a batch of block-Gibbs chains at every
//! rung of the machine's [`RbmPath`] (from the base-rate machine at β = 0 to the model at β = 1,
//! or plain β-tempering), swaps decided chain by chain, and `ln Z` by stepping-stone from the
//! base-rate machine's exact `ln Z_A`.
//!
//! Block Gibbs draws the hidden units afresh from the visible ones at every step, so a chain's
//! state is its visible units, and swaps and stepping-stone ratios use the marginal
//! `ln p*_β(v)` with the hidden units summed out (lower variance than the joint energy).

use super::{run, Family, TemperingEvent, ValidTempering};
use crate::error::Error;
use crate::estimate::series::Estimate;
use crate::kernels::rbm::{sample_base, BlockGibbs, GibbsBatch, RbmPath};
use crate::kernels::Kernel;
use crate::rng::{fast_from, FastRng, Rng};
use crate::run::{Observer, RunContext, Termination};
use crate::settings::{nonzero, SettingsError};
use crate::systems::rbm::Rbm;
use serde::{Deserialize, Serialize};

/// Replicas of a Boltzmann machine: `chains` block-Gibbs chains per rung, started from the
/// base-rate machine (or, without a base, from all-zero visible units).
#[derive(Debug, Clone, Copy)]
pub struct RbmReplicas<'a> {
    /// The machine and its path.
    pub path: RbmPath<'a>,
    /// Chains per rung.
    pub chains: usize,
}

impl<'a> Family for RbmReplicas<'a> {
    type State = GibbsBatch;
    type Mover = FastRng;

    fn lanes(&self) -> usize {
        self.chains
    }

    fn start(&self, _k: usize, _t: f64, mut rng: Rng) -> Result<(Self::Mover, Self::State), Error> {
        let rbm = self.path.rbm;
        let v0 = match self.path.base {
            Some(b) => sample_base(rbm, b, self.chains, &mut rng),
            None => vec![0.0; self.chains * rbm.n_visible],
        };
        Ok((fast_from(&mut rng), GibbsBatch::new(rbm, v0)))
    }

    fn advance(
        &self,
        rng: &mut Self::Mover,
        g: &mut Self::State,
        t: f64,
        _warmup: bool,
    ) -> Result<u64, Error> {
        let mut path = self.path;
        BlockGibbs.step(&mut path, g, t, rng)?;
        Ok(self.chains as u64)
    }

    fn log_ratio(&self, g: &Self::State, lane: usize, from: f64, to: f64) -> f64 {
        self.path.log_marginal(g, lane, to) - self.path.log_marginal(g, lane, from)
    }

    fn slope(&self, g: &Self::State, lane: usize, t: f64) -> f64 {
        self.path.log_marginal_slope(g, lane, t)
    }

    fn exchange(&self, a: &mut Self::State, b: &mut Self::State, lane: usize) {
        a.exchange(b, self.path.rbm, lane);
    }

    fn log_z_start(&self) -> Option<f64> {
        self.path.log_z_start()
    }

    fn linear(&self) -> bool {
        false
    }
}

/// A batch of chains and the joint energies `E(v, h)` of their current states.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JointChains {
    /// The chains.
    pub g: GibbsBatch,
    /// `E(v, h)` of every chain (recomputed by every sweep; not saved).
    #[serde(skip)]
    pub energy: Vec<f64>,
}

/// β-tempering of a machine's joint states (v, h), the family tempered persistent CD uses: each
/// sweep draws `v | h`, then `h | v` (so the hidden units travel with the visible ones, as a
/// persistent chain needs), and swaps are decided by the joint energy.
#[derive(Debug, Clone, Copy)]
pub struct JointReplicas<'a> {
    /// The machine.
    pub rbm: &'a Rbm,
    /// Chains per rung.
    pub chains: usize,
}

impl<'a> Family for JointReplicas<'a> {
    type State = JointChains;
    type Mover = FastRng;

    fn lanes(&self) -> usize {
        self.chains
    }

    fn start(&self, _k: usize, t: f64, mut rng: Rng) -> Result<(Self::Mover, Self::State), Error> {
        let mut fast = fast_from(&mut rng);
        let mut g = GibbsBatch::new(self.rbm, vec![0.0; self.chains * self.rbm.n_visible]);
        g.sample_hidden(self.rbm, t as f32, &mut fast);
        let mut energy = Vec::new();
        g.joint_energies(self.rbm, &mut energy);
        Ok((fast, JointChains { g, energy }))
    }

    fn advance(
        &self,
        rng: &mut Self::Mover,
        s: &mut Self::State,
        t: f64,
        _warmup: bool,
    ) -> Result<u64, Error> {
        s.g.sweep(self.rbm, t as f32, rng);
        s.g.joint_energies(self.rbm, &mut s.energy);
        Ok(self.chains as u64)
    }

    fn log_ratio(&self, s: &Self::State, lane: usize, from: f64, to: f64) -> f64 {
        -(to - from) * s.energy[lane]
    }

    fn slope(&self, s: &Self::State, lane: usize, _t: f64) -> f64 {
        -s.energy[lane]
    }

    fn exchange(&self, a: &mut Self::State, b: &mut Self::State, lane: usize) {
        a.g.exchange(&mut b.g, self.rbm, lane);
        std::mem::swap(&mut a.energy[lane], &mut b.energy[lane]);
    }
}

/// Settings of [`temper_rbm`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RbmTemperSettings {
    /// Inverse temperatures, strictly increasing from 0 to 1.
    pub betas: Vec<f64>,
    /// Independent chains per temperature.
    pub chains: usize,
    /// Rounds (a sweep of every replica, then one swap pass) discarded first.
    pub burn_in: usize,
    /// Rounds kept.
    pub rounds: usize,
    /// Worker threads (0: all cores). Results do not depend on it.
    pub threads: usize,
}

impl Default for RbmTemperSettings {
    fn default() -> Self {
        Self {
            betas: (0..=32).map(|k| k as f64 / 32.0).collect(),
            chains: 16,
            burn_in: 200,
            rounds: 2000,
            threads: 0,
        }
    }
}

/// Settings that passed [`RbmTemperSettings::validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidRbmTemperSettings {
    chains: usize,
    engine: ValidTempering,
}

impl RbmTemperSettings {
    /// Checks every field.
    pub fn validate(self) -> Result<ValidRbmTemperSettings, SettingsError> {
        nonzero("chains", self.chains)?;
        if self.betas.first() != Some(&0.0) {
            return Err(SettingsError::new("betas", "must start at 0"));
        }
        super::check_ladder("betas", &self.betas)?;
        let engine = super::TemperingSettings {
            ladder: self.betas,
            steps_per_round: 1,
            warmup: self.burn_in,
            rounds: self.rounds,
            adapt_ladder: false,
            threads: self.threads,
        }
        .validate()?;
        Ok(ValidRbmTemperSettings {
            chains: self.chains,
            engine,
        })
    }
}

/// What [`temper_rbm`] measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RbmTempering {
    /// ln Z by stepping-stone from the base-rate machine, with its standard error.
    pub log_z: Estimate,
    /// Swap acceptance rate of each adjacent pair.
    pub swap_rates: Vec<f64>,
    /// Completed round trips (β = 0 → 1 → 0) of the chains.
    pub round_trips: u64,
    /// Visible states of the β = 1 chains at the end (`chains × V`): approximate model samples.
    pub final_states: Vec<f32>,
    /// Why the run ended.
    pub termination: Termination,
}

/// Parallel tempering of `rbm` from the base-rate machine with visible biases `base_b`, and
/// `ln Z` by stepping-stone (run `run` of seed `seed`: two runs of one seed draw from
/// different streams).
pub fn temper_rbm<O>(
    rbm: &Rbm,
    base_b: &[f32],
    settings: &ValidRbmTemperSettings,
    (seed, run_index): (u64, u32),
    ctx: &mut RunContext<O>,
) -> Result<RbmTempering, Error>
where
    O: for<'a> Observer<TemperingEvent<'a, GibbsBatch>>,
{
    rbm.validate()?;
    crate::drivers::ais::check_base(rbm, base_b)?;
    let family = RbmReplicas {
        path: RbmPath {
            rbm,
            base: Some(base_b),
        },
        chains: settings.chains,
    };
    let r = run(&family, &settings.engine, seed, run_index, ctx)?;
    Ok(RbmTempering {
        log_z: r.log_z_stepping_stone(),
        swap_rates: r.rejection.iter().map(|v| 1.0 - v).collect(),
        round_trips: r.round_trips,
        final_states: r.states.last().map(|g| g.v.clone()).unwrap_or_default(),
        termination: r.termination,
    })
}
