//! Kernels for annealing: the adaptive annealer's own proposals ([`AnnealMove`]), the
//! walkthrough's fixed Gaussian walk ([`GaussianWalk`]), and [`Cooled`], which lets any tuned
//! MCMC kernel (RWM, MALA, HMC, NUTS) follow a falling temperature. The annealer drives any
//! [`AnnealKernel`].
//!
//! [`AnnealMove`] proposes either a single-coordinate move (heavy-tailed Cauchy steps by default,
//! which hop between basins) or a move of all coordinates (Gaussian), reflected into the search
//! box when there is one, and accepts by a named rule at β = 1/T. The scale of each move type is
//! adapted on the log scale towards a target acceptance rate (Robbins–Monro with a constant gain,
//! since the target moves with T), so steps shrink as the system freezes; a fraction of
//! single-coordinate moves keeps the initial (wide) scale so that jumps between distant basins
//! stay possible.
//!
//! # References
//! - Szu & Hartley (1987), "Fast simulated annealing", *Phys. Lett. A* 122 (Cauchy visiting steps).
//! - Robbins & Monro (1951), "A stochastic approximation method", *Ann. Math. Statist.* 22.

use super::mcmc::{find_step_size, State, StepInfo, TunedKernel};
use super::{AcceptanceRule, Kernel, StepDistribution};
use crate::energy::{eval, Energy, EnergyError};
use crate::systems::Bounds;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// A kernel the annealer can drive while the temperature falls.
pub trait AnnealKernel<T: ?Sized>: Kernel<T, State, Stats = StepInfo> {
    /// The state at `x` with what the kernel needs (energy; gradient for gradient kernels).
    fn state_at(&self, target: &mut T, x: Vec<f64>) -> Result<State, EnergyError>;
    /// Called at the start of each restart at the restart's first temperature: back to the
    /// initial scales (or a fresh step-size search).
    fn restart<R: Rng + ?Sized>(
        &mut self,
        target: &mut T,
        state: &State,
        beta: f64,
        rng: &mut R,
    ) -> Result<(), EnergyError>;
    /// Adapts to the step just made.
    fn adapt(&mut self, info: &StepInfo);
}

/// Gain of the Robbins–Monro scale updates (constant: the target moves with the temperature).
const GAIN: f64 = 0.05;

/// The adaptive annealer's proposals (see the module documentation).
#[derive(Debug, Clone)]
pub struct AnnealMove {
    /// Fraction of proposals that move one coordinate (the rest move all).
    pub coordinate_fraction: f64,
    /// Fraction of single-coordinate moves made at the initial scale.
    pub wide_fraction: f64,
    /// Step distribution of single-coordinate moves.
    pub step: StepDistribution,
    /// Acceptance rule.
    pub rule: AcceptanceRule,
    /// Search box (proposals are reflected into it).
    pub bounds: Option<Bounds>,
    /// Acceptance rate the scales adapt towards.
    pub target_acceptance: f64,
    scale0: f64,
    log_scale: [f64; 2],
    limits: (f64, f64),
    /// The scale used by the last step, and which one (`None`: the wide scale).
    last: (f64, Option<usize>),
    prop: Vec<f64>,
}

impl AnnealMove {
    /// Proposals for a `dim`-dimensional problem starting at scale `scale0` (the annealer uses a
    /// tenth of the box width), adapting between `1e-12 · width` and `width`.
    pub fn new(dim: usize, scale0: f64, width: f64) -> Self {
        let mut m = Self {
            coordinate_fraction: 0.9,
            wide_fraction: 0.7,
            step: StepDistribution::Cauchy,
            rule: AcceptanceRule::Metropolis,
            bounds: None,
            target_acceptance: 0.3,
            scale0,
            log_scale: [0.0; 2],
            limits: ((1e-12 * width).ln(), width.ln()),
            last: (scale0, None),
            prop: vec![0.0; dim],
        };
        m.reset(dim);
        m
    }
    fn reset(&mut self, dim: usize) {
        self.log_scale = [self.scale0.ln(), (self.scale0 / (dim as f64).sqrt()).ln()];
    }
    /// A trial move from `x` at the initial scale (one coordinate, or all), for setting T₀.
    pub fn trial<R: Rng + ?Sized>(&mut self, x: &[f64], coord: bool, rng: &mut R) -> &[f64] {
        self.propose(x, coord, self.scale0, rng);
        &self.prop
    }
    /// Writes a proposal from `x` into `self.prop`: one coordinate (`coord`) or all, at `scale`.
    fn propose<R: Rng + ?Sized>(&mut self, x: &[f64], coord: bool, scale: f64, rng: &mut R) {
        self.prop.resize(x.len(), 0.0);
        self.prop.copy_from_slice(x);
        if coord {
            let i = rng.random_range(0..x.len());
            self.prop[i] = x[i] + scale * self.step.sample(rng);
        } else {
            for (p, xi) in self.prop.iter_mut().zip(x) {
                let z: f64 = StandardNormal.sample(rng);
                *p = xi + scale * z;
            }
        }
        if let Some(b) = self.bounds {
            self.prop.iter_mut().for_each(|p| *p = b.reflect(*p));
        }
    }
}

