//! Tests of the sampling driver: adaptation, posterior moments, reproducibility, resume.

use super::*;
use crate::estimate::diagnostics::{mcse_mean, rhat};
use crate::systems::{Ar1Gaussian, IsotropicGaussian};
use std::sync::Mutex;

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
    let r = sample(&Scaled, &s, 1, SampleControl::default()).unwrap();
    for c in &r.chains {
        let v = c.sampler.metric.variances();
        for (got, want) in v.iter().zip([0.01, 1.0, 100.0]) {
            assert!((got / want - 1.0).abs() < 0.35, "{v:?}");
        }
    }
    for j in 0..3 {
        let p = r.parameter(j, 3);
        let refs: Vec<&[f64]> = p.iter().map(|c| c.as_slice()).collect();
        let m: f64 = p.iter().flatten().sum::<f64>() / 4000.0;
        assert!(m.abs() < 4.0 * mcse_mean(&refs), "param {j}: {m}");
        assert!(rhat(&refs) < 1.01);
    }
}

#[test]
fn adaptation_recovers_a_dense_covariance() {
    let g = Ar1Gaussian::new(5, 0.9, 1.0);
    let s = settings(SamplerKind::Nuts { max_depth: 10 }, MetricKind::Dense, 500)
        .validate(5)
        .unwrap();
    let r = sample(&g, &s, 2, SampleControl::default()).unwrap();
    for c in &r.chains {
        let crate::kernels::mcmc::Metric::Dense { inv_mass, .. } = &c.sampler.metric else {
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
    let g = IsotropicGaussian::new(vec![1.0, -1.0], 1.0);
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
            let r = sample(&g, &s, 3, SampleControl::default()).unwrap();
            let p = r.parameter(0, 2);
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

#[test]
fn results_do_not_depend_on_threads_and_resume_reproduces_the_draws() {
    let g = Ar1Gaussian::new(4, 0.5, 1.0);
    let mut st = settings(SamplerKind::Nuts { max_depth: 8 }, MetricKind::Diag, 300);
    st.warmup = 300;
    st.checkpoint_every = 100;
    st.threads = 1;
    let one = sample(
        &g,
        &st.clone().validate(4).unwrap(),
        9,
        SampleControl::default(),
    )
    .unwrap();
    st.threads = 2;
    let saved = Mutex::new(Vec::new());
    let keep = |cp: &Checkpoint| saved.lock().unwrap().push(cp.clone());
    let two = sample(
        &g,
        &st.clone().validate(4).unwrap(),
        9,
        SampleControl {
            checkpoint: Some(&keep),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        one.chains
            .iter()
            .zip(&two.chains)
            .all(|(a, b)| a.draws == b.draws),
        "thread count changed the draws"
    );
    // Resume from the checkpoint after 200 iterations (mid warm-up) and after 400 (sampling),
    // through a JSON round trip as a file would do.
    let cps = saved.into_inner().unwrap();
    for k in [1, 3] {
        let text = serde_json::to_string(&cps[k]).unwrap();
        let cp: Checkpoint = serde_json::from_str(&text).unwrap();
        assert!(!cp.finished());
        let resumed = resume(&g, cp, SampleControl::default()).unwrap();
        for (a, b) in resumed.chains.iter().zip(&one.chains) {
            assert!(
                a.draws == b.draws,
                "resumed from checkpoint {k}: draws differ"
            );
            assert_eq!(a.sampler.step_size, b.sampler.step_size);
        }
    }
}

#[test]
fn a_stop_flag_ends_the_run_with_the_draws_so_far() {
    let g = Ar1Gaussian::new(3, 0.5, 1.0);
    let mut st = settings(SamplerKind::Mala, MetricKind::Diag, 1000);
    st.checkpoint_every = 50;
    st.warmup = 100;
    let stop = AtomicBool::new(false);
    let raise = |cp: &Checkpoint| {
        if cp.chains[0].iteration >= 300 {
            stop.store(true, Ordering::Relaxed);
        }
    };
    let r = sample(
        &g,
        &st.validate(3).unwrap(),
        4,
        SampleControl {
            stop: Some(&stop),
            checkpoint: Some(&raise),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(r.termination, Termination::Interrupted);
    assert!(r
        .chains
        .iter()
        .all(|c| c.stats.len() >= 200 && c.stats.len() < 1000));
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
