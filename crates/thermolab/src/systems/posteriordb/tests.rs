//! The posteriordb models: gradients against finite differences, prior samplers against the
//! prior energies, the closed-form marginal likelihoods against a direct Gaussian density, the
//! quadrature's convergence, and NUTS's posterior means against the exact ones.

use super::*;
use crate::drivers::sample::{sample, SampleSettings};
use crate::energy::{Energy, PathAt};
use crate::estimate::diagnostics::mcse_mean;
use crate::linalg::cholesky;
use crate::run::RunContext;
use rand::SeedableRng;

/// The five compiled-in posteriors, and diamonds where the shared data are beside the checkout.
fn all() -> Vec<PosteriorDb> {
    let mut v: Vec<PosteriorDb> = NAMES[..6]
        .iter()
        .map(|n| PosteriorDb::from_name(n).unwrap())
        .collect();
    let diamonds = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/posteriordb/diamonds/diamonds.json");
    if diamonds.exists() {
        v.push(PosteriorDb::diamonds(&diamonds).unwrap());
    }
    v
}

/// Central differences of both parts at prior draws (and at draws pulled towards the bulk).
#[test]
fn gradients_match_finite_differences() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    for mut p in all() {
        let d = LinearPath::dim(&p);
        for trial in 0..6 {
            let mut x = vec![0.0; d];
            p.sample_reference(&mut rng, &mut x);
            if trial % 2 == 1 {
                // Scales near the data's: prior draws of a log-scale can be extreme.
                x.iter_mut().for_each(|v| *v = v.clamp(-3.0, 3.0) * 0.3);
            }
            for part in 0..2 {
                let mut eval = |x: &[f64], g: &mut [f64]| {
                    if part == 0 {
                        p.reference_energy(x, g).unwrap()
                    } else {
                        p.delta_energy(x, g).unwrap()
                    }
                };
                let mut g = vec![0.0; d];
                let e0 = eval(&x, &mut g);
                assert!(e0.is_finite(), "{} part {part}: {e0}", p.name());
                let mut scratch = vec![0.0; d];
                for j in 0..d {
                    // The GP's covariance is nearly singular at long length scales: its Cholesky factor
                    // carries ~1e-10 relative noise, so the step is not smaller than 1e-5.
                    let h = 1e-5 * (1.0 + x[j].abs());
                    let mut xp = x.clone();
                    xp[j] += h;
                    let ep = eval(&xp, &mut scratch);
                    xp[j] -= 2.0 * h;
                    let em = eval(&xp, &mut scratch);
                    let fd = (ep - em) / (2.0 * h);
                    let tol = 1e-4 * (1.0 + fd.abs()) + 1e-13 * e0.abs() / h;
                    assert!(
                        (fd - g[j]).abs() < tol,
                        "{} part {part} coordinate {} ({}): fd {fd} vs {}",
                        p.name(),
                        j,
                        p.names()[j],
                        g[j]
                    );
                }
            }
        }
    }
}

/// Each prior sampler draws from the prior energy: the mean prior energy of the sampler's draws
/// matches that of a long NUTS run on `e^{−E_ref}` (a sampler of the wrong density, or a
/// Jacobian missing from the energy, moves it).
#[test]
fn prior_samplers_draw_the_prior_energy() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    for mut p in all() {
        let d = LinearPath::dim(&p);
        let n = 40_000;
        let mut x = vec![0.0; d];
        let mut g = vec![0.0; d];
        // Under the prior, a draw's prior energy E has a fixed distribution; its mean by the
        // sampler must match the mean of E from a long run of NUTS on the prior.
        let mut es = Vec::with_capacity(n);
        for _ in 0..n {
            p.sample_reference(&mut rng, &mut x);
            es.push(p.reference_energy(&x, &mut g).unwrap());
        }
        let mean_sampler = es.iter().sum::<f64>() / n as f64;
        let var = es.iter().map(|e| (e - mean_sampler).powi(2)).sum::<f64>() / n as f64;
        let s = SampleSettings {
            chains: 4,
            warmup: 1000,
            draws: 4000,
            threads: 1,
            ..Default::default()
        }
        .validate(d)
        .unwrap();
        let r = sample(&PathAt::new(p.clone(), 0.0), &s, 11, &mut RunContext::new()).unwrap();
        let per_chain: Vec<Vec<f64>> = r
            .chains
            .iter()
            .map(|c| {
                c.draws
                    .chunks_exact(d)
                    .map(|x| p.reference_energy(x, &mut g).unwrap())
                    .collect()
            })
            .collect();
        let refs: Vec<&[f64]> = per_chain.iter().map(|c| c.as_slice()).collect();
        let mean_nuts = refs.iter().flat_map(|c| c.iter()).sum::<f64>() / (4.0 * 4000.0);
        let se = (mcse_mean(&refs).powi(2) + var / n as f64).sqrt();
        assert!(
            (mean_nuts - mean_sampler).abs() < 4.0 * se,
            "{}: prior energy {mean_sampler} by the sampler, {mean_nuts} by NUTS (se {se})",
            p.name()
        );
    }
}

