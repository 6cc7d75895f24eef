//! Activation functions and their derivatives, written in terms of the activation's output where
//! that is cheaper (tanh, sigmoid).

use serde::{Deserialize, Serialize};

/// A pointwise activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `max(0, z)`.
    Relu,
    /// `tanh z`.
    Tanh,
    /// `1 / (1 + e^{−z})`.
    Sigmoid,
    /// `z`.
    Identity,
}

impl Activation {
    /// Parses `relu`, `tanh`, `sigmoid` or `identity` (also `linear`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "relu" => Some(Self::Relu),
            "tanh" => Some(Self::Tanh),
            "sigmoid" => Some(Self::Sigmoid),
            "identity" | "linear" => Some(Self::Identity),
            _ => None,
        }
    }
    /// The activation's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Relu => "relu",
            Self::Tanh => "tanh",
            Self::Sigmoid => "sigmoid",
            Self::Identity => "identity",
        }
    }
    /// Applies the activation.
    #[inline(always)]
    pub fn apply(&self, z: f64) -> f64 {
        match self {
            Self::Relu => z.max(0.0),
            Self::Tanh => crate::math::tanh(z),
            Self::Sigmoid => crate::math::sigmoid(z),
            Self::Identity => z,
        }
    }
    /// Derivative `f'(z)` written in terms of the output `a = f(z)` (for ReLU, `a > 0` exactly
    /// when `z > 0`), so a backward pass needs only the stored outputs.
    #[inline(always)]
    pub fn derivative(&self, a: f64) -> f64 {
        match self {
            Self::Relu => {
                if a > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Self::Tanh => 1.0 - a * a,
            Self::Sigmoid => a * (1.0 - a),
            Self::Identity => 1.0,
        }
    }
}
