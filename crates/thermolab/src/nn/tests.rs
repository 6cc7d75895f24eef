//! Tests of the network energies: parsing, gradients against finite differences, training.

use super::*;
use crate::data::{sin_data, Dataset};
use crate::drivers::optim::OptimizerSettings;
use crate::drivers::train::{train, TrainSettings};
use crate::energy::{Energy, Gradient};
use crate::observe::ThermoMonitor;
use crate::rng::{chain_stream, init_stream};
use crate::run::{RunContext, Termination};
use crate::systems::tests::check_gradient_tol;
use std::sync::Arc;

#[test]
fn architecture_strings_parse_and_print() {
    let a: Architecture = "1-10-1:relu".parse().unwrap();
    assert_eq!(a.sizes, vec![1, 10, 1]);
    assert_eq!(a.n_params(), 31);
    assert_eq!(a.to_string(), "1-10-1:relu");
    let b: Architecture = "4-8-8-3:tanh".parse().unwrap();
    assert_eq!(b.n_params(), 4 * 8 + 8 + 8 * 8 + 8 + 8 * 3 + 3);
    assert_eq!(
        "2-3".parse::<Architecture>().unwrap().hidden,
        Activation::Relu
    );
    for bad in ["", "1", "1-x-1", "1-0-1", "1-10-1:swish", "1-2:relu:tanh:x"] {
        let e = bad.parse::<Architecture>().unwrap_err().to_string();
        assert!(e.starts_with("bad architecture"), "{bad}: {e}");
    }
}

