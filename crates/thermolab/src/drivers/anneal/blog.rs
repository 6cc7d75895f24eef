//! The seed walkthrough's simulated annealing, reproduced exactly as a named baseline.
//!
//! Every iteration perturbs every coordinate with `N(0, step²)`, accepts by the Metropolis rule at
//! temperature T (a uniform number is drawn only for uphill moves), tracks the best accepted
//! state, and cools geometrically `T ← αT`. No bounds, no adaptation, no restarts: it exists to be
//! compared against, not to be used.

use super::AnnealEvent;
use crate::energy::{eval, Counted, Energy, EnergyError, EvalCounts};
use crate::kernels::AcceptanceRule;
use crate::observe::{Control, Observer, Termination};
use crate::settings::{in_open, nonzero, positive, SettingsError};
use rand::Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

/// Settings of the baseline (defaults are the walkthrough's).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BlogSettings {
    /// Number of iterations.
    pub iterations: usize,
    /// Initial temperature.
    pub t_initial: f64,
    /// Standard deviation of the Gaussian proposal on each coordinate.
    pub step: f64,
    /// Cooling factor α in `T ← αT`.
    pub alpha: f64,
}

impl Default for BlogSettings {
    fn default() -> Self {
        Self {
            iterations: 1000,
            t_initial: 1.0,
            step: 0.1,
            alpha: 0.99,
        }
    }
}

impl BlogSettings {
    /// Checks every field.
    pub fn validate(&self) -> Result<Self, SettingsError> {
        nonzero("iterations", self.iterations)?;
        positive("t_initial", self.t_initial)?;
        positive("step", self.step)?;
        in_open("alpha", self.alpha, 0.0, 1.0 + f64::EPSILON)?;
        Ok(*self)
    }
}

/// Result of the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlogResult {
    /// Best state found.
    pub best_x: Vec<f64>,
    /// Its energy.
    pub best_energy: f64,
    /// Accepted proposals / iterations.
    pub acceptance_rate: f64,
    /// Evaluations made.
    pub evaluations: EvalCounts,
    /// Why it stopped.
    pub termination: Termination,
}

/// Runs the baseline from `x0`. A non-finite energy at a proposal rejects it; one at `x0` ends
/// the run as `Diverged`.
pub fn blog_anneal<E, R, O>(
    energy: &mut E,
    x0: &[f64],
    settings: &BlogSettings,
    rng: &mut R,
    observer: &mut O,
) -> Result<BlogResult, EnergyError>
where
    E: Energy + ?Sized,
    R: Rng + ?Sized,
    O: for<'a> Observer<AnnealEvent<'a>> + ?Sized,
{
    let s = settings;
    let mut f = Counted::new(energy);
    let normal = Normal::new(0.0, s.step).expect("validated step");
    let mut x = x0.to_vec();
    let mut prop = x.clone();
    observer.on_init();
    let mut e = match eval(&mut f, &x) {
        Ok(v) => v,
        Err(err) if err.is_recoverable() => {
            observer.on_finish(Termination::Diverged);
            return Ok(BlogResult {
                best_x: x,
                best_energy: f64::NAN,
                acceptance_rate: 0.0,
                evaluations: f.counts(),
                termination: Termination::Diverged,
            });
        }
        Err(err) => return Err(err),
    };
    let (mut best_x, mut best_e) = (x.clone(), e);
    let mut t = s.t_initial;
    let mut accepted = 0usize;
    let mut termination = Termination::Finished;
    for k in 0..s.iterations {
        for (p, xi) in prop.iter_mut().zip(&x) {
            *p = xi + normal.sample(rng);
        }
        let acc = match eval(&mut f, &prop) {
            Ok(en) => {
                let ok = AcceptanceRule::Metropolis.accept((en - e) / t, rng);
                if ok {
                    std::mem::swap(&mut x, &mut prop);
                    e = en;
                    if e < best_e {
                        best_e = e;
                        best_x.copy_from_slice(&x);
                    }
                }
                ok
            }
            Err(err) if err.is_recoverable() => false,
            Err(err) => return Err(err),
        };
        accepted += acc as usize;
        let ev = AnnealEvent {
            restart: 0,
            iteration: k,
            temperature: t,
            x: &x,
            energy: e,
            best_energy: best_e,
            accepted: acc,
            scale: s.step,
        };
        if observer.on_step(&ev) == Control::Stop {
            termination = Termination::Interrupted;
            break;
        }
        t *= s.alpha;
    }
    observer.on_finish(termination);
    Ok(BlogResult {
        best_x,
        best_energy: best_e,
        acceptance_rate: accepted as f64 / s.iterations as f64,
        evaluations: f.counts(),
        termination,
    })
}
