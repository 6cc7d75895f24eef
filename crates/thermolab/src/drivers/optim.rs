//! First-order optimisers over a flat parameter vector: SGD with momentum, and Adam.
//!
//! # References
//! - Polyak, B. T. (1964), "Some methods of speeding up the convergence of iteration methods"
//!   (heavy-ball momentum; the update `v ← μv + g, θ ← θ − ηv` is PyTorch's convention).
//! - Kingma, D. P. & Ba, J. (2015), "Adam: a method for stochastic optimization", ICLR.

use crate::settings::{in_open, positive, SettingsError};
use serde::{Deserialize, Serialize};

/// An optimiser's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OptimizerSettings {
    /// Stochastic gradient descent with heavy-ball momentum.
    Sgd {
        /// Learning rate η.
        lr: f64,
        /// Momentum μ in [0, 1).
        momentum: f64,
    },
    /// Adam with bias correction.
    Adam {
        /// Learning rate η.
        lr: f64,
        /// First-moment decay.
        beta1: f64,
        /// Second-moment decay.
        beta2: f64,
        /// Denominator guard.
        eps: f64,
    },
}

impl Default for OptimizerSettings {
    fn default() -> Self {
        Self::adam(0.01)
    }
}

impl OptimizerSettings {
    /// Adam with PyTorch's defaults and learning rate `lr`.
    pub fn adam(lr: f64) -> Self {
        Self::Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
    /// SGD with learning rate `lr` and momentum `momentum`.
    pub fn sgd(lr: f64, momentum: f64) -> Self {
        Self::Sgd { lr, momentum }
    }
    /// The learning rate.
    pub fn lr(&self) -> f64 {
        match *self {
            Self::Sgd { lr, .. } | Self::Adam { lr, .. } => lr,
        }
    }
    /// The optimiser's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sgd { .. } => "sgd",
            Self::Adam { .. } => "adam",
        }
    }
    /// Checks every field.
    pub fn validate(&self) -> Result<(), SettingsError> {
        match *self {
            Self::Sgd { lr, momentum } => {
                positive("lr", lr)?;
                if !(0.0..1.0).contains(&momentum) {
                    return Err(SettingsError::new(
                        "momentum",
                        format!("must lie in [0, 1), got {momentum}"),
                    ));
                }
            }
            Self::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => {
                positive("lr", lr)?;
                if !(0.0..1.0).contains(&beta1) {
                    return Err(SettingsError::new("beta1", "must lie in [0, 1)"));
                }
                in_open("beta2", beta2, 0.0, 1.0)?;
                positive("eps", eps)?;
            }
        }
        Ok(())
    }
    /// A fresh optimiser state for `n` parameters.
    pub fn build(&self, n: usize) -> Optimizer {
        Optimizer {
            settings: *self,
            m: vec![0.0; n],
            v: match self {
                Self::Adam { .. } => vec![0.0; n],
                Self::Sgd { .. } => Vec::new(),
            },
            t: 0,
        }
    }
}

/// Optimiser state (moments and step count); serialisable for checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Optimizer {
    settings: OptimizerSettings,
    m: Vec<f64>,
    v: Vec<f64>,
    t: u64,
}

impl Optimizer {
    /// The settings.
    pub fn settings(&self) -> &OptimizerSettings {
        &self.settings
    }
    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.t
    }
    /// One update of `theta` along `grad`.
    pub fn step(&mut self, theta: &mut [f64], grad: &[f64]) {
        self.t += 1;
        match self.settings {
            OptimizerSettings::Sgd { lr, momentum } => {
                if momentum == 0.0 {
                    for (p, g) in theta.iter_mut().zip(grad) {
                        *p -= lr * g;
                    }
                } else {
                    for ((p, g), m) in theta.iter_mut().zip(grad).zip(self.m.iter_mut()) {
                        *m = momentum * *m + g;
                        *p -= lr * *m;
                    }
                }
            }
            OptimizerSettings::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => {
                let t = self.t as i32;
                let bc1 = 1.0 - beta1.powi(t);
                let bc2 = 1.0 - beta2.powi(t);
                let step = lr / bc1;
                let sbc2 = bc2.sqrt();
                for (((p, g), m), v) in theta
                    .iter_mut()
                    .zip(grad)
                    .zip(self.m.iter_mut())
                    .zip(self.v.iter_mut())
                {
                    *m = beta1 * *m + (1.0 - beta1) * g;
                    *v = beta2 * *v + (1.0 - beta2) * (g * g);
                    *p -= step * *m / (v.sqrt() / sbc2 + eps);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam_first_step_moves_each_parameter_by_lr() {
        // With bias correction, Adam's first step is lr·sign(g) (up to eps).
        let mut o = OptimizerSettings::adam(0.1).build(3);
        let mut th = [0.0, 1.0, -2.0];
        o.step(&mut th, &[5.0, -0.01, 1e3]);
        for (a, b) in th.iter().zip([-0.1, 1.1, -2.1]) {
            assert!((a - b).abs() < 1e-6, "{th:?}");
        }
    }

    #[test]
    fn sgd_momentum_matches_the_recurrence() {
        let mut o = OptimizerSettings::sgd(0.5, 0.9).build(1);
        let mut th = [0.0];
        o.step(&mut th, &[1.0]); // v = 1, θ = −0.5
        o.step(&mut th, &[1.0]); // v = 1.9, θ = −1.45
        assert!((th[0] + 1.45).abs() < 1e-15);
        assert_eq!(o.steps(), 2);
    }

    #[test]
    fn validation_names_the_field() {
        assert_eq!(
            OptimizerSettings::adam(-0.1).validate().unwrap_err().field,
            "lr"
        );
        assert_eq!(
            OptimizerSettings::sgd(0.1, 1.0)
                .validate()
                .unwrap_err()
                .field,
            "momentum"
        );
        assert!(OptimizerSettings::adam(0.01).validate().is_ok());
    }
}