fn classification_data() -> Arc<Dataset> {
    let mut rng = init_stream(9);
    use rand::Rng;
    let n = 30;
    let x: Vec<f64> = (0..2 * n).map(|_| rng.random_range(-2.0..2.0)).collect();
    let y = (0..n)
        .map(|i| {
            if x[2 * i] + x[2 * i + 1] > 0.5 {
                2.0
            } else if x[2 * i] > 0.0 {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    Arc::new(Dataset {
        x,
        y,
        n,
        n_inputs: 2,
        n_targets: 1,
        input_names: vec!["a".into(), "b".into()],
        target_names: vec!["c".into()],
    })
}

#[test]
fn gradients_match_finite_differences() {
    let sin = Arc::new(sin_data(40, 0.1, 1));
    for act in ["tanh", "sigmoid", "relu", "identity"] {
        let arch: Architecture = format!("1-7-5-1:{act}").parse().unwrap();
        let mut e = MlpEnergy::new(arch.clone(), sin.clone(), Loss::Mse).unwrap();
        for seed in 0..5 {
            let th = Init::Glorot.sample(&arch, &mut chain_stream(seed, 0));
            // ReLU kinks make FD inexact only when h crosses one: tolerance stays tight anyway.
            check_gradient_tol(&mut e, &th, 1e-5);
        }
    }
    for out in ["identity", "sigmoid"] {
        let arch: Architecture = format!("2-6-3:tanh:{out}").parse().unwrap();
        let mut e = MlpEnergy::new(
            arch.clone(),
            classification_data(),
            Loss::SoftmaxCrossEntropy,
        )
        .unwrap();
        let th = Init::Glorot.sample(&arch, &mut chain_stream(3, 0));
        check_gradient_tol(&mut e, &th, 1e-5);
        // Minibatch evaluation equals the loss over those rows only.
        e.set_batch(Some(&[0, 5, 7]));
        let mut g = vec![0.0; arch.n_params()];
        let lb = e.energy_grad(&th, &mut g).unwrap();
        check_gradient_tol(&mut e, &th, 1e-5);
        e.set_batch(None);
        assert_ne!(lb, e.energy(&th).unwrap());
    }
}

#[test]
fn mismatched_data_is_a_clear_error() {
    let sin = Arc::new(sin_data(10, 0.1, 1));
    let e = MlpEnergy::new("2-3-1".parse().unwrap(), sin.clone(), Loss::Mse).unwrap_err();
    assert!(
        e.to_string()
            .contains("1 input column(s) but the network `2-3-1:relu` expects 2"),
        "{e}"
    );
    assert!(!e.is_recoverable());
    let e = MlpEnergy::new("1-3-2".parse().unwrap(), sin, Loss::SoftmaxCrossEntropy).unwrap_err();
    assert!(e.to_string().contains("class label"), "{e}");
}

#[test]
fn adam_fits_the_sin_data_and_the_monitor_measures_it() {
    let data = Arc::new(sin_data(200, 0.1, 0));
    let arch: Architecture = "1-10-1:tanh".parse().unwrap();
    let mut e = MlpEnergy::new(arch.clone(), data, Loss::Mse).unwrap();
    let th0 = Init::Auto.sample(&arch, &mut init_stream(0));
    let l0 = e.energy(&th0).unwrap();
    let s = TrainSettings {
        epochs: 2000,
        batch_size: None,
        optimizer: OptimizerSettings::adam(0.01),
    }
    .validate()
    .unwrap();
    let mut mon = ThermoMonitor::new(100, 20);
    let mut ctx = RunContext::new().with_observer(&mut mon);
    let r = train(&mut e, th0, &s, 0, &mut ctx).unwrap();
    assert_eq!(r.termination, Termination::Finished);
    assert!(
        r.final_loss < 0.05 && r.final_loss < l0 / 5.0,
        "{} from {l0}",
        r.final_loss
    );
    let rep = mon.into_report();
    assert_eq!(rep.energy.len(), 2000);
    assert!(
        rep.noise_temperature.iter().all(|t| t.is_none()),
        "full batch has no noise"
    );
    assert!(rep.equilibrium_epoch.is_some());
    assert!(rep.final_weight_entropy.is_some());
    assert_eq!(rep.final_weights.unwrap().counts.iter().sum::<u64>(), 31);
}

#[test]
fn minibatch_training_has_a_positive_noise_temperature_and_is_reproducible() {
    let data = Arc::new(sin_data(200, 0.1, 0));
    let arch: Architecture = "1-10-1:relu".parse().unwrap();
    let th0 = Init::Auto.sample(&arch, &mut init_stream(0));
    let s = TrainSettings {
        epochs: 50,
        batch_size: Some(20),
        optimizer: OptimizerSettings::sgd(0.01, 0.9),
    }
    .validate()
    .unwrap();
    let run = || {
        let mut e = MlpEnergy::new(arch.clone(), data.clone(), Loss::Mse).unwrap();
        let mut mon = ThermoMonitor::new(10, 10);
        let mut ctx = RunContext::new().with_observer(&mut mon);
        let r = train(&mut e, th0.clone(), &s, 4, &mut ctx).unwrap();
        (r, mon.into_report())
    };
    let (a, ra) = run();
    let (b, _) = run();
    assert_eq!(a.theta, b.theta);
    assert_eq!(a.evaluations.gradient, 50 * 10);
    let t = ra.final_noise_temperature.unwrap();
    assert!(t > 0.0 && t.is_finite(), "{t}");
}

#[test]
fn a_nan_loss_ends_training_as_diverged() {
    let data = Arc::new(sin_data(50, 0.1, 0));
    let arch: Architecture = "1-10-1:relu".parse().unwrap();
    let mut e = MlpEnergy::new(arch.clone(), data, Loss::Mse).unwrap();
    let th0 = Init::Auto.sample(&arch, &mut init_stream(0));
    let s = TrainSettings {
        epochs: 100,
        batch_size: None,
        optimizer: OptimizerSettings::sgd(1e6, 0.0),
    }
    .validate()
    .unwrap();
    let r = train(&mut e, th0, &s, 0, &mut RunContext::new()).unwrap();
    assert_eq!(r.termination, Termination::Diverged);
    assert!(r.epochs_run < 100);
    assert!(r.theta.iter().all(|v| v.is_finite()) || r.final_loss.is_nan());
}
