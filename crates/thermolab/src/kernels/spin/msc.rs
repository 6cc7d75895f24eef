//! Multi-spin coding for the 2-D Ising ferromagnet in zero field: 64 independent replicas share
//! one 64-bit word per site (bit r is replica r's spin, 1 = up), and one pass of bitwise logic
//! updates all 64 at once.
//!
//! Per site, the number k of anti-aligned neighbours (0…4) is counted with bit-sliced adders.
//! A flip changes the energy by `ΔE = 2J(4 − 2k)`: it is accepted outright for k ≥ 2, with
//! probability `p₁ = e^{−4βJ}` for k = 1 and `p₂ = e^{−8βJ}` for k = 0. Each replica draws its own
//! independent uniform number, compared with its threshold bit by bit from the most significant
//! end (a lane is decided at the first bit where the uniform and the threshold differ), so the
//! 64 chains are exact, independent Metropolis chains; on average about eight random words decide
//! all 64 lanes.
//!
//! # References
//! - Jacobs, L. & Rebbi, C. (1981), "Multi-spin coding: a very efficient technique for Monte
//!   Carlo simulations of spin systems", *J. Comput. Phys.* 41.

use super::SpinStats;
use crate::energy::EnergyError;
use crate::kernels::Kernel;
use crate::systems::spin::IsingGraph;
use crate::systems::ModelError;
use rand::{Rng, RngCore};

/// 64 replicas of an L × L periodic Ising ferromagnet (h = 0), one word per site.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiSpin {
    l: usize,
    j: f64,
    words: Vec<u64>,
}

/// Per-replica totals from one measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaMeasure {
    /// Total energy of each replica.
    pub energy: Vec<f64>,
    /// Total magnetisation of each replica.
    pub magnetization: Vec<f64>,
}

/// Bit-sliced per-lane counters: `c[j]` holds bit j of 64 independent counts.
struct Vertical {
    c: Vec<u64>,
}

impl Vertical {
    fn new(max: usize) -> Self {
        Self {
            c: vec![0; (usize::BITS - max.leading_zeros()) as usize + 1],
        }
    }
    #[inline(always)]
    fn add(&mut self, w: u64) {
        let mut carry = w;
        for c in self.c.iter_mut() {
            let t = *c & carry;
            *c ^= carry;
            carry = t;
            if carry == 0 {
                break;
            }
        }
    }
    fn lane(&self, r: usize) -> u64 {
        self.c
            .iter()
            .enumerate()
            .map(|(j, c)| ((c >> r) & 1) << j)
            .sum()
    }
}

/// The binary expansion of `p ∈ [0, 1]` as 64 all-ones / all-zeros masks (most significant first).
fn bit_masks(p: f64) -> [u64; 64] {
    let mut m = [0u64; 64];
    if p >= 1.0 {
        return [u64::MAX; 64];
    }
    let mut x = p.max(0.0);
    for v in m.iter_mut() {
        x *= 2.0;
        if x >= 1.0 {
            *v = u64::MAX;
            x -= 1.0;
        }
    }
    m
}

