//! Cluster updates for ferromagnetic Ising models in zero field: Wolff's single-cluster and
//! Swendsen–Wang's all-cluster algorithms (Fortuin–Kasteleyn bonds with `p = 1 − e^{−2βJ}`).
//!
//! # References
//! - Swendsen & Wang (1987), "Nonuniversal critical dynamics in Monte Carlo simulations", *PRL* 58.
//! - Wolff (1989), "Collective Monte Carlo updating for spin systems", *PRL* 62.

use super::FastRng;
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
pub fn wolff_sweep(
    g: &IsingGraph,
    s: &mut [i8],
    beta: f64,
    clusters: usize,
    stack: &mut Vec<u32>,
    rng: &mut FastRng,
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
pub fn swendsen_wang(
    g: &IsingGraph,
    s: &mut [i8],
    beta: f64,
    parent: &mut Vec<u32>,
    flip: &mut Vec<i8>,
    rng: &mut FastRng,
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
