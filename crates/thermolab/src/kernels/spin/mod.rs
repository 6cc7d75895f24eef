//! Spin kernels: single-spin Metropolis and heat-bath (checkerboard order, tabulated acceptance),
//! Wolff and Swendsen–Wang cluster updates, a multi-spin-coded fast path that updates 64
//! independent replicas per 64-bit word, and Potts updates.
//!
//! Every kernel implements [`Kernel`](crate::kernels::Kernel) (target: the model, state: the
//! spins) and takes β explicitly and its own random stream. One "sweep" is N spin-flip attempts
//! for single-spin kernels; for Wolff, clusters are grown until N spins have been flipped; for
//! Swendsen–Wang, one decomposition of the whole lattice.

mod cluster;
mod msc;
mod potts;
mod single;

pub use cluster::{swendsen_wang, wolff_sweep, ClusterStats, SwendsenWang, Wolff};
pub use msc::{MultiSpin, MultiSpinSweep, ReplicaMeasure};
pub use potts::{potts_sweep, PottsSingle};
pub use single::{sweep, LatticeTables, SingleSpin, SpinRule};

/// What one spin-kernel step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpinStats {
    /// Spin-flip attempts (for cluster kernels: spins flipped).
    pub attempts: u64,
    /// Spins flipped, where the kernel counts them (cluster kernels).
    pub flipped: u64,
    /// Clusters built or found (cluster kernels).
    pub clusters: u64,
}

/// Visits every site of a periodic L × L square lattice (L even) in checkerboard order — all
/// sites of one colour, then the other — passing the site and its neighbours
/// `[left, right, up, down]`.
#[inline(always)]
pub(crate) fn checkerboard_2d(l: usize, mut visit: impl FnMut(usize, [usize; 4])) {
    for color in 0..2 {
        for y in 0..l {
            let row = y * l;
            let up = ((y + 1) % l) * l;
            let down = ((y + l - 1) % l) * l;
            let mut x = (color + y) % 2;
            while x < l {
                let left = if x == 0 { l - 1 } else { x - 1 };
                let right = if x + 1 == l { 0 } else { x + 1 };
                visit(row + x, [row + left, row + right, up + x, down + x]);
                x += 2;
            }
        }
    }
}

pub use crate::rng::FastRng;

#[cfg(test)]
mod tests;
