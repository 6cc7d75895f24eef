//! Single-spin Metropolis and heat-bath updates for Ising models.
//!
//! On a lattice with uniform couplings, a flip's energy change takes only a few values, so the
//! acceptance probabilities are tabulated once per β as 32-bit thresholds and sites are visited
//! in checkerboard order (all of one colour, then the other). On general graphs sites are visited
//! in order and probabilities computed directly.
//!
//! - Metropolis: flip with probability `min(1, e^{−βΔE})`.
//! - Heat-bath (Glauber): set `s_i = +1` with probability `1/(1 + e^{−2βh_i})`, `h_i` the local field.

use super::SpinStats;
use crate::energy::EnergyError;
use crate::kernels::Kernel;
use crate::systems::spin::{IsingGraph, Lattice};
use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};

/// A single-spin update rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpinRule {
    /// Metropolis acceptance of a proposed flip.
    Metropolis,
    /// Heat-bath (Glauber) resampling of the spin from its conditional distribution.
    HeatBath,
}

/// Acceptance tables for a uniform lattice at one β: index `(s+1)/2 · (2z+1) + (Σ s_j + z)`.
#[derive(Debug, Clone)]
pub struct LatticeTables {
    /// Thresholds on a 32-bit uniform: accept (Metropolis) / set +1 (heat-bath) if `u < t`.
    thresh: Vec<u64>,
    z: i32,
    rule: SpinRule,
    beta: f64,
    j: f64,
    h: f64,
}

impl LatticeTables {
    /// Tables for coupling `j`, field `h`, coordination `z`, at inverse temperature `beta`.
    pub fn new(rule: SpinRule, beta: f64, j: f64, h: f64, z: usize) -> Self {
        let z = z as i32;
        let width = (2 * z + 1) as usize;
        let mut thresh = vec![0u64; 2 * width];
        let scale = 4_294_967_296.0; // 2^32
        for si in [-1i32, 1] {
            for ns in -z..=z {
                let local = j * f64::from(ns) + h;
                let p = match rule {
                    SpinRule::Metropolis => {
                        let de = 2.0 * f64::from(si) * local;
                        if de <= 0.0 {
                            1.0
                        } else {
                            (-beta * de).exp()
                        }
                    }
                    SpinRule::HeatBath => 1.0 / (1.0 + (-2.0 * beta * local).exp()),
                };
                let idx = ((si + 1) / 2) as usize * width + (ns + z) as usize;
                thresh[idx] = (p * scale).round().min(scale) as u64;
            }
        }
        Self {
            thresh,
            z,
            rule,
            beta,
            j,
            h,
        }
    }
    /// Whether these tables serve `rule` at `beta` on a lattice of coupling `j`, field `h`.
    fn serve(&self, rule: SpinRule, beta: f64, j: f64, h: f64, z: usize) -> bool {
        self.rule == rule && self.beta == beta && self.j == j && self.h == h && self.z == z as i32
    }
    #[inline(always)]
    fn threshold(&self, si: i8, nsum: i32) -> u64 {
        let width = 2 * self.z + 1;
        self.thresh[(i32::from(si + 1) / 2 * width + nsum + self.z) as usize]
    }
    /// Applies the rule to spin `si` with neighbour sum `nsum` and a 32-bit uniform `u`.
    #[inline(always)]
    fn update(&self, si: i8, nsum: i32, u: u32) -> i8 {
        match self.rule {
            SpinRule::Metropolis => {
                if u64::from(u) < self.threshold(si, nsum) {
                    -si
                } else {
                    si
                }
            }
            SpinRule::HeatBath => {
                if u64::from(u) < self.threshold(1, nsum) {
                    1
                } else {
                    -1
                }
            }
        }
    }
}

/// Supplies 32-bit uniforms two per 64-bit draw.
struct U32s<'a, R: ?Sized> {
    rng: &'a mut R,
    buf: u64,
    have: bool,
}

impl<R: RngCore + ?Sized> U32s<'_, R> {
    #[inline(always)]
    fn next(&mut self) -> u32 {
        if self.have {
            self.have = false;
            (self.buf >> 32) as u32
        } else {
            self.buf = self.rng.next_u64();
            self.have = true;
            self.buf as u32
        }
    }
}

