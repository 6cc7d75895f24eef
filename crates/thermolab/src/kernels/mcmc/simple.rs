//! Random-walk Metropolis and MALA.
//!
//! - RWM: propose `x' = x + ε ξ`, `ξ ~ N(0, Σ)`; accept with `min(1, e^{−β(E′−E)})`.
//! - MALA: propose `x' = x − (ε²/2) Σ β∇E(x) + ε ξ` and accept with the Metropolis–Hastings
//!   ratio including the asymmetric proposal densities.
//!
//! # References
//! - Roberts, G. O. & Tweedie, R. L. (1996), "Exponential convergence of Langevin distributions
//!   and their discrete approximations", *Bernoulli* 2.

use super::{Sampler, State, StepInfo};
use crate::energy::{eval, eval_grad, EnergyError, Gradient};
use rand::Rng;

fn rejected(s: &Sampler, state: &State, beta: f64, n: u32) -> StepInfo {
    StepInfo {
        accepted: false,
        accept_stat: 0.0,
        energy: state.energy,
        hamiltonian: beta * state.energy,
        energy_error: f64::INFINITY,
        divergent: true,
        tree_depth: 0,
        n_evals: n,
        step_size: s.step_size,
    }
}

/// One random-walk Metropolis step.
pub fn rwm<E: Gradient + ?Sized, R: Rng + ?Sized>(
    s: &Sampler,
    energy: &mut E,
    state: &mut State,
    beta: f64,
    rng: &mut R,
) -> Result<StepInfo, EnergyError> {
    let d = state.x.len();
    let mut xi = vec![0.0; d];
    s.metric.sample_noise(rng, &mut xi);
    let prop: Vec<f64> = state
        .x
        .iter()
        .zip(&xi)
        .map(|(x, z)| x + s.step_size * z)
        .collect();
    let e1 = match eval(energy, &prop) {
        Ok(v) => v,
        Err(err) if err.is_recoverable() => return Ok(rejected(s, state, beta, 1)),
        Err(err) => return Err(err),
    };
    let log_a = -beta * (e1 - state.energy);
    let a = log_a.exp().min(1.0);
    let accepted = rng.random::<f64>() < a;
    if accepted {
        state.x = prop;
        state.energy = e1;
    }
    Ok(StepInfo {
        accepted,
        accept_stat: a,
        energy: state.energy,
        hamiltonian: beta * state.energy,
        energy_error: (beta * (e1 - state.energy)).abs(),
        divergent: false,
        tree_depth: 0,
        n_evals: 1,
        step_size: s.step_size,
    })
}

/// One MALA step.
pub fn mala<E: Gradient + ?Sized, R: Rng + ?Sized>(
    s: &Sampler,
    energy: &mut E,
    state: &mut State,
    beta: f64,
    rng: &mut R,
) -> Result<StepInfo, EnergyError> {
    let d = state.x.len();
    let h = s.step_size;
    let mut drift = vec![0.0; d];
    s.metric.velocity(&state.grad, &mut drift);
    let mut xi = vec![0.0; d];
    s.metric.sample_noise(rng, &mut xi);
    let prop: Vec<f64> = (0..d)
        .map(|i| state.x[i] - 0.5 * h * h * beta * drift[i] + h * xi[i])
        .collect();
    let mut g1 = vec![0.0; d];
    let e1 = match eval_grad(energy, &prop, &mut g1) {
        Ok(v) => v,
        Err(err) if err.is_recoverable() => return Ok(rejected(s, state, beta, 1)),
        Err(err) => return Err(err),
    };
    // log q(x | x') − log q(x' | x), both Gaussian with covariance h² Σ.
    let mut drift1 = vec![0.0; d];
    s.metric.velocity(&g1, &mut drift1);
    let back: Vec<f64> = (0..d)
        .map(|i| state.x[i] - (prop[i] - 0.5 * h * h * beta * drift1[i]))
        .collect();
    let fwd: Vec<f64> = (0..d)
        .map(|i| prop[i] - (state.x[i] - 0.5 * h * h * beta * drift[i]))
        .collect();
    let log_q = -(s.metric.inv_quad(&back) - s.metric.inv_quad(&fwd)) / (2.0 * h * h);
    let log_a = -beta * (e1 - state.energy) + log_q;
    let a = if log_a.is_nan() {
        0.0
    } else {
        log_a.exp().min(1.0)
    };
    let accepted = rng.random::<f64>() < a;
    let err = (beta * (e1 - state.energy)).abs();
    if accepted {
        state.x = prop;
        state.energy = e1;
        state.grad = g1;
    }
    Ok(StepInfo {
        accepted,
        accept_stat: a,
        energy: state.energy,
        hamiltonian: beta * state.energy,
        energy_error: err,
        divergent: false,
        tree_depth: 0,
        n_evals: 1,
        step_size: s.step_size,
    })
}
