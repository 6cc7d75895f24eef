//! Stochastic-gradient MCMC kernels, at any temperature: Langevin dynamics (SGLD, Welling & Teh
//! 2011), Langevin dynamics preconditioned by RMSProp (pSGLD, Li, Chen, Carlson & Carin 2016),
//! Hamiltonian dynamics with friction (SGHMC, Chen, Fox & Guestrin 2014) and with a Nosé–Hoover
//! thermostat (SGNHT, Ding et al. 2014).
//!
//! Both move by the gradient of the energy alone, with no accept/reject step, so they run on
//! minibatch gradients: the driver restricts the energy to a batch (scaled so that it estimates
//! the full energy without bias) before each step. Their stationary law is exp(−β·E) only as
//! the step size goes to zero; at a finite step it is biased by O(ε), which the tests measure.
//!
//! The temperature is T = 1/β, and β = ∞ (T = 0) is allowed: the noise switches off and SGLD is
//! gradient descent with learning rate ε/2, SGHMC is gradient descent with momentum 1 − α,
//! pSGLD is RMSProp.
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
    /// Langevin preconditioned by RMSProp: `V ← ρ·V + (1 − ρ)·∇E²`, `G = 1/(λ + √V)`,
    /// `x ← x − (ε/2)·G·∇E + √(ε·G/β)·ξ` (Li et al. 2016, without the Γ correction, whose bias
    /// is O(1 − ρ); `V` starts at the first gradient's square).
    Psgld {
        /// The averaging ρ of the squared gradients (RMSProp's 0.99).
        decay: f64,
        /// The damping λ added to √V.
        damping: f64,
    },
    /// Hamiltonian dynamics with a thermostat ζ that holds the kinetic temperature at T:
    /// `m ← m − ε·(∇E + ζ·m) + √(2Aε/β)·ξ`, `ζ ← ζ + ε·(‖m‖²/d − 1/β)`, `x ← x + ε·m`
    /// (Ding et al. 2014, Algorithm 2; ζ starts at A). The thermostat absorbs the unknown
    /// gradient noise.
    Sgnht {
        /// The injected diffusion A.
        diffusion: f64,
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
    /// SGHMC's and SGNHT's velocity, pSGLD's averaged squared gradient.
    velocity: Vec<f64>,
    grad: Vec<f64>,
    next: Vec<f64>,
    /// SGNHT's thermostat ζ.
    thermostat: f64,
    noise: crate::noise::NormalFill,
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
        match method {
            SgMethod::Sghmc { friction } if !(friction > 0.0 && friction <= 1.0) => {
                return Err(SettingsError::new(
                    "friction",
                    format!("must be in (0, 1] (got {friction})"),
                ));
            }
            SgMethod::Psgld { decay, damping } => {
                if !(0.0..1.0).contains(&decay) {
                    return Err(SettingsError::new(
                        "decay",
                        format!("must be in [0, 1) (got {decay})"),
                    ));
                }
                if !(damping > 0.0 && damping.is_finite()) {
                    return Err(SettingsError::new(
                        "damping",
                        format!("must be positive and finite (got {damping})"),
                    ));
                }
            }
            SgMethod::Sgnht { diffusion } if !(diffusion > 0.0 && diffusion.is_finite()) => {
                return Err(SettingsError::new(
                    "diffusion",
                    format!("must be positive and finite (got {diffusion})"),
                ));
            }
            _ => {}
        }
        Ok(Self {
            method,
            step,
            velocity: Vec::new(),
            grad: Vec::new(),
            next: Vec::new(),
            thermostat: match method {
                SgMethod::Sgnht { diffusion } => diffusion,
                _ => 0.0,
            },
            noise: Default::default(),
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

    /// RMSProp-preconditioned Langevin dynamics with step ε, ρ = 0.99 and λ = 10⁻⁸.
    pub fn psgld(step: f64) -> Result<Self, SettingsError> {
        Self::new(
            SgMethod::Psgld {
                decay: 0.99,
                damping: 1e-8,
            },
            step,
        )
    }

    /// Thermostatted Hamiltonian dynamics with diffusion A and step ε.
    pub fn sgnht(step: f64, diffusion: f64) -> Result<Self, SettingsError> {
        Self::new(SgMethod::Sgnht { diffusion }, step)
    }

    /// Forgets the dynamics' memory: the velocity (SGHMC, SGNHT), the averaged squared
    /// gradient (pSGLD) and the thermostat (SGNHT, back to A).
    pub fn reset(&mut self) {
        self.velocity.clear();
        if let SgMethod::Sgnht { diffusion } = self.method {
            self.thermostat = diffusion;
        }
    }

    /// SGNHT's thermostat ζ (0 for the other dynamics).
    pub fn thermostat(&self) -> f64 {
        self.thermostat
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
        let fresh = self.velocity.len() != d;
        if fresh {
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
        // One normal per coordinate (none at T = 0).
        let z: &[f32] = if temperature > 0.0 {
            self.noise.fill(rng, d)
        } else {
            &[]
        };
        let normal = |i: usize, scale: f64| -> f64 {
            if temperature > 0.0 {
                scale * z[i] as f64
            } else {
                0.0
            }
        };
        // After the loop `grad` holds the new velocity (or V), kept until the move is finite.
        let mut thermostat = self.thermostat;
        match self.method {
            SgMethod::Sgld => {
                let noise = (eps * temperature).sqrt();
                for i in 0..d {
                    self.next[i] = state.x[i] - 0.5 * eps * self.grad[i] + normal(i, noise);
                }
            }
            SgMethod::Sghmc { friction } => {
                let noise = (2.0 * friction * eps * temperature).sqrt();
                for i in 0..d {
                    let v =
                        (1.0 - friction) * self.velocity[i] - eps * self.grad[i] + normal(i, noise);
                    self.next[i] = state.x[i] + v;
                    self.grad[i] = v;
                }
            }
            SgMethod::Psgld { decay, damping } => {
                for i in 0..d {
                    let g = self.grad[i];
                    let v = if fresh {
                        g * g
                    } else {
                        decay * self.velocity[i] + (1.0 - decay) * g * g
                    };
                    let pre = 1.0 / (damping + v.sqrt());
                    self.next[i] = state.x[i] - 0.5 * eps * pre * g
                        + normal(i, (eps * pre * temperature).sqrt());
                    self.grad[i] = v;
                }
            }
            SgMethod::Sgnht { diffusion } => {
                let noise = (2.0 * diffusion * eps * temperature).sqrt();
                let mut kinetic = 0.0;
                for i in 0..d {
                    let m = self.velocity[i] - eps * (self.grad[i] + thermostat * self.velocity[i])
                        + normal(i, noise);
                    kinetic += m * m;
                    self.next[i] = state.x[i] + eps * m;
                    self.grad[i] = m;
                }
                thermostat += eps * (kinetic / d as f64 - temperature);
            }
        }
        if !self.next.iter().all(|v| v.is_finite()) || !thermostat.is_finite() {
            self.reset();
            return Ok(diverged(energy));
        }
        if !matches!(self.method, SgMethod::Sgld) {
            std::mem::swap(&mut self.velocity, &mut self.grad);
        }
        self.thermostat = thermostat;
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
            SgKernel::psgld(0.1).unwrap(),
            SgKernel::sgnht(0.1, 1.0).unwrap(),
        ] {
            let info = kernel.step(&mut Cliff, &mut state, 1.0, &mut rng).unwrap();
            assert!(info.diverged && state.x == vec![1.5]);
        }
        assert!(SgKernel::sgld(0.0).is_err() && SgKernel::sgld(f64::NAN).is_err());
        assert!(SgKernel::sghmc(0.1, 0.0).is_err() && SgKernel::sghmc(0.1, 1.5).is_err());
        let psgld = |decay, damping| SgKernel::new(SgMethod::Psgld { decay, damping }, 0.1);
        assert!(psgld(1.0, 1e-8).is_err() && psgld(0.9, 0.0).is_err() && psgld(0.0, 1.0).is_ok());
        assert!(SgKernel::sgnht(0.1, 0.0).is_err() && SgKernel::sgnht(0.1, f64::INFINITY).is_err());
    }

    /// `E = Σ x_i² / (2σ_i²)`.
    struct Diagonal(Vec<f64>);
    impl Energy for Diagonal {
        fn dim(&self) -> usize {
            self.0.len()
        }
        fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
            Ok(x.iter()
                .zip(&self.0)
                .map(|(v, s)| v * v / (2.0 * s * s))
                .sum())
        }
    }
    impl Gradient for Diagonal {
        fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
            for ((g, v), s) in g.iter_mut().zip(x).zip(&self.0) {
                *g = v / (s * s);
            }
            self.energy(x)
        }
    }

    /// Each coordinate's mean of x²/σ_i² over a long chain, with standard errors by batch means.
    fn scaled_moments(
        kernel: &mut SgKernel,
        sigmas: &[f64],
        beta: f64,
        steps: usize,
    ) -> Vec<(f64, f64)> {
        let d = sigmas.len();
        let mut target = Diagonal(sigmas.to_vec());
        // Started one sd out (at a stationary point pSGLD's first V would be 0).
        let start = sigmas.iter().map(|s| s / beta.sqrt()).collect();
        let mut state = State::new(&mut target, start).unwrap();
        let mut rng = chain_stream(13, 0);
        for _ in 0..5000 {
            kernel
                .step(&mut target, &mut state, beta, &mut rng)
                .unwrap();
        }
        let batches = 50;
        let per = steps / batches;
        let mut means = vec![Vec::with_capacity(batches); d];
        for _ in 0..batches {
            let mut s = vec![0.0; d];
            for _ in 0..per {
                kernel
                    .step(&mut target, &mut state, beta, &mut rng)
                    .unwrap();
                for i in 0..d {
                    s[i] += (state.x[i] / sigmas[i]).powi(2);
                }
            }
            for i in 0..d {
                means[i].push(s[i] / per as f64);
            }
        }
        means
            .iter()
            .map(|b| {
                let m = b.iter().sum::<f64>() / batches as f64;
                let var = b.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (batches - 1) as f64;
                (m, (var / batches as f64).sqrt())
            })
            .collect()
    }

    #[test]
    fn psgld_samples_scales_a_hundredfold_apart_with_one_step_size() {
        // At stationarity V ≈ ⟨∇E²⟩ = T/σ², so G ≈ σ/√T and coordinate i follows SGLD with step
        // ε·G_i, whose variance is σ²T / (1 − ε·G_i/(4σ²)) (see the SGLD test). That needs V
        // averaged over many more steps than x takes to decorrelate (ρ = 0.9999: 10⁴ steps,
        // against at most 300); the residual fluctuation of V is allowed 2 %. With RMSProp's
        // ρ = 0.99 the window is as short as the slow coordinates' memory, G is smallest when
        // |x| is largest, and the variance comes out 4–25 % high (the bias that the omitted Γ
        // term would correct).
        let sigmas = [0.1, 1.0, 10.0];
        let (eps, beta) = (0.05, 2.0);
        let t = 1.0 / beta;
        let method = SgMethod::Psgld {
            decay: 0.9999,
            damping: 1e-8,
        };
        let mut kernel = SgKernel::new(method, eps).unwrap();
        let moments = scaled_moments(&mut kernel, &sigmas, beta, 400_000);
        for (&sigma, &(m, se)) in sigmas.iter().zip(&moments) {
            let step = eps * sigma / t.sqrt();
            let predicted = t / (1.0 - step / (4.0 * sigma * sigma));
            assert!(
                (m - predicted).abs() < 4.0 * se + 0.02 * predicted,
                "σ {sigma}: {m} ± {se} vs {predicted}"
            );
        }
        // Plain SGLD at that step diverges on the narrowest coordinate (ε/(2σ²) = 2.5 > 2).
        let mut target = Diagonal(sigmas.to_vec());
        let mut state = State::new(&mut target, vec![0.1; 3]).unwrap();
        let mut sgld = SgKernel::sgld(eps).unwrap();
        let mut rng = chain_stream(0, 1);
        let diverged = (0..2000).any(|_| {
            sgld.step(&mut target, &mut state, beta, &mut rng)
                .unwrap()
                .diverged
        });
        assert!(diverged);
    }

    /// The stationary covariance of `z ← A z + b ξ` (2 × 2), by iterating to convergence.
    fn stationary_cov(a: [[f64; 2]; 2], b: [f64; 2]) -> [[f64; 2]; 2] {
        let mut s = [[0.0f64; 2]; 2];
        for _ in 0..100_000 {
            let mut next = [[0.0; 2]; 2];
            for i in 0..2 {
                for j in 0..2 {
                    next[i][j] = b[i] * b[j];
                    for (l, al) in a[i].iter().enumerate() {
                        for (m, am) in a[j].iter().enumerate() {
                            next[i][j] += al * s[l][m] * am;
                        }
                    }
                }
            }
            s = next;
        }
        s
    }

    #[test]
    fn sgnht_s_thermostat_finds_the_friction_that_holds_the_temperature() {
        // With the thermostat at ζ the step on E = x²/2 is linear:
        //   m' = (1 − εζ)·m − ε·x + s·ξ,  x' = x + ε·m',  s² = 2Aε/β,
        // and ζ settles where the stationary ⟨m²⟩ equals T. Found by bisection, that ζ predicts
        // ⟨x²⟩. 32 coordinates share the thermostat, so it fluctuates little (3 % allowed).
        let (eps, beta, diffusion): (f64, f64, f64) = (0.05, 1.0, 0.5);
        let t = 1.0 / beta;
        let s = (2.0 * diffusion * eps * t).sqrt();
        let cov = |zeta: f64| {
            let c = 1.0 - eps * zeta;
            stationary_cov([[1.0 - eps * eps, eps * c], [-eps, c]], [eps * s, s])
        };
        let (mut lo, mut hi) = (1e-3, 20.0);
        for _ in 0..50 {
            let mid = 0.5 * (lo + hi);
            if cov(mid)[1][1] > t {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let zeta = 0.5 * (lo + hi);
        let predicted = cov(zeta)[0][0];
        let mut kernel = SgKernel::sgnht(eps, diffusion).unwrap();
        let moments = scaled_moments(&mut kernel, &[1.0; 32], beta, 200_000);
        let (m, se) = moments
            .iter()
            .fold((0.0, 0.0), |(a, b), (m, se)| (a + m / 32.0, b + se * se));
        let se = se.sqrt() / 32.0;
        assert!(
            (m - predicted).abs() < 4.0 * se + 0.03 * predicted,
            "{m} ± {se} vs {predicted} (ζ {zeta}, ζ run {})",
            kernel.thermostat()
        );
        assert!(
            (kernel.thermostat() - zeta).abs() < 0.5 * zeta + 0.1,
            "ζ {}",
            kernel.thermostat()
        );
    }
}
