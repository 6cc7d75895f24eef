//! Tests of the stochastic-gradient driver: each kernel against NUTS on a logistic-regression
//! posterior, with the step-size bias bounded by the curvature; epochs, thinning and the cyclical
//! schedule; reproducibility whatever the thread count; stopping; bad settings.

use super::sgmcmc::*;
use crate::drivers::sample::{sample, SampleSettings};
use crate::energy::{Energy, Gradient};
use crate::kernels::sgmcmc::SgMethod;
use crate::nn::{Activation, Architecture};
use crate::run::{RunContext, StopFlag, Termination};
use crate::systems::posterior::{GaussianPrior, Likelihood, NetworkData, NetworkPosterior};
use rand::Rng;

/// Two-class logistic regression as a softmax network `2-2` on 100 noisy points, N(0, 1) prior.
fn logistic() -> NetworkPosterior {
    let mut rng = crate::rng::init_stream(21);
    let n = 100;
    let mut x = Vec::with_capacity(2 * n);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let (a, b): (f32, f32) = (rng.random_range(-2.0..2.0), rng.random_range(-2.0..2.0));
        let p = 1.0 / (1.0 + (-(1.5 * a - b + 0.3)).exp());
        y.push(u32::from(rng.random::<f32>() < p));
        x.extend([a, b]);
    }
    let data = NetworkData::classes(x, 2, y).unwrap();
    let arch = Architecture::new(vec![2, 2], Activation::Identity);
    let prior = GaussianPrior::isotropic(&arch, 1.0);
    NetworkPosterior::new(arch, data.into(), Likelihood::Categorical, prior).unwrap()
}

/// Mean and variance per coordinate of a set of draws.
fn moments(draws: &[&[f64]]) -> (Vec<f64>, Vec<f64>) {
    let d = draws[0].len();
    let n = draws.len() as f64;
    let mean: Vec<f64> = (0..d)
        .map(|j| draws.iter().map(|x| x[j]).sum::<f64>() / n)
        .collect();
    let var = (0..d)
        .map(|j| draws.iter().map(|x| (x[j] - mean[j]).powi(2)).sum::<f64>() / (n - 1.0))
        .collect();
    (mean, var)
}

/// The largest eigenvalue of the energy's Hessian at `x` and its unit eigenvector (finite
/// differences of the gradient, then power iteration).
fn largest_curvature(post: &mut NetworkPosterior, x: &[f64]) -> (f64, Vec<f64>) {
    let d = x.len();
    let h = 1e-3;
    let mut hess = vec![0.0; d * d];
    let (mut gp, mut gm) = (vec![0.0; d], vec![0.0; d]);
    for j in 0..d {
        let mut t = x.to_vec();
        t[j] += h;
        post.energy_grad(&t, &mut gp).unwrap();
        t[j] -= 2.0 * h;
        post.energy_grad(&t, &mut gm).unwrap();
        for i in 0..d {
            hess[i * d + j] = (gp[i] - gm[i]) / (2.0 * h);
        }
    }
    let mut v = vec![1.0; d];
    let mut lambda = 0.0;
    for _ in 0..200 {
        let w: Vec<f64> = (0..d)
            .map(|i| (0..d).map(|j| hess[i * d + j] * v[j]).sum())
            .collect();
        lambda = w.iter().map(|a| a * a).sum::<f64>().sqrt();
        v = w.iter().map(|a| a / lambda).collect();
    }
    (lambda, v)
}

/// The variance of the draws projected on `v`, with its standard error by batch means (50
/// batches per chain).
fn projected_variance(chains: &[Vec<&[f64]>], v: &[f64]) -> (f64, f64) {
    let proj: Vec<Vec<f64>> = chains
        .iter()
        .map(|c| {
            c.iter()
                .map(|x| x.iter().zip(v).map(|(a, b)| a * b).sum())
                .collect()
        })
        .collect();
    let all: Vec<f64> = proj.iter().flatten().copied().collect();
    let n = all.len() as f64;
    let mean = all.iter().sum::<f64>() / n;
    let var = all.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let mut batch = Vec::new();
    for c in &proj {
        for b in c.chunks(c.len() / 50) {
            batch.push(b.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / b.len() as f64);
        }
    }
    let k = batch.len() as f64;
    let bm = batch.iter().sum::<f64>() / k;
    let bv = batch.iter().map(|b| (b - bm).powi(2)).sum::<f64>() / (k - 1.0);
    (var, (bv / k).sqrt())
}

