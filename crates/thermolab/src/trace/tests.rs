//! Tests of run folders (atomic commit, refusal to clobber) and CSV formatting.

use super::*;

fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("thermolab-trace-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn commit_is_atomic_and_replaces_only_run_folders() {
    let base = scratch("a");
    let target = base.join("out");
    let rf = RunFolder::create(&target).unwrap();
    rf.write("run.json", "{}").unwrap();
    rf.write("plots/a.svg", "<svg/>").unwrap();
    assert!(!target.exists(), "nothing visible before commit");
    rf.commit().unwrap();
    assert!(target.join("plots/a.svg").is_file());
    // A second run replaces the first.
    let rf = RunFolder::create(&target).unwrap();
    rf.write("run.json", "{\"second\":1}").unwrap();
    rf.commit().unwrap();
    assert!(std::fs::read_to_string(target.join("run.json"))
        .unwrap()
        .contains("second"));
    assert!(!target.join("plots").exists());
    // Dropping without commit leaves nothing behind.
    let t2 = base.join("never");
    {
        let rf = RunFolder::create(&t2).unwrap();
        rf.write("run.json", "{}").unwrap();
    }
    assert!(!t2.exists());
    assert_eq!(std::fs::read_dir(&base).unwrap().count(), 1);
    // A folder with other content is refused.
    let other = base.join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("precious.txt"), "x").unwrap();
    let e = RunFolder::create(&other).unwrap_err().to_string();
    assert!(e.contains("refusing to replace"), "{e}");
}

#[test]
fn csv_round_trips_floats() {
    let rows = [[0.1, 1e-300], [f64::NAN, -2.5]];
    let s = csv_table(&["a", "b"], rows.iter().map(|r| &r[..]));
    assert_eq!(s, "a,b\n0.1,1e-300\nnan,-2.5\n");
    let v: f64 = "0.1".parse().unwrap();
    assert_eq!(v, 0.1);
}
