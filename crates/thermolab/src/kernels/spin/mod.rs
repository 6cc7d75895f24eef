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

/// The fast generator used inside spin kernels (xoshiro256++, seeded from a ChaCha stream).
pub type FastRng = rand_xoshiro::Xoshiro256PlusPlus;

/// A fast generator seeded from the run's stream `id` (see [`crate::rng`]).
pub fn fast_rng(seed: u64, id: u64) -> FastRng {
    use rand::SeedableRng;
    FastRng::from_rng(&mut crate::rng::chain_stream(seed, id))
}

#[cfg(test)]
mod tests;