/// The variance inflation a kernel's step gives a Gaussian of curvature λ: SGLD's
/// 1/(1 − ελ/4), SGHMC's from the stationary covariance of its linear recurrence in (x, v);
/// `None` for SGNHT.
fn predicted_inflation(method: SgMethod, eps: f64, lambda: f64) -> Option<f64> {
    match method {
        SgMethod::Sgld => Some(1.0 / (1.0 - eps * lambda / 4.0)),
        SgMethod::Sghmc { friction: a } => {
            // x' = x + v', v' = (1 − a)v − ελx + sξ, s² = 2aε (T = 1).
            let m = [[1.0 - eps * lambda, 1.0 - a], [-eps * lambda, 1.0 - a]];
            let q = 2.0 * a * eps;
            let mut c = [[0.0f64; 2]; 2];
            for _ in 0..100_000 {
                let mut next = [[q; 2]; 2];
                for i in 0..2 {
                    for j in 0..2 {
                        for (l, ml) in m[i].iter().enumerate() {
                            for (k, mk) in m[j].iter().enumerate() {
                                next[i][j] += ml * c[l][k] * mk;
                            }
                        }
                    }
                }
                c = next;
            }
            Some(c[0][0] * lambda)
        }
        _ => None,
    }
}

#[test]
fn every_kernel_matches_nuts_on_logistic_regression_within_its_step_size_bias() {
    let post = logistic();
    let d = post.dim();
    let nuts = SampleSettings {
        chains: 4,
        warmup: 1000,
        draws: 5000,
        ..Default::default()
    }
    .validate(d)
    .unwrap();
    let reference = sample(&post, &nuts, 3, &mut RunContext::new()).unwrap();
    let refs: Vec<&[f64]> = reference
        .chains
        .iter()
        .flat_map(|c| c.draws.chunks_exact(d))
        .collect();
    let (mean_ref, var_ref) = moments(&refs);
    let (lambda, stiff) = largest_curvature(&mut post.clone(), &mean_ref);
    let ref_chains: Vec<Vec<&[f64]>> = reference
        .chains
        .iter()
        .map(|c| c.draws.chunks_exact(d).collect())
        .collect();
    let (stiff_ref, stiff_ref_se) = projected_variance(&ref_chains, &stiff);
    let var_max = var_ref.iter().fold(0.0f64, |m, &v| m.max(v));
    // At step ε a Langevin chain on a Gaussian of curvature λ inflates the variance by
    // 1/(1 − ελ/4) (see the kernel's tests); the steps below set ελ/4 to f = 0.08 and 0.02 in
    // the stiffest direction (for SGNHT, whose ε multiplies the velocity, ε²λ/4). The bound
    // allowed is 1/(1 − 2f) + 0.08 (the other directions, the logistic's curvature varying
    // over the posterior, Monte Carlo error), and the bias must fall with the step.
    let kappa = lambda * var_max;
    for (method, label) in [
        (SgMethod::Sgld, "sgld"),
        (SgMethod::Sghmc { friction: 0.2 }, "sghmc"),
        (SgMethod::Sgnht { diffusion: 0.2 }, "sgnht"),
    ] {
        let mut errors = Vec::new();
        for fraction in [0.08, 0.02] {
            let langevin = 4.0 * fraction / lambda;
            let step = match method {
                SgMethod::Sgnht { .. } => langevin.sqrt(),
                _ => langevin,
            };
            // About 2000 relaxation times of the slowest direction (κ/(2f) steps each).
            let steps = ((2000.0 * kappa / (2.0 * fraction)) as usize).clamp(200_000, 1_500_000);
            let settings = SgSettings {
                method,
                step_size: step,
                batch_size: None,
                epochs: steps,
                burn_in_epochs: steps / 20,
                thin: 10,
                chains: 2,
                seed: 7,
                ..SgSettings::default()
            };
            let run = sg_sample(
                &post,
                std::slice::from_ref(&mean_ref),
                &settings,
                &mut RunContext::new(),
            )
            .unwrap();
            assert_eq!(run.divergences(), 0);
            let kept: Vec<&[f64]> = run.samples().map(|v| v.as_slice()).collect();
            let (mean, var) = moments(&kept);
            let per_chain: Vec<Vec<&[f64]>> = run
                .chains
                .iter()
                .map(|c| c.samples.iter().map(|v| v.as_slice()).collect())
                .collect();
            let (sv, sv_se) = projected_variance(&per_chain, &stiff);
            let (ratio, se) = (
                sv / stiff_ref,
                (sv_se / stiff_ref).hypot(stiff_ref_se * sv / (stiff_ref * stiff_ref)),
            );
            let predicted = predicted_inflation(method, step, lambda);
            eprintln!(
                "{label} f {fraction}: stiffest direction's variance ratio {ratio:.4} ± {se:.4}, \
                 predicted {}",
                predicted.map_or("–".into(), |p| format!("{p:.4}"))
            );
            match predicted {
                Some(p) => assert!(
                    (ratio - p).abs() < 3.0 * se,
                    "{label} f {fraction}: {ratio} ± {se} against the predicted {p}"
                ),
                // SGNHT's thermostat holds the kinetic temperature over all directions, not in
                // each: no closed form, so a band.
                None => assert!(
                    (ratio - 1.0).abs() < 1.5 * fraction / (1.0 - fraction) + 3.0 * se,
                    "{label} f {fraction}: {ratio} ± {se}"
                ),
            }
            if fraction == 0.08 && predicted.is_some() {
                assert!(
                    ratio - 1.0 > 3.0 * se,
                    "{label}: the step's bias is not resolved"
                );
            }
            let bound = 1.0 / (1.0 - 2.0 * fraction) + 0.08;
            let mut worst = 0.0f64;
            for j in 0..d {
                let z = (mean[j] - mean_ref[j]) / var_ref[j].sqrt();
                assert!(z.abs() < 0.15, "{label} ε {step}: mean {j} off by {z} sd");
                let ratio = var[j] / var_ref[j];
                assert!(
                    ratio > 0.92 && ratio < bound,
                    "{label} ε {step}: variance ratio {ratio} for {j} (bound {bound})"
                );
                worst = worst.max((ratio - 1.0).abs());
            }
            errors.push(worst);
        }
        eprintln!(
            "{label}: κ {kappa:.1}; worst |variance ratio − 1| at f = 0.08, 0.02: {errors:.3?}"
        );
    }
}

