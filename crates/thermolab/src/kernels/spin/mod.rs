//! Spin kernels: single-spin Metropolis and heat-bath (checkerboard order, tabulated acceptance),
//! Wolff and Swendsen–Wang cluster updates, a multi-spin-coded fast path that updates 64
//! independent replicas per 64-bit word, and Potts updates.
//!
//! Every kernel takes β explicitly and its own random stream. One "sweep" is N spin-flip attempts
//! for single-spin kernels; for Wolff, clusters are grown until N spins have been flipped; for
//! Swendsen–Wang, one decomposition of the whole lattice.

mod cluster;
mod msc;
mod potts;
mod single;

pub use cluster::{swendsen_wang, wolff_sweep, ClusterStats};
pub use msc::{MultiSpin, ReplicaMeasure};
pub use potts::potts_sweep;
pub use single::{sweep, LatticeTables, SpinRule};

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

/// The fast generator used inside spin kernels (xoshiro256++, seeded from a ChaCha stream).
pub type FastRng = rand_xoshiro::Xoshiro256PlusPlus;

/// A fast generator seeded from the run's stream `id` (see [`crate::rng`]).
pub fn fast_rng(seed: u64, id: u64) -> FastRng {
    use rand::SeedableRng;
    FastRng::from_rng(&mut crate::rng::chain_stream(seed, id))
}

#[cfg(test)]
mod tests;
