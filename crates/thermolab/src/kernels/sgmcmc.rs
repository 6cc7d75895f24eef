//! Stochastic-gradient MCMC kernels: Langevin dynamics (SGLD, Welling & Teh 2011) and
//! Hamiltonian dynamics with friction (SGHMC, Chen, Fox & Guestrin 2014), at any temperature.
//!
//! Both move by the gradient of the energy alone, with no accept/reject step, so they run on
//! minibatch gradients: the driver restricts the energy to a batch (scaled so that it estimates
//! the full energy without bias) before each step. Their stationary law is exp(−β·E) only as
//! the step size goes to zero; at a finite step it is biased by O(ε), which the tests measure.
//!
//! The temperature is T = 1/β, and β = ∞ (T = 0) is allowed: the noise switches off and SGLD is
//! gradient descent with learning rate ε/2, SGHMC is gradient descent with momentum 1 − α.
//!
//! ```
//! use thermolab::kernels::sgmcmc::SgKernel;
//! use thermolab::prelude::*;
//!
//! let mut target = IsotropicGaussian::new(vec![0.0; 3], 1.0)?;
//! let mut state = State::new(&mut target, vec![2.0; 3])?;
//! let mut sgld = SgKernel::sgld(1e-2)?;
//! let mut rng = thermolab::rng::chain_stream(0, 0);
//! for _ in 0..1000 {
//!     sgld.step(&mut target, &mut state, 1.0, &mut rng)?;
//! }
//! assert!(state.x.iter().all(|v| v.abs() < 5.0));
//! # Ok::<(), thermolab::Error>(())
//! ```

use super::mcmc::State;
use super::Kernel;
use crate::energy::{EnergyError, Gradient};
use crate::settings::SettingsError;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// Which dynamics a [`SgKernel`] follows.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "method")]
pub enum SgMethod {
    /// Langevin: `x ← x − (ε/2)·∇E(x) + √(ε/β)·ξ`.
    Sgld,
    /// Hamiltonian with friction α ∈ (0, 1]: `v ← (1 − α)·v − ε·∇E(x) + √(2αε/β)·ξ`,
    /// `x ← x + v` (Chen et al. 2014, eq. 15, with no estimate of the gradient noise).
    Sghmc {
        /// The friction α: the fraction of the velocity lost per step.
        friction: f64,
    },
}

/// What one stochastic-gradient step reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgStep {
    /// The (minibatch) energy at the position the step started from.
    pub energy: f64,
    /// The step met a non-finite energy or gradient, or left a non-finite position; the state
    /// was kept (a divergence, counted by the drivers).
    pub diverged: bool,
}

/// A stochastic-gradient MCMC kernel (see the module documentation): the dynamics, the step
/// size ε, and the velocity and gradient buffers it owns.
#[derive(Debug, Clone)]
pub struct SgKernel {
    /// The dynamics.
    pub method: SgMethod,
    /// The step size ε.
    pub step: f64,
    velocity: Vec<f64>,
    grad: Vec<f64>,
    next: Vec<f64>,
}

impl SgKernel {
    /// A kernel, checking that the step is positive and finite and the friction in (0, 1].
    pub fn new(method: SgMethod, step: f64) -> Result<Self, SettingsError> {
        if !(step > 0.0 && step.is_finite()) {
            return Err(SettingsError::new(
                "step_size",
                format!("must be positive and finite (got {step})"),
            ));
        }
        if let SgMethod::Sghmc { friction } = method {
            if !(friction > 0.0 && friction <= 1.0) {
                return Err(SettingsError::new(
                    "friction",
                    format!("must be in (0, 1] (got {friction})"),
                ));
            }
        }
        Ok(Self {
            method,
            step,
            velocity: Vec::new(),
            grad: Vec::new(),
            next: Vec::new(),
        })
    }

    /// Langevin dynamics with step ε.
    pub fn sgld(step: f64) -> Result<Self, SettingsError> {
        Self::new(SgMethod::Sgld, step)
    }

    /// Hamiltonian dynamics with friction α and step ε.
    pub fn sghmc(step: f64, friction: f64) -> Result<Self, SettingsError> {
        Self::new(SgMethod::Sghmc { friction }, step)
    }

    /// Sets the velocity to zero (SGHMC; SGLD has none).
    pub fn reset(&mut self) {
        self.velocity.iter_mut().for_each(|v| *v = 0.0);
    }
}

impl<T: Gradient + ?Sized> Kernel<T, State> for SgKernel {
    type Stats = SgStep;

