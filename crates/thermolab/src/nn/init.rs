//! Seeded parameter initialisation: He (Kaiming) for ReLU, Glorot (Xavier) for saturating units,
//! and PyTorch's `Linear` default.
//!
//! # References
//! - He, Zhang, Ren & Sun (2015), "Delving deep into rectifiers", ICCV.
//! - Glorot & Bengio (2010), "Understanding the difficulty of training deep feedforward neural
//!   networks", AISTATS.

use super::Architecture;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// An initialisation scheme for weights; biases start uniform in ±1/√fan_in (as PyTorch's
/// `Linear`) so that ReLU kinks are spread over the input range rather than all at zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// `W ~ N(0, 2/fan_in)`.
    He,
    /// `W ~ U(±√(6/(fan_in+fan_out)))`.
    Glorot,
    /// He for ReLU networks, Glorot otherwise.
    Auto,
    /// `W ~ U(±1/√fan_in)`: PyTorch's `Linear` default (Kaiming-uniform with a = √5), for
    /// runs compared with PyTorch's.
    Pytorch,
}

impl Init {
    /// Parses `auto`, `he`, `glorot` or `pytorch`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(Self::Auto),
            "he" => Some(Self::He),
            "glorot" => Some(Self::Glorot),
            "pytorch" | "torch" => Some(Self::Pytorch),
            _ => None,
        }
    }
}

impl Init {
    /// Draws a flat parameter vector for `arch`.
    pub fn sample<R: Rng + ?Sized>(&self, arch: &Architecture, rng: &mut R) -> Vec<f64> {
        let scheme = match self {
            Self::Auto if arch.hidden == super::Activation::Relu => Self::He,
            Self::Auto => Self::Glorot,
            s => *s,
        };
        let mut theta = vec![0.0; arch.n_params()];
        for l in arch.layers() {
            let (fi, fo) = (l.n_in as f64, l.n_out as f64);
            for w in &mut theta[l.w..l.b] {
                *w = match scheme {
                    Self::He => {
                        let z: f64 = StandardNormal.sample(rng);
                        (2.0 / fi).sqrt() * z
                    }
                    Self::Pytorch => {
                        let a = 1.0 / fi.sqrt();
                        rng.random_range(-a..a)
                    }
                    _ => {
                        let a = (6.0 / (fi + fo)).sqrt();
                        rng.random_range(-a..a)
                    }
                };
            }
            let bb = 1.0 / fi.sqrt();
            for b in &mut theta[l.b..l.b + l.n_out] {
                *b = rng.random_range(-bb..bb);
            }
        }
        theta
    }
}
