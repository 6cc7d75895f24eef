//! Paths of energies: `E_t(x) = E_ref(x) + t·ΔE(x)` for t from 0 to 1, with the two parts
//! available separately, so that every method that moves along t — a replica swap, an AIS
//! weight, a thermodynamic-integration integrand, a stepping-stone ratio — needs only
//! `(E_ref, ΔE)` of a state.
//!
//! - A posterior split into prior and likelihood is the power-posterior path
//!   `E_t = −log prior − t·log L`: `Z(0) = 1`, `Z(1)` is the evidence, `d ln Z/dt = −⟨ΔE⟩_t`.
//! - [`BoltzmannPath`] is β-tempering of a plain energy: `E_ref = 0`, `ΔE = E` (t = β > 0).
//! - [`ReferencePath`] runs from a normalised Gaussian reference to a plain energy, so the
//!   methods give the energy's own `ln Z`.
//!
//! [`PathAt`] is the energy at one point t, the target a kernel samples on a rung.
//!
//! ```
//! use thermolab::prelude::*;
//!
//! // ln Z of a standard normal in 3-D by the reference path: E_t at t = 1 is the target.
//! let target = IsotropicGaussian::new(vec![0.0; 3], 1.0)?;
//! let mut path = ReferencePath { target, ref_sd: 2.0 };
//! let mut at_one = PathAt::new(path.clone(), 1.0);
//! let x = [0.5, -0.5, 1.0];
//! let (mut g1, mut g2) = ([0.0; 3], [0.0; 3]);
//! let parts = path.parts(&x, &mut g1, &mut g2)?;
//! assert!((at_one.energy(&x)? - parts.at(1.0)).abs() < 1e-12);
//! assert_eq!(path.log_z_reference(), Some(0.0));
//! # Ok::<(), thermolab::Error>(())
//! ```

use super::{check_dim, Energy, EnergyError, Gradient};
use rand::Rng;

/// The two parts of a path's energy at one state.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PathEnergy {
    /// `E_ref(x)`.
    pub reference: f64,
    /// `ΔE(x)`.
    pub delta: f64,
}

impl PathEnergy {
    /// `E_t(x) = E_ref + t·ΔE` (`E_ref` at t = 0, even where ΔE is infinite).
    pub fn at(&self, t: f64) -> f64 {
        if t == 0.0 {
            self.reference
        } else {
            self.reference + t * self.delta
        }
    }
}

/// A linear path of energies `E_t(x) = E_ref(x) + t·ΔE(x)` over continuous states.
///
/// For a posterior, the reference is the prior (`E_ref = −log prior`, normalised) and the delta
/// is the likelihood energy (`ΔE = −log L`).
pub trait LinearPath: Clone + Send + Sync {
    /// Number of coordinates.
    fn dim(&self) -> usize;
    /// `E_ref(x)`, gradient into `g`.
    fn reference_energy(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError>;
    /// `ΔE(x)`, gradient into `g`.
    fn delta_energy(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError>;
    /// `ln ∫ e^{−E_ref}`: 0 when the reference is a normalised density (a prior, a Gaussian
    /// reference), `None` when it is not (β-tempering of a plain energy).
    fn log_z_reference(&self) -> Option<f64>;
    /// Draws x from the reference density `e^{−E_ref}` (AIS starts); `false` when it cannot.
    fn sample_reference<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) -> bool;
    /// Both parts, gradients into `g_ref` and `g_delta` (implementations may share work).
    fn parts(
        &mut self,
        x: &[f64],
        g_ref: &mut [f64],
        g_delta: &mut [f64],
    ) -> Result<PathEnergy, EnergyError> {
        Ok(PathEnergy {
            reference: self.reference_energy(x, g_ref)?,
            delta: self.delta_energy(x, g_delta)?,
        })
    }
    /// Both parts without their gradients, for kernels that need none (random-walk
    /// Metropolis); `None` when the path has no cheaper route than [`LinearPath::parts`] (the
    /// default).
    fn values(&mut self, _x: &[f64]) -> Option<Result<PathEnergy, EnergyError>> {
        None
    }
}

/// The energy `E_t = E_ref + t·ΔE` of a path at one point t (a power posterior at t).
#[derive(Debug, Clone)]
pub struct PathAt<P> {
    /// The path.
    pub path: P,
    /// The position t ∈ [0, 1].
    pub t: f64,
    scratch: Vec<f64>,
    grad: Vec<f64>,
}

impl<P: LinearPath> PathAt<P> {
    /// The energy of `path` at `t`.
    pub fn new(path: P, t: f64) -> Self {
        let d = path.dim();
        Self {
            path,
            t,
            scratch: vec![0.0; d],
            grad: vec![0.0; d],
        }
    }
}

impl<P: LinearPath> Energy for PathAt<P> {
    fn dim(&self) -> usize {
        self.path.dim()
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        check_dim(self.path.dim(), x)?;
        // At t = 0 only the reference counts (ΔE may be undefined there): the gradient route
        // skips ΔE.
        if self.t != 0.0 {
            if let Some(parts) = self.path.values(x) {
                return parts.map(|p| p.at(self.t));
            }
        }
        let mut g = std::mem::take(&mut self.grad);
        g.resize(x.len(), 0.0);
        let e = self.energy_grad(x, &mut g);
        self.grad = g;
        e
    }
}

impl<P: LinearPath> Gradient for PathAt<P> {
    fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.path.dim(), x)?;
        let ep = self.path.reference_energy(x, g)?;
        if self.t == 0.0 {
            return Ok(ep);
        }
        self.scratch.resize(x.len(), 0.0);
        let el = self.path.delta_energy(x, &mut self.scratch)?;
        for (gi, s) in g.iter_mut().zip(&self.scratch) {
            *gi += self.t * s;
        }
        Ok(ep + self.t * el)
    }
}

