//! The seed walkthrough's simulated annealing, reproduced as a named baseline.
//!
//! Every iteration perturbs every coordinate with `N(0, step²)` ([`GaussianWalk`]), accepts by
//! the Metropolis rule at temperature T (a uniform number is drawn only for uphill moves), tracks
//! the best accepted state, and cools geometrically `T ← αT`. No bounds, no adaptation, no
//! restarts: it exists to be compared against, not to be used. It runs through the same
//! annealing driver as everything else, configured as one restart of a geometric schedule.

use super::{anneal_with, AnnealEvent, AnnealResult, AnnealSettings};
use crate::drivers::schedule::Schedule;
use crate::energy::Gradient;
use crate::error::Error;
use crate::kernels::anneal::GaussianWalk;
use crate::run::{Observer, RunContext};
use crate::settings::{in_open, nonzero, positive, SettingsError};
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

/// Baseline settings that passed [`BlogSettings::validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidBlogSettings {
    blog: BlogSettings,
    anneal: super::ValidAnnealSettings,
}

impl ValidBlogSettings {
    /// The checked settings.
    pub fn get(&self) -> &BlogSettings {
        &self.blog
    }
}

impl BlogSettings {
    /// Checks every field.
    pub fn validate(self) -> Result<ValidBlogSettings, SettingsError> {
        nonzero("iterations", self.iterations)?;
        positive("t_initial", self.t_initial)?;
        positive("step", self.step)?;
        in_open("alpha", self.alpha, 0.0, 1.0 + f64::EPSILON)?;
        let ratio = self.alpha.powi(self.iterations.saturating_sub(1) as i32);
        if ratio.is_nan() || ratio <= 0.0 {
            return Err(SettingsError::new(
                "alpha",
                "cools below the smallest positive temperature in this many iterations",
            ));
        }
        let anneal = AnnealSettings {
            schedule: Schedule::Geometric,
            iterations: Some(self.iterations),
            restarts: 1,
            confirmations: 0,
            t_initial: Some(self.t_initial),
            t_final_ratio: ratio,
            refine: false,
            ..Default::default()
        }
        .validate()?;
        Ok(ValidBlogSettings { blog: self, anneal })
    }
}

/// Runs the baseline from `x0`. A non-finite energy at a proposal rejects it; one at `x0` ends
/// the run as `Diverged`.
pub fn blog_anneal<E, O>(
    energy: &mut E,
    x0: &[f64],
    settings: &ValidBlogSettings,
    seed: u64,
    ctx: &mut RunContext<O>,
) -> Result<AnnealResult, Error>
where
    E: Gradient + ?Sized,
    O: for<'a> Observer<AnnealEvent<'a>>,
{
    let walk = GaussianWalk::new(settings.blog.step);
    anneal_with(energy, walk, x0, &settings.anneal, seed, ctx)
}
