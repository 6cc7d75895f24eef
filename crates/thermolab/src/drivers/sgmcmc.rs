//! Stochastic-gradient MCMC runs: chains of an [`SgKernel`] over epochs of shuffled minibatches,
//! at a temperature T (T = 0: the optimiser the kernel reduces to), with a constant step or the
//! cyclical schedule of Zhang, Li, Zhang, Chen & Wilson (2020), keeping thinned samples.
//!
//! The energy is a [`MinibatchEnergy`] whose batch energy estimates the full energy without
//! bias (e.g. [`NetworkPosterior`](crate::systems::posterior::NetworkPosterior), which scales
//! the batch's likelihood by N/B), and the kernel targets exp(−E/T). Each epoch visits every row
//! once, in an order drawn afresh per epoch; the last batch of an epoch may be smaller. Chain c
//! draws its batch orders and its noise from stream (seed, chain, c) alone, so the samples do
//! not depend on how many threads ran the chains.
//!
//! Cyclical SG-MCMC splits the K steps into M cycles of L = ⌈K/M⌉ steps; at step k, with
//! r = (k mod L)/L, the step is ε/2·(cos πr + 1). While r is below the exploration fraction the
//! noise is off (the kernel optimises, moving to a new mode); after it, the kernel samples and
//! samples are kept.
//!
//! ```
//! use thermolab::drivers::sgmcmc::{sg_sample, SgSettings};
//! use thermolab::kernels::sgmcmc::SgMethod;
//! use thermolab::nn::{Activation, Architecture};
//! use thermolab::run::RunContext;
//! use thermolab::systems::posterior::{GaussianPrior, Likelihood, NetworkData, NetworkPosterior};
//!
//! let x: Vec<f32> = (0..200).map(|i| (i as f32 / 100.0) - 1.0).collect();
//! let labels = x.iter().map(|&v| u32::from(v > 0.0)).collect();
//! let data = NetworkData::classes(x, 1, labels)?;
//! let arch = Architecture::new(vec![1, 4, 2], Activation::Tanh);
//! let prior = GaussianPrior::isotropic(&arch, 1.0);
//! let post = NetworkPosterior::new(arch.clone(), data.into(), Likelihood::Categorical, prior)?;
//! let settings = SgSettings {
//!     method: SgMethod::Sgld,
//!     step_size: 1e-3,
//!     batch_size: Some(20),
//!     epochs: 20,
//!     burn_in_epochs: 10,
//!     thin: 10,
//!     chains: 2,
//!     ..SgSettings::default()
//! };
//! let start = vec![vec![0.1; arch.n_params()]];
//! let run = sg_sample(&post, &start, &settings, &mut RunContext::new())?;
//! assert_eq!(run.chains[0].samples.len(), 10 * 10 / 10);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::kernels::mcmc::State;
use crate::kernels::sgmcmc::{SgKernel, SgMethod};
use crate::kernels::Kernel;
use crate::nn::MinibatchEnergy;
use crate::rng::{fast_from, stream, FastRng, Purpose, Rng};
use crate::run::{Observer, RunContext, StopFlag, Termination};
use crate::settings::SettingsError;
use crate::Error;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// How the step size moves over a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum StepSchedule {
    /// The same step throughout.
    Constant,
    /// Zhang et al.'s cosine cycles (module documentation).
    Cyclical {
        /// Number of cycles M.
        cycles: usize,
        /// The fraction of each cycle spent exploring (noise off), in [0, 1).
        exploration: f64,
    },
}

/// Settings of [`sg_sample`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SgSettings {
    /// The dynamics.
    pub method: SgMethod,
    /// The step ε (the largest step of a cyclical schedule).
    pub step_size: f64,
    /// The temperature T ≥ 0 (T = 1: the posterior; T = 0: optimisation).
    pub temperature: f64,
    /// Rows per minibatch; `None` (or N and more): full batch.
    pub batch_size: Option<usize>,
    /// Passes over the data.
    pub epochs: usize,
    /// Epochs before the first kept sample.
    pub burn_in_epochs: usize,
    /// Keep a sample every `thin` steps after the burn-in (in a cyclical schedule, every `thin`
    /// steps of the sampling stages).
    pub thin: usize,
    /// Independent chains.
    pub chains: usize,
    /// The step schedule.
    pub schedule: StepSchedule,
    /// The run's seed.
    pub seed: u64,
}

