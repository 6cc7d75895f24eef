//! Dual-averaging step-size adaptation towards a target acceptance statistic.
//!
//! # References
//! - Nesterov, Y. (2009), "Primal-dual subgradient methods for convex problems".
//! - Hoffman, M. D. & Gelman, A. (2014), "The No-U-Turn Sampler", *JMLR* 15, §3.2
//!   (γ = 0.05, t₀ = 10, κ = 0.75, μ = ln(10 ε₀)).

use serde::{Deserialize, Serialize};

/// Dual-averaging state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DualAveraging {
    target: f64,
    mu: f64,
    log_eps: f64,
    log_eps_bar: f64,
    h_bar: f64,
    t: f64,
}

impl DualAveraging {
    /// Starts from step size `eps0`, aiming at acceptance `target`.
    pub fn new(eps0: f64, target: f64) -> Self {
        Self {
            target,
            mu: (10.0 * eps0).ln(),
            log_eps: eps0.ln(),
            log_eps_bar: 0.0,
            h_bar: 0.0,
            t: 0.0,
        }
    }
    /// Restarts around `eps0` (at the end of each metric window).
    pub fn restart(&mut self, eps0: f64) {
        *self = Self::new(eps0, self.target);
    }
    /// Feeds one acceptance statistic; returns the step size to use next.
    pub fn update(&mut self, accept_stat: f64) -> f64 {
        let (gamma, t0, kappa) = (0.05, 10.0, 0.75);
        let a = if accept_stat.is_finite() {
            accept_stat.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.t += 1.0;
        let w = 1.0 / (self.t + t0);
        self.h_bar = (1.0 - w) * self.h_bar + w * (self.target - a);
        self.log_eps = self.mu - self.t.sqrt() / gamma * self.h_bar;
        let eta = self.t.powf(-kappa);
        self.log_eps_bar = eta * self.log_eps + (1.0 - eta) * self.log_eps_bar;
        self.log_eps.exp()
    }
    /// The state as six words (exact bit patterns), for a rung's part in distributed tempering.
    pub fn to_words(&self) -> [u64; 6] {
        [
            self.target,
            self.mu,
            self.log_eps,
            self.log_eps_bar,
            self.h_bar,
            self.t,
        ]
        .map(f64::to_bits)
    }
    /// The state from [`DualAveraging::to_words`] (missing words read as 0).
    pub fn from_words(w: &[u64]) -> Self {
        let f = |i: usize| f64::from_bits(w.get(i).copied().unwrap_or(0));
        Self {
            target: f(0),
            mu: f(1),
            log_eps: f(2),
            log_eps_bar: f(3),
            h_bar: f(4),
            t: f(5),
        }
    }
    /// The averaged step size to keep after warm-up.
    pub fn final_step_size(&self) -> f64 {
        if self.t > 0.0 {
            self.log_eps_bar.exp()
        } else {
            self.log_eps.exp()
        }
    }
}
