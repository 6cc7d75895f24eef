//! `thermolab sample`: MCMC on a built-in target with adaptation, parallel chains, draw files
//! streamed as the chains run, checkpoints and resume, diagnostics, plots and the report.

use super::{checkpoint_path, fmt, unix_time, Run};
use crate::args::{SampleArgs, TargetArgs};
use crate::output::Progress;
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Instant;
use thermolab::adapt::MetricKind;
use thermolab::drivers::sample::{
    resume, sample, Checkpoint, InitPoint, SampleEvent, SampleResult, SampleSettings,
};
use thermolab::estimate::diagnostics::{bfmi, summarize, ParamSummary, MIN_DRAWS};
use thermolab::kernels::mcmc::{McmcKernel, SamplerKind};
use thermolab::run::{Control, Observer, RunContext, StopFlag, Termination};
use thermolab::systems::posterior::BuiltinTarget;
use thermolab::targets::{TargetParams, TargetSpec};
use thermolab::trace::{load_checkpoint, save_checkpoint, summary_csv, DrawWriter};
use thermolab_report::sample::{figures, SampleDraws};

/// The spec of target `name` with the shared target options `m` (`sample` and `temper`).
pub fn target_spec(name: &str, m: &TargetArgs) -> Result<TargetSpec> {
    let data = match m.data.as_deref() {
        None | Some("sin") if name == "bnn" => None,
        None => None,
        Some(f) => Some(PathBuf::from(f)),
    };
    let p = TargetParams {
        dim: m.dim,
        rho: m.rho,
        separation: m.separation,
        data,
        target_column: m.target_column.clone(),
        prior_sd: m.prior_sd,
        noise_sd: m.noise_sd,
        arch: m.arch.clone(),
        f64: m.f64,
    };
    Ok(TargetSpec::from_name(name, &p)?)
}

/// Refuses sizes the machine cannot hold, before anything is built: the draws kept in memory
/// (by the chains and when read back) and each chain's working vectors and metric.
fn check_sizes(a: &SampleArgs) -> Result<()> {
    crate::limits::threads(a.threads)?;
    let dim = match a.target.as_str() {
        "gauss" | "funnel" | "funnel-nc" | "mixture" => a.model.dim as f64,
        "bnn" => a
            .model
            .arch
            .parse::<thermolab::nn::Architecture>()
            .map_or(0.0, |arch| arch.n_params() as f64),
        _ => 0.0,
    };
    let per_chain = dim * (3.0 * (a.draws / a.thin.unwrap_or(1).max(1)) as f64 + 40.0)
        + if a.metric == "dense" {
            4.0 * dim * dim
        } else {
            0.0
        };
    crate::limits::memory(
        &format!(
            "--dim {} with --chains {} --draws {}",
            a.model.dim, a.chains, a.draws
        ),
        crate::limits::f64s(a.chains as f64 * per_chain),
    )
}

/// The folder beside `out` where the draw files grow while the run goes on.
fn draws_dir(out: &Path) -> PathBuf {
    let mut p = checkpoint_path(out).into_os_string();
    p.push(".draws");
    PathBuf::from(p)
}

/// Streams the draws to their files, writes checkpoints and moves the progress bar.
struct Streamer {
    writers: Vec<DrawWriter>,
    written: Vec<usize>,
    beta: f64,
    checkpoint: PathBuf,
    every: usize,
    last: usize,
    target: Value,
    stop: StopFlag,
    progress: Progress,
    chains: u64,
    warmup: usize,
    error: Option<thermolab::Error>,
}

impl Streamer {
    fn handle(&mut self, ev: &SampleEvent<'_, McmcKernel>) -> Result<(), thermolab::Error> {
        for ((c, w), n) in ev
            .chains
            .iter()
            .zip(&mut self.writers)
            .zip(&mut self.written)
        {
            let dim = c.position().len();
            w.append(&c.draws[*n * dim..], &c.stats[*n..], self.beta)?;
            *n = c.stats.len();
        }
        let unfinished = ev.chains.iter().any(|c| c.iteration < ev.total);
        let due = self.every > 0 && ev.iteration >= self.last + self.every;
        if unfinished && (due || self.stop.is_raised()) {
            save_checkpoint(&self.checkpoint, "sample", &self.target, &ev.checkpoint)?;
            self.last = ev.iteration;
        }
        let phase = if ev.iteration <= self.warmup {
            "warmup"
        } else {
            "sampling"
        };
        self.progress
            .set_phase(phase, ev.iteration as u64 * self.chains);
        Ok(())
    }
}