    /// One step from `state.x`. The gradient is evaluated here, at the energy's current batch;
    /// `state.energy` is set to the starting point's (minibatch) energy, and `state.grad` is
    /// not used.
    fn step<R: Rng + ?Sized>(
        &mut self,
        target: &mut T,
        state: &mut State,
        beta: f64,
        rng: &mut R,
    ) -> Result<SgStep, EnergyError> {
        let d = state.x.len();
        self.grad.resize(d, 0.0);
        self.next.resize(d, 0.0);
        if self.velocity.len() != d {
            self.velocity = vec![0.0; d];
        }
        let energy = match target.energy_grad(&state.x, &mut self.grad) {
            Ok(e) if e.is_finite() && self.grad.iter().all(|g| g.is_finite()) => e,
            Ok(e) => return Ok(diverged(e)),
            Err(err) if err.is_recoverable() => return Ok(diverged(f64::NAN)),
            Err(err) => return Err(err),
        };
        let temperature = if beta.is_infinite() { 0.0 } else { 1.0 / beta };
        let eps = self.step;
        match self.method {
            SgMethod::Sgld => {
                let noise = (eps * temperature).sqrt();
                for i in 0..d {
                    let z: f64 = if noise > 0.0 {
                        StandardNormal.sample(rng)
                    } else {
                        0.0
                    };
                    self.next[i] = state.x[i] - 0.5 * eps * self.grad[i] + noise * z;
                }
            }
            SgMethod::Sghmc { friction } => {
                let noise = (2.0 * friction * eps * temperature).sqrt();
                for i in 0..d {
                    let z: f64 = if noise > 0.0 {
                        StandardNormal.sample(rng)
                    } else {
                        0.0
                    };
                    let v = (1.0 - friction) * self.velocity[i] - eps * self.grad[i] + noise * z;
                    self.next[i] = state.x[i] + v;
                    // Kept aside until the move is known to be finite.
                    self.grad[i] = v;
                }
            }
        }
        if !self.next.iter().all(|v| v.is_finite()) {
            self.reset();
            return Ok(diverged(energy));
        }
        if matches!(self.method, SgMethod::Sghmc { .. }) {
            std::mem::swap(&mut self.velocity, &mut self.grad);
        }
        std::mem::swap(&mut state.x, &mut self.next);
        state.energy = energy;
        Ok(SgStep {
            energy,
            diverged: false,
        })
    }
}

