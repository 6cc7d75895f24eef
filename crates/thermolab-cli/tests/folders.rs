//! Run folders as a user meets them: a rerun never deletes an earlier run or a user's file, a
//! second run to a folder being written fails at once, and sizes the machine cannot hold are
//! refused in well under a second with nothing computed or written.

mod common;

use common::*;

#[test]
fn a_rerun_never_deletes_an_earlier_run_or_a_users_file() {
    let d = scratch("rerun");
    let o = run_in(&d, &["demo", "--no-plots"]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(d.join("thermolab-demo/my_notes.txt"), "mine").unwrap();
    let first = std::fs::read_to_string(d.join("thermolab-demo/run.json")).unwrap();
    // The default folder is taken: the rerun goes to the next numbered one.
    let o = run_in(&d, &["demo", "--no-plots", "--seed", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("wrote thermolab-demo-2"));
    assert!(d.join("thermolab-demo-2/run.json").is_file());
    // An explicit --out holding a run is refused, naming --force.
    let o = run_in(&d, &["demo", "--no-plots", "--out", "thermolab-demo"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(d.join("thermolab-demo/run.json")).unwrap(),
        first
    );
    assert_eq!(
        std::fs::read_to_string(d.join("thermolab-demo/my_notes.txt")).unwrap(),
        "mine"
    );
    // --force does not delete a file the user put in the folder.
    let o = run_in(
        &d,
        &["demo", "--no-plots", "--out", "thermolab-demo", "--force"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("my_notes.txt"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(d.join("thermolab-demo/my_notes.txt")).unwrap(),
        "mine"
    );
    std::fs::remove_file(d.join("thermolab-demo/my_notes.txt")).unwrap();
    // A folder whose run.json is not a run's is not a run folder.
    std::fs::create_dir(d.join("other")).unwrap();
    std::fs::write(d.join("other/run.json"), "{}").unwrap();
    let o = run_in(&d, &["demo", "--no-plots", "--out", "other", "--force"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a thermolab run"), "{}", stderr(&o));
    std::fs::remove_dir_all(d.join("other")).unwrap();
    // --force replaces it, as asked.
    let o = run_in(
        &d,
        &[
            "demo",
            "--no-plots",
            "--out",
            "thermolab-demo",
            "--force",
            "--seed",
            "2",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(run_json(&d.join("thermolab-demo"))["seed"], 2);
    let names = entries(&d);
    assert_eq!(names, ["thermolab-demo", "thermolab-demo-2"], "{names:?}");
}

/// A killed run leaves only its checkpoint: a fresh run never overwrites it.
#[test]
fn a_resumable_checkpoint_is_never_overwritten() {
    let d = scratch("checkpoint");
    std::fs::write(d.join("run1.checkpoint.json"), "{}").unwrap();
    std::fs::create_dir(d.join("run1.checkpoint.json.draws")).unwrap();
    std::fs::write(d.join("run1.checkpoint.json.draws/chain_0.csv"), "x\n1\n").unwrap();
    let args = [
        "sample",
        "--dim",
        "2",
        "--warmup",
        "50",
        "--draws",
        "50",
        "--no-plots",
    ];
    let o = run_in(&d, &[&args[..], &["--out", "run1"]].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--resume"), "{}", stderr(&o));
    assert!(d.join("run1.checkpoint.json.draws/chain_0.csv").is_file());
    // The default folder's checkpoint: the fresh run takes the next numbered name.
    std::fs::write(d.join("thermolab-sample.checkpoint.json"), "{}").unwrap();
    let o = run_in(&d, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(d.join("thermolab-sample-2/run.json").is_file());
    assert_eq!(
        std::fs::read_to_string(d.join("thermolab-sample.checkpoint.json")).unwrap(),
        "{}"
    );
    // No lock files are left behind by refusals or finished runs.
    let locks: Vec<String> = entries(&d)
        .into_iter()
        .filter(|n| n.ends_with(".lock"))
        .collect();
    assert!(locks.is_empty(), "{locks:?}");
}

#[test]
fn a_second_run_to_a_folder_being_written_fails_at_once() {
    let d = scratch("concurrent");
    let long = [
        "ising", "--L", "32", "--sweeps", "10000000", "--T", "2.2", "--out", "busy",
    ];
    let (code, _) = signal_when(&d, &long, "INT", |e| {
        if !progress(e, None) {
            return false;
        }
        // While the first run writes `busy`, a second one to it fails at once.
        let t0 = std::time::Instant::now();
        let o = run_in(&d, &["demo", "--out", "busy"]);
        let secs = t0.elapsed().as_secs_f64();
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("another thermolab run is writing"),
            "{}",
            stderr(&o)
        );
        assert!(secs < 1.0, "the refusal took {secs} s");
        true
    });
    assert_eq!(code, Some(130));
    assert_eq!(run_json(&d.join("busy"))["command"], "ising");
}

#[test]
fn impossible_sizes_and_outputs_are_refused_before_any_work() {
    let d = scratch("sizes");
    let cases: &[(&[&str], &str)] = &[
        (
            &["sample", "--dim", "1000000000"],
            "--dim 1000000000 with --chains 4 --draws 1000: the run needs about",
        ),
        (
            &["sample", "--dim", "18446744073709551615"],
            "far more memory than any machine has",
        ),
        (
            &["sample", "--threads", "100000"],
            "--threads 100000: at most",
        ),
        (&["temper", "--dim", "1000000000"], "the run needs about"),
        (
            &["evidence", "--dim", "1000000000"],
            "--dim 1000000000 with --n 100",
        ),
        (&["anneal", "--dim", "100000000"], "--dim 100000000"),
        (
            &["anneal", "--dim", "18446744073709551615"],
            "far more memory",
        ),
        (
            &["ising", "--L", "100000"],
            "--side 100000 with --lattice-dim 2",
        ),
        // Counts whose sums or allocations would overflow.
        (
            &["sample", "--warmup", "18446744073709551615"],
            "--draws: warm-up plus draws × thin is too large",
        ),
        (
            &["sample", "--thin", "18446744073709551615"],
            "--draws: warm-up plus draws × thin is too large",
        ),
        (
            &["temper", "--warmup", "18446744073709551615"],
            "--warmup: warm-up plus rounds is too large",
        ),
        (
            &[
                "ising",
                "--thermalize",
                "18446744073709551615",
                "--sweeps",
                "100",
            ],
            "thermalisation plus sweeps is too large",
        ),
        (
            &["ising", "--ti", "--ti-points", "18446744073709551615"],
            "--ti-points 18446744073709551615",
        ),
        (
            &["train", "--epochs", "18446744073709551615"],
            "--epochs 18446744073709551615",
        ),
        (
            &["train", "--n", "18446744073709551615"],
            "--n 18446744073709551615",
        ),
        (
            &["rbm", "eval", "--model", "m.json", "--threads", "100000"],
            "--threads 100000: at most",
        ),
        (
            &["ising", "--threads", "100000"],
            "--threads 100000: at most",
        ),
        (
            &["train", "--arch", "1-1000000000-1"],
            "--arch 1-1000000000-1",
        ),
        (
            &["demo", "--out", "."],
            "--out .: cannot be the current folder",
        ),
        (
            &["sample", "--out", ".."],
            "--out ..: cannot be the current folder",
        ),
    ];
    for (args, want) in cases {
        let t0 = std::time::Instant::now();
        let o = run_in(&d, args);
        let secs = t0.elapsed().as_secs_f64();
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(e.contains(want), "{args:?}: {e}");
        assert_eq!(e.trim_end().lines().count(), 1, "{args:?}: {e}");
        assert!(secs < 1.0, "{args:?} took {secs} s");
    }
    assert!(entries(&d).is_empty(), "{:?}", entries(&d));
}
