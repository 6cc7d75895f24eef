//! Exactness tests for the RBM model: free energies, log Z and pseudo-likelihood against brute
//! force, gradients against finite differences, Gibbs invariance against enumeration, AIS
//! against the exact log Z, and training on a known distribution.

use super::*;
use crate::drivers::rbm::{
    ais_log_z, init_rbm, reverse_ais_log_z, temper_rbm, AisSchedule, AisSettings, Method,
    RbmTemperSettings, RbmTrainer, TrainSettings,
};
use crate::kernels::rbm::{BaseRate, GibbsBatch};
use crate::rng;
use crate::run::{Control, Observer, RunContext};
use rand::Rng as _;

fn random_rbm(kind: VisibleKind, nv: usize, nh: usize, scale: f64, seed: u64) -> Rbm {
    let mut r = rng::init_stream(seed);
    let mut m = Rbm::random(kind, nv, nh, scale, &mut r).unwrap();
    for b in &mut m.b {
        *b = r.random_range(-1.0..1.0);
    }
    for c in &mut m.c {
        *c = r.random_range(-1.0..1.0);
    }
    if kind == VisibleKind::Gaussian {
        for s in &mut m.sigma {
            *s = r.random_range(0.6..1.4);
        }
    }
    m
}

fn bits(s: usize, n: usize) -> Vec<f32> {
    (0..n).map(|u| ((s >> u) & 1) as f32).collect()
}

fn lse(x: &[f64]) -> f64 {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + x.iter().map(|&v| (v - m).exp()).sum::<f64>().ln()
}

/// ln p*(v) for every binary v by summing e^{−E(v,h)} over h.
fn brute_log_marginals(m: &Rbm) -> Vec<f64> {
    (0..1usize << m.n_visible)
        .map(|sv| {
            let v = bits(sv, m.n_visible);
            let t: Vec<f64> = (0..1usize << m.n_hidden)
                .map(|sh| -m.joint_energy(&v, &bits(sh, m.n_hidden)))
                .collect();
            lse(&t)
        })
        .collect()
}

#[test]
fn free_energy_and_log_z_match_brute_force() {
    for (nv, nh) in [(5, 3), (3, 6), (6, 6)] {
        let m = random_rbm(VisibleKind::Bernoulli, nv, nh, 1.0, 11 + nv as u64);
        let lm = brute_log_marginals(&m);
        let all: Vec<f32> = (0..1usize << nv).flat_map(|s| bits(s, nv)).collect();
        let f = m.free_energies(&all);
        for (a, b) in f.iter().zip(&lm) {
            assert!((-a - b).abs() < 1e-5, "F {a} vs brute {b}");
        }
        let exact = log_partition_exact(&m, 20).unwrap();
        assert!((exact - lse(&lm)).abs() < 1e-5, "{exact} vs {}", lse(&lm));
        let ll = average_log_likelihood(&m, &all, exact);
        let want = lm.iter().sum::<f64>() / lm.len() as f64 - exact;
        assert!((ll - want).abs() < 1e-5);
    }
}

#[test]
fn gaussian_free_energy_and_log_z_match_quadrature() {
    // Two visible units: integrate e^{−F(v)} on a fine grid.
    let m = random_rbm(VisibleKind::Gaussian, 2, 3, 0.8, 5);
    let step = 0.02f64;
    let mut terms = Vec::new();
    for i in -600..600 {
        for j in -600..600 {
            let v = [i as f32 * step as f32, j as f32 * step as f32];
            let f = m.free_energies(&v)[0];
            terms.push(-f + (step * step).ln());
            if i == 37 && j == -12 {
                let brute: Vec<f64> = (0..8).map(|s| -m.joint_energy(&v, &bits(s, 3))).collect();
                assert!((lse(&brute) + f).abs() < 1e-5);
            }
        }
    }
    let quad = lse(&terms);
    let exact = log_partition_exact(&m, 20).unwrap();
    assert!(
        (quad - exact).abs() < 1e-4,
        "quadrature {quad} vs exact {exact}"
    );
}

