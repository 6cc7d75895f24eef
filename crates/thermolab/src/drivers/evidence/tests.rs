//! Evidence estimators against the exact evidence of conjugate linear regression.

use super::*;
use crate::rng::chain_stream;
use crate::run::RunContext;
use crate::systems::posterior::LinearRegression;

fn problem(n: usize, d: usize, seed: u64) -> LinearRegression {
    LinearRegression::new(
        &crate::data::synthetic_regression(n, d, 0.7, seed),
        0.7,
        1.0,
    )
    .unwrap()
}

#[test]
fn every_estimator_recovers_the_exact_linear_regression_evidence() {
    let post = problem(60, 5, 3);
    let exact = post.log_evidence();
    let s = EvidenceSettings {
        rungs: 24,
        draws: 600,
        ais_particles: 200,
        ais_steps: 300,
        ..Default::default()
    }
    .validate()
    .unwrap();
    let run = evidence(&post, &s, 7, &mut RunContext::new()).unwrap();
    assert_eq!(run.path.len(), 25);
    for e in &run.estimates {
        let err = e.log_z.value - exact;
        match e.method.as_str() {
            // Gaussian posterior: Laplace is exact up to the finite-difference Hessian.
            "Laplace" => assert!(err.abs() < 1e-4, "Laplace: {err}"),
            "harmonic mean" => {}
            _ => assert!(
                err.abs() < 3.0 * e.log_z.se + 0.05 && e.log_z.se < 0.3,
                "{}: {:?} vs exact {exact} (error {err})",
                e.method,
                e.log_z
            ),
        }
    }
}

#[test]
fn ladders_are_validated() {
    let bad = |l: Vec<f64>| {
        EvidenceSettings {
            ladder: Some(l),
            ..Default::default()
        }
        .validate()
        .unwrap_err()
        .message
    };
    // Settings the driver used without checking: no particles made `clamp(1, 0)` panic.
    assert_eq!(
        EvidenceSettings {
            ais_particles: 0,
            ..Default::default()
        }
        .validate()
        .unwrap_err()
        .field,
        "ais_particles"
    );
    assert!(bad(vec![0.0, 0.5, 0.3, 1.0]).contains("strictly increasing"));
    assert!(bad(vec![0.0, 1.5]).contains("[0, 1]"));
    assert!(bad(vec![0.1, 1.0]).contains("start at 0"));
    assert!(EvidenceSettings {
        ladder: Some(vec![0.0, 0.2, 1.0]),
        ..Default::default()
    }
    .validate()
    .is_ok());
}

/// A handful of seeds: TI and stepping-stone stay within 3 standard errors of the exact value.
#[test]
fn ti_and_stepping_stone_are_calibrated_over_seeds() {
    let post = problem(50, 3, 21);
    let exact = post.log_evidence();
    let s = EvidenceSettings {
        rungs: 16,
        draws: 400,
        warmup: 200,
        ais_particles: 32,
        ais_steps: 100,
        ..Default::default()
    }
    .validate()
    .unwrap();
    let mut worst = 0.0f64;
    for seed in 0..5 {
        let run = evidence(&post, &s, seed, &mut RunContext::new()).unwrap();
        for e in run
            .estimates
            .iter()
            .filter(|e| e.method == "thermodynamic integration" || e.method == "stepping-stone")
        {
            worst = worst.max(((e.log_z.value - exact) / e.log_z.se).abs());
        }
    }
    assert!(worst < 3.0, "worst |z| over 5 seeds = {worst}");
}

