//! The adaptive annealer: the simulated annealing a user should actually run.
//!
//! Per restart: the temperature follows a [`Schedule`] from T₀ to `T₀·t_final_ratio`; each
//! iteration proposes either a single-coordinate move (heavy-tailed Cauchy steps by default, which
//! hop between basins) or a move of all coordinates (Gaussian), reflected into the search box when
//! there is one. The scale of each move type is adapted on the log scale towards a target
//! acceptance rate (Robbins–Monro), so steps shrink as the system freezes. T₀ is set once from the
//! mean uphill energy change of trial moves so that a fraction `initial_acceptance` of uphill moves
//! would be accepted (Johnson et al. 1989). After cooling, the best state of the restart is
//! refined by L-BFGS when `refine` is on.
//!
//! Stopping rule: the run ends when the best energy has been reached (within `tolerance`) by
//! `confirmations` restarts, when `target_energy` is reached, when the evaluation budget is spent,
//! or after `restarts` restarts. Evaluations are counted by a [`Counted`] wrapper; an
//! energy-and-gradient evaluation costs two.

use super::AnnealEvent;
use crate::drivers::lbfgs::{minimise, LbfgsSettings};
use crate::drivers::schedule::Schedule;
use crate::energy::{eval, Counted, EnergyError, EvalCounts, Gradient};
use crate::kernels::{AcceptanceRule, StepDistribution};
use crate::observe::{Control, Observer, Termination};
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
    /// Stop when the evaluation cost reaches this.
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
    /// Proposals that hit a non-finite energy (counted as rejections).
    pub non_finite: u64,
}

struct Run<'a, E: ?Sized> {
    f: Counted<&'a mut E>,
    s: &'a AnnealSettings,
    best_x: Vec<f64>,
    best_e: f64,
    non_finite: u64,
}

