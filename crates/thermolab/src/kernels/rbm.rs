//! Block Gibbs sampling for restricted Boltzmann machines: a batch of chains updated in lockstep
//! (all hidden units given the visible ones, then all visible units given the hidden ones), at
//! inverse temperature β and optionally along the annealing path from a base-rate machine.
//!
//! The chains target `p(v, h) ∝ exp(−β·E(v,h) − α·E_A(v))`, where `E_A` is the energy of a
//! machine with visible biases `b_A` only (`−b_A·v`, or `(v − b_A)²/(2σ²)` for Gaussian units).
//! Plain sampling is `β = 1, α = 0`; tempering uses `α = 0`; the AIS path of Salakhutdinov &
//! Murray (2008) uses `α = 1 − β`. The conditionals are
//! `p(h_j = 1 | v) = σ(β (c_j + ((v/σ)W)_j))` and, for Bernoulli units,
//! `p(v_i = 1 | h) = σ(α b_{A,i} + β (b_i + (Wh)_i))`; Gaussian units are normal with precision
//! `(α + β)/σ_i²` and mean `(α b_{A,i} + β b_i + β σ_i (Wh)_i)/(α + β)`.
//!
//! [`BlockGibbs`] is the [`Kernel`] over an [`RbmPath`] (the machine, with or without its
//! base-rate end): one step draws the hidden units given the visible ones, then the visible units
//! given the hidden ones, at the path position β. Because the hidden units are drawn afresh from
//! the visible ones at the start of every step, the chain's state is its visible units, and every
//! method along β (swaps, AIS weights, stepping-stone ratios) may use the marginal
//! `ln p*_β(v)` with the hidden units summed out ([`RbmPath::log_marginal`]).

use crate::energy::EnergyError;
use crate::kernels::Kernel;
use crate::systems::rbm::dense::{bernoulli_in_place, gemm, sigmoid_in_place, softplus_sum, View};
use crate::systems::rbm::{Rbm, VisibleKind};
use rand::{Rng, RngCore};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// A Boltzmann machine as a path target: plain β-tempering (`base = None`:
/// `p_β ∝ e^{−βE(v,h)}`) or the annealing path from the base-rate machine with visible biases
/// `base` (`p_β ∝ e^{−(1−β)E_A(v) − βE(v,h)}`, Salakhutdinov & Murray 2008).
#[derive(Debug, Clone, Copy)]
pub struct RbmPath<'a> {
    /// The machine (β = 1).
    pub rbm: &'a Rbm,
    /// Visible biases of the base-rate machine (β = 0), if the path starts there.
    pub base: Option<&'a [f32]>,
}

impl<'a> RbmPath<'a> {
    /// The base-rate mixture weight `α` at path position `beta`.
    fn base_at(&self, beta: f64) -> Option<BaseRate<'a>> {
        self.base.map(|b| BaseRate {
            b,
            alpha: (1.0 - beta) as f32,
        })
    }
    /// `ln p*_β(v)` of chain `k` of `g` with the hidden units summed out (activations must be
    /// current): `−α E_A(v) − β·(visible term) + Σ_j softplus(β a_j)`.
    pub fn log_marginal(&self, g: &GibbsBatch, k: usize, beta: f64) -> f64 {
        let (nv, nh) = (self.rbm.n_visible, self.rbm.n_hidden);
        let v = &g.v[k * nv..(k + 1) * nv];
        let a = &g.act[k * nh..(k + 1) * nh];
        let mut lp = -beta * self.rbm.visible_term(v) + softplus_sum(a, beta);
        if let Some(b) = self.base {
            lp -= (1.0 - beta) * base_energy(self.rbm, b, v);
        }
        lp
    }
    /// `∂_β ln p*_β(v)` of chain `k` (the thermodynamic-integration integrand):
    /// `E_A(v) − (visible term) + Σ_j a_j σ(β a_j)`.
    pub fn log_marginal_slope(&self, g: &GibbsBatch, k: usize, beta: f64) -> f64 {
        let (nv, nh) = (self.rbm.n_visible, self.rbm.n_hidden);
        let v = &g.v[k * nv..(k + 1) * nv];
        let a = &g.act[k * nh..(k + 1) * nh];
        let hid: f64 = a
            .iter()
            .map(|&x| x as f64 * crate::math::sigmoid(beta * x as f64))
            .sum();
        let base = self.base.map_or(0.0, |b| base_energy(self.rbm, b, v));
        base - self.rbm.visible_term(v) + hid
    }
    /// `ln Z` at β = 0: the base-rate machine's (hidden units included), or `None` without a base.
    pub fn log_z_start(&self) -> Option<f64> {
        self.base.map(|b| base_log_partition(self.rbm, b))
    }
}

