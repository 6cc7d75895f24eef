//! The adaptive annealer: the simulated annealing a user should actually run, with any kernel.
//!
//! Per restart: the temperature follows a [`Schedule`] from T₀ to `T₀·t_final_ratio`, and each
//! iteration is one step of an [`AnnealKernel`] at β = 1/T — by default the annealer's own
//! proposals ([`AnnealMove`]: single-coordinate Cauchy or all-coordinate Gaussian moves with
//! adapted scales, reflected into the search box), or any tuned MCMC kernel (RWM, MALA, HMC,
//! NUTS) through [`Cooled`](crate::kernels::anneal::Cooled). T₀ is set once from the mean uphill
//! energy change of trial moves so that a fraction `initial_acceptance` of uphill moves would be
//! accepted (Johnson et al. 1989). After cooling, the best state of the restart is refined by
//! L-BFGS when `refine` is on.
//!
//! Stopping rule: the run ends when the best energy has been reached (within `tolerance`) by
//! `confirmations` restarts, when `target_energy` is reached, when the evaluation budget is spent,
//! or after `restarts` restarts. Evaluations are counted by a [`Counted`] wrapper; an
//! energy-and-gradient evaluation costs two.

use super::AnnealEvent;
use crate::drivers::lbfgs::{minimise, LbfgsSettings};
use crate::drivers::schedule::Schedule;
use crate::energy::{eval, Counted, EvalCounts, Gradient};
use crate::error::Error;
use crate::kernels::anneal::{AnnealKernel, AnnealMove};
use crate::kernels::mcmc::State;
use crate::kernels::{AcceptanceRule, StepDistribution};
use crate::rng::{self, Purpose};
use crate::run::{Observer, RunContext, Termination};
use crate::settings::{in_open, nonzero, positive, SettingsError};
use crate::systems::Bounds;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// Settings of [`anneal`]. `Default` is the recommended configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnnealSettings {
    /// Cooling schedule.
    pub schedule: Schedule,
    /// Proposals per restart; `None` means `350 × dim` (at least 1000).
    pub iterations: Option<usize>,
    /// Maximum number of restarts.
    pub restarts: usize,
    /// Stop once this many restarts reached the best energy (0 disables the rule).
    pub confirmations: usize,
    /// Initial temperature; `None` sets it from trial moves.
    pub t_initial: Option<f64>,
    /// Final temperature as a fraction of T₀.
    pub t_final_ratio: f64,
    /// Uphill acceptance rate that the automatic T₀ aims for.
    pub initial_acceptance: f64,
    /// Acceptance rate the proposal scales adapt towards.
    pub target_acceptance: f64,
    /// Fraction of proposals that move one coordinate (the rest move all).
    pub coordinate_fraction: f64,
    /// Fraction of single-coordinate moves made at the initial (wide) scale instead of the
    /// adapted one, so that jumps between distant basins stay possible as the system freezes.
    pub wide_fraction: f64,
    /// Step distribution of single-coordinate moves.
    pub step: StepDistribution,
    /// Initial proposal scale; `None` means a tenth of the box width (or 1 without a box).
    pub initial_scale: Option<f64>,
    /// Acceptance rule.
    pub rule: AcceptanceRule,
    /// Refine each restart's best state by L-BFGS.
    pub refine: bool,
    /// Settings of the refinement.
    pub lbfgs: LbfgsSettings,
    /// Search box (proposals are reflected into it; restarts start uniformly inside it).
    pub bounds: Option<Bounds>,
    /// Stop as soon as the best energy is at or below this.
    pub target_energy: Option<f64>,
    /// Stop when the evaluation cost (energy evaluations + 2 × gradient evaluations) reaches
    /// this.
    pub max_evaluations: Option<u64>,
    /// Absolute and relative tolerance for "the same best energy".
    pub tolerance: f64,
}

impl Default for AnnealSettings {
    fn default() -> Self {
        Self {
            schedule: Schedule::Geometric,
            iterations: None,
            restarts: 10,
            confirmations: 3,
            t_initial: None,
            t_final_ratio: 1e-4,
            initial_acceptance: 0.8,
            target_acceptance: 0.3,
            coordinate_fraction: 0.9,
            wide_fraction: 0.7,
            step: StepDistribution::Cauchy,
            initial_scale: None,
            rule: AcceptanceRule::Metropolis,
            refine: true,
            lbfgs: LbfgsSettings::default(),
            bounds: None,
            target_energy: None,
            max_evaluations: None,
            tolerance: 1e-8,
        }
    }
}

/// Settings that passed [`AnnealSettings::validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidAnnealSettings(AnnealSettings);

