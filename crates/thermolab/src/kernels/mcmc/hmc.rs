//! Static Hamiltonian Monte Carlo and the leapfrog integrator shared with NUTS.
//!
//! With potential `U = βE`, momentum `p ~ N(0, Σ⁻¹)` and `H = U + ½ pᵀΣp`, one leapfrog step of
//! size ε is `p ← p − (ε/2)∇U; x ← x + ε Σp; p ← p − (ε/2)∇U`.
//!
//! # References
//! - Duane, Kennedy, Pendleton & Roweth (1987), "Hybrid Monte Carlo", *Phys. Lett. B* 195.
//! - Neal, R. M. (2011), "MCMC using Hamiltonian dynamics", *Handbook of MCMC*.

use super::{Metric, Sampler, State, StepInfo};
use crate::energy::{eval_grad, EnergyError, Gradient};
use rand::Rng;

/// A phase-space point: position, momentum, velocity `Σp`, energy and gradient.
#[derive(Debug, Clone)]
pub(crate) struct Point {
    pub x: Vec<f64>,
    pub p: Vec<f64>,
    pub v: Vec<f64>,
    pub energy: f64,
    pub grad: Vec<f64>,
}

impl Point {
    /// `H = βE + ½ p·v`.
    pub fn hamiltonian(&self, beta: f64) -> f64 {
        beta * self.energy + 0.5 * crate::linalg::dot4(&self.p, &self.v)
    }
}

/// One leapfrog step of signed size `eps` from `pt`, in place. A recoverable energy error
/// returns `Ok(false)` (the caller treats it as a divergence).
pub(crate) fn leapfrog<E: Gradient + ?Sized>(
    energy: &mut E,
    metric: &Metric,
    pt: &mut Point,
    eps: f64,
    beta: f64,
) -> Result<bool, EnergyError> {
    let half = 0.5 * eps * beta;
    let Point { x, p, v, grad, .. } = pt;
    if let Metric::Diag { inv_mass } = metric {
        // One fused pass (the same arithmetic as the general branch below).
        let d = x.len();
        let (p, v, g, m) = (&mut p[..d], &mut v[..d], &grad[..d], &inv_mass[..d]);
        for i in 0..d {
            p[i] -= half * g[i];
            v[i] = p[i] * m[i];
            x[i] += eps * v[i];
        }
    } else {
        for (p, g) in p.iter_mut().zip(grad.iter()) {
            *p -= half * g;
        }
        metric.velocity(p, v);
        for (x, v) in x.iter_mut().zip(v.iter()) {
            *x += eps * v;
        }
    }
    match eval_grad(energy, x, grad) {
        Ok(e) => pt.energy = e,
        Err(err) if err.is_recoverable() => return Ok(false),
        Err(err) => return Err(err),
    }
    if let Metric::Diag { inv_mass } = metric {
        let d = pt.x.len();
        let (p, v, g, m) = (
            &mut pt.p[..d],
            &mut pt.v[..d],
            &pt.grad[..d],
            &inv_mass[..d],
        );
        for i in 0..d {
            p[i] -= half * g[i];
            v[i] = p[i] * m[i];
        }
    } else {
        for (p, g) in pt.p.iter_mut().zip(&pt.grad) {
            *p -= half * g;
        }
        metric.velocity(&pt.p, &mut pt.v);
    }
    Ok(true)
}

/// A fresh phase-space point at `state` with momentum drawn from the metric.
pub(crate) fn start<R: Rng + ?Sized>(metric: &Metric, state: &State, rng: &mut R) -> Point {
    let d = state.x.len();
    let mut p = vec![0.0; d];
    metric.sample_momentum(rng, &mut p);
    let mut v = vec![0.0; d];
    metric.velocity(&p, &mut v);
    Point {
        x: state.x.clone(),
        p,
        v,
        energy: state.energy,
        grad: state.grad.clone(),
    }
}

/// One static-HMC transition with `steps` leapfrog steps.
pub fn hmc<E: Gradient + ?Sized, R: Rng + ?Sized>(
    s: &Sampler,
    energy: &mut E,
    state: &mut State,
    beta: f64,
    steps: u32,
    rng: &mut R,
) -> Result<StepInfo, EnergyError> {
    let mut pt = start(&s.metric, state, rng);
    let h0 = pt.hamiltonian(beta);
    let mut ok = true;
    let mut n = 0;
    for _ in 0..steps.max(1) {
        n += 1;
        if !leapfrog(energy, &s.metric, &mut pt, s.step_size, beta)? {
            ok = false;
            break;
        }
    }
    let dh = if ok {
        pt.hamiltonian(beta) - h0
    } else {
        f64::INFINITY
    };
    let divergent = !dh.is_finite() || dh > s.max_energy_error;
    let a = if dh.is_finite() {
        (-dh).exp().min(1.0)
    } else {
        0.0
    };
    let accepted = !divergent && rng.random::<f64>() < a;
    if accepted {
        state.x = pt.x;
        state.energy = pt.energy;
        state.grad = pt.grad;
    }
    Ok(StepInfo {
        accepted,
        accept_stat: a,
        energy: state.energy,
        hamiltonian: if accepted { h0 + dh } else { h0 },
        energy_error: dh.abs(),
        divergent,
        tree_depth: 0,
        n_evals: n,
        step_size: s.step_size,
    })
}
