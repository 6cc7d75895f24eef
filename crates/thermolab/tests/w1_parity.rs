//! W1 parity: the seed network trained with Adam from the reference weights reaches the reference
//! final MSE (0.1535720307, reproduced identically by the hand-written numpy and PyTorch peers).

use std::path::Path;
use std::sync::Arc;
use thermolab::data::{load_csv, CsvSpec};
use thermolab::drivers::optim::OptimizerSettings;
use thermolab::drivers::train::{train, TrainSettings};
use thermolab::nn::{Loss, MlpEnergy};
use thermolab::run::RunContext;

#[test]
fn w1_reaches_the_reference_mse_from_the_reference_weights() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let data = load_csv(&dir.join("w1_data.csv"), &CsvSpec::default()).unwrap();
    let theta0 = std::fs::read_to_string(dir.join("w1_init.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.parse::<f64>().unwrap())
        .collect::<Vec<_>>();
    let mut e = MlpEnergy::new("1-10-1:relu".parse().unwrap(), Arc::new(data), Loss::Mse).unwrap();
    let s = TrainSettings {
        epochs: 2000,
        batch_size: None,
        optimizer: OptimizerSettings::adam(0.01),
    }
    .validate()
    .unwrap();
    let r = train(&mut e, theta0, &s, 0, &mut RunContext::new()).unwrap();
    // Loss checkpoints of the numpy peer (loss before update k): 1 → 1.42464103, 100 → 0.20328111.
    assert!(
        (r.losses[0] - 1.4246410307530653).abs() < 1e-12,
        "{}",
        r.losses[0]
    );
    assert!(
        (r.losses[99] - 0.2032811077798521).abs() < 1e-9,
        "{}",
        r.losses[99]
    );
    // Summation order differs from BLAS, so agree to 1e-9 rather than bit for bit.
    assert!(
        (r.final_loss - 0.15357203074253142).abs() < 1e-9,
        "{}",
        r.final_loss
    );
}
