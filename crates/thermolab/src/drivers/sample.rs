//! Multi-chain sampling: warm-up with adaptation (Stan's windows: dual-averaging step size, a
//! diagonal or dense metric), then draws, for N chains in parallel on a pool of the user's size.
//!
//! Each chain owns a named random stream (seed, chain, c), its own copy of the target (made once
//! per run) and all of its state — position, generator, kernel and its tuning, adaptation — which
//! is serialisable: a run can stop at a checkpoint and resume to exactly the draws an
//! uninterrupted run makes. A checkpoint holds the chains' states, not their draws: an observer
//! streams the draws out as they are made (the command-line tool appends them to its draw
//! files), and a resumed run returns the draws made after the checkpoint.
//!
//! Any continuous kernel that implements [`TunedKernel`] runs here ([`sample_with`]);
//! [`sample`] picks a built-in one from the settings.
//!
//! ```
//! use thermolab::prelude::*;
//!
//! // A custom energy: a 2-D Gaussian with correlation 0.9 (energy = −log density).
//! #[derive(Clone)]
//! struct Banana;
//! impl Energy for Banana {
//!     fn dim(&self) -> usize { 2 }
//!     fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
//!         let (a, b) = (x[0], x[1]);
//!         Ok((a * a - 1.8 * a * b + b * b) / (2.0 * 0.19))
//!     }
//! }
//! impl Gradient for Banana {
//!     fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
//!         g[0] = (x[0] - 0.9 * x[1]) / 0.19;
//!         g[1] = (x[1] - 0.9 * x[0]) / 0.19;
//!         self.energy(x)
//!     }
//! }
//!
//! let settings = SampleSettings { chains: 2, warmup: 300, draws: 300, ..Default::default() }
//!     .validate(2)?;
//! let run = sample(&Banana, &settings, 42, &mut RunContext::new())?;
//! let s = run.summary(0, "x0");
//! assert!(s.r_hat < 1.05 && s.ess_bulk > 50.0);
//! assert_eq!(run.termination, Termination::Finished);
//! # Ok::<(), thermolab::Error>(())
//! ```

use crate::adapt::{DualAveraging, MassEstimator, MetricKind, WindowSchedule};
use crate::energy::Energy;
use crate::error::Error;
use crate::estimate::diagnostics::{summarize, ParamSummary};
use crate::kernels::mcmc::{find_step_size, McmcKernel, SamplerKind, State, StepInfo, TunedKernel};
use crate::rng::{Rng as ChainRng, Streams};
use crate::run::{Observer, RunContext, StopFlag, Termination};
use crate::settings::{nonzero, positive, SettingsError};
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
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
    /// The kernel (for [`sample`]; [`sample_with`] takes the kernel itself).
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
    /// Iterations between observer events (progress, draw files, checkpoints); 0: about a
    /// hundred events per run. Results do not depend on it.
    pub report_every: usize,
    /// The index of the first chain: chain k of this run draws from the stream of chain
    /// `first_chain + k`, so a run of chains `first_chain .. first_chain + chains` draws exactly
    /// what those chains of one larger run draw, and a run split across processes or machines
    /// gathers into the same draws.
    pub first_chain: usize,
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
            report_every: 0,
            first_chain: 0,
        }
    }
}

/// Settings checked for a target of a given dimension. Not deserialisable: settings read from
/// a file or a checkpoint go through [`SampleSettings::validate`] again.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidSampleSettings {
    settings: SampleSettings,
    dim: usize,
}

impl ValidSampleSettings {
    /// The checked settings.
    pub fn get(&self) -> &SampleSettings {
        &self.settings
    }
    /// The dimension they were checked for.
    pub fn dim(&self) -> usize {
        self.dim
    }
    /// Iterations per chain (warm-up and sampling).
    pub fn total(&self) -> usize {
        self.settings.warmup + self.settings.draws * self.settings.thin
    }
    fn every(&self) -> usize {
        match self.settings.report_every {
            0 => (self.total() / 100).max(1),
            k => k,
        }
    }
}

impl SampleSettings {
    /// Checks every field for a target of dimension `dim`.
    pub fn validate(self, dim: usize) -> Result<ValidSampleSettings, SettingsError> {
        nonzero("chains", self.chains)?;
        nonzero("draws", self.draws)?;
        nonzero("thin", self.thin)?;
        positive("beta", self.beta)?;
        if self
            .draws
            .checked_mul(self.thin)
            .and_then(|k| k.checked_add(self.warmup))
            .is_none()
        {
            return Err(SettingsError::new(
                "draws",
                "warm-up plus draws × thin is too large to count",
            ));
        }
        if dim == 0 {
            return Err(SettingsError::new("dim", "the target has no coordinates"));
        }
        if self
            .first_chain
            .checked_add(self.chains)
            .is_none_or(|end| end > u32::MAX as usize)
        {
            return Err(SettingsError::new(
                "first_chain",
                "first_chain plus chains must stay below 2^32 (the chains' stream indices)",
            ));
        }
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
        self.sampler.validate()?;
        Ok(ValidSampleSettings {
            settings: self,
            dim,
        })
    }
}