/// The step report of a random-walk move at β: its energy change `de` (`None`: the proposal's
/// energy could not be evaluated, a divergence).
fn walk_info(accepted: bool, energy: f64, beta: f64, de: Option<f64>, scale: f64) -> StepInfo {
    StepInfo {
        accepted,
        accept_stat: f64::from(u8::from(accepted)),
        energy,
        hamiltonian: beta * energy,
        // From a state of infinite energy (a restart that found no finite start) the change
        // is −∞ without being an error.
        energy_error: de.map_or(f64::INFINITY, |d| {
            if d.is_finite() {
                (beta * d).abs()
            } else {
                0.0
            }
        }),
        divergent: de.is_none(),
        tree_depth: 0,
        n_evals: 1,
        step_size: scale,
    }
}

/// Evaluates `prop` and applies `rule` at β; a non-finite current energy accepts any finite
/// proposal. Returns (accepted, ΔE); a recoverable error (a non-finite energy) rejects, with
/// ΔE `None`.
fn metropolis_move<T: Energy + ?Sized, R: Rng + ?Sized>(
    target: &mut T,
    state: &mut State,
    prop: &mut Vec<f64>,
    rule: AcceptanceRule,
    beta: f64,
    rng: &mut R,
) -> Result<(bool, Option<f64>), EnergyError> {
    match eval(target, prop) {
        Ok(en) => {
            let de = en - state.energy;
            let ok = !state.energy.is_finite() || rule.accept(beta * de, rng);
            if ok {
                std::mem::swap(&mut state.x, prop);
                state.energy = en;
                state.grad.clear();
            }
            Ok((ok, Some(de)))
        }
        Err(err) if err.is_recoverable() => Ok((false, None)),
        Err(err) => Err(err),
    }
}

impl<T: Energy + ?Sized> Kernel<T, State> for AnnealMove {
    type Stats = StepInfo;
    fn step<R: Rng + ?Sized>(
        &mut self,
        target: &mut T,
        state: &mut State,
        beta: f64,
        rng: &mut R,
    ) -> Result<StepInfo, EnergyError> {
        let d = state.x.len();
        let coord = d == 1 || rng.random::<f64>() < self.coordinate_fraction;
        let wide = coord && rng.random::<f64>() < self.wide_fraction;
        let which = usize::from(!coord);
        let scale = if wide {
            self.scale0
        } else {
            self.log_scale[which].exp()
        };
        self.last = (scale, (!wide).then_some(which));
        self.propose(&state.x, coord, scale, rng);
        let (ok, de) = metropolis_move(target, state, &mut self.prop, self.rule, beta, rng)?;
        Ok(walk_info(ok, state.energy, beta, de, scale))
    }
}

impl<T: Energy + ?Sized> AnnealKernel<T> for AnnealMove {
    fn state_at(&self, target: &mut T, x: Vec<f64>) -> Result<State, EnergyError> {
        State::without_gradient(target, x)
    }
    fn restart<R: Rng + ?Sized>(
        &mut self,
        _target: &mut T,
        state: &State,
        _beta: f64,
        _rng: &mut R,
    ) -> Result<(), EnergyError> {
        self.reset(state.x.len());
        Ok(())
    }
    fn adapt(&mut self, info: &StepInfo) {
        if let (_, Some(which)) = self.last {
            let hit = f64::from(u8::from(info.accepted));
            self.log_scale[which] = (self.log_scale[which] + GAIN * (hit - self.target_acceptance))
                .clamp(self.limits.0, self.limits.1);
        }
    }
}

