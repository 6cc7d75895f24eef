//! `EnergyError`: what can go wrong when evaluating an energy, and whether a sampler may go on.

/// An error from evaluating an energy.
///
/// [`is_recoverable`](EnergyError::is_recoverable) separates numerical trouble inside a trajectory
/// (reject the move, count a divergence, go on) from errors that make the run meaningless.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
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
}

impl EnergyError {
    /// True for errors a sampler or annealer treats as a rejected move (non-finite values,
    /// states outside the support); false for errors that must end the run.
    pub fn is_recoverable(&self) -> bool {
        matches!(self, Self::NonFinite { .. } | Self::OutOfSupport(_))
    }
}
