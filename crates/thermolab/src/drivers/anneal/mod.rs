//! Simulated annealing for continuous energies: the seed walkthrough's baseline, and the adaptive
//! annealer with schedules, restarts, gradient refinement and a stopping rule.
//!
//! Annealing samples `p_T(x) ∝ exp(−E(x)/T)` while T falls, so the chain settles into low-energy
//! basins; at T → 0 it is a minimiser.
//!
//! # References
//! - Kirkpatrick, Gelatt & Vecchi (1983), "Optimization by simulated annealing", *Science* 220.
//! - Szu & Hartley (1987), "Fast simulated annealing", *Phys. Lett. A* 122 (Cauchy visiting steps).
//! - Johnson, Aragon, McGeoch & Schevon (1989), "Optimization by simulated annealing: an
//!   experimental evaluation", *Operations Research* 37 (initial temperature from a target
//!   initial acceptance rate).

mod adaptive;
mod blog;

pub use adaptive::{anneal, AnnealResult, AnnealSettings, RestartSummary, ValidAnnealSettings};
pub use blog::{blog_anneal, BlogResult, BlogSettings};

/// What an annealer reports to observers after each proposal.
#[derive(Debug, Clone, Copy)]
pub struct AnnealEvent<'a> {
    /// Restart index (0 for the baseline).
    pub restart: usize,
    /// Iteration within the restart.
    pub iteration: usize,
    /// Temperature at this iteration.
    pub temperature: f64,
    /// Current state after the accept/reject decision.
    pub x: &'a [f64],
    /// Energy of the current state.
    pub energy: f64,
    /// Best energy found so far in the whole run.
    pub best_energy: f64,
    /// Whether the proposal was accepted.
    pub accepted: bool,
    /// Current proposal scale.
    pub scale: f64,
}

#[cfg(test)]
mod tests;