/// Block Gibbs sampling of a batch of chains along an [`RbmPath`]: one step draws `h | v`, then
/// `v | h`, at path position β, and leaves the activations current.
#[derive(Debug, Clone, Copy, Default)]
pub struct BlockGibbs;

impl<'a> Kernel<RbmPath<'a>, GibbsBatch> for BlockGibbs {
    type Stats = ();
    fn step<R: Rng + ?Sized>(
        &mut self,
        path: &mut RbmPath<'a>,
        g: &mut GibbsBatch,
        beta: f64,
        rng: &mut R,
    ) -> Result<(), EnergyError> {
        g.sample_hidden_current(beta as f32, rng);
        g.sample_visible(path.rbm, beta as f32, path.base_at(beta), rng);
        g.update_activations(path.rbm);
        Ok(())
    }
}

/// The base-rate end of an annealing path: visible biases `b_A` and their weight `α`.
#[derive(Debug, Clone, Copy)]
pub struct BaseRate<'a> {
    /// Visible biases of the base machine.
    pub b: &'a [f32],
    /// Weight `α` of the base energy.
    pub alpha: f32,
}

/// A batch of `n` Gibbs chains with their visible and hidden states and working buffers
/// (serialisable, so a run can checkpoint and resume exactly; the generator is the caller's).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GibbsBatch {
    /// Number of chains.
    pub n: usize,
    /// Visible states, `n × V`.
    pub v: Vec<f32>,
    /// Hidden states, `n × H`.
    pub h: Vec<f32>,
    /// Hidden pre-activations `c + (v/σ)W` for the current `v` (before scaling by β).
    #[serde(skip)]
    pub act: Vec<f32>,
    /// `p(h = 1 | v)` at the last [`GibbsBatch::sample_hidden`]'s β.
    #[serde(skip)]
    pub prob: Vec<f32>,
    #[serde(skip)]
    wh: Vec<f32>,
    #[serde(skip)]
    uniform: Vec<f32>,
    #[serde(skip)]
    scaled: Vec<f32>,
}

impl GibbsBatch {
    /// `n` chains starting at visible states `v0` (`n × V`), with current activations. The
    /// hidden states are set by the first [`GibbsBatch::sample_hidden`].
    pub fn new(rbm: &Rbm, v0: Vec<f32>) -> Self {
        let n = v0.len() / rbm.n_visible;
        let mut g = Self {
            n,
            v: v0,
            h: vec![0.0; n * rbm.n_hidden],
            act: Vec::new(),
            prob: Vec::new(),
            wh: Vec::new(),
            uniform: Vec::new(),
            scaled: Vec::new(),
        };
        g.update_activations(rbm);
        g
    }

    /// Recomputes [`GibbsBatch::act`] for the current visible states.
    pub fn update_activations(&mut self, rbm: &Rbm) {
        let (nv, nh) = (rbm.n_visible, rbm.n_hidden);
        self.act.resize(self.n * nh, 0.0);
        for row in self.act.chunks_exact_mut(nh) {
            row.copy_from_slice(&rbm.c);
        }
        let vs = rbm.scaled_visible(&self.v, &mut self.scaled);
        gemm(
            &mut self.act,
            View::n(vs, self.n, nv),
            View::n(&rbm.w, nv, nh),
            1.0,
            true,
        );
    }

