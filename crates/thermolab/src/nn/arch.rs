//! Network architectures and their text form, e.g. `1-10-1:relu` or `64-32-10:tanh`.

use super::Activation;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A dense feed-forward architecture: layer widths, the hidden activation and the output one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Architecture {
    /// Widths from input to output (at least two entries, all ≥ 1).
    pub sizes: Vec<usize>,
    /// Activation of every hidden layer.
    pub hidden: Activation,
    /// Activation of the output layer (identity for regression and for softmax logits).
    pub output: Activation,
}

/// Where one layer's parameters sit in the flat vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerSpan {
    /// Inputs of the layer.
    pub n_in: usize,
    /// Outputs of the layer.
    pub n_out: usize,
    /// Offset of `W` (`n_out × n_in`, row-major).
    pub w: usize,
    /// Offset of `b` (`n_out`).
    pub b: usize,
}

/// Why an architecture string did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad architecture `{text}`: {reason} (expected e.g. `1-10-1:relu`)")]
pub struct ArchitectureError {
    /// The text given.
    pub text: String,
    /// What is wrong.
    pub reason: String,
}

impl Architecture {
    /// A network with the given widths and hidden activation, identity output.
    pub fn new(sizes: Vec<usize>, hidden: Activation) -> Self {
        Self {
            sizes,
            hidden,
            output: Activation::Identity,
        }
    }
    /// Input width.
    pub fn n_inputs(&self) -> usize {
        self.sizes[0]
    }
    /// Output width.
    pub fn n_outputs(&self) -> usize {
        *self.sizes.last().expect("validated")
    }
    /// The layers' parameter spans, in order.
    pub fn layers(&self) -> Vec<LayerSpan> {
        let mut off = 0;
        self.sizes
            .windows(2)
            .map(|w| {
                let span = LayerSpan {
                    n_in: w[0],
                    n_out: w[1],
                    w: off,
                    b: off + w[0] * w[1],
                };
                off += w[0] * w[1] + w[1];
                span
            })
            .collect()
    }
    /// Total number of parameters.
    pub fn n_params(&self) -> usize {
        self.sizes.windows(2).map(|w| w[0] * w[1] + w[1]).sum()
    }
}

impl FromStr for Architecture {
    type Err = ArchitectureError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |reason: String| ArchitectureError {
            text: text.to_string(),
            reason,
        };
        let mut parts = text.trim().split(':');
        let widths = parts.next().unwrap_or("");
        let hidden = match parts.next() {
            None => Activation::Relu,
            Some(a) => Activation::parse(a.trim()).ok_or_else(|| {
                err(format!(
                    "unknown activation `{a}` (relu, tanh, sigmoid, identity)"
                ))
            })?,
        };
        let output = match parts.next() {
            None => Activation::Identity,
            Some(a) => Activation::parse(a.trim())
                .ok_or_else(|| err(format!("unknown output activation `{a}`")))?,
        };
        if parts.next().is_some() {
            return Err(err("too many `:` sections".into()));
        }
        let sizes = widths
            .split('-')
            .map(|w| match w.trim().parse::<usize>() {
                Ok(0) => Err(err("layer widths must be at least 1".into())),
                Ok(n) => Ok(n),
                Err(_) => Err(err(format!("`{w}` is not a layer width"))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if sizes.len() < 2 {
            return Err(err("need at least an input and an output width".into()));
        }
        Ok(Self {
            sizes,
            hidden,
            output,
        })
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w: Vec<String> = self.sizes.iter().map(|s| s.to_string()).collect();
        write!(f, "{}:{}", w.join("-"), self.hidden.name())?;
        if self.output != Activation::Identity {
            write!(f, ":{}", self.output.name())?;
        }
        Ok(())
    }
}