/// Every prior energy is normalised: `∫ e^{−E} = 1` by the trapezoid rule on a wide grid (the
/// exact evidence shares these energies, so a wrong constant would shift it and the estimates
/// alike; this is what catches one).
#[test]
fn prior_energies_integrate_to_one() {
    use super::priors::*;
    let integrate = |f: &dyn Fn(f64) -> f64, lo: f64, hi: f64| {
        let n = 400_000;
        let h = (hi - lo) / n as f64;
        (0..=n)
            .map(|i| {
                let w = if i == 0 || i == n { 0.5 } else { 1.0 };
                w * (-f(lo + h * i as f64)).exp()
            })
            .sum::<f64>()
            * h
    };
    type Density = Box<dyn Fn(f64) -> f64>;
    let cases: Vec<(&str, Density, f64, f64)> = vec![
        ("normal", Box::new(|x| normal(x, 1.0, 2.0).0), -40.0, 40.0),
        (
            "half-Cauchy",
            Box::new(|x| half_cauchy_log(x, 5.0).0),
            -60.0,
            400.0,
        ),
        (
            "half-normal",
            Box::new(|x| half_normal_log(x, 10.0).0),
            -60.0,
            10.0,
        ),
        (
            "Student-t",
            Box::new(|x| student_t(x, 3.0, 8.0, 10.0).0),
            -4e4,
            4e4,
        ),
        (
            "half-Student-t",
            Box::new(|x| half_student_t_log(x, 3.0, 10.0).0),
            -60.0,
            40.0,
        ),
        ("Gamma", Box::new(|x| gamma_log(x, 25.0, 4.0).0), -5.0, 5.0),
        ("Beta", Box::new(|x| beta_logit(x, 5.0, 5.0).0), -40.0, 40.0),
    ];
    for (name, f, lo, hi) in cases {
        let z = integrate(f.as_ref(), lo, hi);
        assert!((z - 1.0).abs() < 2e-4, "{name}: ∫ e^(−E) = {z}");
    }
    // The ordered pair of the mixture: ∫∫ over (μ₁, ln gap) of 2·N(μ₁)N(μ₁ + gap)·gap is 1.
    let m = NormalMixture { y: vec![] };
    let mut g = [0.0; 5];
    let (n, lo, hi) = (800, (-12.0, -12.0), (12.0, 4.0));
    let (h0, h1) = ((hi.0 - lo.0) / n as f64, (hi.1 - lo.1) / n as f64);
    let mut z = 0.0;
    for i in 0..=n {
        for j in 0..=n {
            let x = [lo.0 + h0 * i as f64, lo.1 + h1 * j as f64, 0.0, 0.0, 0.0];
            let e = m.prior(&x, &mut g)
                - half_normal_log(0.0, 2.0).0 * 2.0
                - beta_logit(0.0, 5.0, 5.0).0;
            z += (-e).exp();
        }
    }
    z *= h0 * h1;
    assert!((z - 1.0).abs() < 1e-3, "ordered pair: {z}");
}

