//! Adapters between energies and log densities (`E = −log p`), for users who think in densities.

use super::{Energy, EnergyError, Gradient};

/// A log density `log p(x)` (up to a constant), the probabilistic-programming convention.
pub trait LogDensity {
    /// Number of coordinates.
    fn dim(&self) -> usize;
    /// `log p(x)`.
    fn log_density(&mut self, x: &[f64]) -> Result<f64, EnergyError>;
    /// `log p(x)` and `∇ log p(x)` written into `grad`.
    fn log_density_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, EnergyError>;
}

/// Views a [`LogDensity`] as an energy: `E(x) = −log p(x)`, `∇E = −∇log p`.
#[derive(Debug, Clone)]
pub struct FromLogDensity<L>(pub L);

impl<L: LogDensity> Energy for FromLogDensity<L> {
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        Ok(-self.0.log_density(x)?)
    }
}

impl<L: LogDensity> Gradient for FromLogDensity<L> {
    fn energy_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, EnergyError> {
        let lp = self.0.log_density_grad(x, grad)?;
        grad.iter_mut().for_each(|g| *g = -*g);
        Ok(-lp)
    }
}

/// Views an energy as a log density: `log p(x) = −E(x)`.
#[derive(Debug, Clone)]
pub struct AsLogDensity<E>(pub E);

impl<E: Gradient> LogDensity for AsLogDensity<E> {
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn log_density(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        Ok(-self.0.energy(x)?)
    }
    fn log_density_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, EnergyError> {
        let e = self.0.energy_grad(x, grad)?;
        grad.iter_mut().for_each(|g| *g = -*g);
        Ok(-e)
    }
}