impl ValidAnnealSettings {
    /// The checked settings.
    pub fn get(&self) -> &AnnealSettings {
        &self.0
    }
    /// Proposals per restart for a problem of dimension `dim`.
    pub fn iterations(&self, dim: usize) -> usize {
        self.0.iterations.unwrap_or((350 * dim).max(1000))
    }
    /// The box width (10 without a box) and the initial proposal scale.
    fn scales(&self) -> (f64, f64) {
        let width = self.0.bounds.map_or(10.0, |b| b.width());
        (width, self.0.initial_scale.unwrap_or(width / 10.0))
    }
    /// The annealer's own proposals, configured by these settings, for dimension `dim`.
    pub fn proposals(&self, dim: usize) -> AnnealMove {
        let (width, scale0) = self.scales();
        let s = &self.0;
        let mut m = AnnealMove::new(dim, scale0, width);
        m.coordinate_fraction = s.coordinate_fraction;
        m.wide_fraction = s.wide_fraction;
        m.step = s.step;
        m.rule = s.rule;
        m.bounds = s.bounds;
        m.target_acceptance = s.target_acceptance;
        m
    }
}

impl AnnealSettings {
    /// Checks every field once.
    pub fn validate(self) -> Result<ValidAnnealSettings, SettingsError> {
        self.schedule.validate()?;
        if let Some(n) = self.iterations {
            nonzero("iterations", n)?;
        }
        nonzero("restarts", self.restarts)?;
        if let Some(t) = self.t_initial {
            positive("t_initial", t)?;
        }
        in_open("t_final_ratio", self.t_final_ratio, 0.0, 1.0 + f64::EPSILON)?;
        in_open("initial_acceptance", self.initial_acceptance, 0.0, 1.0)?;
        in_open("target_acceptance", self.target_acceptance, 0.0, 1.0)?;
        if !(0.0..=1.0).contains(&self.coordinate_fraction) {
            return Err(SettingsError::new(
                "coordinate_fraction",
                "must lie in [0, 1]",
            ));
        }
        if !(0.0..=1.0).contains(&self.wide_fraction) {
            return Err(SettingsError::new("wide_fraction", "must lie in [0, 1]"));
        }
        if let Some(s) = self.initial_scale {
            positive("initial_scale", s)?;
        }
        if let Some(b) = self.bounds {
            if !(b.lower.is_finite() && b.upper.is_finite() && b.lower < b.upper) {
                return Err(SettingsError::new("bounds", "need finite lower < upper"));
            }
        }
        if let Some(t) = self.target_energy {
            if t.is_nan() {
                return Err(SettingsError::new("target_energy", "is NaN"));
            }
        }
        if self.max_evaluations == Some(0) {
            return Err(SettingsError::new("max_evaluations", "must be at least 1"));
        }
        positive("tolerance", self.tolerance)?;
        Ok(ValidAnnealSettings(self))
    }
}

/// What one restart did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestartSummary {
    /// Restart index.
    pub restart: usize,
    /// Initial temperature.
    pub t_initial: f64,
    /// Best energy found by annealing alone.
    pub annealed_energy: f64,
    /// Best energy after refinement (equal to `annealed_energy` without refinement).
    pub refined_energy: f64,
    /// Acceptance rate of the restart.
    pub acceptance_rate: f64,
    /// Cumulative evaluation cost at the end of the restart.
    pub cost_so_far: u64,
}

/// Result of [`anneal`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnealResult {
    /// Best state found.
    pub best_x: Vec<f64>,
    /// Its energy.
    pub best_energy: f64,
    /// Why the run stopped.
    pub termination: Termination,
    /// One summary per restart run.
    pub restarts: Vec<RestartSummary>,
    /// Evaluations made (counted by a wrapper).
    pub evaluations: EvalCounts,
    /// Energy evaluations that gave a non-finite value or a recoverable error: rejected
    /// proposals, and start draws of restarts that were drawn again.
    pub non_finite: u64,
}

/// The energy restricted to the search box: a state outside it is out of the support (a
/// rejected move, not an evaluation), so kernels that do not reflect their proposals (MCMC
/// kernels) stay inside.
pub struct InBox<E> {
    inner: E,
    bounds: Option<Bounds>,
}

impl<E> InBox<E> {
    fn outside(&self, x: &[f64]) -> bool {
        self.bounds
            .is_some_and(|b| x.iter().any(|v| !(b.lower..=b.upper).contains(v)))
    }
    /// The energy inside.
    pub fn inner(&mut self) -> &mut E {
        &mut self.inner
    }
}

impl<E: crate::energy::Energy> crate::energy::Energy for InBox<E> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, crate::energy::EnergyError> {
        if self.outside(x) {
            return Err(crate::energy::EnergyError::OutOfSupport(
                "outside the search box".into(),
            ));
        }
        self.inner.energy(x)
    }
}

