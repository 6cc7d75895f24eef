//! thermolab: learning as statistical mechanics — energies, annealing, training and thermodynamics.
//!
//! Everything in this crate serves one idea: a model is an energy function `E(x)` over states, and
//! every engine explores (or descends) the Boltzmann distribution `p(x) ∝ exp(−β·E(x))` of that
//! energy. The sign convention is fixed once: **energy = −log density = loss; lower is better.**
//!
//! Layers, bottom to top:
//! - [`energy`]: the [`Energy`](energy::Energy) and [`Gradient`](energy::Gradient) contracts,
//!   [`Tempered`](energy::Tempered), the log-density adapters and the evaluation counter.
//! - [`systems`]: built-in energies with known answers (test functions, Gaussians, spin models,
//!   posteriors, restricted Boltzmann machines).
//! - [`nn`]: small dense networks whose loss is a `Gradient` energy over a flat parameter vector.
//! - [`kernels`]: single moves and named acceptance rules.
//! - [`drivers`]: the loops — annealing, local optimisation and training.
//! - [`estimate`]: estimators from samples (entropy, plateau detection, summaries).
//! - [`observe`]: observers called by the drivers (monitors, progress, traces).
//! - [`data`]: data sets and loaders (CSV, IDX, NPY; the built-in sin data and digits; MNIST).
//! - [`trace`]: run folders written atomically, CSV traces.
//!
//! Randomness follows one policy ([`rng`]): a run has one `seed`, and each chain, restart or
//! replica draws from its own ChaCha8 stream, so results never depend on thread count.

#![warn(missing_docs)]

pub mod adapt;
pub mod data;
pub mod drivers;
pub mod energy;
pub mod estimate;
pub mod kernels;
pub mod linalg;
pub mod math;
pub mod nn;
pub mod observe;
pub mod rng;
pub mod settings;
pub mod systems;
pub mod trace;

pub use energy::{Counted, Energy, EnergyError, Gradient, Tempered};
pub use observe::{Control, Observer, Termination};
pub use settings::SettingsError;

/// The library version, recorded in every run folder.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
