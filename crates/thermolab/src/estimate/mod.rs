//! Estimators from samples: differential entropy, histograms and the equilibrium (plateau) rule.

pub mod diagnostics;
mod entropy;
pub mod evidence;
pub mod exact;
pub mod pareto;
mod plateau;
pub mod series;

pub use entropy::{histogram, vasicek_entropy, Histogram};
pub use plateau::{plateau_epoch, PlateauRule};
