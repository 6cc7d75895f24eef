//! Multi-chain sampling: warm-up with adaptation, then draws, for N chains in parallel on a pool
//! of the user's size. Each chain owns a deterministic random stream and all of its state
//! (position, generator, step size, metric, adaptation) is serialisable, so a run can stop at a
//! checkpoint and resume to exactly the draws an uninterrupted run produces.

use crate::adapt::{DualAveraging, MassEstimator, MetricKind, WindowSchedule};
use crate::energy::{EnergyError, Gradient};
use crate::kernels::mcmc::{Sampler, SamplerKind, State, StepInfo};
use crate::observe::Termination;
use crate::rng::{chain_stream, Rng as ChainRng};
use crate::settings::{nonzero, positive, SettingsError};
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// How chains start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InitPoint {
    /// Uniform in `[−radius, radius]` on every coordinate (Stan's default radius is 2).
    Jitter {
        /// Half-width of the box.
        radius: f64,
    },
    /// The same given point for every chain.
    Given {
        /// The point.
        x: Vec<f64>,
    },
}

/// Settings of a sampling run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SampleSettings {
    /// Number of chains.
    pub chains: usize,
    /// Warm-up iterations per chain (adaptation; not kept).
    pub warmup: usize,
    /// Kept draws per chain (after thinning).
    pub draws: usize,
    /// Keep every `thin`-th iteration.
    pub thin: usize,
    /// The kernel.
    pub sampler: SamplerKind,
    /// The metric to adapt.
    pub metric: MetricKind,
    /// Target acceptance statistic (default: the kernel's).
    pub target_accept: Option<f64>,
    /// Inverse temperature β of the target `exp(−β E)`.
    pub beta: f64,
    /// Starting points.
    pub init: InitPoint,
    /// Worker threads (0: all cores). Results do not depend on it.
    pub threads: usize,
    /// Iterations between checkpoints (0: only at the end).
    pub checkpoint_every: usize,
}

impl Default for SampleSettings {
    fn default() -> Self {
        Self {
            chains: 4,
            warmup: 1000,
            draws: 1000,
            thin: 1,
            sampler: SamplerKind::Nuts { max_depth: 10 },
            metric: MetricKind::Diag,
            target_accept: None,
            beta: 1.0,
            init: InitPoint::Jitter { radius: 2.0 },
            threads: 0,
            checkpoint_every: 0,
        }
    }
}

/// Settings checked for a target of dimension `dim`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidSampleSettings(SampleSettings);

impl ValidSampleSettings {
    /// The checked settings.
    pub fn get(&self) -> &SampleSettings {
        &self.0
    }
}

impl SampleSettings {
    /// Checks every field for a target of dimension `dim`.
    pub fn validate(self, dim: usize) -> Result<ValidSampleSettings, SettingsError> {
        nonzero("chains", self.chains)?;
        nonzero("draws", self.draws)?;
        nonzero("thin", self.thin)?;
        positive("beta", self.beta)?;
        if let Some(t) = self.target_accept {
            crate::settings::in_open("target_accept", t, 0.0, 1.0)?;
        }
        match &self.init {
            InitPoint::Jitter { radius } => {
                if !(radius.is_finite() && *radius >= 0.0) {
                    return Err(SettingsError::new(
                        "init",
                        "the jitter radius must be finite and ≥ 0",
                    ));
                }
            }
            InitPoint::Given { x } => {
                if x.len() != dim {
                    return Err(SettingsError::new(
                        "init",
                        format!("{} values given for a target of dimension {dim}", x.len()),
                    ));
                }
                if x.iter().any(|v| !v.is_finite()) {
                    return Err(SettingsError::new(
                        "init",
                        "the initial point must be finite",
                    ));
                }
            }
        }
        match self.sampler {
            SamplerKind::Hmc { steps: 0 } => {
                return Err(SettingsError::new("steps", "must be at least 1"))
            }
            SamplerKind::Nuts { max_depth } if !(1..=20).contains(&max_depth) => {
                return Err(SettingsError::new("max_depth", "must lie in 1..=20"))
            }
            _ => {}
        }
        Ok(ValidSampleSettings(self))
    }
}

