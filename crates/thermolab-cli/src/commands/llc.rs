//! `thermolab llc`: the local learning coefficient λ̂ of a deep linear network trained on data
//! from a teacher of chosen rank (w* by L-BFGS), by localised SGLD over chains, beside the exact λ (Aoyagi &
//! Watanabe 2005 for two layers, Aoyagi 2024 for more), with the λ̂ trace of each chain.

use super::{fmt, unix_time, Run};
use crate::args::LlcArgs;
use crate::plots::LineChart;
use anyhow::{anyhow, bail, Result};
use serde_json::json;
use thermolab::drivers::lbfgs::{minimise, LbfgsSettings};
use thermolab::drivers::llc::{local_learning_coefficient, LlcSettings};
use thermolab::energy::{Energy, Gradient};
use thermolab::run::Termination;
use thermolab::systems::{dln_learning_coefficient, DeepLinearNetwork};
use thermolab::trace::csv_table;

/// Points per chain kept in `llc_traces.csv` and the plot.
const TRACE_POINTS: usize = 2000;

/// `thermolab llc`.
pub fn run(a: LlcArgs) -> Result<()> {
    crate::limits::threads(a.threads)?;
    let settings = LlcSettings {
        chains: a.chains,
        draws: a.draws,
        burn_in: a.burn_in,
        step_size: a.step_size,
        localization: a.localization,
        n_beta: a.n_beta,
        batch_size: a.batch_size,
        seed: a.common.seed,
    };
    settings
        .validate()
        .map_err(|e| anyhow!("--{}: {}", e.field.replace('_', "-"), e.message))?;
    if a.widths.len() < 2 || a.widths.contains(&0) {
        bail!("--widths: give at least an input and an output width, none zero (e.g. 3,2,3)");
    }
    if a.rows < 2 {
        bail!("--rows: at least 2 rows");
    }
    crate::limits::memory(
        "--rows (the data) and --draws (each chain's losses)",
        crate::limits::f64s(
            a.rows as f64 * (a.widths[0] + a.widths[a.widths.len() - 1]) as f64
                + (a.chains * a.draws) as f64,
        ),
    )?;
    let mut net = DeepLinearNetwork::teacher(&a.widths, a.rank, a.rows, a.common.seed)
        .map_err(|e| anyhow!("--{}: {}", e.parameter, e.message))?;
    let exact = dln_learning_coefficient(&a.widths, a.rank);
    let widths = a
        .widths
        .iter()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join("-");
    let title = format!(
        "thermolab llc: deep linear network {widths}, teacher rank {}",
        a.rank
    );
    let mut run = Run::start(&a.common, "thermolab-llc", &title)?;
    let started = unix_time();
    run.out.event(
        "start",
        json!({"command": "llc", "widths": a.widths, "rank": a.rank, "rows": a.rows, "seed": a.common.seed}),
    );
    let clock = std::time::Instant::now();
    // w*: L-BFGS from the teacher's parameter.
    let start = net
        .teacher_parameter()
        .map(<[f64]>::to_vec)
        .unwrap_or_default();
    let lbfgs = LbfgsSettings {
        max_iterations: a.train_iterations,
        ..LbfgsSettings::default()
    };
    let trained = minimise(&mut net, &start, &lbfgs)?;
    if !trained.energy.is_finite() {
        bail!("training diverged: the teacher's loss is not finite");
    }
    let center = trained.x;
    let mut grad = vec![0.0; center.len()];
    net.energy_grad(&center, &mut grad)?;
    let grad_norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
    let pool = thermolab::workers::Workers::lend(a.threads);
    let sampling = std::time::Instant::now();
    let llc = pool.install(|| local_learning_coefficient(&net, &center, &settings))?;
    let sampling_seconds = sampling.elapsed().as_secs_f64();
    let seconds = clock.elapsed().as_secs_f64();
    // The λ̂ trace of each chain: nβ·(running mean of its losses − L(w*)), at most
    // TRACE_POINTS points.
    let every = settings.draws.div_ceil(TRACE_POINTS).max(1);
    let traces: Vec<Vec<(f64, f64)>> = llc
        .loss_traces
        .iter()
        .map(|t| {
            let mut sum = 0.0;
            let mut out = Vec::new();
            for (i, l) in t.iter().enumerate() {
                sum += l;
                if (i + 1) % every == 0 || i + 1 == t.len() {
                    out.push((
                        (i + 1) as f64,
                        llc.n_beta * (sum / (i + 1) as f64 - llc.loss_at_center),
                    ));
                }
            }
            out
        })
        .collect();
    let points = traces.iter().map(Vec::len).max().unwrap_or(0);
    let mut header = vec!["draw".to_string()];
    header.extend((0..traces.len()).map(|c| format!("chain_{c}")));
    // The draw numbers of the longest trace (a chain whose steps diverged kept fewer).
    let longest = traces
        .iter()
        .max_by_key(|t| t.len())
        .cloned()
        .unwrap_or_default();
    let rows: Vec<Vec<f64>> = (0..points)
        .map(|i| {
            let mut row = vec![longest.get(i).map_or(f64::NAN, |p| p.0)];
            row.extend(traces.iter().map(|t| t.get(i).map_or(f64::NAN, |p| p.1)));
            row
        })
        .collect();
    let head: Vec<&str> = header.iter().map(String::as_str).collect();
    run.folder.write(
        "llc_traces.csv",
        csv_table(&head, rows.iter().map(|r| &r[..])),
    )?;
    if run.report.is_some() {
        let chart = LineChart {
            title: format!("λ̂ per chain, deep linear network {widths}"),
            x_label: "draw".into(),
            y_label: "λ̂ (running mean)".into(),
            lines: traces
                .iter()
                .enumerate()
                .map(|(c, t)| (format!("chain {c}"), t.clone()))
                .collect(),
            integer_x: true,
            ..Default::default()
        };
        run.plot(
            &chart,
            "llc_traces",
            "Each chain's λ̂ as its draws accumulate: the curves should settle and agree",
        )?;
    }
    let headline = format!(
        "λ̂ = {} ± {} over {} chains for the {widths} network ({} parameters, d/2 = {}), \
         exact λ = {}, in {seconds:.1} s",
        fmt(llc.lambda),
        fmt(llc.se),
        settings.chains,
        net.dim(),
        fmt(net.dim() as f64 / 2.0),
        exact.map_or("unknown".into(), fmt),
    );
    run.headline(&headline);
    for w in &llc.warnings {
        run.out.text(&format!("warning: {w}"));
    }
    if let Some(rep) = run.report.as_mut() {
        rep.heading("Per chain");
        let cells: Vec<Vec<String>> = llc
            .per_chain
            .iter()
            .enumerate()
            .map(|(c, v)| vec![c.to_string(), fmt(*v)])
            .collect();
        rep.table(&["chain", "λ̂"], &cells);
        for w in &llc.warnings {
            rep.para(&format!("Warning: {w}."));
        }
    }
    let run_json = json!({
        "command": "llc",
        "version": thermolab::VERSION,
        "seed": a.common.seed,
        "started_unix": started,
        "settings": {"widths": a.widths, "rank": a.rank, "rows": a.rows, "train_iterations": a.train_iterations, "llc": settings, "threads": a.threads},
        "timings": {"seconds": seconds, "sampling_seconds": sampling_seconds},
        "results": {"lambda": llc.lambda, "se": llc.se, "exact": exact, "per_chain": llc.per_chain, "loss_at_center": llc.loss_at_center, "n_beta": llc.n_beta, "divergences": llc.divergences, "warnings": llc.warnings, "parameters": net.dim(), "training": {"iterations": trained.iterations, "loss": trained.energy, "gradient_norm": grad_norm}},
        "termination": Termination::Finished,
    });
    run.out.event("result", run_json["results"].clone());
    run.finish(&run_json)?;
    Ok(())
}
