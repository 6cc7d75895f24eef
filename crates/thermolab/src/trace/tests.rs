//! Tests of run folders (atomic commit, refusal to clobber) and CSV formatting.

use super::*;

fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("thermolab-trace-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A minimal run.json.
const RUN: &str = "{\"command\":\"test\"}";

#[test]
fn commit_is_atomic_and_replaces_only_when_asked() {
    let base = scratch("a");
    let target = base.join("out");
    let rf = RunFolder::create(&target, Existing::Refuse).unwrap();
    rf.write("run.json", RUN).unwrap();
    rf.write("plots/a.svg", "<svg/>").unwrap();
    assert!(!target.exists(), "nothing visible before commit");
    rf.commit().unwrap();
    assert!(target.join("plots/a.svg").is_file());
    std::fs::write(target.join("my_notes.txt"), "mine").unwrap();
    // A second run refuses to replace the first, and keeps the user's file.
    let e = RunFolder::create(&target, Existing::Refuse).unwrap_err();
    assert!(matches!(e, RunFolderError::Exists(_)), "{e}");
    assert!(target.join("my_notes.txt").is_file());
    // Numbered: the next free name.
    let rf = RunFolder::create(&target, Existing::Number).unwrap();
    assert_eq!(rf.target(), base.join("out-2"));
    rf.write("run.json", RUN).unwrap();
    rf.commit().unwrap();
    assert_eq!(
        RunFolder::create(&target, Existing::Number)
            .unwrap()
            .target(),
        base.join("out-3")
    );
    // Replacing a run folder when asked, but never a file the run did not write.
    let e = RunFolder::create(&target, Existing::ReplaceRun).unwrap_err();
    assert!(matches!(e, RunFolderError::ForeignFiles { .. }), "{e}");
    assert!(e.to_string().contains("my_notes.txt"), "{e}");
    std::fs::remove_file(target.join("my_notes.txt")).unwrap();
    let rf = RunFolder::create(&target, Existing::ReplaceRun).unwrap();
    rf.write("run.json", "{\"command\":\"second\"}").unwrap();
    rf.commit().unwrap();
    assert!(std::fs::read_to_string(target.join("run.json"))
        .unwrap()
        .contains("second"));
    assert!(!target.join("plots").exists());
    // Dropping without commit leaves nothing behind (no partial folder, no lock file).
    let t2 = base.join("never");
    {
        let rf = RunFolder::create(&t2, Existing::Refuse).unwrap();
        rf.write("run.json", "{}").unwrap();
    }
    assert!(!t2.exists());
    let mut left: Vec<String> = std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["out", "out-2"]);
    // A folder with other content is refused even when replacing is allowed.
    let other = base.join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("precious.txt"), "x").unwrap();
    let e = RunFolder::create(&other, Existing::ReplaceRun)
        .unwrap_err()
        .to_string();
    assert!(e.contains("refusing to replace"), "{e}");
}

/// While one run holds a target, a second one to it fails at once; the current folder and the
/// root cannot be output folders.
#[test]
fn a_locked_or_current_folder_is_refused() {
    let base = scratch("lock");
    let target = base.join("out");
    let first = RunFolder::create(&target, Existing::Refuse).unwrap();
    let e = RunFolder::create(&target, Existing::ReplaceRun).unwrap_err();
    assert!(matches!(e, RunFolderError::Locked { .. }), "{e}");
    // A numbered run skips the locked name.
    assert_eq!(
        RunFolder::create(&target, Existing::Number)
            .unwrap()
            .target(),
        base.join("out-2")
    );
    drop(first);
    assert!(RunFolder::create(&target, Existing::Refuse).is_ok());
    for p in [".", "..", "/"] {
        let e = RunFolder::create(std::path::Path::new(p), Existing::ReplaceRun).unwrap_err();
        assert!(matches!(e, RunFolderError::Unusable(_)), "{p}: {e}");
    }
}

#[test]
fn csv_round_trips_floats() {
    let rows = [[0.1, 1e-300], [f64::NAN, -2.5]];
    let s = csv_table(&["a", "b"], rows.iter().map(|r| &r[..]));
    assert_eq!(s, "a,b\n0.1,1e-300\nnan,-2.5\n");
    let v: f64 = "0.1".parse().unwrap();
    assert_eq!(v, 0.1);
}