impl<E: Gradient + ?Sized> Run<'_, E> {
    fn budget_spent(&self) -> bool {
        self.s
            .max_evaluations
            .is_some_and(|m| self.f.counts().cost() >= m)
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

fn propose<R: Rng + ?Sized>(
    x: &[f64],
    prop: &mut [f64],
    coord: bool,
    scale: f64,
    s: &AnnealSettings,
    rng: &mut R,
) {
    prop.copy_from_slice(x);
    if coord {
        let i = rng.random_range(0..x.len());
        prop[i] = x[i] + scale * s.step.sample(rng);
    } else {
        for (p, xi) in prop.iter_mut().zip(x) {
            let z: f64 = StandardNormal.sample(rng);
            *p = xi + scale * z;
        }
    }
    if let Some(b) = s.bounds {
        prop.iter_mut().for_each(|p| *p = b.reflect(*p));
    }
}

/// Anneals `energy` from `x0`. Recoverable energy errors reject the move (and are counted);
/// a non-recoverable error ends the run with that error.
pub fn anneal<E, R, O>(
    energy: &mut E,
    x0: &[f64],
    settings: &ValidAnnealSettings,
    rng: &mut R,
    observer: &mut O,
) -> Result<AnnealResult, EnergyError>
where
    E: Gradient + ?Sized,
    R: Rng + ?Sized,
    O: for<'a> Observer<AnnealEvent<'a>> + ?Sized,
{
    let s = settings.get();
    let d = x0.len();
    if d != energy.dim() {
        return Err(EnergyError::DimensionMismatch {
            expected: energy.dim(),
            got: d,
        });
    }
    let n = s.iterations.unwrap_or((350 * d).max(1000));
    let width = s.bounds.map_or(10.0, |b| b.width());
    let scale0 = s.initial_scale.unwrap_or(width / 10.0);
    let (min_scale, max_scale) = (1e-12 * width, width);
    let mut run = Run {
        f: Counted::new(energy),
        s,
        best_x: x0.to_vec(),
        best_e: f64::INFINITY,
        non_finite: 0,
    };
    let mut start = x0.to_vec();
    if let Some(b) = s.bounds {
        start.iter_mut().for_each(|v| *v = b.reflect(*v));
    }
    observer.on_init();
    let mut summaries = Vec::new();
    let mut t0 = s.t_initial;
    let mut confirmed = 0usize;
    let mut termination = Termination::Finished;
    let mut prop = vec![0.0; d];
    'restarts: for r in 0..s.restarts {
        let mut x = start.clone();
        let mut e = match eval(&mut run.f, &x) {
            Ok(v) => v,
            Err(err) if err.is_recoverable() => {
                run.non_finite += 1;
                if r == 0 {
                    termination = Termination::Diverged;
                    break;
                }
                f64::INFINITY
            }
            Err(err) => return Err(err),
        };
        run.consider(&x, e);
        // Automatic T₀ from trial moves at the initial scale (first restart only).
        let t_init = match t0 {
            Some(t) => t,
            None => {
                let (mut sum, mut cnt) = (0.0, 0usize);
                for k in 0..(2 * d).max(20) {
                    propose(&x, &mut prop, k % 5 != 4, scale0, s, rng);
                    if let Ok(en) = eval(&mut run.f, &prop) {
                        run.consider(&prop, en);
                        if en > e {
                            sum += en - e;
                            cnt += 1;
                        }
                    }
                }
                let t = if cnt > 0 && e.is_finite() {
                    (sum / cnt as f64) / (1.0 / s.initial_acceptance).ln()
                } else {
                    1.0f64.max(0.1 * e.abs())
                };
                t0 = Some(t);
                t
            }
        };
        let t_end = t_init * s.t_final_ratio;
        let mut log_scale = [scale0.ln(), (scale0 / (d as f64).sqrt()).ln()];
        let (mut rb_x, mut rb_e) = (x.clone(), e);
        let mut accepted = 0usize;
        let mut iters = 0usize;
        for k in 0..n {
            let temp = s.schedule.temperature(k, n, t_init, t_end);
            let coord = d == 1 || rng.random::<f64>() < s.coordinate_fraction;
            let wide = coord && rng.random::<f64>() < s.wide_fraction;
            let which = usize::from(!coord);
            let scale = if wide { scale0 } else { log_scale[which].exp() };
            propose(&x, &mut prop, coord, scale, s, rng);
            let acc = match eval(&mut run.f, &prop) {
                Ok(en) => {
                    let ok = !e.is_finite() || s.rule.accept((en - e) / temp, rng);
                    if ok {
                        std::mem::swap(&mut x, &mut prop);
                        e = en;
                        if e < rb_e {
                            rb_e = e;
                            rb_x.copy_from_slice(&x);
                        }
                    }
                    ok
                }
                Err(err) if err.is_recoverable() => {
                    run.non_finite += 1;
                    false
                }
                Err(err) => return Err(err),
            };
            accepted += acc as usize;
            iters += 1;
            // Robbins–Monro on the log scale with a constant gain (the target moves with T).
            if !wide {
                log_scale[which] = (log_scale[which]
                    + 0.05 * (f64::from(u8::from(acc)) - s.target_acceptance))
                    .clamp(min_scale.ln(), max_scale.ln());
            }
            if rb_e < run.best_e {
                run.consider(&rb_x, rb_e);
            }
            let ev = AnnealEvent {
                restart: r,
                iteration: k,
                temperature: temp,
                x: &x,
                energy: e,
                best_energy: run.best_e,
                accepted: acc,
                scale,
            };
            if observer.on_step(&ev) == Control::Stop {
                termination = Termination::Interrupted;
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
                    cost_so_far: run.f.counts().cost(),
                });
                break 'restarts;
            }
        }
        let annealed = rb_e;
        if s.refine && rb_e.is_finite() {
            let lr = minimise(&mut run.f, &rb_x, &s.lbfgs)?;
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
            cost_so_far: run.f.counts().cost(),
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
        // Next start: uniform in the box, or a wide jitter around x0 without one.
        match s.bounds {
            Some(b) => start
                .iter_mut()
                .for_each(|v| *v = rng.random_range(b.lower..b.upper)),
            None => {
                for (v, c) in start.iter_mut().zip(x0) {
                    let z: f64 = StandardNormal.sample(rng);
                    *v = c + scale0 * 10.0 * z;
                }
            }
        }
    }
    observer.on_finish(termination);
    Ok(AnnealResult {
        best_x: run.best_x,
        best_energy: run.best_e,
        termination,
        restarts: summaries,
        evaluations: run.f.counts(),
        non_finite: run.non_finite,
    })
}
