//! A Bayesian dense network: the posterior over a network's parameters θ with a Gaussian
//! likelihood of noise sd σ and an N(0, s²) prior,
//! `E(θ) = Σ_i ‖y_i − f_θ(x_i)‖² / (2σ²) + ‖θ‖² / (2s²)` (the training loss, rescaled, plus
//! weight decay: "free energy ↔ regularised objective" made literal).

use super::bnn_f32::OneHiddenF32;
use crate::energy::{check_dim, finite, Energy, EnergyError, Gradient};
use crate::nn::{Activation, Loss, MlpEnergy};
use crate::systems::ModelError;

/// Largest `max |y| / σ` for which the single-precision kernel is used.
const F32_TARGET_RANGE: f64 = 1000.0;

/// The posterior of a regression network.
///
/// Networks with one hidden layer and one identity output (`n_in-H-1`, the seed network's
/// shape) are evaluated by a single-precision kernel (about 3× faster; the data rounded to f32,
/// as the JAX stacks run by default) when every target is within 1000 noise sds of zero;
/// [`BayesianMlp::double_precision`] turns it off.
#[derive(Debug, Clone)]
pub struct BayesianMlp {
    net: MlpEnergy,
    noise_sd: f64,
    prior_sd: f64,
    fast: Option<OneHiddenF32>,
    /// Scratch gradient for energy-only evaluations through the fast kernel.
    scratch: Vec<f64>,
}

impl BayesianMlp {
    /// Wraps a regression network (MSE loss) with noise sd `noise_sd` and prior sd `prior_sd`.
    pub fn new(net: MlpEnergy, noise_sd: f64, prior_sd: f64) -> Result<Self, ModelError> {
        if net.loss() != Loss::Mse {
            return Err(ModelError::new(
                "loss",
                "a Bayesian network here needs the MSE (Gaussian) likelihood",
            ));
        }
        if !(noise_sd > 0.0 && prior_sd > 0.0 && noise_sd.is_finite() && prior_sd.is_finite()) {
            return Err(ModelError::new(
                "noise_sd",
                "noise and prior sds must be finite and > 0",
            ));
        }
        let arch = net.architecture();
        // f32 keeps about 7 digits: the targets' rounding (|y|·6·10⁻⁸) must stay far below the
        // noise sd, or the energy would move by more than a sampler tolerates.
        let y_max = net.data().y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let fast = (arch.sizes.len() == 3
            && arch.sizes[2] == 1
            && arch.output == Activation::Identity
            && y_max <= F32_TARGET_RANGE * noise_sd)
            .then(|| {
                let d = net.data();
                OneHiddenF32::new(&d.x, &d.y, d.n, d.n_inputs, arch.sizes[1], arch.hidden)
            });
        let scratch = vec![0.0; net.dim()];
        Ok(Self {
            net,
            noise_sd,
            prior_sd,
            fast,
            scratch,
        })
    }
    /// Computes in double precision throughout (the general network code).
    pub fn double_precision(mut self) -> Self {
        self.fast = None;
        self
    }
    /// Runs the single-precision kernel's portable (non-FMA) code, as on CPUs without AVX2 and
    /// FMA (for tests; a no-op when the kernel is off).
    #[cfg(test)]
    pub(crate) fn force_portable(&mut self) {
        if let Some(k) = self.fast.as_mut() {
            k.force_portable();
        }
    }
    /// Whether the single-precision kernel is in use.
    pub fn single_precision(&self) -> bool {
        self.fast.is_some()
    }
    /// `Σ_i ‖y_i − f_θ(x_i)‖²/(2σ²)` and its gradient in `g`.
    fn data_term(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.net.dim(), th)?;
        check_dim(self.net.dim(), g)?;
        let inv = 1.0 / (2.0 * self.noise_sd * self.noise_sd);
        let ss = match self.fast.as_mut() {
            Some(k) => finite(k.eval(th, g))?,
            None => {
                let c = self.scale();
                let mse = self.net.energy_grad(th, g)?;
                for gi in g.iter_mut() {
                    *gi *= c;
                }
                return Ok(c * mse);
            }
        };
        for gi in g.iter_mut() {
            *gi *= inv;
        }
        Ok(ss * inv)
    }
    /// The underlying network energy (for predictions).
    pub fn network(&mut self) -> &mut MlpEnergy {
        &mut self.net
    }
    /// Factor turning the network's mean squared error into the negative log-likelihood term.
    fn scale(&self) -> f64 {
        let d = self.net.data();
        (d.n * d.n_targets) as f64 / (2.0 * self.noise_sd * self.noise_sd)
    }
}

impl Energy for BayesianMlp {
    fn dim(&self) -> usize {
        self.net.dim()
    }
    fn energy(&mut self, th: &[f64]) -> Result<f64, EnergyError> {
        let s2 = self.prior_sd * self.prior_sd;
        let prior = th.iter().map(|t| t * t).sum::<f64>() / (2.0 * s2);
        if self.fast.is_some() {
            let mut g = std::mem::take(&mut self.scratch);
            let e = self.data_term(th, &mut g);
            self.scratch = g;
            return Ok(e? + prior);
        }
        let mse = self.net.energy(th)?;
        Ok(self.scale() * mse + prior)
    }
}

impl Gradient for BayesianMlp {
    fn energy_grad(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        let data = self.data_term(th, g)?;
        let s2 = self.prior_sd * self.prior_sd;
        for (gi, t) in g.iter_mut().zip(th) {
            *gi += t / s2;
        }
        Ok(data + th.iter().map(|t| t * t).sum::<f64>() / (2.0 * s2))
    }
}

impl crate::energy::LinearPath for BayesianMlp {
    fn log_z_reference(&self) -> Option<f64> {
        Some(0.0)
    }
    fn dim(&self) -> usize {
        self.net.dim()
    }
    /// `‖θ‖²/(2s²) + (d/2) ln(2π s²)`.
    fn reference_energy(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        crate::energy::check_dim(self.net.dim(), th)?;
        let s2 = self.prior_sd * self.prior_sd;
        for (gi, t) in g.iter_mut().zip(th) {
            *gi = t / s2;
        }
        Ok(th.iter().map(|t| t * t).sum::<f64>() / (2.0 * s2)
            + 0.5 * th.len() as f64 * (2.0 * std::f64::consts::PI * s2).ln())
    }
    /// `Σ_i ‖y_i − f_θ(x_i)‖²/(2σ²) + (N/2) ln(2π σ²)` with `N` the number of target values.
    fn delta_energy(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        let data = self.data_term(th, g)?;
        let d = self.net.data();
        let n = (d.n * d.n_targets) as f64;
        Ok(data + 0.5 * n * (2.0 * std::f64::consts::PI * self.noise_sd * self.noise_sd).ln())
    }
    fn sample_reference<R: rand::Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) -> bool {
        use rand_distr::{Distribution, StandardNormal};
        for o in out.iter_mut() {
            let z: f64 = StandardNormal.sample(rng);
            *o = self.prior_sd * z;
        }
        true
    }
}
