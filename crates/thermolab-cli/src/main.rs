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
mod plots;
mod report;

use clap::Parser;

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
    let cli = args::Cli::parse();
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
        args::Command::Rbm(a) => a.command.common().format,
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
        args::Command::Rbm(a) => commands::rbm::run(a),
    };
    if let Err(e) = result {
        let msg = format!("{e:#}").replace('\n', " ");
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
