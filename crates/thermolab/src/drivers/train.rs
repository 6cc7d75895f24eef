//! Training: first-order optimisation of a minibatch energy (a network's loss) over epochs,
//! full-batch or in shuffled minibatches, with observers and a termination reason.
//!
//! Training is the T → 0 limit of sampling: the optimiser descends the energy; minibatch noise
//! plays the role of a temperature (see [`ThermoMonitor`](crate::observe::ThermoMonitor)).

use super::optim::{Optimizer, OptimizerSettings};
use crate::energy::EvalCounts;
use crate::error::Error;
use crate::nn::MinibatchEnergy;
use crate::rng::{self, Purpose};
use crate::run::{Observer, RunContext, Termination};
use crate::settings::{nonzero, SettingsError};
use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Settings of [`train`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainSettings {
    /// Passes over the data.
    pub epochs: usize,
    /// Rows per minibatch; `None` (or ≥ the data size) trains full-batch.
    pub batch_size: Option<usize>,
    /// The optimiser.
    pub optimizer: OptimizerSettings,
}

impl Default for TrainSettings {
    fn default() -> Self {
        Self {
            epochs: 2000,
            batch_size: None,
            optimizer: OptimizerSettings::default(),
        }
    }
}

/// Settings that passed [`TrainSettings::validate`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidTrainSettings(TrainSettings);

impl ValidTrainSettings {
    /// The checked settings.
    pub fn get(&self) -> &TrainSettings {
        &self.0
    }
}

impl TrainSettings {
    /// Checks every field once.
    pub fn validate(self) -> Result<ValidTrainSettings, SettingsError> {
        nonzero("epochs", self.epochs)?;
        if let Some(b) = self.batch_size {
            nonzero("batch_size", b)?;
        }
        self.optimizer.validate()?;
        Ok(ValidTrainSettings(self))
    }
}

/// What the training driver reports to observers.
#[derive(Debug, Clone, Copy)]
pub enum TrainEvent<'a> {
    /// After the gradient of one minibatch (before the update).
    Batch {
        /// Epoch index (0-based).
        epoch: usize,
        /// Minibatch index within the epoch.
        batch: usize,
        /// Minibatch loss.
        loss: f64,
        /// Minibatch gradient.
        grad: &'a [f64],
        /// Learning rate.
        lr: f64,
        /// Number of minibatches per epoch.
        batches_per_epoch: usize,
    },
    /// After each epoch.
    Epoch {
        /// Epoch index (0-based).
        epoch: usize,
        /// Mean minibatch loss over the epoch (for full-batch: the loss before the update).
        loss: f64,
        /// Parameters after the epoch.
        theta: &'a [f64],
    },
}

/// Result of [`train`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainResult {
    /// Final parameters.
    pub theta: Vec<f64>,
    /// Loss per epoch (mean over minibatches; full-batch: before the epoch's update).
    pub losses: Vec<f64>,
    /// Full-data loss at the final parameters (NaN if diverged).
    pub final_loss: f64,
    /// Epochs completed.
    pub epochs_run: usize,
    /// Why training stopped.
    pub termination: Termination,
    /// Gradient evaluations (one per minibatch) and energy evaluations.
    pub evaluations: EvalCounts,
    /// Wall time of the training loop, in seconds.
    pub loop_seconds: f64,
}

