//! Run folders from Python, on request (`thermolab.sample(..., out=PATH)`): the draws, the
//! summary and `run.json` in the layout `thermolab sample` writes (draws as CSV with Stan's
//! sampler columns, which ArviZ and pandas read), through the library's `RunFolder` — filled
//! under a temporary name and renamed into place, never deleting an earlier run unless asked.

use numpy::ndarray::Array3;
use pyo3::prelude::*;
use std::path::{Path, PathBuf};
use thermolab::drivers::sample::SampleResult;
use thermolab::estimate::diagnostics::summarize;
use thermolab::kernels::mcmc::McmcKernel;
use thermolab::trace::{summary_csv, DrawWriter, Existing, RunFolder};

/// Writes the run `r` (parameters `names`, sampled at `beta`) to the folder `target`, with
/// `description` (settings, model) in its `run.json`; `force` replaces an earlier run there.
/// Returns the folder.
pub fn write_sample_folder(
    target: &Path,
    force: bool,
    r: &SampleResult<McmcKernel>,
    draws: &Array3<f64>,
    names: &[String],
    beta: f64,
    description: serde_json::Value,
) -> PyResult<PathBuf> {
    let existing = if force {
        Existing::ReplaceRun
    } else {
        Existing::Refuse
    };
    let folder = RunFolder::create(target, existing).map_err(crate::value_error)?;
    let dir = folder.partial_path("draws");
    std::fs::create_dir_all(&dir)
        .map_err(|e| crate::value_error(format!("{}: {e}", dir.display())))?;
    for (c, chain) in r.chains.iter().enumerate() {
        let mut w = DrawWriter::create(&dir.join(format!("chain_{c}.csv")), names)
            .map_err(crate::value_error)?;
        w.append(&chain.draws, &chain.stats, beta)
            .map_err(crate::value_error)?;
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
        .map_err(crate::value_error)?;
    let run = serde_json::json!({
        "command": "sample (Python)",
        "version": env!("CARGO_PKG_VERSION"),
        "description": description,
        "termination": r.termination.as_str(),
        "seconds": r.seconds,
        "parameters": params,
    });
    folder
        .write(
            "run.json",
            serde_json::to_string_pretty(&run).map_err(crate::value_error)?,
        )
        .map_err(crate::value_error)?;
    folder.commit().map_err(crate::value_error)
}