fn diverged(energy: f64) -> SgStep {
    SgStep {
        energy,
        diverged: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::energy::Energy;
    use crate::rng::chain_stream;
    use crate::systems::IsotropicGaussian;

    /// The mean of x² over a long chain, with its standard error by batch means.
    fn second_moment(kernel: &mut SgKernel, sigma: f64, beta: f64, steps: usize) -> (f64, f64) {
        let mut target = IsotropicGaussian::new(vec![0.0; 2], sigma).unwrap();
        let mut state = State::new(&mut target, vec![0.0; 2]).unwrap();
        let mut rng = chain_stream(11, 0);
        for _ in 0..2000 {
            kernel
                .step(&mut target, &mut state, beta, &mut rng)
                .unwrap();
        }
        let batches = 50;
        let per = steps / batches;
        let mut means = Vec::with_capacity(batches);
        for _ in 0..batches {
            let mut s = 0.0;
            for _ in 0..per {
                kernel
                    .step(&mut target, &mut state, beta, &mut rng)
                    .unwrap();
                s += state.x.iter().map(|v| v * v).sum::<f64>() / 2.0;
            }
            means.push(s / per as f64);
        }
        let m = means.iter().sum::<f64>() / batches as f64;
        let var = means.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (batches - 1) as f64;
        (m, (var / batches as f64).sqrt())
    }

    #[test]
    fn sgld_s_stationary_variance_is_the_one_its_step_size_predicts() {
        // E = x²/(2σ²), so x' = (1 − ε/(2σ²))·x + √(ε/β)·ξ and the stationary variance is
        // (σ²/β) / (1 − ε/(4σ²)): above the exact σ²/β by a factor that the test separates.
        let (sigma, beta) = (1.5, 2.0);
        for eps in [0.9, 0.2] {
            let predicted = sigma * sigma / beta / (1.0 - eps / (4.0 * sigma * sigma));
            let (m, se) = second_moment(&mut SgKernel::sgld(eps).unwrap(), sigma, beta, 400_000);
            assert!(
                (m - predicted).abs() < 4.0 * se,
                "ε {eps}: {m} ± {se} vs {predicted}"
            );
            let exact = sigma * sigma / beta;
            let bias = predicted - exact;
            assert!(
                bias > 0.0 && (m - exact) > 0.3 * bias,
                "ε {eps}: bias not seen"
            );
        }
    }

    #[test]
    fn sghmc_s_stationary_variance_is_the_one_its_recurrence_predicts() {
        // On E = k·x²/2 the step is linear in (x, v):
        //   x' = (1 − εk)·x + (1 − α)·v + s·ξ,  v' = −εk·x + (1 − α)·v + s·ξ,  s² = 2αε/β,
        // whose stationary covariance Σ = AΣAᵀ + Q is found by iterating to convergence.
        let (sigma, beta, friction) = (1.0, 1.0, 0.3);
        for eps in [0.1, 0.02] {
            let k = 1.0 / (sigma * sigma);
            let a = [[1.0 - eps * k, 1.0 - friction], [-eps * k, 1.0 - friction]];
            let q = 2.0 * friction * eps / beta;
            let mut s = [[0.0f64; 2]; 2];
            for _ in 0..200_000 {
                let mut next = [[q; 2]; 2];
                for i in 0..2 {
                    for j in 0..2 {
                        for (l, al) in a[i].iter().enumerate() {
                            for (m, am) in a[j].iter().enumerate() {
                                next[i][j] += al * s[l][m] * am;
                            }
                        }
                    }
                }
                s = next;
            }
            let predicted = s[0][0];
            let mut kernel = SgKernel::sghmc(eps, friction).unwrap();
            let (m, se) = second_moment(&mut kernel, sigma, beta, 600_000);
            assert!(
                (m - predicted).abs() < 4.0 * se,
                "ε {eps}: {m} ± {se} vs {predicted}"
            );
            assert!((predicted - 1.0).abs() < 0.1, "prediction {predicted}");
        }
    }

    #[test]
    fn at_zero_temperature_sgld_and_sghmc_are_gradient_descent() {
        let mut target = IsotropicGaussian::new(vec![1.0, -1.0], 0.5).unwrap();
        let mut state = State::new(&mut target, vec![3.0, 0.0]).unwrap();
        let mut rng = chain_stream(0, 0);
        // ∇E = (x − μ)/σ² = (8, 4); SGLD moves by −(ε/2)·∇E.
        SgKernel::sgld(0.1)
            .unwrap()
            .step(&mut target, &mut state, f64::INFINITY, &mut rng)
            .unwrap();
        assert_eq!(state.x, vec![3.0 - 0.4, 0.0 - 0.2]);
        let mut sghmc = SgKernel::sghmc(0.1, 0.5).unwrap();
        let mut s = State::new(&mut target, vec![3.0, 0.0]).unwrap();
        sghmc
            .step(&mut target, &mut s, f64::INFINITY, &mut rng)
            .unwrap();
        sghmc
            .step(&mut target, &mut s, f64::INFINITY, &mut rng)
            .unwrap();
        // v₁ = −0.1·(8, 4) = (−0.8, −0.4), x₁ = (2.2, −0.4); ∇E(x₁) = (4.8, 2.4);
        // v₂ = 0.5·v₁ − 0.1·∇E(x₁) = (−0.88, −0.44), x₂ = (1.32, −0.84).
        for (got, want) in s.x.iter().zip([1.32, -0.84]) {
            assert!((got - want).abs() < 1e-12, "{:?}", s.x);
        }
    }

    /// An energy that is NaN beyond x = 1.
    struct Cliff;
    impl Energy for Cliff {
        fn dim(&self) -> usize {
            1
        }
        fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
            Ok(if x[0] > 1.0 { f64::NAN } else { -x[0] })
        }
    }
    impl Gradient for Cliff {
        fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
            g[0] = -1.0;
            self.energy(x)
        }
    }

    #[test]
    fn a_non_finite_energy_is_a_divergence_that_keeps_the_state() {
        let mut state = State {
            x: vec![1.5],
            energy: 0.0,
            grad: Vec::new(),
        };
        let mut rng = chain_stream(0, 0);
        for mut kernel in [
            SgKernel::sgld(0.1).unwrap(),
            SgKernel::sghmc(0.1, 0.1).unwrap(),
        ] {
            let info = kernel.step(&mut Cliff, &mut state, 1.0, &mut rng).unwrap();
            assert!(info.diverged && state.x == vec![1.5]);
        }
        assert!(SgKernel::sgld(0.0).is_err() && SgKernel::sgld(f64::NAN).is_err());
        assert!(SgKernel::sghmc(0.1, 0.0).is_err() && SgKernel::sghmc(0.1, 1.5).is_err());
    }
}