#[test]
fn exact_log_z_does_not_depend_on_thread_count() {
    let m = random_rbm(VisibleKind::Bernoulli, 30, 16, 0.3, 2);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let a = one.install(|| log_partition_exact(&m, 20).unwrap());
    let b = two.install(|| log_partition_exact(&m, 20).unwrap());
    assert_eq!(a.to_bits(), b.to_bits());
    assert!(matches!(
        log_partition_exact(&m, 10),
        Err(RbmError::TooLarge { units: 16, .. })
    ));
}

#[test]
fn pseudo_likelihood_matches_conditionals_by_enumeration() {
    let m = random_rbm(VisibleKind::Bernoulli, 5, 4, 1.0, 8);
    let lm = brute_log_marginals(&m);
    for s in [0usize, 7, 19, 31] {
        let v = bits(s, 5);
        let mut want = 0.0;
        for i in 0..5 {
            let t = s ^ (1 << i);
            want += lm[s] - lse(&[lm[s], lm[t]]);
        }
        let got = m.pseudo_log_likelihood(&v).unwrap()[0];
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }
    let g = random_rbm(VisibleKind::Gaussian, 2, 2, 1.0, 1);
    assert!(g.pseudo_log_likelihood(&[0.0, 0.0]).is_err());
}

#[test]
fn free_energy_gradient_matches_finite_differences() {
    for kind in [VisibleKind::Bernoulli, VisibleKind::Gaussian] {
        let mut m = random_rbm(kind, 6, 4, 0.7, 3);
        let x: Vec<f64> = (0..6).map(|i| 0.3 * i as f64 - 0.7).collect();
        let mut g = vec![0.0; 6];
        m.energy_grad(&x, &mut g).unwrap();
        for i in 0..6 {
            let h = 1e-2;
            let mut xp = x.clone();
            xp[i] += h;
            let mut xm = x.clone();
            xm[i] -= h;
            let fd = (m.energy(&xp).unwrap() - m.energy(&xm).unwrap()) / (2.0 * h);
            assert!(
                (fd - g[i]).abs() < 2e-3 * (1.0 + g[i].abs()),
                "{kind:?} {i}: {fd} vs {}",
                g[i]
            );
        }
    }
}

/// Chi-square of visible-state counts from Gibbs chains against the exact path distribution.
fn chi_square_of_chains(
    m: &Rbm,
    beta: f32,
    base: Option<&[f32]>,
    alpha: f32,
    seed: u64,
) -> (f64, usize) {
    let nv = m.n_visible;
    let states = 1usize << nv;
    // Exact ln p*(v) along the path, by enumeration over h.
    let mut lp = vec![0.0f64; states];
    for (s, l) in lp.iter_mut().enumerate() {
        let v = bits(s, nv);
        let t: Vec<f64> = (0..1usize << m.n_hidden)
            .map(|sh| -(beta as f64) * m.joint_energy(&v, &bits(sh, m.n_hidden)))
            .collect();
        *l = lse(&t)
            + base.map_or(0.0, |b| {
                -(alpha as f64) * crate::kernels::rbm::base_energy(m, b, &v)
            });
    }
    let z = lse(&lp);
    let chains = 200;
    let mut r = rng::fast_from(&mut rng::init_stream(seed));
    let mut g = GibbsBatch::new(m, vec![0.0; chains * nv]);
    g.sample_hidden(m, beta, &mut r);
    let mut counts = vec![0u64; states];
    let sweeps = 400;
    for t in 0..sweeps {
        g.sample_visible(m, beta, base.map(|b| BaseRate { b, alpha }), &mut r);
        g.sample_hidden(m, beta, &mut r);
        if t >= 20 && t % 4 == 0 {
            for row in g.v.chunks_exact(nv) {
                let s: usize = row
                    .iter()
                    .enumerate()
                    .map(|(i, &x)| (x as usize) << i)
                    .sum();
                counts[s] += 1;
            }
        }
    }
    let total: u64 = counts.iter().sum();
    let mut chi = 0.0;
    for (s, &c) in counts.iter().enumerate() {
        let e = total as f64 * (lp[s] - z).exp();
        chi += (c as f64 - e).powi(2) / e;
    }
    (chi, states - 1)
}

