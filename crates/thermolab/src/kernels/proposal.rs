//! Random-walk step distributions for proposals: Gaussian and Cauchy (heavy-tailed).

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// The shape of a random-walk step; the scale is applied by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepDistribution {
    /// Standard normal steps.
    Gaussian,
    /// Standard Cauchy steps: mostly local, with occasional long jumps between basins (the
    /// "fast annealing" visiting distribution of Szu & Hartley 1987).
    #[default]
    Cauchy,
}

impl StepDistribution {
    /// One standardised step.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Self::Gaussian => StandardNormal.sample(rng),
            Self::Cauchy => {
                // tan(π(u − ½)) with u in the open interval (0, 1).
                let u: f64 = rng.random::<f64>();
                (std::f64::consts::PI * (u - 0.5)).tan()
            }
        }
    }
}
