//! The No-U-Turn Sampler with multinomial sampling along the trajectory, biased progressive
//! sampling between doublings, and the generalised no-U-turn criterion (with the extra checks
//! across merged subtrees).
//!
//! The trajectory doubles in a random direction until the criterion
//! `p♯₋ · ρ > 0 and p♯₊ · ρ > 0` (ρ the sum of momenta, p♯ = Σp at the two ends) fails anywhere,
//! a leapfrog step diverges (|ΔH| > `max_energy_error` or a non-finite energy), or the maximum
//! depth is reached. Within a subtree points are drawn in proportion to `e^{−H}`; between the old
//! tree and a new subtree the new subtree is preferred (biased progressive sampling).
//!
//! # References
//! - Hoffman, M. D. & Gelman, A. (2014), "The No-U-Turn Sampler", *JMLR* 15.
//! - Betancourt, M. (2017), "A conceptual introduction to Hamiltonian Monte Carlo", arXiv:1701.02434.

use super::hmc::{leapfrog, start, Point};
use super::{Sampler, State, StepInfo};
use crate::energy::{EnergyError, Gradient};
use rand::Rng;
use std::rc::Rc;

/// A finished subtree. Points are shared (`Rc`), so a leaf is one allocation of a point and
/// merging subtrees allocates nothing.
struct Sub {
    /// Point nearest the existing trajectory, and farthest from it.
    near: Rc<Point>,
    far: Rc<Point>,
    /// Multinomial proposal of the subtree and its Hamiltonian.
    prop: Rc<Point>,
    prop_h: f64,
    /// `log Σ e^{−(H − H₀)}` over the subtree's points.
    log_w: f64,
    /// Sum of the subtree's momenta.
    rho: Vec<f64>,
}

/// Statistics gathered over every leaf built, valid or not.
#[derive(Default)]
struct Stats {
    sum_accept: f64,
    leaves: u32,
    max_error: f64,
    divergent: bool,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn log_add(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    if m == f64::NEG_INFINITY {
        m
    } else {
        m + ((a - m).exp() + (b - m).exp()).ln()
    }
}

/// No U-turn between two ends with velocities `va`, `vb` over momentum sum `rho`.
fn no_turn(va: &[f64], vb: &[f64], rho: &[f64]) -> bool {
    dot(va, rho) > 0.0 && dot(vb, rho) > 0.0
}

/// `out = a + b`, element-wise, into a reused buffer.
fn sum_into(out: &mut Vec<f64>, a: &[f64], b: &[f64]) {
    out.clear();
    out.extend(a.iter().zip(b).map(|(x, y)| x + y));
}

struct Ctx<'a, E: ?Sized, R: ?Sized> {
    s: &'a Sampler,
    energy: &'a mut E,
    rng: &'a mut R,
    beta: f64,
    h0: f64,
    stats: Stats,
    /// Scratch for the momentum sums of the extra no-U-turn checks.
    ext: Vec<f64>,
}

impl<E: Gradient + ?Sized, R: Rng + ?Sized> Ctx<'_, E, R> {
    /// Builds a subtree of 2^depth leaves from `edge` in direction `dir` (+1 or −1); `None` when
    /// it diverged or turned inside.
    fn build(&mut self, edge: &Point, dir: f64, depth: u32) -> Result<Option<Sub>, EnergyError> {
        if depth == 0 {
            let mut pt = edge.clone();
            let ok = leapfrog(
                self.energy,
                &self.s.metric,
                &mut pt,
                dir * self.s.step_size,
                self.beta,
            )?;
            self.stats.leaves += 1;
            let dh = if ok {
                pt.hamiltonian(self.beta) - self.h0
            } else {
                f64::INFINITY
            };
            if !dh.is_finite() || dh > self.s.max_energy_error {
                self.stats.divergent = true;
                self.stats.max_error = f64::INFINITY;
                return Ok(None);
            }
            self.stats.max_error = self.stats.max_error.max(dh.abs());
            self.stats.sum_accept += (-dh).exp().min(1.0);
            let rho = pt.p.clone();
            let pt = Rc::new(pt);
            return Ok(Some(Sub {
                near: pt.clone(),
                far: pt.clone(),
                prop: pt,
                prop_h: self.h0 + dh,
                log_w: -dh,
                rho,
            }));
        }
        let Some(a) = self.build(edge, dir, depth - 1)? else {
            return Ok(None);
        };
        let Some(b) = self.build(&a.far, dir, depth - 1)? else {
            return Ok(None);
        };
        let log_w = log_add(a.log_w, b.log_w);
        let take_b = self.rng.random::<f64>() < (b.log_w - log_w).exp();
        // The subtree's own criterion, and the extra checks across the two halves.
        sum_into(&mut self.ext, &a.rho, &b.near.p);
        let ok1 = no_turn(&a.near.v, &b.near.v, &self.ext);
        sum_into(&mut self.ext, &a.far.p, &b.rho);
        let ok2 = no_turn(&a.far.v, &b.far.v, &self.ext);
        let mut rho = a.rho;
        for (x, y) in rho.iter_mut().zip(&b.rho) {
            *x += y;
        }
        if !no_turn(&a.near.v, &b.far.v, &rho) || !ok1 || !ok2 {
            return Ok(None);
        }
        let (prop, prop_h) = if take_b {
            (b.prop, b.prop_h)
        } else {
            (a.prop, a.prop_h)
        };
        Ok(Some(Sub {
            near: a.near,
            far: b.far,
            prop,
            prop_h,
            log_w,
            rho,
        }))
    }
}

