//! Neal's funnel: `v ~ N(0, 3²)`, `x_i | v ~ N(0, e^v)` for i = 1…d−1 — a scale that changes by
//! orders of magnitude along one axis, the classic failure case of fixed-step samplers.
//!
//! Centred parameters `(v, x)`: `E = v²/18 + Σ x_i² e^{−v}/2 + (d−1) v/2`.
//! Non-centred `(v, z)` with `x = z e^{v/2}`: `E = v²/18 + Σ z_i²/2`. Both have
//! `Z = (2π)^{d/2} · 3`, `v` has mean 0 and sd 3, and `z_i` (non-centred) are standard normal.
//!
//! # References
//! - Neal, R. M. (2003), "Slice sampling", *Annals of Statistics* 31.

use crate::energy::{check_dim, Energy, EnergyError, Gradient};
use crate::systems::ModelError;

/// Neal's funnel in `dim ≥ 2` dimensions (coordinate 0 is `v`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Funnel {
    dim: usize,
    centred: bool,
}

impl Funnel {
    /// The funnel in `dim` dimensions, centred or non-centred.
    pub fn new(dim: usize, centred: bool) -> Result<Self, ModelError> {
        if dim < 2 {
            return Err(ModelError::new(
                "dim",
                format!("the funnel needs at least 2 dimensions, got {dim}"),
            ));
        }
        Ok(Self { dim, centred })
    }
    /// Exact `ln Z`.
    pub fn log_z(&self) -> f64 {
        0.5 * self.dim as f64 * (2.0 * std::f64::consts::PI).ln() + 3f64.ln()
    }
    /// Whether the parameters are centred.
    pub fn centred(&self) -> bool {
        self.centred
    }
}

impl Energy for Funnel {
    fn dim(&self) -> usize {
        self.dim
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        check_dim(self.dim, x)?;
        let v = x[0];
        let ss: f64 = x[1..].iter().map(|a| a * a).sum();
        Ok(if self.centred {
            v * v / 18.0 + 0.5 * ss * (-v).exp() + 0.5 * (self.dim - 1) as f64 * v
        } else {
            v * v / 18.0 + 0.5 * ss
        })
    }
}

impl Gradient for Funnel {
    fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        let e = self.energy(x)?;
        let v = x[0];
        if self.centred {
            let ev = (-v).exp();
            let ss: f64 = x[1..].iter().map(|a| a * a).sum();
            g[0] = v / 9.0 - 0.5 * ss * ev + 0.5 * (self.dim - 1) as f64;
            for (gi, xi) in g[1..].iter_mut().zip(&x[1..]) {
                *gi = xi * ev;
            }
        } else {
            g[0] = v / 9.0;
            g[1..].copy_from_slice(&x[1..]);
        }
        Ok(e)
    }
}
