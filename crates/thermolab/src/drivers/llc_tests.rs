//! Tests of the local learning coefficient against models whose λ is known: linear regression
//! (regular, λ = d/2) and reduced-rank regression in each case of Aoyagi & Watanabe's formula.

use super::llc::{local_learning_coefficient, LlcSettings};
use crate::energy::{Energy, Gradient};
use crate::kernels::mcmc::State;
use crate::kernels::sgmcmc::SgKernel;
use crate::kernels::Kernel;
use crate::rng::chain_stream;
use crate::systems::{rrr_learning_coefficient, DeepLinearNetwork};

/// Gradient descent (SGLD at zero temperature) from the teacher's parameter.
fn trained(net: &mut DeepLinearNetwork, steps: usize, lr: f64) -> Vec<f64> {
    let start = net.teacher_parameter().unwrap().to_vec();
    let mut state = State::new(net, start).unwrap();
    let mut gd = SgKernel::sgld(lr).unwrap();
    let mut rng = chain_stream(0, 0);
    for _ in 0..steps {
        gd.step(net, &mut state, f64::INFINITY, &mut rng).unwrap();
    }
    state.x
}

#[test]
fn the_deep_linear_network_s_gradient_matches_finite_differences() {
    let mut net = DeepLinearNetwork::teacher(&[3, 4, 2, 2], 1, 50, 3).unwrap();
    let w: Vec<f64> = (0..net.dim())
        .map(|i| ((i * 7 % 11) as f64 - 5.0) / 7.0)
        .collect();
    let mut g = vec![0.0; net.dim()];
    net.energy_grad(&w, &mut g).unwrap();
    for i in 0..net.dim() {
        let (mut a, mut b) = (w.clone(), w.clone());
        a[i] += 1e-6;
        b[i] -= 1e-6;
        let fd = (net.energy(&a).unwrap() - net.energy(&b).unwrap()) / 2e-6;
        assert!(
            (fd - g[i]).abs() < 1e-6 * (1.0 + fd.abs()),
            "{i}: {fd} vs {}",
            g[i]
        );
    }
}

/// λ̂ within 10 % of λ and within 3 SE of it, after `finite_n` (a measured deficit of the
/// finite sample, as a fraction of λ).
fn check_with(
    widths: &[usize],
    rank: usize,
    rows: usize,
    lambda: f64,
    settings: &LlcSettings,
    finite_n: f64,
) {
    let mut net = DeepLinearNetwork::teacher(widths, rank, rows, 17).unwrap();
    let center = trained(&mut net, 3000, 0.2);
    let llc = local_learning_coefficient(&net, &center, settings).unwrap();
    eprintln!(
        "{widths:?} rank {rank}: λ̂ {:.3} ± {:.3} (λ {lambda})",
        llc.lambda, llc.se
    );
    assert!(llc.warnings.is_empty(), "{:?}", llc.warnings);
    let err = (llc.lambda - lambda).abs();
    assert!(
        err < 0.1 * lambda && err < 3.0 * llc.se + finite_n * lambda,
        "{widths:?} rank {rank}: λ̂ {} ± {} against {lambda}",
        llc.lambda,
        llc.se
    );
}

fn check(widths: &[usize], rank: usize, rows: usize, lambda: f64, settings: &LlcSettings) {
    check_with(widths, rank, rows, lambda, settings, 0.0)
}

#[test]
fn llc_of_linear_regression_is_half_its_dimension() {
    let s = LlcSettings {
        chains: 8,
        draws: 4000,
        burn_in: 1000,
        step_size: 2e-4,
        localization: 1.0,
        ..LlcSettings::default()
    };
    check(&[3, 2], 2, 5000, 3.0, &s);
    check(&[4, 3], 3, 5000, 6.0, &s);
}

