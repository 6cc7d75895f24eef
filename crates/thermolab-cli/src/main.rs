//! The `thermolab` binary: parses arguments, calls the library, writes run folders.
//!
//! Exit codes: 0 success; 2 bad input or settings (one-line error on stderr); 1 a run that
//! completed but diverged (its run folder is written and says so); 130 a run stopped by Ctrl-C
//! or SIGTERM (its run folder is written with what was done, termination `interrupted`).

#![warn(missing_docs)]

mod args;
mod commands;
mod limits;
mod output;

// The figures and the HTML report, shared with the Python package.
use thermolab_report::{plots, report};

use clap::Parser;

/// A refused library setting, named as the command-line flag that sets it (`--chains: must be at
/// least 1`) when the command has that flag: the library names the settings field, which is
/// the flag's name with `_` for `-`.
fn flag_message(e: &anyhow::Error, path: &[&str]) -> Option<String> {
    let s = e.chain().find_map(|c| {
        c.downcast_ref::<thermolab::settings::SettingsError>()
            .or_else(|| match c.downcast_ref::<thermolab::Error>() {
                Some(thermolab::Error::Settings(s)) => Some(s),
                _ => None,
            })
    })?;
    use clap::CommandFactory;
    let mut cmd = args::Cli::command();
    for name in path {
        cmd = cmd.find_subcommand(name)?.clone();
    }
    let flag = s.field.replace('_', "-");
    let has = cmd
        .get_arguments()
        .any(|a| a.get_long() == Some(flag.as_str()));
    has.then(|| format!("--{flag}: {}", s.message))
}

/// Whether the arguments ask for JSON output (looked at directly when they do not parse).
fn json_requested() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .any(|w| w[0] == "--format" && w[1] == "json")
        || args.iter().any(|a| a == "--format=json")
}

/// A run that finished but diverged: reported with exit code 1.
#[derive(Debug)]
pub struct Diverged(pub String);

impl std::fmt::Display for Diverged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Diverged {}

fn main() {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            let informational =
                matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
                    || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand;
            if informational {
                e.exit()
            }
            // One line, as for every other error: clap's first line, and where to look.
            let kind = e.kind().to_string();
            let detail = e.render().to_string();
            let first = detail
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or(&kind)
                .trim_start_matches("error: ")
                .to_string();
            if json_requested() {
                output::Out {
                    format: output::Format::Json,
                }
                .event(
                    "error",
                    serde_json::json!({ "message": first, "exit_code": 2 }),
                );
            }
            eprintln!("error: {first} (see --help)");
            std::process::exit(2)
        }
    };
    // Ctrl-C and SIGTERM stop a run at its next check from here on.
    let _ = commands::stop_on_ctrl_c();
    let format = match &cli.command {
        args::Command::Demo(a) => a.common.format,
        args::Command::Anneal(a) => a.common.format,
        args::Command::Train(a) => a.common.format,
        args::Command::Ising(a) => a.common.format,
        args::Command::Sample(a) => a.common.format,
        args::Command::Evidence(a) => a.common.format,
        args::Command::Certify(a) => a.common.format,
        args::Command::Temper(a) => a.common.format,
        args::Command::Scan(a) => a.run.common.format,
        args::Command::Llc(a) => a.common.format,
        args::Command::Ensemble(a) => a.run.common.format,
        args::Command::Rbm(a) => a.command.common().format,
    };
    let path: Vec<&'static str> = match &cli.command {
        args::Command::Demo(_) => vec!["demo"],
        args::Command::Anneal(_) => vec!["anneal"],
        args::Command::Train(_) => vec!["train"],
        args::Command::Ising(_) => vec!["ising"],
        args::Command::Sample(_) => vec!["sample"],
        args::Command::Evidence(_) => vec!["evidence"],
        args::Command::Certify(_) => vec!["certify"],
        args::Command::Temper(_) => vec!["temper"],
        args::Command::Scan(_) => vec!["scan"],
        args::Command::Llc(_) => vec!["llc"],
        args::Command::Ensemble(_) => vec!["ensemble"],
        args::Command::Rbm(a) => match a.command {
            args::RbmCommand::Train(_) => vec!["rbm", "train"],
            args::RbmCommand::Eval(_) => vec!["rbm", "eval"],
        },
    };
    let result = match cli.command {
        args::Command::Demo(a) => commands::demo::run(a),
        args::Command::Anneal(a) => commands::anneal::run(a),
        args::Command::Train(a) => commands::train::run(a),
        args::Command::Ising(a) => commands::ising::run(a),
        args::Command::Sample(a) => commands::sample::run(a),
        args::Command::Evidence(a) => commands::evidence::run(a),
        args::Command::Certify(a) => commands::certify::run(a),
        args::Command::Temper(a) => commands::temper::run(a),
        args::Command::Scan(a) => commands::scan::run(a),
        args::Command::Llc(a) => commands::llc::run(a),
        args::Command::Ensemble(a) => commands::ensemble::run(a),
        args::Command::Rbm(a) => commands::rbm::run(a),
    };
    if let Err(e) = result {
        let msg = flag_message(&e, &path).unwrap_or_else(|| format!("{e:#}").replace('\n', " "));
        if e.downcast_ref::<commands::Interrupted>().is_some() {
            eprintln!("{msg}");
            std::process::exit(130);
        }
        let code = if e.downcast_ref::<Diverged>().is_some() {
            1
        } else {
            2
        };
        output::Out { format }.event(
            "error",
            serde_json::json!({ "message": msg, "exit_code": code }),
        );
        eprintln!("error: {msg}");
        std::process::exit(code);
    }
}
