//! The JSON Lines events of docs/events.md: every line is an event, a run goes start →
//! progress → result → done, and every failure (also arguments that do not parse) is an
//! `error` event.

mod common;

use common::*;
use serde_json::Value;

fn events(o: &std::process::Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

#[test]
fn a_run_and_its_failures_are_events() {
    let d = scratch("events");
    let o = run_in(
        &d,
        &[
            "sample",
            "--target",
            "gauss",
            "--dim",
            "5",
            "--rho",
            "0",
            "--warmup",
            "500",
            "--draws",
            "1000",
            "--no-plots",
            "--format",
            "json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let ev = events(&o);
    let kinds: Vec<&str> = ev.iter().map(|e| e["type"].as_str().unwrap()).collect();
    let main: Vec<&str> = kinds.iter().copied().filter(|k| *k != "progress").collect();
    assert_eq!(main, ["start", "result", "done"], "{kinds:?}");
    let phases: Vec<&str> = ev
        .iter()
        .filter(|e| e["type"] == "progress")
        .filter_map(|e| e["data"]["phase"].as_str())
        .collect();
    assert!(
        phases.contains(&"warmup") && phases.contains(&"sampling"),
        "{phases:?}"
    );
    let result = &ev[kinds.iter().position(|k| *k == "result").unwrap()]["data"];
    assert_eq!(result["verdict"]["converged"], true, "{result}");
    // A setting the command refuses, and arguments that do not parse.
    for args in [
        &["sample", "--target", "nope", "--format", "json"][..],
        &["sample", "--chains", "many", "--format", "json"][..],
        &["sample", "--no-such-flag", "--format", "json"][..],
    ] {
        let o = run_in(&d, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let ev = events(&o);
        assert_eq!(ev.len(), 1, "{args:?}: {ev:?}");
        assert_eq!(ev[0]["type"], "error");
        assert_eq!(ev[0]["data"]["exit_code"], 2);
        assert!(!ev[0]["data"]["message"].as_str().unwrap().is_empty());
    }
}

/// A run that does not converge says so in text, in JSON and in run.json; it still exits 0.
#[test]
fn a_run_that_does_not_converge_warns_and_says_what_to_try() {
    let d = scratch("verdict");
    let o = run_in(
        &d,
        &[
            "sample",
            "--target",
            "funnel",
            "--dim",
            "10",
            "--warmup",
            "100",
            "--draws",
            "100",
            "--no-plots",
            "--out",
            "f",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("WARNING:"), "{text}");
    let r = run_json(&d.join("f"));
    let v = &r["results"]["verdict"];
    assert_eq!(v["converged"], false, "{v}");
    let warnings: Vec<&str> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("bulk ESS") && w.contains("--draws")),
        "{warnings:?}"
    );
}
