//! The thermodynamic monitor of training: energy (loss) per epoch, the equilibrium epoch, the
//! gradient-noise temperature of minibatch training, and the weights' histogram and entropy.
//!
//! Gradient-noise temperature: near a minimum, SGD with learning rate η and minibatch gradients
//! of per-parameter variance σᵢ² behaves like Langevin dynamics at temperature
//! `T = η·σ²/2` (Mandt, Hoffman & Blei 2017, "Stochastic gradient descent as approximate Bayesian
//! inference", JMLR 18; the noise scale ε·N/B of Smith & Le 2018 is the same quantity up to the
//! per-example variance). The monitor measures σᵢ² across the minibatches of each epoch (sample
//! variance) and reports `T = η · mean_i(σᵢ²) / 2`. Full-batch training has no gradient noise:
//! its temperature is `None`.

use crate::drivers::train::TrainEvent;
use crate::estimate::{histogram, plateau_epoch, vasicek_entropy, Histogram, PlateauRule};
use crate::run::{Control, Observer, Termination};
use serde::{Deserialize, Serialize};

/// What the monitor measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ThermoReport {
    /// Loss (energy) per epoch.
    pub energy: Vec<f64>,
    /// Gradient-noise temperature per epoch (`None` for full-batch epochs).
    pub noise_temperature: Vec<Option<f64>>,
    /// `(epoch, entropy)` of the weights' empirical distribution, at the monitor's cadence.
    pub weight_entropy: Vec<(usize, f64)>,
    /// First epoch in equilibrium by the plateau rule.
    pub equilibrium_epoch: Option<usize>,
    /// The plateau rule used.
    pub plateau_rule: PlateauRule,
    /// Histogram of the final weights.
    pub final_weights: Option<Histogram>,
    /// Differential entropy (nats) of the final weights (Vasicek estimator).
    pub final_weight_entropy: Option<f64>,
    /// Mean noise temperature over the last 10% of epochs (minibatch runs).
    pub final_noise_temperature: Option<f64>,
}

/// The monitor (an observer of [`TrainEvent`]s).
#[derive(Debug, Clone)]
pub struct ThermoMonitor {
    report: ThermoReport,
    entropy_every: usize,
    bins: usize,
    mean: Vec<f64>,
    m2: Vec<f64>,
    count: usize,
    lr: f64,
    last_theta: Vec<f64>,
}

impl ThermoMonitor {
    /// A monitor that estimates the weight entropy every `entropy_every` epochs and bins the
    /// final weights into `bins` bins.
    pub fn new(entropy_every: usize, bins: usize) -> Self {
        Self {
            report: ThermoReport::default(),
            entropy_every: entropy_every.max(1),
            bins,
            mean: Vec::new(),
            m2: Vec::new(),
            count: 0,
            lr: 0.0,
            last_theta: Vec::new(),
        }
    }
    /// The measurements so far (complete after `on_finish`).
    pub fn report(&self) -> &ThermoReport {
        &self.report
    }
    /// Takes the report.
    pub fn into_report(self) -> ThermoReport {
        self.report
    }
}

impl<'a> Observer<TrainEvent<'a>> for ThermoMonitor {
    fn on_step(&mut self, ev: &TrainEvent<'a>) -> Control {
        match *ev {
            TrainEvent::Batch {
                grad,
                batch,
                batches_per_epoch,
                lr,
                ..
            } => {
                self.lr = lr;
                if batches_per_epoch < 2 {
                    return Control::Continue;
                }
                if batch == 0 {
                    self.mean.clear();
                    self.mean.resize(grad.len(), 0.0);
                    self.m2.clear();
                    self.m2.resize(grad.len(), 0.0);
                    self.count = 0;
                }
                // Welford's update per parameter.
                self.count += 1;
                let c = self.count as f64;
                for ((m, s), g) in self.mean.iter_mut().zip(self.m2.iter_mut()).zip(grad) {
                    let d = g - *m;
                    *m += d / c;
                    *s += d * (g - *m);
                }
            }
            TrainEvent::Epoch { epoch, loss, theta } => {
                self.report.energy.push(loss);
                let t = (self.count >= 2).then(|| {
                    let var = self.m2.iter().sum::<f64>()
                        / ((self.count - 1) as f64 * self.m2.len().max(1) as f64);
                    self.lr * var / 2.0
                });
                self.report.noise_temperature.push(t);
                self.count = 0;
                if epoch % self.entropy_every == 0 {
                    if let Some(h) = vasicek_entropy(theta) {
                        self.report.weight_entropy.push((epoch, h));
                    }
                }
                self.last_theta.clear();
                self.last_theta.extend_from_slice(theta);
            }
        }
        Control::Continue
    }

    fn on_finish(&mut self, _t: Termination) {
        let r = &mut self.report;
        r.equilibrium_epoch = plateau_epoch(&r.energy, &r.plateau_rule);
        let n = r.noise_temperature.len();
        let tail: Vec<f64> = r.noise_temperature[n - n.div_ceil(10)..]
            .iter()
            .flatten()
            .copied()
            .collect();
        r.final_noise_temperature =
            (!tail.is_empty()).then(|| tail.iter().sum::<f64>() / tail.len() as f64);
        if !self.last_theta.is_empty() {
            r.final_weights = Some(histogram(&self.last_theta, self.bins));
            r.final_weight_entropy = vasicek_entropy(&self.last_theta);
        }
    }
}