/// β-tempering of a plain energy: reference 0 and delta E, so the path at t is `exp(−t E)`
/// (parallel tempering in the usual physical sense; t = β > 0 only).
#[derive(Debug, Clone)]
pub struct BoltzmannPath<E>(pub E);

impl<E: Gradient + Clone + Send + Sync> LinearPath for BoltzmannPath<E> {
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn reference_energy(&mut self, _x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        g.iter_mut().for_each(|v| *v = 0.0);
        Ok(0.0)
    }
    fn delta_energy(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        self.0.energy_grad(x, g)
    }
    fn values(&mut self, x: &[f64]) -> Option<Result<PathEnergy, EnergyError>> {
        Some(self.0.energy(x).map(|delta| PathEnergy {
            reference: 0.0,
            delta,
        }))
    }
    fn log_z_reference(&self) -> Option<f64> {
        None
    }
    fn sample_reference<R: Rng + ?Sized>(&self, _rng: &mut R, _out: &mut [f64]) -> bool {
        false
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
    /// `E_q(x)` (normalised), its gradient into `g`.
    fn ref_energy(&self, x: &[f64], g: &mut [f64]) -> f64 {
        let s2 = self.ref_sd * self.ref_sd;
        for (gi, t) in g.iter_mut().zip(x) {
            *gi = t / s2;
        }
        self.ref_value(x)
    }
    /// `E_q(x)`.
    fn ref_value(&self, x: &[f64]) -> f64 {
        let s2 = self.ref_sd * self.ref_sd;
        x.iter().map(|t| t * t).sum::<f64>() / (2.0 * s2)
            + 0.5 * x.len() as f64 * (2.0 * std::f64::consts::PI * s2).ln()
    }
}

impl<E: Gradient + Clone + Send + Sync> LinearPath for ReferencePath<E> {
    fn dim(&self) -> usize {
        self.target.dim()
    }
    fn reference_energy(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.target.dim(), x)?;
        Ok(self.ref_energy(x, g))
    }
    fn delta_energy(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        let e = self.target.energy_grad(x, g)?;
        let s2 = self.ref_sd * self.ref_sd;
        for (gi, t) in g.iter_mut().zip(x) {
            *gi -= t / s2;
        }
        Ok(e - self.ref_value(x))
    }
    fn values(&mut self, x: &[f64]) -> Option<Result<PathEnergy, EnergyError>> {
        if let Err(e) = check_dim(self.target.dim(), x) {
            return Some(Err(e));
        }
        let reference = self.ref_value(x);
        Some(self.target.energy(x).map(|e| PathEnergy {
            reference,
            delta: e - reference,
        }))
    }
    fn log_z_reference(&self) -> Option<f64> {
        Some(0.0)
    }
    fn sample_reference<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) -> bool {
        use rand_distr::{Distribution, StandardNormal};
        for o in out.iter_mut() {
            let z: f64 = StandardNormal.sample(rng);
            *o = self.ref_sd * z;
        }
        true
    }
}
