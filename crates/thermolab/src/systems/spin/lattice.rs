//! Periodic hypercubic lattices (square in 2-D, cubic in 3-D): site indexing and neighbours.

use crate::systems::ModelError;
use serde::{Deserialize, Serialize};

/// A periodic lattice with `L` sites along each of `dim` axes. Site `i` has coordinates
/// `(x, y[, z])` with `i = x + L·y (+ L²·z)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lattice {
    /// Number of axes (2 or 3).
    pub dim: usize,
    /// Sites per axis.
    pub l: usize,
}

impl Lattice {
    /// A square (`dim = 2`) or cubic (`dim = 3`) periodic lattice of side `l ≥ 2`.
    pub fn new(dim: usize, l: usize) -> Result<Self, ModelError> {
        if !(dim == 2 || dim == 3) {
            return Err(ModelError::new(
                "dim",
                format!("lattice dimension must be 2 or 3, got {dim}"),
            ));
        }
        if l < 2 {
            return Err(ModelError::new(
                "L",
                format!("lattice side L must be at least 2, got {l}"),
            ));
        }
        if l.checked_pow(dim as u32).is_none_or(|n| n > 1 << 30) {
            return Err(ModelError::new(
                "L",
                format!("lattice side L = {l} is too large"),
            ));
        }
        Ok(Self { dim, l })
    }
    /// Number of sites.
    pub fn n(&self) -> usize {
        self.l.pow(self.dim as u32)
    }
    /// Coordination number (neighbours per site).
    pub fn z(&self) -> usize {
        2 * self.dim
    }
    /// Neighbours of site `i` (`2·dim` of them; with `L = 2` a neighbour appears twice, as the
    /// two bonds of a periodic side-2 axis are distinct bonds).
    pub fn neighbors(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let l = self.l;
        (0..self.dim).flat_map(move |a| {
            let stride = l.pow(a as u32);
            let c = (i / stride) % l;
            let up = if c + 1 == l {
                i + stride - l * stride
            } else {
                i + stride
            };
            let down = if c == 0 {
                i + (l - 1) * stride
            } else {
                i - stride
            };
            [up, down]
        })
    }
    /// The "forward" neighbour of `i` along each axis (each bond once).
    pub fn forward_neighbors(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.neighbors(i).step_by(2)
    }
    /// Checkerboard colour (0 or 1) of site `i`; a proper 2-colouring when `L` is even.
    pub fn color(&self, i: usize) -> usize {
        let l = self.l;
        (0..self.dim)
            .map(|a| (i / l.pow(a as u32)) % l)
            .sum::<usize>()
            % 2
    }
    /// Number of bonds (`dim · N`).
    pub fn bonds(&self) -> usize {
        self.dim * self.n()
    }
}