impl<E: Gradient> Gradient for InBox<E> {
    fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, crate::energy::EnergyError> {
        if self.outside(x) {
            return Err(crate::energy::EnergyError::OutOfSupport(
                "outside the search box".into(),
            ));
        }
        self.inner.energy_grad(x, g)
    }
}

struct Run<'a, E: ?Sized> {
    f: InBox<Counted<&'a mut E>>,
    s: &'a AnnealSettings,
    best_x: Vec<f64>,
    best_e: f64,
    non_finite: u64,
}

impl<E: Gradient + ?Sized> Run<'_, E> {
    fn cost(&self) -> u64 {
        self.f.inner.counts().cost()
    }
    fn budget_spent(&self) -> bool {
        self.s.max_evaluations.is_some_and(|m| self.cost() >= m)
    }
    fn target_hit(&self) -> bool {
        self.s.target_energy.is_some_and(|t| self.best_e <= t)
    }
    fn consider(&mut self, x: &[f64], e: f64) {
        if e < self.best_e {
            self.best_e = e;
            self.best_x.copy_from_slice(x);
        }
    }
}

/// T₀ from trial moves of the annealer's proposals at their initial scale around `x` (energy
/// `e`): the temperature at which a fraction `initial_acceptance` of uphill moves is accepted.
fn initial_temperature<E: Gradient + ?Sized, R: Rng + ?Sized>(
    run: &mut Run<'_, E>,
    trial: &mut AnnealMove,
    x: &[f64],
    e: f64,
    rng: &mut R,
) -> f64 {
    let d = x.len();
    let (mut sum, mut cnt) = (0.0, 0usize);
    for k in 0..(2 * d).max(20) {
        let prop = trial.trial(x, k % 5 != 4, rng);
        if let Ok(en) = eval(&mut run.f, prop) {
            let prop = prop.to_vec();
            run.consider(&prop, en);
            if en > e {
                sum += en - e;
                cnt += 1;
            }
        }
    }
    if cnt > 0 && e.is_finite() {
        (sum / cnt as f64) / (1.0 / run.s.initial_acceptance).ln()
    } else {
        1.0f64.max(0.1 * e.abs())
    }
}

/// Anneals `energy` from `x0` with the annealer's own proposals (configured by `settings`).
/// See [`anneal_with`].
pub fn anneal<E, O>(
    energy: &mut E,
    x0: &[f64],
    settings: &ValidAnnealSettings,
    seed: u64,
    ctx: &mut RunContext<O>,
) -> Result<AnnealResult, Error>
where
    E: Gradient + ?Sized,
    O: for<'a> Observer<AnnealEvent<'a>>,
{
    let kernel = settings.proposals(x0.len());
    anneal_with(energy, kernel, x0, settings, seed, ctx)
}

/// Draws tried for a restart's start before it starts from a state of infinite energy.
const START_ATTEMPTS: usize = 100;