#[test]
fn llc_of_reduced_rank_regression_in_each_case_of_aoyagi_s_formula() {
    // Full batch, a step small enough that SGLD's O(ε) bias is below the chains' spread
    // (at ε = 1e-4 the last three shapes came out 4–11 % high). Case 4 converges at n = 5000;
    // case 1 (a hidden unit more than the true rank) gave 2.91 ± 0.05 against 3.5 at n = 5000
    // and 3.41 ± 0.03 at n = 30 000 (40 000 draws): still 2.5 % low, which is allowed for
    // here (3 SE + 3 % of λ); the deficit falls slowly with n (17 % at 5000).
    let s = LlcSettings {
        chains: 8,
        draws: 40_000,
        burn_in: 1000,
        step_size: 2e-5,
        localization: 1.0,
        ..LlcSettings::default()
    };
    // Cases 2 and 3 (M = 1, N = 4 and its mirror) came out 8–13 % low at n = 5000 (case 2
    // over three seeds: 1.74, 1.84, 1.81; case 3: 1.84 ± 0.04): the finite-n correction, as in
    // case 1. At n = 30 000 case 2 gave 1.92 ± 0.07, 2.17 ± 0.15, 2.00 ± 0.07.
    let wide = LlcSettings {
        chains: 16,
        ..s.clone()
    };
    for (m, n) in [(1, 4), (4, 1)] {
        check(
            &[m, 1, n],
            1,
            30_000,
            rrr_learning_coefficient(m, n, 1, 1),
            &wide,
        );
    }
    check(
        &[1, 3, 1],
        1,
        5000,
        rrr_learning_coefficient(1, 1, 3, 1),
        &s,
    );
    check_with(
        &[3, 2, 3],
        1,
        30_000,
        rrr_learning_coefficient(3, 3, 2, 1),
        &s,
        0.03,
    );
}

#[test]
fn aoyagi_s_formula_in_its_four_cases() {
    // Case 1, even and odd M + H + N + r; a full-rank 2 × 2 map with H = 2 is regular in the
    // map (λ = MN/2 = 2); y = a·b·x with a true zero has λ = 1/2.
    assert_eq!(rrr_learning_coefficient(2, 2, 2, 2), 2.0);
    assert_eq!(rrr_learning_coefficient(1, 1, 1, 0), 0.5);
    assert_eq!(rrr_learning_coefficient(3, 3, 2, 1), 3.5);
    // Cases 2 and 3 are mirror images; case 4 is MN/2.
    assert_eq!(rrr_learning_coefficient(1, 4, 1, 1), 2.0);
    assert_eq!(rrr_learning_coefficient(4, 1, 1, 1), 2.0);
    assert_eq!(rrr_learning_coefficient(1, 1, 3, 1), 0.5);
    // y = b·aᵀx with a ∈ R², b ∈ R⁵ and a true zero: the threshold of ‖a‖²‖b‖², min(2, 5)/2.
    assert_eq!(rrr_learning_coefficient(2, 5, 1, 0), 1.0);
}

#[test]
fn llc_runs_are_reproducible_and_minibatches_run() {
    let net = DeepLinearNetwork::teacher(&[2, 2], 2, 400, 5).unwrap();
    let center = net.teacher_parameter().unwrap().to_vec();
    let s = LlcSettings {
        chains: 3,
        draws: 200,
        burn_in: 50,
        step_size: 1e-4,
        batch_size: Some(50),
        ..LlcSettings::default()
    };
    let a = local_learning_coefficient(&net, &center, &s).unwrap();
    let b = local_learning_coefficient(&net, &center, &s).unwrap();
    assert_eq!(a, b);
    let c = local_learning_coefficient(
        &net,
        &center,
        &LlcSettings {
            seed: 1,
            ..s.clone()
        },
    );
    assert_ne!(a.per_chain, c.unwrap().per_chain);
    assert_eq!(a.loss_traces.len(), 3);
    assert!(a.loss_traces.iter().all(|t| t.len() == 200));
    for bad in [
        LlcSettings {
            chains: 1,
            ..s.clone()
        },
        LlcSettings {
            step_size: -1.0,
            ..s.clone()
        },
        LlcSettings {
            batch_size: Some(0),
            ..s.clone()
        },
        LlcSettings {
            n_beta: Some(f64::NAN),
            ..s.clone()
        },
    ] {
        assert!(local_learning_coefficient(&net, &center, &bad).is_err());
    }
    assert!(local_learning_coefficient(&net, &center[1..], &s).is_err());
}