/// A Bayesian network with one identity unit is linear regression on `[x, 1]`: its prior and
/// likelihood energies, and every estimator's evidence, must match the closed form.
#[test]
fn a_linear_bayesian_network_has_the_regression_evidence() {
    use crate::energy::LinearPath;
    use crate::systems::posterior::BayesianMlp;
    use std::sync::Arc;
    let data = crate::data::sin_data(40, 0.3, 2);
    let net = crate::nn::MlpEnergy::new(
        "1-1:identity".parse().unwrap(),
        Arc::new(data.clone()),
        crate::nn::Loss::Mse,
    )
    .unwrap();
    let mut bnn = BayesianMlp::new(net, 0.8, 1.5).unwrap();
    let mut with_one = data.clone();
    with_one.x = data.x.iter().flat_map(|&x| [x, 1.0]).collect();
    with_one.n_inputs = 2;
    with_one.input_names = vec!["x".into(), "one".into()];
    let mut lin = LinearRegression::new(&with_one, 0.8, 1.5).unwrap();
    let (mut g1, mut g2) = (vec![0.0; 2], vec![0.0; 2]);
    for th in [[0.3, -0.2], [-1.0, 0.7], [0.0, 0.0]] {
        let a =
            bnn.delta_energy(&th, &mut g1).unwrap() + bnn.reference_energy(&th, &mut g1).unwrap();
        let b =
            lin.delta_energy(&th, &mut g2).unwrap() + lin.reference_energy(&th, &mut g2).unwrap();
        assert!((a - b).abs() < 1e-9 * b.abs(), "{a} vs {b}");
        bnn.delta_energy(&th, &mut g1).unwrap();
        lin.delta_energy(&th, &mut g2).unwrap();
        for (x, y) in g1.iter().zip(&g2) {
            assert!((x - y).abs() < 1e-9 * (1.0 + y.abs()), "{g1:?} vs {g2:?}");
        }
    }
    let exact = lin.log_evidence();
    let s = EvidenceSettings {
        rungs: 16,
        draws: 400,
        ais_particles: 100,
        ais_steps: 200,
        ..Default::default()
    }
    .validate()
    .unwrap();
    let run = evidence(&bnn, &s, 5, &mut RunContext::new()).unwrap();
    for e in run.estimates.iter().filter(|e| e.method != "harmonic mean") {
        let err = e.log_z.value - exact;
        // Laplace has no standard error (NaN): it is exact here, the posterior being Gaussian.
        let se = if e.log_z.se.is_nan() { 0.0 } else { e.log_z.se };
        assert!(
            err.abs() < 3.0 * se + 0.05,
            "{}: {:?} vs exact {exact}",
            e.method,
            e.log_z
        );
    }
}

/// On a regression with nearly collinear features the pilot's dense metric is chosen for AIS,
/// keeps its weights healthy where the identity metric cannot, and the estimate stays within
/// 3 standard errors of the exact evidence.
#[test]
fn ais_uses_a_dense_pilot_metric_on_correlated_posteriors() {
    use rand_distr::{Distribution, StandardNormal};
    let mut data = crate::data::synthetic_regression(80, 6, 0.5, 5);
    let mut rng = chain_stream(11, 0);
    for row in data.x.chunks_exact_mut(6) {
        for k in [1, 3, 5] {
            let z: f64 = StandardNormal.sample(&mut rng);
            row[k] = row[k - 1] + 0.01 * z;
        }
    }
    let post = LinearRegression::new(&data, 0.5, 10.0).unwrap();
    let exact = post.log_evidence();
    let pilot = EvidenceSettings {
        rungs: 24,
        chains: 1,
        warmup: 150,
        draws: 200,
        adaptive: false,
        ..Default::default()
    };
    let metrics = ais_metrics(
        power_posterior_rungs(
            &post,
            &pilot,
            (1, Purpose::Pilot, 0),
            ("pilot", 0),
            &mut RunContext::new(),
        )
        .unwrap()
        .metrics,
        200,
    );
    assert!(matches!(metrics.last().unwrap().1, Metric::Dense { .. }));
    // The schedule as `evidence` spaces it: 6L² steps evenly in overlap length.
    let pr = power_posterior_rungs(
        &post,
        &pilot,
        (1, Purpose::Pilot, 0),
        ("pilot", 0),
        &mut RunContext::new(),
    )
    .unwrap();
    let ts: Vec<f64> = pr.rungs.iter().map(|r| r.t).collect();
    let s = EvidenceSettings {
        ais_particles: 128,
        ais_ladder: Some(ais_schedule(&ts, &overlap_length(&pr.rungs), 1000)),
        ..Default::default()
    };
    // The weight ESS of one run is noisy (57-85 dense, 9-31 identity over seeds 1-8): compare
    // means over four seeds.
    let (mut ess, mut ess_identity) = (0.0, 0.0);
    for seed in 1..=4 {
        let est = ais(&post, &s, &metrics, seed, &mut RunContext::new()).unwrap();
        assert!(
            (est.log_z - exact).abs() < 3.0 * est.se,
            "seed {seed}: {} ± {} vs exact {exact}",
            est.log_z,
            est.se
        );
        ess += est.ess / 4.0;
        ess_identity += ais(&post, &s, &[], seed, &mut RunContext::new())
            .unwrap()
            .ess
            / 4.0;
    }
    assert!(
        ess > 0.3 * 128.0 && ess > 2.0 * ess_identity,
        "mean weight ESS {ess} (identity metric: {ess_identity})"
    );
}

