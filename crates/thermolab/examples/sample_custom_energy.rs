//! Sample your own energy with NUTS and read R̂ and ESS: a banana-shaped density written by hand.
//!
//! ```text
//! cargo run --release -p thermolab --example sample_custom_energy
//! ```
//!
//! An energy is `−log density` (up to a constant): lower is more probable. Implement
//! [`Energy`] (and [`Gradient`] for gradient-based kernels), pick settings, call [`sample`].

use thermolab::prelude::*;

/// A banana: `x₀ ~ N(0, 1)`, `x₁ | x₀ ~ N(x₀², 1)`, so `E[x₁] = E[x₀²] = 1`.
#[derive(Clone)]
struct Banana;

impl Energy for Banana {
    fn dim(&self) -> usize {
        2
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        let r = x[1] - x[0] * x[0];
        Ok(0.5 * x[0] * x[0] + 0.5 * r * r)
    }
}

impl Gradient for Banana {
    fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        let r = x[1] - x[0] * x[0];
        g[0] = x[0] - 2.0 * x[0] * r;
        g[1] = r;
        self.energy(x)
    }
}

fn main() -> Result<(), thermolab::Error> {
    let settings = SampleSettings {
        chains: 4,
        warmup: 1000,
        draws: 1000,
        ..Default::default()
    }
    .validate(2)?;
    let run = sample(&Banana, &settings, 42, &mut RunContext::new())?;
    println!("termination: {}", run.termination.as_str());
    println!(
        "{:<4} {:>8} {:>8} {:>8} {:>8} {:>6}",
        "", "mean", "sd", "ess_bulk", "ess_tail", "r_hat"
    );
    for (j, name) in ["x0", "x1"].iter().enumerate() {
        let s = run.summary(j, name);
        println!(
            "{:<4} {:>8.3} {:>8.3} {:>8.0} {:>8.0} {:>6.3}",
            s.name, s.mean, s.sd, s.ess_bulk, s.ess_tail, s.r_hat
        );
        assert!(s.r_hat < 1.05, "{name} has not converged");
    }
    // E[x₁] = E[x₀²] = 1 exactly.
    let x1 = run.summary(1, "x1");
    println!(
        "E[x1] = {:.3} ± {:.3} (exact 1); {} divergences",
        x1.mean,
        x1.mcse_mean,
        run.divergences()
    );
    assert!((x1.mean - 1.0).abs() < 5.0 * x1.mcse_mean);
    Ok(())
}