#[test]
fn block_gibbs_leaves_the_path_distributions_invariant() {
    let m = random_rbm(VisibleKind::Bernoulli, 4, 3, 1.2, 21);
    let base: Vec<f32> = vec![0.4, -0.8, 1.1, 0.0];
    for (beta, b, alpha, seed) in [
        (1.0f32, None, 0.0f32, 1u64),
        (0.45, None, 0.0, 2),
        (0.3, Some(&base[..]), 0.7, 3),
    ] {
        let (chi, dof) = chi_square_of_chains(&m, beta, b, alpha, seed);
        // 15 degrees of freedom: the 99.99 % point is about 44.3. Samples are correlated
        // (thinned by 4), so allow a margin but stay far below a wrong kernel's value.
        assert!(chi < 60.0, "beta {beta}: chi-square {chi} on {dof} dof");
    }
}

#[test]
fn ais_brackets_the_exact_log_z_of_a_20_hidden_machine() {
    let m = random_rbm(VisibleKind::Bernoulli, 24, 20, 0.25, 4);
    let exact = log_partition_exact(&m, 20).unwrap();
    // Base rates from samples of the machine itself (as if from data).
    let mut r = rng::fast_from(&mut rng::init_stream(9));
    let mut g = GibbsBatch::new(&m, vec![0.0; 500 * 24]);
    g.sample_hidden(&m, 1.0, &mut r);
    for _ in 0..200 {
        g.sweep(&m, 1.0, &mut r);
    }
    let base = m.base_rate_biases(&g.v);
    let start = exact_visible_samples(&m, 200, 20, &mut r).unwrap();
    for (seed, schedule) in [(1, AisSchedule::Piecewise), (2, AisSchedule::Linear)] {
        let s = AisSettings {
            chains: 200,
            temperatures: 1000,
            schedule,
            ..Default::default()
        }
        .validate()
        .unwrap();
        let f = ais_log_z(&m, &base, &s, seed, &mut RunContext::new()).unwrap();
        assert!(
            (f.log_z - exact).abs() < 3.0 * f.se + 0.01,
            "forward {} ± {} vs exact {exact}",
            f.log_z,
            f.se
        );
        let rev = reverse_ais_log_z(&m, &base, &start, &s, seed, &mut RunContext::new()).unwrap();
        assert!(
            (rev.log_z - exact).abs() < 3.0 * rev.se + 0.01,
            "reverse {} ± {} vs exact {exact}",
            rev.log_z,
            rev.se
        );
        assert!(f.ess > 50.0 && f.low <= f.log_z && f.log_z <= f.high);
    }
}

#[test]
fn gaussian_ais_matches_exact_log_z() {
    let m = random_rbm(VisibleKind::Gaussian, 10, 8, 0.3, 6);
    let exact = log_partition_exact(&m, 20).unwrap();
    let base = m.b.clone();
    let s = AisSettings {
        chains: 200,
        temperatures: 2000,
        ..Default::default()
    }
    .validate()
    .unwrap();
    let f = ais_log_z(&m, &base, &s, 3, &mut RunContext::new()).unwrap();
    assert!(
        (f.log_z - exact).abs() < 3.0 * f.se + 0.01,
        "{} ± {} vs {exact}",
        f.log_z,
        f.se
    );
}

/// Data from a known distribution on 8 binary units: three prototypes with 5 % bit noise.
fn prototype_data(n: usize, seed: u64) -> (Vec<f32>, Vec<f64>) {
    let protos = [0b1111_0000usize, 0b0011_1100, 0b1010_1010];
    let weights = [0.5, 0.3, 0.2];
    let flip = 0.05f64;
    let mut p = vec![0.0f64; 256];
    for (s, ps) in p.iter_mut().enumerate() {
        for (pr, w) in protos.iter().zip(weights) {
            let d = (s ^ pr).count_ones() as i32;
            *ps += w * flip.powi(d) * (1.0 - flip).powi(8 - d);
        }
    }
    let mut r = rng::init_stream(seed);
    let mut data = Vec::with_capacity(n * 8);
    for _ in 0..n {
        let u: f64 = r.random();
        let k = if u < 0.5 {
            0
        } else if u < 0.8 {
            1
        } else {
            2
        };
        for i in 0..8 {
            let bit = (protos[k] >> i) & 1 == 1;
            let x = if r.random::<f64>() < flip { !bit } else { bit };
            data.push(if x { 1.0 } else { 0.0 });
        }
    }
    (data, p)
}

