//! Estimators from samples: differential entropy, histograms, the equilibrium (plateau) rule, and
//! predictive metrics on held-out data and agreement with a reference predictive.

pub mod agreement;
pub mod diagnostics;
pub mod ensemble;
mod entropy;
pub mod evidence;
pub mod exact;
pub mod pareto;
mod plateau;
pub mod predictive;
pub mod series;

pub use entropy::{histogram, vasicek_entropy, Histogram};
pub use plateau::{plateau_epoch, PlateauRule};
