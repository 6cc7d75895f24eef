//! `thermolab certify`: a self-test on targets with exactly known answers — samplers against
//! Gaussian moments, tempering against known mode weights, evidence estimators against the
//! conjugate linear-regression evidence, spin kernels against enumeration and Kaufman, Boltzmann
//! machines' log Z by AIS and tempering against enumeration — reported
//! as z-scores with pass or fail. Exit code 1 when any check fails.

use super::{unix_time, Run};
use crate::args::CertifyArgs;
use anyhow::{bail, Result};
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use thermolab::data::{binarize, digits, Binarize};
use thermolab::drivers::evidence::{evidence, EvidenceSettings};
use thermolab::drivers::rbm::{
    ais_log_z, init_rbm, temper_rbm, AisSettings, RbmTemperSettings, RbmTrainer, TrainSettings,
};
use thermolab::drivers::sample::{sample, SampleControl, SampleSettings};
use thermolab::drivers::spin::{run_sweep, SpinAlgorithm, SpinModel, SpinSweepSettings};
use thermolab::drivers::tempering::{temper, TemperingSettings};
use thermolab::estimate::diagnostics::mcse_mean;
use thermolab::estimate::exact::{enumerate_ising, kaufman, CRITICAL_TEMPERATURE};
use thermolab::estimate::series::{block_means, jackknife};
use thermolab::observe::Control;
use thermolab::systems::posterior::{BoltzmannPath, GaussianMixture, LinearRegression};
use thermolab::systems::rbm::{log_partition_exact, Rbm, VisibleKind};
use thermolab::systems::spin::{IsingGraph, Lattice};
use thermolab::systems::Ar1Gaussian;

/// One check's outcome.
#[derive(Debug, Clone, Serialize)]
struct Check {
    group: String,
    quantity: String,
    estimate: f64,
    se: f64,
    exact: f64,
    z: f64,
    pass: bool,
}

struct Checks {
    z_max: f64,
    list: Vec<Check>,
}

impl Checks {
    fn add(&mut self, group: &str, quantity: &str, estimate: f64, se: f64, exact: f64) {
        let z = (estimate - exact) / se;
        let pass = z.is_finite() && z.abs() <= self.z_max;
        self.list.push(Check {
            group: group.into(),
            quantity: quantity.into(),
            estimate,
            se,
            exact,
            z,
            pass,
        });
    }
    /// Adds the stochastic evidence estimates of `run` (not Laplace or the harmonic mean) against
    /// `exact`; a zero standard error is floored at 0.01 nats.
    fn add_estimates(
        &mut self,
        group: &str,
        run: &thermolab::drivers::evidence::EvidenceRun,
        exact: f64,
    ) {
        for e in &run.estimates {
            if !matches!(e.method.as_str(), "harmonic mean" | "Laplace") {
                self.add(group, &e.method, e.log_z.value, e.log_z.se.max(0.01), exact);
            }
        }
    }
    /// Adds only the worst of several z-scores (e.g. every coordinate of a mean).
    fn add_worst(&mut self, group: &str, quantity: &str, items: Vec<(f64, f64, f64)>) {
        if let Some(&(e, s, x)) = items.iter().max_by(|a, b| {
            ((a.0 - a.2) / a.1)
                .abs()
                .total_cmp(&((b.0 - b.2) / b.1).abs())
        }) {
            self.add(
                group,
                &format!("{quantity} (worst of {})", items.len()),
                e,
                s,
                x,
            );
        }
    }
}

