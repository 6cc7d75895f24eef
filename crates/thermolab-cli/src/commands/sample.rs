//! `thermolab sample`: MCMC on a built-in target with adaptation, parallel chains, checkpoints
//! and resume, diagnostics, per-chain draw files, plots and the report.

use super::{checkpoint_path, fmt, unix_time, write_atomic, Run};
use crate::args::SampleArgs;
use crate::plots::LineChart;
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use thermolab::adapt::MetricKind;
use thermolab::data::{load_csv, sin_data, Columns, CsvSpec};
use thermolab::drivers::sample::{
    resume, sample, Checkpoint, InitPoint, SampleControl, SampleResult, SampleSettings,
};
use thermolab::estimate::diagnostics::{bfmi, summarize, ParamSummary};
use thermolab::estimate::histogram;
use thermolab::kernels::mcmc::SamplerKind;
use thermolab::nn::{Loss, MlpEnergy};
use thermolab::systems::posterior::{
    BayesianMlp, BuiltinTarget, Funnel, GaussianMixture, LogisticRegression,
};
use thermolab::systems::Ar1Gaussian;
use thermolab::trace::csv_table;

/// The CSV reading of `--data` with `--targets`.
fn csv_spec(a: &SampleArgs) -> CsvSpec {
    CsvSpec {
        targets: a
            .targets
            .as_ref()
            .map_or(Columns::Default, |t| Columns::Named(vec![t.clone()])),
        ..Default::default()
    }
}

/// The target, its parameter names and a description for run.json.
pub fn build_target(a: &SampleArgs) -> Result<(BuiltinTarget, Vec<String>, Value)> {
    let names = |d: usize, p: &str| (0..d).map(|i| format!("{p}{i}")).collect::<Vec<_>>();
    Ok(match a.target.as_str() {
        "gauss" => {
            if a.dim == 0 || a.rho.abs() >= 1.0 {
                bail!("--dim must be ≥ 1 and |--rho| < 1 for the gauss target");
            }
            (
                BuiltinTarget::Gaussian(Ar1Gaussian::new(a.dim, a.rho, 1.0)),
                names(a.dim, "x"),
                json!({"target": "gauss", "dim": a.dim, "rho": a.rho}),
            )
        }
        "funnel" | "funnel-nc" => {
            if a.dim < 2 {
                bail!("--dim: the funnel needs at least 2 dimensions");
            }
            let centred = a.target == "funnel";
            let mut n = vec!["v".to_string()];
            n.extend((1..a.dim).map(|i| format!("{}{i}", if centred { "x" } else { "z" })));
            (
                BuiltinTarget::Funnel(Funnel::new(a.dim, centred)),
                n,
                json!({"target": a.target, "dim": a.dim}),
            )
        }
        "mixture" => {
            if a.dim == 0 || !(a.separation.is_finite() && a.separation >= 0.0) {
                bail!("--dim must be ≥ 1 and --separation ≥ 0");
            }
            (
                BuiltinTarget::Mixture(GaussianMixture::two_modes(a.dim, a.separation)),
                names(a.dim, "x"),
                json!({"target": "mixture", "dim": a.dim, "separation": a.separation, "weights": [0.3, 0.7]}),
            )
        }
        "logreg" => {
            let t = match &a.data {
                None => LogisticRegression::breast_cancer(),
                Some(f) => {
                    let spec = csv_spec(a);
                    LogisticRegression::from_csv(Path::new(f), &spec, a.prior_sd)
                        .map_err(|e| anyhow!("{e}"))?
                }
            };
            let t = if a.f64 { t.double_precision() } else { t };
            let single = t.single_precision();
            let d = thermolab::energy::Energy::dim(&t);
            let mut n = names(d - 1, "w");
            n.push("bias".into());
            (
                BuiltinTarget::Logistic(t),
                n,
                json!({"target": "logreg", "data": a.data.clone().unwrap_or("breast_cancer (built in)".into()), "prior_sd": a.prior_sd, "precision": precision(single)}),
            )
        }
        "bnn" => {
            let data = match a.data.as_deref() {
                None | Some("sin") => sin_data(200, 0.1, 0),
                Some(f) => {
                    let spec = csv_spec(a);
                    load_csv(Path::new(f), &spec)?
                }
            };
            let net = MlpEnergy::new(a.arch.parse()?, Arc::new(data), Loss::Mse)?;
            let d = thermolab::energy::Energy::dim(&net);
            let t = BayesianMlp::new(net, a.noise_sd, a.prior_sd).map_err(|e| anyhow!("{e}"))?;
            let t = if a.f64 { t.double_precision() } else { t };
            let single = t.single_precision();
            (
                BuiltinTarget::Network(Box::new(t)),
                names(d, "theta"),
                json!({"target": "bnn", "arch": a.arch, "noise_sd": a.noise_sd, "prior_sd": a.prior_sd, "data": a.data.clone().unwrap_or("sin".into()), "precision": precision(single)}),
            )
        }
        t => {
            bail!("--target: unknown target `{t}` (gauss, funnel, funnel-nc, mixture, logreg, bnn)")
        }
    })
}

