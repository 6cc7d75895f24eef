//! Ctrl-C (SIGINT, also typed into a pty) and SIGTERM: every long-running command stops at its
//! next check, writes a complete run folder marked `interrupted` and exits 130; `sample
//! --resume` then finishes to the draws of an uninterrupted run.

mod common;

use common::*;
use std::path::Path;

const SAMPLE: &[&str] = &[
    "sample",
    "--target",
    "gauss",
    "--dim",
    "100",
    "--warmup",
    "2000",
    "--draws",
    "2000",
    "--checkpoint-every",
    "50",
    "--seed",
    "3",
    "--no-plots",
];

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn with_out<'a>(args: &[&'a str], out: &'a str) -> Vec<&'a str> {
    [args, &["--out", out]].concat()
}

/// No partial folder is left in `dir`.
fn no_partials(dir: &Path) {
    let names = entries(dir);
    assert!(names.iter().all(|n| !n.contains(".partial-")), "{names:?}");
}

#[test]
fn sigint_during_warmup_and_sampling_keeps_the_work_and_resume_finishes_the_same_draws() {
    let d = scratch("sigint-sample");
    let o = run_in(&d, &with_out(SAMPLE, "full"));
    assert!(o.status.success(), "{}", stderr(&o));
    for phase in ["warmup", "sampling"] {
        let out = format!("int-{phase}");
        let (code, events) = signal_when(&d, &with_out(SAMPLE, &out), "INT", |e| {
            progress(e, Some(phase))
        });
        assert_eq!(code, Some(130), "{phase}: {events:?}");
        let folder = d.join(&out);
        assert_eq!(run_json(&folder)["termination"], "interrupted", "{phase}");
        for f in ["summary.csv", "draws/chain_0.csv", "draws/chain_3.csv"] {
            assert!(folder.join(f).is_file(), "{phase}: {f} missing");
        }
        let done = events.iter().find(|e| e["type"] == "done").unwrap();
        assert_eq!(done["data"]["termination"], "interrupted");
        assert!(d.join(format!("{out}.checkpoint.json")).is_file());
        no_partials(&d);
        // The checkpoint continues the run into the same folder, to the same draws.
        let o = run_in(&d, &[&with_out(SAMPLE, &out)[..], &["--resume"]].concat());
        assert!(o.status.success(), "{phase}: {}", stderr(&o));
        assert_eq!(run_json(&folder)["termination"], "finished");
        for c in 0..4 {
            let f = format!("draws/chain_{c}.csv");
            assert!(
                read(&d.join("full").join(&f)) == read(&folder.join(&f)),
                "{phase}: chain {c} differs after resume"
            );
        }
        assert!(!d.join(format!("{out}.checkpoint.json")).exists());
    }
    no_partials(&d);
}

/// Ctrl-C typed into a terminal: `script` runs the command on a pty, and the ^C written to it
/// reaches the command as SIGINT from the terminal's line discipline.
#[test]
fn ctrl_c_typed_into_a_pty_interrupts_sample() {
    use std::io::Write;
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: `script` (util-linux) is not installed");
        return;
    }
    let d = scratch("pty");
    let cmd = format!(
        "exec {} {} --out pty",
        env!("CARGO_BIN_EXE_thermolab"),
        SAMPLE.join(" ")
    );
    let mut child = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(&d)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let cp = d.join("pty.checkpoint.json");
    let t0 = std::time::Instant::now();
    while !cp.exists() && t0.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(cp.exists(), "the run never wrote a checkpoint");
    child.stdin.as_mut().unwrap().write_all(b"\x03").unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_eq!(run_json(&d.join("pty"))["termination"], "interrupted");
    no_partials(&d);
}

/// Every other long-running command: SIGINT (and SIGTERM for one) once it is under way gives
/// exit 130 and a run folder marked interrupted.
#[test]
fn every_long_running_command_stops_on_a_signal_and_writes_its_folder() {
    let d = scratch("sigint-all");
    // A small machine for `rbm eval`.
    let o = run_in(
        &d,
        &[
            "rbm",
            "train",
            "--hidden",
            "4",
            "--epochs",
            "2",
            "--no-plots",
            "--out",
            "m",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let started = |e: &serde_json::Value| progress(e, None);
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        (
            "anneal",
            vec![
                "anneal",
                "--dim",
                "200",
                "--restarts",
                "50",
                "--confirmations",
                "0",
            ],
            "INT",
        ),
        ("train", vec!["train", "--epochs", "50000000"], "INT"),
        (
            "ising",
            vec![
                "ising", "--L", "64", "--sweeps", "10000000", "--T", "2.0,2.5",
            ],
            "TERM",
        ),
        (
            "temper",
            vec!["temper", "--rounds", "2000000", "--chains", "1"],
            "INT",
        ),
        (
            "evidence",
            vec!["evidence", "--draws", "1000000", "--rungs", "64"],
            "INT",
        ),
        ("certify", vec!["certify"], "INT"),
        (
            "rbm-train",
            vec!["rbm", "train", "--hidden", "8", "--epochs", "1000000"],
            "INT",
        ),
        (
            "rbm-eval",
            vec![
                "rbm",
                "eval",
                "--model",
                "m/model.json",
                "--ais",
                "--ais-temperatures",
                "100000000",
            ],
            "INT",
        ),
    ];
    for (name, args, signal) in cases {
        let out = format!("int-{name}");
        let args = with_out(&args, &out);
        let (code, events) = if name == "certify" {
            // No progress events: signal once it has started.
            signal_when(&d, &args, signal, |e| {
                let start = e["type"] == "start";
                if start {
                    std::thread::sleep(std::time::Duration::from_millis(500));
                }
                start
            })
        } else {
            signal_when(&d, &args, signal, started)
        };
        assert_eq!(code, Some(130), "{name}: {events:?}");
        let r = run_json(&d.join(&out));
        assert_eq!(r["termination"], "interrupted", "{name}: {r}");
        no_partials(&d);
    }
}
