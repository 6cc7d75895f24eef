//! The `certify` suite: samplers, tempering, evidence estimators, spin kernels and Boltzmann
//! machines run on targets with exactly known answers — Gaussian moments, known mode weights,
//! conjugate evidence, enumeration and Kaufman, enumerated `ln Z` — each reported as a z-score
//! `(estimate − exact) / SE` that passes when `|z| ≤ z_max`.
//!
//! The same checks run from the command line (`thermolab certify`), from Rust and from bindings;
//! each group draws from its own named streams, so results do not depend on the thread count.

use crate::data::{binarize, digits, Binarize};
use crate::drivers::ais::AisSettings;
use crate::drivers::evidence::{evidence, EvidenceRun, EvidenceSettings};
use crate::drivers::rbm::{ais_log_z, init_rbm, temper_rbm, RbmTemperSettings, RbmTrainer};
use crate::drivers::sample::{sample, SampleSettings};
use crate::drivers::spin::{run_sweep, SpinAlgorithm, SpinModel, SpinSweepSettings};
use crate::drivers::tempering::{temper, PathReplicas, TemperingSettings};
use crate::energy::{BoltzmannPath, ReferencePath};
use crate::error::Error;
use crate::estimate::diagnostics::mcse_mean;
use crate::estimate::exact::{kaufman, IsingExact, CRITICAL_TEMPERATURE};
use crate::estimate::series::mean_by_blocks;
use crate::kernels::mcmc::SamplerKind;
use crate::run::{RunContext, StopFlag, Termination};
use crate::systems::posterior::{GaussianMixture, LinearRegression, NigRegression};
use crate::systems::rbm::{log_partition_exact, Rbm, VisibleKind};
use crate::systems::spin::{IsingGraph, Lattice};
use crate::systems::Ar1Gaussian;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// What was run.
    pub group: String,
    /// What was measured.
    pub quantity: String,
    /// The estimate.
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// The exact value.
    pub exact: f64,
    /// `(estimate − exact) / SE`.
    pub z: f64,
    /// `|z| ≤ z_max`.
    pub pass: bool,
}

/// The checks made so far.
#[derive(Debug, Clone, Serialize)]
pub struct Certification {
    /// The pass threshold on |z|.
    pub z_max: f64,
    /// Every check, in the order made.
    pub checks: Vec<Check>,
    /// Seconds per group of checks.
    pub timings: Vec<(String, f64)>,
    /// `Finished`, or `Interrupted` when the stop flag ended the suite (the checks made before
    /// are kept; a check whose run was cut short is left out).
    pub termination: Termination,
    #[serde(skip)]
    stop: StopFlag,
}

impl Certification {
    /// Checks that failed.
    pub fn failed(&self) -> usize {
        self.checks.iter().filter(|c| !c.pass).count()
    }

    /// A run context that stops with the suite.
    fn ctx(&self) -> RunContext {
        RunContext::new().with_stop(self.stop.clone())
    }

    /// Whether the suite was asked to stop (a run cut short by it gives no check).
    fn stopped(&self) -> bool {
        self.stop.is_raised()
    }