#[test]
fn epochs_batches_and_thinning_keep_the_samples_the_settings_say() {
    let post = logistic();
    let start = vec![vec![0.0; post.dim()]];
    let settings = SgSettings {
        step_size: 1e-3,
        batch_size: Some(30),
        epochs: 10,
        burn_in_epochs: 4,
        thin: 5,
        chains: 3,
        seed: 1,
        ..SgSettings::default()
    };
    let run = sg_sample(&post, &start, &settings, &mut RunContext::new()).unwrap();
    // 100 rows in batches of 30: 4 steps per epoch (the last of 10 rows).
    assert_eq!(run.steps_per_epoch, 4);
    assert_eq!(run.termination, Termination::Finished);
    for c in &run.chains {
        assert_eq!(c.epoch_energy.len(), 10);
        // 6 sampling epochs × 4 steps, one in 5.
        assert_eq!(c.samples.len(), 24 / 5);
        assert_eq!(c.sample_steps, vec![20, 25, 30, 35]);
        // Four more steps ran after the last kept sample.
        assert_ne!(&c.position, c.samples.last().unwrap());
    }
    // Chains differ (their own streams), and so do the seeds.
    assert_ne!(run.chains[0].samples, run.chains[1].samples);
    let other = sg_sample(
        &post,
        &start,
        &SgSettings {
            seed: 2,
            ..settings.clone()
        },
        &mut RunContext::new(),
    )
    .unwrap();
    assert_ne!(other.chains[0].samples, run.chains[0].samples);
}

