//! Tests of the sampling driver: adaptation, posterior moments, reproducibility, resume.

use super::*;
use crate::energy::{EnergyError, Gradient};
use crate::estimate::diagnostics::{mcse_mean, rhat};
use crate::run::Control;
use crate::systems::{Ar1Gaussian, IsotropicGaussian};

/// Independent Gaussian with sds 0.1, 1 and 10 (a badly scaled target).
#[derive(Clone)]
struct Scaled;
impl crate::energy::Energy for Scaled {
    fn dim(&self) -> usize {
        3
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        Ok(0.5 * (x[0] * x[0] / 0.01 + x[1] * x[1] + x[2] * x[2] / 100.0))
    }
}
impl Gradient for Scaled {
    fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        g[0] = x[0] / 0.01;
        g[1] = x[1];
        g[2] = x[2] / 100.0;
        crate::energy::Energy::energy(self, x)
    }
}

fn settings(kind: SamplerKind, metric: MetricKind, draws: usize) -> SampleSettings {
    SampleSettings {
        sampler: kind,
        metric,
        draws,
        warmup: 1000,
        chains: 4,
        ..Default::default()
    }
}

#[test]
fn adaptation_recovers_a_diagonal_covariance() {
    let s = settings(SamplerKind::Nuts { max_depth: 10 }, MetricKind::Diag, 1000)
        .validate(3)
        .unwrap();
    let r = sample(&Scaled, &s, 1, &mut RunContext::new()).unwrap();
    for c in &r.chains {
        let v = c.kernel.tuning().metric.variances();
        for (got, want) in v.iter().zip([0.01, 1.0, 100.0]) {
            assert!((got / want - 1.0).abs() < 0.35, "{v:?}");
        }
    }
    for j in 0..3 {
        let p = r.parameter(j);
        let refs: Vec<&[f64]> = p.iter().map(|c| c.as_slice()).collect();
        let m: f64 = p.iter().flatten().sum::<f64>() / 4000.0;
        assert!(m.abs() < 4.0 * mcse_mean(&refs), "param {j}: {m}");
        assert!(rhat(&refs) < 1.01);
    }
}

#[test]
fn adaptation_recovers_a_dense_covariance() {
    let g = Ar1Gaussian::new(5, 0.9, 1.0).unwrap();
    let s = settings(SamplerKind::Nuts { max_depth: 10 }, MetricKind::Dense, 500)
        .validate(5)
        .unwrap();
    let r = sample(&g, &s, 2, &mut RunContext::new()).unwrap();
    for c in &r.chains {
        let crate::kernels::mcmc::Metric::Dense { inv_mass, .. } = &c.kernel.tuning().metric else {
            panic!("dense")
        };
        for i in 0..5 {
            for j in 0..5 {
                let want = g.covariance(i, j);
                assert!(
                    (inv_mass[i * 5 + j] - want).abs() < 0.3,
                    "({i},{j}): {} vs {want}",
                    inv_mass[i * 5 + j]
                );
            }
        }
        // With the right metric the trajectories are short.
        let mean_evals = c.evals_sampling as f64 / 500.0;
        assert!(mean_evals < 8.0, "{mean_evals}");
    }
}

#[test]
fn every_kernel_and_metric_samples_a_tempered_gaussian() {
    let g = IsotropicGaussian::new(vec![1.0, -1.0], 1.0).unwrap();
    for kind in [
        SamplerKind::Rwm,
        SamplerKind::Mala,
        SamplerKind::Hmc { steps: 8 },
        SamplerKind::Nuts { max_depth: 6 },
    ] {
        for metric in [MetricKind::Identity, MetricKind::Diag, MetricKind::Dense] {
            let mut st = settings(kind, metric, 1500);
            st.beta = 0.25; // variance 4
            let s = st.validate(2).unwrap();
            let r = sample(&g, &s, 3, &mut RunContext::new()).unwrap();
            let p = r.parameter(0);
            let refs: Vec<&[f64]> = p.iter().map(|c| c.as_slice()).collect();
            let all: Vec<f64> = p.iter().flatten().copied().collect();
            let m = all.iter().sum::<f64>() / all.len() as f64;
            let v = all.iter().map(|x| (x - m).powi(2)).sum::<f64>() / all.len() as f64;
            assert!(
                (m - 1.0).abs() < 4.0 * mcse_mean(&refs),
                "{kind:?} {metric:?}: mean {m}"
            );
            assert!((v - 4.0).abs() < 0.6, "{kind:?} {metric:?}: var {v}");
        }
    }
}

