//! `EnergyError`: what can go wrong when evaluating an energy, and whether a sampler may go on.

use std::sync::Arc;

/// An error from evaluating an energy.
///
/// [`is_recoverable`](EnergyError::is_recoverable) separates numerical trouble inside a trajectory
/// (reject the move, count a divergence, go on) from errors that make the run meaningless. A
/// user's own energy reports its failures through [`EnergyError::user`], which keeps the user's
/// error as the cause.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum EnergyError {
    /// The energy or a gradient entry was NaN or infinite.
    #[error("non-finite energy or gradient ({value})")]
    NonFinite {
        /// The offending value.
        value: f64,
    },
    /// The state lies outside the energy's support (e.g. a negative scale).
    #[error("state outside the support: {0}")]
    OutOfSupport(String),
    /// The state has the wrong number of coordinates.
    #[error("dimension mismatch: expected {expected} coordinates, got {got}")]
    DimensionMismatch {
        /// The energy's dimension.
        expected: usize,
        /// The state's length.
        got: usize,
    },
    /// The data behind the energy are unusable.
    #[error("bad data: {0}")]
    Data(String),
    /// A user's energy failed; the cause is the user's own error.
    #[error("the energy function failed")]
    User(#[source] Arc<dyn std::error::Error + Send + Sync + 'static>),
}

impl EnergyError {
    /// Wraps a user's own error (ends the run; not a rejected move).
    pub fn user<E: std::error::Error + Send + Sync + 'static>(error: E) -> Self {
        Self::User(Arc::new(error))
    }
}

impl PartialEq for EnergyError {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::NonFinite { value: a }, Self::NonFinite { value: b }) => {
                a == b || (a.is_nan() && b.is_nan())
            }
            (Self::OutOfSupport(a), Self::OutOfSupport(b)) => a == b,
            (
                Self::DimensionMismatch {
                    expected: a,
                    got: b,
                },
                Self::DimensionMismatch {
                    expected: c,
                    got: d,
                },
            ) => a == c && b == d,
            (Self::Data(a), Self::Data(b)) => a == b,
            (Self::User(a), Self::User(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl EnergyError {
    /// True for errors a sampler or annealer treats as a rejected move (non-finite values,
    /// states outside the support); false for errors that must end the run.
    pub fn is_recoverable(&self) -> bool {
        matches!(self, Self::NonFinite { .. } | Self::OutOfSupport(_))
    }
}
