//! `thermolab ensemble`: a deep ensemble (members trained at T = 0 by SGD or momentum from
//! their own starting points, one chain each) and optionally MultiSWAG (a SWAG Gaussian per
//! member over its iterates after the burn-in), with the predictive's test metrics beside the
//! members' own, the members' spread in weight and function space, and the predictive entropy
//! split into expected entropy and mutual information.

use super::sgmcmc::{prepare, test_metrics, Prepared};
use super::{fmt, unix_time, Run};
use crate::args::EnsembleArgs;
use anyhow::{anyhow, bail, Result};
use rand::Rng;
use serde_json::{json, Value};
use thermolab::drivers::llc::{local_learning_coefficient, LlcSettings, MeanLoss};
use thermolab::drivers::sgmcmc::sg_sample;
use thermolab::estimate::ensemble::{
    function_spread, output_spread, weight_spread, Swag, WeightSpread,
};
use thermolab::rng::{stream, Purpose};
use thermolab::run::RunContext;
use thermolab::systems::posterior::Predictive;
use thermolab::trace::csv_table;

/// `thermolab ensemble`.
pub fn run(mut a: EnsembleArgs) -> Result<()> {
    let optimiser = match a.run.sampler.as_str() {
        "nuts" | "sgd" => "sgd",
        "momentum" => "momentum",
        other => bail!("--sampler: an ensemble trains by `sgd` or `momentum`, not `{other}`"),
    };
    a.run.sampler = if optimiser == "sgd" { "sgld" } else { "sghmc" }.into();
    match a.run.sg.temperature {
        Some(t) if t != 0.0 => {
            bail!("--temperature: an ensemble's members are trained at T = 0 (got {t})")
        }
        _ => a.run.sg.temperature = Some(0.0),
    }
    if a.run.chains < 2 {
        bail!("--chains: an ensemble needs at least 2 members");
    }
    if a.swag_samples > 0 && a.swag_rank < 2 {
        bail!("--swag-rank: at least 2 deviations for MultiSWAG's low-rank part");
    }
    let llc_template = LlcSettings {
        chains: a.llc_chains,
        draws: a.llc_draws.max(2),
        burn_in: a.llc_draws / 10,
        step_size: a.llc_step_size,
        localization: a.llc_localization,
        n_beta: None,
        batch_size: None,
        seed: a.run.common.seed,
    };
    if a.llc_draws > 0 {
        llc_template
            .validate()
            .map_err(|e| anyhow!("--llc-{}: {}", e.field.replace('_', "-"), e.message))?;
    }
    let s = &a.run;
    let prepared = prepare(s, 1)?;
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
    let members = settings.chains;
    let title = format!("thermolab ensemble: {members} × {arch} by {optimiser}");
    let mut run = Run::start(&s.common, "thermolab-ensemble", &title)?;
    let started = unix_time();
    run.out.event(
        "start",
        json!({"command": "ensemble", "optimiser": optimiser, "members": members, "arch": arch.to_string(), "data": desc, "seed": s.common.seed}),
    );
    let mut prog = run.out.progress(settings.epochs as u64, "epochs");
    let pool = thermolab::workers::Workers::lend(s.threads);
    let result = {
        let mut ctx = RunContext::new()
            .with_stop(super::stop_on_ctrl_c())
            .with_observer(&mut prog);
        pool.install(|| sg_sample(&post, &init, &settings, &mut ctx))?
    };
    let positions: Vec<&[f64]> = result
        .chains
        .iter()
        .map(|c| c.position.as_slice())
        .collect();
    super::sgmcmc::write_energy(&mut run, &result, &arch, "member")?;
    let (ensemble_pred, ensemble) = test_metrics(&mut post, &positions, &test)?;
    // Each member alone.
    let mut member_rows = Vec::with_capacity(members);
    let mut member_metrics = Vec::with_capacity(members);
    let mut member_outputs = Vec::with_capacity(members);
    for (m, theta) in positions.iter().enumerate() {
        let (pred, metrics) = test_metrics(&mut post, &[*theta], &test)?;
        let g = |k: &str| metrics[k].as_f64().unwrap_or(f64::NAN);
        let norm = theta.iter().map(|v| v * v).sum::<f64>().sqrt();
        member_rows.push(if classes {
            vec![m as f64, g("accuracy"), g("nll"), g("ece"), norm]
        } else {
            vec![m as f64, g("rmse"), g("nll"), norm]
        });
        member_outputs.push(match pred {
            Predictive::Classes(p) => p,
            Predictive::Values { mean, .. } => mean,
        });
        member_metrics.push(metrics);
    }
    let header: &[&str] = if classes {
        &["member", "accuracy", "nll", "ece", "weight_norm"]
    } else {
        &["member", "rmse", "nll", "weight_norm"]
    };
    run.folder.write(
        "members.csv",
        csv_table(header, member_rows.iter().map(|r| &r[..])),
    )?;
    let weights: WeightSpread = weight_spread(&positions);
    let function = if classes {
        json!(function_spread(&member_outputs, arch.n_outputs()))
    } else {
        json!({"output_sd": output_spread(&member_outputs)})
    };
    // MultiSWAG: a Gaussian per member over its kept iterates, draws pooled.
    let swag = if a.swag_samples > 0 {
        let mut draws = Vec::with_capacity(members * a.swag_samples);
        for (m, chain) in result.chains.iter().enumerate() {
            let iterates: Vec<&[f64]> = chain.samples.iter().map(Vec::as_slice).collect();
            let Some(fit) = Swag::fit(&iterates, a.swag_rank) else {
                bail!(
                    "member {m} kept {} iterates after the burn-in: MultiSWAG needs at least 2 \
                     (lower --thin or --burn-in-epochs)",
                    iterates.len()
                );
            };
            let mut rng = stream(s.common.seed, Purpose::Swag, m as u64);
            draws.extend((0..a.swag_samples).map(|_| fit.draw(&mut rng)));
        }
        let views: Vec<&[f64]> = draws.iter().map(Vec::as_slice).collect();
        let (pred, metrics) = test_metrics(&mut post, &views, &test)?;
        Some((pred, metrics, draws.len()))
    } else {
        None
    };
    // λ̂ at each member: how many effective parameters it uses.
    let llc = if a.llc_draws > 0 {
        let loss = MeanLoss(post.clone().likelihood_only().without_augmentation());
        let mut out = Vec::with_capacity(members);
        for (m, theta) in positions.iter().enumerate() {
            let llc_settings = LlcSettings {
                batch_size: settings.batch_size,
                seed: stream(s.common.seed, Purpose::Llc, m as u64).random(),
                ..llc_template.clone()
            };
            let est = pool.install(|| local_learning_coefficient(&loss, theta, &llc_settings))?;
            out.push(est);
        }
        Some(out)
    } else {
        None
    };
    let shown = swag.as_ref().map_or(&ensemble_pred, |s| &s.0);
    super::predictive_plots::write(&mut run, shown, &test, &arch)?;
    let mut headline = headline(
        classes,
        &ensemble,
        &member_metrics,
        swag.as_ref().map(|s| &s.1),
    );
    if let Some(v) = &llc {
        let lambdas: Vec<String> = v
            .iter()
            .map(|e| format!("{} ± {}", fmt(e.lambda), fmt(e.se)))
            .collect();
        headline.push_str(&format!(
            "; λ̂ per member {} (of {} parameters)",
            lambdas.join(", "),
            arch.n_params()
        ));
    }
    run.headline(&format!(
        "{members} × {arch} by {optimiser}, {} epochs in {:.1} s: {headline}",
        result.epochs_run, result.seconds
    ));
    let divergences = result.divergences();
    let mut warnings = Vec::new();
    if divergences > 0 {
        warnings.push(format!(
            "{divergences} steps diverged (non-finite loss or gradient): lower --step-size"
        ));
    }
    // The full-batch energy at each member's start and end: training that did not lower it
    // went wrong.
    let mut rose = Vec::new();
    for (m, (start, chain)) in init.iter().zip(&result.chains).enumerate() {
        let before = thermolab::energy::eval(&mut post, start)?;
        let after = thermolab::energy::eval(&mut post, &chain.position)?;
        if after.is_nan() || after >= before {
            rose.push(m);
        }
    }
    if !rose.is_empty() && result.epochs_run > 1 {
        warnings.push(format!(
            "training did not lower the loss of members {rose:?} (the full-batch energy at the \
             end against the start): lower --step-size"
        ));
    }
    for (m, est) in llc.iter().flatten().enumerate() {
        for w in &est.warnings {
            warnings.push(format!("member {m}'s λ̂: {w}"));
        }
    }
    if weights.relative < 1e-6 {
        warnings.push("the members are (nearly) identical: their spread says nothing".into());
    }
    for w in &warnings {
        run.out.text(&format!("warning: {w}"));
    }
    if let Some(rep) = run.report.as_mut() {
        rep.heading("Members");
        let cells: Vec<Vec<String>> = member_rows
            .iter()
            .map(|r| r.iter().map(|v| fmt(*v)).collect())
            .collect();
        rep.table(header, &cells);
        for w in &warnings {
            rep.para(&format!("Warning: {w}."));
        }
    }
    let run_json: Value = json!({
        "command": "ensemble",
        "version": thermolab::VERSION,
        "seed": s.common.seed,
        "started_unix": started,
        "settings": {"optimiser": optimiser, "members": members, "arch": arch.to_string(), "init": scheme, "likelihood": lik, "prior_sd": s.model.prior_sd, "data": desc, "sg": settings, "swag_samples": a.swag_samples, "swag_rank": a.swag_rank, "llc": {"draws": a.llc_draws, "chains": a.llc_chains, "step_size": a.llc_step_size, "localization": a.llc_localization}, "threads": s.threads},
        "timings": {"seconds": result.seconds},
        "results": {
            "ensemble": ensemble,
            "members": member_metrics,
            "multiswag": swag.as_ref().map(|s| json!({"test": s.1, "draws": s.2})),
            "llc": llc.as_ref().map(|v| json!(v.iter().map(|e| json!({"lambda": e.lambda, "se": e.se, "per_chain": e.per_chain, "n_beta": e.n_beta, "loss_at_center": e.loss_at_center, "divergences": e.divergences})).collect::<Vec<_>>())),
            "weight_spread": weights,
            "function_spread": function,
            "epochs_run": result.epochs_run,
            "divergences": divergences,
            "warnings": warnings,
        },
        "termination": result.termination,
    });
    run.out.event("result", run_json["results"].clone());
    run.finish(&run_json)?;
    Ok(())
}

/// The headline's comparison: the ensemble (and MultiSWAG) against the mean member.
fn headline(classes: bool, ensemble: &Value, members: &[Value], swag: Option<&Value>) -> String {
    let mean = |k: &str| {
        members
            .iter()
            .map(|m| m[k].as_f64().unwrap_or(f64::NAN))
            .sum::<f64>()
            / members.len() as f64
    };
    let g = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let (first, label) = if classes {
        ("accuracy", "accuracy")
    } else {
        ("rmse", "RMSE")
    };
    let show = |v: f64| {
        if classes {
            format!("{:.2} %", 100.0 * v)
        } else {
            fmt(v)
        }
    };
    let mut text = format!(
        "ensemble test {label} {} (members {}), NLL {} ± {} (members {})",
        show(g(ensemble, first)),
        show(mean(first)),
        fmt(g(ensemble, "nll")),
        fmt(g(ensemble, "nll_se")),
        fmt(mean("nll")),
    );
    if let Some(s) = swag {
        text.push_str(&format!(
            "; MultiSWAG {label} {}, NLL {} ± {}",
            show(g(s, first)),
            fmt(g(s, "nll")),
            fmt(g(s, "nll_se"))
        ));
    }
    text
}
