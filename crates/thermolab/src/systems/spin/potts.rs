//! The q-state Potts model on a periodic square lattice: `E = −J Σ_{<ij>} δ(σ_i, σ_j)`.
//!
//! For q = 2 it is the Ising model with coupling J/2 (up to a constant); its critical point on
//! the square lattice is `T_c = J / ln(1 + √q)` (Baxter 1973).

use super::Lattice;
use crate::systems::ModelError;
use serde::{Deserialize, Serialize};

/// A q-state Potts model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Potts {
    /// The lattice.
    pub lattice: Lattice,
    /// Number of states per site (≥ 2).
    pub q: u8,
    /// Coupling J.
    pub j: f64,
}

impl Potts {
    /// A 2-D Potts model of side `l` with `q` states and coupling `j`.
    pub fn square(l: usize, q: u8, j: f64) -> Result<Self, ModelError> {
        if q < 2 {
            return Err(ModelError::new(
                "q",
                format!("Potts q must be at least 2, got {q}"),
            ));
        }
        if !j.is_finite() {
            return Err(ModelError::new("J", format!("must be finite, got {j}")));
        }
        Ok(Self {
            lattice: Lattice::new(2, l)?,
            q,
            j,
        })
    }
    /// Total energy of configuration `s` (values in `0..q`).
    pub fn energy(&self, s: &[u8]) -> f64 {
        let mut same = 0usize;
        for i in 0..self.lattice.n() {
            same += self
                .lattice
                .forward_neighbors(i)
                .filter(|&k| s[k] == s[i])
                .count();
        }
        -self.j * same as f64
    }
    /// Number of neighbours of `i` in each state (`counts.len() = q`).
    pub fn neighbor_counts(&self, s: &[u8], i: usize, counts: &mut [u32]) {
        counts.iter_mut().for_each(|c| *c = 0);
        for k in self.lattice.neighbors(i) {
            counts[s[k] as usize] += 1;
        }
    }
    /// Energy change of setting site `i` to state `v`.
    pub fn delta(&self, s: &[u8], i: usize, v: u8) -> f64 {
        let old = s[i];
        if old == v {
            return 0.0;
        }
        let (mut n_old, mut n_new) = (0i32, 0i32);
        for k in self.lattice.neighbors(i) {
            n_old += i32::from(s[k] == old);
            n_new += i32::from(s[k] == v);
        }
        -self.j * f64::from(n_new - n_old)
    }
    /// The exact critical temperature of the square-lattice model, `J / ln(1 + √q)`.
    pub fn critical_temperature(&self) -> f64 {
        self.j / (1.0 + f64::from(self.q).sqrt()).ln()
    }
}