/// `ln N(y; 0, σ²I + X Λ Xᵀ)` directly, by an n × n Cholesky factor.
fn direct_log_marginal(x: &[f64], y: &[f64], d: usize, noise_var: f64, prior_var: &[f64]) -> f64 {
    let n = y.len();
    let mut c = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            c[i * n + j] = (0..d)
                .map(|k| x[i * d + k] * prior_var[k] * x[j * d + k])
                .sum::<f64>()
                + if i == j { noise_var } else { 0.0 };
        }
    }
    let l = cholesky(&c, n).unwrap();
    let mut w = y.to_vec();
    crate::linalg::lower_solve(&l, n, &mut w);
    -0.5 * w.iter().map(|v| v * v).sum::<f64>()
        - (0..n).map(|i| l[i * n + i].ln()).sum::<f64>()
        - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln()
}

#[test]
fn marginal_likelihoods_match_a_direct_gaussian_density() {
    let v: serde_json::Value =
        serde_json::from_str(include_str!("../../../data/posteriordb/sblrc.json")).unwrap();
    let (x, y) = (numbers(&v, "X", "").unwrap(), numbers(&v, "y", "").unwrap());
    let ls = LeastSquares::new(&x, &y, 5);
    for noise_var in [0.3, 1.0, 7.0, 400.0] {
        let mut mean = vec![0.0; 5];
        let a = ls.log_marginal(noise_var, &[100.0; 5], &mut mean);
        let b = direct_log_marginal(&x, &y, 5, noise_var, &[100.0; 5]);
        assert!((a - b).abs() < 1e-6 * b.abs().max(1.0), "{a} vs {b}");
    }
    // Eight schools: y ~ N(0, diag(σ² + τ²) + 25·11ᵀ) at a few τ, against the quadrature's
    // integrand (its value at ξ is ln p(y | τ) + ln p(ξ)).
    let p = PosteriorDb::from_name("eight-schools").unwrap();
    let Model::EightSchools(m) = p.model() else {
        unreachable!()
    };
    for xi in [-2.0, 0.5, 2.5] {
        let tau2 = (2.0f64 * xi).exp();
        let n = m.y.len();
        let mut ones = vec![0.0; n];
        let direct = {
            let mut c = vec![25.0; n * n];
            (0..n).for_each(|i| c[i * n + i] += m.sigma[i] * m.sigma[i] + tau2);
            let l = cholesky(&c, n).unwrap();
            ones.copy_from_slice(&m.y);
            crate::linalg::lower_solve(&l, n, &mut ones);
            -0.5 * ones.iter().map(|v| v * v).sum::<f64>()
                - (0..n).map(|i| l[i * n + i].ln()).sum::<f64>()
                - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln()
        };
        let one = quadrature::eight_schools_given(m, xi, &mut vec![0.0; n + 2]);
        assert!((one - direct).abs() < 1e-9, "{one} vs {direct}");
    }
}

#[test]
fn quadrature_has_converged() {
    for name in ["eight-schools", "eight-schools-nc", "sblrc-blr", "ark"] {
        let p = PosteriorDb::from_name(name).unwrap();
        let (a, b) = match p.model() {
            Model::EightSchools(m) => (
                quadrature::eight_schools_step(m, 1e-3),
                quadrature::eight_schools_step(m, 5e-4),
            ),
            Model::Regression(m) => (
                quadrature::regression_step(m, 1e-3).unwrap(),
                quadrature::regression_step(m, 5e-4).unwrap(),
            ),
            _ => unreachable!(),
        };
        assert!((a.log_z - b.log_z).abs() < 1e-9, "{name}: {a:?} {b:?}");
        for (x, y) in a.mean.iter().zip(&b.mean) {
            assert!((x - y).abs() < 1e-8 * (1.0 + x.abs()), "{name}");
        }
    }
    // Both parametrisations of eight schools have the same evidence.
    let c = PosteriorDb::from_name("eight-schools")
        .unwrap()
        .exact()
        .unwrap();
    let nc = PosteriorDb::from_name("eight-schools-nc")
        .unwrap()
        .exact()
        .unwrap();
    assert!((c.log_z - nc.log_z).abs() < 1e-9);
    assert!(PosteriorDb::from_name("gp-pois-regr")
        .unwrap()
        .exact()
        .is_none());
}