/// Keeps a JSON copy of every checkpoint, as a file would.
struct Saver(Vec<String>);
impl<'a> Observer<SampleEvent<'a, McmcKernel>> for Saver {
    fn on_step(&mut self, ev: &SampleEvent<'a, McmcKernel>) -> Control {
        self.0.push(serde_json::to_string(&ev.checkpoint).unwrap());
        Control::Continue
    }
}

#[test]
fn results_do_not_depend_on_threads_and_resume_reproduces_the_draws() {
    let g = Ar1Gaussian::new(4, 0.5, 1.0).unwrap();
    let mut st = settings(SamplerKind::Nuts { max_depth: 8 }, MetricKind::Diag, 300);
    st.warmup = 300;
    st.report_every = 100;
    st.threads = 1;
    let one = sample(
        &g,
        &st.clone().validate(4).unwrap(),
        9,
        &mut RunContext::new(),
    )
    .unwrap();
    st.threads = 2;
    st.report_every = 50;
    let mut ctx = RunContext::new().with_observer(Saver(Vec::new()));
    let two = sample(&g, &st.clone().validate(4).unwrap(), 9, &mut ctx).unwrap();
    assert!(
        one.chains
            .iter()
            .zip(&two.chains)
            .all(|(a, b)| a.draws == b.draws),
        "thread count or event cadence changed the draws"
    );
    // Resume from the checkpoint after 200 iterations (mid warm-up) and after 400 (sampling):
    // the resumed run makes exactly the draws the whole run made after that point.
    let cps = ctx.into_observer().0;
    for k in [3, 7] {
        let cp: Checkpoint<McmcKernel> = serde_json::from_str(&cps[k]).unwrap();
        let kept: Vec<usize> = cp.chains.iter().map(|c| c.kept).collect();
        assert!(cp.chains.iter().all(|c| c.iteration == 50 * (k + 1)));
        let resumed = resume(&g, cp, &mut RunContext::new()).unwrap();
        for ((a, b), n) in resumed.chains.iter().zip(&one.chains).zip(kept) {
            assert!(
                a.draws == b.draws[n * 4..],
                "resumed from checkpoint {k}: draws differ"
            );
            assert_eq!(a.kernel.tuning().step_size, b.kernel.tuning().step_size);
            assert_eq!(a.kept, 300);
        }
    }
    // A checkpoint whose settings were tampered with is validated again on resume.
    let mut cp: Checkpoint<McmcKernel> = serde_json::from_str(&cps[3]).unwrap();
    cp.settings.thin = 0;
    let err = resume(&g, cp, &mut RunContext::new()).unwrap_err();
    assert!(err.to_string().contains("thin"), "{err}");
}

/// Raises the stop flag once the chains pass `at` iterations.
struct StopAfter(usize, crate::run::StopFlag);
impl<'a> Observer<SampleEvent<'a, McmcKernel>> for StopAfter {
    fn on_step(&mut self, ev: &SampleEvent<'a, McmcKernel>) -> Control {
        if ev.iteration >= self.0 {
            self.1.raise();
        }
        Control::Continue
    }
}

#[test]
fn a_stop_flag_ends_the_run_with_the_draws_so_far() {
    let g = Ar1Gaussian::new(3, 0.5, 1.0).unwrap();
    let mut st = settings(SamplerKind::Mala, MetricKind::Diag, 1000);
    st.report_every = 50;
    st.warmup = 100;
    let stop = crate::run::StopFlag::new();
    let mut ctx = RunContext::new()
        .with_stop(stop.clone())
        .with_observer(StopAfter(300, stop));
    let r = sample(&g, &st.validate(3).unwrap(), 4, &mut ctx).unwrap();
    assert_eq!(r.termination, Termination::Interrupted);
    assert!(r
        .chains
        .iter()
        .all(|c| c.stats.len() >= 200 && c.stats.len() < 1000));
}

