//! Run folders and traces: every command's outputs are written into a temporary folder that is
//! renamed into place only when complete, so an interrupted or failed run never leaves a folder
//! that looks finished; draw files that stream a sampler's draws; checkpoint files; the
//! posterior summary table; and small CSV helpers whose output pandas and ArviZ read without help.

mod checkpoint;
mod draws;
mod run_folder;

pub use checkpoint::{load_checkpoint, save_checkpoint, CHECKPOINT_FORMAT};
pub use draws::{push_row, read_draws, sampler_columns, DrawWriter, SAMPLER_COLUMNS};
pub use run_folder::{checkpoint_of, Existing, RunFolder, RunFolderError};

use crate::error::Error;
use crate::estimate::diagnostics::ParamSummary;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file beside it and a rename, so readers never
/// see a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// The posterior summary table (`summary.csv`): one row per parameter with mean, sd, the 5/50/95 %
/// quantiles, their Monte-Carlo standard errors, bulk and tail ESS and R̂.
pub fn summary_csv(params: &[ParamSummary]) -> String {
    let mut out = String::from(
        "name,mean,sd,q5,q50,q95,mcse_mean,mcse_sd,mcse_q5,mcse_q50,mcse_q95,ess_bulk,ess_tail,r_hat\n",
    );
    for p in params {
        out.push_str(&p.name);
        for v in [
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
        ] {
            out.push(',');
            out.push_str(&format_number(v));
        }
        out.push('\n');
    }
    out
}

/// Formats rows of numbers as CSV with a header line. Floats are written in Rust's shortest
/// round-trip form, so the file reads back to the same `f64` values.
pub fn csv_table<'a, I>(header: &[&str], rows: I) -> String
where
    I: IntoIterator<Item = &'a [f64]>,
{
    let mut out = header.join(",");
    out.push('\n');
    for row in rows {
        let mut first = true;
        for v in row {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(&format_number(*v));
        }
        out.push('\n');
    }
    out
}

/// A number as CSV/JSON-friendly text (`nan`, `inf`, `-inf` for non-finite values).
pub fn format_number(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else {
        format!("{v:?}")
    }
}

#[cfg(test)]
mod tests;