fn kl_to_model(m: &Rbm, p: &[f64]) -> f64 {
    let all: Vec<f32> = (0..256).flat_map(|s| bits(s, 8)).collect();
    let lz = log_partition_exact(m, 20).unwrap();
    let f = m.free_energies(&all);
    p.iter()
        .zip(&f)
        .filter(|(&q, _)| q > 0.0)
        .map(|(&q, &fe)| q * (q.ln() - (-fe - lz)))
        .sum()
}

#[test]
fn training_recovers_a_known_distribution() {
    let (data, p) = prototype_data(2000, 5);
    // Independent-units baseline: the best product of Bernoullis.
    let mut indep = Rbm::zeros(VisibleKind::Bernoulli, 8, 1).unwrap();
    indep.b = indep.base_rate_biases(&data);
    let kl_indep = kl_to_model(&indep, &p) - std::f64::consts::LN_2; // one idle hidden unit adds ln 2 to Z only
    for method in [Method::Cd, Method::Pcd, Method::Tempered] {
        let s = TrainSettings {
            method,
            k: if method == Method::Cd { 5 } else { 1 },
            epochs: 60,
            batch_size: 20,
            learning_rate: 0.1,
            final_learning_rate_fraction: 0.1,
            momentum: 0.5,
            weight_decay: 0.0,
            replicas: 4,
            beta_min: 0.5,
            ..Default::default()
        }
        .validate()
        .unwrap();
        let m0 = init_rbm(VisibleKind::Bernoulli, 8, 6, &data, &s, 3).unwrap();
        let mut t = RbmTrainer::new(m0, &data, s, 3).unwrap();
        t.run(&data, &mut RunContext::new()).unwrap();
        let kl = kl_to_model(t.rbm(), &p);
        assert!(
            kl < 0.1 && kl < 0.2 * kl_indep.abs().max(0.5),
            "{method:?}: KL {kl} (independent {kl_indep})"
        );
    }
}

#[test]
fn training_is_reproducible_and_resumes_exactly() {
    let (data, _) = prototype_data(400, 6);
    struct StopAtThree;
    impl<'a> Observer<crate::drivers::rbm::EpochEvent<'a>> for StopAtThree {
        fn on_step(&mut self, e: &crate::drivers::rbm::EpochEvent<'a>) -> Control {
            if e.report.epoch == 3 {
                Control::Stop
            } else {
                Control::Continue
            }
        }
    }
    for method in [Method::Tempered, Method::Pcd, Method::Cd] {
        let s = TrainSettings {
            method,
            epochs: 6,
            replicas: 3,
            ..Default::default()
        }
        .validate()
        .unwrap();
        let m0 = init_rbm(VisibleKind::Bernoulli, 8, 5, &data, &s, 8).unwrap();
        let mut whole = RbmTrainer::new(m0.clone(), &data, s.clone(), 8).unwrap();
        whole.run(&data, &mut RunContext::new()).unwrap();
        let mut part = RbmTrainer::new(m0, &data, s, 8).unwrap();
        let stopped = part
            .run(&data, &mut RunContext::new().with_observer(StopAtThree))
            .unwrap();
        assert_eq!(stopped.termination, crate::run::Termination::Interrupted);
        let saved = serde_json::to_string(part.state()).unwrap();
        let mut resumed = RbmTrainer::resume(serde_json::from_str(&saved).unwrap()).unwrap();
        let summary = resumed.run(&data, &mut RunContext::new()).unwrap();
        assert_eq!(summary.epochs, 6);
        assert_eq!(resumed.rbm(), whole.rbm(), "{method:?}");
    }
    // A checkpoint whose settings were tampered with is refused on resume.
    let s = TrainSettings::default().validate().unwrap();
    let m0 = init_rbm(VisibleKind::Bernoulli, 8, 5, &data, &s, 8).unwrap();
    let t = RbmTrainer::new(m0, &data, s, 8).unwrap();
    let mut state = t.state().clone();
    state.settings.batch_size = 0;
    assert!(RbmTrainer::resume(state).is_err());
    // So is a tempered checkpoint whose chains, temperatures or swap labels do not fit its
    // settings.
    let s = TrainSettings {
        method: Method::Tempered,
        replicas: 3,
        ..Default::default()
    }
    .validate()
    .unwrap();
    let m0 = init_rbm(VisibleKind::Bernoulli, 8, 5, &data, &s, 8).unwrap();
    let t = RbmTrainer::new(m0, &data, s, 8).unwrap();
    let good = serde_json::to_value(t.state()).unwrap();
    let resumes = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        edit(&mut v);
        RbmTrainer::resume(serde_json::from_value(v).unwrap()).is_ok()
    };
    assert!(resumes(&|_| ()));
    assert!(!resumes(&|v| v["betas"][1] = serde_json::json!(0.9)));
    assert!(!resumes(
        &|v| v["exchange"]["labels"][1] = serde_json::json!(0)
    ));
    assert!(!resumes(&|v| {
        for c in v["chains"].as_array_mut().unwrap() {
            c["g"] = serde_json::json!({"n": 0, "v": [], "h": []});
        }
    }));
}