fn gaussians(c: &mut Checks, threads: usize) -> Result<()> {
    for (d, rho) in [(2usize, 0.0), (10, 0.9), (32, 0.5)] {
        let g = Ar1Gaussian::new(d, rho, 1.0);
        let s = SampleSettings {
            threads,
            ..Default::default()
        }
        .validate(d)?;
        let r = sample(&g, &s, 1, SampleControl::default())?;
        let (mut means, mut vars) = (Vec::new(), Vec::new());
        for j in 0..d {
            let p = r.parameter(j, d);
            let refs: Vec<&[f64]> = p.iter().map(|x| x.as_slice()).collect();
            let all: Vec<f64> = p.iter().flatten().copied().collect();
            means.push((
                all.iter().sum::<f64>() / all.len() as f64,
                mcse_mean(&refs),
                0.0,
            ));
            let sq: Vec<Vec<f64>> = p
                .iter()
                .map(|x| x.iter().map(|v| v * v).collect())
                .collect();
            let sref: Vec<&[f64]> = sq.iter().map(|x| x.as_slice()).collect();
            let m2 = sq.iter().flatten().sum::<f64>() / all.len() as f64;
            vars.push((m2, mcse_mean(&sref), 1.0));
        }
        let name = format!("NUTS, {d}-D Gaussian (ρ = {rho})");
        c.add_worst(&name, "mean", means);
        c.add_worst(&name, "E[x²]", vars);
    }
    Ok(())
}

fn tempering(c: &mut Checks, threads: usize) -> Result<()> {
    let m = GaussianMixture::two_modes(2, 10.0);
    let s = TemperingSettings {
        rounds: 40_000,
        warmup: 4000,
        threads,
        ..Default::default()
    };
    let r = temper(&BoltzmannPath(m.clone()), &[-5.0, 0.0], &s, 3)?;
    let ind: Vec<f64> = r
        .draws
        .chunks_exact(2)
        .map(|x| f64::from(u8::from(m.nearest(x) == 1)))
        .collect();
    let b: Vec<[f64; 1]> = block_means(&ind, 40).iter().map(|v| [*v]).collect();
    let w = jackknife(&b, |v| v[0]);
    c.add(
        "parallel tempering, modes 10 σ apart",
        "weight of the 0.7 mode",
        w.value,
        w.se,
        0.7,
    );
    Ok(())
}

fn evidence_checks(c: &mut Checks, threads: usize) -> Result<()> {
    for d in [5usize, 20] {
        let data = thermolab::data::synthetic_regression(100, d, 0.5, d as u64);
        let post = LinearRegression::new(&data, 0.5, 1.0).map_err(|e| anyhow::anyhow!(e))?;
        let exact = post.log_evidence();
        let s = EvidenceSettings {
            threads,
            rungs: 24,
            draws: 600,
            ..Default::default()
        };
        let run = evidence(&post, &s, 5)?;
        for e in &run.estimates {
            if matches!(e.method.as_str(), "harmonic mean" | "Laplace") {
                continue;
            }
            c.add(
                &format!("log evidence, conjugate regression d = {d}"),
                &e.method,
                e.log_z.value,
                e.log_z.se.max(0.01),
                exact,
            );
        }
    }
    // ln Z of a 32-D correlated Gaussian, reached from a Gaussian reference.
    let g = Ar1Gaussian::new(32, 0.5, 1.0);
    let exact = g.log_z(1.0);
    let path = thermolab::systems::posterior::ReferencePath {
        target: g,
        ref_sd: 2.0,
    };
    let run = evidence(
        &path,
        &EvidenceSettings {
            threads,
            ..Default::default()
        },
        8,
    )?;
    c.add_estimates("ln Z, 32-D Gaussian from a Gaussian reference", &run, exact);
    // Normal–Inverse-Gamma prior: σ² unknown, exact Student-t evidence.
    let data = thermolab::data::synthetic_regression(80, 3, 0.6, 11);
    let post = thermolab::systems::posterior::NigRegression::new(&data, 3.0, 1.0, 2.0)
        .map_err(|e| anyhow::anyhow!(e))?;
    let exact = post.log_evidence();
    let run = evidence(
        &post,
        &EvidenceSettings {
            threads,
            rungs: 24,
            draws: 600,
            ..Default::default()
        },
        6,
    )?;
    c.add_estimates(
        "log evidence, Normal–Inverse-Gamma regression d = 3",
        &run,
        exact,
    );
    Ok(())
}

