//! The commands and the helpers they share: run-folder finishing, number-list parsing.

pub mod anneal;
pub mod certify;
pub mod demo;
pub mod evidence;
pub mod images;
pub mod ising;
pub mod rbm;
pub mod sample;
pub mod temper;
pub mod train;

use crate::output::Out;
use crate::report::Report;
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};
use thermolab::trace::RunFolder;

/// The run being written: printer, folder and report.
pub struct Run {
    /// Printer.
    pub out: Out,
    /// The folder (partial until `finish`).
    pub folder: RunFolder,
    /// The HTML report, `None` with `--no-plots`.
    pub report: Option<Report>,
}

impl Run {
    /// Opens the run folder `out_dir` (or `default` under the current folder) before any work.
    pub fn start(common: &crate::args::Common, default: &str, title: &str) -> Result<Self> {
        let target = common.out.clone().unwrap_or_else(|| PathBuf::from(default));
        let folder = RunFolder::create(&target)?;
        Ok(Self {
            out: Out {
                format: common.format,
            },
            folder,
            report: (!common.no_plots).then(|| Report::new(title)),
        })
    }

    /// Renders a plot into the folder and the report (no-op with `--no-plots`).
    pub fn plot<P: crate::plots::Plot>(
        &mut self,
        plot: &P,
        name: &str,
        caption: &str,
    ) -> Result<()> {
        if let Some(rep) = self.report.as_mut() {
            let svg = crate::plots::render(plot, &self.folder, name)?;
            rep.figure(&svg, name, caption);
        }
        Ok(())
    }

    /// Writes `run.json` and the report, then renames the folder into place.
    pub fn finish(self, run_json: &Value) -> Result<PathBuf> {
        self.folder
            .write("run.json", serde_json::to_string_pretty(run_json)? + "\n")?;
        if let Some(rep) = &self.report {
            self.folder.write("report.html", rep.html())?;
        }
        let path = self.folder.commit()?;
        self.out.event("done", serde_json::json!({ "out": path }));
        self.out.text(&format!("wrote {}", path.display()));
        Ok(path)
    }
}

/// The checkpoint file beside run folder `out`: `<out>.checkpoint.json`.
pub fn checkpoint_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    out.with_file_name(format!("{name}.checkpoint.json"))
}

/// The process's stop flag, raised by Ctrl-C (SIGINT): drivers that take it stop at their next
/// check and return what they have; a second Ctrl-C exits with status 130.
pub fn stop_on_ctrl_c() -> thermolab::run::StopFlag {
    static FLAG: std::sync::OnceLock<thermolab::run::StopFlag> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = thermolab::run::StopFlag::new();
        let f = flag.clone();
        // The first Ctrl-C asks the run to stop at its next check; a second one ends the
        // process at once (exit status 130, as the shell's own SIGINT would).
        let _ = ctrlc::set_handler(move || {
            if f.is_raised() {
                std::process::exit(130);
            }
            f.raise();
        });
        flag
    })
    .clone()
}

/// Seconds since the Unix epoch (recorded in run.json).
pub fn unix_time() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Parses a comma-separated list of numbers given for option `--name`.
pub fn parse_floats(name: &str, text: &str) -> Result<Vec<f64>> {
    text.split(',')
        .map(|t| {
            let v: f64 = t
                .trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("--{name}: `{}` is not a number", t.trim()))?;
            if !v.is_finite() {
                bail!("--{name}: `{}` is not finite", t.trim());
            }
            Ok(v)
        })
        .collect()
}

/// Reads a vector of numbers from a file: one or more per line (comma- or space-separated), an
/// optional non-numeric header line. Errors name the file and line.
pub fn read_vector(path: &Path) -> Result<Vec<f64>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|f| !f.is_empty())
            .collect();
        for f in &fields {
            match f.parse::<f64>() {
                Ok(v) if v.is_finite() => out.push(v),
                Ok(_) => bail!("{}:{}: value `{f}` is not finite", path.display(), i + 1),
                Err(_) if i == 0 && out.is_empty() => break, // header
                Err(_) => bail!("{}:{}: `{f}` is not a number", path.display(), i + 1),
            }
        }
    }
    if out.is_empty() {
        bail!("{}: no numbers found", path.display());
    }
    Ok(out)
}

/// Formats a float for tables.
pub fn fmt(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1e-3 && v.abs() < 1e5 {
        format!("{v:.5}")
    } else {
        format!("{v:.4e}")
    }
}