#[test]
fn bad_machines_and_data_are_refused() {
    assert!(matches!(
        Rbm::zeros(VisibleKind::Bernoulli, 4, 0),
        Err(RbmError::EmptyLayer { layer: "hidden" })
    ));
    let mut m = Rbm::zeros(VisibleKind::Bernoulli, 3, 2).unwrap();
    assert!(matches!(
        m.check_data(&[0.0, 1.0]),
        Err(RbmError::Width { .. })
    ));
    assert!(matches!(
        m.check_data(&[0.0, 0.5, 1.0]),
        Err(RbmError::NotBinary { column: 1, .. })
    ));
    assert!(matches!(
        m.check_data(&[0.0, f32::NAN, 1.0]),
        Err(RbmError::NonFinite { .. })
    ));
    m.w[2] = f32::INFINITY;
    assert!(matches!(
        m.validate(),
        Err(RbmError::Invalid {
            field: "w",
            index: 2
        })
    ));
}

#[test]
fn tempering_with_stepping_stone_matches_the_exact_log_z() {
    for (kind, seed) in [(VisibleKind::Bernoulli, 12u64), (VisibleKind::Gaussian, 13)] {
        let m = random_rbm(kind, 20, 12, 0.3, seed);
        let exact = log_partition_exact(&m, 20).unwrap();
        let base = match kind {
            VisibleKind::Bernoulli => vec![0.0f32; 20],
            VisibleKind::Gaussian => m.b.clone(),
        };
        let s = RbmTemperSettings {
            betas: (0..=16).map(|k| k as f64 / 16.0).collect(),
            chains: 8,
            burn_in: 100,
            rounds: 1500,
            ..Default::default()
        }
        .validate()
        .unwrap();
        let r = temper_rbm(&m, &base, &s, (seed, 0), &mut RunContext::new()).unwrap();
        let z = (r.log_z.value - exact) / r.log_z.se;
        assert!(
            z.abs() < 3.5,
            "{kind:?}: {} ± {} vs exact {exact}",
            r.log_z.value,
            r.log_z.se
        );
        assert!(r.log_z.se < 0.2 && r.round_trips > 10, "{r:?}");
        assert!(
            r.swap_rates.iter().all(|&a| a > 0.05 && a <= 1.0),
            "{:?}",
            r.swap_rates
        );
    }
    let bad = RbmTemperSettings {
        betas: vec![0.0, 0.5, 0.4, 1.0],
        ..Default::default()
    };
    assert_eq!(bad.validate().unwrap_err().field, "betas");
}

/// With a number of kept rounds that the old estimator's blocks did not divide (30 rounds in
/// 20 blocks), every block but the last was counted as holding the last one's draws, which
/// biased ln Z upward by (K−1)·ln(30/20) ≈ 13 nats on 33 temperatures. The stepping-stone
/// estimate now reads every draw once: it lies within a few standard errors of the exact value.
#[test]
fn tempering_ln_z_is_unbiased_for_any_number_of_rounds() {
    let m = random_rbm(VisibleKind::Bernoulli, 12, 10, 0.3, 17);
    let exact = log_partition_exact(&m, 20).unwrap();
    let base = vec![0.0f32; 12];
    let s = RbmTemperSettings {
        betas: (0..33).map(|k| k as f64 / 32.0).collect(),
        chains: 16,
        burn_in: 3,
        rounds: 30,
        ..Default::default()
    }
    .validate()
    .unwrap();
    let r = temper_rbm(&m, &base, &s, (4, 0), &mut RunContext::new()).unwrap();
    assert!(
        (r.log_z.value - exact).abs() < 4.0 * r.log_z.se + 0.1,
        "{} ± {} vs exact {exact}",
        r.log_z.value,
        r.log_z.se
    );
}

