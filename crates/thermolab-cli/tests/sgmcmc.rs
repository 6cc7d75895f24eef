//! CLI tests of the stochastic-gradient samplers (`thermolab sample --sampler sgld|…`): a
//! classifier on the built-in digits, a regression on the sin data, the cyclical schedule,
//! reproducibility, and bad inputs refused before any folder is made.

mod common;

use common::*;

fn sg(dir: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let o = run_in(dir, args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    let out = args[args.iter().position(|a| *a == "--out").unwrap() + 1];
    serde_json::from_str(&std::fs::read_to_string(dir.join(out).join("run.json")).unwrap()).unwrap()
}

#[test]
fn sgld_classifies_the_digits_and_writes_its_folder() {
    let d = scratch("sg-digits");
    let args = [
        "sample",
        "--sampler",
        "sgld",
        "--data",
        "digits",
        "--arch",
        "64-32-10:relu",
        "--epochs",
        "60",
        "--batch-size",
        "50",
        "--step-size",
        "1e-4",
        "--thin",
        "20",
        "--chains",
        "2",
        "--seed",
        "4",
        "--out",
        "run",
    ];
    let r = sg(&d, &args);
    let t = &r["results"]["test"];
    let acc = t["accuracy"].as_f64().unwrap();
    assert!(acc > 0.9, "{t}");
    assert!(t["accuracy_se"].as_f64().unwrap() > 0.0 && t["ece"].as_f64().unwrap() < 0.2);
    assert_eq!(t["test_rows"].as_u64(), Some(359));
    assert_eq!(r["results"]["divergences"].as_u64(), Some(0));
    assert_eq!(r["results"]["steps_per_epoch"].as_u64(), Some(29));
    // 48 sampling epochs × 29 steps / 20, per chain.
    assert_eq!(r["results"]["samples"].as_u64(), Some(2 * (48 * 29 / 20)));
    assert_eq!(r["termination"], "finished");
    for f in [
        "energy.csv",
        "report.html",
        "energy.svg",
        "run.json",
        "reliability.svg",
    ] {
        assert!(d.join("run").join(f).exists(), "{f}");
    }
    // The reliability table covers every test row.
    let rel = std::fs::read_to_string(d.join("run/reliability.csv")).unwrap();
    assert!(rel.starts_with("bin_lower,confidence,accuracy,accuracy_se,rows"));
    let rows: f64 = rel
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(rows, 359.0);
    // 2 730 parameters: more than the samples file takes.
    assert!(!d.join("run/samples.csv").exists());
    let energy = std::fs::read_to_string(d.join("run/energy.csv")).unwrap();
    assert_eq!(energy.lines().count(), 61);
    // The same seed gives the same results, whatever the thread count.
    let again = sg(
        &d,
        &[&args[..args.len() - 1], &["again", "--threads", "1"]].concat(),
    );
    assert_eq!(again["results"]["test"], r["results"]["test"]);
}

#[test]
fn sghmc_and_the_cyclical_schedule_fit_the_sin_data() {
    let d = scratch("sg-sin");
    for sampler in ["sghmc", "csgmcmc", "psgld", "sgnht"] {
        let step = match sampler {
            "psgld" => "1e-3",
            "sgnht" => "1e-3",
            _ => "2e-6",
        };
        let r = sg(
            &d,
            &[
                "sample",
                "--sampler",
                sampler,
                "--epochs",
                "1500",
                "--batch-size",
                "20",
                "--step-size",
                step,
                "--thin",
                "10",
                "--chains",
                "2",
                "--out",
                sampler,
            ],
        );
        let t = &r["results"]["test"];
        // The noise sd is 0.1: a fitted network predicts within a few of it.
        assert!(t["rmse"].as_f64().unwrap() < 0.4, "{sampler}: {t}");
        assert!(d.join(sampler).join("samples.csv").exists());
        assert!(d.join(sampler).join("predictive.svg").exists());
    }
}

#[test]
fn stochastic_gradient_bad_inputs_give_one_line_errors_and_exit_2() {
    let d = scratch("sg-bad");
    std::fs::write(d.join("nan.csv"), "a,b,y\n1,2,0\n3,NaN,1\n").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["sample", "--sampler", "sgld", "--temperature", "-1"],
            "--temperature",
        ),
        (
            &["sample", "--sampler", "sgld", "--step-size", "0"],
            "--step-size",
        ),
        (
            &["sample", "--sampler", "sgld", "--augment-shift", "1"],
            "--augment-shift: only image data",
        ),
        (
            &[
                "sample",
                "--sampler",
                "sgld",
                "--data",
                "digits",
                "--arch",
                "64-10:identity",
                "--augment-shift",
                "8",
            ],
            "--augment-shift",
        ),
        (
            &[
                "sample",
                "--sampler",
                "sgld",
                "--epochs",
                "3",
                "--burn-in-epochs",
                "3",
            ],
            "--burn-in-epochs",
        ),
        (
            &["sample", "--sampler", "sghmc", "--friction", "2"],
            "--friction",
        ),
        (
            &["sample", "--sampler", "csgmcmc", "--exploration", "1"],
            "--exploration",
        ),
        (
            &["sample", "--sampler", "sgld", "--likelihood", "poisson"],
            "unknown likelihood",
        ),
        (
            &["sample", "--sampler", "sgld", "--init", "zeros"],
            "--init",
        ),
        (
            &[
                "sample",
                "--sampler",
                "sgld",
                "--data",
                "digits",
                "--arch",
                "64-8-3",
            ],
            "but `64-8-3:relu` has 3 outputs",
        ),
        (
            &[
                "sample",
                "--sampler",
                "sgld",
                "--data",
                "digits",
                "--arch",
                "10-8-10",
            ],
            "64 input column(s)",
        ),
        (
            &["sample", "--sampler", "sgld", "--data", "nan.csv"],
            "nan.csv:3",
        ),
        (
            &["sample", "--sampler", "sgld", "--data", "missing.csv"],
            "missing.csv",
        ),
        (
            &[
                "sample",
                "--sampler",
                "sgld",
                "--data",
                "digits",
                "--test-fraction",
                "1",
            ],
            "--test-fraction",
        ),
    ];
    assert_refused(&d, cases);
    assert_eq!(entries(&d), vec!["nan.csv"]);
}