#[test]
fn samples_do_not_depend_on_the_thread_count() {
    let post = logistic();
    let start = vec![vec![0.1; post.dim()]];
    let settings = SgSettings {
        method: SgMethod::Sghmc { friction: 0.1 },
        step_size: 1e-3,
        batch_size: Some(16),
        epochs: 6,
        burn_in_epochs: 1,
        thin: 3,
        chains: 5,
        seed: 9,
        ..SgSettings::default()
    };
    let runs: Vec<SgRun> = [1, 2, 3]
        .iter()
        .map(|&t| {
            crate::workers::Workers::lend(t)
                .install(|| sg_sample(&post, &start, &settings, &mut RunContext::new()))
                .unwrap()
        })
        .collect();
    for r in &runs[1..] {
        assert_eq!(r.chains, runs[0].chains);
    }
}

#[test]
fn the_cyclical_schedule_explores_without_noise_then_samples() {
    let post = logistic();
    let start = vec![vec![0.0; post.dim()]];
    let settings = SgSettings {
        step_size: 2e-3,
        batch_size: Some(25),
        epochs: 8,
        burn_in_epochs: 0,
        thin: 1,
        chains: 1,
        schedule: StepSchedule::Cyclical {
            cycles: 2,
            exploration: 0.5,
        },
        seed: 3,
        ..SgSettings::default()
    };
    let run = sg_sample(&post, &start, &settings, &mut RunContext::new()).unwrap();
    // 32 steps in 2 cycles of 16: steps 8–15 and 24–31 sample.
    let want: Vec<usize> = (8..16).chain(24..32).collect();
    assert_eq!(run.chains[0].sample_steps, want);
    // The step: ε/2·(cos πr + 1), from ε at each cycle's start to near 0 at its end.
    let step = |k| super::sgmcmc::schedule_at(&settings, k, 32);
    assert_eq!(step(0), (2e-3, false));
    assert_eq!(step(16), (2e-3, false));
    assert!((step(8).0 - 1e-3).abs() < 1e-15 && step(8).1);
    assert!(step(15).0 < 2e-5 && step(15).1);
    // At T = 0 the sampling stages are noise-free too: snapshots of cyclical SGD.
    let cold = SgSettings {
        temperature: 0.0,
        ..settings.clone()
    };
    let run = sg_sample(&post, &start, &cold, &mut RunContext::new()).unwrap();
    assert_eq!(run.chains[0].samples.len(), 16);
    let e = &run.chains[0].epoch_energy;
    assert!(e.last() < e.first(), "{e:?}");
}

#[test]
fn a_raised_stop_flag_ends_the_run_with_what_it_has() {
    let post = logistic();
    let stop = StopFlag::new();
    stop.raise();
    let mut ctx = RunContext::new().with_stop(stop);
    let settings = SgSettings {
        step_size: 1e-3,
        epochs: 5,
        burn_in_epochs: 0,
        chains: 2,
        ..SgSettings::default()
    };
    let start = vec![vec![0.3; post.dim()]];
    let run = sg_sample(&post, &start, &settings, &mut ctx).unwrap();
    assert_eq!(run.termination, Termination::Interrupted);
    assert_eq!(run.epochs_run, 0);
    assert_eq!(run.chains[0].position, start[0]);
}

