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
//! The trajectory's points live in an arena that the kernel keeps between transitions (the
//! state pool of nuts-rs is the model): a transition holds O(depth) points and, once the arena has
//! grown to the deepest tree, allocates nothing.
//!
//! # References
//! - Hoffman, M. D. & Gelman, A. (2014), "The No-U-Turn Sampler", *JMLR* 15.
//! - Betancourt, M. (2017), "A conceptual introduction to Hamiltonian Monte Carlo", arXiv:1701.02434.

use super::hmc::{leapfrog, Point};
use super::{gradient_kernel_basics, Buffers, State, StepInfo, TunedKernel, Tuning};
use crate::energy::{EnergyError, Gradient};
use crate::kernels::Kernel;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// A handle to a point in the [`Arena`].
type Id = usize;

/// The trajectory's points, reference-counted by hand and recycled: a leaf overwrites a free
/// point instead of allocating one, so a transition allocates O(depth) points, not O(2^depth).
#[derive(Debug, Clone, Default)]
struct Arena {
    pts: Vec<Point>,
    refs: Vec<u32>,
    free: Vec<Id>,
    /// Spare momentum-sum buffers.
    rhos: Vec<Vec<f64>>,
    /// Most points live at once in this transition.
    high: usize,
}

impl Arena {
    /// Empties the arena for a new transition, keeping every buffer; makes room for a tree of
    /// depth `max_depth` on first use. Returns the handle of the first point (two references).
    fn reset(&mut self, max_depth: u32, dim: usize) -> Id {
        let want = 3 * max_depth as usize + 4;
        if self.pts.len() < want {
            let blank = Point {
                x: vec![0.0; dim],
                p: vec![0.0; dim],
                v: vec![0.0; dim],
                energy: 0.0,
                grad: vec![0.0; dim],
            };
            self.pts.resize(want, blank);
            self.refs.resize(want, 0);
            self.free.reserve(want);
            while self.rhos.len() < max_depth as usize + 3 {
                self.rhos.push(Vec::with_capacity(dim));
            }
        }
        self.refs.iter_mut().for_each(|r| *r = 0);
        self.free.clear();
        self.free.extend((1..self.pts.len()).rev());
        self.refs[0] = 2;
        self.high = 1;
        0
    }
    /// A copy of point `src`, with one reference.
    fn copy_of(&mut self, src: Id) -> Id {
        let Some(id) = self.free.pop() else {
            self.pts.push(self.pts[src].clone());
            self.refs.push(1);
            self.high = self.pts.len();
            return self.pts.len() - 1;
        };
        self.high = self.high.max(self.pts.len() - self.free.len());
        // `id` is free and `src` is live, so they differ.
        let (a, b) = self.pts.split_at_mut(id.max(src));
        let (dst, from) = if id < src {
            (&mut a[id], &b[0])
        } else {
            (&mut b[0], &a[src])
        };
        dst.copy_from(from);
        self.refs[id] = 1;
        id
    }
    /// Drops one reference to `id`.
    fn release(&mut self, id: Id) {
        self.refs[id] -= 1;
        if self.refs[id] == 0 {
            self.free.push(id);
        }
    }
    /// A momentum-sum buffer holding a copy of point `id`'s momentum.
    fn rho_of(&mut self, id: Id) -> Vec<f64> {
        let mut r = self.rhos.pop().unwrap_or_default();
        r.clear();
        r.extend_from_slice(&self.pts[id].p);
        r
    }
    /// Releases a subtree's points and keeps its buffer.
    fn drop_sub(&mut self, sub: Sub) {
        self.release(sub.near);
        self.release(sub.far);
        self.release(sub.prop);
        self.rhos.push(sub.rho);
    }
}