fn spins(c: &mut Checks, threads: usize) -> Result<()> {
    // 4×4 torus against enumeration.
    let g = Arc::new(IsingGraph::lattice(
        Lattice::new(2, 4).map_err(anyhow::Error::msg)?,
        1.0,
        0.0,
    ));
    let model = SpinModel::Ising(g.clone());
    let temps = [1.5, 2.5];
    let s = SpinSweepSettings {
        temperatures: temps.to_vec(),
        sweeps: 40_000,
        threads,
        ..Default::default()
    }
    .validate(&model)?;
    for p in run_sweep(&model, &s, 7, &|_| {}) {
        let ex = enumerate_ising(&g, &[1.0 / p.temperature]).map_err(|e| anyhow::anyhow!(e))?[0];
        c.add(
            "Metropolis, 4×4 Ising vs enumeration",
            &format!("e at T = {}", p.temperature),
            p.energy.value,
            p.energy.se,
            ex.energy / 16.0,
        );
        c.add(
            "Metropolis, 4×4 Ising vs enumeration",
            &format!("C/N at T = {}", p.temperature),
            p.heat_capacity.value,
            p.heat_capacity.se,
            ex.heat_capacity / 16.0,
        );
    }
    // 16×16 against Kaufman, with the cluster and the multi-spin kernels.
    let model = SpinModel::Ising(Arc::new(IsingGraph::lattice(
        Lattice::new(2, 16).map_err(anyhow::Error::msg)?,
        1.0,
        0.0,
    )));
    for (alg, name, sweeps) in [
        (SpinAlgorithm::Wolff, "Wolff", 20_000),
        (SpinAlgorithm::MultiSpin, "multi-spin Metropolis", 2000),
    ] {
        let s = SpinSweepSettings {
            temperatures: vec![2.0, CRITICAL_TEMPERATURE, 3.0],
            algorithm: alg,
            sweeps,
            threads,
            ..Default::default()
        }
        .validate(&model)?;
        for p in run_sweep(&model, &s, 9, &|_| {}) {
            let k = kaufman(16, 16, 1.0, p.temperature);
            let group = format!("{name}, 16×16 Ising vs Kaufman");
            c.add(
                &group,
                &format!("e at T = {:.3}", p.temperature),
                p.energy.value,
                p.energy.se,
                k.energy_per_site,
            );
            c.add(
                &group,
                &format!("C/N at T = {:.3}", p.temperature),
                p.heat_capacity.value,
                p.heat_capacity.se,
                k.heat_capacity_per_site,
            );
        }
    }
    Ok(())
}

/// Boltzmann machines: a 64×16 machine trained on the built-in digits and a random
/// Gaussian–Bernoulli machine, their log Z by AIS and by tempering + stepping-stone against
/// exact enumeration.
fn rbms(c: &mut Checks, threads: usize) -> Result<()> {
    let mut d = digits();
    binarize(&mut d.pixels, Binarize::Threshold(0.5));
    let train = d.slice(0, 1500);
    let s = TrainSettings {
        epochs: 50,
        batch_size: 10,
        final_learning_rate_fraction: 0.0,
        seed: 3,
        ..Default::default()
    }
    .validate()?;
    let m0 = init_rbm(VisibleKind::Bernoulli, 64, 16, &train.pixels, &s)?;
    let mut t = RbmTrainer::new(m0, &train.pixels, s)?;
    t.run(&train.pixels, &mut |_, _| Control::Continue)?;
    let mut gauss = Rbm::random(
        VisibleKind::Gaussian,
        12,
        10,
        0.3,
        &mut thermolab::rng::init_stream(4),
    )?;
    gauss
        .b
        .iter_mut()
        .enumerate()
        .for_each(|(i, b)| *b = 0.1 * i as f32 - 0.5);
    for (name, m, base) in [
        (
            "RBM 64×16 (digits)",
            &t.rbm,
            t.rbm.base_rate_biases(&train.pixels),
        ),
        ("Gaussian RBM 12×10", &gauss, gauss.b.clone()),
    ] {
        let exact = log_partition_exact(m, 20)?;
        let group = format!("{name} vs enumeration");
        let a = AisSettings {
            chains: 200,
            temperatures: 2000,
            threads,
            seed: 5,
            ..Default::default()
        }
        .validate()?;
        let e = ais_log_z(m, &base, &a)?;
        c.add(&group, "ln Z by AIS (200 × 2000)", e.log_z, e.se, exact);
        let ts = RbmTemperSettings {
            chains: 16,
            rounds: 2000,
            seed: 6,
            ..Default::default()
        };
        let r = temper_rbm(m, &base, &ts)?;
        c.add(
            &group,
            "ln Z by tempering + stepping-stone",
            r.log_z.value,
            r.log_z.se,
            exact,
        );
    }
    Ok(())
}