/// One chain's complete state (its draws are kept in memory but not in checkpoints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chain<K> {
    /// Chain index.
    pub id: usize,
    /// Iterations done (warm-up and sampling).
    pub iteration: usize,
    rng: ChainRng,
    state: State,
    /// The kernel with its current tuning.
    pub kernel: K,
    dual: DualAveraging,
    mass: MassEstimator,
    windows: WindowSchedule,
    /// Draws kept by this call (row-major, `n × dim`).
    #[serde(skip)]
    pub draws: Vec<f64>,
    /// Per-iteration statistics of the draws kept by this call.
    #[serde(skip)]
    pub stats: Vec<StepInfo>,
    /// Draws kept in all, including those before a resume.
    pub kept: usize,
    /// Gradient (or energy) evaluations during warm-up.
    pub evals_warmup: u64,
    /// Evaluations while drawing.
    pub evals_sampling: u64,
    /// Divergences during warm-up.
    pub divergences_warmup: u64,
    /// Seconds spent in warm-up and in sampling (summed over the chain's own work).
    pub seconds: [f64; 2],
}

impl<K> Chain<K> {
    /// The current position.
    pub fn position(&self) -> &[f64] {
        &self.state.x
    }
}

/// The kernel's target acceptance under settings `s`.
fn target_accept<T: ?Sized, K: TunedKernel<T>>(kernel: &K, s: &SampleSettings) -> f64 {
    s.target_accept
        .unwrap_or_else(|| kernel.default_target_accept())
}

impl<K> Chain<K> {
    fn new<T>(
        target: &mut T,
        mut kernel: K,
        v: &ValidSampleSettings,
        id: usize,
        streams: Streams,
    ) -> Result<Self, Error>
    where
        T: Energy + ?Sized,
        K: TunedKernel<T>,
    {
        let s = v.get();
        let dim = v.dim();
        let mut rng = streams.chain(s.first_chain + id);
        // Up to 100 tries for a finite starting point.
        let mut state = None;
        let mut last_err = None;
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
            match kernel.state_at(target, x) {
                Ok(st) => {
                    state = Some(st);
                    break;
                }
                Err(e) if e.is_recoverable() => last_err = Some(e),
                Err(e) => return Err(e.into()),
            }
        }
        let state = match state {
            Some(st) => st,
            None => {
                return Err(SettingsError::new(
                    "init",
                    format!(
                        "no finite starting point in 100 tries ({})",
                        last_err.map_or_else(String::new, |e| e.to_string())
                    ),
                )
                .into())
            }
        };
        if s.warmup > 0 {
            find_step_size(&mut kernel, target, &state, s.beta, &mut rng)?;
        }
        let accept = target_accept(&kernel, s);
        Ok(Self {
            id,
            iteration: 0,
            dual: DualAveraging::new(kernel.tuning().step_size, accept),
            mass: MassEstimator::new(s.metric, dim),
            windows: WindowSchedule::new(s.warmup),
            rng,
            state,
            kernel,
            draws: Vec::with_capacity(s.draws * dim),
            stats: Vec::with_capacity(s.draws),
            kept: 0,
            evals_warmup: 0,
            evals_sampling: 0,
            divergences_warmup: 0,
            seconds: [0.0; 2],
        })
    }

    /// Runs until `until` iterations are done or `stop` is raised.
    fn advance<T>(
        &mut self,
        target: &mut T,
        v: &ValidSampleSettings,
        until: usize,
        stop: &StopFlag,
    ) -> Result<(), Error>
    where
        T: Energy + ?Sized,
        K: TunedKernel<T>,
    {
        let s = v.get();
        let end = until.min(v.total());
        while self.iteration < end {
            if stop.is_raised() {
                break;
            }
            let t0 = Instant::now();
            let i = self.iteration;
            let info = self
                .kernel
                .step(target, &mut self.state, s.beta, &mut self.rng)?;
            if i < s.warmup {
                self.evals_warmup += u64::from(info.n_evals);
                self.divergences_warmup += u64::from(info.divergent);
                let eps = self.dual.update(info.accept_stat);
                self.kernel.tuning_mut().step_size = eps;
                if self.windows.in_window(i) {
                    self.mass.add(&self.state.x);
                }
                if self.windows.end_of_window(i) {
                    if let Some(m) = self.mass.metric() {
                        self.kernel.tuning_mut().metric = m;
                        find_step_size(
                            &mut self.kernel,
                            target,
                            &self.state,
                            s.beta,
                            &mut self.rng,
                        )?;
                        self.dual.restart(self.kernel.tuning().step_size);
                    }
                    self.mass.reset();
                }
                if i + 1 == s.warmup {
                    self.kernel.tuning_mut().step_size = self.dual.final_step_size();
                }
                self.seconds[0] += t0.elapsed().as_secs_f64();
            } else {
                self.evals_sampling += u64::from(info.n_evals);
                if (i - s.warmup) % s.thin == s.thin - 1 {
                    self.draws.extend_from_slice(&self.state.x);
                    self.stats.push(info);
                    self.kept += 1;
                }
                self.seconds[1] += t0.elapsed().as_secs_f64();
            }
            self.iteration += 1;
        }
        Ok(())
    }

    fn evaluations(&self) -> u64 {
        self.evals_warmup + self.evals_sampling
    }
}

