//! Optimisation test functions: the seed quadratic, Rastrigin, Ackley and Rosenbrock.
//!
//! # References
//! - Rastrigin, L. A. (1974), *Systems of extremal control*.
//! - Ackley, D. H. (1987), *A connectionist machine for genetic hillclimbing*.
//! - Rosenbrock, H. H. (1960), "An automatic method for finding the greatest or least value of a
//!   function", *The Computer Journal* 3(3).

use super::{Bounds, TestFunction};
use crate::energy::{check_dim, Energy, EnergyError, Gradient};
use std::f64::consts::{E, PI};

const TWO_PI: f64 = 2.0 * PI;

/// The seed walkthrough's quadratic `(x−1)² + (y+2)²`, minimum 0 at (1, −2).
#[derive(Debug, Clone, Copy, Default)]
pub struct Quadratic;

impl Energy for Quadratic {
    fn dim(&self) -> usize {
        2
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        check_dim(2, x)?;
        Ok((x[0] - 1.0).powi(2) + (x[1] + 2.0).powi(2))
    }
}

impl Gradient for Quadratic {
    fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(2, x)?;
        g[0] = 2.0 * (x[0] - 1.0);
        g[1] = 2.0 * (x[1] + 2.0);
        Ok((x[0] - 1.0).powi(2) + (x[1] + 2.0).powi(2))
    }
}

impl TestFunction for Quadratic {
    fn name(&self) -> &'static str {
        "quadratic"
    }
    fn minimum(&self) -> f64 {
        0.0
    }
    fn argmin(&self) -> Vec<f64> {
        vec![1.0, -2.0]
    }
    fn domain(&self) -> Bounds {
        Bounds {
            lower: -10.0,
            upper: 10.0,
        }
    }
}

/// Rastrigin: `10d + Σ (x² − 10 cos 2πx)`, minimum 0 at the origin, about 10^d local minima.
#[derive(Debug, Clone, Copy)]
pub struct Rastrigin {
    dim: usize,
}

impl Rastrigin {
    /// Rastrigin in `dim` dimensions.
    pub fn new(dim: usize) -> Self {
        Self { dim }
    }
}

impl Energy for Rastrigin {
    fn dim(&self) -> usize {
        self.dim
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        check_dim(self.dim, x)?;
        Ok(x.iter().fold(10.0 * self.dim as f64, |s, &v| {
            s + v * v - 10.0 * (TWO_PI * v).cos()
        }))
    }
}

impl Gradient for Rastrigin {
    fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.dim, x)?;
        let mut s = 10.0 * self.dim as f64;
        for (gi, &v) in g.iter_mut().zip(x) {
            let (sn, cs) = (TWO_PI * v).sin_cos();
            s += v * v - 10.0 * cs;
            *gi = 2.0 * v + 20.0 * PI * sn;
        }
        Ok(s)
    }
}

impl TestFunction for Rastrigin {
    fn name(&self) -> &'static str {
        "rastrigin"
    }
    fn minimum(&self) -> f64 {
        0.0
    }
    fn argmin(&self) -> Vec<f64> {
        vec![0.0; self.dim]
    }
    fn domain(&self) -> Bounds {
        Bounds {
            lower: -5.12,
            upper: 5.12,
        }
    }
}

/// Ackley: `−20 exp(−0.2 √(mean x²)) − exp(mean cos 2πx) + 20 + e`, minimum 0 at the origin.
#[derive(Debug, Clone, Copy)]
pub struct Ackley {
    dim: usize,
}

impl Ackley {
    /// Ackley in `dim` dimensions.
    pub fn new(dim: usize) -> Self {
        Self { dim }
    }
}

impl Energy for Ackley {
    fn dim(&self) -> usize {
        self.dim
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        check_dim(self.dim, x)?;
        let d = self.dim as f64;
        let (sq, cs) = x
            .iter()
            .fold((0.0, 0.0), |(a, b), &v| (a + v * v, b + (TWO_PI * v).cos()));
        Ok(-20.0 * (-0.2 * (sq / d).sqrt()).exp() - (cs / d).exp() + 20.0 + E)
    }
}

impl Gradient for Ackley {
    fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.dim, x)?;
        let d = self.dim as f64;
        let (sq, cs) = x
            .iter()
            .fold((0.0, 0.0), |(a, b), &v| (a + v * v, b + (TWO_PI * v).cos()));
        let r = (sq / d).sqrt();
        let a = (-0.2 * r).exp();
        let b = (cs / d).exp();
        // d/dx_i of −20 exp(−0.2 r) = 4 exp(−0.2 r) x_i / (d r); at r = 0 use the subgradient 0.
        let ca = if r > 0.0 { 4.0 * a / (d * r) } else { 0.0 };
        let cb = TWO_PI * b / d;
        for (gi, &v) in g.iter_mut().zip(x) {
            *gi = ca * v + cb * (TWO_PI * v).sin();
        }
        Ok(-20.0 * a - b + 20.0 + E)
    }
}

impl TestFunction for Ackley {
    fn name(&self) -> &'static str {
        "ackley"
    }
    fn minimum(&self) -> f64 {
        0.0
    }
    fn argmin(&self) -> Vec<f64> {
        vec![0.0; self.dim]
    }
    fn domain(&self) -> Bounds {
        Bounds {
            lower: -32.768,
            upper: 32.768,
        }
    }
}

/// Rosenbrock: `Σ 100 (x_{i+1} − x_i²)² + (1 − x_i)²`, minimum 0 at (1, …, 1).
#[derive(Debug, Clone, Copy)]
pub struct Rosenbrock {
    dim: usize,
}

impl Rosenbrock {
    /// Rosenbrock in `dim ≥ 2` dimensions.
    pub fn new(dim: usize) -> Self {
        Self { dim }
    }
}

impl Energy for Rosenbrock {
    fn dim(&self) -> usize {
        self.dim
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        check_dim(self.dim, x)?;
        Ok(x.windows(2)
            .map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
            .sum())
    }
}

impl Gradient for Rosenbrock {
    fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.dim, x)?;
        g.iter_mut().for_each(|v| *v = 0.0);
        let mut s = 0.0;
        for i in 0..self.dim - 1 {
            let t = x[i + 1] - x[i] * x[i];
            let u = 1.0 - x[i];
            s += 100.0 * t * t + u * u;
            g[i] += -400.0 * t * x[i] - 2.0 * u;
            g[i + 1] += 200.0 * t;
        }
        Ok(s)
    }
}

impl TestFunction for Rosenbrock {
    fn name(&self) -> &'static str {
        "rosenbrock"
    }
    fn minimum(&self) -> f64 {
        0.0
    }
    fn argmin(&self) -> Vec<f64> {
        vec![1.0; self.dim]
    }
    fn domain(&self) -> Bounds {
        Bounds {
            lower: -5.0,
            upper: 10.0,
        }
    }
    fn tolerance(&self) -> f64 {
        1e-1
    }
}
