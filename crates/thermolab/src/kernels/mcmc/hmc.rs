//! Static Hamiltonian Monte Carlo and the leapfrog integrator shared with NUTS.
//!
//! With potential `U = βE`, momentum `p ~ N(0, Σ⁻¹)` and `H = U + ½ pᵀΣp`, one leapfrog step of
//! size ε is `p ← p − (ε/2)∇U; x ← x + ε Σp; p ← p − (ε/2)∇U`.
//!
//! # References
//! - Duane, Kennedy, Pendleton & Roweth (1987), "Hybrid Monte Carlo", *Phys. Lett. B* 195.
//! - Neal, R. M. (2011), "MCMC using Hamiltonian dynamics", *Handbook of MCMC*.

use super::{gradient_kernel_basics, Buffers, Metric, State, StepInfo, TunedKernel, Tuning};
use crate::energy::{eval_grad, EnergyError, Gradient};
use crate::kernels::Kernel;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// A phase-space point: position, momentum, velocity `Σp`, energy and gradient.
#[derive(Debug, Clone, Default)]
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
    /// Overwrites this point with `state` and a fresh momentum drawn from the metric (buffers
    /// are resized on first use only).
    pub fn start<R: Rng + ?Sized>(&mut self, metric: &Metric, state: &State, rng: &mut R) {
        let d = state.x.len();
        self.x.clear();
        self.x.extend_from_slice(&state.x);
        self.grad.clear();
        self.grad.extend_from_slice(&state.grad);
        self.p.resize(d, 0.0);
        self.v.resize(d, 0.0);
        metric.sample_momentum(rng, &mut self.p);
        metric.velocity(&self.p, &mut self.v);
        self.energy = state.energy;
    }
    /// Copies `other` into this point without allocating (same dimension).
    pub fn copy_from(&mut self, other: &Point) {
        self.x.copy_from_slice(&other.x);
        self.p.copy_from_slice(&other.p);
        self.v.copy_from_slice(&other.v);
        self.grad.copy_from_slice(&other.grad);
        self.energy = other.energy;
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

/// One static-HMC transition with `steps` leapfrog steps through the point `pt`.
pub(crate) fn transition<E: Gradient + ?Sized, R: Rng + ?Sized>(
    t: &Tuning,
    pt: &mut Point,
    energy: &mut E,
    state: &mut State,
    beta: f64,
    steps: u32,
    rng: &mut R,
) -> Result<StepInfo, EnergyError> {
    pt.start(&t.metric, state, rng);
    let h0 = pt.hamiltonian(beta);
    let mut ok = true;
    let mut n = 0;
    for _ in 0..steps.max(1) {
        n += 1;
        if !leapfrog(energy, &t.metric, pt, t.step_size, beta)? {
            ok = false;
            break;
        }
    }
    let dh = if ok {
        pt.hamiltonian(beta) - h0
    } else {
        f64::INFINITY
    };
    let divergent = !dh.is_finite() || dh > t.max_energy_error;
    let a = if dh.is_finite() {
        (-dh).exp().min(1.0)
    } else {
        0.0
    };
    let accepted = !divergent && rng.random::<f64>() < a;
    if accepted {
        std::mem::swap(&mut state.x, &mut pt.x);
        std::mem::swap(&mut state.grad, &mut pt.grad);
        state.energy = pt.energy;
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
        step_size: t.step_size,
    })
}

/// The acceptance statistic of one leapfrog step from `state` (unchanged), for the step-size
/// search of trajectory kernels.
pub(crate) fn probe<E: Gradient + ?Sized, R: Rng + ?Sized>(
    t: &Tuning,
    pt: &mut Point,
    energy: &mut E,
    state: &State,
    beta: f64,
    rng: &mut R,
) -> Result<f64, EnergyError> {
    let mut st = state.clone();
    let info = transition(t, pt, energy, &mut st, beta, 1, rng)?;
    Ok(if info.accept_stat.is_finite() {
        info.accept_stat
    } else {
        0.0
    })
}

/// Hamiltonian Monte Carlo with a fixed number of leapfrog steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hmc {
    /// Step size and metric.
    pub tuning: Tuning,
    /// Leapfrog steps per transition (at least 1).
    pub steps: u32,
    #[serde(skip)]
    point: Buffers<Point>,
}

impl Hmc {
    /// Identity metric in `dim` dimensions, step size `step_size`, `steps` leapfrog steps.
    pub fn new(dim: usize, step_size: f64, steps: u32) -> Self {
        Self::with_tuning(Tuning::new(dim, step_size), steps)
    }
    /// A kernel with the given tuning.
    pub fn with_tuning(tuning: Tuning, steps: u32) -> Self {
        Self {
            tuning,
            steps: steps.max(1),
            point: Buffers::default(),
        }
    }
}

impl<T: Gradient + ?Sized> Kernel<T, State> for Hmc {
    type Stats = StepInfo;
    fn step<R: Rng + ?Sized>(
        &mut self,
        target: &mut T,
        state: &mut State,
        beta: f64,
        rng: &mut R,
    ) -> Result<StepInfo, EnergyError> {
        transition(
            &self.tuning,
            &mut self.point.0,
            target,
            state,
            beta,
            self.steps,
            rng,
        )
    }
}

impl<T: Gradient + ?Sized> TunedKernel<T> for Hmc {
    gradient_kernel_basics!();
    fn default_target_accept(&self) -> f64 {
        0.65
    }
    fn name(&self) -> &'static str {
        "hmc"
    }
    fn probe<R: Rng + ?Sized>(
        &mut self,
        target: &mut T,
        state: &State,
        beta: f64,
        rng: &mut R,
    ) -> Result<f64, EnergyError> {
        probe(&self.tuning, &mut self.point.0, target, state, beta, rng)
    }
}
