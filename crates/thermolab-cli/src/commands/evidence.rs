//! `thermolab evidence`: log Z of a posterior by thermodynamic integration, stepping-stone, AIS,
//! bridge sampling, Laplace and the harmonic mean, side by side with the exact value when known.

use super::{fmt, parse_floats, unix_time, Run};
use crate::args::EvidenceArgs;
use crate::plots::LineChart;
use anyhow::{anyhow, bail, Result};
use serde_json::json;
use thermolab::drivers::evidence::{evidence, EvidenceSettings};
use thermolab::run::{RunContext, Termination};
use thermolab::targets::{DataSource, PathSpec, TargetParams, TargetSpec};
use thermolab::trace::csv_table;

const ESTIMATORS: [(&str, &str); 7] = [
    ("ti", "thermodynamic integration"),
    ("simpson", "thermodynamic integration (Simpson)"),
    ("ss", "stepping-stone"),
    ("ais", "annealed importance sampling"),
    ("bridge", "bridge sampling"),
    ("laplace", "Laplace"),
    ("hm", "harmonic mean"),
];

/// `thermolab evidence`.
pub fn run(a: EvidenceArgs) -> Result<()> {
    crate::limits::threads(a.threads)?;
    // Synthetic data, every rung's draws (the t = 1 ones whole), the pilot's dense metrics
    // (24 rungs of dim²) and the AIS particles.
    let d = a.dim as f64;
    crate::limits::memory(
        &format!(
            "--dim {} with --n {} --rungs {} --draws {} --ais-particles {}",
            a.dim, a.n, a.rungs, a.draws, a.ais_particles
        ),
        crate::limits::f64s(
            a.n as f64 * d
                + 4.0 * a.rungs as f64 * a.draws as f64
                + 4.0 * a.draws as f64 * d
                + 26.0 * d * d
                + 8.0 * a.ais_particles as f64 * d,
        ),
    )?;
    let wanted: Vec<&str> = match &a.estimators {
        None => ESTIMATORS.iter().map(|e| e.1).collect(),
        Some(list) => list
            .split(',')
            .map(|k| {
                ESTIMATORS.iter().find(|e| e.0 == k.trim()).map(|e| e.1).ok_or_else(|| {
                    anyhow!("--estimators: unknown estimator `{}` (ti, simpson, ss, ais, bridge, laplace, hm)", k.trim())
                })
            })
            .collect::<Result<_>>()?,
    };
    let ladder = a
        .ladder
        .as_deref()
        .map(|t| parse_floats("ladder", t))
        .transpose()?;
    let settings = EvidenceSettings {
        rungs: a.rungs,
        draws: a.draws,
        ais_particles: a.ais_particles,
        ais_steps: a.ais_steps,
        threads: a.threads,
        ladder,
        ais: wanted.contains(&"annealed importance sampling"),
        ..Default::default()
    };
    let settings = settings.validate()?;
    let data = |n: usize, dim: usize| -> DataSource {
        match a.data.as_str() {
            "synthetic" | "sin" if a.target == "bnn" => DataSource::Sin {
                n,
                seed: a.common.seed,
            },
            "synthetic" => DataSource::Synthetic {
                n,
                dim,
                sigma: a.noise_sd,
                seed: a.common.seed,
            },
            f => DataSource::File {
                path: f.into(),
                target_column: a.target_column.clone(),
            },
        }
    };
    let spec = match a.target.as_str() {
        "linreg" => PathSpec::Linreg {
            data: data(a.n, a.dim),
            sigma: a.noise_sd,
            prior_sd: a.prior_sd,
        },
        "linreg-nig" => PathSpec::LinregNig {
            data: data(a.n, a.dim),
            a0: a.a0,
            b0: a.b0,
            g: a.g,
        },
        "logreg" => PathSpec::Logreg {
            data: data(a.n, a.dim),
            prior_sd: a.prior_sd,
        },
        "bnn" => PathSpec::Bnn {
            data: data(a.n, a.dim),
            arch: a.arch.clone(),
            sigma: a.noise_sd,
            prior_sd: a.prior_sd,
        },
        "gauss" | "funnel" | "funnel-nc" | "mixture" => PathSpec::Reference {
            of: TargetSpec::from_name(
                &a.target,
                &TargetParams {
                    dim: a.dim,
                    rho: a.rho,
                    separation: a.separation,
                    ..Default::default()
                },
            )?,
            ref_sd: a.ref_sd,
        },
        t if thermolab::systems::posteriordb::NAMES.contains(&t) => PathSpec::PosteriorDb {
            name: t.to_string(),
        },
        t => bail!(
            "--target: unknown target `{t}` (linreg, linreg-nig, logreg, bnn, gauss, funnel, funnel-nc, mixture, {})",
            thermolab::systems::posteriordb::NAMES.join(", ")
        ),
    };
    let (path, exact) = spec.build()?;
    let mut run = Run::start(
        &a.common,
        "thermolab-evidence",
        &format!("thermolab evidence: {}", a.target),
    )?;
    let started = unix_time();
    let dim = thermolab::energy::LinearPath::dim(&path);
    run.out.event(
        "start",
        json!({"command": "evidence", "target": spec, "parameters": dim}),
    );
    let mut ctx = RunContext::new()
        .with_stop(super::stop_on_ctrl_c())
        .with_observer(run.out.progress(0, "evidence"));
    let result = evidence(&path, &settings, a.common.seed, &mut ctx)?;
    if result.termination != Termination::Finished {
        run.out.text(&format!(
            "stopped ({}) {}",
            result.termination.as_str(),
            if result.estimates.is_empty() {
                "before the ladder was complete: no estimates (a partial ladder gives none)"
            } else {
                "after the ladder: the estimators it did not reach are missing"
            }
        ));
    }
    let estimates: Vec<_> = result
        .estimates
        .iter()
        .filter(|e| wanted.contains(&e.method.as_str()))
        .collect();
    if !result.verdict.summary.is_empty() {
        let hidden: Vec<&str> = result
            .estimates
            .iter()
            .filter(|e| !wanted.contains(&e.method.as_str()))
            .map(|e| e.method.as_str())
            .collect();
        run.headline(&match hidden.is_empty() {
            true => format!("verdict: {}", result.verdict.summary),
            // The verdict weighs every estimator that ran; say so when some are not shown.
            false => format!(
                "verdict (weighing also {}, which --estimators hides): {}",
                hidden.join(", "),
                result.verdict.summary
            ),
        });
    }
    run.out.text(&format!(
        "{:<36} {:>12} {:>10} {:>10} {:>8} {:>12} {:>9}",
        "estimator", "log Z", "SE", "z vs exact", "trusted", "evaluations", "seconds"
    ));
    let mut rows = Vec::new();
    let se_text = |se: f64| {
        if se.is_finite() {
            format!("{se:.4}")
        } else {
            "no SE".to_string()
        }
    };
    for e in &estimates {
        let z = exact
            .filter(|_| e.log_z.se > 0.0 && e.log_z.se.is_finite())
            .map(|x| e.log_z.z_score(x));
        let trusted = if e.trusted { "yes" } else { "NO" };
        run.out.text(&format!(
            "{:<36} {:>12.4} {:>10} {:>10} {:>8} {:>12} {:>9.3}{}",
            e.method,
            e.log_z.value,
            se_text(e.log_z.se),
            z.map_or("—".into(), |z| format!("{z:+.2}")),
            trusted,
            e.evaluations,
            e.seconds,
            e.note
                .as_ref()
                .map_or(String::new(), |n| format!("  ({n})"))
        ));
        for p in &e.problems {
            run.out.text(&format!("{:<36}   not trusted: {p}", ""));
        }
        rows.push(vec![
            e.method.clone(),
            fmt(e.log_z.value),
            se_text(e.log_z.se),
            z.map_or("—".into(), |z| format!("{z:+.2}")),
            if e.trusted {
                "yes".to_string()
            } else {
                format!("no: {}", e.problems.join("; "))
            },
            e.evaluations.to_string(),
            format!("{:.3}", e.seconds),
        ]);
    }
    if let Some(x) = exact {
        run.out.text(&format!("exact log evidence {x:.4}"));
    }
    let rung_ts: Vec<f64> = result.ladder.iter().map(|r| r.t).collect();
    if let (Some(first), Some(last)) = (rung_ts.get(1), rung_ts.last()) {
        let low = rung_ts.iter().filter(|t| **t < 1e-3).count();
        let again = result.ladder.iter().filter(|r| r.retried).count();
        run.out.text(&format!(
            "ladder: {} rungs from t = 0, {first:.2e}, … to {last}; {low} below t = 0.001{}",
            rung_ts.len(),
            match again {
                0 => String::new(),
                n => format!("; {n} sampled again (4 chains, 4× the draws each), because their chains disagreed"),
            }
        ));
    }
    let path_rows: Vec<[f64; 3]> = result.path.iter().map(|p| [p.0, p.1, p.2]).collect();
    run.folder.write(
        "path.csv",
        csv_table(
            &["t", "mean_log_likelihood", "se"],
            path_rows.iter().map(|r| &r[..]),
        ),
    )?;
    if let Some(rep) = run.report.as_mut() {
        rep.heading("Estimates");
        rep.table(
            &[
                "estimator",
                "log Z",
                "SE",
                "z vs exact",
                "trusted",
                "evaluations",
                "seconds",
            ],
            &rows,
        );
        if let Some(x) = exact {
            rep.para(&format!("Exact log evidence: {x:.6}."));
        }
    }
    let chart = LineChart {
        title: "TI integrand: ⟨log L⟩ along the power-posterior path".into(),
        x_label: "t (power on the likelihood)".into(),
        y_label: "⟨log L⟩_t".into(),
        lines: vec![(
            "⟨log L⟩_t".into(),
            result.path.iter().map(|p| (p.0, p.1)).collect(),
        )],
        points: vec![],
        errors: vec![(
            "±1 SE".into(),
            result.path.iter().map(|p| (p.0, p.1, p.2)).collect(),
        )],
        log_y: false,
        ..Default::default()
    };
    run.plot(
        &chart,
        "ti_integrand",
        "The area under this curve is ln Z (thermodynamic integration)",
    )?;
    let lambda = result.barrier.last().map_or(0.0, |b| b.1);
    run.out.text(&format!(
        "communication barrier Λ = {lambda:.2}: parallel tempering would want about {} replicas",
        (2.0 * lambda).ceil() as usize + 1
    ));
    let chart = LineChart {
        title: "Communication barrier Λ(t) along the ladder".into(),
        x_label: "t (power on the likelihood)".into(),
        y_label: "Λ(t)".into(),
        lines: vec![("Λ(t)".into(), result.barrier.clone())],
        points: vec![],
        errors: vec![],
        log_y: false,
        ..Default::default()
    };
    run.plot(
        &chart,
        "barrier",
        "Cumulative swap rejection between neighbouring rungs; 2Λ + 1 replicas suit tempering",
    )?;
    // The ladder: every rung's position (log scale; t = 0 is the first rung, not drawn).
    let chart = LineChart {
        title: "The ladder: position of every rung".into(),
        x_label: "rung".into(),
        y_label: "t".into(),
        lines: vec![],
        points: vec![(
            "rungs (t > 0)".into(),
            rung_ts
                .iter()
                .enumerate()
                .filter(|(_, t)| **t > 0.0)
                .map(|(k, t)| (k as f64, *t))
                .collect(),
        )],
        errors: vec![],
        log_y: true,
        integer_x: true,
        ..Default::default()
    };
    run.plot(
        &chart,
        "ladder",
        if a.ladder.is_some() {
            "The rungs of the ladder given with --ladder"
        } else {
            "Rungs spaced evenly in overlap length, measured by two pilot runs"
        },
    )?;
    let agree = result.verdict.trusted.len() >= 2;
    run.out.event(
        "result",
        json!({"estimates": estimates, "exact": exact, "verdict": result.verdict, "barrier": lambda}),
    );
    let run_json = json!({
        "command": "evidence",
        "version": thermolab::VERSION,
        "seed": a.common.seed,
        "started_unix": started,
        "settings": {"target": spec, "parameters": dim, "evidence": settings.get()},
        "results": {"estimates": estimates, "exact_log_evidence": exact, "verdict": result.verdict, "agree": agree, "path": result.path, "barrier": result.barrier, "ladder": result.ladder},
        "termination": result.termination,
    });
    run.finish(&run_json)?;
    Ok(())
}