impl Default for SgSettings {
    fn default() -> Self {
        Self {
            method: SgMethod::Sgld,
            step_size: 1e-4,
            temperature: 1.0,
            batch_size: Some(100),
            epochs: 10,
            burn_in_epochs: 2,
            thin: 100,
            chains: 1,
            schedule: StepSchedule::Constant,
            seed: 0,
        }
    }
}

impl SgSettings {
    /// Checks every field (the method's own parameters are checked by [`SgKernel::new`]).
    pub fn validate(&self) -> Result<(), SettingsError> {
        if !(self.temperature >= 0.0 && self.temperature.is_finite()) {
            return Err(SettingsError::new(
                "temperature",
                format!("must be finite and ≥ 0 (got {})", self.temperature),
            ));
        }
        if self.batch_size == Some(0) {
            return Err(SettingsError::new("batch_size", "must be at least 1"));
        }
        if self.epochs == 0 {
            return Err(SettingsError::new("epochs", "must be at least 1"));
        }
        if self.burn_in_epochs >= self.epochs {
            return Err(SettingsError::new(
                "burn_in_epochs",
                format!(
                    "{} burn-in epochs leave none of the {} to sample",
                    self.burn_in_epochs, self.epochs
                ),
            ));
        }
        if self.thin == 0 {
            return Err(SettingsError::new("thin", "must be at least 1"));
        }
        if self.chains == 0 {
            return Err(SettingsError::new("chains", "must be at least 1"));
        }
        if let StepSchedule::Cyclical {
            cycles,
            exploration,
        } = self.schedule
        {
            if cycles == 0 {
                return Err(SettingsError::new("cycles", "must be at least 1"));
            }
            if !(0.0..1.0).contains(&exploration) {
                return Err(SettingsError::new(
                    "exploration",
                    format!("must be in [0, 1) (got {exploration})"),
                ));
            }
        }
        SgKernel::new(self.method, self.step_size)?;
        Ok(())
    }
}

/// One chain of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SgChain {
    /// The kept samples, in order.
    pub samples: Vec<Vec<f64>>,
    /// The (0-based) step after which each sample was kept.
    pub sample_steps: Vec<usize>,
    /// The mean minibatch energy of each epoch (its steps' starting points).
    pub epoch_energy: Vec<f64>,
    /// Steps that met a non-finite energy or gradient or left a non-finite position (the chain
    /// stayed where it was).
    pub divergences: usize,
    /// The position after the last step.
    pub position: Vec<f64>,
}

/// What [`sg_sample`] returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SgRun {
    /// The chains.
    pub chains: Vec<SgChain>,
    /// Steps (minibatches) per epoch.
    pub steps_per_epoch: usize,
    /// Epochs run (fewer than asked when stopped).
    pub epochs_run: usize,
    /// Why the run ended.
    pub termination: Termination,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl SgRun {
    /// Every chain's samples, chain after chain.
    pub fn samples(&self) -> impl Iterator<Item = &Vec<f64>> {
        self.chains.iter().flat_map(|c| c.samples.iter())
    }
    /// Divergences over all chains.
    pub fn divergences(&self) -> usize {
        self.chains.iter().map(|c| c.divergences).sum()
    }
}

/// The event observers see between epochs (after each, or after each block of epochs when
/// epochs are shorter than 256 steps).
#[derive(Debug)]
pub struct SgEvent<'a> {
    /// Epochs done.
    pub epoch: usize,
    /// Epochs asked for.
    pub epochs: usize,
    /// The chains so far.
    pub chains: &'a [SgChain],
}

/// A chain between epochs.
struct Walker<E> {
    target: E,
    kernel: SgKernel,
    state: State,
    order_rng: Rng,
    noise_rng: FastRng,
    order: Vec<usize>,
    /// Sampling steps after the burn-in so far (the thinning's phase).
    sampled: usize,
}

