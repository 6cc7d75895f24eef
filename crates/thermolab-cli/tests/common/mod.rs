//! Helpers shared by the CLI test files: run the binary in scratch folders and check refusals.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_thermolab"))
}

pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("thermolab-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    bin().current_dir(dir).args(args).output().unwrap()
}

/// Runs every case in `dir`: each must fail with exit code 2 and a one-line error containing
/// the expected text, without a panic.
pub fn assert_refused(dir: &Path, cases: &[(&[&str], &str)]) {
    for (args, want) in cases {
        let o = run_in(dir, args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(e.contains(want), "{args:?}: {e}");
        assert_eq!(e.trim_end().lines().count(), 1, "{args:?}: {e}");
        assert!(!e.contains("panicked"), "{args:?}: {e}");
    }
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The entries of `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Runs `args` three ways in `dir`: uninterrupted into `full`; into `killed`, killed with
/// SIGKILL once its checkpoint has been written; then `--resume`d into `killed`. Checks that
/// the kill came before the end and that the resumed run succeeds and removes its checkpoint.
pub fn run_kill_and_resume(dir: &Path, args: &[&str]) {
    let full = run_in(dir, &[args, &["--out", "full"]].concat());
    assert!(full.status.success(), "{}", stderr(&full));
    kill_after_checkpoint(dir, args);
    let o = run_in(dir, &[args, &["--out", "killed", "--resume"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!dir.join("killed.checkpoint.json").exists());
}

/// Runs the binary with `args` plus `--out killed` in `dir`, waits until the run has written
/// `killed.checkpoint.json` (seen a few times), kills it with SIGKILL, and checks that it had
/// not finished and left only its checkpoint.
fn kill_after_checkpoint(dir: &Path, args: &[&str]) {
    let mut child = bin()
        .current_dir(dir)
        .args(args)
        .args(["--out", "killed"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let cp = dir.join("killed.checkpoint.json");
    let t0 = std::time::Instant::now();
    let mut seen = 0;
    while t0.elapsed().as_secs() < 60 {
        if cp.exists() {
            seen += 1;
            if seen > 3 {
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the run finished before it could be killed"
    );
    assert!(cp.exists() && !dir.join("killed").exists());
}

/// Runs the binary with `args` plus `--format json` in `dir`; once a stdout event satisfies
/// `ready`, sends it `signal` (`INT`, `TERM`) with `kill`. Returns the exit code and every
/// event. Panics if the run ended before the signal could be sent.
pub fn signal_when(
    dir: &Path,
    args: &[&str],
    signal: &str,
    ready: impl Fn(&serde_json::Value) -> bool,
) -> (Option<i32>, Vec<serde_json::Value>) {
    use std::io::BufRead;
    let mut child = bin()
        .current_dir(dir)
        .args(args)
        .args(["--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut events, mut sent) = (Vec::new(), false);
    let t0 = std::time::Instant::now();
    while let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(120)) {
        let v: serde_json::Value = serde_json::from_str(&line).expect("every line is JSON");
        if !sent && ready(&v) {
            let ok = Command::new("kill")
                .args([format!("-{signal}"), child.id().to_string()])
                .status()
                .unwrap()
                .success();
            assert!(ok, "kill -{signal} failed");
            sent = true;
        }
        events.push(v);
        assert!(t0.elapsed().as_secs() < 300, "{args:?} did not end");
    }
    let status = child.wait().unwrap();
    assert!(
        sent,
        "{args:?} ended before it could be signalled: {events:?}"
    );
    (status.code(), events)
}

/// The `run.json` of the run folder `dir`.
pub fn run_json(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("run.json"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    serde_json::from_str(&text).unwrap()
}

/// Whether `e` is a progress event (of phase `phase`, when given) past its start.
pub fn progress(e: &serde_json::Value, phase: Option<&str>) -> bool {
    e["type"] == "progress"
        && e["data"]["done"].as_u64().unwrap_or(0) > 0
        && phase.is_none_or(|p| e["data"]["phase"] == p)
}
