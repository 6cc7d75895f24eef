//! Random-walk and gradient-based MCMC kernels for continuous energies at inverse temperature β:
//! [`Rwm`] (random-walk Metropolis), [`Mala`], [`Hmc`] (static leapfrog) and [`Nuts`], sharing one
//! [`Tuning`] (step size, [`Metric`], divergence threshold) and one per-step [`StepInfo`].
//!
//! The target is `p_β(x) ∝ exp(−β E(x))`. A NaN or infinite energy anywhere in a proposal or a
//! trajectory is a rejection (and, for HMC/NUTS, a divergence): the chain keeps its state.
//! Each kernel keeps its working buffers (proposals, trajectory points, momentum sums), so a
//! transition allocates nothing once they have their size.
//!
//! [`SamplerKind`] names a kernel in settings and on the command line; [`McmcKernel`] is the
//! kernel chosen at run time from it. Drivers are generic over [`TunedKernel`], so a user's own
//! continuous kernel runs in them too.

mod hmc;
mod metric;
mod nuts;
mod simple;

pub use hmc::Hmc;
pub use metric::Metric;
pub use nuts::Nuts;
pub use simple::{Mala, Rwm};

use super::Kernel;
use crate::energy::{eval, eval_grad, Energy, EnergyError, Gradient};
use crate::settings::SettingsError;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// A chain's position with its (untempered) energy and, for gradient kernels, its gradient.
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
    /// Evaluates energy and gradient at `x` (non-finite values are recoverable errors).
    pub fn new<E: Gradient + ?Sized>(energy: &mut E, x: Vec<f64>) -> Result<Self, EnergyError> {
        crate::energy::check_dim(energy.dim(), &x)?;
        let mut grad = vec![0.0; x.len()];
        let e = eval_grad(energy, &x, &mut grad)?;
        Ok(Self { x, energy: e, grad })
    }
    /// Evaluates the energy alone at `x` (for kernels that need no gradient).
    pub fn without_gradient<E: Energy + ?Sized>(
        energy: &mut E,
        x: Vec<f64>,
    ) -> Result<Self, EnergyError> {
        crate::energy::check_dim(energy.dim(), &x)?;
        let e = eval(energy, &x)?;
        Ok(Self {
            x,
            energy: e,
            grad: Vec::new(),
        })
    }
}

/// Re-evaluates `state` at its own position: the energy, and the gradient when `gradient`.
pub(crate) fn refresh_state<E: Gradient + ?Sized>(
    target: &mut E,
    state: &mut State,
    gradient: bool,
) -> Result<(), EnergyError> {
    if gradient {
        state.grad.resize(state.x.len(), 0.0);
        state.energy = eval_grad(target, &state.x, &mut state.grad)?;
    } else {
        state.energy = eval(target, &state.x)?;
    }
    Ok(())
}

/// A kernel's working buffers: not part of its identity (any two compare equal), not saved.
#[derive(Debug, Clone, Default)]
pub(crate) struct Buffers<B>(pub B);