/// Everything needed to continue a run: settings, streams and every chain's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint<K> {
    /// The run's settings (validated again on resume).
    pub settings: SampleSettings,
    /// The run's random streams (its seed).
    pub streams: Streams,
    /// Every chain.
    pub chains: Vec<Chain<K>>,
}

/// A checkpoint borrowed from a running sampler, for writing (it serialises exactly as
/// [`Checkpoint`]).
#[derive(Debug, Serialize)]
pub struct CheckpointRef<'a, K> {
    /// The run's settings.
    pub settings: &'a SampleSettings,
    /// The run's random streams.
    pub streams: Streams,
    /// Every chain.
    pub chains: &'a [Chain<K>],
}

/// What the sampler reports to observers at each block boundary (every
/// [`SampleSettings::report_every`] iterations) and at the end.
#[derive(Debug)]
pub struct SampleEvent<'a, K> {
    /// Iterations done per chain (the same for every chain at a boundary).
    pub iteration: usize,
    /// Iterations per chain in all.
    pub total: usize,
    /// The chains, with the draws kept by this call.
    pub chains: &'a [Chain<K>],
    /// What a checkpoint written now would hold.
    pub checkpoint: CheckpointRef<'a, K>,
}

/// The result of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleResult<K> {
    /// Every chain, with the draws kept by this call and its statistics.
    pub chains: Vec<Chain<K>>,
    /// Why the run ended.
    pub termination: Termination,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl<K> SampleResult<K> {
    /// The dimension of the draws.
    fn dim(&self) -> usize {
        self.chains.first().map_or(0, |c| c.state.x.len())
    }
    /// Draws of parameter `j` per chain.
    pub fn parameter(&self, j: usize) -> Vec<Vec<f64>> {
        let dim = self.dim();
        self.chains
            .iter()
            .map(|c| c.draws.iter().skip(j).step_by(dim).copied().collect())
            .collect()
    }
    /// The posterior summary of parameter `j` (mean, sd, quantiles, MCSE, bulk/tail ESS, R̂).
    pub fn summary(&self, j: usize, name: &str) -> ParamSummary {
        let p = self.parameter(j);
        let refs: Vec<&[f64]> = p.iter().map(|c| c.as_slice()).collect();
        summarize(name, &refs)
    }
    /// Divergent transitions among the kept draws.
    pub fn divergences(&self) -> u64 {
        self.chains
            .iter()
            .map(|c| c.stats.iter().filter(|s| s.divergent).count() as u64)
            .sum()
    }
}

/// Samples `target` with the built-in kernel of `settings.sampler`. See [`sample_with`].
pub fn sample<T, O>(
    target: &T,
    settings: &ValidSampleSettings,
    seed: impl Into<Streams>,
    ctx: &mut RunContext<O>,
) -> Result<SampleResult<McmcKernel>, Error>
where
    T: crate::energy::Gradient + Clone + Send + Sync,
    O: for<'a> Observer<SampleEvent<'a, McmcKernel>>,
{
    let kernel = settings.get().sampler.build(settings.dim(), 1.0);
    sample_with(target, kernel, settings, seed, ctx)
}

