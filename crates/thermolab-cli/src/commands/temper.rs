//! `thermolab temper`: parallel tempering of a built-in target (non-reversible swaps, adapted
//! ladder) through the library's one replica-exchange engine, with the draws at β = 1, swap
//! statistics, the communication barrier and, for mixtures, the recovered mode weights.

use super::{fmt, unix_time, Run};
use crate::args::TemperArgs;
use crate::plots::LineChart;
use anyhow::{bail, Result};
use serde_json::json;
use thermolab::drivers::tempering::{temper_chains, PathReplicas, TemperingSettings};
use thermolab::energy::BoltzmannPath;
use thermolab::estimate::diagnostics::summarize;
use thermolab::estimate::series::mean_by_blocks;
use thermolab::kernels::mcmc::SamplerKind;
use thermolab::run::RunContext;
use thermolab::systems::posterior::BuiltinTarget;
use thermolab::trace::csv_table;

/// `thermolab temper`.
pub fn run(a: TemperArgs) -> Result<()> {
    crate::limits::threads(a.threads)?;
    // Per chain: the draws at t = 1 and every rung's ΔE of every kept round; per replica its
    // working vectors.
    let (d, r) = (a.model.dim as f64, a.replicas as f64);
    crate::limits::memory(
        &format!(
            "--dim {} with --replicas {} --rounds {}",
            a.model.dim, a.replicas, a.rounds
        ),
        crate::limits::f64s(a.chains as f64 * a.rounds as f64 * (2.0 * d + r) + r * d * 40.0),
    )?;
    let spec = super::sample::target_spec(&a.target, &a.model)?;
    let built = spec.build()?;
    let (target, names) = (built.energy, built.names);
    let desc = serde_json::to_value(&spec)?;
    let kind = SamplerKind::from_name(&a.sampler, 10, 8)?;
    if a.replicas < 2 {
        bail!("--replicas: tempering needs at least 2 replicas");
    }
    if !(a.beta_min > 0.0 && a.beta_min < 1.0) {
        bail!("--beta-min: must lie in (0, 1), got {}", a.beta_min);
    }
    if a.chains == 0 {
        bail!("--chains: must be at least 1");
    }
    let n = a.replicas;
    let ladder: Vec<f64> = (0..n)
        .map(|k| a.beta_min.powf(1.0 - k as f64 / (n - 1) as f64))
        .collect();
    let settings = TemperingSettings {
        ladder,
        warmup: a.warmup,
        rounds: a.rounds,
        adapt_ladder: !a.fixed_ladder,
        threads: a.threads,
        ..Default::default()
    }
    .validate()?;
    let dim = names.len();
    let mut run = Run::start(
        &a.common,
        "thermolab-temper",
        &format!("thermolab temper: {}", a.target),
    )?;
    let started = unix_time();
    run.out.event(
        "start",
        json!({"command": "temper", "target": desc, "replicas": n, "chains": a.chains}),
    );
    let x0 = vec![
        if matches!(target, BuiltinTarget::Mixture(_)) {
            -a.model.separation / 2.0
        } else {
            0.0
        };
        dim
    ];
    let replicas = PathReplicas {
        path: BoltzmannPath(target.clone()),
        kernel: kind.build(dim, 0.5),
        x0,
        target_accept: None,
    };
    let total = (a.chains * (a.warmup + a.rounds)) as u64;
    let mut ctx = RunContext::new()
        .with_stop(super::stop_on_ctrl_c())
        .with_observer(run.out.progress(total, "temper"));
    let results = temper_chains(&replicas, &settings, a.chains, a.common.seed, &mut ctx)?;
    ctx.into_observer().finish();
    for (c, r) in results.iter().enumerate() {
        let rows: Vec<&[f64]> = r.draws.chunks_exact(dim).collect();
        run.folder.write(
            &format!("draws/chain_{c}.csv"),
            csv_table(&names.iter().map(|s| s.as_str()).collect::<Vec<_>>(), rows),
        )?;
    }
    // The first chain that did not finish says why the run ended.
    let termination = results
        .iter()
        .map(|r| r.run.termination)
        .find(|t| *t != thermolab::run::Termination::Finished)
        .unwrap_or(if results.is_empty() {
            thermolab::run::Termination::Interrupted
        } else {
            thermolab::run::Termination::Finished
        });
    let per_param: Vec<_> = (0..dim)
        .map(|j| {
            let chains: Vec<Vec<f64>> = results
                .iter()
                .map(|r| r.draws.iter().skip(j).step_by(dim).copied().collect())
                .collect();
            let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
            summarize(&names[j], &refs)
        })
        .collect();
    let mut weights = None;
    if let BuiltinTarget::Mixture(m) = &target {
        let k = m.weights().len();
        let est: Vec<_> = (0..k)
            .map(|comp| {
                let ind: Vec<f64> = results
                    .iter()
                    .flat_map(|r| {
                        r.draws
                            .chunks_exact(dim)
                            .map(move |x| f64::from(u8::from(m.nearest(x) == comp)))
                    })
                    .collect();
                mean_by_blocks(&ind, 40)
            })
            .collect();
        for (comp, e) in est.iter().enumerate() {
            run.out.text(&format!(
                "mode {comp}: weight {} ± {} (exact {})",
                fmt(e.value),
                fmt(e.se),
                m.weights()[comp]
            ));
        }
        if let Some(rep) = run.report.as_mut() {
            rep.headline(&format!(
                "Mode weights {} (exact {}), from {} tempered chain(s)",
                est.iter()
                    .map(|e| format!("{} ± {}", fmt(e.value), fmt(e.se)))
                    .collect::<Vec<_>>()
                    .join(" and "),
                m.weights()
                    .iter()
                    .map(|w| format!("{w}"))
                    .collect::<Vec<_>>()
                    .join(" and "),
                results.len()
            ));
        }
        weights = Some(json!(est
            .iter()
            .zip(m.weights())
            .map(|(e, w)| json!({"estimate": e, "exact": w}))
            .collect::<Vec<_>>()));
    }
    for (c, r) in results.iter().enumerate() {
        let r = &r.run;
        run.out.text(&format!(
            "chain {c}: barrier Λ = {:.2} (advised replicas {}), {} round trips, swap rejection per pair {}",
            r.barrier, r.advised_replicas, r.round_trips,
            r.rejection.iter().map(|v| format!("{v:.2}")).collect::<Vec<_>>().join(" ")
        ));
    }
    if let Some(rep) = run.report.as_mut() {
        rep.settings(&[
            ("target", format!("{} ({dim} parameters)", a.target)),
            ("replicas, kernel", format!("{n}, {}", a.sampler)),
            ("chains", a.chains.to_string()),
            (
                "warm-up / kept rounds",
                format!("{} / {}", a.warmup, a.rounds),
            ),
            (
                "ladder",
                if a.fixed_ladder {
                    "fixed".into()
                } else {
                    "re-spaced during warm-up".to_string()
                },
            ),
            ("seed", a.common.seed.to_string()),
        ]);
        rep.heading("Replica exchange");
        let rows: Vec<Vec<String>> = results
            .iter()
            .enumerate()
            .map(|(c, r)| {
                let r = &r.run;
                vec![
                    c.to_string(),
                    r.round_trips.to_string(),
                    format!("{:.2}", r.barrier),
                    r.advised_replicas.to_string(),
                    r.termination.as_str().into(),
                ]
            })
            .collect();
        rep.table(
            &[
                "chain",
                "round trips",
                "barrier Λ",
                "advised replicas",
                "termination",
            ],
            &rows,
        );
    }
    if let Some(rd) = results.first() {
        let r = &rd.run;
        let mut cum = vec![(r.ladder[0], 0.0)];
        for (k, rej) in r.rejection.iter().enumerate() {
            let last = cum.last().expect("non-empty").1;
            cum.push((r.ladder[k + 1], last + rej));
        }
        let chart = LineChart {
            title: "Communication barrier Λ(β)".into(),
            x_label: "β".into(),
            y_label: "cumulative swap rejection".into(),
            lines: vec![("Λ(β)".into(), cum)],
            points: vec![],
            errors: vec![],
            log_y: false,
            ..Default::default()
        };
        run.plot(&chart, "barrier", "The cumulative rejection along the ladder; an evenly rising curve means the replicas are well spaced")?;
        // At most 2000 points: thinner traces read as lines, not as a solid block.
        let kept = rd.draws.len() / dim.max(1);
        let every = kept.div_ceil(2000).max(1);
        let trace: Vec<(f64, f64)> = rd
            .draws
            .iter()
            .step_by(dim)
            .enumerate()
            .step_by(every)
            .map(|(i, v)| (i as f64, *v))
            .collect();
        let chart = LineChart {
            title: format!("Trace of {} at β = 1", names[0]),
            x_label: "round".into(),
            y_label: names[0].clone(),
            lines: vec![("chain 0".into(), trace)],
            points: vec![],
            errors: vec![],
            log_y: false,
            integer_x: true,
            ..Default::default()
        };
        run.plot(
            &chart,
            "trace",
            "The cold replica moves between modes through swaps (every n-th round shown, at most 2000 points)",
        )?;
    }
    run.out.event(
        "result",
        json!({"mixture_weights": weights, "round_trips": results.iter().map(|r| r.run.round_trips).collect::<Vec<_>>(),
            "barrier": results.iter().map(|r| r.run.barrier).collect::<Vec<_>>()}),
    );
    let run_json = json!({
        "command": "temper",
        "version": thermolab::VERSION,
        "seed": a.common.seed,
        "started_unix": started,
        "settings": {"target": desc, "kernel": kind, "tempering": settings.get(), "chains": a.chains},
        "results": {
            "parameters": per_param,
            "mixture_weights": weights,
            "chains": results.iter().map(|r| { let r = &r.run; json!({"ladder": r.ladder, "rejection": r.rejection, "barrier": r.barrier,
                "advised_replicas": r.advised_replicas, "round_trips": r.round_trips, "evaluations": r.evaluations, "termination": r.termination}) }).collect::<Vec<_>>(),
        },
        "termination": termination,
    });
    run.finish(&run_json)?;
    Ok(())
}