/// Reverse AIS from exact model samples lies above the exact ln Z in expectation (and within a
/// few standard errors of it); the exact samples themselves match the enumerated visible means.
#[test]
fn reverse_ais_from_exact_samples_and_the_samples_themselves() {
    let m = random_rbm(VisibleKind::Bernoulli, 16, 12, 0.5, 23);
    let exact = log_partition_exact(&m, 20).unwrap();
    let mut r = rng::init_stream(2);
    let v = exact_visible_samples(&m, 4000, 20, &mut r).unwrap();
    // Exact visible means by enumerating h: E[v_i] = Σ_h p(h) σ(b_i + (Wh)_i).
    let (nv, nh) = (16, 12);
    let mut lw = Vec::new();
    let mut means = Vec::new();
    for s in 0..1usize << nh {
        let h = bits(s, nh);
        let act: Vec<f64> = (0..nv)
            .map(|i| {
                m.b[i] as f64
                    + (0..nh)
                        .map(|j| (m.w[i * nh + j] * h[j]) as f64)
                        .sum::<f64>()
            })
            .collect();
        let l: f64 = (0..nh).map(|j| (m.c[j] * h[j]) as f64).sum::<f64>()
            + act
                .iter()
                .map(|&a| crate::systems::rbm::softplus(a))
                .sum::<f64>();
        lw.push(l);
        means.push(
            act.iter()
                .map(|&a| crate::math::sigmoid(a))
                .collect::<Vec<_>>(),
        );
    }
    let z = lse(&lw);
    for i in 0..nv {
        let want: f64 = lw
            .iter()
            .zip(&means)
            .map(|(l, mm)| (l - z).exp() * mm[i])
            .sum();
        let got = v.iter().skip(i).step_by(nv).map(|&x| x as f64).sum::<f64>() / 4000.0;
        let se = (want * (1.0 - want) / 4000.0).sqrt();
        assert!((got - want).abs() < 4.5 * se, "v{i}: {got} vs {want}");
    }
    let base = m.base_rate_biases(&v);
    let s = AisSettings {
        temperatures: 500,
        ..Default::default()
    }
    .validate()
    .unwrap();
    let rev = reverse_ais_log_z(&m, &base, &v[..200 * nv], &s, 3, &mut RunContext::new()).unwrap();
    assert!(
        (rev.log_z - exact).abs() < 3.0 * rev.se + 0.01 && rev.low <= rev.log_z,
        "reverse {} ± {} vs exact {exact}",
        rev.log_z,
        rev.se
    );
}

#[test]
fn pinned_gibbs_states_for_a_fixed_seed() {
    // Value stability: the sampler's draws for a seed must not change silently.
    let m = random_rbm(VisibleKind::Bernoulli, 8, 4, 1.0, 31);
    let mut r = rng::fast_from(&mut rng::init_stream(5));
    let mut g = GibbsBatch::new(&m, vec![0.0; 2 * 8]);
    g.sample_hidden(&m, 1.0, &mut r);
    for _ in 0..5 {
        g.sweep(&m, 1.0, &mut r);
    }
    let code = |x: &[f32]| {
        x.iter()
            .map(|&b| if b == 1.0 { '1' } else { '0' })
            .collect::<String>()
    };
    assert_eq!(code(&g.v), "0100100100101100");
    assert_eq!(code(&g.h), "00101100");
}