/// The precision of a logreg / bnn kernel, for `run.json`.
fn precision(single: bool) -> &'static str {
    if single {
        "f32 data and kernel, f64 sums"
    } else {
        "f64"
    }
}

/// `thermolab sample`.
pub fn run(a: SampleArgs) -> Result<()> {
    let out_dir = a
        .common
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("thermolab-sample"));
    let cp_path = checkpoint_path(&out_dir);
    let (target, names, target_desc) = build_target(&a)?;
    let dim = names.len();
    let kind = match a.sampler.as_str() {
        "nuts" => SamplerKind::Nuts {
            max_depth: a.max_depth,
        },
        "hmc" => SamplerKind::Hmc { steps: a.steps },
        "mala" => SamplerKind::Mala,
        "rwm" => SamplerKind::Rwm,
        s => bail!("--sampler: unknown sampler `{s}` (nuts, hmc, mala, rwm)"),
    };
    let metric = MetricKind::parse(&a.metric).ok_or_else(|| {
        anyhow!(
            "--metric: unknown metric `{}` (diag, dense, identity)",
            a.metric
        )
    })?;
    let settings = SampleSettings {
        chains: a.chains,
        warmup: a.warmup,
        draws: a.draws,
        thin: a.thin,
        sampler: kind,
        metric,
        target_accept: a.target_accept,
        beta: a.beta,
        init: InitPoint::Jitter {
            radius: a.init_radius,
        },
        threads: a.threads,
        checkpoint_every: a.checkpoint_every,
    }
    .validate(dim)?;
    // A resumed run must continue the same target with the same settings.
    let resumed: Option<Checkpoint> = if a.resume {
        let text = std::fs::read_to_string(&cp_path)
            .with_context(|| format!("--resume: no checkpoint at {}", cp_path.display()))?;
        let v: Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a thermolab checkpoint", cp_path.display()))?;
        if v["target"] != target_desc {
            bail!(
                "--resume: the checkpoint is for target {} but this command describes {}",
                v["target"],
                target_desc
            );
        }
        let cp: Checkpoint = serde_json::from_value(v["checkpoint"].clone())
            .with_context(|| format!("{}: not a thermolab checkpoint", cp_path.display()))?;
        if cp.chains.iter().any(|c| c.draws.len() % dim != 0)
            || cp.chains.len() != cp.settings.chains
        {
            bail!(
                "{}: the checkpoint does not match this target",
                cp_path.display()
            );
        }
        Some(cp)
    } else {
        None
    };
    let mut run = Run::start(
        &a.common,
        "thermolab-sample",
        &format!("thermolab sample: {}", a.target),
    )?;
    let started = unix_time();
    let seed = resumed.as_ref().map_or(a.common.seed, |c| c.seed);
    run.out.event("start", json!({"command": "sample", "target": target_desc, "sampler": kind.name(), "chains": a.chains, "seed": seed, "resumed": a.resume}));
    let stop = Arc::new(AtomicBool::new(false));
    {
        let s = stop.clone();
        let _ = ctrlc::set_handler(move || s.store(true, Ordering::Relaxed));
    }
    let total = (settings.get().warmup + settings.get().draws * settings.get().thin) as u64
        * settings.get().chains as u64;
    let prog = Mutex::new(run.out.progress(total, "sample"));
    let on_progress = |n: u64| {
        if let Ok(mut p) = prog.lock() {
            p.set(n);
        }
    };
    let cp_error = Mutex::new(None);
    let target_json = target_desc.clone();
    let save = |cp: &Checkpoint| {
        if cp.finished() {
            return;
        }
        let doc = json!({"target": target_json, "checkpoint": cp});
        if let Err(e) = write_atomic(&cp_path, &doc.to_string()) {
            *cp_error.lock().expect("lock") = Some(format!(
                "cannot write checkpoint {}: {e}",
                cp_path.display()
            ));
        }
    };
    let control = SampleControl {
        stop: Some(&stop),
        checkpoint: Some(&save),
        progress: Some(&on_progress),
    };
    let t0 = Instant::now();
    let result = match resumed {
        Some(cp) => resume(&target, cp, control)?,
        None => sample(&target, &settings, seed, control)?,
    };
    let seconds = t0.elapsed().as_secs_f64();
    if let Ok(mut p) = prog.lock() {
        p.finish();
    }
    if let Some(e) = cp_error.lock().expect("lock").take() {
        bail!(e);
    }
    let interrupted = result.termination == thermolab::observe::Termination::Interrupted;
    let summary = write_outputs(&mut run, &result, &names, dim, &target, &a)?;
    let run_json = json!({
        "command": "sample",
        "version": thermolab::VERSION,
        "seed": seed,
        "started_unix": started,
        "settings": {"target": target_desc, "sampler": settings.get()},
        "timings": {"seconds": seconds,
                    "warmup_seconds": result.chains.iter().map(|c| c.seconds[0]).sum::<f64>(),
                    "sampling_seconds": result.chains.iter().map(|c| c.seconds[1]).sum::<f64>()},
        "results": summary,
        "termination": result.termination,
    });
    let out = run.out;
    run.finish(&run_json)?;
    if interrupted {
        out.text(&format!(
            "interrupted: the checkpoint {} continues the run with --resume",
            cp_path.display()
        ));
    } else {
        let _ = std::fs::remove_file(&cp_path);
    }
    Ok(())
}

