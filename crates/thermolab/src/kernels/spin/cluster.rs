//! Cluster updates for ferromagnetic Ising models in zero field: Wolff's single-cluster and
//! Swendsen–Wang's all-cluster algorithms (Fortuin–Kasteleyn bonds with `p = 1 − e^{−2βJ}`).
//!
//! # References
//! - Swendsen & Wang (1987), "Nonuniversal critical dynamics in Monte Carlo simulations", *PRL* 58.
//! - Wolff (1989), "Collective Monte Carlo updating for spin systems", *PRL* 62.

use super::SpinStats;
use crate::energy::EnergyError;
use crate::kernels::Kernel;
use crate::systems::spin::IsingGraph;
use rand::Rng;

/// What a cluster update did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ClusterStats {
    /// Clusters built (Wolff) or found (Swendsen–Wang).
    pub clusters: u64,
    /// Spins flipped.
    pub flipped: u64,
}

/// `clusters` Wolff updates. Requires couplings ≥ 0 and zero field (checked by the caller with
/// `is_ferromagnetic_zero_field`).
///
/// The number of clusters must not depend on the clusters grown: stopping "once N spins have
/// flipped" would measure at a state-dependent time and bias the samples. Drivers fix the count
/// per sweep from the mean cluster size seen during equilibration.
pub fn wolff_sweep<R: Rng + ?Sized>(
    g: &IsingGraph,
    s: &mut [i8],
    beta: f64,
    clusters: usize,
    stack: &mut Vec<u32>,
    rng: &mut R,
) -> ClusterStats {
    let n = g.n();
    let mut st = ClusterStats::default();
    let uniform_p = g.uniform().map(|u| 1.0 - (-2.0 * beta * u.j).exp());
    for _ in 0..clusters {
        let seed = rng.random_range(0..n);
        let s0 = s[seed];
        s[seed] = -s0;
        stack.clear();
        stack.push(seed as u32);
        st.clusters += 1;
        st.flipped += 1;
        while let Some(i) = stack.pop() {
            let (nb, c) = g.neighbors(i as usize);
            for (&k, &j) in nb.iter().zip(c) {
                if s[k as usize] == s0 {
                    let p = uniform_p.unwrap_or_else(|| 1.0 - (-2.0 * beta * j).exp());
                    if rng.random::<f64>() < p {
                        s[k as usize] = -s0;
                        stack.push(k);
                        st.flipped += 1;
                    }
                }
            }
        }
    }
    st
}

fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let p = parent[i as usize];
        parent[i as usize] = parent[p as usize];
        i = p;
    }
    i
}

/// One Swendsen–Wang update: activate each satisfied bond with `p = 1 − e^{−2βJ}`, find the
/// clusters (union–find), flip each with probability ½.
pub fn swendsen_wang<R: Rng + ?Sized>(
    g: &IsingGraph,
    s: &mut [i8],
    beta: f64,
    parent: &mut Vec<u32>,
    flip: &mut Vec<i8>,
    rng: &mut R,
) -> ClusterStats {
    let n = g.n();
    parent.clear();
    parent.extend(0..n as u32);
    let uniform_p = g.uniform().map(|u| 1.0 - (-2.0 * beta * u.j).exp());
    for &(i, k, j) in g.bonds() {
        if s[i as usize] == s[k as usize] {
            let p = uniform_p.unwrap_or_else(|| 1.0 - (-2.0 * beta * j).exp());
            if rng.random::<f64>() < p {
                let (a, b) = (find(parent, i), find(parent, k));
                if a != b {
                    parent[a.max(b) as usize] = a.min(b);
                }
            }
        }
    }
    // 0 = undecided, ±1 = keep / flip.
    flip.clear();
    flip.resize(n, 0);
    let mut st = ClusterStats::default();
    for (i, si) in s.iter_mut().enumerate().take(n) {
        let r = find(parent, i as u32) as usize;
        if flip[r] == 0 {
            flip[r] = if rng.random::<bool>() { -1 } else { 1 };
            st.clusters += 1;
        }
        if flip[r] == -1 {
            *si = -*si;
            st.flipped += 1;
        }
    }
    st
}

/// Wolff updates as a [`Kernel`]: one step grows a fixed number of clusters. While
/// [`Wolff::calibrating`] is on (equilibration), the number is re-set after every step so that a
/// step flips about N spins on average; it must be off while measuring, because a count that
/// depends on the clusters grown would measure at a state-dependent time.
#[derive(Debug, Clone)]
pub struct Wolff {
    /// Clusters per step.
    pub clusters: usize,
    /// Whether `clusters` is still being calibrated from the mean cluster size.
    pub calibrating: bool,
    built: u64,
    flipped: u64,
    stack: Vec<u32>,
}

impl Default for Wolff {
    fn default() -> Self {
        Self {
            clusters: 1,
            calibrating: true,
            built: 0,
            flipped: 0,
            stack: Vec::new(),
        }
    }
}

impl<'g> Kernel<&'g IsingGraph, Vec<i8>> for Wolff {
    type Stats = SpinStats;
    fn step<R: Rng + ?Sized>(
        &mut self,
        g: &mut &'g IsingGraph,
        s: &mut Vec<i8>,
        beta: f64,
        rng: &mut R,
    ) -> Result<SpinStats, EnergyError> {
        let st = wolff_sweep(g, s, beta, self.clusters, &mut self.stack, rng);
        if self.calibrating {
            self.built += st.clusters;
            self.flipped += st.flipped;
            let mean = self.flipped as f64 / self.built as f64;
            self.clusters = ((g.n() as f64 / mean).ceil() as usize).max(1);
        }
        Ok(SpinStats {
            attempts: st.flipped,
            flipped: st.flipped,
            clusters: st.clusters,
        })
    }
}

/// Swendsen–Wang updates as a [`Kernel`]: one step decomposes the whole lattice once.
#[derive(Debug, Clone, Default)]
pub struct SwendsenWang {
    parent: Vec<u32>,
    flip: Vec<i8>,
}

impl<'g> Kernel<&'g IsingGraph, Vec<i8>> for SwendsenWang {
    type Stats = SpinStats;
    fn step<R: Rng + ?Sized>(
        &mut self,
        g: &mut &'g IsingGraph,
        s: &mut Vec<i8>,
        beta: f64,
        rng: &mut R,
    ) -> Result<SpinStats, EnergyError> {
        let st = swendsen_wang(g, s, beta, &mut self.parent, &mut self.flip, rng);
        Ok(SpinStats {
            attempts: g.n() as u64,
            flipped: st.flipped,
            clusters: st.clusters,
        })
    }
}
