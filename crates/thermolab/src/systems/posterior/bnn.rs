//! A Bayesian dense network: the posterior over a network's parameters θ with a Gaussian
//! likelihood of noise sd σ and an N(0, s²) prior,
//! `E(θ) = Σ_i ‖y_i − f_θ(x_i)‖² / (2σ²) + ‖θ‖² / (2s²)` (the training loss, rescaled, plus
//! weight decay: "free energy ↔ regularised objective" made literal).

use crate::energy::{Energy, EnergyError, Gradient};
use crate::nn::{Loss, MlpEnergy};

/// The posterior of a regression network.
#[derive(Debug, Clone)]
pub struct BayesianMlp {
    net: MlpEnergy,
    noise_sd: f64,
    prior_sd: f64,
}

impl BayesianMlp {
    /// Wraps a regression network (MSE loss) with noise sd `noise_sd` and prior sd `prior_sd`.
    pub fn new(net: MlpEnergy, noise_sd: f64, prior_sd: f64) -> Result<Self, String> {
        if net.loss() != Loss::Mse {
            return Err("a Bayesian network here needs the MSE (Gaussian) likelihood".into());
        }
        if !(noise_sd > 0.0 && prior_sd > 0.0 && noise_sd.is_finite() && prior_sd.is_finite()) {
            return Err("noise and prior sds must be finite and > 0".into());
        }
        Ok(Self {
            net,
            noise_sd,
            prior_sd,
        })
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
        let mse = self.net.energy(th)?;
        let s2 = self.prior_sd * self.prior_sd;
        Ok(self.scale() * mse + th.iter().map(|t| t * t).sum::<f64>() / (2.0 * s2))
    }
}

impl Gradient for BayesianMlp {
    fn energy_grad(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        let mse = self.net.energy_grad(th, g)?;
        let (c, s2) = (self.scale(), self.prior_sd * self.prior_sd);
        for (gi, t) in g.iter_mut().zip(th) {
            *gi = c * *gi + t / s2;
        }
        Ok(c * mse + th.iter().map(|t| t * t).sum::<f64>() / (2.0 * s2))
    }
}

impl super::split::Posterior for BayesianMlp {
    fn dim(&self) -> usize {
        self.net.dim()
    }
    /// `‖θ‖²/(2s²) + (d/2) ln(2π s²)`.
    fn prior_energy(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        crate::energy::check_dim(self.net.dim(), th)?;
        let s2 = self.prior_sd * self.prior_sd;
        for (gi, t) in g.iter_mut().zip(th) {
            *gi = t / s2;
        }
        Ok(th.iter().map(|t| t * t).sum::<f64>() / (2.0 * s2)
            + 0.5 * th.len() as f64 * (2.0 * std::f64::consts::PI * s2).ln())
    }
    /// `Σ_i ‖y_i − f_θ(x_i)‖²/(2σ²) + (N/2) ln(2π σ²)` with `N` the number of target values.
    fn lik_energy(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        let mse = self.net.energy_grad(th, g)?;
        let c = self.scale();
        for gi in g.iter_mut() {
            *gi *= c;
        }
        let d = self.net.data();
        let n = (d.n * d.n_targets) as f64;
        Ok(c * mse + 0.5 * n * (2.0 * std::f64::consts::PI * self.noise_sd * self.noise_sd).ln())
    }
    fn sample_prior<R: rand::Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) -> bool {
        use rand_distr::{Distribution, StandardNormal};
        for o in out.iter_mut() {
            let z: f64 = StandardNormal.sample(rng);
            *o = self.prior_sd * z;
        }
        true
    }
}