#[test]
fn a_temperature_scan_writes_its_curves_and_says_when_it_is_not_at_equilibrium() {
    let d = scratch("sg-scan");
    let r = sg(
        &d,
        &[
            "scan",
            "--data",
            "digits",
            "--arch",
            "64-16-10:relu",
            "--temperatures",
            "0.01,0.1,1",
            "--epochs",
            "30",
            "--batch-size",
            "50",
            "--step-size",
            "1e-4",
            "--thin",
            "10",
            "--chains",
            "2",
            "--out",
            "scan",
        ],
    );
    let temps = r["results"]["temperatures"].as_array().unwrap();
    assert_eq!(temps.len(), 3);
    for t in temps {
        let m = &t["test"];
        assert!(m["accuracy"].as_f64().unwrap() > 0.8, "{t}");
        assert!(m["nll_se"].as_f64().unwrap() > 0.0 && m["ece_se"].as_f64().unwrap() > 0.0);
        assert!(t["heat_capacity"].as_f64().unwrap() > 0.0);
        assert!(t["heat_capacity_se"].as_f64().unwrap() > 0.0);
    }
    // Each T's NLL against T = 1, paired over the test rows: zero at T = 1 itself, and the
    // same as the difference of the NLLs.
    let one = &temps[2]["nll_minus_reference"];
    assert_eq!(
        (one["mean"].as_f64(), one["se"].as_f64()),
        (Some(0.0), Some(0.0))
    );
    let cold = &temps[0];
    let diff = cold["test"]["nll"].as_f64().unwrap() - temps[2]["test"]["nll"].as_f64().unwrap();
    let paired = &cold["nll_minus_reference"];
    assert!(
        (paired["mean"].as_f64().unwrap() - diff).abs() < 1e-9,
        "{paired} vs {diff}"
    );
    assert!(paired["se"].as_f64().unwrap() > 0.0);
    // Colder chains sit lower.
    let e: Vec<f64> = temps
        .iter()
        .map(|t| t["energy"].as_f64().unwrap())
        .collect();
    assert!(e[0] < e[2], "{e:?}");
    let csv = std::fs::read_to_string(d.join("scan/scan.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4);
    assert!(csv.starts_with("temperature,nll,nll_se,accuracy,accuracy_se,ece,ece_se,energy"));
    for f in [
        "scan_nll.svg",
        "scan_accuracy.svg",
        "scan_ece.svg",
        "scan_heat_capacity.svg",
    ] {
        assert!(d.join("scan").join(f).exists(), "{f}");
    }
    // 30 epochs from the initial weights do not reach equilibrium at T = 0.01: said so.
    let warnings = r["results"]["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("T = 0.01: the samples' energy still drifts")),
        "{warnings:?}"
    );
    let cases: &[(&[&str], &str)] = &[
        (&["scan", "--temperatures", "0,1"], "--temperatures"),
        (&["scan", "--sampler", "nuts-ish"], "--sampler"),
    ];
    assert_refused(&d, cases);
}

#[test]
fn a_deep_ensemble_and_multiswag_predict_the_digits_with_their_spread() {
    let d = scratch("sg-ensemble");
    let args = [
        "ensemble",
        "--data",
        "digits",
        "--arch",
        "64-32-10:relu",
        "--chains",
        "4",
        "--epochs",
        "40",
        "--batch-size",
        "50",
        "--step-size",
        "1e-4",
        "--thin",
        "29",
        "--swag-samples",
        "10",
        "--llc-draws",
        "2000",
        "--out",
        "ens",
    ];
    let r = sg(&d, &args);
    let res = &r["results"];
    let (ens, members) = (&res["ensemble"], res["members"].as_array().unwrap());
    assert_eq!(members.len(), 4);
    assert!(ens["accuracy"].as_f64().unwrap() > 0.9, "{ens}");
    // −ln of averaged probabilities is at most the average −ln (Jensen), row by row.
    let mean_nll = members
        .iter()
        .map(|m| m["nll"].as_f64().unwrap())
        .sum::<f64>()
        / 4.0;
    assert!(
        ens["nll"].as_f64().unwrap() <= mean_nll + 1e-12,
        "{ens} vs {mean_nll}"
    );
    let f = &res["function_spread"];
    let dis = f["disagreement"]["mean"].as_f64().unwrap();
    assert!(dis > 0.0 && dis < 0.2, "{f}");
    let mi = f["mutual_information"]["mean"].as_f64().unwrap();
    let (h, e) = (
        f["predictive_entropy"]["mean"].as_f64().unwrap(),
        f["expected_entropy"]["mean"].as_f64().unwrap(),
    );
    assert!(mi > 0.0 && (h - e - mi).abs() < 1e-9, "{f}");
    assert!(res["weight_spread"]["relative"].as_f64().unwrap() > 0.1);
    assert!(res["multiswag"]["test"]["accuracy"].as_f64().unwrap() > 0.9);
    assert_eq!(res["multiswag"]["draws"].as_u64(), Some(40));
    // λ̂ per member: positive, far below d/2 = 1 245 for a network this over-parameterised.
    let llc = res["llc"].as_array().unwrap();
    assert_eq!(llc.len(), 4);
    for e in llc {
        let (l, se) = (e["lambda"].as_f64().unwrap(), e["se"].as_f64().unwrap());
        assert!(l > 3.0 * se && l < 200.0 && se > 0.0, "{e}");
    }
    assert!(
        res["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w.as_str().unwrap().contains("λ̂")),
        "{res}"
    );
    for f in [
        "members.csv",
        "reliability.csv",
        "reliability.svg",
        "report.html",
    ] {
        assert!(d.join("ens").join(f).exists(), "{f}");
    }
    let again = sg(
        &d,
        &[&args[..args.len() - 1], &["again", "--threads", "1"]].concat(),
    );
    assert_eq!(again["results"]["ensemble"], res["ensemble"]);
    assert_eq!(again["results"]["multiswag"], res["multiswag"]);
    // A step far too large: said so.
    let mut big_args = args.to_vec();
    big_args[12] = "0.1";
    big_args[16] = "0";
    big_args[18] = "0";
    big_args[20] = "big";
    let big = sg(&d, &big_args);
    assert!(
        big["results"]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("training did not lower the loss"),
        "{}",
        big["results"]
    );
    // Augmented minibatches: recorded, and a different run.
    let mut aug_args = args.to_vec();
    aug_args[20] = "aug";
    aug_args.extend(["--augment-shift", "1"]);
    let aug = sg(&d, &aug_args);
    assert_eq!(aug["settings"]["data"]["augment_shift"].as_u64(), Some(1));
    assert!(aug["results"]["ensemble"]["accuracy"].as_f64().unwrap() > 0.85);
    assert_ne!(aug["results"]["ensemble"], res["ensemble"]);
    let cases: &[(&[&str], &str)] = &[
        (&["ensemble", "--sampler", "sgld"], "--sampler"),
        (&["ensemble", "--temperature", "1"], "--temperature"),
        (&["ensemble", "--chains", "1"], "--chains"),
        (
            &["ensemble", "--llc-draws", "10", "--llc-chains", "1"],
            "--llc-chains",
        ),
        (
            &["ensemble", "--swag-samples", "5", "--swag-rank", "1"],
            "--swag-rank",
        ),
    ];
    assert_refused(&d, cases);
}
