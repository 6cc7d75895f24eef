//! Tests of the network posterior: energies and gradients against the f64 network of
//! [`crate::nn`], the Student-t gradient by finite differences, minibatches that average to the
//! full energy, the prior's density, and errors for data that do not fit.

use super::network::*;
use crate::data::Dataset;
use crate::energy::{Energy, Gradient};
use crate::nn::{Activation, Architecture, Loss, MinibatchEnergy, MlpEnergy};
use rand::Rng;
use std::sync::Arc;

fn random(n: usize, scale: f64, seed: u64) -> Vec<f64> {
    let mut rng = crate::rng::init_stream(seed);
    (0..n).map(|_| rng.random_range(-scale..scale)).collect()
}

/// Inputs `n × d` and targets `n × k` (class indices below `k` when `classes`).
fn dataset(n: usize, d: usize, k: usize, classes: bool) -> Dataset {
    let x = random(n * d, 1.5, 1);
    let y = if classes {
        (0..n).map(|i| ((i * 7 + i / 3) % k) as f64).collect()
    } else {
        random(n * k, 2.0, 2)
    };
    Dataset {
        x,
        y,
        n,
        n_inputs: d,
        n_targets: if classes { 1 } else { k },
        input_names: vec![],
        target_names: vec![],
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn the_likelihood_is_the_f64_network_s_loss_summed_over_rows() {
    let prior_sd = 0.7;
    for (classes, act, sizes) in [
        (true, Activation::Tanh, vec![4, 6, 3]),
        (true, Activation::Relu, vec![4, 7, 5, 3]),
        (false, Activation::Sigmoid, vec![4, 6, 2]),
    ] {
        let (n, k) = (60, *sizes.last().unwrap());
        let ds = dataset(n, 4, k, classes);
        let arch = Architecture::new(sizes, act);
        let loss = if classes {
            Loss::SoftmaxCrossEntropy
        } else {
            Loss::Mse
        };
        let mut reference = MlpEnergy::new(arch.clone(), Arc::new(ds.clone()), loss).unwrap();
        let sd = 0.8;
        let likelihood = if classes {
            Likelihood::Categorical
        } else {
            Likelihood::Gaussian { sd }
        };
        let prior = GaussianPrior::isotropic(&arch, prior_sd);
        let data = NetworkData::from_dataset(&ds, classes).unwrap();
        let mut post = NetworkPosterior::new(arch.clone(), data.into(), likelihood, prior).unwrap();
        let theta = random(arch.n_params(), 0.6, 3);
        let p = theta.len();
        let (mut g_ref, mut g) = (vec![0.0; p], vec![0.0; p]);
        let mean = reference.energy_grad(&theta, &mut g_ref).unwrap();
        // MlpEnergy averages over rows (and, for MSE, over outputs too).
        let (factor, constant) = if classes {
            (n as f64, 0.0)
        } else {
            let c = (n * k) as f64 * (sd.ln() + 0.5 * (2.0 * std::f64::consts::PI).ln());
            ((n * k) as f64 / (2.0 * sd * sd), c)
        };
        let sq: f64 = theta.iter().map(|v| v * v).sum();
        let prior_e = 0.5 * sq / (prior_sd * prior_sd)
            + p as f64 * (prior_sd.ln() + 0.5 * (2.0 * std::f64::consts::PI).ln());
        let want = factor * mean + constant + prior_e;
        let e = post.energy_grad(&theta, &mut g).unwrap();
        assert!(close(e, want, 1e-5), "{e} vs {want}");
        assert!(close(post.energy(&theta).unwrap(), e, 1e-12));
        let g_max = g_ref.iter().fold(0.0f64, |m, v| m.max(v.abs())) * factor;
        for i in 0..p {
            let want = factor * g_ref[i] + theta[i] / (prior_sd * prior_sd);
            assert!(
                (g[i] - want).abs() < 1e-4 * (1.0 + g_max),
                "∂{i}: {} vs {want}",
                g[i]
            );
        }
    }
}

#[test]
fn the_student_t_gradient_matches_finite_differences() {
    let ds = dataset(30, 3, 2, false);
    let arch = Architecture::new(vec![3, 5, 4, 2], Activation::Tanh);
    let data = NetworkData::from_dataset(&ds, false).unwrap();
    let prior = GaussianPrior::fan_in(&arch, 1.3);
    let lik = Likelihood::StudentT {
        dof: 3.0,
        scale: 0.5,
    };
    let mut post = NetworkPosterior::new(arch.clone(), data.into(), lik, prior).unwrap();
    let theta = random(arch.n_params(), 0.8, 5);
    let mut g = vec![0.0; theta.len()];
    post.energy_grad(&theta, &mut g).unwrap();
    let h = 1e-2;
    for i in 0..theta.len() {
        let mut t = theta.clone();
        t[i] += h;
        let up = post.energy(&t).unwrap();
        t[i] -= 2.0 * h;
        let down = post.energy(&t).unwrap();
        let fd = (up - down) / (2.0 * h);
        assert!(
            (fd - g[i]).abs() < 2e-2 * (1.0 + g[i].abs()),
            "∂{i}: {} vs {fd}",
            g[i]
        );
    }
    // The constant: one row, f = y, no prior term left but its own: −ln t_ν(0; 0, s).
    let one = NetworkData::values(vec![0.0], 1, vec![0.0], 1).unwrap();
    let arch = Architecture::new(vec![1, 1], Activation::Identity);
    let mut p1 = NetworkPosterior::new(
        arch.clone(),
        one.into(),
        lik,
        GaussianPrior::isotropic(&arch, 1.0),
    )
    .unwrap();
    let e = p1.energy(&[0.0, 0.0]).unwrap()
        + GaussianPrior::isotropic(&arch, 1.0).log_density(&arch, &[0.0, 0.0]);
    // t_3 density at 0 with scale 0.5: Γ(2)/(Γ(1.5)·√(3π)·0.5).
    let density = 1.0 / (0.886_226_925_452_758 * (3.0 * std::f64::consts::PI).sqrt() * 0.5);
    assert!((e + density.ln()).abs() < 1e-9, "{e} vs {}", -density.ln());
}

#[test]
fn minibatch_energies_average_to_the_full_energy() {
    let ds = dataset(40, 4, 3, true);
    let arch = Architecture::new(vec![4, 6, 3], Activation::Relu);
    let data = NetworkData::from_dataset(&ds, true).unwrap();
    let prior = GaussianPrior::isotropic(&arch, 1.0);
    let mut post =
        NetworkPosterior::new(arch.clone(), data.into(), Likelihood::Categorical, prior).unwrap();
    let theta = random(arch.n_params(), 0.8, 7);
    let p = theta.len();
    let mut g_full = vec![0.0; p];
    let full = post.energy_grad(&theta, &mut g_full).unwrap();
    let rows: Vec<usize> = (0..40).rev().collect();
    let (mut e_sum, mut g_sum) = (0.0, vec![0.0; p]);
    for batch in rows.chunks(10) {
        post.set_batch(Some(batch));
        let mut g = vec![0.0; p];
        e_sum += post.energy_grad(&theta, &mut g).unwrap() / 4.0;
        for (s, v) in g_sum.iter_mut().zip(&g) {
            *s += v / 4.0;
        }
    }
    assert!(close(e_sum, full, 1e-5), "{e_sum} vs {full}");
    for (a, b) in g_sum.iter().zip(&g_full) {
        assert!((a - b).abs() < 1e-4 * (1.0 + b.abs()));
    }
    // A batch of one row is scaled by n.
    post.set_batch(Some(&[3]));
    let one = post.energy(&theta).unwrap();
    post.set_batch(None);
    assert!(close(post.energy(&theta).unwrap(), full, 1e-12) && one.is_finite());
}

#[test]
fn outputs_are_the_forward_pass_and_predict_new_rows() {
    let ds = dataset(25, 4, 3, true);
    let arch = Architecture::new(vec![4, 5, 3], Activation::Tanh);
    let mut reference = MlpEnergy::new(
        arch.clone(),
        Arc::new(ds.clone()),
        Loss::SoftmaxCrossEntropy,
    )
    .unwrap();
    let data = NetworkData::from_dataset(&ds, true).unwrap();
    let x = data.x.clone();
    let prior = GaussianPrior::isotropic(&arch, 1.0);
    let mut post =
        NetworkPosterior::new(arch.clone(), data.into(), Likelihood::Categorical, prior).unwrap();
    let theta = random(arch.n_params(), 0.8, 9);
    let out = post.outputs(&theta, &x).unwrap();
    let want = reference.predict(&theta, &ds.x);
    assert_eq!(out.len(), want.len());
    for (a, b) in out.iter().zip(&want) {
        assert!((*a as f64 - b).abs() < 1e-5, "{a} vs {b}");
    }
    assert!(post.outputs(&theta, &x[..5]).is_err());
}

#[test]
fn data_that_do_not_fit_are_refused_with_the_reason() {
    let arch = Architecture::new(vec![2, 3, 2], Activation::Tanh);
    let prior = GaussianPrior::isotropic(&arch, 1.0);
    let msg = |r: Result<NetworkPosterior, crate::systems::ModelError>| r.unwrap_err().message;
    let data = NetworkData::classes(vec![0.0; 4], 2, vec![0, 2]).unwrap();
    assert!(msg(NetworkPosterior::new(
        arch.clone(),
        data.into(),
        Likelihood::Categorical,
        prior.clone()
    ))
    .contains("row 2 has class 2"));
    let e = NetworkData::classes(vec![0.0; 5], 2, vec![0, 1]).unwrap_err();
    assert!(e.message.contains("not 2 rows of 2"), "{}", e.message);
    let e = NetworkData::classes(vec![0.0, f32::NAN, 0.0, 0.0], 2, vec![0, 1]).unwrap_err();
    assert!(e.message.contains("row 1, column 2"), "{}", e.message);
    let e = NetworkData::values(vec![0.0; 4], 2, vec![1.0, f32::INFINITY], 1).unwrap_err();
    assert!(e.message.contains("row 2"), "{}", e.message);
    let data = Arc::new(NetworkData::classes(vec![0.0; 4], 2, vec![0, 1]).unwrap());
    assert!(msg(NetworkPosterior::new(
        arch.clone(),
        data.clone(),
        Likelihood::Gaussian { sd: 1.0 },
        prior.clone()
    ))
    .contains("categorical"));
    assert!(msg(NetworkPosterior::new(
        arch.clone(),
        data.clone(),
        Likelihood::Categorical,
        GaussianPrior::isotropic(&Architecture::new(vec![2, 2], Activation::Tanh), 1.0)
    ))
    .contains("layers"));
    let mut bad = prior.clone();
    bad.bias_sd[0] = 0.0;
    assert!(msg(NetworkPosterior::new(
        arch.clone(),
        data.clone(),
        Likelihood::Categorical,
        bad
    ))
    .contains("> 0"));
    let mut sig = arch.clone();
    sig.output = Activation::Sigmoid;
    assert!(msg(NetworkPosterior::new(
        sig,
        data.clone(),
        Likelihood::Categorical,
        prior.clone()
    ))
    .contains("linear"));
    assert!(msg(NetworkPosterior::new(
        arch,
        data,
        Likelihood::Gaussian { sd: f64::NAN },
        prior
    ))
    .contains("sd"));
}

#[test]
fn augmented_minibatches_are_uniform_shifts_of_their_images_and_the_full_batch_is_not() {
    // One 4 × 4 image; every one of its nine shifts by at most a pixel as its own row of a
    // plain posterior, so each augmented energy must be one of theirs.
    let image: Vec<f32> = (0..16).map(|i| ((i * 5 % 7) as f32) / 7.0).collect();
    let aug = Augmentation {
        height: 4,
        width: 4,
        max_shift: 1,
        seed: 3,
    };
    let mut shifted = Vec::new();
    for dy in -1..=1 {
        for dx in -1..=1 {
            let mut out = vec![0.0; 16];
            for y in 0..4i32 {
                for x in 0..4i32 {
                    let (sy, sx) = (y - dy, x - dx);
                    if (0..4).contains(&sy) && (0..4).contains(&sx) {
                        out[(y * 4 + x) as usize] = image[(sy * 4 + sx) as usize];
                    }
                }
            }
            shifted.extend(out);
        }
    }
    let arch = Architecture::new(vec![16, 2], Activation::Identity);
    let prior = GaussianPrior::isotropic(&arch, 1.0);
    let theta = random(arch.n_params(), 1.0, 5);
    let one = NetworkData::classes(image.clone(), 16, vec![1]).unwrap();
    let nine = NetworkData::classes(shifted, 16, vec![1; 9]).unwrap();
    let mut plain = NetworkPosterior::new(
        arch.clone(),
        nine.into(),
        Likelihood::Categorical,
        prior.clone(),
    )
    .unwrap();
    // A batch of one of nine rows is the likelihood × 9 plus the prior's energy.
    let prior_energy = -prior.log_density(&arch, &theta);
    let energies: Vec<f64> = (0..9)
        .map(|i| {
            plain.set_batch(Some(&[i]));
            (plain.energy(&theta).unwrap() - prior_energy) / 9.0 + prior_energy
        })
        .collect();
    let post =
        NetworkPosterior::new(arch.clone(), one.into(), Likelihood::Categorical, prior).unwrap();
    let mut aug_post = post.clone().with_augmentation(aug).unwrap();
    let full = aug_post.energy(&theta).unwrap();
    assert_eq!(full, post.clone().energy(&theta).unwrap());
    let mut counts = [0usize; 9];
    let draws = 900;
    for _ in 0..draws {
        aug_post.set_batch(Some(&[0]));
        let e = aug_post.energy(&theta).unwrap();
        // The same batch evaluated again sees the same shifts.
        assert_eq!(e, aug_post.energy(&theta).unwrap());
        let k = energies
            .iter()
            .position(|&v| (v - e).abs() < 1e-5 * (1.0 + v.abs()))
            .unwrap_or_else(|| panic!("{e} is no shift's energy: {energies:?}"));
        counts[k] += 1;
    }
    // Distinct energies per shift (else the count is shared), uniform by chi-square (8 dof,
    // 99.9 % point 26.1).
    let expected = draws as f64 / 9.0;
    let chi2: f64 = counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum();
    assert!(chi2 < 26.1, "{counts:?}");
    assert!(counts.iter().all(|&c| c > 0), "{counts:?}");
    for bad in [
        Augmentation { height: 3, ..aug },
        Augmentation {
            max_shift: 0,
            ..aug
        },
        Augmentation {
            max_shift: 4,
            ..aug
        },
    ] {
        assert!(post.clone().with_augmentation(bad).is_err());
    }
}
