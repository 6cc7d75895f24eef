//! The Boltzmann-machine family of AIS: `ln Z` along the path of Salakhutdinov & Murray (2008)
//! from a base-rate machine, with block-Gibbs moves and the hidden units summed out of the
//! importance weights; forward from the base machine, or reverse from given model samples.
//!
//! The schedule is linear, Salakhutdinov & Murray's piecewise spacing, or evenly spaced in
//! thermodynamic length measured by a short pilot run on a stream of its own.

use super::{run_groups, AisEstimate, AisEvent, AisFamily, AisRun, Groups};
use crate::drivers::ladder::{space_evenly, thermodynamic_length};
use crate::error::Error;
use crate::kernels::rbm::{base_log_partition, sample_base, BlockGibbs, GibbsBatch, RbmPath};
use crate::kernels::Kernel;
use crate::rng::{self, fast_from, FastRng, Purpose, Rng};
use crate::run::{Observer, RunContext};
use crate::settings::{nonzero, SettingsError};
use crate::systems::rbm::{Rbm, RbmError};
use serde::{Deserialize, Serialize};

/// AIS particles of a Boltzmann machine along its base-rate path: block-Gibbs chains started
/// from the base machine (forward) or from given visible states (reverse).
#[derive(Debug, Clone, Copy)]
pub struct RbmParticles<'a> {
    /// The machine and its base-rate end.
    pub path: RbmPath<'a>,
    /// Start states for a reverse run (`n × V`), `None` for forward runs from the base machine.
    pub start: Option<&'a [f32]>,
    /// Particles per group (the start states of group g begin at row g · group_size).
    pub group_size: usize,
}

impl<'a> AisFamily for RbmParticles<'a> {
    type Group = (GibbsBatch, FastRng);
    type Tuning = ();

    fn start(
        &self,
        index: usize,
        len: usize,
        _t0: f64,
        mut rng: Rng,
    ) -> Result<Self::Group, Error> {
        let rbm = self.path.rbm;
        let nv = rbm.n_visible;
        let v0 = match (self.start, self.path.base) {
            (Some(s), _) => {
                let first = index * self.group_size;
                s[first * nv..(first + len) * nv].to_vec()
            }
            (None, Some(b)) => sample_base(rbm, b, len, &mut rng),
            (None, None) => {
                return Err(
                    SettingsError::new("base", "forward AIS needs a base-rate machine").into(),
                )
            }
        };
        Ok((GibbsBatch::new(rbm, v0), fast_from(&mut rng)))
    }

    fn add_log_ratio(&self, (g, _): &Self::Group, from: f64, to: f64, log_w: &mut [f64]) {
        for (k, w) in log_w.iter_mut().enumerate() {
            *w += self.path.log_marginal(g, k, to) - self.path.log_marginal(g, k, from);
        }
    }

    fn advance(&self, (g, rng): &mut Self::Group, t: f64, _: &()) -> Result<(f64, u64), Error> {
        let mut path = self.path;
        BlockGibbs.step(&mut path, g, t, rng)?;
        Ok((g.n as f64, g.n as u64))
    }

    fn tuning(&self) {}
}

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
    /// The index of the first chain in a larger run (a multiple of `chains_per_stream`): the
    /// chains `first_chain .. first_chain + chains` of a forward run draw from their own place's
    /// streams, so parts run apart (on several processes) combine by [`AisRun::concat`] into
    /// exactly the whole run's weights.
    pub first_chain: usize,
}

impl Default for AisSettings {
    fn default() -> Self {
        Self {
            chains: 100,
            temperatures: 1000,
            schedule: AisSchedule::Adaptive,
            chains_per_stream: 50,
            threads: 0,
            first_chain: 0,
        }
    }
}

/// Settings that passed [`AisSettings::validate`].
#[derive(Debug, Clone, PartialEq)]
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
        if !self.first_chain.is_multiple_of(self.chains_per_stream) {
            return Err(SettingsError::new(
                "first_chain",
                format!(
                    "must be a multiple of chains_per_stream ({}), got {}",
                    self.chains_per_stream, self.first_chain
                ),
            ));
        }
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
            AisSchedule::Adaptive | AisSchedule::Linear => {
                (0..=k).map(|i| i as f64 / k as f64).collect()
            }
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

/// `count` inverse temperatures from 0 to 1, evenly spaced in thermodynamic length measured by a
/// pilot AIS run (32 chains, 200 linear steps, two sweeps per step, on the pilot stream).
pub fn adaptive_betas(rbm: &Rbm, base_b: &[f32], count: usize, seed: u64) -> Vec<f64> {
    const PILOT_STEPS: usize = 200;
    let path = RbmPath {
        rbm,
        base: Some(base_b),
    };
    let mut r = rng::stream(seed, Purpose::Pilot, 0);
    let v0 = sample_base(rbm, base_b, 32, &mut r);
    let mut fast = fast_from(&mut r);
    let mut g = GibbsBatch::new(rbm, v0);
    let grid: Vec<f64> = (0..=PILOT_STEPS)
        .map(|i| i as f64 / PILOT_STEPS as f64)
        .collect();
    let mut sd = Vec::with_capacity(grid.len());
    let mut u = Vec::with_capacity(g.n);
    for &beta in &grid {
        let mut p = path;
        for _ in 0..2 {
            BlockGibbs
                .step(&mut p, &mut g, beta, &mut fast)
                .expect("block Gibbs cannot fail");
        }
        u.clear();
        u.extend((0..g.n).map(|k| path.log_marginal_slope(&g, k, beta)));
        let n = u.len() as f64;
        let m = u.iter().sum::<f64>() / n;
        let v = u.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0).max(1.0);
        sd.push(v.sqrt().max(1e-12));
    }
    space_evenly(&grid, &thermodynamic_length(&grid, &sd), count)
}