/// NUTS's posterior means on the three posteriors with exact means, within 4 MCSE.
#[test]
fn nuts_posterior_means_match_the_quadrature() {
    for name in ["eight-schools-nc", "sblrc-blr", "ark"] {
        let p = PosteriorDb::from_name(name).unwrap();
        let exact = p.exact().unwrap();
        let d = LinearPath::dim(&p);
        let s = SampleSettings {
            chains: 4,
            warmup: 1000,
            draws: 1500,
            threads: 1,
            ..Default::default()
        }
        .validate(d)
        .unwrap();
        let mut target = PathAt::new(p.clone(), 1.0);
        assert!(target.energy(&exact.mean).unwrap().is_finite());
        let r = sample(&target, &s, 21, &mut RunContext::new()).unwrap();
        for j in 0..d {
            let chains = r.parameter(j);
            let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
            let m = refs.iter().flat_map(|c| c.iter()).sum::<f64>() / (4.0 * 1500.0);
            let se = mcse_mean(&refs);
            assert!(
                (m - exact.mean[j]).abs() < 4.0 * se + 1e-12,
                "{name} {}: {m} vs exact {} (mcse {se})",
                p.names()[j],
                exact.mean[j]
            );
        }
    }
}

/// NUTS on the posteriors without an exact answer against the committed long reference runs
/// (`bench/posteriordb_reference.py`, 8 chains × 10 000 draws): every mean and sd within 4
/// combined Monte-Carlo standard errors. diamonds only where its data are beside the checkout.
#[test]
fn nuts_matches_the_reference_runs() {
    let reference: serde_json::Value =
        serde_json::from_str(include_str!("../../../data/posteriordb/reference.json")).unwrap();
    let mut checked = 0;
    for p in all().into_iter().filter(|p| p.exact().is_none()) {
        let name = p.name();
        let r = &reference[name];
        assert!(
            r["max_r_hat"].as_f64().unwrap() < 1.01,
            "{name}: reference not converged"
        );
        let d = LinearPath::dim(&p);
        let (chains, draws) = (4, 1500);
        let s = SampleSettings {
            chains,
            warmup: 1000,
            draws,
            threads: 1,
            metric: match name {
                "diamonds" => crate::adapt::MetricKind::Dense,
                _ => crate::adapt::MetricKind::Diag,
            },
            target_accept: (name == "gp-pois-regr").then_some(0.95),
            ..Default::default()
        }
        .validate(d)
        .unwrap();
        let run = sample(&PathAt::new(p.clone(), 1.0), &s, 8, &mut RunContext::new()).unwrap();
        let params = r["parameters"].as_array().unwrap();
        assert_eq!(params.len(), d, "{name}");
        for (j, q) in params.iter().enumerate() {
            assert_eq!(q["name"].as_str().unwrap(), p.names()[j]);
            let x = run.parameter(j);
            let refs: Vec<&[f64]> = x.iter().map(|c| c.as_slice()).collect();
            let all: Vec<f64> = x.concat();
            let n = all.len() as f64;
            let m = all.iter().sum::<f64>() / n;
            let sd = (all.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
            let f = |k: &str| q[k].as_f64().unwrap();
            let se_m = (mcse_mean(&refs).powi(2) + f("mcse_mean").powi(2)).sqrt();
            let se_sd = (crate::estimate::diagnostics::mcse_sd(&refs).powi(2)
                + f("mcse_sd").powi(2))
            .sqrt();
            assert!(
                (m - f("mean")).abs() < 4.0 * se_m,
                "{name} {}: mean {m} vs reference {} (combined mcse {se_m})",
                p.names()[j],
                f("mean")
            );
            assert!(
                (sd - f("sd")).abs() < 4.0 * se_sd,
                "{name} {}: sd {sd} vs reference {} (combined mcse {se_sd})",
                p.names()[j],
                f("sd")
            );
            checked += 1;
        }
    }
    assert!(checked >= 18, "only {checked} parameters checked");
}

#[test]
fn names_and_errors() {
    let p = PosteriorDb::from_name("ark").unwrap();
    assert_eq!(p.names()[0], "alpha");
    assert_eq!(p.names().last().unwrap(), "log_sigma");
    let e = PosteriorDb::from_name("nine-schools")
        .unwrap_err()
        .to_string();
    assert!(e.contains("eight-schools"), "{e}");
}
