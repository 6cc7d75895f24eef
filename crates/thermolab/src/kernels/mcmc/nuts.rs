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

/// A handle to a point in the [`Arena`].
type Id = usize;

/// The trajectory's points, reference-counted by hand and recycled: a leaf overwrites a free
/// point instead of allocating one, so a transition allocates O(depth) points, not O(2^depth).
struct Arena {
    pts: Vec<Point>,
    refs: Vec<u32>,
    free: Vec<Id>,
    /// Spare momentum-sum buffers.
    rhos: Vec<Vec<f64>>,
}

impl Arena {
    /// An arena holding `first` with `refs` references.
    fn new(first: Point, refs: u32) -> Self {
        Self {
            pts: vec![first],
            refs: vec![refs],
            free: Vec::new(),
            rhos: Vec::new(),
        }
    }
    /// A copy of point `src`, with one reference.
    fn copy_of(&mut self, src: Id) -> Id {
        let Some(id) = self.free.pop() else {
            self.pts.push(self.pts[src].clone());
            self.refs.push(1);
            return self.pts.len() - 1;
        };
        // `id` is free and `src` is live, so they differ.
        let (a, b) = self.pts.split_at_mut(id.max(src));
        let (dst, from) = if id < src {
            (&mut a[id], &b[0])
        } else {
            (&mut b[0], &a[src])
        };
        dst.x.copy_from_slice(&from.x);
        dst.p.copy_from_slice(&from.p);
        dst.v.copy_from_slice(&from.v);
        dst.grad.copy_from_slice(&from.grad);
        dst.energy = from.energy;
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
    s: &'a Sampler,
    energy: &'a mut E,
    rng: &'a mut R,
    beta: f64,
    h0: f64,
    stats: Stats,
    arena: Arena,
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
                &self.s.metric,
                pt,
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

/// One NUTS transition.
pub fn nuts<E: Gradient + ?Sized, R: Rng + ?Sized>(
    s: &Sampler,
    energy: &mut E,
    state: &mut State,
    beta: f64,
    max_depth: u32,
    rng: &mut R,
) -> Result<StepInfo, EnergyError> {
    transition(s, energy, state, beta, max_depth, rng).map(|(info, _)| info)
}

/// [`nuts`], also returning how many points the transition's arena held at most.
fn transition<E: Gradient + ?Sized, R: Rng + ?Sized>(
    s: &Sampler,
    energy: &mut E,
    state: &mut State,
    beta: f64,
    max_depth: u32,
    rng: &mut R,
) -> Result<(StepInfo, usize), EnergyError> {
    let init = start(&s.metric, state, rng);
    let h0 = init.hamiltonian(beta);
    // The trajectory: its two ends (in time order), momentum sum, total weight.
    let mut rho = init.p.clone();
    let mut ctx = Ctx {
        s,
        energy,
        rng,
        beta,
        h0,
        stats: Stats::default(),
        arena: Arena::new(init, 2),
    };
    let (mut left, mut right): (Id, Id) = (0, 0);
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
    let info = StepInfo {
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
    };
    Ok((info, ctx.arena.pts.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::chain_stream;
    use crate::systems::IsotropicGaussian;

    /// Points are recycled: a depth-10 tree of 1023 leaves keeps a few points per level alive.
    #[test]
    fn the_arena_stays_small_on_deep_trees() {
        let mut e = IsotropicGaussian::new(vec![0.0; 5], 1.0);
        let s = Sampler::new(super::super::SamplerKind::Nuts { max_depth: 10 }, 5, 1e-3);
        let mut st = State::new(&mut e, vec![0.3; 5]).unwrap();
        let mut rng = chain_stream(4, 0);
        for _ in 0..5 {
            let (info, held) = transition(&s, &mut e, &mut st, 1.0, 10, &mut rng).unwrap();
            assert_eq!(info.tree_depth, 10);
            assert_eq!(info.n_evals, 1023);
            assert!(held <= 3 * 10 + 4, "{held} points for a depth-10 tree");
        }
    }
}