    /// Draws every hidden unit given the visible ones at inverse temperature `beta`.
    pub fn sample_hidden<R: RngCore + ?Sized>(&mut self, rbm: &Rbm, beta: f32, rng: &mut R) {
        self.update_activations(rbm);
        self.sample_hidden_current(beta, rng);
    }

    /// [`GibbsBatch::sample_hidden`] with activations already current.
    pub fn sample_hidden_current<R: RngCore + ?Sized>(&mut self, beta: f32, rng: &mut R) {
        self.prob.clear();
        self.prob.extend(self.act.iter().map(|&a| beta * a));
        sigmoid_in_place(&mut self.prob);
        self.h.clear();
        self.h.extend_from_slice(&self.prob);
        bernoulli_in_place(rng, &mut self.h, &mut self.uniform);
    }

    /// Sets `p(h = 1 | v)` to `prob` (e.g. computed elsewhere for the same `v`) and draws the
    /// hidden units from it.
    pub fn set_hidden_probabilities<R: RngCore + ?Sized>(&mut self, prob: &[f32], rng: &mut R) {
        self.prob.clear();
        self.prob.extend_from_slice(prob);
        self.h.clear();
        self.h.extend_from_slice(prob);
        bernoulli_in_place(rng, &mut self.h, &mut self.uniform);
    }

    /// Draws every visible unit given the hidden ones at inverse temperature `beta`, optionally
    /// mixed with the base-rate machine.
    pub fn sample_visible<R: Rng + ?Sized>(
        &mut self,
        rbm: &Rbm,
        beta: f32,
        base: Option<BaseRate<'_>>,
        rng: &mut R,
    ) {
        let (nv, nh) = (rbm.n_visible, rbm.n_hidden);
        self.wh.resize(self.n * nv, 0.0);
        gemm(
            &mut self.wh,
            View::n(&self.h, self.n, nh),
            View::t(&rbm.w, nv, nh),
            1.0,
            false,
        );
        let (bz, alpha) = match base {
            Some(b) => (b.b, b.alpha),
            None => (&rbm.b[..], 0.0),
        };
        match rbm.visible {
            VisibleKind::Bernoulli => {
                for (vrow, whrow) in self.v.chunks_exact_mut(nv).zip(self.wh.chunks_exact(nv)) {
                    for i in 0..nv {
                        vrow[i] = alpha * bz[i] + beta * (rbm.b[i] + whrow[i]);
                    }
                }
                sigmoid_in_place(&mut self.v);
                bernoulli_in_place(rng, &mut self.v, &mut self.uniform);
            }
            VisibleKind::Gaussian => {
                let prec = alpha + beta;
                for (vrow, whrow) in self.v.chunks_exact_mut(nv).zip(self.wh.chunks_exact(nv)) {
                    for i in 0..nv {
                        let s = rbm.sigma[i];
                        let mean = (alpha * bz[i] + beta * (rbm.b[i] + s * whrow[i])) / prec;
                        let z: f32 = StandardNormal.sample(rng);
                        vrow[i] = mean + s / prec.sqrt() * z;
                    }
                }
            }
        }
    }

    /// One full sweep: visible given hidden, then hidden given visible (plain chains, β = 1
    /// unless tempered).
    pub fn sweep<R: Rng + ?Sized>(&mut self, rbm: &Rbm, beta: f32, rng: &mut R) {
        self.sample_visible(rbm, beta, None, rng);
        self.sample_hidden(rbm, beta, rng);
    }

    /// `ln p*(v)` of every chain's visible state under the path density at (`beta`, base):
    /// `−α E_A(v) − β·(visible term) + Σ_j softplus(β a_j)`. Needs current activations.
    pub fn log_marginals(
        &self,
        rbm: &Rbm,
        beta: f64,
        base: Option<(&[f32], f64)>,
        out: &mut Vec<f64>,
    ) {
        let (nv, nh) = (rbm.n_visible, rbm.n_hidden);
        out.clear();
        for (vrow, arow) in self.v.chunks_exact(nv).zip(self.act.chunks_exact(nh)) {
            let mut lp = -beta * rbm.visible_term(vrow) + softplus_sum(arow, beta);
            if let Some((bz, alpha)) = base {
                lp -= alpha * base_energy(rbm, bz, vrow);
            }
            out.push(lp);
        }
    }

