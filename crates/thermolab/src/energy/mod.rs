//! The energy contracts: `Energy`, `Gradient`, errors, tempering, paths along t and the
//! log-density adapters.
//!
//! An energy is a scalar function of a flat `f64` state. By convention
//! `E(x) = −log p(x) + const`, so minimising an energy is maximising a density, and sampling at
//! inverse temperature β targets `p_β(x) ∝ exp(−β·E(x))`. A network's training loss is an energy
//! over its parameter vector; a Bayesian posterior is the energy `−log prior − log likelihood`.

mod adapt;
mod counted;
mod error;
mod fitted;
mod path;

pub use adapt::{AsLogDensity, FromLogDensity, LogDensity};
pub use counted::{Counted, EvalCounts};
pub use error::EnergyError;
pub use fitted::FittedReference;
pub use path::{BoltzmannPath, LinearPath, PathAt, PathEnergy, ReferencePath};

/// A scalar energy over a flat state of fixed dimension. Lower is better.
///
/// Implementations may keep scratch buffers, hence `&mut self`. A returned value may be
/// non-finite; callers use [`finite`] to turn that into a recoverable [`EnergyError`].
pub trait Energy {
    /// Number of coordinates of the state.
    fn dim(&self) -> usize;
    /// The energy at `x` (`x.len() == self.dim()`).
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError>;
}

/// An energy that also gives its gradient.
pub trait Gradient: Energy {
    /// Returns `E(x)` and writes `∇E(x)` into the caller-owned `grad` (`grad.len() == dim`).
    fn energy_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, EnergyError>;
}

impl<E: Energy + ?Sized> Energy for &mut E {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        (**self).energy(x)
    }
}

impl<E: Gradient + ?Sized> Gradient for &mut E {
    fn energy_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, EnergyError> {
        (**self).energy_grad(x, grad)
    }
}

impl<E: Energy + ?Sized> Energy for Box<E> {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        (**self).energy(x)
    }
}

impl<E: Gradient + ?Sized> Gradient for Box<E> {
    fn energy_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, EnergyError> {
        (**self).energy_grad(x, grad)
    }
}

/// Turns a non-finite energy value into the recoverable [`EnergyError::NonFinite`].
pub fn finite(value: f64) -> Result<f64, EnergyError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(EnergyError::NonFinite { value })
    }
}

/// Evaluates `energy` and maps non-finite values to a recoverable error.
pub fn eval<E: Energy + ?Sized>(energy: &mut E, x: &[f64]) -> Result<f64, EnergyError> {
    energy.energy(x).and_then(finite)
}

/// Evaluates energy and gradient, mapping non-finite values (energy or any gradient entry)
/// to a recoverable error.
pub fn eval_grad<E: Gradient + ?Sized>(
    energy: &mut E,
    x: &[f64],
    grad: &mut [f64],
) -> Result<f64, EnergyError> {
    let e = energy.energy_grad(x, grad).and_then(finite)?;
    if let Some(g) = grad.iter().find(|g| !g.is_finite()) {
        return Err(EnergyError::NonFinite { value: *g });
    }
    Ok(e)
}

/// `β·E(x)`: the energy seen at inverse temperature β. Every kernel takes β explicitly; this
/// wrapper is for code (optimisers, estimators) that wants the tempered energy as an `Energy`.
#[derive(Debug, Clone)]
pub struct Tempered<E> {
    /// The untempered energy.
    pub inner: E,
    /// Inverse temperature β ≥ 0.
    pub beta: f64,
}

impl<E> Tempered<E> {
    /// Wraps `inner` at inverse temperature `beta`.
    pub fn new(inner: E, beta: f64) -> Self {
        Self { inner, beta }
    }
}

impl<E: Energy> Energy for Tempered<E> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        Ok(self.beta * self.inner.energy(x)?)
    }
}

impl<E: Gradient> Gradient for Tempered<E> {
    fn energy_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, EnergyError> {
        let e = self.inner.energy_grad(x, grad)?;
        grad.iter_mut().for_each(|g| *g *= self.beta);
        Ok(self.beta * e)
    }
}

/// Checks `x.len()` against `dim`, for energies that validate their input.
pub fn check_dim(dim: usize, x: &[f64]) -> Result<(), EnergyError> {
    if x.len() == dim {
        Ok(())
    } else {
        Err(EnergyError::DimensionMismatch {
            expected: dim,
            got: x.len(),
        })
    }
}

#[cfg(test)]
mod tests;
