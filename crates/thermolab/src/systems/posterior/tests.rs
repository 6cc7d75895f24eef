//! Tests of the posterior targets: gradients against finite differences and exact facts.

use super::*;
use crate::energy::Energy;
use crate::systems::tests::check_gradient_tol;
use std::sync::Arc;

#[test]
fn gradients_match_finite_differences() {
    let mut rng = crate::rng::init_stream(3);
    use rand::Rng;
    let mut pt = |d: usize| {
        (0..d)
            .map(|_| rng.random_range(-1.5..1.5))
            .collect::<Vec<f64>>()
    };
    for centred in [true, false] {
        check_gradient_tol(&mut Funnel::new(5, centred).unwrap(), &pt(5), 1e-5);
    }
    let mut m = GaussianMixture::new(
        vec![0.3, 0.7],
        vec![vec![-1.0, 0.0], vec![2.0, 1.0]],
        vec![0.5, 1.2],
    )
    .unwrap();
    check_gradient_tol(&mut m, &pt(2), 1e-5);
    let mut lr = LogisticRegression::breast_cancer().double_precision();
    assert_eq!(Energy::dim(&lr), 31);
    assert_eq!(lr.n_rows(), 569);
    check_gradient_tol(
        &mut lr,
        &pt(31).iter().map(|v| v * 0.1).collect::<Vec<_>>(),
        1e-5,
    );
    let data = Arc::new(crate::data::sin_data(50, 0.1, 0));
    let net = crate::nn::MlpEnergy::new("1-5-1:tanh".parse().unwrap(), data, crate::nn::Loss::Mse)
        .unwrap();
    let mut b = BayesianMlp::new(net, 0.1, 1.0).unwrap().double_precision();
    check_gradient_tol(&mut b, &pt(16), 1e-5);
}

/// The single-precision one-hidden-layer kernel agrees with the f64 network code (energy to
/// 1e-5 relative, gradients to 1e-4 of their largest entry) for every activation, one and
/// several inputs, and a row count that is not a multiple of the vector width.
#[test]
fn the_f32_network_kernel_matches_double_precision() {
    use rand::Rng;
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = crate::rng::init_stream(8);
    let three = {
        let n = 37;
        let x: Vec<f64> = (0..3 * n)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect();
        let y: Vec<f64> = x.chunks(3).map(|r| (r[0] - r[1] * r[2]).sin()).collect();
        crate::data::Dataset {
            x,
            y,
            n,
            n_inputs: 3,
            n_targets: 1,
            input_names: vec!["a".into(), "b".into(), "c".into()],
            target_names: vec!["y".into()],
        }
    };
    for (arch, data) in [
        ("1-10-1:tanh", crate::data::sin_data(203, 0.1, 1)),
        ("1-6-1:relu", crate::data::sin_data(50, 0.1, 2)),
        ("3-5-1:sigmoid", three.clone()),
        ("3-4-1:tanh", three),
    ] {
        let net =
            crate::nn::MlpEnergy::new(arch.parse().unwrap(), Arc::new(data), crate::nn::Loss::Mse)
                .unwrap();
        let d = Energy::dim(&net);
        let mut fast = BayesianMlp::new(net, 0.1, 1.0).unwrap();
        assert!(fast.single_precision());
        let mut slow = fast.clone().double_precision();
        assert!(!slow.single_precision());
        // The portable code path (CPUs without AVX2 and FMA), forced on this machine.
        let mut portable = fast.clone();
        portable.force_portable();
        for _ in 0..5 {
            let th: Vec<f64> = (0..d).map(|_| rng.random_range(-2.0..2.0)).collect();
            let (mut g2, mut g3) = (vec![0.0; d], vec![0.0; d]);
            let e2 = slow.energy_grad(&th, &mut g2).unwrap();
            let top = g2.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (which, k) in [("dispatched", &mut fast), ("portable", &mut portable)] {
                let e1 = k.energy_grad(&th, &mut g3).unwrap();
                assert!(
                    (e1 - e2).abs() < 1e-5 * e2.abs(),
                    "{arch} {which}: {e1} vs {e2}"
                );
                assert!((k.energy(&th).unwrap() - e1).abs() <= 1e-12 * e1.abs());
                for (a, b) in g3.iter().zip(&g2) {
                    assert!(
                        (a - b).abs() < 1e-4 * top,
                        "{arch} {which}: {g3:?} vs {g2:?}"
                    );
                }
            }
        }
    }
    // Targets 10⁴ noise sds from zero would lose the noise scale to f32 rounding: f64 is kept.
    let mut far = crate::data::sin_data(20, 0.1, 3);
    far.y.iter_mut().for_each(|y| *y += 1000.0);
    let net = crate::nn::MlpEnergy::new(
        "1-3-1:tanh".parse().unwrap(),
        Arc::new(far),
        crate::nn::Loss::Mse,
    )
    .unwrap();
    assert!(!BayesianMlp::new(net, 0.1, 1.0).unwrap().single_precision());
}

