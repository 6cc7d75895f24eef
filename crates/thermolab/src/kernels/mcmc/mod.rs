//! Gradient-based and random-walk MCMC kernels for continuous energies at inverse temperature β:
//! random-walk Metropolis, MALA, static HMC (leapfrog) and NUTS, sharing one [`Metric`] (the
//! inverse mass matrix / proposal covariance) and one per-step statistics struct.
//!
//! The target is `p_β(x) ∝ exp(−β E(x))`. A NaN or infinite energy anywhere in a proposal or a
//! trajectory is a rejection (and, for HMC/NUTS, a divergence): the chain keeps its state.

mod hmc;
mod metric;
mod nuts;
mod simple;

pub use metric::Metric;

use crate::energy::{EnergyError, Gradient};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// A chain's position with its (untempered) energy and gradient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Position.
    pub x: Vec<f64>,
    /// `E(x)`.
    pub energy: f64,
    /// `∇E(x)` (empty for kernels that do not use gradients).
    pub grad: Vec<f64>,
}

impl State {
    /// Evaluates energy and gradient at `x`.
    pub fn new<E: Gradient + ?Sized>(energy: &mut E, x: Vec<f64>) -> Result<Self, EnergyError> {
        let mut grad = vec![0.0; x.len()];
        let e = crate::energy::eval_grad(energy, &x, &mut grad)?;
        Ok(Self { x, energy: e, grad })
    }
}

/// Which kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SamplerKind {
    /// Random-walk Metropolis with Gaussian proposals of covariance `ε² Σ`.
    Rwm,
    /// Metropolis-adjusted Langevin algorithm.
    Mala,
    /// Hamiltonian Monte Carlo with a fixed number of leapfrog steps.
    Hmc {
        /// Leapfrog steps per iteration.
        steps: u32,
    },
    /// The No-U-Turn Sampler (multinomial, generalised no-U-turn criterion).
    Nuts {
        /// Maximum tree depth (at most 2^depth leapfrog steps).
        max_depth: u32,
    },
}

impl SamplerKind {
    /// Parses `rwm`, `mala`, `hmc` (20 steps) or `nuts` (depth 10).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "rwm" | "metropolis" => Some(Self::Rwm),
            "mala" => Some(Self::Mala),
            "hmc" => Some(Self::Hmc { steps: 20 }),
            "nuts" => Some(Self::Nuts { max_depth: 10 }),
            _ => None,
        }
    }
    /// The kernel's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Rwm => "rwm",
            Self::Mala => "mala",
            Self::Hmc { .. } => "hmc",
            Self::Nuts { .. } => "nuts",
        }
    }
    /// The acceptance rate step-size adaptation aims for by default.
    pub fn default_target_accept(&self) -> f64 {
        match self {
            Self::Rwm => 0.234,
            Self::Mala => 0.574,
            Self::Hmc { .. } => 0.65,
            Self::Nuts { .. } => 0.8,
        }
    }
    /// Whether the kernel uses gradients.
    pub fn uses_gradient(&self) -> bool {
        !matches!(self, Self::Rwm)
    }
}

/// What one kernel step did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepInfo {
    /// Whether the chain moved.
    pub accepted: bool,
    /// Acceptance statistic used for step-size adaptation (Metropolis probability, or for NUTS
    /// the mean over the trajectory).
    pub accept_stat: f64,
    /// `E(x)` at the new state (untempered).
    pub energy: f64,
    /// The Hamiltonian at the new state (β·E + kinetic energy; β·E for RWM/MALA).
    pub hamiltonian: f64,
    /// Largest |ΔH| seen along the trajectory (NaN-free; ∞ for a non-finite energy).
    pub energy_error: f64,
    /// Whether the trajectory diverged (|ΔH| above the threshold or a non-finite energy).
    pub divergent: bool,
    /// NUTS tree depth (0 for other kernels).
    pub tree_depth: u32,
    /// Gradient (or energy, for RWM) evaluations made.
    pub n_evals: u32,
    /// Step size used.
    pub step_size: f64,
}

/// A kernel with its tuning: kind, step size and metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sampler {
    /// Which kernel.
    pub kind: SamplerKind,
    /// Step size ε.
    pub step_size: f64,
    /// Inverse mass matrix / proposal covariance.
    pub metric: Metric,
    /// Energy error above which a trajectory counts as divergent (Stan uses 1000).
    pub max_energy_error: f64,
}

impl Sampler {
    /// A sampler with an identity metric and step size `step_size`.
    pub fn new(kind: SamplerKind, dim: usize, step_size: f64) -> Self {
        Self {
            kind,
            step_size,
            metric: Metric::identity(dim),
            max_energy_error: 1000.0,
        }
    }

    /// One transition of `state` targeting `exp(−β E)`. Non-recoverable energy errors are
    /// returned; recoverable ones reject the step.
    pub fn step<E, R>(
        &self,
        energy: &mut E,
        state: &mut State,
        beta: f64,
        rng: &mut R,
    ) -> Result<StepInfo, EnergyError>
    where
        E: Gradient + ?Sized,
        R: Rng + ?Sized,
    {
        match self.kind {
            SamplerKind::Rwm => simple::rwm(self, energy, state, beta, rng),
            SamplerKind::Mala => simple::mala(self, energy, state, beta, rng),
            SamplerKind::Hmc { steps } => hmc::hmc(self, energy, state, beta, steps, rng),
            SamplerKind::Nuts { max_depth } => {
                nuts::nuts(self, energy, state, beta, max_depth, rng)
            }
        }
    }

    /// A reasonable initial step size (Hoffman & Gelman 2014, algorithm 4): double or halve ε
    /// until the acceptance statistic of one step from `state` crosses ½. The state is unchanged.
    pub fn find_step_size<E, R>(
        &mut self,
        energy: &mut E,
        state: &State,
        beta: f64,
        rng: &mut R,
    ) -> Result<f64, EnergyError>
    where
        E: Gradient + ?Sized,
        R: Rng + ?Sized,
    {
        let probe = |s: &Self, energy: &mut E, rng: &mut R| -> Result<f64, EnergyError> {
            let mut st = state.clone();
            let probe_kind = match s.kind {
                SamplerKind::Hmc { .. } | SamplerKind::Nuts { .. } => SamplerKind::Hmc { steps: 1 },
                k => k,
            };
            let p = Self {
                kind: probe_kind,
                ..s.clone()
            };
            let info = p.step(energy, &mut st, beta, rng)?;
            Ok(if info.accept_stat.is_finite() {
                info.accept_stat
            } else {
                0.0
            })
        };
        let a0 = probe(self, energy, rng)?;
        let up = a0 > 0.5;
        for _ in 0..50 {
            let next = if up {
                self.step_size * 2.0
            } else {
                self.step_size / 2.0
            };
            let old = self.step_size;
            self.step_size = next;
            let a = probe(self, energy, rng)?;
            if (up && a < 0.5) || (!up && a > 0.5) {
                if up {
                    self.step_size = old;
                }
                break;
            }
        }
        Ok(self.step_size)
    }
}

#[cfg(test)]
mod tests;