impl<B> PartialEq for Buffers<B> {
    fn eq(&self, _other: &Self) -> bool {
        true
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
    /// Largest |ΔH| seen along the trajectory (|βΔE| of the proposal for RWM/MALA; ∞ for a
    /// non-finite energy).
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

/// What drivers tune in a continuous kernel: step size ε, metric Σ and the divergence threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tuning {
    /// Step size ε.
    pub step_size: f64,
    /// Inverse mass matrix / proposal covariance.
    pub metric: Metric,
    /// Energy error above which a trajectory counts as divergent (Stan uses 1000).
    pub max_energy_error: f64,
}

impl Tuning {
    /// Identity metric of dimension `dim` and step size `step_size`.
    pub fn new(dim: usize, step_size: f64) -> Self {
        Self {
            step_size,
            metric: Metric::identity(dim),
            max_energy_error: 1000.0,
        }
    }
}

/// A continuous kernel whose step size and metric drivers tune during warm-up, and which knows
/// what it needs of a state (an energy; a gradient for gradient kernels).
pub trait TunedKernel<T: ?Sized>: Kernel<T, State, Stats = StepInfo> {
    /// The tuning.
    fn tuning(&self) -> &Tuning;
    /// The tuning, to change.
    fn tuning_mut(&mut self) -> &mut Tuning;
    /// Whether the kernel evaluates gradients (false: the state needs no gradient).
    fn uses_gradient(&self) -> bool;
    /// The acceptance statistic step-size adaptation aims for by default.
    fn default_target_accept(&self) -> f64;
    /// The kernel's name (`rwm`, `mala`, `hmc`, `nuts` for the built-in ones).
    fn name(&self) -> &'static str;
    /// The acceptance statistic of one short probe move from `state` (left unchanged), for the
    /// initial step-size search. Trajectory kernels probe with one leapfrog step.
    fn probe<R: Rng + ?Sized>(
        &mut self,
        target: &mut T,
        state: &State,
        beta: f64,
        rng: &mut R,
    ) -> Result<f64, EnergyError> {
        let mut st = state.clone();
        let info = self.step(target, &mut st, beta, rng)?;
        Ok(if info.accept_stat.is_finite() {
            info.accept_stat
        } else {
            0.0
        })
    }
    /// The state at `x` with what this kernel needs.
    fn state_at(&self, target: &mut T, x: Vec<f64>) -> Result<State, EnergyError>;
    /// Re-evaluates `state` in place (its target changed, e.g. a tempering rung moved).
    fn refresh(&self, target: &mut T, state: &mut State) -> Result<(), EnergyError>;
}

/// The part of [`TunedKernel`] every built-in gradient kernel shares: its `tuning` field,
/// states with gradients.
macro_rules! gradient_kernel_basics {
    () => {
        fn tuning(&self) -> &Tuning {
            &self.tuning
        }
        fn tuning_mut(&mut self) -> &mut Tuning {
            &mut self.tuning
        }
        fn uses_gradient(&self) -> bool {
            true
        }
        fn state_at(&self, target: &mut T, x: Vec<f64>) -> Result<State, EnergyError> {
            State::new(target, x)
        }
        fn refresh(&self, target: &mut T, state: &mut State) -> Result<(), EnergyError> {
            $crate::kernels::mcmc::refresh_state(target, state, true)
        }
    };
}
pub(crate) use gradient_kernel_basics;

/// The initial step size (Hoffman & Gelman 2014, algorithm 4): double or halve ε until the
/// acceptance statistic of one probe from `state` crosses ½. The state is unchanged.
pub fn find_step_size<T, K, R>(
    kernel: &mut K,
    target: &mut T,
    state: &State,
    beta: f64,
    rng: &mut R,
) -> Result<f64, EnergyError>
where
    T: ?Sized,
    K: TunedKernel<T> + ?Sized,
    R: Rng + ?Sized,
{
    let a0 = kernel.probe(target, state, beta, rng)?;
    let up = a0 > 0.5;
    for _ in 0..50 {
        let old = kernel.tuning().step_size;
        kernel.tuning_mut().step_size = if up { old * 2.0 } else { old / 2.0 };
        let a = kernel.probe(target, state, beta, rng)?;
        if (up && a < 0.5) || (!up && a > 0.5) {
            if up {
                kernel.tuning_mut().step_size = old;
            }
            break;
        }
    }
    Ok(kernel.tuning().step_size)
}

/// Which built-in kernel (the serialisable name used in settings and on the command line).
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
    /// The one parser of kernel names: `rwm` (or `metropolis`), `mala`, `hmc` with `steps`
    /// leapfrog steps, `nuts` with maximum depth `max_depth`.
    pub fn from_name(name: &str, steps: u32, max_depth: u32) -> Result<Self, SettingsError> {
        let kind = match name {
            "rwm" | "metropolis" => Self::Rwm,
            "mala" => Self::Mala,
            "hmc" => Self::Hmc { steps },
            "nuts" => Self::Nuts { max_depth },
            other => {
                return Err(SettingsError::new(
                    "sampler",
                    format!("unknown sampler `{other}` (rwm, mala, hmc, nuts)"),
                ))
            }
        };
        kind.validate()?;
        Ok(kind)
    }
    /// Parses a name with the default options (HMC 20 steps, NUTS depth 10).
    pub fn parse(name: &str) -> Option<Self> {
        Self::from_name(name, 20, 10).ok()
    }
    /// Checks the kernel's own options.
    pub fn validate(&self) -> Result<(), SettingsError> {
        match *self {
            Self::Hmc { steps: 0 } => Err(SettingsError::new("steps", "must be at least 1")),
            Self::Nuts { max_depth } if !(1..=20).contains(&max_depth) => Err(SettingsError::new(
                "max_depth",
                format!("must lie in 1..=20, got {max_depth}"),
            )),
            _ => Ok(()),
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
    /// The kernel, with an identity metric and step size `step_size`, for targets of dimension
    /// `dim`.
    pub fn build(&self, dim: usize, step_size: f64) -> McmcKernel {
        let t = Tuning::new(dim, step_size);
        match *self {
            Self::Rwm => McmcKernel::Rwm(Rwm::with_tuning(t)),
            Self::Mala => McmcKernel::Mala(Mala::with_tuning(t)),
            Self::Hmc { steps } => McmcKernel::Hmc(Hmc::with_tuning(t, steps)),
            Self::Nuts { max_depth } => McmcKernel::Nuts(Nuts::with_tuning(t, max_depth)),
        }
    }
}

/// A built-in continuous kernel chosen at run time (from a [`SamplerKind`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum McmcKernel {
    /// Random-walk Metropolis.
    Rwm(Rwm),
    /// MALA.
    Mala(Mala),
    /// Static HMC.
    Hmc(Hmc),
    /// NUTS.
    Nuts(Nuts),
}

impl McmcKernel {
    /// The kernel's tuning (step size, metric).
    pub fn tuning(&self) -> &Tuning {
        match self {
            Self::Rwm(k) => &k.tuning,
            Self::Mala(k) => &k.tuning,
            Self::Hmc(k) => &k.tuning,
            Self::Nuts(k) => &k.tuning,
        }
    }
    /// The kernel's kind.
    pub fn kind(&self) -> SamplerKind {
        match self {
            Self::Rwm(_) => SamplerKind::Rwm,
            Self::Mala(_) => SamplerKind::Mala,
            Self::Hmc(k) => SamplerKind::Hmc { steps: k.steps },
            Self::Nuts(k) => SamplerKind::Nuts {
                max_depth: k.max_depth,
            },
        }
    }
}

impl<T: Gradient + ?Sized> Kernel<T, State> for McmcKernel {
    type Stats = StepInfo;
    fn step<R: Rng + ?Sized>(
        &mut self,
        target: &mut T,
        state: &mut State,
        beta: f64,
        rng: &mut R,
    ) -> Result<StepInfo, EnergyError> {
        match self {
            Self::Rwm(k) => k.step(target, state, beta, rng),
            Self::Mala(k) => k.step(target, state, beta, rng),
            Self::Hmc(k) => k.step(target, state, beta, rng),
            Self::Nuts(k) => k.step(target, state, beta, rng),
        }
    }
}

impl<T: Gradient + ?Sized> TunedKernel<T> for McmcKernel {
    fn tuning(&self) -> &Tuning {
        McmcKernel::tuning(self)
    }
    fn tuning_mut(&mut self) -> &mut Tuning {
        match self {
            Self::Rwm(k) => &mut k.tuning,
            Self::Mala(k) => &mut k.tuning,
            Self::Hmc(k) => &mut k.tuning,
            Self::Nuts(k) => &mut k.tuning,
        }
    }
    fn uses_gradient(&self) -> bool {
        self.kind().uses_gradient()
    }
    fn default_target_accept(&self) -> f64 {
        self.kind().default_target_accept()
    }
    fn name(&self) -> &'static str {
        self.kind().name()
    }
    fn state_at(&self, target: &mut T, x: Vec<f64>) -> Result<State, EnergyError> {
        if self.kind().uses_gradient() {
            State::new(target, x)
        } else {
            State::without_gradient(target, x)
        }
    }
    fn refresh(&self, target: &mut T, state: &mut State) -> Result<(), EnergyError> {
        refresh_state(target, state, self.kind().uses_gradient())
    }
    fn probe<R: Rng + ?Sized>(
        &mut self,
        target: &mut T,
        state: &State,
        beta: f64,
        rng: &mut R,
    ) -> Result<f64, EnergyError> {
        match self {
            Self::Rwm(k) => TunedKernel::<T>::probe(k, target, state, beta, rng),
            Self::Mala(k) => k.probe(target, state, beta, rng),
            Self::Hmc(k) => k.probe(target, state, beta, rng),
            Self::Nuts(k) => k.probe(target, state, beta, rng),
        }
    }
}

#[cfg(test)]
mod tests;
