//! Run folders from Python, on request (`thermolab.sample(..., out=PATH)`): the draws, the
//! summary, the figures, `report.html` and `run.json` in the layout `thermolab sample` writes
//! (draws as CSV with Stan's sampler columns, which ArviZ and pandas read; the figures drawn by
//! the same `thermolab-report` code), through the library's `RunFolder` — filled under a
//! temporary name and renamed into place, never deleting an earlier run unless asked.

use numpy::ndarray::Array3;
use pyo3::prelude::*;
use std::path::{Path, PathBuf};
use thermolab::drivers::sample::SampleResult;
use thermolab::estimate::diagnostics::summarize;
use thermolab::kernels::mcmc::McmcKernel;
use thermolab::systems::posterior::BayesianMlp;
use thermolab::trace::{summary_csv, DrawWriter, Existing, RunFolder};
use thermolab_report::report::Report;
use thermolab_report::sample::{figures, SampleDraws};

/// What a run folder says about its model and settings.
pub struct Described<'a> {
    /// Parameter names.
    pub names: &'a [String],
    /// The inverse temperature sampled.
    pub beta: f64,
    /// Settings and model, for `run.json`.
    pub description: serde_json::Value,
    /// Rows of the report's settings table.
    pub settings: Vec<(&'static str, String)>,
    /// A one-input network's posterior (with its architecture), for the predictive band.
    pub network: Option<(&'a BayesianMlp, String)>,
}

/// The run folder `target`, taken before the run so that a folder that cannot be used is an
/// error before any work is done; `force` replaces an earlier run there.
pub fn open_folder(target: &Path, force: bool) -> PyResult<RunFolder> {
    let existing = if force {
        Existing::ReplaceRun
    } else {
        Existing::Refuse
    };
    RunFolder::create(target, existing).map_err(crate::value_error)
}

/// Writes the run `r` (draws `draws`, `(chains, draws, dim)`) into `folder`, as `what`
/// describes it, and renames it into place. Needs no Python (call it with the GIL released);
/// returns the folder, or why writing failed.
pub fn write_sample_folder(
    folder: RunFolder,
    r: &SampleResult<McmcKernel>,
    draws: &Array3<f64>,
    what: Described<'_>,
) -> Result<PathBuf, String> {
    let (names, beta) = (what.names, what.beta);
    let dir = folder.partial_path("draws");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (c, chain) in r.chains.iter().enumerate() {
        let mut w = DrawWriter::create(&dir.join(format!("chain_{c}.csv")), names)
            .map_err(|e| e.to_string())?;
        w.append(&chain.draws, &chain.stats, beta)
            .map_err(|e| e.to_string())?;
    }
    let (chains, n, dim) = draws.dim();
    let params: Vec<_> = (0..dim)
        .map(|j| {
            let per: Vec<Vec<f64>> = (0..chains)
                .map(|c| (0..n).map(|i| draws[[c, i, j]]).collect())
                .collect();
            let refs: Vec<&[f64]> = per.iter().map(|v| v.as_slice()).collect();
            summarize(&names[j], &refs)
        })
        .collect();
    folder
        .write("summary.csv", summary_csv(&params))
        .map_err(|e| e.to_string())?;
    // The figures and the report, as `thermolab sample` draws them.
    let per_chain: Vec<Vec<f64>> = (0..chains)
        .map(|c| {
            (0..n)
                .flat_map(|i| (0..dim).map(move |j| (i, j)))
                .map(|(i, j)| draws[[c, i, j]])
                .collect()
        })
        .collect();
    let steps: Vec<&[thermolab::kernels::mcmc::StepInfo]> =
        r.chains.iter().map(|c| &c.stats[..n]).collect();
    let all = SampleDraws::from_steps(per_chain, &steps, beta);
    let mut report = Report::new("thermolab sample (Python)");
    let worst_ess = params
        .iter()
        .map(|p| p.ess_bulk)
        .fold(f64::INFINITY, f64::min);
    let worst_rhat = params
        .iter()
        .map(|p| p.r_hat)
        .fold(f64::NEG_INFINITY, f64::max);
    let divergences: usize = r
        .chains
        .iter()
        .map(|c| c.stats[..n].iter().filter(|s| s.divergent).count())
        .sum();
    report.headline(&format!(
        "{chains} chains × {n} draws of {dim} parameters: min bulk ESS {worst_ess:.0}, max R̂ {worst_rhat:.4}, {divergences} divergences ({})",
        r.termination.as_str()
    ));
    report.settings(&what.settings);
    report.heading("Summary");
    let rows: Vec<Vec<String>> = params
        .iter()
        .take(30)
        .map(|p| {
            vec![
                p.name.clone(),
                format!("{:.4}", p.mean),
                format!("{:.4}", p.sd),
                format!("{:.4}", p.q05),
                format!("{:.4}", p.q50),
                format!("{:.4}", p.q95),
                format!("{:.5}", p.mcse_mean),
                format!("{:.0}", p.ess_bulk),
                format!("{:.0}", p.ess_tail),
                format!("{:.4}", p.r_hat),
            ]
        })
        .collect();
    report.table(
        &[
            "param", "mean", "sd", "q5", "q50", "q95", "MCSE", "ESS bulk", "ESS tail", "R̂",
        ],
        &rows,
    );
    if dim > rows.len() {
        report.para(&format!(
            "The first {} of {dim} parameters; all are in summary.csv.",
            rows.len()
        ));
    }
    let network = what.network.as_ref().map(|(b, a)| (*b, a.as_str()));
    for f in figures(&all, &params, network) {
        let svg = thermolab_report::plots::render(&f.chart, &folder, &f.name)
            .map_err(|e| e.to_string())?;
        report.figure(&svg, &f.name, &f.caption);
    }
    folder
        .write("report.html", report.html())
        .map_err(|e| e.to_string())?;
    let run = serde_json::json!({
        "command": "sample (Python)",
        "version": env!("CARGO_PKG_VERSION"),
        "description": what.description,
        "termination": r.termination.as_str(),
        "seconds": r.seconds,
        "parameters": params,
    });
    folder
        .write(
            "run.json",
            serde_json::to_string_pretty(&run).map_err(|e| e.to_string())?,
        )
        .map_err(|e| e.to_string())?;
    folder.commit().map_err(|e| e.to_string())
}