#[test]
fn nuts_samples_the_visible_marginal_of_a_gaussian_rbm() {
    // The machine is an `Energy` over visible states (its free energy), so the generic NUTS
    // sampler applies; its means must match E[v] = Σ_h p(h) (b + σ·Wh) by enumeration.
    use crate::drivers::sample::{sample, SampleSettings};
    let m = random_rbm(VisibleKind::Gaussian, 4, 3, 0.6, 41);
    let (nv, nh) = (4, 3);
    let mut log_p = Vec::new();
    let mut cond_mean = Vec::new();
    for s in 0..1usize << nh {
        let h = bits(s, nh);
        let a: Vec<f64> = (0..nv)
            .map(|i| (0..nh).map(|j| (m.w[i * nh + j] * h[j]) as f64).sum())
            .collect();
        let lp: f64 = (0..nh).map(|j| (m.c[j] * h[j]) as f64).sum::<f64>()
            + (0..nv)
                .map(|i| m.b[i] as f64 * a[i] / m.sigma[i] as f64 + 0.5 * a[i] * a[i])
                .sum::<f64>();
        log_p.push(lp);
        cond_mean.push(
            (0..nv)
                .map(|i| m.b[i] as f64 + m.sigma[i] as f64 * a[i])
                .collect::<Vec<_>>(),
        );
    }
    let z = lse(&log_p);
    let exact: Vec<f64> = (0..nv)
        .map(|i| {
            log_p
                .iter()
                .zip(&cond_mean)
                .map(|(lp, cm)| (lp - z).exp() * cm[i])
                .sum()
        })
        .collect();
    let s = SampleSettings {
        chains: 2,
        warmup: 500,
        draws: 2000,
        threads: 1,
        ..Default::default()
    }
    .validate(4)
    .unwrap();
    let r = sample(&m, &s, 9, &mut RunContext::new()).unwrap();
    for (i, want) in exact.iter().enumerate() {
        let chains = r.parameter(i);
        let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
        let mean = refs.iter().flat_map(|c| c.iter()).sum::<f64>() / (2.0 * 2000.0);
        let se = crate::estimate::diagnostics::mcse_mean(&refs);
        assert!(
            (mean - want).abs() < 4.0 * se,
            "v{i}: {mean} ± {se} vs {want}"
        );
    }
}

/// A machine from plain CSV arrays: a CSV is always a table, so a one-visible-unit W (one row)
/// is a 1 × H matrix, and biases may be written as a row or a column; a bias that is a table is
/// refused, naming its file.
#[test]
fn csv_arrays_are_tables_and_biases_are_rows_or_columns() {
    let d = std::env::temp_dir().join(format!("thermolab-arrays-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("W.csv"), "0.1,-0.2,0.3\n").unwrap();
    std::fs::write(d.join("b.csv"), "0.5\n").unwrap();
    std::fs::write(d.join("c.csv"), "0.0\n0.1\n-0.1\n").unwrap();
    let m = SavedRbm::from_arrays(&d).unwrap().rbm;
    assert_eq!((m.n_visible, m.n_hidden), (1, 3));
    assert_eq!(m.c, [0.0, 0.1, -0.1]);
    std::fs::write(d.join("c.csv"), "0.0,0.1,-0.1\n").unwrap();
    assert_eq!(SavedRbm::from_arrays(&d).unwrap().rbm.c, [0.0, 0.1, -0.1]);
    std::fs::write(d.join("c.csv"), "0.0,0.1\n-0.1,0.2\n").unwrap();
    let e = SavedRbm::from_arrays(&d).unwrap_err().to_string();
    assert!(e.contains("c.csv") && e.contains("must be a vector"), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}

/// Forward AIS split into parts of whole stream groups gives the whole run's weights and
/// estimate exactly, and a part must start on a group boundary.
#[test]
fn split_ais_parts_give_the_whole_run() {
    use crate::drivers::ais::{ais_estimate, ais_part, AisRun};
    let m = random_rbm(VisibleKind::Bernoulli, 12, 6, 0.3, 4);
    let base = m.b.clone();
    let settings = |chains, first_chain| {
        AisSettings {
            chains,
            first_chain,
            temperatures: 200,
            chains_per_stream: 10,
            threads: 1,
            ..Default::default()
        }
        .validate()
    };
    let whole = ais_log_z(
        &m,
        &base,
        &settings(40, 0).unwrap(),
        5,
        &mut RunContext::new(),
    )
    .unwrap();
    let parts: Vec<AisRun> = [(10, 0), (30, 10)]
        .iter()
        .map(|&(c, f)| {
            ais_part(
                &m,
                &base,
                &settings(c, f).unwrap(),
                5,
                &mut RunContext::new(),
            )
            .unwrap()
        })
        .collect();
    let joined = ais_estimate(&m, &base, AisRun::concat(parts)).unwrap();
    assert_eq!(joined.log_weights, whole.log_weights);
    assert_eq!(joined.log_z, whole.log_z);
    assert_eq!(joined.se, whole.se);
    assert!(settings(10, 5).is_err());
}