/// The seed walkthrough's move: every coordinate perturbed by `N(0, step²)`, Metropolis
/// acceptance (a uniform drawn only for uphill moves), no adaptation.
#[derive(Debug, Clone)]
pub struct GaussianWalk {
    /// Standard deviation of the step on each coordinate.
    pub step: f64,
    prop: Vec<f64>,
}

impl GaussianWalk {
    /// A walk with step `step`.
    pub fn new(step: f64) -> Self {
        Self {
            step,
            prop: Vec::new(),
        }
    }
}

impl<T: Energy + ?Sized> Kernel<T, State> for GaussianWalk {
    type Stats = StepInfo;
    fn step<R: Rng + ?Sized>(
        &mut self,
        target: &mut T,
        state: &mut State,
        beta: f64,
        rng: &mut R,
    ) -> Result<StepInfo, EnergyError> {
        self.prop.resize(state.x.len(), 0.0);
        for (p, xi) in self.prop.iter_mut().zip(&state.x) {
            let z: f64 = StandardNormal.sample(rng);
            *p = xi + self.step * z;
        }
        let rule = AcceptanceRule::Metropolis;
        let (ok, de) = metropolis_move(target, state, &mut self.prop, rule, beta, rng)?;
        Ok(walk_info(ok, state.energy, beta, de, self.step))
    }
}

impl<T: Energy + ?Sized> AnnealKernel<T> for GaussianWalk {
    fn state_at(&self, target: &mut T, x: Vec<f64>) -> Result<State, EnergyError> {
        State::without_gradient(target, x)
    }
    fn restart<R: Rng + ?Sized>(
        &mut self,
        _target: &mut T,
        _state: &State,
        _beta: f64,
        _rng: &mut R,
    ) -> Result<(), EnergyError> {
        Ok(())
    }
    fn adapt(&mut self, _info: &StepInfo) {}
}

/// Any tuned MCMC kernel (RWM, MALA, HMC, NUTS, or a user's) as an annealing kernel: at each
/// restart its step size is searched afresh at the first temperature (Hoffman & Gelman's
/// heuristic), then follows the falling temperature by Robbins–Monro on log ε towards the
/// kernel's target acceptance.
#[derive(Debug, Clone)]
pub struct Cooled<K> {
    /// The kernel.
    pub kernel: K,
    /// Acceptance statistic the step size aims for (the kernel's default unless set).
    pub target_accept: Option<f64>,
}

impl<K> Cooled<K> {
    /// Wraps `kernel`.
    pub fn new(kernel: K) -> Self {
        Self {
            kernel,
            target_accept: None,
        }
    }
}

impl<T: ?Sized, K: Kernel<T, State, Stats = StepInfo>> Kernel<T, State> for Cooled<K> {
    type Stats = StepInfo;
    fn step<R: Rng + ?Sized>(
        &mut self,
        target: &mut T,
        state: &mut State,
        beta: f64,
        rng: &mut R,
    ) -> Result<StepInfo, EnergyError> {
        self.kernel.step(target, state, beta, rng)
    }
}

impl<T: ?Sized, K: TunedKernel<T>> AnnealKernel<T> for Cooled<K> {
    fn state_at(&self, target: &mut T, x: Vec<f64>) -> Result<State, EnergyError> {
        self.kernel.state_at(target, x)
    }
    fn restart<R: Rng + ?Sized>(
        &mut self,
        target: &mut T,
        state: &State,
        beta: f64,
        rng: &mut R,
    ) -> Result<(), EnergyError> {
        find_step_size(&mut self.kernel, target, state, beta, rng)?;
        Ok(())
    }
    fn adapt(&mut self, info: &StepInfo) {
        let target = self
            .target_accept
            .unwrap_or_else(|| self.kernel.default_target_accept());
        let a = if info.accept_stat.is_finite() {
            info.accept_stat
        } else {
            0.0
        };
        let t = self.kernel.tuning_mut();
        t.step_size = (t.step_size.ln() + GAIN * (a - target))
            .exp()
            .clamp(1e-300, 1e300);
    }
}