/// A finished subtree; each of its three point handles holds one reference.
struct Sub {
    /// Point nearest the existing trajectory, and farthest from it.
    near: Id,
    far: Id,
    /// Multinomial proposal of the subtree and its Hamiltonian.
    prop: Id,
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

fn log_add(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    if m == f64::NEG_INFINITY {
        m
    } else {
        m + ((a - m).exp() + (b - m).exp()).ln()
    }
}

/// No U-turn between two ends with velocities `va`, `vb` over the momentum sum `r + q`
/// (summed on the fly; `q = None` for `r` alone). Dot products in four lanes.
fn no_turn(va: &[f64], vb: &[f64], r: &[f64], q: Option<&[f64]>) -> bool {
    let (a, b) = match q {
        Some(q) => dots(va, vb, r, q),
        None => dots(va, vb, r, &[]),
    };
    a > 0.0 && b > 0.0
}

/// `(va·s, vb·s)` for `s = r + q` (`s = r` when `q` is empty), each in four fixed lanes.
#[inline(always)]
fn dots(va: &[f64], vb: &[f64], r: &[f64], q: &[f64]) -> (f64, f64) {
    let with_q = !q.is_empty();
    let (mut a, mut b) = ([0.0f64; 4], [0.0f64; 4]);
    let n = r.len();
    let body = n - n % 4;
    let (va4, vb4, r4) = (&va[..body], &vb[..body], &r[..body]);
    for (k, ((x, y), z)) in va4
        .chunks_exact(4)
        .zip(vb4.chunks_exact(4))
        .zip(r4.chunks_exact(4))
        .enumerate()
    {
        let mut s = [z[0], z[1], z[2], z[3]];
        if with_q {
            let w = &q[4 * k..4 * k + 4];
            for l in 0..4 {
                s[l] += w[l];
            }
        }
        for l in 0..4 {
            a[l] += x[l] * s[l];
            b[l] += y[l] * s[l];
        }
    }
    for i in body..n {
        let s = if with_q { r[i] + q[i] } else { r[i] };
        a[0] += va[i] * s;
        b[0] += vb[i] * s;
    }
    ((a[0] + a[2]) + (a[1] + a[3]), (b[0] + b[2]) + (b[1] + b[3]))
}

struct Ctx<'a, E: ?Sized, R: ?Sized> {
    t: &'a Tuning,
    energy: &'a mut E,
    rng: &'a mut R,
    beta: f64,
    h0: f64,
    stats: Stats,
    arena: &'a mut Arena,
}

impl<E: Gradient + ?Sized, R: Rng + ?Sized> Ctx<'_, E, R> {
    /// Builds a subtree of 2^depth leaves from `edge` in direction `dir` (+1 or −1); `None` when
    /// it diverged or turned inside.
    fn build(&mut self, edge: Id, dir: f64, depth: u32) -> Result<Option<Sub>, EnergyError> {
        if depth == 0 {
            let id = self.arena.copy_of(edge);
            let pt = &mut self.arena.pts[id];
            let ok = leapfrog(
                self.energy,
                &self.t.metric,
                pt,
                dir * self.t.step_size,
                self.beta,
            )?;
            self.stats.leaves += 1;
            let dh = if ok {
                pt.hamiltonian(self.beta) - self.h0
            } else {
                f64::INFINITY
            };
            if !dh.is_finite() || dh > self.t.max_energy_error {
                self.stats.divergent = true;
                self.stats.max_error = f64::INFINITY;
                self.arena.release(id);
                return Ok(None);
            }
            self.stats.max_error = self.stats.max_error.max(dh.abs());
            self.stats.sum_accept += (-dh).exp().min(1.0);
            let rho = self.arena.rho_of(id);
            self.arena.refs[id] = 3;
            return Ok(Some(Sub {
                near: id,
                far: id,
                prop: id,
                prop_h: self.h0 + dh,
                log_w: -dh,
                rho,
            }));
        }
        let Some(a) = self.build(edge, dir, depth - 1)? else {
            return Ok(None);
        };
        let Some(b) = self.build(a.far, dir, depth - 1)? else {
            self.arena.drop_sub(a);
            return Ok(None);
        };
        let log_w = log_add(a.log_w, b.log_w);
        let take_b = self.rng.random::<f64>() < (b.log_w - log_w).exp();
        // The subtree's own criterion, and the extra checks across the two halves.
        let pts = &self.arena.pts;
        let (an, af, bn, bf) = (&pts[a.near], &pts[a.far], &pts[b.near], &pts[b.far]);
        let ok1 = no_turn(&an.v, &bn.v, &a.rho, Some(&bn.p));
        let ok2 = no_turn(&af.v, &bf.v, &b.rho, Some(&af.p));
        let ok = ok1 && ok2 && no_turn(&an.v, &bf.v, &a.rho, Some(&b.rho));
        if !ok {
            self.arena.drop_sub(a);
            self.arena.drop_sub(b);
            return Ok(None);
        }
        let mut rho = a.rho;
        for (x, y) in rho.iter_mut().zip(&b.rho) {
            *x += y;
        }
        self.arena.rhos.push(b.rho);
        self.arena.release(a.far);
        self.arena.release(b.near);
        let (prop, prop_h) = if take_b {
            self.arena.release(a.prop);
            (b.prop, b.prop_h)
        } else {
            self.arena.release(b.prop);
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

/// The No-U-Turn Sampler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nuts {
    /// Step size and metric.
    pub tuning: Tuning,
    /// Maximum tree depth (at most 2^depth leapfrog steps per transition).
    pub max_depth: u32,
    #[serde(skip)]
    arena: Buffers<Arena>,
}

impl Nuts {
    /// Identity metric in `dim` dimensions, step size `step_size`, maximum depth `max_depth`.
    pub fn new(dim: usize, step_size: f64, max_depth: u32) -> Self {
        Self::with_tuning(Tuning::new(dim, step_size), max_depth)
    }
    /// A kernel with the given tuning.
    pub fn with_tuning(tuning: Tuning, max_depth: u32) -> Self {
        Self {
            tuning,
            max_depth,
            arena: Buffers::default(),
        }
    }
    /// Most trajectory points the last transition held at once.
    pub fn points_held(&self) -> usize {
        self.arena.0.high
    }
}

impl<T: Gradient + ?Sized> Kernel<T, State> for Nuts {
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
            &mut self.arena.0,
            target,
            state,
            beta,
            self.max_depth,
            rng,
        )
    }
}