#[test]
fn mixture_is_normalised_and_funnel_log_z_is_exact() {
    // 1-D quadrature of a 1-D mixture: ∫ e^{−E} = 1.
    let mut m =
        GaussianMixture::new(vec![1.0, 3.0], vec![vec![-2.0], vec![1.5]], vec![0.4, 0.9]).unwrap();
    let h = 1e-3;
    let z: f64 = (-10_000..10_000)
        .map(|i| (-m.energy(&[i as f64 * h]).unwrap()).exp() * h)
        .sum();
    assert!((z - 1.0).abs() < 1e-9, "{z}");
    assert!((m.mean()[0] - (0.25 * -2.0 + 0.75 * 1.5)).abs() < 1e-15);
    // 2-D funnel: ∫∫ e^{−E} dv dx = 2π · 3.
    let mut f = Funnel::new(2, true).unwrap();
    let hv = 0.01;
    let mut z = 0.0;
    for i in -2000..2000 {
        let v = i as f64 * hv;
        let sd = (v / 2.0).exp();
        let n = 400i64;
        let step = 12.0 * sd / n as f64;
        for k in -n / 2..n / 2 {
            z += (-f.energy(&[v, k as f64 * step]).unwrap()).exp() * hv * step;
        }
    }
    assert!(
        (z.ln() - f.log_z()).abs() < 1e-3,
        "{} vs {}",
        z.ln(),
        f.log_z()
    );
}

/// The vectorised logistic energy equals a plain row-by-row computation on the raw CSV.
#[test]
fn logistic_energy_matches_a_plain_computation() {
    let text = include_str!("../../../data/breast_cancer.csv");
    let d = crate::data::parse_csv_text(text, std::path::Path::new("bc.csv"), &Default::default())
        .unwrap();
    let (n, p) = (d.n, d.n_inputs);
    let mut x = d.x.clone();
    for j in 0..p {
        let m = (0..n).map(|i| x[i * p + j]).sum::<f64>() / n as f64;
        let sd = ((0..n).map(|i| (x[i * p + j] - m).powi(2)).sum::<f64>() / n as f64).sqrt();
        for i in 0..n {
            x[i * p + j] = (x[i * p + j] - m) / sd;
        }
    }
    let th: Vec<f64> = (0..=p)
        .map(|k| ((k * 37 % 11) as f64 - 5.0) * 0.07)
        .collect();
    let mut e = 0.0;
    for i in 0..n {
        let eta = th[p] + (0..p).map(|j| x[i * p + j] * th[j]).sum::<f64>();
        e += (1.0 + eta.exp()).ln() - d.y[i] * eta;
    }
    e += th.iter().map(|t| t * t).sum::<f64>() / 2.0;
    let got = LogisticRegression::breast_cancer()
        .double_precision()
        .energy(&th)
        .unwrap();
    assert!((got - e).abs() < 1e-9 * e.abs(), "{got} vs {e}");
    // The single-precision kernel (the default) agrees to rounding, energy and gradient.
    let mut fast = LogisticRegression::breast_cancer();
    let mut exact = LogisticRegression::breast_cancer().double_precision();
    // The portable code path (CPUs without AVX2 and FMA), forced on this machine.
    let mut portable = LogisticRegression::breast_cancer();
    portable.force_portable();
    for scale in [0.0, 0.3, 1.0, 3.0] {
        let t: Vec<f64> = th.iter().map(|v| v * scale).collect();
        let (mut g1, mut g2) = (vec![0.0; p + 1], vec![0.0; p + 1]);
        let e2 = exact.energy_grad(&t, &mut g2).unwrap();
        for (which, k) in [("dispatched", &mut fast), ("portable", &mut portable)] {
            let e1 = k.energy_grad(&t, &mut g1).unwrap();
            assert!(
                (e1 - e2).abs() < 1e-6 * e2.abs(),
                "scale {scale} {which}: {e1} vs {e2}"
            );
            for (a, b) in g1.iter().zip(&g2) {
                assert!(
                    (a - b).abs() < 1e-5 * (1.0 + b.abs()),
                    "scale {scale} {which}: {a} vs {b}"
                );
            }
        }
    }
}

/// The power posterior at t = 1 integrates to the exact evidence (2-D quadrature), and its
/// gradient matches finite differences at several t.
#[test]
fn linear_regression_evidence_is_exact() {
    let data = crate::data::synthetic_regression(15, 2, 0.3, 4);
    let lr = LinearRegression::new(&data, 0.4, 1.5).unwrap();
    let mut pp = crate::energy::PathAt::new(lr.clone(), 1.0);
    let m = lr.posterior_mean();
    let h = 0.004;
    let mut z = 0.0;
    let e0 = pp.energy(&m).unwrap();
    for i in -400..400 {
        for j in -400..400 {
            let th = [m[0] + i as f64 * h, m[1] + j as f64 * h];
            z += (-(pp.energy(&th).unwrap() - e0)).exp() * h * h;
        }
    }
    let lz = z.ln() - e0;
    assert!(
        (lz - lr.log_evidence()).abs() < 1e-6,
        "{lz} vs {}",
        lr.log_evidence()
    );
    for t in [0.0, 0.3, 1.0] {
        check_gradient_tol(
            &mut crate::energy::PathAt::new(lr.clone(), t),
            &[0.2, -0.4],
            1e-5,
        );
    }
}