#[test]
fn impossible_settings_are_refused_with_the_field() {
    let post = logistic();
    let start = vec![vec![0.0; post.dim()]];
    let field = |s: SgSettings| match sg_sample(&post, &start, &s, &mut RunContext::new()) {
        Err(crate::Error::Settings(e)) => e.field,
        other => panic!("expected a settings error, got {other:?}"),
    };
    let base = SgSettings::default();
    assert_eq!(
        field(SgSettings {
            temperature: -1.0,
            ..base.clone()
        }),
        "temperature"
    );
    assert_eq!(
        field(SgSettings {
            batch_size: Some(0),
            ..base.clone()
        }),
        "batch_size"
    );
    assert_eq!(
        field(SgSettings {
            epochs: 2,
            burn_in_epochs: 2,
            ..base.clone()
        }),
        "burn_in_epochs"
    );
    assert_eq!(
        field(SgSettings {
            thin: 0,
            ..base.clone()
        }),
        "thin"
    );
    assert_eq!(
        field(SgSettings {
            chains: 0,
            ..base.clone()
        }),
        "chains"
    );
    assert_eq!(
        field(SgSettings {
            step_size: f64::NAN,
            ..base.clone()
        }),
        "step_size"
    );
    let cyc = |cycles, exploration| SgSettings {
        schedule: StepSchedule::Cyclical {
            cycles,
            exploration,
        },
        ..base.clone()
    };
    assert_eq!(field(cyc(0, 0.5)), "cycles");
    assert_eq!(field(cyc(2, 1.0)), "exploration");
    let two = vec![vec![0.0; post.dim()]; 2];
    let three = SgSettings {
        chains: 3,
        ..base.clone()
    };
    assert!(sg_sample(&post, &two, &three, &mut RunContext::new()).is_err());
    assert!(sg_sample(&post, &[vec![0.0; 2]], &base, &mut RunContext::new()).is_err());
}

#[test]
fn a_scan_of_a_quadratic_energy_finds_equipartition_at_every_temperature() {
    // Linear regression (a 3-1 linear network, Gaussian likelihood and prior): E is quadratic
    // in its p = 4 parameters, so at every T the law exp(−E/T) is Gaussian with
    // ⟨E⟩ = E_min + pT/2 and C = Var(E)/T² = p/2 exactly. The step sets ελ_max/4 = 0.005.
    let mut rng = crate::rng::init_stream(5);
    let n = 50;
    let x: Vec<f32> = (0..3 * n).map(|_| rng.random_range(-1.0..1.0)).collect();
    let y: Vec<f32> = x
        .chunks(3)
        .map(|r| r[0] - 0.5 * r[1] + 0.2 + 0.3 * rng.random_range(-1.0f32..1.0))
        .collect();
    let data = NetworkData::values(x, 3, y, 1).unwrap();
    let arch = Architecture::new(vec![3, 1], Activation::Identity);
    let prior = GaussianPrior::isotropic(&arch, 2.0);
    let post =
        NetworkPosterior::new(arch, data.into(), Likelihood::Gaussian { sd: 0.5 }, prior).unwrap();
    let start = vec![0.0; 4];
    let (lambda, _) = largest_curvature(&mut post.clone(), &start);
    let settings = SgSettings {
        step_size: 0.02 / lambda,
        batch_size: None,
        epochs: 200_000,
        burn_in_epochs: 10_000,
        thin: 20,
        chains: 4,
        seed: 11,
        ..SgSettings::default()
    };
    let temps = [0.1, 1.0, 10.0];
    let points = temperature_scan(
        &post,
        std::slice::from_ref(&start),
        &settings,
        &temps,
        &mut RunContext::new(),
    )
    .unwrap();
    let e_min = points[0].energy_mean - 0.1 * 2.0;
    for p in &points {
        assert!(
            (p.heat_capacity - 2.0).abs() < 4.0 * p.heat_capacity_se + 0.06,
            "T {}: C {} ± {}",
            p.temperature,
            p.heat_capacity,
            p.heat_capacity_se
        );
        assert!(p.heat_capacity_se > 0.0 && p.heat_capacity_se < 0.2);
        let want = e_min + 2.0 * p.temperature;
        assert!(
            (p.energy_mean - want).abs() < 4.0 * p.energy_se + 0.03 * 2.0 * p.temperature + 0.02,
            "T {}: ⟨E⟩ {} ± {} vs {want}",
            p.temperature,
            p.energy_mean,
            p.energy_se
        );
        assert!(p.drift < 4.0, "T {}: drift {}", p.temperature, p.drift);
    }
}