    /// Joint energies `E(v, h) = (visible term) − Σ_j a_j h_j` of every chain, with `a` the
    /// current activations (call after [`GibbsBatch::sample_hidden`]).
    pub fn joint_energies(&self, rbm: &Rbm, out: &mut Vec<f64>) {
        let (nv, nh) = (rbm.n_visible, rbm.n_hidden);
        out.clear();
        for k in 0..self.n {
            let v = &self.v[k * nv..(k + 1) * nv];
            let h = &self.h[k * nh..(k + 1) * nh];
            let a = &self.act[k * nh..(k + 1) * nh];
            let ah: f64 = h.iter().zip(a).map(|(&x, &y)| x as f64 * y as f64).sum();
            out.push(rbm.visible_term(v) - ah);
        }
    }

    /// Exchanges the state of chain `k` here with chain `k` of `other` (visible and hidden
    /// states and their activations).
    pub fn exchange(&mut self, other: &mut GibbsBatch, rbm: &Rbm, k: usize) {
        let (nv, nh) = (rbm.n_visible, rbm.n_hidden);
        self.v[k * nv..(k + 1) * nv].swap_with_slice(&mut other.v[k * nv..(k + 1) * nv]);
        self.h[k * nh..(k + 1) * nh].swap_with_slice(&mut other.h[k * nh..(k + 1) * nh]);
        if self.act.len() == self.n * nh && other.act.len() == other.n * nh {
            self.act[k * nh..(k + 1) * nh].swap_with_slice(&mut other.act[k * nh..(k + 1) * nh]);
        }
    }
}

/// The base-rate machine's energy `E_A(v)`: `−b_A·v` or `Σ (v_i − b_{A,i})²/(2σ_i²)`.
pub fn base_energy(rbm: &Rbm, b_a: &[f32], v: &[f32]) -> f64 {
    match rbm.visible {
        VisibleKind::Bernoulli => -v
            .iter()
            .zip(b_a)
            .map(|(&x, &b)| x as f64 * b as f64)
            .sum::<f64>(),
        VisibleKind::Gaussian => v
            .iter()
            .zip(b_a)
            .zip(&rbm.sigma)
            .map(|((&x, &b), &s)| {
                let z = (x - b) as f64 / s as f64;
                0.5 * z * z
            })
            .sum(),
    }
}

/// `ln Z_A` of the base-rate machine (no weights, zero hidden biases), hidden units included:
/// `H ln 2 + Σ_i ln(1 + e^{b_{A,i}})` or `H ln 2 + Σ_i ln(√(2π) σ_i)`.
pub fn base_log_partition(rbm: &Rbm, b_a: &[f32]) -> f64 {
    let hidden = rbm.n_hidden as f64 * std::f64::consts::LN_2;
    hidden
        + match rbm.visible {
            VisibleKind::Bernoulli => b_a
                .iter()
                .map(|&b| crate::systems::rbm::softplus(b as f64))
                .sum::<f64>(),
            VisibleKind::Gaussian => rbm
                .sigma
                .iter()
                .map(|&s| (s as f64 * (2.0 * std::f64::consts::PI).sqrt()).ln())
                .sum(),
        }
}

/// Independent draws from the base-rate machine (`n × V`).
pub fn sample_base<R: Rng + ?Sized>(rbm: &Rbm, b_a: &[f32], n: usize, rng: &mut R) -> Vec<f32> {
    let mut out = Vec::with_capacity(n * rbm.n_visible);
    for _ in 0..n {
        for (i, &ba) in b_a.iter().enumerate() {
            out.push(match rbm.visible {
                VisibleKind::Bernoulli => {
                    let p = crate::math::sigmoid(ba as f64);
                    if rng.random::<f64>() < p {
                        1.0
                    } else {
                        0.0
                    }
                }
                VisibleKind::Gaussian => {
                    let z: f64 = StandardNormal.sample(rng);
                    (ba as f64 + rbm.sigma[i] as f64 * z) as f32
                }
            });
        }
    }
    out
}
