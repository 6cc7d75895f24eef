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

use crate::systems::spin::IsingGraph;
use serde::{Deserialize, Serialize};

/// Exact per-site thermodynamics at one temperature.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ExactThermo {
    /// `U/N`.
    pub energy_per_site: f64,
    /// `C/N`.
    pub heat_capacity_per_site: f64,
    /// `F/N`.
    pub free_energy_per_site: f64,
}

/// What is known exactly about an Ising model's thermodynamics: Kaufman's solution for a
/// ferromagnet in zero field on an L × L torus, enumeration for at most 20 spins, or nothing.
#[derive(Debug, Clone)]
pub enum IsingExact {
    /// Kaufman (finite L × L torus, coupling J > 0, h = 0).
    Kaufman {
        /// Side.
        l: usize,
        /// Coupling.
        j: f64,
    },
    /// Enumeration of every state.
    Enumerated(Box<IsingGraph>),
    /// Nothing.
    None,
}

impl IsingExact {
    /// The best exact answer available for `g`.
    pub fn for_graph(g: &IsingGraph) -> Self {
        match g.uniform() {
            Some(u) if u.lattice.dim == 2 && u.h == 0.0 && u.j > 0.0 => Self::Kaufman {
                l: u.lattice.l,
                j: u.j,
            },
            _ if g.n() <= 20 => Self::Enumerated(Box::new(g.clone())),
            _ => Self::None,
        }
    }
    /// The exact per-site thermodynamics at temperature `t`, if known.
    pub fn at(&self, t: f64) -> Option<ExactThermo> {
        match self {
            Self::Kaufman { l, j } => {
                let k = kaufman(*l, *l, *j, t);
                Some(ExactThermo {
                    energy_per_site: k.energy_per_site,
                    heat_capacity_per_site: k.heat_capacity_per_site,
                    free_energy_per_site: k.free_energy_per_site,
                })
            }
            Self::Enumerated(g) => {
                let p = enumerate_ising(g, &[1.0 / t]).ok()?[0];
                let n = g.n() as f64;
                Some(ExactThermo {
                    energy_per_site: p.energy / n,
                    heat_capacity_per_site: p.heat_capacity / n,
                    free_energy_per_site: p.free_energy / n,
                })
            }
            Self::None => None,
        }
    }
    /// `kaufman`, `enumeration` or `none`.
    pub fn source(&self) -> &'static str {
        match self {
            Self::Kaufman { .. } => "kaufman",
            Self::Enumerated(_) => "enumeration",
            Self::None => "none",
        }
    }
}

#[cfg(test)]
mod tests;
