//! Drivers: the loops that own iteration, stopping and bookkeeping. Each takes validated
//! settings, a seed and a [`RunContext`](crate::run::RunContext), and returns a result that
//! names its termination.
//!
//! - [`sample`]: multi-chain MCMC with warm-up adaptation, checkpoints and resume.
//! - [`anneal`]: simulated annealing with any annealing kernel, restarts and refinement.
//! - The methods along a path, one implementation each: [`tempering`] (non-reversible parallel
//!   tempering, for continuous, spin and Boltzmann-machine families), [`ais`] (annealed
//!   importance sampling, forward and reverse), [`ladder`] (spacing by thermodynamic length or
//!   by the barrier Λ).
//! - [`evidence`]: every log-evidence estimator on one posterior.
//! - [`spin`]: temperature sweeps of spin models.
//! - [`rbm`]: training and evaluating Boltzmann machines.
//! - [`train`], [`optim`], [`lbfgs`]: first-order training and local optimisation.
//! - [`sgmcmc`]: stochastic-gradient MCMC over epochs of minibatches; [`llc`]: the local
//!   learning coefficient.

pub mod ais;
pub mod anneal;
pub mod evidence;
pub mod ladder;
pub mod lbfgs;
pub mod llc;
#[cfg(test)]
mod llc_tests;
pub mod optim;
pub mod rbm;
pub mod sample;
pub mod schedule;
pub mod sgmcmc;
#[cfg(test)]
mod sgmcmc_tests;
pub mod spin;
pub mod tempering;
pub mod train;