fn schedule(rbm: &Rbm, base_b: &[f32], s: &AisSettings, seed: u64) -> Vec<f64> {
    match s.schedule {
        AisSchedule::Adaptive => adaptive_betas(rbm, base_b, s.temperatures, seed),
        _ => s.betas(),
    }
}

/// Checks the base-rate biases against the machine.
pub(crate) fn check_base(rbm: &Rbm, base_b: &[f32]) -> Result<(), RbmError> {
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

/// Forward AIS from the base-rate machine with visible biases `base_b` (see
/// [`Rbm::base_rate_biases`]) to `rbm`; `ln Z` is biased low (Jensen).
pub fn ais_log_z<O: Observer<AisEvent>>(
    rbm: &Rbm,
    base_b: &[f32],
    settings: &ValidAisSettings,
    seed: u64,
    ctx: &mut RunContext<O>,
) -> Result<AisEstimate, Error> {
    rbm_ais(rbm, base_b, None, settings, seed, ctx)
}

/// Reverse AIS from visible states `start` (`n × V`; their number sets the number of chains,
/// `settings.chains` is ignored) back to the base-rate machine. The estimate is biased high only
/// when the start states are exact samples of `rbm`; from approximate samples it has no bound.
pub fn reverse_ais_log_z<O: Observer<AisEvent>>(
    rbm: &Rbm,
    base_b: &[f32],
    start: &[f32],
    settings: &ValidAisSettings,
    seed: u64,
    ctx: &mut RunContext<O>,
) -> Result<AisEstimate, Error> {
    rbm_ais(rbm, base_b, Some(start), settings, seed, ctx)
}

/// The weights of forward AIS of the chains `settings` names (`first_chain ..
/// first_chain + chains`), for runs split over processes: [`AisRun::concat`] of consecutive
/// parts and [`ais_estimate`] give exactly [`ais_log_z`] of them all.
pub fn ais_part<O: Observer<AisEvent>>(
    rbm: &Rbm,
    base_b: &[f32],
    settings: &ValidAisSettings,
    seed: u64,
    ctx: &mut RunContext<O>,
) -> Result<AisRun, Error> {
    rbm_weights(rbm, base_b, None, settings, seed, ctx)
}

/// The forward estimate of `ln Z` from the weights of a (whole, or concatenated) run.
pub fn ais_estimate(rbm: &Rbm, base_b: &[f32], run: AisRun) -> Result<AisEstimate, Error> {
    rbm.validate()?;
    check_base(rbm, base_b)?;
    Ok(AisEstimate::from_run(
        run,
        base_log_partition(rbm, base_b),
        false,
    ))
}

/// AIS along the base-rate path: forward from the base machine (run 0 of `seed`), or reverse
/// from `start` (run 1).
fn rbm_ais<O: Observer<AisEvent>>(
    rbm: &Rbm,
    base_b: &[f32],
    start: Option<&[f32]>,
    settings: &ValidAisSettings,
    seed: u64,
    ctx: &mut RunContext<O>,
) -> Result<AisEstimate, Error> {
    let r = rbm_weights(rbm, base_b, start, settings, seed, ctx)?;
    Ok(AisEstimate::from_run(
        r,
        base_log_partition(rbm, base_b),
        start.is_some(),
    ))
}

/// The weights of [`rbm_ais`].
fn rbm_weights<O: Observer<AisEvent>>(
    rbm: &Rbm,
    base_b: &[f32],
    start: Option<&[f32]>,
    settings: &ValidAisSettings,
    seed: u64,
    ctx: &mut RunContext<O>,
) -> Result<AisRun, Error> {
    rbm.validate()?;
    check_base(rbm, base_b)?;
    let s = settings.get();
    if start.is_some() && s.first_chain != 0 {
        return Err(SettingsError::new(
            "first_chain",
            "reverse AIS runs its start states in one part (first_chain must be 0)",
        )
        .into());
    }
    let particles = match start {
        Some(v) => rbm.check_data(v)?,
        None => s.chains,
    };
    let mut betas = schedule(rbm, base_b, s, seed);
    if start.is_some() {
        betas.reverse();
    }
    let family = RbmParticles {
        path: RbmPath {
            rbm,
            base: Some(base_b),
        },
        start,
        group_size: s.chains_per_stream,
    };
    let run_index = u32::from(start.is_some());
    let groups = Groups {
        particles,
        size: s.chains_per_stream,
        first: s.first_chain / s.chains_per_stream,
    };
    run_groups(
        &family,
        &betas,
        &[],
        groups,
        s.threads,
        (seed, run_index),
        ctx,
    )
}
