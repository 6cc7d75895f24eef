//! Posterior-like targets for samplers, each with what is known about it exactly: Neal's funnel
//! (centred and non-centred), Gaussian mixtures, Bayesian logistic regression, and a Bayesian
//! version of a small dense network.

mod bnn;
mod funnel;
mod logistic;
mod mixture;

pub use bnn::BayesianMlp;
pub use funnel::Funnel;
pub use logistic::LogisticRegression;
pub use mixture::GaussianMixture;

#[cfg(test)]
mod tests;