#[test]
fn sgld_s_predictive_approaches_the_hmc_reference_as_the_step_falls() {
    // A small regression network (sin data, 1-10-1 tanh, 40 rows): the predictive's overlap
    // with a full-batch NUTS reference, at two SGLD steps. `examples/sgmcmc_agreement.rs`
    // runs the longer table (0.930, 0.980, 0.992, 0.992 at ε = 3e-4 … 1e-5).
    use crate::estimate::agreement::{regression_agreement, regression_total_variation_rows};
    use crate::estimate::predictive::paired_difference;
    let noise = 0.2;
    let train = crate::data::sin_data(40, noise, 1);
    let test = crate::data::sin_data(60, noise, 2);
    let data = NetworkData::from_dataset(&train, false).unwrap();
    let test = NetworkData::from_dataset(&test, false).unwrap();
    let arch = Architecture::new(vec![1, 10, 1], Activation::Tanh);
    let prior = GaussianPrior::isotropic(&arch, 1.0);
    let mut post =
        NetworkPosterior::new(arch, data.into(), Likelihood::Gaussian { sd: noise }, prior)
            .unwrap();
    let d = post.dim();
    let nuts = SampleSettings {
        chains: 4,
        warmup: 1000,
        draws: 1500,
        ..Default::default()
    }
    .validate(d)
    .unwrap();
    let reference = sample(&post, &nuts, 11, &mut RunContext::new()).unwrap();
    fn outputs(post: &mut NetworkPosterior, x: &[f32], thetas: Vec<&[f64]>) -> Vec<Vec<f64>> {
        thetas
            .iter()
            .step_by((thetas.len() / 600).max(1))
            .map(|t| {
                post.outputs(t, x)
                    .unwrap()
                    .iter()
                    .map(|&v| f64::from(v))
                    .collect()
            })
            .collect()
    }
    fn view(o: &[Vec<f64>]) -> Vec<&[f64]> {
        o.iter().map(|v| v.as_slice()).collect()
    }
    let ref_out = outputs(
        &mut post,
        &test.x,
        reference
            .chains
            .iter()
            .flat_map(|c| c.draws.chunks_exact(d))
            .collect(),
    );
    let starts: Vec<Vec<f64>> = reference
        .chains
        .iter()
        .map(|c| c.draws[c.draws.len() - d..].to_vec())
        .collect();
    let mut agreement = Vec::new();
    let mut tv_rows = Vec::new();
    for step in [3e-4, 1e-4] {
        let epochs = (40.0 / step) as usize;
        let settings = SgSettings {
            method: SgMethod::Sgld,
            step_size: step,
            batch_size: None,
            epochs,
            burn_in_epochs: epochs / 10,
            thin: epochs / 600,
            chains: 4,
            seed: 3,
            ..SgSettings::default()
        };
        let run = sg_sample(&post, &starts, &settings, &mut RunContext::new()).unwrap();
        assert_eq!(run.divergences(), 0);
        let out = outputs(
            &mut post,
            &test.x,
            run.samples().map(|v| v.as_slice()).collect(),
        );
        let a = regression_agreement(&view(&ref_out), &view(&out), noise);
        tv_rows.push(regression_total_variation_rows(
            &view(&ref_out),
            &view(&out),
            noise,
        ));
        eprintln!(
            "SGLD ε {step:e}: agreement {:.4} ± {:.4}, TV {:.4}",
            a.agreement, a.agreement_se, a.total_variation
        );
        agreement.push(a);
    }
    // The smaller step's TV is lower, paired over the same test inputs.
    let (big, small) = (agreement[0], agreement[1]);
    let (d, se) = paired_difference(&tv_rows[0], &tv_rows[1]);
    assert!(d > 3.0 * se, "{big:?} then {small:?}: {d} ± {se}");
    assert!(small.agreement > 0.95, "{small:?}");
}
