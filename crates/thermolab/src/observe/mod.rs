//! Observers that measure: the thermodynamic monitor of training. The observer protocol itself
//! ([`Observer`](crate::run::Observer), [`Control`](crate::run::Control),
//! [`Termination`](crate::run::Termination)) lives in the bottom layer, [`crate::run`], so that
//! drivers never import this module.

mod monitor;

pub use monitor::{ThermoMonitor, ThermoReport};
