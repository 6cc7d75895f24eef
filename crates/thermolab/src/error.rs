//! [`Error`]: what a thermolab run can fail with, one variant per domain, each keeping its cause.
//!
//! Each layer has its own error type ([`EnergyError`], [`SettingsError`], [`ModelError`],
//! [`DataError`], [`RbmError`], …); drivers and the top-level helpers return this enum, which
//! wraps them without losing the chain of causes. Every message names what was wrong: a field, a
//! file and line, a parameter.

use crate::data::DataError;
use crate::energy::EnergyError;
use crate::nn::ArchitectureError;
use crate::settings::SettingsError;
use crate::systems::rbm::{ModelFileError, RbmError};
use crate::systems::spin::SpinFileError;
use crate::systems::ModelError;
use std::path::PathBuf;

/// A failed run or a refused input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is invalid.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The energy could not be evaluated (bad data, wrong dimension, a user's own error).
    #[error(transparent)]
    Energy(#[from] EnergyError),
    /// A model parameter is invalid.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A data file or data set is unusable.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A network architecture is invalid.
    #[error(transparent)]
    Architecture(#[from] ArchitectureError),
    /// A Boltzmann machine or its data is invalid.
    #[error(transparent)]
    Rbm(#[from] RbmError),
    /// A model file is unreadable or invalid.
    #[error(transparent)]
    ModelFile(#[from] ModelFileError),
    /// An edge-list file is unreadable or invalid.
    #[error(transparent)]
    SpinFile(#[from] SpinFileError),
    /// A file could not be written or read.
    #[error("cannot access {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A run whose partial result means nothing (an AIS run that did not reach the end of its
    /// schedule) was stopped by the stop flag or the budget.
    #[error("{what} stopped before it finished ({})", termination.as_str())]
    Stopped {
        /// What was running.
        what: &'static str,
        /// Why it stopped.
        termination: crate::run::Termination,
    },
    /// A message between the parts of a distributed run does not fit the run (damaged, cut
    /// short, or from another run).
    #[error("distributed run: {0}")]
    Protocol(String),
    /// A checkpoint does not belong to this run or is damaged.
    #[error("{path}: {message}")]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}
