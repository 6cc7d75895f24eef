//! Onsager's exact solution of the infinite 2-D Ising ferromagnet (square lattice, coupling J):
//! free energy, energy, heat capacity and Yang's spontaneous magnetisation.
//!
//! With `K = J/T`, `κ = 2 sinh 2K / cosh² 2K` and complete elliptic integrals K₁(κ), E₁(κ):
//! - `−βf = ln(2 cosh 2K) + (1/π) ∫₀^{π/2} ln[(1 + √(1 − κ² sin²θ))/2] dθ`;
//! - `u = −J coth 2K [1 + (2/π)(2 tanh² 2K − 1) K₁(κ)]`;
//! - `c = du/dT = −K² du/dK`, differentiated analytically with `t = tanh 2K`,
//!   `κ = 2t√(1−t²)`, `dt/dK = 2(1−t²)` and `dK₁/dκ = E₁/(κ(1−κ²)) − K₁/κ`;
//! - `M = (1 − sinh⁻⁴ 2K)^{1/8}` below `T_c = 2J / ln(1 + √2)`, else 0.
//!
//! # References
//! - Onsager, L. (1944), "Crystal statistics. I.", *Phys. Rev.* 65.
//! - Yang, C. N. (1952), "The spontaneous magnetization of a two-dimensional Ising model",
//!   *Phys. Rev.* 85.

use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// `T_c / J = 2 / ln(1 + √2)`.
pub const CRITICAL_TEMPERATURE: f64 = 2.269_185_314_213_022;

/// Onsager's exact per-site results at one temperature.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OnsagerPoint {
    /// Temperature T.
    pub temperature: f64,
    /// `F / N`.
    pub free_energy_per_site: f64,
    /// `U / N`.
    pub energy_per_site: f64,
    /// `C / N` (diverges logarithmically at T_c).
    pub heat_capacity_per_site: f64,
    /// Spontaneous magnetisation per site.
    pub magnetization: f64,
}

/// Complete elliptic integrals (K, E) of modulus `k` by the arithmetic–geometric mean.
fn elliptic_ke(k: f64) -> (f64, f64) {
    let (mut a, mut b, mut c) = (1.0f64, (1.0 - k * k).max(0.0).sqrt(), k);
    let mut sum = 0.5 * c * c;
    let mut pow = 0.5;
    for _ in 0..60 {
        if c.abs() < 1e-17 {
            break;
        }
        let an = 0.5 * (a + b);
        let bn = (a * b).sqrt();
        c = 0.5 * (a - b);
        a = an;
        b = bn;
        pow *= 2.0;
        sum += pow * c * c;
    }
    let kk = PI / (2.0 * a);
    (kk, kk * (1.0 - sum))
}

/// Onsager's infinite-lattice results for coupling `j > 0` at temperature `t > 0`.
pub fn onsager(j: f64, t: f64) -> OnsagerPoint {
    let k = j / t;
    let (s2, c2) = ((2.0 * k).sinh(), (2.0 * k).cosh());
    let kappa = (2.0 * s2 / (c2 * c2)).min(1.0);
    // Simpson's rule on a smooth integrand (continuous even at κ = 1).
    let n = 4096;
    let h = (PI / 2.0) / n as f64;
    let g = |th: f64| ((1.0 + (1.0 - kappa * kappa * th.sin().powi(2)).max(0.0).sqrt()) / 2.0).ln();
    let mut integral = g(0.0) + g(PI / 2.0);
    for i in 1..n {
        integral += g(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    integral *= h / 3.0;
    let minus_beta_f = (2.0 * c2).ln() + integral / PI;
    let th2 = (2.0 * k).tanh().powi(2);
    let coth2 = c2 / s2;
    let (k1, e1) = if kappa < 1.0 {
        elliptic_ke(kappa)
    } else {
        (f64::INFINITY, 1.0)
    };
    let u = if kappa < 1.0 {
        -j * coth2 * (1.0 + (2.0 / PI) * (2.0 * th2 - 1.0) * k1)
    } else {
        -j * coth2 // (2 tanh² 2K − 1) = 0 exactly at T_c
    };
    let c = if kappa < 1.0 {
        // u/J = −(1/t)[1 + (2/π)(2t² − 1) K₁(κ)], t = tanh 2K.
        let t1 = th2.sqrt();
        let dt = 2.0 * (1.0 - th2);
        let dkappa = 2.0 * (1.0 - 2.0 * th2) / (1.0 - th2).sqrt() * dt;
        let dk1 = e1 / (kappa * (1.0 - kappa * kappa)) - k1 / kappa;
        let bracket = 1.0 + (2.0 / PI) * (2.0 * th2 - 1.0) * k1;
        let du_dk = dt / th2 * bracket
            - (2.0 / PI) / t1 * (4.0 * t1 * dt * k1 + (2.0 * th2 - 1.0) * dk1 * dkappa);
        -k * k * du_dk
    } else {
        f64::INFINITY
    };
    let m = if t < CRITICAL_TEMPERATURE * j {
        (1.0 - s2.powi(-4)).max(0.0).powf(0.125)
    } else {
        0.0
    };
    OnsagerPoint {
        temperature: t,
        free_energy_per_site: -t * minus_beta_f,
        energy_per_site: u,
        heat_capacity_per_site: c,
        magnetization: m,
    }
}