impl<T: Gradient + ?Sized> TunedKernel<T> for Nuts {
    gradient_kernel_basics!();
    fn default_target_accept(&self) -> f64 {
        0.8
    }
    fn name(&self) -> &'static str {
        "nuts"
    }
    fn probe<R: Rng + ?Sized>(
        &mut self,
        target: &mut T,
        state: &State,
        beta: f64,
        rng: &mut R,
    ) -> Result<f64, EnergyError> {
        let arena = &mut self.arena.0;
        arena.reset(self.max_depth, state.x.len());
        super::hmc::probe(&self.tuning, &mut arena.pts[0], target, state, beta, rng)
    }
}

/// One NUTS transition through the points of `arena`.
fn transition<E: Gradient + ?Sized, R: Rng + ?Sized>(
    t: &Tuning,
    arena: &mut Arena,
    energy: &mut E,
    state: &mut State,
    beta: f64,
    max_depth: u32,
    rng: &mut R,
) -> Result<StepInfo, EnergyError> {
    let first = arena.reset(max_depth, state.x.len());
    arena.pts[first].start(&t.metric, state, rng);
    let h0 = arena.pts[first].hamiltonian(beta);
    // The trajectory: its two ends (in time order), momentum sum, total weight.
    let mut rho = arena.rho_of(first);
    let mut ctx = Ctx {
        t,
        energy,
        rng,
        beta,
        h0,
        stats: Stats::default(),
        arena,
    };
    let (mut left, mut right): (Id, Id) = (first, first);
    let mut log_w = 0.0;
    let mut prop: Option<(Id, f64)> = None;
    let mut depth = 0;
    while depth < max_depth {
        let forward = ctx.rng.random::<bool>();
        let dir = if forward { 1.0 } else { -1.0 };
        let edge = if forward { right } else { left };
        let Some(sub) = ctx.build(edge, dir, depth)? else {
            break;
        };
        depth += 1;
        // Biased progressive sampling: move to the new subtree with probability min(1, w_new/w_old).
        if ctx.rng.random::<f64>() < (sub.log_w - log_w).exp() {
            if let Some((old, _)) = prop.replace((sub.prop, sub.prop_h)) {
                ctx.arena.release(old);
            }
        } else {
            ctx.arena.release(sub.prop);
        }
        log_w = log_add(log_w, sub.log_w);
        // Extra checks between the old tree and the new subtree, oriented in time.
        let old_far = if forward { left } else { right };
        let pts = &ctx.arena.pts;
        let (of, e, sn, sf) = (&pts[old_far], &pts[edge], &pts[sub.near], &pts[sub.far]);
        let ok1 = no_turn(&of.v, &sn.v, &rho, Some(&sn.p));
        let ok2 = no_turn(&e.v, &sf.v, &sub.rho, Some(&e.p));
        let turned = !ok1 || !ok2;
        ctx.arena.release(sub.near);
        ctx.arena.release(edge);
        if forward {
            right = sub.far;
        } else {
            left = sub.far;
        }
        for (x, y) in rho.iter_mut().zip(&sub.rho) {
            *x += y;
        }
        ctx.arena.rhos.push(sub.rho);
        let pts = &ctx.arena.pts;
        if turned || !no_turn(&pts[left].v, &pts[right].v, &rho, None) {
            break;
        }
    }
    ctx.arena.rhos.push(rho);
    let st = ctx.stats;
    let accepted = prop.is_some();
    let mut hamiltonian = h0;
    if let Some((p, h)) = prop {
        let p = &ctx.arena.pts[p];
        state.x.copy_from_slice(&p.x);
        state.energy = p.energy;
        state.grad.copy_from_slice(&p.grad);
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
        step_size: t.step_size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::chain_stream;
    use crate::systems::IsotropicGaussian;

    /// Points are recycled: a depth-10 tree of 1023 leaves keeps a few points per level alive.
    #[test]
    fn the_arena_stays_small_on_deep_trees() {
        let mut e = IsotropicGaussian::new(vec![0.0; 5], 1.0).unwrap();
        let mut k = Nuts::new(5, 1e-3, 10);
        let mut st = State::new(&mut e, vec![0.3; 5]).unwrap();
        let mut rng = chain_stream(4, 0);
        for _ in 0..5 {
            let info = k.step(&mut e, &mut st, 1.0, &mut rng).unwrap();
            assert_eq!(info.tree_depth, 10);
            assert_eq!(info.n_evals, 1023);
            let held = k.points_held();
            assert!(held <= 3 * 10 + 4, "{held} points for a depth-10 tree");
        }
    }
}