/// One checkerboard sweep of a periodic square lattice (L even), tabulated.
fn sweep_square<R: RngCore + ?Sized>(
    l: usize,
    s: &mut [i8],
    t: &LatticeTables,
    u: &mut U32s<'_, R>,
) {
    super::checkerboard_2d(l, |i, nb| {
        let ns = nb.iter().map(|&k| i32::from(s[k])).sum::<i32>();
        s[i] = t.update(s[i], ns, u.next());
    });
}

/// One checkerboard sweep of any periodic lattice with even L, tabulated.
fn sweep_lattice<R: RngCore + ?Sized>(
    lat: &Lattice,
    s: &mut [i8],
    t: &LatticeTables,
    u: &mut U32s<'_, R>,
) {
    for color in 0..2 {
        for i in 0..lat.n() {
            if lat.color(i) != color {
                continue;
            }
            let ns: i32 = lat.neighbors(i).map(|k| i32::from(s[k])).sum();
            s[i] = t.update(s[i], ns, u.next());
        }
    }
}

/// One sweep (N update attempts) of `g` at inverse temperature `beta`. Uniform lattices with
/// even L use the tabulated checkerboard kernels; everything else visits sites in order.
/// `tables` must have been built for this β, rule and lattice (see [`LatticeTables::new`]).
pub fn sweep<R: Rng + ?Sized>(
    g: &IsingGraph,
    s: &mut [i8],
    rule: SpinRule,
    beta: f64,
    tables: Option<&LatticeTables>,
    rng: &mut R,
) {
    if let (Some(ul), Some(t)) = (g.uniform(), tables) {
        if ul.lattice.l % 2 == 0 {
            let mut u = U32s {
                rng,
                buf: 0,
                have: false,
            };
            if ul.lattice.dim == 2 {
                sweep_square(ul.lattice.l, s, t, &mut u);
            } else {
                sweep_lattice(&ul.lattice, s, t, &mut u);
            }
            return;
        }
    }
    for i in 0..g.n() {
        let h = g.local_field(s, i);
        let old = s[i];
        s[i] = match rule {
            SpinRule::Metropolis => {
                let de = 2.0 * f64::from(old) * h;
                if de <= 0.0 || rng.random::<f64>() < (-beta * de).exp() {
                    -old
                } else {
                    old
                }
            }
            SpinRule::HeatBath => {
                if rng.random::<f64>() < 1.0 / (1.0 + (-2.0 * beta * h).exp()) {
                    1
                } else {
                    -1
                }
            }
        };
    }
}

/// Single-spin Metropolis or heat-bath sweeps as a [`Kernel`]: one step is one sweep (N update
/// attempts). On uniform lattices with even L the acceptance tables are built for the step's β
/// and kept until β changes.
#[derive(Debug, Clone)]
pub struct SingleSpin {
    /// The update rule.
    pub rule: SpinRule,
    tables: Option<LatticeTables>,
}

impl SingleSpin {
    /// A sweep kernel with rule `rule`.
    pub fn new(rule: SpinRule) -> Self {
        Self { rule, tables: None }
    }
}

impl<'g> Kernel<&'g IsingGraph, Vec<i8>> for SingleSpin {
    type Stats = SpinStats;
    fn step<R: Rng + ?Sized>(
        &mut self,
        g: &mut &'g IsingGraph,
        s: &mut Vec<i8>,
        beta: f64,
        rng: &mut R,
    ) -> Result<SpinStats, EnergyError> {
        let g: &IsingGraph = g;
        if let Some(u) = g.uniform() {
            let z = u.lattice.z();
            if !self
                .tables
                .as_ref()
                .is_some_and(|t| t.serve(self.rule, beta, u.j, u.h, z))
            {
                self.tables = Some(LatticeTables::new(self.rule, beta, u.j, u.h, z));
            }
        } else {
            self.tables = None;
        }
        sweep(g, s, self.rule, beta, self.tables.as_ref(), rng);
        Ok(SpinStats {
            attempts: g.n() as u64,
            ..SpinStats::default()
        })
    }
}
