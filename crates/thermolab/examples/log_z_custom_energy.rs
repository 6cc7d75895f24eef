//! Estimate log Z of your own energy, two ways: a plain energy reached from a Gaussian
//! reference, and a posterior split into prior and likelihood (the log evidence).
//!
//! ```text
//! cargo run --release -p thermolab --example log_z_custom_energy
//! ```
//!
//! Every estimator runs on a [`LinearPath`] `E_t = E_ref + t·ΔE` from t = 0 (a normalised
//! reference) to t = 1 (your target), so `ln Z(1)` is what they estimate.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use thermolab::prelude::*;

/// `E(x) = Σ (x_i − 1)² / (2·0.3²)`: ln Z = (d/2) ln(2π·0.09).
#[derive(Clone)]
struct Narrow;

impl Energy for Narrow {
    fn dim(&self) -> usize {
        3
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        Ok(x.iter().map(|v| (v - 1.0) * (v - 1.0)).sum::<f64>() / (2.0 * 0.09))
    }
}

impl Gradient for Narrow {
    fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        for (gi, v) in g.iter_mut().zip(x) {
            *gi = (v - 1.0) / 0.09;
        }
        self.energy(x)
    }
}

/// The mean μ of five observations `y_k ~ N(μ, 1)` with prior `μ ~ N(0, 2²)`: a posterior
/// split into prior (the reference) and likelihood (ΔE), with a closed-form evidence.
#[derive(Clone)]
struct NormalMean {
    y: Vec<f64>,
}

impl LinearPath for NormalMean {
    fn dim(&self) -> usize {
        1
    }
    fn reference_energy(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        g[0] = x[0] / 4.0;
        Ok(x[0] * x[0] / 8.0 + 0.5 * (2.0 * std::f64::consts::PI * 4.0).ln())
    }
    fn delta_energy(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        g[0] = self.y.iter().map(|y| x[0] - y).sum();
        let sq: f64 = self.y.iter().map(|y| (y - x[0]) * (y - x[0])).sum();
        Ok(0.5 * sq + 0.5 * self.y.len() as f64 * (2.0 * std::f64::consts::PI).ln())
    }
    fn log_z_reference(&self) -> Option<f64> {
        Some(0.0) // the prior is normalised
    }
    fn sample_reference<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) -> bool {
        let z: f64 = StandardNormal.sample(rng);
        out[0] = 2.0 * z;
        true
    }
}

impl NormalMean {
    /// log p(y): y ~ N(0, I + 4·11ᵀ).
    fn exact(&self) -> f64 {
        let n = self.y.len() as f64;
        let (s, ss): (f64, f64) = (self.y.iter().sum(), self.y.iter().map(|v| v * v).sum());
        let quad = ss - 4.0 * s * s / (1.0 + 4.0 * n);
        -0.5 * n * (2.0 * std::f64::consts::PI).ln() - 0.5 * (1.0 + 4.0 * n).ln() - 0.5 * quad
    }
}

fn report(label: &str, run: &thermolab::drivers::evidence::EvidenceRun, exact: f64) {
    println!("{label} (exact {exact:.4}):");
    for e in &run.estimates {
        println!(
            "  {:<30} {:>9.4} ± {:.4}  {}",
            e.method,
            e.log_z.value,
            e.log_z.se,
            e.note.as_deref().unwrap_or("")
        );
    }
}

fn main() -> Result<(), thermolab::Error> {
    let settings = EvidenceSettings {
        rungs: 32,
        draws: 1000,
        ais_particles: 128,
        ais_steps: 300,
        ..Default::default()
    }
    .validate()?;
    // 1. A plain energy: the path starts at a normalised Gaussian reference N(0, 2² I).
    let exact = 1.5 * (2.0 * std::f64::consts::PI * 0.09f64).ln();
    let path = ReferencePath {
        target: Narrow,
        ref_sd: 2.0,
    };
    let run = evidence(&path, &settings, 1, &mut RunContext::new())?;
    report("ln Z of a custom energy", &run, exact);
    let ti = &run.estimates[0].log_z;
    assert!((ti.value - exact).abs() < 4.0 * ti.se + 0.05);
    // 2. A posterior split into prior and likelihood: the path is the power posterior.
    let post = NormalMean {
        y: vec![0.8, 1.9, 1.2, 0.4, 1.5],
    };
    let run = evidence(&post, &settings, 2, &mut RunContext::new())?;
    report("log evidence of a custom posterior", &run, post.exact());
    let ss = &run.estimates[1].log_z;
    assert!((ss.value - post.exact()).abs() < 4.0 * ss.se + 0.05);
    Ok(())
}