    fn add(&mut self, group: &str, quantity: &str, estimate: f64, se: f64, exact: f64) {
        let z = (estimate - exact) / se;
        self.checks.push(Check {
            group: group.into(),
            quantity: quantity.into(),
            estimate,
            se,
            exact,
            z,
            pass: z.is_finite() && z.abs() <= self.z_max,
        });
    }
    /// The stochastic evidence estimates of `run` (not Laplace or the harmonic mean) against
    /// `exact`; a zero standard error is floored at 0.01 nats.
    fn add_estimates(&mut self, group: &str, run: &EvidenceRun, exact: f64) {
        for e in &run.estimates {
            if !matches!(e.method.as_str(), "harmonic mean" | "Laplace") {
                self.add(group, &e.method, e.log_z.value, e.log_z.se.max(0.01), exact);
            }
        }
    }
    /// The estimates the run's verdict trusts (a run that trusts none adds no check: saying so
    /// is the right answer when the estimators disagree).
    fn add_trusted(&mut self, group: &str, run: &EvidenceRun, exact: f64) {
        for e in run.estimates.iter().filter(|e| e.trusted) {
            self.add(group, &e.method, e.log_z.value, e.log_z.se.max(0.01), exact);
        }
    }
    /// Only the worst of several `(estimate, se, exact)` (e.g. every coordinate of a mean).
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

/// Runs every check with `threads` workers; `|z| ≤ z_max` passes. Raising `stop` ends the
/// suite at the next run's next check, with the checks made so far.
pub fn certify(z_max: f64, threads: usize, stop: &StopFlag) -> Result<Certification, Error> {
    crate::settings::positive("z_max", z_max)?;
    let mut c = Certification {
        z_max,
        checks: Vec::new(),
        timings: Vec::new(),
        termination: Termination::Finished,
        stop: stop.clone(),
    };
    type Group = fn(&mut Certification, usize) -> Result<(), Error>;
    let groups: [(&str, Group); 5] = [
        ("gaussians", gaussians),
        ("tempering", tempering),
        ("evidence", evidence_checks),
        ("spins", spins),
        ("boltzmann machines", rbms),
    ];
    for (name, f) in groups {
        let t = Instant::now();
        f(&mut c, threads)?;
        if c.stopped() {
            c.termination = Termination::Interrupted;
            break;
        }
        c.timings.push((name.into(), t.elapsed().as_secs_f64()));
    }
    Ok(c)
}

fn gaussians(c: &mut Certification, threads: usize) -> Result<(), Error> {
    for (d, rho) in [(2usize, 0.0), (10, 0.9), (32, 0.5)] {
        let g = Ar1Gaussian::new(d, rho, 1.0)?;
        let s = SampleSettings {
            threads,
            ..Default::default()
        }
        .validate(d)?;
        let r = sample(&g, &s, 1, &mut c.ctx())?;
        if c.stopped() {
            return Ok(());
        }
        let (mut means, mut vars) = (Vec::new(), Vec::new());
        for j in 0..d {
            let p = r.parameter(j);
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

fn tempering(c: &mut Certification, threads: usize) -> Result<(), Error> {
    let m = GaussianMixture::two_modes(2, 10.0)?;
    let s = TemperingSettings {
        rounds: 40_000,
        warmup: 4000,
        threads,
        ..Default::default()
    }
    .validate()?;
    let reps = PathReplicas {
        path: BoltzmannPath(m.clone()),
        kernel: SamplerKind::Hmc { steps: 10 }.build(2, 0.5),
        x0: vec![-5.0, 0.0],
        target_accept: None,
    };
    let r = temper(&reps, &s, false, 3, 0, &mut c.ctx())?;
    if c.stopped() {
        return Ok(());
    }
    let ind: Vec<f64> = r
        .draws
        .chunks_exact(2)
        .map(|x| f64::from(u8::from(m.nearest(x) == 1)))
        .collect();
    let w = mean_by_blocks(&ind, 40);
    c.add(
        "parallel tempering, modes 10 σ apart",
        "weight of the 0.7 mode",
        w.value,
        w.se,
        0.7,
    );
    Ok(())
}

fn evidence_checks(c: &mut Certification, threads: usize) -> Result<(), Error> {
    let settings = |rungs: Option<usize>| -> Result<_, Error> {
        let mut s = EvidenceSettings {
            threads,
            ..Default::default()
        };
        if let Some(r) = rungs {
            s.rungs = r;
            s.draws = 600;
        }
        Ok(s.validate()?)
    };
    for d in [5usize, 20] {
        let data = crate::data::synthetic_regression(100, d, 0.5, d as u64);
        let post = LinearRegression::new(&data, 0.5, 1.0)?;
        let run = evidence(&post, &settings(Some(24))?, 5, &mut c.ctx())?;
        if c.stopped() {
            return Ok(());
        }
        c.add_estimates(
            &format!("log evidence, conjugate regression d = {d}"),
            &run,
            post.log_evidence(),
        );
    }
    // ln Z of a 32-D correlated Gaussian, reached from a Gaussian reference.
    let g = Ar1Gaussian::new(32, 0.5, 1.0)?;
    let exact = g.log_z(1.0);
    let path = ReferencePath {
        target: g,
        ref_sd: 2.0,
    };
    let run = evidence(&path, &settings(None)?, 8, &mut c.ctx())?;
    if c.stopped() {
        return Ok(());
    }
    c.add_estimates("ln Z, 32-D Gaussian from a Gaussian reference", &run, exact);
    // Normal–Inverse-Gamma prior: σ² unknown, exact Student-t evidence.
    let data = crate::data::synthetic_regression(80, 3, 0.6, 11);
    let post = NigRegression::new(&data, 3.0, 1.0, 2.0)?;
    let run = evidence(&post, &settings(Some(24))?, 6, &mut c.ctx())?;
    if c.stopped() {
        return Ok(());
    }
    c.add_estimates(
        "log evidence, Normal–Inverse-Gamma regression d = 3",
        &run,
        post.log_evidence(),
    );
    // Real posteriors with heavy-tailed scale priors: what the verdict trusts is right.
    for name in ["eight-schools-nc", "sblrc-blr", "ark"] {
        let p = crate::systems::posteriordb::PosteriorDb::from_name(name)?;
        let exact = p.exact().map_or(f64::NAN, |e| e.log_z);
        let run = evidence(&p, &settings(None)?, 9, &mut c.ctx())?;
        if c.stopped() {
            return Ok(());
        }
        c.add_trusted(
            &format!("log evidence, posteriordb {name} (trusted)"),
            &run,
            exact,
        );
    }
    Ok(())
}

fn spins(c: &mut Certification, threads: usize) -> Result<(), Error> {
    // 4×4 torus against enumeration.
    let g = IsingGraph::lattice(Lattice::new(2, 4)?, 1.0, 0.0);
    let exact = IsingExact::Enumerated(Box::new(g.clone()));
    let model = SpinModel::Ising(Arc::new(g));
    let s = SpinSweepSettings {
        temperatures: vec![1.5, 2.5],
        sweeps: 40_000,
        threads,
        ..Default::default()
    }
    .validate(&model)?;
    let sweep = run_sweep(&s, 7, &mut c.ctx())?;
    if c.stopped() {
        return Ok(());
    }
    for p in sweep.points {
        let ex = exact.at(p.temperature).expect("enumerable");
        let group = "Metropolis, 4×4 Ising vs enumeration";
        c.add(
            group,
            &format!("e at T = {}", p.temperature),
            p.energy.value,
            p.energy.se,
            ex.energy_per_site,
        );
        c.add(
            group,
            &format!("C/N at T = {}", p.temperature),
            p.heat_capacity.value,
            p.heat_capacity.se,
            ex.heat_capacity_per_site,
        );
    }
    // 16×16 against Kaufman, with the cluster and the multi-spin kernels.
    let model = SpinModel::Ising(Arc::new(IsingGraph::lattice(
        Lattice::new(2, 16)?,
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
        let sweep = run_sweep(&s, 9, &mut c.ctx())?;
        if c.stopped() {
            return Ok(());
        }
        for p in sweep.points {
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
fn rbms(c: &mut Certification, threads: usize) -> Result<(), Error> {
    let mut d = digits();
    binarize(&mut d.pixels, Binarize::Threshold(0.5));
    let train = d.slice(0, 1500);
    let s = crate::drivers::rbm::TrainSettings {
        epochs: 50,
        batch_size: 10,
        final_learning_rate_fraction: 0.0,
        ..Default::default()
    }
    .validate()?;
    let m0 = init_rbm(VisibleKind::Bernoulli, 64, 16, &train.pixels, &s, 3)?;
    let mut t = RbmTrainer::new(m0, &train.pixels, s, 3)?;
    t.run(&train.pixels, &mut c.ctx())?;
    if c.stopped() {
        return Ok(());
    }
    let mut gauss = Rbm::random(
        VisibleKind::Gaussian,
        12,
        10,
        0.3,
        &mut crate::rng::init_stream(4),
    )?;
    gauss
        .b
        .iter_mut()
        .enumerate()
        .for_each(|(i, b)| *b = 0.1 * i as f32 - 0.5);
    let trained = t.rbm().clone();
    for (name, m, base) in [
        (
            "RBM 64×16 (digits)",
            &trained,
            trained.base_rate_biases(&train.pixels),
        ),
        ("Gaussian RBM 12×10", &gauss, gauss.b.clone()),
    ] {
        let exact = log_partition_exact(m, 20)?;
        let group = format!("{name} vs enumeration");
        let a = AisSettings {
            chains: 200,
            temperatures: 2000,
            threads,
            ..Default::default()
        }
        .validate()?;
        let e = ais_log_z(m, &base, &a, 5, &mut c.ctx())?;
        if c.stopped() {
            return Ok(());
        }
        c.add(&group, "ln Z by AIS (200 × 2000)", e.log_z, e.se, exact);
        let ts = RbmTemperSettings {
            chains: 16,
            rounds: 2000,
            threads,
            ..Default::default()
        }
        .validate()?;
        let r = temper_rbm(m, &base, &ts, (6, 0), &mut c.ctx())?;
        if c.stopped() {
            return Ok(());
        }
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