/// Samples `target` with copies of `kernel`: initialises every chain from its own stream (chain
/// c of seed s draws from (s, chain, c); pass [`Streams`] for another family) and runs to the end
/// (or until the context stops it).
///
/// Each chain evaluates through its own copy of `target`, made once at the start: evaluation
/// counters inside the target (a [`Counted`](crate::energy::Counted) wrapper) count on the
/// copies, so read the per-chain counts in the result (`evals_warmup`, `evals_sampling`)
/// instead. Targets with large data should hold it behind an `Arc`, as the built-in ones do.
pub fn sample_with<T, K, O>(
    target: &T,
    kernel: K,
    settings: &ValidSampleSettings,
    seed: impl Into<Streams>,
    ctx: &mut RunContext<O>,
) -> Result<SampleResult<K>, Error>
where
    T: Energy + Clone + Send + Sync,
    K: TunedKernel<T> + Clone + Send,
    O: for<'a> Observer<SampleEvent<'a, K>>,
{
    let streams = seed.into();
    if target.dim() != settings.dim() {
        return Err(crate::energy::EnergyError::DimensionMismatch {
            expected: target.dim(),
            got: settings.dim(),
        }
        .into());
    }
    let s = settings.get();
    let mut targets: Vec<T> = vec![target.clone(); s.chains];
    let kernels: Vec<K> = vec![kernel; s.chains];
    let init = |targets: &mut [T]| -> Result<Vec<Chain<K>>, Error> {
        targets
            .par_iter_mut()
            .zip(kernels)
            .enumerate()
            .map(|(id, (t, k))| Chain::new(t, k, settings, id, streams))
            .collect()
    };
    let chains = crate::workers::Workers::lend(s.threads).install(|| init(&mut targets))?;
    drive(&mut targets, chains, settings, streams, ctx)
}

/// Continues a run from a checkpoint to the end (or until the context stops it). The settings
/// are validated again for `target`; the result holds the draws made after the checkpoint.
pub fn resume<T, K, O>(
    target: &T,
    checkpoint: Checkpoint<K>,
    ctx: &mut RunContext<O>,
) -> Result<SampleResult<K>, Error>
where
    T: Energy + Clone + Send + Sync,
    K: TunedKernel<T> + Clone + Send,
    O: for<'a> Observer<SampleEvent<'a, K>>,
{
    let v = checkpoint.settings.clone().validate(target.dim())?;
    let d = v.dim();
    let fits = |c: &Chain<K>| {
        c.state.x.len() == d
            && c.kernel.tuning().metric.dim() == d
            && c.kernel.tuning().metric.is_valid()
            && c.kernel.tuning().step_size.is_finite()
            && c.kernel.tuning().step_size > 0.0
            && c.mass.dim() == d
            && c.mass.is_consistent()
            && c.iteration <= v.total()
            && c.kept <= v.get().draws
    };
    if checkpoint.chains.len() != v.get().chains || !checkpoint.chains.iter().all(fits) {
        return Err(SettingsError::new(
            "checkpoint",
            "its chains do not match its settings or this target",
        )
        .into());
    }
    let mut targets: Vec<T> = vec![target.clone(); v.get().chains];
    let mut chains = checkpoint.chains;
    // The energy (and gradient) at each chain's position, evaluated afresh rather than trusted
    // from the file; for the same target the values are the same, and so are the draws.
    for (c, t) in chains.iter_mut().zip(targets.iter_mut()) {
        c.kernel.refresh(t, &mut c.state)?;
    }
    drive(&mut targets, chains, &v, checkpoint.streams, ctx)
}

fn drive<T, K, O>(
    targets: &mut [T],
    mut chains: Vec<Chain<K>>,
    v: &ValidSampleSettings,
    streams: Streams,
    ctx: &mut RunContext<O>,
) -> Result<SampleResult<K>, Error>
where
    T: Energy + Send,
    K: TunedKernel<T> + Send,
    O: for<'a> Observer<SampleEvent<'a, K>>,
{
    let start = Instant::now();
    let s = v.get();
    let total = v.total();
    let every = v.every();
    let pool = crate::workers::Workers::lend(s.threads);
    let stop = ctx.stop_flag().clone();
    let mut termination = Termination::Finished;
    ctx.init::<SampleEvent<'_, K>>();
    loop {
        let at = chains.iter().map(|c| c.iteration).min().unwrap_or(total);
        if at >= total {
            break;
        }
        // Advance every chain to the next block boundary, in parallel.
        let until = ((at / every) + 1) * every;
        let work = || {
            chains
                .par_iter_mut()
                .zip(targets.par_iter_mut())
                .map(|(c, t)| c.advance(t, v, until, &stop))
                .collect::<Result<Vec<()>, Error>>()
        };
        pool.install(work)?;
        let evaluations: u64 = chains.iter().map(Chain::evaluations).sum();
        let iteration = chains.iter().map(|c| c.iteration).min().unwrap_or(total);
        let ev = SampleEvent {
            iteration,
            total,
            chains: &chains,
            checkpoint: CheckpointRef {
                settings: s,
                streams,
                chains: &chains,
            },
        };
        if let Some(t) = ctx.step(&ev, evaluations) {
            if iteration < total {
                termination = t;
                break;
            }
        }
    }
    ctx.finish::<SampleEvent<'_, K>>(termination);
    Ok(SampleResult {
        chains,
        termination,
        seconds: start.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests;