fn write_outputs(
    run: &mut Run,
    r: &SampleResult,
    names: &[String],
    dim: usize,
    target: &BuiltinTarget,
    a: &SampleArgs,
) -> Result<Value> {
    let beta = a.beta;
    // Per-chain draw files: parameters, then sampler statistics (CmdStan-style names).
    let mut header: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    header.extend([
        "lp__",
        "accept_stat__",
        "step_size__",
        "tree_depth__",
        "n_leapfrog__",
        "divergent__",
        "energy__",
    ]);
    for c in &r.chains {
        let rows: Vec<Vec<f64>> = c
            .stats
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let mut v = c.draws[k * dim..(k + 1) * dim].to_vec();
                v.extend([
                    -beta * s.energy,
                    s.accept_stat,
                    s.step_size,
                    f64::from(s.tree_depth),
                    f64::from(s.n_evals),
                    f64::from(u8::from(s.divergent)),
                    s.hamiltonian,
                ]);
                v
            })
            .collect();
        run.folder.write(
            &format!("draws/chain_{}.csv", c.id),
            csv_table(&header, rows.iter().map(|r| &r[..])),
        )?;
    }
    let params: Vec<ParamSummary> = (0..dim)
        .map(|j| {
            let p = r.parameter(j, dim);
            let refs: Vec<&[f64]> = p.iter().map(|c| c.as_slice()).collect();
            summarize(&names[j], &refs)
        })
        .collect();
    let srows: Vec<Vec<f64>> = params
        .iter()
        .map(|p| {
            vec![
                p.mean,
                p.sd,
                p.q05,
                p.q50,
                p.q95,
                p.mcse_mean,
                p.mcse_sd,
                p.mcse_q05,
                p.mcse_q50,
                p.mcse_q95,
                p.ess_bulk,
                p.ess_tail,
                p.r_hat,
            ]
        })
        .collect();
    let mut sum_csv = String::from("name,mean,sd,q5,q50,q95,mcse_mean,mcse_sd,mcse_q5,mcse_q50,mcse_q95,ess_bulk,ess_tail,r_hat\n");
    for (p, row) in params.iter().zip(&srows) {
        sum_csv.push_str(&p.name);
        for v in row {
            sum_csv.push(',');
            sum_csv.push_str(&thermolab::trace::format_number(*v));
        }
        sum_csv.push('\n');
    }
    run.folder.write("summary.csv", sum_csv)?;
    let divergences: u64 = r
        .chains
        .iter()
        .map(|c| c.stats.iter().filter(|s| s.divergent).count() as u64)
        .sum();
    let evals_w: u64 = r.chains.iter().map(|c| c.evals_warmup).sum();
    let evals_s: u64 = r.chains.iter().map(|c| c.evals_sampling).sum();
    let ebfmi: Vec<f64> = r
        .chains
        .iter()
        .map(|c| bfmi(&c.stats.iter().map(|s| s.hamiltonian).collect::<Vec<_>>()))
        .collect();
    let min_ess = params
        .iter()
        .map(|p| p.ess_bulk)
        .fold(f64::INFINITY, f64::min);
    let max_rhat = params
        .iter()
        .map(|p| p.r_hat)
        .fold(f64::NEG_INFINITY, f64::max);
    let secs: f64 = r.chains.iter().map(|c| c.seconds[0] + c.seconds[1]).sum();
    // Screen: the first parameters and the worst ones.
    run.out.text(&format!(
        "{:<10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>6}",
        "param", "mean", "sd", "q5", "q50", "q95", "mcse", "ess_bulk", "ess_tail", "r_hat"
    ));
    let mut shown: Vec<usize> = (0..dim.min(12)).collect();
    if let Some(w) = (0..dim).min_by(|&x, &y| params[x].ess_bulk.total_cmp(&params[y].ess_bulk)) {
        if !shown.contains(&w) {
            shown.push(w);
        }
    }
    for &j in &shown {
        let p = &params[j];
        run.out.text(&format!(
            "{:<10} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.5} {:>8.0} {:>8.0} {:>6.3}",
            p.name, p.mean, p.sd, p.q05, p.q50, p.q95, p.mcse_mean, p.ess_bulk, p.ess_tail, p.r_hat
        ));
    }
    if dim > shown.len() {
        run.out
            .text(&format!("… {} parameters in all (summary.csv)", dim));
    }
    run.out.text(&format!(
        "min bulk ESS {min_ess:.0}, max R̂ {max_rhat:.4}, {divergences} divergences, E-BFMI {}, {evals_w} + {evals_s} gradient evaluations, {:.0} ESS/s (chain-seconds)",
        ebfmi.iter().map(|v| format!("{v:.2}")).collect::<Vec<_>>().join("/"), min_ess / secs.max(1e-12)
    ));
    plots(run, r, &params, dim, target, a)?;
    if let Some(rep) = run.report.as_mut() {
        rep.heading("Summary");
        let rows: Vec<Vec<String>> = shown
            .iter()
            .map(|&j| {
                let p = &params[j];
                vec![
                    p.name.clone(),
                    fmt(p.mean),
                    fmt(p.sd),
                    fmt(p.q05),
                    fmt(p.q50),
                    fmt(p.q95),
                    fmt(p.mcse_mean),
                    format!("{:.0}", p.ess_bulk),
                    format!("{:.0}", p.ess_tail),
                    format!("{:.4}", p.r_hat),
                ]
            })
            .collect();
        rep.table(
            &[
                "param", "mean", "sd", "q5", "q50", "q95", "MCSE", "ESS bulk", "ESS tail", "R̂",
            ],
            &rows,
        );
        rep.para(&format!("min bulk ESS {min_ess:.0}; max R̂ {max_rhat:.4}; {divergences} divergences; E-BFMI per chain {ebfmi:?}."));
    }
    Ok(json!({
        "parameters": params,
        "min_ess_bulk": min_ess,
        "min_ess_tail": params.iter().map(|p| p.ess_tail).fold(f64::INFINITY, f64::min),
        "max_r_hat": max_rhat,
        "divergences": divergences,
        "divergences_warmup": r.chains.iter().map(|c| c.divergences_warmup).sum::<u64>(),
        "e_bfmi": ebfmi,
        "gradient_evaluations": {"warmup": evals_w, "sampling": evals_s},
        "ess_per_gradient": min_ess / (evals_w + evals_s).max(1) as f64,
        "chain_seconds": secs,
        "step_sizes": r.chains.iter().map(|c| c.sampler.step_size).collect::<Vec<_>>(),
        "acceptance": r.chains.iter().map(|c| c.stats.iter().map(|s| s.accept_stat).sum::<f64>() / c.stats.len().max(1) as f64).collect::<Vec<_>>(),
    }))
}

