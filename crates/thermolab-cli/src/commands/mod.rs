//! The commands and the helpers they share: run-folder finishing, number-list parsing.

pub mod anneal;
pub mod certify;
pub mod demo;
pub mod ensemble;
pub mod evidence;
pub mod images;
pub mod ising;
pub mod llc;
mod predictive_plots;
pub mod rbm;
pub mod sample;
pub mod scan;
pub mod sgmcmc;
pub mod temper;
pub mod train;

use crate::output::Out;
use crate::report::Report;
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};
use thermolab::trace::{Existing, RunFolder, RunFolderError};

/// A run stopped by Ctrl-C or SIGTERM: its folder was written (termination `interrupted`);
/// the process exits with status 130.
#[derive(Debug)]
pub struct Interrupted(pub PathBuf);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "interrupted: the work done so far is in {}",
            self.0.display()
        )
    }
}

impl std::error::Error for Interrupted {}

/// Partial folders of the runs of this process, removed if a second Ctrl-C ends it at once.
static PARTIALS: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// The run being written: printer, folder and report.
pub struct Run {
    /// Printer.
    pub out: Out,
    /// The folder (partial until `finish`).
    pub folder: RunFolder,
    /// The HTML report, `None` with `--no-plots`.
    pub report: Option<Report>,
    /// What each plot shows (written as `plots.json`).
    plots: Vec<Value>,
}

impl Run {
    /// Opens the run folder before any work: `--out`, or `default` under the current folder
    /// (numbered `default-2`, `default-3`, … when it holds an earlier run). An earlier run is
    /// never replaced unless `--force` says so; a second run to a folder being written fails.
    pub fn start(common: &crate::args::Common, default: &str, title: &str) -> Result<Self> {
        let existing = match (&common.out, common.force) {
            (_, true) => Existing::ReplaceRun,
            (Some(_), false) => Existing::Refuse,
            (None, false) => Existing::Number,
        };
        Self::start_as(common, default, title, existing)
    }

    /// [`Run::start`] replacing the run folder at `--out` (or at `default`) if there is one: for
    /// `--resume`, which continues the run that folder belongs to.
    pub fn resume(common: &crate::args::Common, default: &str, title: &str) -> Result<Self> {
        Self::start_as(common, default, title, Existing::ReplaceRun)
    }

    fn start_as(
        common: &crate::args::Common,
        default: &str,
        title: &str,
        existing: Existing,
    ) -> Result<Self> {
        let target = common.out.clone().unwrap_or_else(|| PathBuf::from(default));
        let shown = target.display();
        let folder = RunFolder::create(&target, existing).map_err(|e| match e {
            RunFolderError::Exists(_) => anyhow::anyhow!(
                "--out {shown}: the folder holds an earlier run; choose another --out, or add --force to replace it"
            ),
            RunFolderError::Locked { .. } => anyhow::anyhow!(
                "--out {shown}: another thermolab run is writing to this folder now"
            ),
            RunFolderError::Unusable(_) => anyhow::anyhow!(
                "--out {shown}: cannot be the current folder or one above it; name a new folder"
            ),
            RunFolderError::Resumable(cp) => anyhow::anyhow!(
                "--out {shown}: an interrupted run can be resumed from {} (add --resume), or add --force to start afresh",
                cp.display()
            ),
            RunFolderError::ForeignFiles { files, .. } => anyhow::anyhow!(
                "--out {shown}: the earlier run's folder also holds files thermolab did not write ({files}); move them or choose another --out"
            ),
            RunFolderError::NotARunFolder(_) => anyhow::anyhow!(
                "--out {shown}: the folder exists and holds files that are not a thermolab run; choose another --out"
            ),
            e => anyhow::Error::new(e).context(format!("--out {shown}")),
        })?;
        if let Ok(mut p) = PARTIALS.lock() {
            p.push(folder.partial().to_path_buf());
        }
        Ok(Self {
            out: Out {
                format: common.format,
            },
            folder,
            report: (!common.no_plots).then(|| Report::new(title)),
            plots: Vec::new(),
        })
    }

    /// The run's headline result: printed, and shown first in the report.
    pub fn headline(&mut self, text: &str) {
        self.out.text(text);
        if let Some(rep) = self.report.as_mut() {
            rep.headline(text);
        }
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
            let mut m = plot.manifest();
            if m.is_object() {
                m["name"] = serde_json::json!(name);
                m["caption"] = serde_json::json!(caption);
                self.plots.push(m);
            }
        }
        Ok(())
    }

    /// The folder the run will be in once finished.
    pub fn target(&self) -> &Path {
        self.folder.target()
    }

    /// Writes `run.json` and the report, then renames the folder into place. A run whose
    /// `termination` is `interrupted` then ends with [`Interrupted`] (exit status 130).
    pub fn finish(mut self, run_json: &Value) -> Result<PathBuf> {
        self.folder
            .write("run.json", serde_json::to_string_pretty(run_json)? + "\n")?;
        if let Some(rep) = self.report.as_mut() {
            // What was run, from run.json, where the command gave no table of its own.
            if !rep.has_settings() {
                if let Some(Value::Object(m)) = run_json.get("settings") {
                    let rows: Vec<(&str, String)> = m
                        .iter()
                        .map(|(k, v)| (k.as_str(), setting_text(v)))
                        .collect();
                    rep.settings(&rows);
                }
            }
        }
        if let Some(rep) = &self.report {
            self.folder.write("report.html", rep.html())?;
        }
        if !self.plots.is_empty() {
            self.folder.write(
                "plots.json",
                serde_json::to_string_pretty(&self.plots)? + "\n",
            )?;
        }
        let path = self.folder.commit()?;
        let termination = run_json["termination"].as_str().unwrap_or("finished");
        self.out.event(
            "done",
            serde_json::json!({ "out": path, "termination": termination }),
        );
        self.out.text(&format!("wrote {}", path.display()));
        if termination == "interrupted" {
            return Err(Interrupted(path).into());
        }
        Ok(path)
    }
}

/// A setting's value as a table cell: plain strings and numbers as they are, anything else as
/// compact JSON (long lists shortened).
fn setting_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "–".into(),
        Value::Array(a) if a.len() > 12 => {
            let head: Vec<String> = a.iter().take(5).map(|x| x.to_string()).collect();
            format!("[{}, … {} values]", head.join(", "), a.len())
        }
        v => v.to_string(),
    }
}

/// The checkpoint file beside run folder `out`: `<out>.checkpoint.json`.
pub fn checkpoint_path(out: &Path) -> PathBuf {
    thermolab::trace::checkpoint_of(out)
}

/// The process's stop flag, raised by Ctrl-C (SIGINT), SIGTERM or SIGHUP: drivers that take it
/// stop at their next check and return what they have, which the command writes as an
/// interrupted run. A second signal ends the process at once (exit status 130), removing the
/// partial run folders. `main` installs it before any command runs.
pub fn stop_on_ctrl_c() -> thermolab::run::StopFlag {
    static FLAG: std::sync::OnceLock<thermolab::run::StopFlag> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = thermolab::run::StopFlag::new();
        let f = flag.clone();
        let _ = ctrlc::set_handler(move || {
            if f.is_raised() {
                if let Ok(p) = PARTIALS.lock() {
                    for dir in p.iter() {
                        let _ = std::fs::remove_dir_all(dir);
                    }
                }
                eprintln!("interrupted twice: stopped at once; the run folder was not written");
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
