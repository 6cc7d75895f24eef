//! Built-in energies with known answers: optimisation test functions and Gaussians.
//!
//! Each system knows something exact about itself — a global minimum, a partition function,
//! moments — so every engine can be checked against the truth.

mod functions;
mod gaussian;
mod linear_net;
pub mod posterior;
pub mod posteriordb;
pub mod rbm;
pub mod spin;

pub use functions::{Ackley, Quadratic, Rastrigin, Rosenbrock};
pub use gaussian::{Ar1Gaussian, IsotropicGaussian};
pub use linear_net::{dln_learning_coefficient, rrr_learning_coefficient, DeepLinearNetwork};

use crate::energy::Gradient;
use serde::{Deserialize, Serialize};

/// An invalid model parameter given to a constructor, naming the parameter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid model parameter `{parameter}`: {message}")]
pub struct ModelError {
    /// The parameter (as the constructor and the command line name it).
    pub parameter: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl ModelError {
    /// A new error for `parameter`.
    pub fn new(parameter: &'static str, message: impl Into<String>) -> Self {
        Self {
            parameter,
            message: message.into(),
        }
    }
}

/// A box `[lower, upper]` on every coordinate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    /// Lower edge on each coordinate.
    pub lower: f64,
    /// Upper edge on each coordinate.
    pub upper: f64,
}

impl Bounds {
    /// Width of the box along one coordinate.
    pub fn width(&self) -> f64 {
        self.upper - self.lower
    }
    /// Reflects `v` back into the box (repeatedly, for large excursions).
    pub fn reflect(&self, mut v: f64) -> f64 {
        if v >= self.lower && v <= self.upper {
            return v;
        }
        let w = self.width();
        if !(v.is_finite()) || w <= 0.0 {
            return self.lower.max(self.upper.min(v));
        }
        // Reduce modulo 2w, then fold.
        let mut t = (v - self.lower).rem_euclid(2.0 * w);
        if t > w {
            t = 2.0 * w - t;
        }
        v = self.lower + t;
        v
    }
}

/// An optimisation test function: an energy with gradient, a known global minimum and a
/// conventional search box.
pub trait TestFunction: Gradient + Send {
    /// The function's name, as the CLI spells it.
    fn name(&self) -> &'static str;
    /// The global minimum value.
    fn minimum(&self) -> f64;
    /// A global minimiser.
    fn argmin(&self) -> Vec<f64>;
    /// The conventional search box (used for restarts and bounded proposals).
    fn domain(&self) -> Bounds;
    /// The conventional success tolerance on `f − f_min` used by benchmarks.
    fn tolerance(&self) -> f64 {
        1e-2
    }
}

/// The names accepted by [`test_function`].
pub const TEST_FUNCTIONS: &[&str] = &["quadratic", "rastrigin", "ackley", "rosenbrock"];

/// Builds a test function by name. `dim` is ignored by the 2-D quadratic.
pub fn test_function(name: &str, dim: usize) -> Result<Box<dyn TestFunction>, ModelError> {
    if dim == 0 {
        return Err(ModelError::new("dim", "dimension must be at least 1"));
    }
    match name {
        "quadratic" => Ok(Box::new(Quadratic)),
        "rastrigin" => Ok(Box::new(Rastrigin::new(dim))),
        "ackley" => Ok(Box::new(Ackley::new(dim))),
        "rosenbrock" if dim < 2 => Err(ModelError::new(
            "dim",
            "rosenbrock needs dimension at least 2",
        )),
        "rosenbrock" => Ok(Box::new(Rosenbrock::new(dim))),
        _ => Err(ModelError::new(
            "function",
            format!(
                "unknown function `{name}` (expected one of: {})",
                TEST_FUNCTIONS.join(", ")
            ),
        )),
    }
}

#[cfg(test)]
pub(crate) mod tests;