/// A budget of evaluations ends the run as `BudgetExhausted`, keeping the draws so far.
#[test]
fn an_evaluation_budget_ends_the_run() {
    let g = Ar1Gaussian::new(3, 0.5, 1.0).unwrap();
    let mut st = settings(SamplerKind::Mala, MetricKind::Diag, 1000);
    st.report_every = 100;
    st.warmup = 100;
    let mut ctx = RunContext::new().with_budget(crate::run::Budget {
        evaluations: Some(4 * 500),
        seconds: None,
    });
    let r = sample(&g, &st.validate(3).unwrap(), 4, &mut ctx).unwrap();
    assert_eq!(r.termination, Termination::BudgetExhausted);
    assert!(
        r.chains.iter().all(|c| c.stats.len() == 400),
        "{}",
        r.chains[0].stats.len()
    );
}

/// A user's own kernel runs in the sampling driver: here plain RWM chosen by type, on an energy
/// that has no gradient at all.
#[test]
fn a_kernel_chosen_by_type_samples_an_energy_without_gradient() {
    #[derive(Clone)]
    struct Plain;
    impl crate::energy::Energy for Plain {
        fn dim(&self) -> usize {
            2
        }
        fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
            Ok(0.5 * (x[0] * x[0] + x[1] * x[1]))
        }
    }
    let st = settings(SamplerKind::Rwm, MetricKind::Diag, 4000)
        .validate(2)
        .unwrap();
    let r = sample_with(
        &Plain,
        crate::kernels::mcmc::Rwm::new(2, 1.0),
        &st,
        5,
        &mut RunContext::new(),
    )
    .unwrap();
    let s = r.summary(1, "x1");
    assert!(
        s.mean.abs() < 4.0 * s.mcse_mean && (s.sd - 1.0).abs() < 0.1,
        "{s:?}"
    );
}

#[test]
fn bad_settings_name_their_field() {
    let bad = |s: SampleSettings| s.validate(3).unwrap_err().field;
    assert_eq!(
        bad(SampleSettings {
            chains: 0,
            ..Default::default()
        }),
        "chains"
    );
    assert_eq!(
        bad(SampleSettings {
            draws: 0,
            ..Default::default()
        }),
        "draws"
    );
    assert_eq!(
        bad(SampleSettings {
            beta: -1.0,
            ..Default::default()
        }),
        "beta"
    );
    assert_eq!(
        bad(SampleSettings {
            init: InitPoint::Given { x: vec![1.0] },
            ..Default::default()
        }),
        "init"
    );
    assert_eq!(
        bad(SampleSettings {
            target_accept: Some(1.2),
            ..Default::default()
        }),
        "target_accept"
    );
}

/// A run split by `first_chain` draws exactly what the whole run draws: chains 0..6 in one run
/// equal chains 0..2 and 2..6 in two.
#[test]
fn split_runs_draw_what_the_whole_run_draws() {
    let target = Scaled;
    let run = |first_chain, chains| {
        let s = SampleSettings {
            chains,
            first_chain,
            warmup: 200,
            draws: 100,
            threads: 1,
            ..Default::default()
        }
        .validate(3)
        .unwrap();
        sample(&target, &s, 17, &mut RunContext::new()).unwrap()
    };
    let whole = run(0, 6);
    let parts = [run(0, 2), run(2, 4)];
    let split: Vec<&Vec<f64>> = parts
        .iter()
        .flat_map(|r| r.chains.iter().map(|c| &c.draws))
        .collect();
    assert_eq!(split.len(), 6);
    for (a, b) in whole.chains.iter().zip(split) {
        assert_eq!(&a.draws, b);
    }
    let too_far = SampleSettings {
        first_chain: u32::MAX as usize,
        ..Default::default()
    };
    assert!(too_far.validate(3).is_err());
}