/// One chain's complete state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chain {
    /// Chain index.
    pub id: usize,
    /// Iterations done (warm-up and sampling).
    pub iteration: usize,
    rng: ChainRng,
    state: State,
    /// The kernel with its current tuning.
    pub sampler: Sampler,
    dual: DualAveraging,
    mass: MassEstimator,
    windows: WindowSchedule,
    /// Kept draws, row-major (`draws × dim`).
    pub draws: Vec<f64>,
    /// Per-iteration statistics of the kept draws.
    pub stats: Vec<StepInfo>,
    /// Gradient (or energy) evaluations during warm-up.
    pub evals_warmup: u64,
    /// Evaluations while drawing.
    pub evals_sampling: u64,
    /// Divergences during warm-up.
    pub divergences_warmup: u64,
    /// Seconds spent in warm-up and in sampling (summed over the chain's own work).
    pub seconds: [f64; 2],
}

impl Chain {
    fn new<E: Gradient + ?Sized>(
        energy: &mut E,
        s: &SampleSettings,
        id: usize,
        seed: u64,
    ) -> Result<Self, EnergyError> {
        let dim = energy.dim();
        let mut rng = chain_stream(seed, id as u64);
        // Up to 100 tries for a finite starting point.
        let mut state = None;
        for _ in 0..100 {
            let x: Vec<f64> = match &s.init {
                InitPoint::Jitter { radius } => (0..dim)
                    .map(|_| {
                        if *radius > 0.0 {
                            rng.random_range(-radius..=*radius)
                        } else {
                            0.0
                        }
                    })
                    .collect(),
                InitPoint::Given { x } => x.clone(),
            };
            match State::new(energy, x) {
                Ok(st) => {
                    state = Some(st);
                    break;
                }
                Err(e) if e.is_recoverable() => continue,
                Err(e) => return Err(e),
            }
        }
        let state = state.ok_or(EnergyError::NonFinite { value: f64::NAN })?;
        let mut sampler = Sampler::new(s.sampler, dim, 1.0);
        if s.warmup > 0 {
            sampler.find_step_size(energy, &state, s.beta, &mut rng)?;
        }
        let target = s
            .target_accept
            .unwrap_or_else(|| s.sampler.default_target_accept());
        Ok(Self {
            id,
            iteration: 0,
            dual: DualAveraging::new(sampler.step_size, target),
            mass: MassEstimator::new(s.metric, dim),
            windows: WindowSchedule::new(s.warmup),
            rng,
            state,
            sampler,
            draws: Vec::with_capacity(s.draws * dim),
            stats: Vec::with_capacity(s.draws),
            evals_warmup: 0,
            evals_sampling: 0,
            divergences_warmup: 0,
            seconds: [0.0; 2],
        })
    }

    fn total(s: &SampleSettings) -> usize {
        s.warmup + s.draws * s.thin
    }

    /// Runs until `until` iterations are done or `stop` is raised.
    fn advance<E: Gradient + ?Sized>(
        &mut self,
        energy: &mut E,
        s: &SampleSettings,
        until: usize,
        stop: Option<&AtomicBool>,
    ) -> Result<(), EnergyError> {
        let end = until.min(Self::total(s));
        while self.iteration < end {
            if stop.is_some_and(|f| f.load(Ordering::Relaxed)) {
                break;
            }
            let t0 = Instant::now();
            let i = self.iteration;
            let info = self
                .sampler
                .step(energy, &mut self.state, s.beta, &mut self.rng)?;
            if i < s.warmup {
                self.evals_warmup += u64::from(info.n_evals);
                self.divergences_warmup += u64::from(info.divergent);
                let eps = self.dual.update(info.accept_stat);
                self.sampler.step_size = eps;
                if self.windows.in_window(i) {
                    self.mass.add(&self.state.x);
                }
                if self.windows.end_of_window(i) {
                    if let Some(m) = self.mass.metric() {
                        self.sampler.metric = m;
                        self.sampler
                            .find_step_size(energy, &self.state, s.beta, &mut self.rng)?;
                        self.dual.restart(self.sampler.step_size);
                    }
                    self.mass.reset();
                }
                if i + 1 == s.warmup {
                    self.sampler.step_size = self.dual.final_step_size();
                }
                self.seconds[0] += t0.elapsed().as_secs_f64();
            } else {
                self.evals_sampling += u64::from(info.n_evals);
                if (i - s.warmup) % s.thin == s.thin - 1 {
                    self.draws.extend_from_slice(&self.state.x);
                    self.stats.push(info);
                }
                self.seconds[1] += t0.elapsed().as_secs_f64();
            }
            self.iteration += 1;
        }
        Ok(())
    }
}

