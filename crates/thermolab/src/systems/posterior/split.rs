//! Posteriors split into prior and likelihood, and the power posterior
//! `p_t(θ) ∝ prior(θ) · L(θ)^t` that evidence estimators move along (t from 0 to 1).
//!
//! With energies `E_prior = −log prior(θ)` and `E_lik = −log L(θ)` (both normalised), the
//! power posterior's energy is `E_t = E_prior + t·E_lik`, its normaliser `Z(t)` satisfies
//! `Z(0) = 1`, `Z(1) = p(data)` (the evidence), and `d ln Z/dt = −⟨E_lik⟩_t`.

use crate::energy::{check_dim, Energy, EnergyError, Gradient};

/// A posterior with separately computable (normalised) prior and likelihood energies.
pub trait Posterior: Clone + Send + Sync {
    /// Number of parameters.
    fn dim(&self) -> usize;
    /// `−log prior(θ)`, gradient into `g`.
    fn prior_energy(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError>;
    /// `−log L(θ)`, gradient into `g`.
    fn lik_energy(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError>;
    /// Draws θ from the prior (for AIS particles); returns false when the prior cannot be
    /// sampled (e.g. a Boltzmann path whose "prior" is flat).
    fn sample_prior<R: rand::Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) -> bool;
}

/// The Boltzmann path of a plain energy: "prior" 0 and "likelihood" E, so the power posterior
/// at t is `exp(−t E)`: parallel tempering in the usual physical sense (t = β > 0 only).
#[derive(Debug, Clone)]
pub struct BoltzmannPath<E>(pub E);

impl<E: Gradient + Clone + Send + Sync> Posterior for BoltzmannPath<E> {
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn prior_energy(&mut self, _th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        g.iter_mut().for_each(|v| *v = 0.0);
        Ok(0.0)
    }
    fn lik_energy(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        self.0.energy_grad(th, g)
    }
    fn sample_prior<R: rand::Rng + ?Sized>(&self, _rng: &mut R, _out: &mut [f64]) -> bool {
        false
    }
}

/// The energy `E_prior + t·E_lik` of a power posterior.
#[derive(Debug, Clone)]
pub struct PowerPosterior<P> {
    /// The posterior.
    pub post: P,
    /// The power t ∈ [0, 1].
    pub t: f64,
    scratch: Vec<f64>,
}

impl<P: Posterior> PowerPosterior<P> {
    /// The power posterior of `post` at `t`.
    pub fn new(post: P, t: f64) -> Self {
        let d = post.dim();
        Self {
            post,
            t,
            scratch: vec![0.0; d],
        }
    }
}

impl<P: Posterior> Energy for PowerPosterior<P> {
    fn dim(&self) -> usize {
        self.post.dim()
    }
    fn energy(&mut self, th: &[f64]) -> Result<f64, EnergyError> {
        let mut g = vec![0.0; th.len()];
        self.energy_grad(th, &mut g)
    }
}

impl<P: Posterior> Gradient for PowerPosterior<P> {
    fn energy_grad(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.post.dim(), th)?;
        let ep = self.post.prior_energy(th, g)?;
        if self.t == 0.0 {
            return Ok(ep);
        }
        let el = self.post.lik_energy(th, &mut self.scratch)?;
        for (gi, s) in g.iter_mut().zip(&self.scratch) {
            *gi += self.t * s;
        }
        Ok(ep + self.t * el)
    }
}

/// The path from a Gaussian reference `q = N(0, σ_ref² I)` to a plain energy's Boltzmann density:
/// `E_t = E_q + t·(E − E_q)`. Because `E_q` is normalised, `Z(0) = 1` and `Z(1) = ∫ e^{−E}`, so
/// every evidence estimator gives the target's own `ln Z` (referenced thermodynamic integration).
#[derive(Debug, Clone)]
pub struct ReferencePath<E> {
    /// The target energy.
    pub target: E,
    /// The reference's standard deviation.
    pub ref_sd: f64,
}

impl<E> ReferencePath<E> {
    fn ref_energy(&self, th: &[f64], g: &mut [f64]) -> f64 {
        let s2 = self.ref_sd * self.ref_sd;
        for (gi, t) in g.iter_mut().zip(th) {
            *gi = t / s2;
        }
        th.iter().map(|t| t * t).sum::<f64>() / (2.0 * s2)
            + 0.5 * th.len() as f64 * (2.0 * std::f64::consts::PI * s2).ln()
    }
}

impl<E: Gradient + Clone + Send + Sync> Posterior for ReferencePath<E> {
    fn dim(&self) -> usize {
        self.target.dim()
    }
    fn prior_energy(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.target.dim(), th)?;
        Ok(self.ref_energy(th, g))
    }
    fn lik_energy(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        let e = self.target.energy_grad(th, g)?;
        let mut gq = vec![0.0; th.len()];
        let eq = self.ref_energy(th, &mut gq);
        for (gi, q) in g.iter_mut().zip(&gq) {
            *gi -= q;
        }
        Ok(e - eq)
    }
    fn sample_prior<R: rand::Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) -> bool {
        use rand_distr::{Distribution, StandardNormal};
        for o in out.iter_mut() {
            let z: f64 = StandardNormal.sample(rng);
            *o = self.ref_sd * z;
        }
        true
    }
}
