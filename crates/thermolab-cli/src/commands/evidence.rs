//! `thermolab evidence`: log Z of a posterior by thermodynamic integration, stepping-stone, AIS,
//! bridge sampling, Laplace and the harmonic mean, side by side with the exact value when known.

use super::{fmt, parse_floats, unix_time, Run};
use crate::args::EvidenceArgs;
use crate::plots::LineChart;
use anyhow::{anyhow, bail, Result};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use thermolab::data::{load_csv, Columns, CsvSpec};
use thermolab::drivers::evidence::{evidence, EvidenceSettings};
use thermolab::nn::{Loss, MlpEnergy};
use thermolab::systems::posterior::{
    BayesianMlp, Funnel, GaussianMixture, LinearRegression, LogisticRegression, NigRegression,
    ReferencePath,
};
use thermolab::systems::Ar1Gaussian;
use thermolab::trace::csv_table;

const ESTIMATORS: [(&str, &str); 6] = [
    ("ti", "thermodynamic integration"),
    ("ss", "stepping-stone"),
    ("ais", "annealed importance sampling"),
    ("bridge", "bridge sampling"),
    ("laplace", "Laplace"),
    ("hm", "harmonic mean"),
];

/// `thermolab evidence`.
pub fn run(a: EvidenceArgs) -> Result<()> {
    let wanted: Vec<&str> = match &a.estimators {
        None => ESTIMATORS.iter().map(|e| e.1).collect(),
        Some(list) => list
            .split(',')
            .map(|k| {
                ESTIMATORS.iter().find(|e| e.0 == k.trim()).map(|e| e.1).ok_or_else(|| {
                    anyhow!("--estimators: unknown estimator `{}` (ti, ss, ais, bridge, laplace, hm)", k.trim())
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
    settings.validate()?;
    let plain = matches!(
        a.target.as_str(),
        "gauss" | "funnel" | "funnel-nc" | "mixture"
    );
    if plain && !(a.ref_sd.is_finite() && a.ref_sd > 0.0) {
        bail!("--ref-sd: must be a finite number > 0, got {}", a.ref_sd);
    }
    let data = if plain {
        thermolab::data::synthetic_regression(2, 1, 1.0, 0)
    } else if a.target == "bnn" && (a.data == "synthetic" || a.data == "sin") {
        if a.n < 2 {
            bail!("--n must be ≥ 2");
        }
        thermolab::data::sin_data(a.n, 0.1, a.common.seed)
    } else if a.data == "synthetic" {
        if a.n < 2 || a.dim == 0 {
            bail!("--n must be ≥ 2 and --dim ≥ 1 for synthetic data");
        }
        thermolab::data::synthetic_regression(a.n, a.dim, a.sigma, a.common.seed)
    } else {
        let spec = CsvSpec {
            targets: a
                .target_column
                .as_ref()
                .map_or(Columns::Default, |t| Columns::Named(vec![t.clone()])),
            ..Default::default()
        };
        load_csv(Path::new(&a.data), &spec)?
    };
    let mut run = Run::start(
        &a.common,
        "thermolab-evidence",
        &format!("thermolab evidence: {}", a.target),
    )?;
    let started = unix_time();
    run.out.event("start", json!({"command": "evidence", "target": a.target, "rows": data.n, "features": data.n_inputs}));
    let (result, exact) = match a.target.as_str() {
        "linreg" => {
            let post =
                LinearRegression::new(&data, a.sigma, a.prior_sd).map_err(|e| anyhow!("{e}"))?;
            let exact = post.log_evidence();
            (evidence(&post, &settings, a.common.seed)?, Some(exact))
        }
        "gauss" => {
            if a.dim == 0 || a.rho.abs() >= 1.0 {
                bail!("--dim must be ≥ 1 and |--rho| < 1 for the gauss target");
            }
            let g = Ar1Gaussian::new(a.dim, a.rho, 1.0);
            let exact = g.log_z(1.0);
            (evidence(&ReferencePath { target: g, ref_sd: a.ref_sd }, &settings, a.common.seed)?, Some(exact))
        }
        "funnel" | "funnel-nc" => {
            if a.dim < 2 {
                bail!("--dim: the funnel needs at least 2 dimensions");
            }
            let f = Funnel::new(a.dim, a.target == "funnel");
            let exact = f.log_z();
            (evidence(&ReferencePath { target: f, ref_sd: a.ref_sd }, &settings, a.common.seed)?, Some(exact))
        }
        "mixture" => {
            if a.dim == 0 {
                bail!("--dim must be ≥ 1 for the mixture target");
            }
            let m = GaussianMixture::two_modes(a.dim, a.separation);
            (evidence(&ReferencePath { target: m, ref_sd: a.ref_sd }, &settings, a.common.seed)?, Some(0.0))
        }
        "linreg-nig" => {
            let post = NigRegression::new(&data, a.a0, a.b0, a.g).map_err(|e| anyhow!("{e}"))?;
            let exact = post.log_evidence();
            (evidence(&post, &settings, a.common.seed)?, Some(exact))
        }
        "logreg" => {
            let post =
                LogisticRegression::new(&data, a.prior_sd, true).map_err(|e| anyhow!("{e}"))?;
            (evidence(&post, &settings, a.common.seed)?, None)
        }
        "bnn" => {
            let net = MlpEnergy::new(a.arch.parse()?, Arc::new(data.clone()), Loss::Mse)?;
            let post = BayesianMlp::new(net, a.sigma, a.prior_sd).map_err(|e| anyhow!("{e}"))?;
            (evidence(&post, &settings, a.common.seed)?, None)
        }
        t => bail!("--target: unknown target `{t}` (linreg, linreg-nig, logreg, bnn, gauss, funnel, funnel-nc, mixture)"),
    };
    let estimates: Vec<_> = result
        .estimates
        .iter()
        .filter(|e| wanted.contains(&e.method.as_str()))
        .collect();
    run.out.text(&format!(
        "{:<30} {:>12} {:>10} {:>10} {:>12} {:>9}",
        "estimator", "log Z", "SE", "z vs exact", "evaluations", "seconds"
    ));
    let mut rows = Vec::new();
    for e in &estimates {
        let z = exact
            .filter(|_| e.log_z.se > 0.0)
            .map(|x| e.log_z.z_score(x));
        run.out.text(&format!(
            "{:<30} {:>12.4} {:>10.4} {:>10} {:>12} {:>9.3}{}",
            e.method,
            e.log_z.value,
            e.log_z.se,
            z.map_or("—".into(), |z| format!("{z:+.2}")),
            e.evaluations,
            e.seconds,
            e.note
                .as_ref()
                .map_or(String::new(), |n| format!("  ({n})"))
        ));
        rows.push(vec![
            e.method.clone(),
            fmt(e.log_z.value),
            fmt(e.log_z.se),
            z.map_or("—".into(), |z| format!("{z:+.2}")),
            e.evaluations.to_string(),
            format!("{:.3}", e.seconds),
        ]);
    }
    let agree = estimates
        .iter()
        .filter(|e| e.method != "harmonic mean" && e.log_z.se > 0.0)
        .all(|e| {
            estimates
                .iter()
                .filter(|f| f.method != "harmonic mean" && f.log_z.se > 0.0)
                .all(|f| {
                    (e.log_z.value - f.log_z.value).abs()
                        <= 3.0 * (e.log_z.se.powi(2) + f.log_z.se.powi(2)).sqrt()
                })
        });
    if let Some(x) = exact {
        run.out.text(&format!("exact log evidence {x:.4}"));
    }
    run.out.text(&format!(
        "the stochastic estimators {} within 3 combined standard errors",
        if agree { "agree" } else { "do NOT agree" }
    ));
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
    };
    run.plot(
        &chart,
        "barrier",
        "Cumulative swap rejection between neighbouring rungs; 2Λ + 1 replicas suit tempering",
    )?;
    run.out.event(
        "result",
        json!({"estimates": estimates, "exact": exact, "agree": agree, "barrier": lambda}),
    );
    let run_json = json!({
        "command": "evidence",
        "version": thermolab::VERSION,
        "seed": a.common.seed,
        "started_unix": started,
        "settings": {"target": a.target, "data": a.data, "rows": data.n, "features": data.n_inputs, "sigma": a.sigma, "prior_sd": a.prior_sd, "evidence": settings},
        "results": {"estimates": estimates, "exact_log_evidence": exact, "agree": agree, "path": result.path, "barrier": result.barrier},
        "termination": "finished",
    });
    run.finish(&run_json)?;
    Ok(())
}