/// Trains `energy` from `theta0` (minibatch order from stream (seed, training, 0)). A
/// non-finite loss or gradient ends training as `Diverged` (the parameters are those before the
/// offending step); bad data ends it with the error; the context may stop it after any
/// minibatch.
pub fn train<E, O>(
    energy: &mut E,
    theta0: Vec<f64>,
    settings: &ValidTrainSettings,
    seed: u64,
    ctx: &mut RunContext<O>,
) -> Result<TrainResult, Error>
where
    E: MinibatchEnergy + ?Sized,
    O: for<'a> Observer<TrainEvent<'a>>,
{
    let mut rng = rng::stream(seed, Purpose::Training, 0);
    let s = settings.get();
    let n = energy.n_data();
    let p = energy.dim();
    crate::energy::check_dim(p, &theta0)?;
    let full = s.batch_size.is_none_or(|b| b >= n);
    let bs = if full { n } else { s.batch_size.unwrap_or(n) };
    let nb = n.div_ceil(bs);
    let lr = s.optimizer.lr();
    let mut opt: Optimizer = s.optimizer.build(p);
    let mut theta = theta0;
    let mut grad = vec![0.0; p];
    let mut order: Vec<usize> = (0..n).collect();
    let mut losses = Vec::with_capacity(s.epochs.min(1 << 16));
    let mut counts = EvalCounts::default();
    let mut termination = Termination::Finished;
    ctx.init::<TrainEvent<'_>>();
    let start = Instant::now();
    energy.set_batch(None);
    'epochs: for epoch in 0..s.epochs {
        if !full {
            order.shuffle(&mut rng);
        }
        let mut sum = 0.0;
        for b in 0..nb {
            if !full {
                energy.set_batch(Some(&order[b * bs..((b + 1) * bs).min(n)]));
            }
            counts.gradient += 1;
            let loss = match crate::energy::eval_grad(energy, &theta, &mut grad) {
                Ok(v) => v,
                Err(e) if e.is_recoverable() => {
                    termination = Termination::Diverged;
                    break 'epochs;
                }
                Err(e) => return Err(e.into()),
            };
            sum += loss;
            let ev = TrainEvent::Batch {
                epoch,
                batch: b,
                loss,
                grad: &grad,
                lr,
                batches_per_epoch: nb,
            };
            if let Some(t) = ctx.step(&ev, counts.gradient) {
                termination = t;
            }
            opt.step(&mut theta, &grad);
        }
        let loss = sum / nb as f64;
        losses.push(loss);
        let ev = TrainEvent::Epoch {
            epoch,
            loss,
            theta: &theta,
        };
        if let Some(t) = ctx.step(&ev, counts.gradient) {
            termination = t;
        }
        if termination != Termination::Finished {
            break;
        }
    }
    let loop_seconds = start.elapsed().as_secs_f64();
    energy.set_batch(None);
    counts.energy += 1;
    let final_loss = match energy.energy(&theta) {
        Ok(v) if v.is_finite() => v,
        Ok(_) => {
            termination = Termination::Diverged;
            f64::NAN
        }
        Err(e) if e.is_recoverable() => {
            termination = Termination::Diverged;
            f64::NAN
        }
        Err(e) => return Err(e.into()),
    };
    ctx.finish::<TrainEvent<'_>>(termination);
    Ok(TrainResult {
        theta,
        epochs_run: losses.len(),
        losses,
        final_loss,
        termination,
        evaluations: counts,
        loop_seconds,
    })
}

/// The gradient-noise temperature `T = η · mean_i Var_b(g_i) / 2` that minibatch training with
/// batch size `batch_size` and learning rate `lr` would feel at `theta`: the variance is taken
/// over the minibatches of one shuffled pass (see [`ThermoMonitor`](crate::observe::ThermoMonitor)
/// for the formula's source). `None` when fewer than two minibatches fit in the data or an
/// evaluation fails. Restores full-batch evaluation afterwards.
pub fn noise_temperature_probe<E, R>(
    energy: &mut E,
    theta: &[f64],
    batch_size: usize,
    lr: f64,
    rng: &mut R,
) -> Option<f64>
where
    E: MinibatchEnergy + ?Sized,
    R: Rng + ?Sized,
{
    let n = energy.n_data();
    let bs = batch_size.max(1);
    let nb = n / bs;
    if nb < 2 {
        return None;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    let p = theta.len();
    let (mut mean, mut m2, mut g) = (vec![0.0; p], vec![0.0; p], vec![0.0; p]);
    let mut ok = true;
    for b in 0..nb {
        energy.set_batch(Some(&order[b * bs..(b + 1) * bs]));
        if crate::energy::eval_grad(energy, theta, &mut g).is_err() {
            ok = false;
            break;
        }
        let c = (b + 1) as f64;
        for i in 0..p {
            let d = g[i] - mean[i];
            mean[i] += d / c;
            m2[i] += d * (g[i] - mean[i]);
        }
    }
    energy.set_batch(None);
    ok.then(|| lr * m2.iter().sum::<f64>() / ((nb - 1) as f64 * p as f64) / 2.0)
}
