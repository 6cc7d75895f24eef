//! Exact thermodynamics of spin systems: enumeration and density of states for small systems,
//! Kaufman's finite periodic 2-D Ising lattice, and Onsager's infinite lattice.
//!
//! All quantities use k_B = 1. Per-site quantities divide by the number of spins N. For inverse
//! temperature β: `ln Z`, mean energy `U = −∂ ln Z/∂β`, heat capacity `C = β² Var(E)`,
//! free energy `F = −ln Z / β`, entropy `S = ln Z + β U`.

mod dual;
mod enumerate;
mod kaufman;
mod onsager;

pub use dual::Dual2;
pub use enumerate::{
    density_of_states, enumerate_ising, enumerate_potts, DensityOfStates, ExactPoint,
};
pub use kaufman::{kaufman, KaufmanPoint};
pub use onsager::{onsager, OnsagerPoint, CRITICAL_TEMPERATURE};

#[cfg(test)]
mod tests;
