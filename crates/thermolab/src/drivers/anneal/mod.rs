//! Simulated annealing for continuous energies: the adaptive annealer (schedules, restarts,
//! gradient refinement, a stopping rule) driving any annealing kernel, and the seed
//! walkthrough's baseline.
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

pub use adaptive::{
    anneal, anneal_with, AnnealResult, AnnealSettings, InBox, RestartSummary, ValidAnnealSettings,
};
pub use blog::{blog_anneal, BlogSettings, ValidBlogSettings};

/// What an annealer reports to observers after each step.
#[derive(Debug, Clone, Copy)]
pub struct AnnealEvent<'a> {
    /// Restart index (0 for the baseline).
    pub restart: usize,
    /// Iteration within the restart.
    pub iteration: usize,
    /// Temperature at this iteration.
    pub temperature: f64,
    /// Current state after the step.
    pub x: &'a [f64],
    /// Energy of the current state.
    pub energy: f64,
    /// Best energy found so far in the whole run.
    pub best_energy: f64,
    /// Whether the step moved the state.
    pub accepted: bool,
    /// The step's proposal scale (the step size of MCMC kernels).
    pub scale: f64,
}

#[cfg(test)]
mod tests;