/// One NUTS transition.
pub fn nuts<E: Gradient + ?Sized, R: Rng + ?Sized>(
    s: &Sampler,
    energy: &mut E,
    state: &mut State,
    beta: f64,
    max_depth: u32,
    rng: &mut R,
) -> Result<StepInfo, EnergyError> {
    let init = start(&s.metric, state, rng);
    let h0 = init.hamiltonian(beta);
    let mut ctx = Ctx {
        s,
        energy,
        rng,
        beta,
        h0,
        stats: Stats::default(),
        ext: Vec::with_capacity(init.p.len()),
    };
    // The trajectory: its two ends (in time order), momentum sum, total weight.
    let mut rho = init.p.clone();
    let init = Rc::new(init);
    let (mut left, mut right) = (init.clone(), init);
    let mut log_w = 0.0;
    let mut prop: Option<(Rc<Point>, f64)> = None;
    let mut depth = 0;
    while depth < max_depth {
        let forward = ctx.rng.random::<bool>();
        let dir = if forward { 1.0 } else { -1.0 };
        let edge = if forward { right.clone() } else { left.clone() };
        let Some(sub) = ctx.build(&edge, dir, depth)? else {
            break;
        };
        depth += 1;
        // Biased progressive sampling: move to the new subtree with probability min(1, w_new/w_old).
        if ctx.rng.random::<f64>() < (sub.log_w - log_w).exp() {
            prop = Some((sub.prop.clone(), sub.prop_h));
        }
        log_w = log_add(log_w, sub.log_w);
        // Extra checks between the old tree and the new subtree, oriented in time.
        let old_far = if forward { &left } else { &right };
        sum_into(&mut ctx.ext, &rho, &sub.near.p);
        let ok1 = no_turn(&old_far.v, &sub.near.v, &ctx.ext);
        sum_into(&mut ctx.ext, &edge.p, &sub.rho);
        let ok2 = no_turn(&edge.v, &sub.far.v, &ctx.ext);
        let turned = !ok1 || !ok2;
        if forward {
            right = sub.far;
        } else {
            left = sub.far;
        }
        for (x, y) in rho.iter_mut().zip(&sub.rho) {
            *x += y;
        }
        if turned || !no_turn(&left.v, &right.v, &rho) {
            break;
        }
    }
    let st = ctx.stats;
    let accepted = prop.is_some();
    let mut hamiltonian = h0;
    if let Some((p, h)) = prop {
        state.x.clone_from(&p.x);
        state.energy = p.energy;
        state.grad.clone_from(&p.grad);
        hamiltonian = h;
    }
    Ok(StepInfo {
        accepted,
        accept_stat: if st.leaves > 0 {
            st.sum_accept / st.leaves as f64
        } else {
            0.0
        },
        energy: state.energy,
        hamiltonian,
        energy_error: st.max_error,
        divergent: st.divergent,
        tree_depth: depth,
        n_evals: st.leaves,
        step_size: s.step_size,
    })
}
