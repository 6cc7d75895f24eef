//! Random-walk Metropolis and MALA.
//!
//! - RWM: propose `x' = x + ε ξ`, `ξ ~ N(0, Σ)`; accept with `min(1, e^{−β(E′−E)})`. It evaluates
//!   energies only, so it runs on any [`Energy`].
//! - MALA: propose `x' = x − (ε²/2) Σ β∇E(x) + ε ξ` and accept with the Metropolis–Hastings
//!   ratio including the asymmetric proposal densities.
//!
//! # References
//! - Metropolis, Rosenbluth, Rosenbluth, Teller & Teller (1953), "Equation of state calculations
//!   by fast computing machines", *J. Chem. Phys.* 21.
//! - Roberts, G. O. & Tweedie, R. L. (1996), "Exponential convergence of Langevin distributions
//!   and their discrete approximations", *Bernoulli* 2.

use super::{gradient_kernel_basics, Buffers, State, StepInfo, TunedKernel, Tuning};
use crate::energy::{eval, eval_grad, Energy, EnergyError, Gradient};
use crate::kernels::Kernel;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The step reported when the proposal's energy was not finite: rejected, divergent.
fn rejected(t: &Tuning, state: &State, beta: f64) -> StepInfo {
    StepInfo {
        accepted: false,
        accept_stat: 0.0,
        energy: state.energy,
        hamiltonian: beta * state.energy,
        energy_error: f64::INFINITY,
        divergent: true,
        tree_depth: 0,
        n_evals: 1,
        step_size: t.step_size,
    }
}

/// Proposal buffers.
#[derive(Debug, Clone, Default)]
struct Work {
    xi: Vec<f64>,
    prop: Vec<f64>,
    drift: Vec<f64>,
    drift1: Vec<f64>,
    g1: Vec<f64>,
    diff: Vec<f64>,
    scratch: Vec<f64>,
}

impl Work {
    fn size(&mut self, d: usize) {
        for v in [
            &mut self.xi,
            &mut self.prop,
            &mut self.drift,
            &mut self.drift1,
            &mut self.g1,
            &mut self.diff,
        ] {
            v.resize(d, 0.0);
        }
    }
}

/// Random-walk Metropolis with Gaussian proposals of covariance `ε² Σ`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rwm {
    /// Step size and metric.
    pub tuning: Tuning,
    #[serde(skip)]
    work: Buffers<Work>,
}

impl Rwm {
    /// Identity metric in `dim` dimensions, step size `step_size`.
    pub fn new(dim: usize, step_size: f64) -> Self {
        Self::with_tuning(Tuning::new(dim, step_size))
    }
    /// A kernel with the given tuning.
    pub fn with_tuning(tuning: Tuning) -> Self {
        Self {
            tuning,
            work: Buffers::default(),
        }
    }
}

impl<T: Energy + ?Sized> Kernel<T, State> for Rwm {
    type Stats = StepInfo;
    fn step<R: Rng + ?Sized>(
        &mut self,
        target: &mut T,
        state: &mut State,
        beta: f64,
        rng: &mut R,
    ) -> Result<StepInfo, EnergyError> {
        let t = &self.tuning;
        let w = &mut self.work.0;
        w.size(state.x.len());
        t.metric.sample_noise(rng, &mut w.xi, &mut w.scratch);
        for ((p, x), z) in w.prop.iter_mut().zip(&state.x).zip(&w.xi) {
            *p = x + t.step_size * z;
        }
        let e1 = match eval(target, &w.prop) {
            Ok(v) => v,
            Err(err) if err.is_recoverable() => return Ok(rejected(t, state, beta)),
            Err(err) => return Err(err),
        };
        let delta = beta * (e1 - state.energy);
        let a = (-delta).exp().min(1.0);
        let accepted = rng.random::<f64>() < a;
        if accepted {
            std::mem::swap(&mut state.x, &mut w.prop);
            state.energy = e1;
            // RWM keeps no gradient: a stale one must not survive a move.
            state.grad.clear();
        }
        Ok(StepInfo {
            accepted,
            accept_stat: a,
            energy: state.energy,
            hamiltonian: beta * state.energy,
            energy_error: delta.abs(),
            divergent: false,
            tree_depth: 0,
            n_evals: 1,
            step_size: t.step_size,
        })
    }
}

