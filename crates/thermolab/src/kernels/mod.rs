//! Kernels: single moves that leave a Boltzmann distribution invariant, and named acceptance rules.
//!
//! A kernel takes β explicitly, so the same move serves sampling (fixed β), annealing (rising β),
//! tempering and annealed importance sampling.

mod accept;
pub mod mcmc;
mod proposal;
pub mod rbm;
pub mod spin;

pub use accept::AcceptanceRule;
pub use proposal::StepDistribution;
