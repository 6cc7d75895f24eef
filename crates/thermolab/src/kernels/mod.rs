//! Kernels: single moves that leave a Boltzmann distribution invariant, the [`Kernel`] protocol
//! they share, and named acceptance rules.
//!
//! A kernel is a stepping state machine over a target and a state:
//! `step(&mut self, target, &mut state, β, rng) -> Stats`. β is explicit, so one kernel serves
//! sampling (fixed β), annealing (rising β), tempering and annealed importance sampling. For a
//! plain energy the kernel targets `exp(−β·E)`; for a path target (a Boltzmann machine annealed
//! from its base-rate machine, say) β is the position on the path. A kernel asks of its target
//! only what it uses: random-walk Metropolis an [`Energy`](crate::energy::Energy), MALA, HMC and
//! NUTS a [`Gradient`](crate::energy::Gradient), spin kernels local energy changes, block Gibbs
//! the conditionals of a Boltzmann machine. Kernels own their working buffers, so a step
//! allocates nothing once the buffers have their size.
//!
//! Users implement [`Kernel`] for their own moves; every driver that is generic over a kernel
//! (sampling, annealing, tempering, AIS) then runs them.
//!
//! ```
//! use rand::Rng;
//! use thermolab::prelude::*;
//!
//! /// A move that flips the sign of every coordinate: exact for a symmetric energy.
//! struct Flip;
//! impl<T: Energy + ?Sized> Kernel<T, State> for Flip {
//!     type Stats = bool;
//!     fn step<R: Rng + ?Sized>(
//!         &mut self,
//!         target: &mut T,
//!         state: &mut State,
//!         beta: f64,
//!         rng: &mut R,
//!     ) -> Result<bool, EnergyError> {
//!         let y: Vec<f64> = state.x.iter().map(|v| -v).collect();
//!         let e = target.energy(&y)?;
//!         let accept = rng.random::<f64>() < (-beta * (e - state.energy)).exp();
//!         if accept {
//!             state.x = y;
//!             state.energy = e;
//!         }
//!         Ok(accept)
//!     }
//! }
//!
//! let mut target = IsotropicGaussian::new(vec![0.0; 2], 1.0)?;
//! let mut state = State::without_gradient(&mut target, vec![1.0, 2.0])?;
//! let moved = Flip.step(&mut target, &mut state, 1.0, &mut thermolab::rng::chain_stream(0, 0))?;
//! assert!(moved && state.x == vec![-1.0, -2.0]);
//! # Ok::<(), thermolab::Error>(())
//! ```

mod accept;
pub mod anneal;
pub mod mcmc;
mod proposal;
pub mod rbm;
pub mod sgmcmc;
pub mod spin;

pub use accept::AcceptanceRule;
pub use proposal::StepDistribution;

use crate::energy::EnergyError;
use rand::Rng;

/// One move of a Markov chain that leaves the target's distribution at β invariant.
pub trait Kernel<T: ?Sized, S: ?Sized> {
    /// What one step reports (acceptance, energy error, evaluations, …).
    type Stats;
    /// Moves `state` one step targeting `target` at inverse temperature (or path position) β.
    /// Recoverable energy errors (NaN, out of support) reject the move; others are returned.
    fn step<R: Rng + ?Sized>(
        &mut self,
        target: &mut T,
        state: &mut S,
        beta: f64,
        rng: &mut R,
    ) -> Result<Self::Stats, EnergyError>;
}