impl<T: Energy + ?Sized> TunedKernel<T> for Rwm {
    fn tuning(&self) -> &Tuning {
        &self.tuning
    }
    fn tuning_mut(&mut self) -> &mut Tuning {
        &mut self.tuning
    }
    fn uses_gradient(&self) -> bool {
        false
    }
    fn default_target_accept(&self) -> f64 {
        0.234
    }
    fn name(&self) -> &'static str {
        "rwm"
    }
    fn state_at(&self, target: &mut T, x: Vec<f64>) -> Result<State, EnergyError> {
        State::without_gradient(target, x)
    }
    fn refresh(&self, target: &mut T, state: &mut State) -> Result<(), EnergyError> {
        state.energy = eval(target, &state.x)?;
        state.grad.clear();
        Ok(())
    }
}

/// The Metropolis-adjusted Langevin algorithm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mala {
    /// Step size and metric.
    pub tuning: Tuning,
    #[serde(skip)]
    work: Buffers<Work>,
}

impl Mala {
    /// Identity metric in `dim` dimensions, step size `step_size`.
    pub fn new(dim: usize, step_size: f64) -> Self {
        Self::with_tuning(Tuning::new(dim, step_size))
    }
    /// A kernel with the given tuning.
    pub fn with_tuning(tuning: Tuning) -> Self {
        Self {
            tuning,
            work: Buffers::default(),
        }
    }
}

impl<T: Gradient + ?Sized> Kernel<T, State> for Mala {
    type Stats = StepInfo;
    fn step<R: Rng + ?Sized>(
        &mut self,
        target: &mut T,
        state: &mut State,
        beta: f64,
        rng: &mut R,
    ) -> Result<StepInfo, EnergyError> {
        let t = &self.tuning;
        let w = &mut self.work.0;
        let d = state.x.len();
        w.size(d);
        let h = t.step_size;
        let c = 0.5 * h * h * beta;
        t.metric.velocity(&state.grad, &mut w.drift);
        t.metric.sample_noise(rng, &mut w.xi, &mut w.scratch);
        for i in 0..d {
            w.prop[i] = state.x[i] - c * w.drift[i] + h * w.xi[i];
        }
        let e1 = match eval_grad(target, &w.prop, &mut w.g1) {
            Ok(v) => v,
            Err(err) if err.is_recoverable() => return Ok(rejected(t, state, beta)),
            Err(err) => return Err(err),
        };
        // log q(x | x') − log q(x' | x), both Gaussian with covariance h² Σ.
        t.metric.velocity(&w.g1, &mut w.drift1);
        for i in 0..d {
            w.diff[i] = state.x[i] - (w.prop[i] - c * w.drift1[i]);
        }
        let back = t.metric.inv_quad(&w.diff, &mut w.scratch);
        for i in 0..d {
            w.diff[i] = w.prop[i] - (state.x[i] - c * w.drift[i]);
        }
        let fwd = t.metric.inv_quad(&w.diff, &mut w.scratch);
        let log_q = -(back - fwd) / (2.0 * h * h);
        let delta = beta * (e1 - state.energy);
        let log_a = -delta + log_q;
        let a = if log_a.is_nan() {
            0.0
        } else {
            log_a.exp().min(1.0)
        };
        let accepted = rng.random::<f64>() < a;
        if accepted {
            std::mem::swap(&mut state.x, &mut w.prop);
            std::mem::swap(&mut state.grad, &mut w.g1);
            state.energy = e1;
        }
        Ok(StepInfo {
            accepted,
            accept_stat: a,
            energy: state.energy,
            hamiltonian: beta * state.energy,
            energy_error: delta.abs(),
            divergent: false,
            tree_depth: 0,
            n_evals: 1,
            step_size: t.step_size,
        })
    }
}

impl<T: Gradient + ?Sized> TunedKernel<T> for Mala {
    gradient_kernel_basics!();
    fn default_target_accept(&self) -> f64 {
        0.574
    }
    fn name(&self) -> &'static str {
        "mala"
    }
}
