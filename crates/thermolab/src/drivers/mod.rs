//! Drivers: the loops that own iteration, stopping and bookkeeping — annealing, local
//! optimisation, and training with first-order optimisers.

pub mod anneal;
pub mod evidence;
pub mod lbfgs;
pub mod optim;
pub mod rbm;
pub mod sample;
pub mod schedule;
pub mod spin;
pub mod tempering;
pub mod train;