/// `thermolab certify`.
pub fn run(a: CertifyArgs) -> Result<()> {
    if !(a.z_max.is_finite() && a.z_max > 0.0) {
        bail!("--z-max must be a finite number > 0");
    }
    let mut run = Run::start(&a.common, "thermolab-certify", "thermolab certify")?;
    let started = unix_time();
    run.out.event("start", json!({"command": "certify"}));
    let mut c = Checks {
        z_max: a.z_max,
        list: Vec::new(),
    };
    let t0 = Instant::now();
    let mut timings = Vec::new();
    for (name, f) in [
        (
            "gaussians",
            gaussians as fn(&mut Checks, usize) -> Result<()>,
        ),
        ("tempering", tempering),
        ("evidence", evidence_checks),
        ("spins", spins),
        ("boltzmann machines", rbms),
    ] {
        let t = Instant::now();
        f(&mut c, a.threads)?;
        timings.push((name, t.elapsed().as_secs_f64()));
    }
    let failed = c.list.iter().filter(|x| !x.pass).count();
    run.out.text(&format!(
        "{:<44} {:<38} {:>11} {:>9} {:>11} {:>7}  result",
        "check", "quantity", "estimate", "SE", "exact", "z"
    ));
    for x in &c.list {
        run.out.text(&format!(
            "{:<44} {:<38} {:>11.5} {:>9.5} {:>11.5} {:>+7.2}  {}",
            x.group,
            x.quantity,
            x.estimate,
            x.se,
            x.exact,
            x.z,
            if x.pass { "pass" } else { "FAIL" }
        ));
    }
    run.out.text(&format!(
        "{} checks, {} failed, |z| ≤ {} to pass, {:.1} s",
        c.list.len(),
        failed,
        a.z_max,
        t0.elapsed().as_secs_f64()
    ));
    if let Some(rep) = run.report.as_mut() {
        rep.heading("Checks");
        let rows: Vec<Vec<String>> = c
            .list
            .iter()
            .map(|x| {
                vec![
                    x.group.clone(),
                    x.quantity.clone(),
                    format!("{:.5}", x.estimate),
                    format!("{:.5}", x.se),
                    format!("{:.5}", x.exact),
                    format!("{:+.2}", x.z),
                    if x.pass { "pass".into() } else { "FAIL".into() },
                ]
            })
            .collect();
        rep.table(
            &[
                "check", "quantity", "estimate", "SE", "exact", "z", "result",
            ],
            &rows,
        );
    }
    run.out
        .event("result", json!({"checks": c.list.len(), "failed": failed}));
    let run_json = json!({
        "command": "certify",
        "version": thermolab::VERSION,
        "seed": a.common.seed,
        "started_unix": started,
        "settings": {"z_max": a.z_max},
        "timings": timings.iter().map(|(n, s)| json!({"group": n, "seconds": s})).collect::<Vec<_>>(),
        "results": {"checks": c.list, "failed": failed},
        "termination": "finished",
    });
    run.finish(&run_json)?;
    if failed > 0 {
        return Err(crate::Diverged(format!("{failed} certification check(s) failed")).into());
    }
    Ok(())
}