/// Anneals `energy` from `x0` with `kernel`: restart r draws from stream (seed, chain, r). With
/// a search box the kernel sees the energy restricted to it ([`InBox`]: moves out of the box are
/// rejected). Recoverable energy errors reject the move (and are counted); a non-recoverable
/// error ends the run with that error.
pub fn anneal_with<E, K, O>(
    energy: &mut E,
    mut kernel: K,
    x0: &[f64],
    settings: &ValidAnnealSettings,
    seed: u64,
    ctx: &mut RunContext<O>,
) -> Result<AnnealResult, Error>
where
    E: Gradient + ?Sized,
    K: for<'c> AnnealKernel<InBox<Counted<&'c mut E>>>,
    O: for<'a> Observer<AnnealEvent<'a>>,
{
    let s = settings.get();
    let d = x0.len();
    crate::energy::check_dim(energy.dim(), x0)?;
    let n = settings.iterations(d);
    let mut trial = settings.proposals(d);
    let mut run = Run {
        f: InBox {
            inner: Counted::new(energy),
            bounds: s.bounds,
        },
        s,
        best_x: x0.to_vec(),
        best_e: f64::INFINITY,
        non_finite: 0,
    };
    let mut start = x0.to_vec();
    if let Some(b) = s.bounds {
        start.iter_mut().for_each(|v| *v = b.reflect(*v));
    }
    ctx.init::<AnnealEvent<'_>>();
    let mut summaries = Vec::new();
    let mut t0 = s.t_initial;
    let mut confirmed = 0usize;
    let mut termination = Termination::Finished;
    'restarts: for r in 0..s.restarts {
        let mut rng = rng::stream(seed, Purpose::Chain, r as u64);
        // The first restart starts at x0; later ones at a fresh draw, up to 100 draws until one
        // has a finite energy (else from a state of infinite energy that accepts any finite
        // proposal).
        let mut state = None;
        for _ in 0..if r == 0 { 1 } else { START_ATTEMPTS } {
            if r > 0 {
                // Uniform in the box, or a wide jitter around x0 without one.
                let (_, scale0) = settings.scales();
                match s.bounds {
                    Some(b) => start
                        .iter_mut()
                        .for_each(|v| *v = rng.random_range(b.lower..b.upper)),
                    None => {
                        for (v, c) in start.iter_mut().zip(x0) {
                            let z: f64 = StandardNormal.sample(&mut rng);
                            *v = c + scale0 * 10.0 * z;
                        }
                    }
                }
            }
            match kernel.state_at(&mut run.f, start.clone()) {
                Ok(st) => {
                    state = Some(st);
                    break;
                }
                Err(err) if err.is_recoverable() => {
                    run.non_finite += 1;
                    if r == 0 {
                        termination = Termination::Diverged;
                        break 'restarts;
                    }
                }
                Err(err) => return Err(err.into()),
            }
        }
        let mut state = state.unwrap_or_else(|| State {
            x: start.clone(),
            energy: f64::INFINITY,
            grad: vec![0.0; d],
        });
        run.consider(&state.x, state.energy);
        let t_init = match t0 {
            Some(t) => t,
            None => {
                let t = initial_temperature(&mut run, &mut trial, &state.x, state.energy, &mut rng);
                t0 = Some(t);
                t
            }
        };
        let t_end = t_init * s.t_final_ratio;
        if state.energy.is_finite() {
            kernel.restart(&mut run.f, &state, 1.0 / t_init, &mut rng)?;
        }
        let (mut rb_x, mut rb_e) = (state.x.clone(), state.energy);
        let mut accepted = 0usize;
        let mut iters = 0usize;
        for k in 0..n {
            let temp = s.schedule.temperature(k, n, t_init, t_end);
            let info = kernel.step(&mut run.f, &mut state, 1.0 / temp, &mut rng)?;
            kernel.adapt(&info);
            run.non_finite += u64::from(info.divergent);
            if state.energy < rb_e {
                rb_e = state.energy;
                rb_x.copy_from_slice(&state.x);
            }
            accepted += usize::from(info.accepted);
            iters += 1;
            if rb_e < run.best_e {
                run.consider(&rb_x, rb_e);
            }
            let ev = AnnealEvent {
                restart: r,
                iteration: k,
                temperature: temp,
                x: &state.x,
                energy: state.energy,
                best_energy: run.best_e,
                accepted: info.accepted,
                scale: info.step_size,
            };
            if let Some(t) = ctx.step(&ev, run.cost()) {
                termination = t;
            } else if run.target_hit() {
                termination = Termination::TargetReached;
            } else if run.budget_spent() {
                termination = Termination::BudgetExhausted;
            }
            if termination != Termination::Finished {
                summaries.push(RestartSummary {
                    restart: r,
                    t_initial: t_init,
                    annealed_energy: rb_e,
                    refined_energy: rb_e,
                    acceptance_rate: accepted as f64 / iters as f64,
                    cost_so_far: run.cost(),
                });
                break 'restarts;
            }
        }
        let annealed = rb_e;
        if s.refine && rb_e.is_finite() {
            let lr = minimise(&mut run.f.inner, &rb_x, &s.lbfgs)?;
            if lr.energy < rb_e {
                rb_e = lr.energy;
                rb_x = lr.x;
            }
        }
        let prev_best = run.best_e;
        run.consider(&rb_x, rb_e);
        let tol = s.tolerance * (1.0 + prev_best.abs().min(rb_e.abs()));
        if rb_e < prev_best - tol || confirmed == 0 {
            confirmed = 1;
        } else if (rb_e - run.best_e).abs() <= tol {
            confirmed += 1;
        }
        summaries.push(RestartSummary {
            restart: r,
            t_initial: t_init,
            annealed_energy: annealed,
            refined_energy: rb_e,
            acceptance_rate: accepted as f64 / iters.max(1) as f64,
            cost_so_far: run.cost(),
        });
        if run.target_hit() {
            termination = Termination::TargetReached;
            break;
        }
        if s.confirmations > 0 && confirmed >= s.confirmations {
            termination = Termination::Converged;
            break;
        }
        if run.budget_spent() {
            termination = Termination::BudgetExhausted;
            break;
        }
        if let Some(t) = ctx.check(run.cost()) {
            termination = t;
            break;
        }
    }
    ctx.finish::<AnnealEvent<'_>>(termination);
    Ok(AnnealResult {
        best_x: run.best_x,
        best_energy: run.best_e,
        termination,
        restarts: summaries,
        evaluations: run.f.inner.counts(),
        non_finite: run.non_finite,
    })
}