/// The sufficient-statistics likelihood equals the plain row-by-row Gaussian likelihood, near
/// the posterior mean and far from it, also for targets with a large offset (where expanding
/// around the origin would cancel badly).
#[test]
fn linear_regression_likelihood_matches_a_plain_computation() {
    let mut data = crate::data::synthetic_regression(40, 3, 0.3, 9);
    data.y.iter_mut().for_each(|v| *v += 1000.0);
    let with_one = crate::data::Dataset {
        x: data
            .x
            .chunks(3)
            .flat_map(|r| r.iter().copied().chain([1.0]))
            .collect(),
        n_inputs: 4,
        ..data.clone()
    };
    for (set, sigma) in [(&data, 0.4), (&with_one, 0.4), (&with_one, 3.0)] {
        let mut lr = LinearRegression::new(set, sigma, 2.0).unwrap();
        let m = lr.posterior_mean();
        let d = set.n_inputs;
        for shift in [0.0, 1e-3, 0.5, 30.0] {
            let th: Vec<f64> = m
                .iter()
                .enumerate()
                .map(|(j, v)| v + shift * (j as f64 - 1.3))
                .collect();
            let mut plain = 0.0;
            let mut g_plain = vec![0.0; d];
            for i in 0..set.n {
                let row = &set.x[i * d..(i + 1) * d];
                let r = set.y[i] - row.iter().zip(&th).map(|(a, b)| a * b).sum::<f64>();
                plain += r * r / (2.0 * sigma * sigma);
                g_plain
                    .iter_mut()
                    .zip(row)
                    .for_each(|(g, a)| *g -= r * a / (sigma * sigma));
            }
            plain += 0.5 * set.n as f64 * (2.0 * std::f64::consts::PI * sigma * sigma).ln();
            let mut g = vec![0.0; d];
            let e = crate::energy::LinearPath::delta_energy(&mut lr, &th, &mut g).unwrap();
            assert!(
                (e - plain).abs() < 1e-9 * plain.abs().max(1.0),
                "shift {shift}: {e} vs {plain}"
            );
            for (a, b) in g.iter().zip(&g_plain) {
                assert!((a - b).abs() < 1e-7 * (1.0 + b.abs()), "{a} vs {b}");
            }
        }
    }
}

/// The Normal–Inverse-Gamma evidence equals a 2-D quadrature over (b, ln σ²) for d = 1, and the
/// energies' gradients match finite differences.
#[test]
fn nig_regression_evidence_is_exact() {
    let data = crate::data::synthetic_regression(12, 1, 0.4, 6);
    let post = NigRegression::new(&data, 2.5, 1.2, 3.0).unwrap();
    let mut pp = crate::energy::PathAt::new(post.clone(), 1.0);
    // Quadrature around the mode region on a wide grid.
    let (hb, hs) = (0.004, 0.01);
    let e0 = pp.energy(&[1.0, (0.2f64).ln()]).unwrap();
    let mut z = 0.0;
    for i in -1000..1000 {
        for j in -700..500 {
            let th = [1.0 + i as f64 * hb, (0.2f64).ln() + j as f64 * hs];
            z += (-(pp.energy(&th).unwrap() - e0)).exp() * hb * hs;
        }
    }
    let lz = z.ln() - e0;
    assert!(
        (lz - post.log_evidence()).abs() < 1e-4,
        "{lz} vs {}",
        post.log_evidence()
    );
    for t in [0.0, 0.5, 1.0] {
        check_gradient_tol(
            &mut crate::energy::PathAt::new(post.clone(), t),
            &[0.7, -1.1],
            1e-5,
        );
    }
    assert!(NigRegression::new(&data, -1.0, 1.0, 1.0).is_err());
}

/// Non-finite data are refused with the row named, not carried into the sufficient statistics.
#[test]
fn linear_regression_refuses_non_finite_data() {
    let mut data = crate::data::synthetic_regression(10, 2, 0.3, 1);
    data.x[7] = f64::NAN;
    let err = LinearRegression::new(&data, 0.5, 1.0).unwrap_err();
    assert!(err.message.contains("row 4"), "{err}");
    let mut data = crate::data::synthetic_regression(10, 2, 0.3, 1);
    data.y[2] = f64::INFINITY;
    assert!(LinearRegression::new(&data, 0.5, 1.0)
        .unwrap_err()
        .message
        .contains("row 3"));
}