impl MultiSpin {
    /// 64 replicas of the lattice ferromagnet `g`, which must be a 2-D lattice with even L,
    /// uniform J > 0 and no field.
    pub fn for_graph<R: Rng + ?Sized>(
        g: &IsingGraph,
        hot: bool,
        rng: &mut R,
    ) -> Result<Self, ModelError> {
        match g.uniform() {
            Some(u) if u.lattice.dim == 2 && u.h == 0.0 => Self::new(u.lattice.l, u.j, hot, rng),
            _ => Err(ModelError::new(
                "model",
                "multi-spin coding needs a 2-D lattice with even L, J > 0 and h = 0",
            )),
        }
    }
    /// 64 replicas of side `l` (even, ≥ 2) with coupling `j > 0`, each started from independent
    /// random spins (`hot`) or all up.
    pub fn new<R: Rng + ?Sized>(
        l: usize,
        j: f64,
        hot: bool,
        rng: &mut R,
    ) -> Result<Self, ModelError> {
        if l < 2 || !l.is_multiple_of(2) {
            return Err(ModelError::new(
                "L",
                format!("multi-spin coding needs an even L ≥ 2, got {l}"),
            ));
        }
        if !(j > 0.0 && j.is_finite()) {
            return Err(ModelError::new(
                "J",
                "multi-spin coding needs a ferromagnetic coupling J > 0",
            ));
        }
        let words = (0..l * l)
            .map(|_| if hot { rng.random::<u64>() } else { u64::MAX })
            .collect();
        Ok(Self { l, j, words })
    }
    /// Side length.
    pub fn l(&self) -> usize {
        self.l
    }
    /// One checkerboard sweep of all 64 replicas at inverse temperature β
    /// (64 · L² flip attempts).
    pub fn sweep<R: RngCore + ?Sized>(&mut self, beta: f64, rng: &mut R) {
        let p1 = bit_masks((-4.0 * beta * self.j).exp());
        let p2 = bit_masks((-8.0 * beta * self.j).exp());
        let w = &mut self.words;
        super::checkerboard_2d(self.l, |i, [left, right, up, down]| {
            let s = w[i];
            let f = flip_mask(s, w[left], w[right], w[up], w[down], &p1, &p2, rng);
            w[i] = s ^ f;
        });
    }
    /// Energy and magnetisation of every replica.
    pub fn measure(&self) -> ReplicaMeasure {
        let (l, n) = (self.l, self.l * self.l);
        let mut anti = Vertical::new(2 * n);
        let mut up = Vertical::new(n);
        for y in 0..l {
            for x in 0..l {
                let i = y * l + x;
                let s = self.words[i];
                anti.add(s ^ self.words[y * l + (x + 1) % l]);
                anti.add(s ^ self.words[((y + 1) % l) * l + x]);
                up.add(s);
            }
        }
        let bonds = 2.0 * n as f64;
        ReplicaMeasure {
            energy: (0..64)
                .map(|r| -self.j * (bonds - 2.0 * anti.lane(r) as f64))
                .collect(),
            magnetization: (0..64)
                .map(|r| 2.0 * up.lane(r) as f64 - n as f64)
                .collect(),
        }
    }
    /// The spins of replica `r` as ±1.
    pub fn replica(&self, r: usize) -> Vec<i8> {
        self.words
            .iter()
            .map(|w| if (w >> r) & 1 == 1 { 1 } else { -1 })
            .collect()
    }
}

/// The lanes that flip at a site with spin word `s` and neighbour words `a, b, c, d`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn flip_mask<R: RngCore + ?Sized>(
    s: u64,
    a: u64,
    b: u64,
    c: u64,
    d: u64,
    p1: &[u64; 64],
    p2: &[u64; 64],
    rng: &mut R,
) -> u64 {
    let (x1, x2, x3, x4) = (s ^ a, s ^ b, s ^ c, s ^ d);
    // k = x1 + x2 + x3 + x4 per lane, as bits (b2 b1 b0).
    let (t1, c1) = (x1 ^ x2, x1 & x2);
    let (t2, c2) = (x3 ^ x4, x3 & x4);
    let b0 = t1 ^ t2;
    let cr = t1 & t2;
    let b1 = c1 ^ c2 ^ cr;
    let b2 = (c1 & c2) | (cr & (c1 ^ c2));
    let always = b1 | b2;
    let sel1 = b0 & !always;
    let sel0 = !(b0 | always);
    let mut undecided = sel1 | sel0;
    let mut accept = 0u64;
    let mut i = 0;
    while undecided != 0 && i < 64 {
        let u = rng.next_u64();
        let pb = (sel1 & p1[i]) | (sel0 & p2[i]);
        // Decided where the bits differ: accepted if the uniform's bit is 0 and p's is 1.
        accept |= undecided & !u & pb;
        undecided &= !(u ^ pb);
        i += 1;
    }
    always | accept
}

/// Multi-spin-coded Metropolis as a [`Kernel`] over the 64 replicas of a [`MultiSpin`]: one step
/// is one checkerboard sweep of every replica (64·N flip attempts). The graph must be the one
/// the replicas were built for ([`MultiSpin::for_graph`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct MultiSpinSweep;

impl<'g> Kernel<&'g IsingGraph, MultiSpin> for MultiSpinSweep {
    type Stats = SpinStats;
    fn step<R: Rng + ?Sized>(
        &mut self,
        g: &mut &'g IsingGraph,
        s: &mut MultiSpin,
        beta: f64,
        rng: &mut R,
    ) -> Result<SpinStats, EnergyError> {
        debug_assert_eq!(g.n(), s.l * s.l);
        s.sweep(beta, rng);
        Ok(SpinStats {
            attempts: 64 * g.n() as u64,
            ..SpinStats::default()
        })
    }
}