/// The observer hears every stage (pilot, ladder, ais) in order; an evaluation budget is shared
/// by the stages: spent during AIS it leaves TI and stepping-stone, spent before the ladder is
/// complete it leaves no estimates; more rungs and AIS steps than the adaptive caps
/// (512, 20 000) are honoured instead of panicking.
#[test]
fn stages_are_observed_budgets_hold_and_large_settings_run() {
    struct Stages(Vec<&'static str>);
    impl Observer<EvidenceEvent> for Stages {
        fn on_step(&mut self, e: &EvidenceEvent) -> Control {
            if self.0.last() != Some(&e.stage) {
                self.0.push(e.stage);
            }
            Control::Continue
        }
    }
    let post = problem(20, 2, 3);
    let small = EvidenceSettings {
        rungs: 8,
        warmup: 100,
        draws: 100,
        ais_particles: 16,
        ais_steps: 50,
        ..Default::default()
    };
    let s = small.clone().validate().unwrap();
    let mut ctx = RunContext::new().with_observer(Stages(Vec::new()));
    let full = evidence(&post, &s, 1, &mut ctx).unwrap();
    assert_eq!(full.termination, Termination::Finished);
    assert_eq!(ctx.observer.0, ["pilot", "ladder", "ais"]);
    // Pilot and ladder together cost what TI reports; AIS then has 50 evaluations left.
    let ladder = full.estimates[0].evaluations;
    let budget = |evaluations| {
        RunContext::new().with_budget(crate::run::Budget {
            evaluations: Some(evaluations),
            ..Default::default()
        })
    };
    let r = evidence(&post, &s, 1, &mut budget(ladder + 50)).unwrap();
    assert_eq!(r.termination, Termination::BudgetExhausted);
    let methods: Vec<&str> = r.estimates.iter().map(|e| e.method.as_str()).collect();
    assert_eq!(
        methods,
        [
            "thermodynamic integration",
            "thermodynamic integration (Simpson)",
            "stepping-stone"
        ]
    );
    assert_eq!(r.estimates[0].log_z, full.estimates[0].log_z);
    let r = evidence(&post, &s, 1, &mut budget(ladder / 2)).unwrap();
    assert_eq!(r.termination, Termination::BudgetExhausted);
    assert!(r.estimates.is_empty());
    let big = EvidenceSettings {
        rungs: 520,
        chains: 1,
        warmup: 20,
        draws: 20,
        ais_particles: 4,
        ais_steps: 20_001,
        ..small
    }
    .validate()
    .unwrap();
    let r = evidence(&post, &big, 1, &mut RunContext::new()).unwrap();
    assert_eq!(r.path.len(), 521);
}

/// The most rungs in any window of t of length `w`.
fn crowding(ts: &[f64], w: f64) -> usize {
    ts.iter()
        .map(|a| ts.iter().filter(|t| **t >= *a && **t <= a + w).count())
        .max()
        .unwrap_or(0)
}

/// Real posteriors with heavy-tailed scale priors (posteriordb): the default run's ladder does
/// not collapse, and every estimate it trusts is right within three of its standard errors and
/// within 1 nat of the exact evidence (by quadrature); a starved AIS is flagged, not confidently
/// wrong; Laplace has no standard error.
#[test]
fn posteriordb_evidence_is_right_or_flagged() {
    use crate::systems::posteriordb::PosteriorDb;
    let s = EvidenceSettings::default().validate().unwrap();
    let mut trusted_runs = 0;
    for name in ["sblrc-blr", "ark", "eight-schools-nc"] {
        let p = PosteriorDb::from_name(name).unwrap();
        let exact = p.exact().unwrap().log_z;
        for seed in 0..2 {
            let r = evidence(&p, &s, seed, &mut RunContext::new()).unwrap();
            let ts: Vec<f64> = r.ladder.iter().map(|l| l.t).collect();
            let crowd = crowding(&ts, 1e-3);
            assert!(
                2 * crowd <= ts.len(),
                "{name}: {crowd} of {} rungs in a window of 1e-3",
                ts.len()
            );
            assert!(
                r.ladder
                    .iter()
                    .filter_map(|l| l.next)
                    .all(|st| st.weight_ess > 0.3),
                "{name}: a stone with little overlap"
            );
            for e in &r.estimates {
                let err = e.log_z.value - exact;
                if e.trusted {
                    assert!(
                        err.abs() <= 3.0 * e.log_z.se && err.abs() < 1.0,
                        "{name} seed {seed}: trusted {} off by {err} (se {})",
                        e.method,
                        e.log_z.se
                    );
                }
                if e.method == "Laplace" {
                    assert!(e.log_z.se.is_nan() && !e.trusted);
                }
            }
            if r.verdict.best.is_some() {
                trusted_runs += 1;
            }
            if name == "eight-schools-nc" {
                assert!(r.verdict.best.is_some(), "{name}: {}", r.verdict.summary);
            }
            // sblrc-blr's power posterior mixes slowly near t ≈ 0.07: those rungs are sampled
            // again, with more chains and draws, and their chains then agree.
            if name == "sblrc-blr" {
                let (again, once): (Vec<&LadderRung>, Vec<_>) =
                    r.ladder.iter().partition(|l| l.retried);
                assert!(!again.is_empty(), "{name} seed {seed}: no rung retried");
                assert!(again.iter().all(|l| l.draws >= 8 * once[0].draws));
                assert!(again
                    .iter()
                    .any(|l| l.t > 0.03 && l.t < 0.1 && l.rhat < 1.05));
            }
        }
    }
    // Beyond eight schools, the heavy-tailed posteriors must be trusted at least once too.
    assert!(
        trusted_runs >= 3,
        "{trusted_runs} runs with a trusted estimate"
    );
    // Twenty AIS temperatures from a heavy-tailed prior: the estimate is far off, and says so.
    let p = PosteriorDb::from_name("sblrc-blr").unwrap();
    let starved = EvidenceSettings {
        adaptive: false,
        rungs: 8,
        ais_steps: 20,
        ..Default::default()
    }
    .validate()
    .unwrap();
    let r = evidence(&p, &starved, 3, &mut RunContext::new()).unwrap();
    let a = r
        .estimates
        .iter()
        .find(|e| e.method == "annealed importance sampling")
        .unwrap();
    let err = (a.log_z.value - p.exact().unwrap().log_z).abs();
    assert!(!a.trusted, "{a:?}");
    assert!(
        err < 1.0 || a.log_z.se > err / 4.0,
        "off by {err} with se {}",
        a.log_z.se
    );
}

/// A user's plain energy (the eight-schools posterior at t = 1, unnormalised by nothing but its
/// evidence) through a fitted Gaussian reference: its ln Z is the exact evidence.
#[test]
fn evidence_of_a_plain_energy_through_a_fitted_reference() {
    use crate::systems::posteriordb::PosteriorDb;
    let p = PosteriorDb::from_name("eight-schools-nc").unwrap();
    let exact = p.exact().unwrap().log_z;
    let target = crate::energy::PathAt::new(p, 1.0);
    let s = EvidenceSettings {
        ais: false,
        ..Default::default()
    }
    .validate()
    .unwrap();
    let (r, q) = evidence_of_energy(&target, &s, 4, &mut RunContext::new()).unwrap();
    assert_eq!(q.mean().len(), 10);
    let best = r
        .verdict
        .best
        .as_deref()
        .unwrap_or_else(|| panic!("{}: {:#?}", r.verdict.summary, r.estimates));
    let e = r.estimates.iter().find(|e| e.method == best).unwrap();
    assert!(
        (e.log_z.value - exact).abs() < 3.0 * e.log_z.se + 0.02,
        "{best}: {:?} vs {exact}",
        e.log_z
    );
}
