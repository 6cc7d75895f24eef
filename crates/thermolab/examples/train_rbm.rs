//! Train a restricted Boltzmann machine on the built-in digits and evaluate it: exact log Z
//! (the hidden layer is enumerable), AIS against it, and the test log-likelihood.
//!
//! ```text
//! cargo run --release -p thermolab --example train_rbm
//! ```

use thermolab::data::{binarize, digits, Binarize};
use thermolab::drivers::rbm::{ais_log_z, AisSettings};
use thermolab::prelude::*;
use thermolab::systems::rbm::average_log_likelihood;

fn main() -> Result<(), thermolab::Error> {
    // The 8×8 digits, binarised at half intensity; 1500 rows to train, the rest to test.
    let mut d = digits();
    binarize(&mut d.pixels, Binarize::Threshold(0.5));
    let (train, test) = (d.slice(0, 1500), d.slice(1500, d.n));
    let settings = RbmTrainSettings {
        epochs: 30,
        batch_size: 10,
        final_learning_rate_fraction: 0.1,
        ..Default::default()
    }
    .validate()?;
    let m0 = init_rbm(VisibleKind::Bernoulli, 64, 16, &train.pixels, &settings, 7)?;
    let mut trainer = RbmTrainer::new(m0, &train.pixels, settings, 7)?;
    let summary = trainer.run(&train.pixels, &mut RunContext::new())?;
    let rbm = trainer.rbm();
    println!(
        "{} epochs by PCD in {:.2} s ({})",
        summary.epochs,
        summary.seconds,
        summary.termination.as_str()
    );
    let exact = log_partition_exact(rbm, 20)?;
    let base = rbm.base_rate_biases(&train.pixels);
    let ais = AisSettings {
        chains: 100,
        temperatures: 2000,
        ..Default::default()
    }
    .validate()?;
    let e = ais_log_z(rbm, &base, &ais, 7, &mut RunContext::new())?;
    println!("ln Z: exact {exact:.4}, AIS {:.4} ± {:.4}", e.log_z, e.se);
    assert!((e.log_z - exact).abs() < 4.0 * e.se + 0.05);
    let ll = average_log_likelihood(rbm, &test.pixels, exact);
    println!("test log-likelihood {ll:.3} nats per image (independent pixels: about −24.5)");
    assert!(ll > -24.0);
    Ok(())
}