/// Everything needed to continue a run: settings, seed and every chain's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The run's settings.
    pub settings: SampleSettings,
    /// The run's seed.
    pub seed: u64,
    /// Every chain.
    pub chains: Vec<Chain>,
}

impl Checkpoint {
    /// Whether every chain has finished.
    pub fn finished(&self) -> bool {
        let t = Chain::total(&self.settings);
        self.chains.iter().all(|c| c.iteration >= t)
    }
}

/// Hooks for a running sampler: a stop flag (e.g. set by Ctrl-C), a checkpoint sink and a
/// progress callback. All optional; all shared across the worker threads.
#[derive(Default, Clone, Copy)]
pub struct SampleControl<'a> {
    /// Raised to stop at the next iteration; the draws so far are kept.
    pub stop: Option<&'a AtomicBool>,
    /// Receives a checkpoint every `checkpoint_every` iterations and at the end.
    pub checkpoint: Option<&'a (dyn Fn(&Checkpoint) + Sync)>,
    /// Receives the number of iterations completed across all chains.
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
}

/// The result of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleResult {
    /// Every chain, with its draws and statistics.
    pub chains: Vec<Chain>,
    /// Why the run ended.
    pub termination: Termination,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl SampleResult {
    /// Draws of parameter `j` per chain.
    pub fn parameter(&self, j: usize, dim: usize) -> Vec<Vec<f64>> {
        self.chains
            .iter()
            .map(|c| c.draws.iter().skip(j).step_by(dim).copied().collect())
            .collect()
    }
}

fn pool(threads: usize) -> Option<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .ok()
}

/// Starts a run: initialises every chain (each from its own stream) and runs to the end.
pub fn sample<E: Gradient + Clone + Send + Sync>(
    energy: &E,
    settings: &ValidSampleSettings,
    seed: u64,
    control: SampleControl<'_>,
) -> Result<SampleResult, EnergyError> {
    let s = settings.get();
    let init = || -> Result<Vec<Chain>, EnergyError> {
        (0..s.chains)
            .into_par_iter()
            .map(|id| Chain::new(&mut energy.clone(), s, id, seed))
            .collect()
    };
    let chains = match pool(s.threads) {
        Some(p) => p.install(init)?,
        None => init()?,
    };
    resume(
        energy,
        Checkpoint {
            settings: s.clone(),
            seed,
            chains,
        },
        control,
    )
}

/// Continues a run from a checkpoint to the end (or until stopped).
pub fn resume<E: Gradient + Clone + Send + Sync>(
    energy: &E,
    mut cp: Checkpoint,
    control: SampleControl<'_>,
) -> Result<SampleResult, EnergyError> {
    let start = Instant::now();
    let s = cp.settings.clone();
    let total = Chain::total(&s);
    let every = if s.checkpoint_every == 0 {
        total.max(1)
    } else {
        s.checkpoint_every
    };
    let pool = pool(s.threads);
    let done =
        std::sync::atomic::AtomicU64::new(cp.chains.iter().map(|c| c.iteration as u64).sum());
    let mut termination = Termination::Finished;
    loop {
        let at = cp.chains.iter().map(|c| c.iteration).min().unwrap_or(total);
        if at >= total {
            break;
        }
        // Advance every chain to the next checkpoint boundary, in parallel.
        let target = ((at / every) + 1) * every;
        let step = |c: &mut Chain| -> Result<(), EnergyError> {
            let before = c.iteration;
            let mut e = energy.clone();
            let r = c.advance(&mut e, &s, target, control.stop);
            if let Some(p) = control.progress {
                let n = (c.iteration - before) as u64;
                p(done.fetch_add(n, Ordering::Relaxed) + n);
            }
            r
        };
        let mut run = || {
            cp.chains
                .par_iter_mut()
                .map(step)
                .collect::<Result<Vec<()>, EnergyError>>()
        };
        match &pool {
            Some(p) => p.install(run)?,
            None => run()?,
        };
        if let Some(f) = control.checkpoint {
            f(&cp);
        }
        if control.stop.is_some_and(|f| f.load(Ordering::Relaxed)) {
            termination = Termination::Interrupted;
            break;
        }
    }
    Ok(SampleResult {
        chains: cp.chains,
        termination,
        seconds: start.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests;
