//! `Counted`: a wrapper that counts energy and gradient evaluations, so algorithms need not.

use super::{Energy, EnergyError, Gradient};
use serde::{Deserialize, Serialize};

/// Evaluation counts of a [`Counted`] energy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalCounts {
    /// Calls that computed the energy alone.
    pub energy: u64,
    /// Calls that computed energy and gradient together.
    pub gradient: u64,
}

impl EvalCounts {
    /// Cost in function-evaluation units: an energy call counts one, an energy+gradient call two
    /// (the convention used to compare with derivative-free optimisers).
    pub fn cost(&self) -> u64 {
        self.energy + 2 * self.gradient
    }
}

/// Wraps an energy and counts every evaluation.
#[derive(Debug, Clone)]
pub struct Counted<E> {
    /// The wrapped energy.
    pub inner: E,
    counts: EvalCounts,
}

impl<E> Counted<E> {
    /// Starts counting from zero.
    pub fn new(inner: E) -> Self {
        Self {
            inner,
            counts: EvalCounts::default(),
        }
    }
    /// The counts so far.
    pub fn counts(&self) -> EvalCounts {
        self.counts
    }
    /// Unwraps the energy.
    pub fn into_inner(self) -> E {
        self.inner
    }
}

impl<E: Energy> Energy for Counted<E> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        self.counts.energy += 1;
        self.inner.energy(x)
    }
}

impl<E: Gradient> Gradient for Counted<E> {
    fn energy_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, EnergyError> {
        self.counts.gradient += 1;
        self.inner.energy_grad(x, grad)
    }
}
