//! `thermolab scan`: a network posterior sampled by stochastic-gradient MCMC at each temperature
//! of a grid, with the predictive's test NLL, accuracy and calibration (or RMSE), ⟨E⟩ and the
//! heat capacity C(T) = Var(E)/T² per temperature, their error bars, and the curves.

use super::sgmcmc::{prepare, test_metrics, Prepared};
use super::{fmt, unix_time, Run};
use crate::args::ScanArgs;
use crate::plots::LineChart;
use anyhow::{bail, Result};
use serde_json::{json, Value};
use thermolab::drivers::sgmcmc::temperature_scan;
use thermolab::estimate::predictive::{class_nll_rows, gaussian_nll_rows, paired_difference};
use thermolab::run::{RunContext, Termination};
use thermolab::systems::posterior::{Predictive, Targets};
use thermolab::trace::csv_table;

/// `thermolab scan`.
pub fn run(mut a: ScanArgs) -> Result<()> {
    if a.run.sampler == "nuts" {
        a.run.sampler = "sgld".into();
    }
    if !super::sgmcmc::is_stochastic_gradient(&a.run.sampler) {
        bail!(
            "--sampler: `{}` is not a stochastic-gradient sampler (sgld, psgld, sghmc, sgnht, csgmcmc)",
            a.run.sampler
        );
    }
    let temps = &a.temperatures;
    if temps.is_empty() || temps.iter().any(|t| !(t.is_finite() && *t > 0.0)) {
        bail!("--temperatures: give finite temperatures > 0, comma-separated");
    }
    let s = &a.run;
    let prepared = prepare(s, temps.len())?;
    let init = prepared.starts();
    let Prepared {
        arch,
        settings,
        scheme,
        lik,
        mut post,
        test,
        classes,
        desc,
    } = prepared;
    let title = format!("thermolab scan: {} on {}", s.sampler, s.model.arch);
    let mut run = Run::start(&s.common, "thermolab-scan", &title)?;
    let started = unix_time();
    run.out.event(
        "start",
        json!({"command": "scan", "sampler": s.sampler, "arch": arch.to_string(), "data": desc, "temperatures": temps, "seed": s.common.seed}),
    );
    let clock = std::time::Instant::now();
    let mut prog = run
        .out
        .progress((settings.epochs * temps.len()) as u64, "epochs");
    let pool = thermolab::workers::Workers::lend(s.threads);
    let points = {
        let mut ctx = RunContext::new()
            .with_stop(super::stop_on_ctrl_c())
            .with_observer(&mut prog);
        pool.install(|| temperature_scan(&post, &init, &settings, temps, &mut ctx))?
    };
    let mut rows = Vec::new();
    let mut table = Vec::new();
    let mut warnings = Vec::new();
    let mut row_nll: Vec<Vec<f64>> = Vec::new();
    for p in &points {
        let samples: Vec<&[f64]> = p.run.samples().map(|v| v.as_slice()).collect();
        if samples.is_empty() {
            warnings.push(format!("T = {}: no sample kept", p.temperature));
            continue;
        }
        let (pred, m) = test_metrics(&mut post, &samples, &test)?;
        row_nll.push(match (&pred, &test.targets) {
            (Predictive::Classes(probs), Targets::Classes(labels)) => {
                class_nll_rows(probs, labels, arch.n_outputs())
            }
            (Predictive::Values { mean, sd }, Targets::Values { y, .. }) => {
                let y: Vec<f64> = y.iter().map(|&v| f64::from(v)).collect();
                gaussian_nll_rows(mean, sd, &y, arch.n_outputs())
            }
            _ => bail!("the test rows' targets do not fit the likelihood"),
        });
        let g = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
        let mut row = vec![p.temperature];
        if classes {
            row.extend([
                g("nll"),
                g("nll_se"),
                g("accuracy"),
                g("accuracy_se"),
                g("ece"),
                g("ece_se"),
            ]);
        } else {
            row.extend([g("nll"), g("nll_se"), g("rmse"), g("rmse_se")]);
        }
        row.extend([
            p.energy_mean,
            p.energy_se,
            p.heat_capacity,
            p.heat_capacity_se,
            p.run.divergences() as f64,
            samples.len() as f64,
        ]);
        if p.drift > 4.0 {
            warnings.push(format!(
                "T = {}: the samples' energy still drifts ({:.1} SE between the halves): ⟨E⟩ and \
                 C describe the relaxation, not the equilibrium; raise --epochs or \
                 --burn-in-epochs",
                p.temperature, p.drift
            ));
        }
        if p.run.divergences() > 0 {
            warnings.push(format!(
                "T = {}: {} steps diverged: lower --step-size",
                p.temperature,
                p.run.divergences()
            ));
        }
        table.push(json!({"temperature": p.temperature, "test": m, "energy": p.energy_mean, "energy_se": p.energy_se, "heat_capacity": p.heat_capacity, "heat_capacity_se": p.heat_capacity_se, "drift": p.drift, "divergences": p.run.divergences(), "samples": samples.len(), "seconds": p.run.seconds}));
        rows.push(row);
    }
    // Each temperature's test NLL against the one nearest T = 1, paired over the test rows.
    let reference = rows
        .iter()
        .enumerate()
        .min_by(|a, b| a.1[0].ln().abs().total_cmp(&b.1[0].ln().abs()))
        .map(|(i, _)| i);
    if let Some(r) = reference {
        let t_ref = rows[r][0];
        if t_ref != 1.0 {
            warnings.push(format!(
                "no sample at T = 1: each temperature's NLL is compared with T = {t_ref} instead"
            ));
        }
        for (i, row) in rows.iter_mut().enumerate() {
            let (d, se) = paired_difference(&row_nll[i], &row_nll[r]);
            row.extend([d, se]);
            table[i]["nll_minus_reference"] = json!({"temperature": t_ref, "mean": d, "se": se});
        }
    }
    let seconds = clock.elapsed().as_secs_f64();
    let mut header: Vec<&str> = vec!["temperature", "nll", "nll_se"];
    if classes {
        header.extend(["accuracy", "accuracy_se", "ece", "ece_se"]);
    } else {
        header.extend(["rmse", "rmse_se"]);
    }
    header.extend([
        "energy",
        "energy_se",
        "heat_capacity",
        "heat_capacity_se",
        "divergences",
        "samples",
        "nll_minus_reference",
        "nll_minus_reference_se",
    ]);
    run.folder
        .write("scan.csv", csv_table(&header, rows.iter().map(|r| &r[..])))?;
    if run.report.is_some() && !rows.is_empty() {
        let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let curve = |name: &str| -> Vec<(f64, f64, f64)> {
            let (i, j) = (col(name), col(&format!("{name}_se")));
            rows.iter().map(|r| (r[0].log10(), r[i], r[j])).collect()
        };
        let mut charts: Vec<(&str, &str, &str)> = vec![
            ("nll", "test NLL per row", "The predictive's test NLL against temperature: below T = 1 is the cold posterior"),
            ("heat_capacity", "C(T) = Var(E)/T²", "Heat capacity: the energy's fluctuations per temperature, with error bars over chains"),
            ("energy", "⟨E⟩ (full batch)", "Mean energy of the posterior samples at each temperature"),
        ];
        if classes {
            charts.push((
                "accuracy",
                "test accuracy",
                "Test accuracy of the posterior predictive",
            ));
            charts.push((
                "ece",
                "expected calibration error",
                "Calibration: ECE over 15 bins of the top probability",
            ));
        } else {
            charts.push(("rmse", "test RMSE", "Test RMSE of the predictive mean"));
        }
        for (name, y, caption) in charts {
            let chart = LineChart {
                title: format!("{y} against temperature, {arch}"),
                x_label: "log₁₀ T".into(),
                y_label: y.into(),
                lines: vec![(
                    name.into(),
                    curve(name).iter().map(|p| (p.0, p.1)).collect(),
                )],
                errors: vec![(format!("{name} ± SE"), curve(name))],
                ..Default::default()
            };
            run.plot(&chart, &format!("scan_{name}"), caption)?;
        }
    }
    let best = rows
        .iter()
        .min_by(|a, b| a[1].total_cmp(&b[1]))
        .map(|r| r[0]);
    let at_one = rows.iter().find(|r| r[0] == 1.0);
    let headline = match (best, at_one) {
        (Some(b), Some(one)) => {
            let at_best = rows.iter().find(|r| r[0] == b);
            let n = one.len();
            format!(
                "{} {arch} over {} temperatures in {:.1} s: lowest test NLL at T = {b} ({}, {} ± {} \
                 from T = 1 paired over the test rows), at T = 1 {}",
                s.sampler,
                rows.len(),
                seconds,
                fmt(at_best.map_or(f64::NAN, |r| r[1])),
                fmt(at_best.map_or(f64::NAN, |r| r[n - 2])),
                fmt(at_best.map_or(f64::NAN, |r| r[n - 1])),
                fmt(one[1]),
            )
        }
        (Some(b), None) => format!(
            "{} {arch} over {} temperatures in {:.1} s: lowest test NLL at T = {b}",
            s.sampler,
            rows.len(),
            seconds
        ),
        _ => format!("{} {arch}: no temperature kept a sample", s.sampler),
    };
    run.headline(&headline);
    for w in &warnings {
        run.out.text(&format!("warning: {w}"));
    }
    if let Some(rep) = run.report.as_mut() {
        rep.heading("Per temperature");
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| r.iter().map(|v| fmt(*v)).collect())
            .collect();
        rep.table(&header, &cells);
        for w in &warnings {
            rep.para(&format!("Warning: {w}."));
        }
    }
    let termination = points
        .last()
        .map_or(Termination::Finished, |p| p.run.termination);
    let termination = if points.len() < temps.len() && termination == Termination::Finished {
        Termination::Interrupted
    } else {
        termination
    };
    let run_json: Value = json!({
        "command": "scan",
        "version": thermolab::VERSION,
        "seed": s.common.seed,
        "started_unix": started,
        "settings": {"sampler": s.sampler, "arch": arch.to_string(), "init": scheme, "likelihood": lik, "prior_sd": s.model.prior_sd, "data": desc, "sg": settings, "temperatures": temps, "threads": s.threads},
        "timings": {"seconds": seconds},
        "results": {"temperatures": table, "warnings": warnings, "predictive": if classes { "classes" } else { "values" }},
        "termination": termination,
    });
    run.out.event("result", run_json["results"].clone());
    run.finish(&run_json)?;
    Ok(())
}
