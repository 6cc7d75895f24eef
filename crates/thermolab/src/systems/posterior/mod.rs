//! Posterior-like targets for samplers, each with what is known about it exactly: Neal's funnel
//! (centred and non-centred), Gaussian mixtures, Bayesian logistic regression, and a Bayesian
//! version of a small dense network, and the posterior of a dense network of any depth on real
//! data (for stochastic-gradient MCMC).

mod augment;
mod bnn;
mod bnn_f32;
mod funnel;
mod linreg;
mod logistic;
mod logistic_f32;
mod mixture;
mod network;
mod nig;
mod prior;

pub use bnn::BayesianMlp;
pub use funnel::Funnel;
pub use linreg::LinearRegression;
pub use logistic::LogisticRegression;
pub use mixture::GaussianMixture;
pub use network::{
    Augmentation, GaussianPrior, Likelihood, NetworkData, NetworkPosterior, Predictive, Targets,
};
pub use nig::NigRegression;

use crate::energy::{Energy, EnergyError, Gradient, PathAt};
use crate::systems::Ar1Gaussian;

/// Any built-in sampling target, as one type (so drivers and bindings can hold "a target").
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BuiltinTarget {
    /// Correlated AR(1) Gaussian.
    Gaussian(Ar1Gaussian),
    /// Neal's funnel.
    Funnel(Funnel),
    /// Gaussian mixture.
    Mixture(GaussianMixture),
    /// Bayesian logistic regression.
    Logistic(LogisticRegression),
    /// Bayesian dense network.
    Network(Box<BayesianMlp>),
    /// A posteriordb posterior at t = 1.
    PosteriorDb(Box<PathAt<crate::systems::posteriordb::PosteriorDb>>),
}

impl BuiltinTarget {
    fn inner(&mut self) -> &mut dyn Gradient {
        match self {
            Self::Gaussian(t) => t,
            Self::Funnel(t) => t,
            Self::Mixture(t) => t,
            Self::Logistic(t) => t,
            Self::Network(t) => t.as_mut(),
            Self::PosteriorDb(t) => t.as_mut(),
        }
    }
}

impl Energy for BuiltinTarget {
    fn dim(&self) -> usize {
        match self {
            Self::Gaussian(t) => t.dim(),
            Self::Funnel(t) => t.dim(),
            Self::Mixture(t) => t.dim(),
            Self::Logistic(t) => Energy::dim(t),
            Self::Network(t) => t.dim(),
            Self::PosteriorDb(t) => t.dim(),
        }
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        self.inner().energy(x)
    }
}

impl Gradient for BuiltinTarget {
    fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        self.inner().energy_grad(x, g)
    }
}

#[cfg(test)]
mod network_tests;
#[cfg(test)]
mod tests;
