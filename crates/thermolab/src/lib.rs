//! thermolab: learning as statistical mechanics — energies, sampling, annealing, tempering,
//! partition functions and the thermodynamics of models.
//!
//! Everything in this crate serves one idea: a model is an energy function `E(x)` over states, and
//! every engine explores (or descends) the Boltzmann distribution `p(x) ∝ exp(−β·E(x))` of that
//! energy. The sign convention is fixed once: **energy = −log density = loss; lower is better.**
//!
//! One energy and one kernel serve every engine: a [`Kernel`](kernels::Kernel) steps a state at
//! an explicit β, so sampling, annealing, parallel tempering and AIS all reuse the same moves; a
//! [`LinearPath`](energy::LinearPath) `E_t = E_ref + t·ΔE` is what every method along t
//! (tempering, AIS, thermodynamic integration, stepping-stone) moves along; and every driver
//! takes a [`RunContext`] (observers, a stop flag, a budget) and names its
//! [`Termination`].
//!
//! Layers, bottom to top:
//! - foundation: [`math`], [`linalg`], [`rng`] (named random streams), [`settings`] (validation),
//!   [`run`] (observers, stop flag, budget, termination);
//! - [`energy`]: the [`Energy`] and [`Gradient`] contracts, paths, log-density adapters;
//! - [`data`]: data sets and loaders; [`nn`]: small dense networks as energies;
//! - [`systems`]: built-in energies with known answers (Gaussians, funnels, posteriors, spin
//!   models, restricted Boltzmann machines, test functions);
//! - [`estimate`]: estimators from samples (diagnostics, TI, stepping-stone, bridge, exact
//!   answers); [`error`]: the error every driver returns;
//! - [`kernels`] and [`adapt`]: moves and their tuning;
//! - [`drivers`]: the loops (sampling, annealing, tempering, AIS, evidence, spin sweeps, training);
//! - [`observe`]: observers that measure; [`trace`]: run folders and traces.
//!
//! A first program: sample a custom energy with NUTS and read R̂ and ESS.
//!
//! ```
//! use thermolab::prelude::*;
//!
//! #[derive(Clone)]
//! struct Bowl; // E(x) = ½|x|², a standard normal
//! impl Energy for Bowl {
//!     fn dim(&self) -> usize { 3 }
//!     fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
//!         Ok(0.5 * x.iter().map(|v| v * v).sum::<f64>())
//!     }
//! }
//! impl Gradient for Bowl {
//!     fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
//!         g.copy_from_slice(x);
//!         self.energy(x)
//!     }
//! }
//!
//! let settings = SampleSettings { warmup: 200, draws: 200, ..Default::default() }.validate(3)?;
//! let run = sample(&Bowl, &settings, 7, &mut RunContext::new())?;
//! let x0 = run.summary(0, "x0");
//! assert!(x0.r_hat < 1.05 && x0.mean.abs() < 5.0 * x0.mcse_mean);
//! # Ok::<(), thermolab::Error>(())
//! ```

#![warn(missing_docs)]

pub mod adapt;
pub mod certify;
pub mod data;
pub mod drivers;
pub mod energy;
pub mod error;
pub mod estimate;
pub(crate) mod gemm;
pub mod kernels;
pub mod linalg;
pub mod math;
pub mod nn;
pub(crate) mod noise;
pub mod observe;
pub mod rng;
pub mod run;
pub mod settings;
pub mod systems;
pub mod targets;
pub mod trace;
pub mod workers;

pub use energy::{Counted, Energy, EnergyError, Gradient, Tempered};
pub use error::Error;
pub use run::{Control, Observer, RunContext, Termination};
pub use settings::SettingsError;

/// What a user's first programs need, in one import: `use thermolab::prelude::*;`.
pub mod prelude {
    pub use crate::drivers::evidence::{evidence, EvidenceSettings};
    pub use crate::drivers::rbm::{init_rbm, RbmTrainer, TrainSettings as RbmTrainSettings};
    pub use crate::drivers::sample::{resume, sample, sample_with, InitPoint, SampleSettings};
    pub use crate::drivers::tempering::{temper, PathReplicas, TemperingSettings};
    pub use crate::energy::{
        BoltzmannPath, Counted, Energy, EnergyError, Gradient, LinearPath, PathAt, ReferencePath,
    };
    pub use crate::error::Error;
    pub use crate::kernels::mcmc::{
        Hmc, Mala, McmcKernel, Nuts, Rwm, SamplerKind, State, StepInfo, TunedKernel,
    };
    pub use crate::kernels::Kernel;
    pub use crate::run::{Budget, Control, Observer, RunContext, StopFlag, Termination};
    pub use crate::systems::rbm::{log_partition_exact, Rbm, VisibleKind};
    pub use crate::systems::{Ar1Gaussian, IsotropicGaussian};
}

/// The library version, recorded in every run folder.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