/// Runs `settings.chains` chains on `energy`, chain c starting from `init[c]` (or `init[0]`
/// for every chain when one start is given). See the module documentation.
pub fn sg_sample<E, O>(
    energy: &E,
    init: &[Vec<f64>],
    settings: &SgSettings,
    ctx: &mut RunContext<O>,
) -> Result<SgRun, Error>
where
    E: MinibatchEnergy + Clone + Send,
    O: for<'a> Observer<SgEvent<'a>>,
{
    settings.validate()?;
    if init.len() != 1 && init.len() != settings.chains {
        return Err(SettingsError::new(
            "init",
            format!(
                "{} start points for {} chains (give one, or one per chain)",
                init.len(),
                settings.chains
            ),
        )
        .into());
    }
    for x in init {
        crate::energy::check_dim(energy.dim(), x)?;
    }
    let start = Instant::now();
    let n = energy.n_data();
    let batch = settings.batch_size.unwrap_or(n).clamp(1, n.max(1));
    let steps_per_epoch = n.div_ceil(batch);
    let kernel = SgKernel::new(settings.method, settings.step_size)?;
    let start_of = |c: usize| init[if init.len() == 1 { 0 } else { c }].clone();
    let mut walkers: Vec<Walker<E>> = (0..settings.chains)
        .map(|c| {
            let mut order_rng = stream(settings.seed, Purpose::Chain, c as u64);
            let noise_rng = fast_from(&mut order_rng);
            let mut target = energy.clone();
            target.set_chain(c as u64);
            Walker {
                target,
                kernel: kernel.clone(),
                state: State {
                    x: start_of(c),
                    energy: f64::NAN,
                    grad: Vec::new(),
                },
                order_rng,
                noise_rng,
                order: (0..n).collect(),
                sampled: 0,
            }
        })
        .collect();
    let mut chains: Vec<SgChain> = (0..settings.chains)
        .map(|c| SgChain {
            samples: Vec::new(),
            sample_steps: Vec::new(),
            epoch_energy: Vec::new(),
            divergences: 0,
            position: start_of(c),
        })
        .collect();
    // Epochs run between two looks at the chains: at least ~256 steps, so that short epochs
    // (full batches) do not pay a parallel dispatch each.
    let block = 256usize.div_ceil(steps_per_epoch).max(1);
    let stop = ctx.stop_flag().clone();
    ctx.init::<SgEvent<'_>>();
    let mut termination = Termination::Finished;
    let mut epochs_run = 0;
    while epochs_run < settings.epochs {
        let until = (epochs_run + block).min(settings.epochs);
        let from = epochs_run;
        let stopped: Vec<bool> = walkers
            .par_iter_mut()
            .zip(chains.par_iter_mut())
            .map(|(w, chain)| {
                for epoch in from..until {
                    if w.epoch(chain, epoch, batch, steps_per_epoch, settings, &stop)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            })
            .collect::<Result<_, Error>>()?;
        if stopped.iter().any(|&s| s) {
            termination = Termination::Interrupted;
            epochs_run = chains
                .iter()
                .map(|c| c.epoch_energy.len())
                .min()
                .unwrap_or(0);
            break;
        }
        epochs_run = until;
        let evaluations = (epochs_run * steps_per_epoch * settings.chains) as u64;
        let ev = SgEvent {
            epoch: epochs_run,
            epochs: settings.epochs,
            chains: &chains,
        };
        if let Some(t) = ctx.step(&ev, evaluations) {
            if epochs_run < settings.epochs {
                termination = t;
                break;
            }
        }
    }
    ctx.finish::<SgEvent<'_>>(termination);
    Ok(SgRun {
        chains,
        steps_per_epoch,
        epochs_run,
        termination,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The step size and whether the step samples (noise on), at step `k` of `total`.
pub(crate) fn schedule_at(settings: &SgSettings, k: usize, total: usize) -> (f64, bool) {
    match settings.schedule {
        StepSchedule::Constant => (settings.step_size, true),
        StepSchedule::Cyclical {
            cycles,
            exploration,
        } => {
            let len = total.div_ceil(cycles).max(1);
            let r = (k % len) as f64 / len as f64;
            let step = 0.5 * settings.step_size * ((std::f64::consts::PI * r).cos() + 1.0);
            // The step reaches 0 only at r = 1, which k mod L never reaches.
            (step, r >= exploration)
        }
    }
}

impl<E: MinibatchEnergy> Walker<E> {
    /// Runs one epoch; `Ok(true)` if the stop flag ended it early.
    fn epoch(
        &mut self,
        chain: &mut SgChain,
        epoch: usize,
        batch: usize,
        steps_per_epoch: usize,
        settings: &SgSettings,
        stop: &StopFlag,
    ) -> Result<bool, Error> {
        let n = self.order.len();
        if batch < n {
            self.order.shuffle(&mut self.order_rng);
        }
        let total = settings.epochs * steps_per_epoch;
        let burn_in = settings.burn_in_epochs * steps_per_epoch;
        let beta_sampling = if settings.temperature == 0.0 {
            f64::INFINITY
        } else {
            1.0 / settings.temperature
        };
        let mut energy_sum = 0.0;
        let mut counted = 0usize;
        for (b, rows) in self.order.chunks(batch).enumerate() {
            if stop.is_raised() {
                chain.position = self.state.x.clone();
                return Ok(true);
            }
            let k = epoch * steps_per_epoch + b;
            let (step, sampling) = schedule_at(settings, k, total);
            self.kernel.step = step;
            let beta = if sampling {
                beta_sampling
            } else {
                f64::INFINITY
            };
            if batch < n {
                self.target.set_batch(Some(rows));
            }
            let info =
                self.kernel
                    .step(&mut self.target, &mut self.state, beta, &mut self.noise_rng)?;
            if info.diverged {
                chain.divergences += 1;
            } else {
                energy_sum += info.energy;
                counted += 1;
            }
            if sampling && k >= burn_in {
                self.sampled += 1;
                if self.sampled.is_multiple_of(settings.thin) {
                    chain.samples.push(self.state.x.clone());
                    chain.sample_steps.push(k);
                }
            }
        }
        chain.epoch_energy.push(if counted > 0 {
            energy_sum / counted as f64
        } else {
            f64::NAN
        });
        chain.position = self.state.x.clone();
        Ok(false)
    }
}

/// One temperature of a [`temperature_scan`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanPoint {
    /// The temperature T.
    pub temperature: f64,
    /// The run at T.
    pub run: SgRun,
    /// The full-batch energy of every kept sample, per chain.
    pub energies: Vec<Vec<f64>>,
    /// ⟨E⟩ over the samples.
    pub energy_mean: f64,
    /// Its standard error (see [`temperature_scan`]).
    pub energy_se: f64,
    /// The heat capacity C = Var(E)/T² (k_B = 1; undefined at T = 0).
    pub heat_capacity: f64,
    /// Its standard error.
    pub heat_capacity_se: f64,
    /// How far the later half of the samples' energies sits from the earlier half, in
    /// standard errors of the difference: above 4 the chains were still relaxing, and ⟨E⟩ and C
    /// describe the relaxation, not the equilibrium at T.
    pub drift: f64,
}

/// Runs [`sg_sample`] at each temperature (the settings' own temperature is replaced), every run
/// from the same starts with the streams of (seed, temperature, index), and measures the
/// full-batch energy of every kept sample: ⟨E⟩(T) and C(T) = Var(E)/T². Their standard errors
/// are the spread of the chains' estimates over √chains with two chains or more, and of 8 batch
/// means of the one chain otherwise (a sample that diverged to a non-finite energy counts as a
/// failed evaluation and is an error).
pub fn temperature_scan<E, O>(
    energy: &E,
    init: &[Vec<f64>],
    settings: &SgSettings,
    temperatures: &[f64],
    ctx: &mut RunContext<O>,
) -> Result<Vec<ScanPoint>, Error>
where
    E: MinibatchEnergy + Clone + Send + Sync,
    O: for<'a> Observer<SgEvent<'a>>,
{
    if temperatures.is_empty() {
        return Err(SettingsError::new("temperatures", "give at least one temperature").into());
    }
    let mut points = Vec::with_capacity(temperatures.len());
    for (i, &t) in temperatures.iter().enumerate() {
        use rand::RngCore;
        let s = SgSettings {
            temperature: t,
            seed: stream(settings.seed, Purpose::Temperature, i as u64).next_u64(),
            ..settings.clone()
        };
        let run = sg_sample(energy, init, &s, ctx)?;
        let energies = run
            .chains
            .iter()
            .map(|c| {
                c.samples
                    .par_iter()
                    .map_init(
                        || {
                            let mut e = energy.clone();
                            e.set_batch(None);
                            e
                        },
                        |e, x| crate::energy::eval(e, x),
                    )
                    .collect::<Result<Vec<f64>, _>>()
            })
            .collect::<Result<Vec<Vec<f64>>, _>>()?;
        let (energy_mean, energy_se, var, var_se) = mean_and_variance(&energies);
        let drift = drift(&energies);
        let t2 = t * t;
        let interrupted = run.termination != Termination::Finished;
        points.push(ScanPoint {
            temperature: t,
            run,
            energies,
            energy_mean,
            energy_se,
            heat_capacity: var / t2,
            heat_capacity_se: var_se / t2,
            drift,
        });
        if interrupted {
            break;
        }
    }
    Ok(points)
}

/// The later halves' mean minus the earlier halves', over its standard error: from the chains'
/// differences with two chains or more, else from four pairs of batches an half-chain apart.
fn drift(groups: &[Vec<f64>]) -> f64 {
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len().max(1) as f64;
    let diffs: Vec<f64> = match groups {
        [one] if one.len() >= 8 => {
            let b: Vec<f64> = one.chunks(one.len() / 8).take(8).map(mean).collect();
            (0..4).map(|j| b[j + 4] - b[j]).collect()
        }
        _ => groups
            .iter()
            .filter(|g| g.len() >= 2)
            .map(|g| mean(&g[g.len() / 2..]) - mean(&g[..g.len() / 2]))
            .collect(),
    };
    if diffs.len() < 2 {
        return 0.0;
    }
    let k = diffs.len() as f64;
    let m = mean(&diffs);
    let var = diffs.iter().map(|d| (d - m).powi(2)).sum::<f64>() / (k - 1.0);
    if var > 0.0 {
        m.abs() / (var / k).sqrt()
    } else if m == 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

/// Mean and variance of the pooled values with their standard errors: from the groups'
/// estimates when there are two groups or more, else from 8 batches of the one group.
fn mean_and_variance(groups: &[Vec<f64>]) -> (f64, f64, f64, f64) {
    let batches: Vec<&[f64]> = match groups {
        [one] => one.chunks(one.len().div_ceil(8).max(1)).collect(),
        _ => groups.iter().map(|g| g.as_slice()).collect(),
    };
    let all: Vec<f64> = groups.iter().flatten().copied().collect();
    let n = all.len() as f64;
    if all.len() < 2 {
        return (f64::NAN, f64::NAN, f64::NAN, f64::NAN);
    }
    let mean = all.iter().sum::<f64>() / n;
    let var = all.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let stats: Vec<(f64, f64)> = batches
        .iter()
        .filter(|b| b.len() >= 2)
        .map(|b| {
            let m = b.iter().sum::<f64>() / b.len() as f64;
            let v = b.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (b.len() - 1) as f64;
            (m, v)
        })
        .collect();
    let k = stats.len() as f64;
    if stats.len() < 2 {
        return (mean, f64::NAN, var, f64::NAN);
    }
    let spread = |f: fn(&(f64, f64)) -> f64| {
        let m = stats.iter().map(f).sum::<f64>() / k;
        (stats.iter().map(|s| (f(s) - m).powi(2)).sum::<f64>() / (k - 1.0) / k).sqrt()
    };
    (mean, spread(|s| s.0), var, spread(|s| s.1))
}
