//! Spin systems: Ising models on lattices and graphs (ferromagnets, spin glasses, QUBO) and the
//! q-state Potts model, each exposing the energy, local fields and the energy change of a move.
//!
//! Conventions: Ising spins are `i8` values ±1 and
//! `E(s) = −Σ_{i<j} J_ij s_i s_j − Σ_i h_i s_i`, so flipping spin i changes the energy by
//! `ΔE_i = 2 s_i (Σ_j J_ij s_j + h_i)`. Potts spins are `u8` values in `0..q` and
//! `E(σ) = −J Σ_{<ij>} δ(σ_i, σ_j)`. Temperatures are in units of the coupling (k_B = 1).

mod graph;
mod lattice;
mod potts;

pub use graph::{IsingGraph, SpinFileError};
pub use lattice::Lattice;
pub use potts::Potts;

#[cfg(test)]
mod tests;