fn plots(
    run: &mut Run,
    r: &SampleResult,
    params: &[ParamSummary],
    dim: usize,
    target: &BuiltinTarget,
    a: &SampleArgs,
) -> Result<()> {
    if run.report.is_none() {
        return Ok(());
    }
    for (j, param) in params.iter().enumerate().take(dim.min(3)) {
        let per = r.parameter(j, dim);
        let lines: Vec<(String, Vec<(f64, f64)>)> = per
            .iter()
            .enumerate()
            .map(|(c, v)| {
                (
                    format!("chain {c}"),
                    v.iter().enumerate().map(|(i, x)| (i as f64, *x)).collect(),
                )
            })
            .collect();
        let chart = LineChart {
            title: format!("Trace of {}", param.name),
            x_label: "draw".into(),
            y_label: param.name.clone(),
            lines,
            points: vec![],
            errors: vec![],
            log_y: false,
        };
        run.plot(
            &chart,
            &format!("trace_{}", param.name),
            "Draws of each chain (they should overlap)",
        )?;
        // Rank plot: histogram of each chain's ranks among all draws.
        let all: Vec<f64> = per.iter().flatten().copied().collect();
        let mut sorted = all.clone();
        sorted.sort_by(|x, y| x.total_cmp(y));
        let bins = 20;
        let lines = per
            .iter()
            .enumerate()
            .map(|(c, v)| {
                let ranks: Vec<f64> = v
                    .iter()
                    .map(|x| sorted.partition_point(|y| y < x) as f64)
                    .collect();
                let h = histogram(
                    &ranks
                        .iter()
                        .copied()
                        .chain([0.0, all.len() as f64])
                        .collect::<Vec<_>>(),
                    bins,
                );
                (
                    format!("chain {c}"),
                    h.counts
                        .iter()
                        .enumerate()
                        .map(|(i, n)| (i as f64, *n as f64))
                        .collect(),
                )
            })
            .collect();
        let chart = LineChart {
            title: format!("Rank plot of {}", param.name),
            x_label: "rank bin".into(),
            y_label: "count".into(),
            lines,
            points: vec![],
            errors: vec![],
            log_y: false,
        };
        run.plot(
            &chart,
            &format!("rank_{}", param.name),
            "Ranks per chain: flat and alike when the chains mix",
        )?;
    }
    // Energy: marginal distribution of H (centred) against its transitions (E-BFMI).
    let mut e = Vec::new();
    let mut de = Vec::new();
    for c in &r.chains {
        let h: Vec<f64> = c.stats.iter().map(|s| s.hamiltonian).collect();
        let m = h.iter().sum::<f64>() / h.len().max(1) as f64;
        e.extend(h.iter().map(|v| v - m));
        de.extend(h.windows(2).map(|w| w[1] - w[0]));
    }
    if !e.is_empty() {
        let lo = e.iter().chain(&de).fold(f64::INFINITY, |x, y| x.min(*y));
        let hi = e
            .iter()
            .chain(&de)
            .fold(f64::NEG_INFINITY, |x, y| x.max(*y));
        let hist = |v: &[f64]| {
            let h = histogram(&v.iter().copied().chain([lo, hi]).collect::<Vec<_>>(), 40);
            h.counts
                .iter()
                .enumerate()
                .map(|(i, n)| (0.5 * (h.edges[i] + h.edges[i + 1]), *n as f64))
                .collect::<Vec<_>>()
        };
        let chart = LineChart {
            title: "Energy: marginal vs transitions".into(),
            x_label: "H − mean H".into(),
            y_label: "count".into(),
            lines: vec![
                ("marginal energy".into(), hist(&e)),
                ("energy transition".into(), hist(&de)),
            ],
            points: vec![],
            errors: vec![],
            log_y: false,
        };
        run.plot(&chart, "energy", "When the transition histogram is much narrower than the marginal, momentum resampling explores poorly (low E-BFMI)")?;
    }
    // Posterior predictive band of a 1-input network.
    if let BuiltinTarget::Network(b) = target {
        let mut b = b.clone();
        let net = b.network();
        let data = net.data().clone();
        if data.n_inputs == 1 && data.n_targets == 1 {
            let (lo, hi) = data
                .x
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(p, q), &v| {
                    (p.min(v), q.max(v))
                });
            let xs: Vec<f64> = (0..200)
                .map(|i| lo + (hi - lo) * i as f64 / 199.0)
                .collect();
            let mut preds: Vec<Vec<f64>> = Vec::new();
            for c in &r.chains {
                for k in (0..c.stats.len()).step_by((c.stats.len() / 100).max(1)) {
                    preds.push(net.predict(&c.draws[k * dim..(k + 1) * dim], &xs));
                }
            }
            let q = |p: f64| -> Vec<(f64, f64)> {
                xs.iter()
                    .enumerate()
                    .map(|(i, x)| {
                        let col: Vec<f64> = preds.iter().map(|v| v[i]).collect();
                        (*x, thermolab::estimate::diagnostics::quantile(&col, p))
                    })
                    .collect()
            };
            let chart = LineChart {
                title: format!("Posterior predictive of {}", a.arch),
                x_label: "x".into(),
                y_label: "f(x)".into(),
                lines: vec![
                    ("median".into(), q(0.5)),
                    ("5 %".into(), q(0.05)),
                    ("95 %".into(), q(0.95)),
                ],
                points: vec![(
                    "data".into(),
                    data.x.iter().copied().zip(data.y.iter().copied()).collect(),
                )],
                errors: vec![],
                log_y: false,
            };
            run.plot(
                &chart,
                "posterior_predictive",
                "Median and 90 % band of the network function over the posterior draws",
            )?;
        }
    }
    Ok(())
}
