//! The settings → validated-settings pattern: plain serde structs checked once at the boundary.
//!
//! Every engine takes a plain settings struct (public fields, `Default`, serde) and validates it
//! into a checked form with `validate()`. Validation names the offending field, so the CLI and
//! future bindings can report one clear line; after it, hot loops cannot fail on settings.

/// An invalid setting, naming the field and the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid setting `{field}`: {message}")]
pub struct SettingsError {
    /// The field's name as it appears in the settings struct (and on the command line).
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl SettingsError {
    /// A new error for `field`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Checks that `value` is finite and strictly positive.
pub fn positive(field: &'static str, value: f64) -> Result<f64, SettingsError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(SettingsError::new(
            field,
            format!("must be a finite number > 0, got {value}"),
        ))
    }
}

/// Checks that `value` lies in the open interval (lo, hi).
pub fn in_open(field: &'static str, value: f64, lo: f64, hi: f64) -> Result<f64, SettingsError> {
    if value.is_finite() && value > lo && value < hi {
        Ok(value)
    } else {
        Err(SettingsError::new(
            field,
            format!("must lie in ({lo}, {hi}), got {value}"),
        ))
    }
}

/// Checks that a count is at least one.
pub fn nonzero(field: &'static str, value: usize) -> Result<usize, SettingsError> {
    if value > 0 {
        Ok(value)
    } else {
        Err(SettingsError::new(field, "must be at least 1"))
    }
}
