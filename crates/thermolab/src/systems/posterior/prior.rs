//! The Gaussian prior of a network posterior: one sd per layer for the weights and one for the
//! biases, its normalised energy `−ln p(θ)` and gradient.

use crate::nn::{Architecture, LayerSpan};
use crate::systems::ModelError;
use serde::{Deserialize, Serialize};

/// A Gaussian prior `θ ~ N(0, s²)` with one sd for each layer's weights and one for its biases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GaussianPrior {
    /// The weights' sd, per layer.
    pub weight_sd: Vec<f64>,
    /// The biases' sd, per layer.
    pub bias_sd: Vec<f64>,
}

impl GaussianPrior {
    /// The same sd for every parameter.
    pub fn isotropic(arch: &Architecture, sd: f64) -> Self {
        let layers = arch.sizes.len().saturating_sub(1);
        Self {
            weight_sd: vec![sd; layers],
            bias_sd: vec![sd; layers],
        }
    }

    /// Weights' sd `scale/√n_in` per layer (the scale of a He/Glorot initialisation, so that a
    /// prior draw keeps the units' variance from layer to layer), biases' sd `scale`.
    pub fn fan_in(arch: &Architecture, scale: f64) -> Self {
        Self {
            weight_sd: arch
                .layers()
                .iter()
                .map(|l| scale / (l.n_in as f64).sqrt())
                .collect(),
            bias_sd: vec![scale; arch.sizes.len().saturating_sub(1)],
        }
    }

    pub(super) fn check(&self, arch: &Architecture) -> Result<(), ModelError> {
        let layers = arch.sizes.len() - 1;
        if self.weight_sd.len() != layers || self.bias_sd.len() != layers {
            return Err(ModelError::new(
                "prior",
                format!(
                    "the prior has {} weight and {} bias sds but `{arch}` has {layers} layers",
                    self.weight_sd.len(),
                    self.bias_sd.len()
                ),
            ));
        }
        if let Some(s) = self
            .weight_sd
            .iter()
            .chain(&self.bias_sd)
            .find(|s| !(**s > 0.0 && s.is_finite()))
        {
            return Err(ModelError::new(
                "prior",
                format!("every prior sd must be finite and > 0 (got {s})"),
            ));
        }
        Ok(())
    }

    /// `−ln p(θ)` (normalised), adding its gradient to `grad` when given.
    pub(super) fn energy(
        &self,
        spans: &[LayerSpan],
        theta: &[f64],
        mut grad: Option<&mut [f64]>,
    ) -> f64 {
        let half_ln_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
        let mut e = 0.0;
        for (l, span) in spans.iter().enumerate() {
            for (range, sd) in [
                (span.w..span.b, self.weight_sd[l]),
                (span.b..span.b + span.n_out, self.bias_sd[l]),
            ] {
                let prec = 1.0 / (sd * sd);
                let sq: f64 = theta[range.clone()].iter().map(|v| v * v).sum();
                e += 0.5 * prec * sq + range.len() as f64 * (sd.ln() + half_ln_2pi);
                if let Some(g) = grad.as_deref_mut() {
                    for (g, v) in g[range.clone()].iter_mut().zip(&theta[range]) {
                        *g += prec * v;
                    }
                }
            }
        }
        e
    }

    /// The prior's log density `ln p(θ)`, normalised.
    pub fn log_density(&self, arch: &Architecture, theta: &[f64]) -> f64 {
        -self.energy(&arch.layers(), theta, None)
    }
}