impl<'a> Observer<SampleEvent<'a, McmcKernel>> for Streamer {
    fn on_step(&mut self, ev: &SampleEvent<'a, McmcKernel>) -> Control {
        match self.handle(ev) {
            Ok(()) => Control::Continue,
            Err(e) => {
                self.error = Some(e);
                Control::Stop
            }
        }
    }
    fn on_finish(&mut self, _t: Termination) {
        self.progress.finish();
    }
}

/// Every chain's draws and sampler columns, read back from its draw file (the whole run,
/// including the part before a resume).
type AllDraws = SampleDraws;

fn read_back(files: &[PathBuf], dim: usize) -> Result<AllDraws> {
    let mut all = AllDraws::default();
    for f in files {
        let rows = thermolab::trace::read_draws(f, dim + 7)?;
        let mut d = Vec::with_capacity(rows.len() / (dim + 7) * dim);
        let mut st = Vec::with_capacity(rows.len() / (dim + 7));
        for r in rows.chunks_exact(dim + 7) {
            d.extend_from_slice(&r[..dim]);
            let mut s = [0.0; 7];
            s.copy_from_slice(&r[dim..]);
            st.push(s);
        }
        all.draws.push(d);
        all.stats.push(st);
    }
    Ok(all)
}

/// `thermolab sample`.
pub fn run(a: SampleArgs) -> Result<()> {
    if super::sgmcmc::is_stochastic_gradient(&a.sampler) {
        return super::sgmcmc::run(a);
    }
    check_sizes(&a)?;
    let spec = target_spec(&a.target, &a.model)?;
    let target = spec.build()?;
    let names = target.names.clone();
    let dim = names.len();
    let mut target_desc = serde_json::to_value(&spec)?;
    target_desc["precision"] = json!(target.precision);
    let kind = SamplerKind::from_name(&a.sampler, a.steps, a.max_depth)?;
    let metric = MetricKind::parse(&a.metric).ok_or_else(|| {
        anyhow!(
            "--metric: unknown metric `{}` (diag, dense, identity)",
            a.metric
        )
    })?;
    let every = if a.checkpoint_every == 0 {
        0
    } else {
        a.checkpoint_every
    };
    let settings = SampleSettings {
        chains: a.chains,
        warmup: a.warmup,
        draws: a.draws,
        thin: a.thin.unwrap_or(1),
        sampler: kind,
        metric,
        target_accept: a.target_accept,
        beta: a.beta,
        init: InitPoint::Jitter {
            radius: a.init_radius,
        },
        threads: a.threads,
        report_every: 0,
        first_chain: 0,
    };
    let settings = SampleSettings {
        report_every: if every > 0 {
            every.min(((a.warmup + a.draws * a.thin.unwrap_or(1)) / 100).max(1))
        } else {
            0
        },
        ..settings
    }
    .validate(dim)?;
    // The run folder (and its lock) before the checkpoint is read or any work done.
    let title = format!("thermolab sample: {}", a.target);
    let mut run = if a.resume {
        Run::resume(&a.common, "thermolab-sample", &title)?
    } else {
        Run::start(&a.common, "thermolab-sample", &title)?
    };
    let out_dir = run.target().to_path_buf();
    let cp_path = checkpoint_path(&out_dir);
    // A resumed run must continue the same target with the same settings.
    let resumed: Option<Checkpoint<McmcKernel>> = if a.resume {
        if !cp_path.exists() {
            bail!("--resume: no checkpoint at {}", cp_path.display());
        }
        Some(load_checkpoint(&cp_path, "sample", &target_desc)?)
    } else {
        None
    };
    // A resumed run continues with its checkpoint's settings, whatever the flags say; the flags
    // that differ are named.
    let mut overridden = Vec::new();
    let settings = match &resumed {
        Some(cp) => {
            let (given, saved) = (json!(settings.get()), json!(cp.settings));
            if let (Some(g), Some(c)) = (given.as_object(), saved.as_object()) {
                overridden = g
                    .iter()
                    .filter(|(k, v)| *k != "report_every" && c.get(*k) != Some(*v))
                    .map(|(k, _)| k.clone())
                    .collect();
            }
            cp.settings.clone().validate(dim)?
        }
        None => settings,
    };
    let (chains, beta) = (settings.get().chains, settings.get().beta);
    let started = unix_time();
    let seed = resumed.as_ref().map_or(a.common.seed, |c| c.streams.seed);
    let sampler = settings.get().sampler.name();
    run.out.event("start", json!({"command": "sample", "target": target_desc, "sampler": sampler, "chains": chains, "seed": seed, "resumed": a.resume}));
    for n in &target.notes {
        run.out.text(&format!("note: {n}"));
    }
    if let Some(rep) = run.report.as_mut() {
        let g = settings.get();
        let data = match (a.target.as_str(), &a.model.data) {
            ("logreg", None) => "built-in breast cancer (569 × 30)".to_string(),
            ("bnn", None) => "built-in sin data (200 points)".to_string(),
            (_, Some(f)) => f.clone(),
            _ => "none (a distribution given in closed form)".to_string(),
        };
        rep.settings(&[
            (
                "target",
                format!("{} ({dim} parameters, {})", a.target, target.precision),
            ),
            ("data", data),
            ("sampler", format!("{} ({} metric)", sampler, a.metric)),
            ("chains", chains.to_string()),
            (
                "warm-up / draws per chain",
                format!("{} / {} (thin {})", g.warmup, g.draws, g.thin),
            ),
            ("inverse temperature β", format!("{}", g.beta)),
            ("seed", seed.to_string()),
        ]);
        for n in &target.notes {
            rep.para(&format!("Note: {n}."));
        }
    }
    if !overridden.is_empty() {
        run.out.text(&format!(
            "--resume: continuing with the checkpoint's settings; these flags were ignored: {}",
            overridden.join(", ")
        ));
    }
    let stop = super::stop_on_ctrl_c();
    let dir = draws_dir(&out_dir);
    let files: Vec<PathBuf> = (0..chains)
        .map(|c| dir.join(format!("chain_{c}.csv")))
        .collect();
    let writers = match &resumed {
        Some(cp) => cp
            .chains
            .iter()
            .zip(&files)
            .map(|(c, f)| DrawWriter::resume(f, &names, c.kept))
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| {
                format!(
                    "--resume: the draw files in {} do not match the checkpoint",
                    dir.display()
                )
            })?,
        None => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            files
                .iter()
                .map(|f| DrawWriter::create(f, &names))
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    let total = settings.total() as u64 * chains as u64;
    let mut progress = run.out.progress(total, "sample");
    if let Some(cp) = &resumed {
        progress.set(cp.chains.iter().map(|c| c.iteration as u64).sum());
    }
    let streamer = Streamer {
        writers,
        written: vec![0; chains],
        beta,
        checkpoint: cp_path.clone(),
        every,
        last: resumed.as_ref().map_or(0, |c| {
            c.chains.iter().map(|c| c.iteration).min().unwrap_or(0)
        }),
        target: target_desc.clone(),
        stop: stop.clone(),
        progress,
        chains: chains as u64,
        warmup: settings.get().warmup,
        error: None,
    };
    let mut ctx = RunContext::new().with_stop(stop).with_observer(streamer);
    let t0 = Instant::now();
    let result = match resumed {
        Some(cp) => resume(&target.energy, cp, &mut ctx)?,
        None => sample(&target.energy, &settings, seed, &mut ctx)?,
    };
    let seconds = t0.elapsed().as_secs_f64();
    let streamer = ctx.into_observer();
    if let Some(e) = streamer.error {
        return Err(e.into());
    }
    drop(streamer.writers);
    let interrupted = result.termination == Termination::Interrupted;
    let all = read_back(&files, dim)?;
    let summary = write_outputs(&mut run, &result, &all, &names, &target.energy, &a)?;
    run.out.event(
        "result",
        json!({"min_ess_bulk": summary["min_ess_bulk"], "max_r_hat": summary["max_r_hat"],
            "divergences": summary["divergences"], "verdict": summary["verdict"]}),
    );
    for (c, f) in files.iter().enumerate() {
        let to = run.folder.partial_path(&format!("draws/chain_{c}.csv"));
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if interrupted {
            std::fs::copy(f, &to).with_context(|| format!("cannot copy {}", f.display()))?;
        } else {
            std::fs::rename(f, &to)
                .or_else(|_| std::fs::copy(f, &to).map(|_| ()))
                .with_context(|| format!("cannot move {}", f.display()))?;
        }
    }
    let run_json = json!({
        "command": "sample",
        "version": thermolab::VERSION,
        "seed": seed,
        "started_unix": started,
        "settings": {"target": target_desc, "sampler": settings.get(), "notes": target.notes},
        "timings": {"seconds": seconds,
                    "warmup_seconds": result.chains.iter().map(|c| c.seconds[0]).sum::<f64>(),
                    "sampling_seconds": result.chains.iter().map(|c| c.seconds[1]).sum::<f64>()},
        "results": summary,
        "termination": result.termination,
    });
    if interrupted {
        run.out.text(&format!(
            "interrupted: `--out {} --resume` continues the run from its checkpoint {}",
            out_dir.display(),
            cp_path.display()
        ));
    }
    run.finish(&run_json)?;
    if !interrupted {
        let _ = std::fs::remove_file(&cp_path);
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// The convergence warnings of a run, each saying what to try (Vehtari et al. 2021's R̂ and
/// ESS thresholds, Betancourt's E-BFMI).
fn verdict(
    kept: usize,
    chains: usize,
    min_ess: f64,
    max_rhat: f64,
    divergences: u64,
    ebfmi: &[f64],
) -> Vec<String> {
    let mut w = Vec::new();
    if kept < MIN_DRAWS {
        w.push(format!(
            "only {kept} draws per chain: too few to judge convergence; let the run finish or draw more (--draws)"
        ));
        return w;
    }
    if chains < 2 {
        w.push(
            "one chain: R̂ needs at least two to compare (--chains 4); convergence is not checked"
                .to_string(),
        );
    } else if !max_rhat.is_finite() {
        w.push(
            "R̂ could not be computed for every parameter (non-finite or constant draws): convergence is not checked".to_string(),
        );
    } else if max_rhat > 1.01 {
        w.push(format!(
            "R̂ up to {max_rhat:.3} (above 1.01): the chains disagree; run a longer warm-up (--warmup), or `thermolab temper` if the target has several modes"
        ));
    }
    if !min_ess.is_finite() || min_ess < 100.0 * chains as f64 {
        w.push(format!(
            "bulk ESS as low as {min_ess:.0} (below {}, 100 per chain): draw more (--draws), or help the sampler mix (--metric dense, a longer --warmup)",
            100 * chains
        ));
    }
    if divergences > 0 {
        w.push(format!(
            "{divergences} divergent transitions after warm-up: the sampler cannot follow the target's curvature and the draws may be biased; raise --target-accept (e.g. 0.95) or reparametrise (funnel-nc rather than funnel)"
        ));
    }
    let low: Vec<String> = ebfmi
        .iter()
        .enumerate()
        .filter(|(_, v)| **v < 0.3)
        .map(|(c, v)| format!("chain {c}: {v:.2}"))
        .collect();
    if !low.is_empty() {
        w.push(format!(
            "E-BFMI below 0.3 ({}): momentum resampling explores the energy poorly; a dense metric (--metric dense) or a reparametrisation helps",
            low.join(", ")
        ));
    }
    w
}

fn write_outputs(
    run: &mut Run,
    r: &SampleResult<McmcKernel>,
    all: &AllDraws,
    names: &[String],
    target: &BuiltinTarget,
    a: &SampleArgs,
) -> Result<Value> {
    let dim = names.len();
    let params: Vec<ParamSummary> = (0..dim)
        .map(|j| {
            let p = all.parameter(j, dim);
            let refs: Vec<&[f64]> = p.iter().map(|c| c.as_slice()).collect();
            summarize(&names[j], &refs)
        })
        .collect();
    run.folder.write("summary.csv", summary_csv(&params))?;
    // Sampler columns: 0 lp__, 1 accept_stat__, 2 step_size__, 3 tree_depth__, 4 n_leapfrog__,
    // 5 divergent__, 6 energy__.
    let divergences: u64 = all
        .stats
        .iter()
        .map(|c| c.iter().filter(|s| s[5] != 0.0).count() as u64)
        .sum();
    let evals_w: u64 = r.chains.iter().map(|c| c.evals_warmup).sum();
    let evals_s: u64 = r.chains.iter().map(|c| c.evals_sampling).sum();
    let ebfmi: Vec<f64> = all
        .stats
        .iter()
        .map(|c| bfmi(&c.iter().map(|s| s[6]).collect::<Vec<_>>()))
        .collect();
    // A NaN (a check that could not be made) wins over every number: it must warn.
    let worst = |xs: &mut dyn Iterator<Item = f64>, pick: fn(f64, f64) -> f64, init: f64| {
        xs.fold(init, |a, b| {
            if a.is_nan() || b.is_nan() {
                f64::NAN
            } else {
                pick(a, b)
            }
        })
    };
    let min_ess = worst(
        &mut params.iter().map(|p| p.ess_bulk),
        f64::min,
        f64::INFINITY,
    );
    let max_rhat = worst(
        &mut params.iter().map(|p| p.r_hat),
        f64::max,
        f64::NEG_INFINITY,
    );
    let momentum = matches!(a.sampler.as_str(), "nuts" | "hmc");
    let secs: f64 = r.chains.iter().map(|c| c.seconds[0] + c.seconds[1]).sum();
    let kept = all.stats.iter().map(|c| c.len()).min().unwrap_or(0);
    let chains = all.stats.len();
    let warnings = verdict(
        kept,
        chains,
        min_ess,
        max_rhat,
        divergences,
        if momentum { &ebfmi } else { &[] },
    );
    if kept < MIN_DRAWS {
        run.out.text(&format!(
            "not enough draws for diagnostics: {kept} per chain (at least {MIN_DRAWS} are needed)"
        ));
    }
    // Screen: the first parameters and the worst ones, in a column as wide as their names.
    let w = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(5)
        .clamp(10, 40);
    run.out.text(&format!(
        "{:<w$} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>6}",
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
            "{:<w$} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.5} {:>8.0} {:>8.0} {:>6.3}",
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
    if warnings.is_empty() {
        run.out.text("verdict: no convergence warnings (R̂ ≤ 1.01, bulk ESS ≥ 100 per chain, no divergences, E-BFMI ≥ 0.3)");
    }
    for w in &warnings {
        run.out.text(&format!("WARNING: {w}"));
        run.out.event("warning", json!({"message": w}));
    }
    plots(run, all, &params, target, a)?;
    if let Some(rep) = run.report.as_mut() {
        if warnings.is_empty() {
            rep.headline("No convergence warnings: R̂ ≤ 1.01, bulk ESS ≥ 100 per chain, no divergences, E-BFMI ≥ 0.3.");
        } else {
            rep.headline("The draws did not pass the convergence checks:");
        }
        for w in &warnings {
            rep.warning(w);
        }
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
        if dim > shown.len() {
            rep.para(&format!(
                "Shown: the first {} parameters and the one with the lowest bulk ESS; all {dim} are in summary.csv.",
                dim.min(12)
            ));
        }
        rep.para(&format!(
            "min bulk ESS {min_ess:.0}; max R̂ {max_rhat:.4}; {divergences} divergences; E-BFMI per chain {}.",
            ebfmi.iter().map(|v| format!("{v:.2}")).collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(json!({
        "verdict": {"converged": warnings.is_empty(), "warnings": warnings},
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
        "step_sizes": r.chains.iter().map(|c| c.kernel.tuning().step_size).collect::<Vec<_>>(),
        "acceptance": all.stats.iter().map(|c| c.iter().map(|s| s[1]).sum::<f64>() / c.len().max(1) as f64).collect::<Vec<_>>(),
    }))
}

fn plots(
    run: &mut Run,
    r: &AllDraws,
    params: &[ParamSummary],
    target: &BuiltinTarget,
    a: &SampleArgs,
) -> Result<()> {
    if run.report.is_none() {
        return Ok(());
    }
    let network = match target {
        BuiltinTarget::Network(b) => Some((b.as_ref(), a.model.arch.as_str())),
        _ => None,
    };
    for f in figures(r, params, network) {
        run.plot(&f.chart, &f.name, &f.caption)?;
    }
    Ok(())
}
