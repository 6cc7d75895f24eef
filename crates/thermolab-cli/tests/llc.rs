//! CLI tests of `thermolab llc`: λ̂ of reduced-rank regression beside Aoyagi's exact value, the
//! per-chain traces and plot, reproducibility, and bad inputs refused before any folder is made.

mod common;

use common::*;

#[test]
fn llc_of_reduced_rank_regression_is_near_aoyagi_s_value_and_writes_its_traces() {
    let d = scratch("llc");
    let args = [
        "llc",
        "--widths",
        "1,3,1",
        "--rank",
        "1",
        "--rows",
        "5000",
        "--draws",
        "20000",
        "--step-size",
        "2e-5",
        "--out",
        "run",
    ];
    let o = run_in(&d, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("run/run.json")).unwrap()).unwrap();
    let res = &r["results"];
    let (lambda, se) = (res["lambda"].as_f64().unwrap(), res["se"].as_f64().unwrap());
    assert_eq!(res["exact"].as_f64(), Some(0.5));
    assert!((lambda - 0.5).abs() < 0.1 && se > 0.0, "{res}");
    assert_eq!(res["per_chain"].as_array().unwrap().len(), 8);
    assert!(
        res["training"]["gradient_norm"].as_f64().unwrap() < 1e-4,
        "{res}"
    );
    let csv = std::fs::read_to_string(d.join("run/llc_traces.csv")).unwrap();
    assert!(csv.starts_with("draw,chain_0,chain_1"));
    assert!(csv.lines().count() > 100);
    for f in ["llc_traces.svg", "report.html"] {
        assert!(d.join("run").join(f).exists(), "{f}");
    }
    // The same seed gives the same λ̂ on one thread as on every core.
    let again = run_in(
        &d,
        &[&args[..args.len() - 1], &["run2", "--threads", "1"]].concat(),
    );
    assert!(again.status.success(), "{}", stderr(&again));
    let r2: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("run2/run.json")).unwrap()).unwrap();
    assert_eq!(r2["results"]["per_chain"], res["per_chain"]);
    let cases: &[(&[&str], &str)] = &[
        (&["llc", "--widths", "2,3", "--rank", "3"], "--rank"),
        (&["llc", "--chains", "1"], "--chains"),
        (&["llc", "--step-size", "-1"], "--step-size"),
        (&["llc", "--widths", "2,0,2"], "--widths"),
        (&["llc", "--rows", "1"], "--rows"),
        (&["llc", "--batch-size", "0"], "--batch-size"),
    ];
    assert_refused(&d, cases);
}
