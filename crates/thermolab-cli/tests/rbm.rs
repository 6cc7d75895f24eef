//! CLI tests of `thermolab rbm`: training on the built-in digits with an exact log-likelihood,
//! evaluation (exact and AIS) of the saved model, and every kind of bad input.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;

fn json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn train_then_eval_on_digits() {
    let d = scratch("rbm-train");
    let o = run_in(
        &d,
        &[
            "rbm", "train", "--hidden", "12", "--epochs", "30", "--out", "run",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = d.join("run");
    for f in [
        "model.json",
        "curves.csv",
        "run.json",
        "report.html",
        "filters.png",
        "fantasy.png",
        "learning_curves.svg",
        "monitors.png",
    ] {
        assert!(out.join(f).exists(), "missing {f}");
    }
    let r = json(&out.join("run.json"));
    let ll = r["results"]["log_likelihood_test"].as_f64().unwrap();
    // The independent-pixel model scores −24.5 nats on this split; a trained machine is better.
    assert!(ll > -22.0 && ll < -15.0, "test log-likelihood {ll}");
    assert_eq!(r["results"]["log_z_method"], "exact");
    let curves = std::fs::read_to_string(out.join("curves.csv")).unwrap();
    assert!(curves.lines().count() > 10);
    // Exact evaluation reproduces the training report; AIS agrees within its error.
    let o = run_in(
        &d,
        &[
            "rbm",
            "eval",
            "--model",
            "run/model.json",
            "--out",
            "ev",
            "--no-plots",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let e = json(&d.join("ev/run.json"));
    let exact = e["results"]["log_likelihood"].as_f64().unwrap();
    assert!((exact - ll).abs() < 1e-6, "{exact} vs {ll}");
    let o = run_in(
        &d,
        &[
            "rbm",
            "eval",
            "--model",
            "run/model.json",
            "--ais",
            "--ais-temperatures",
            "2000",
            "--reverse",
            "--out",
            "ev-ais",
            "--no-plots",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let a = json(&d.join("ev-ais/run.json"));
    let lz_exact = e["results"]["log_z"].as_f64().unwrap();
    for key in ["ais", "reverse_ais"] {
        let lz = a["results"][key]["log_z"].as_f64().unwrap();
        let se = a["results"][key]["se"].as_f64().unwrap();
        assert!(
            (lz - lz_exact).abs() < 4.0 * se + 0.02,
            "{key}: {lz} ± {se} vs {lz_exact}"
        );
    }
    // The machine's hidden layer is enumerable: reverse AIS starts from exact samples, so it
    // brackets the log-likelihood with forward AIS, and says so.
    assert_eq!(a["results"]["reverse_ais"]["start"], "exact");
    let bracket = a["results"]["log_likelihood_bracket"].as_array().unwrap();
    assert!(bracket[0].as_f64().unwrap() <= bracket[1].as_f64().unwrap() + 0.05);

    // The same machine given as plain arrays (W, b as CSV; c as NPY) with --binarize gives the
    // same log-likelihood; a hand-written model.json without the optional records loads too.
    let m = json(&out.join("model.json"));
    let arrays = d.join("arrays");
    std::fs::create_dir_all(&arrays).unwrap();
    let (nv, nh) = (64usize, 12usize);
    let w: Vec<f64> = m["rbm"]["w"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let rows: Vec<String> = w
        .chunks(nh)
        .map(|r| {
            r.iter()
                .map(|v| format!("{v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    std::fs::write(arrays.join("W.csv"), rows.join("\n") + "\n").unwrap();
    let vec_csv = |key: &str| -> String {
        m["rbm"][key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| format!("{}", v.as_f64().unwrap()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    std::fs::write(arrays.join("b.csv"), vec_csv("b")).unwrap();
    let c: Vec<f32> = m["rbm"]["c"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    std::fs::write(arrays.join("c.npy"), npy_f32(&c)).unwrap();
    assert_eq!(w.len(), nv * nh);
    let threshold = m["preprocess"]["binarize"]["threshold"]
        .as_f64()
        .unwrap()
        .to_string();
    let o = run_in(
        &d,
        &[
            "rbm",
            "eval",
            "--model",
            "arrays",
            "--binarize",
            &threshold,
            "--out",
            "ev-arrays",
            "--no-plots",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let from_arrays = json(&d.join("ev-arrays/run.json"))["results"]["log_likelihood"]
        .as_f64()
        .unwrap();
    assert!((from_arrays - ll).abs() < 1e-4, "{from_arrays} vs {ll}");
    let mut minimal = m.clone();
    minimal.as_object_mut().unwrap().remove("data");
    minimal.as_object_mut().unwrap().remove("training");
    std::fs::write(d.join("minimal.json"), minimal.to_string()).unwrap();
    let o = run_in(
        &d,
        &[
            "rbm",
            "eval",
            "--model",
            "minimal.json",
            "--out",
            "ev-min",
            "--no-plots",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // A broken array names its file and line.
    std::fs::write(arrays.join("b.csv"), "0.1\nx\n").unwrap();
    let o = run_in(&d, &["rbm", "eval", "--model", "arrays", "--out", "ev-bad"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("b.csv") && stderr(&o).contains("line 2"),
        "{}",
        stderr(&o)
    );
}

/// A one-dimensional little-endian f32 NPY file (format 1.0).
fn npy_f32(v: &[f32]) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({},), }}",
        v.len()
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

#[test]
fn gaussian_units_on_a_csv_file() {
    let d = scratch("rbm-gauss");
    let mut text = String::from("a,b,c,d\n");
    for i in 0..200 {
        let t = i as f64 * 0.1;
        text.push_str(&format!(
            "{},{},{},{}\n",
            t.sin(),
            t.cos(),
            (2.0 * t).sin(),
            t.sin() + 0.1 * t.cos()
        ));
    }
    std::fs::write(d.join("x.csv"), text).unwrap();
    let o = run_in(
        &d,
        &[
            "rbm",
            "train",
            "--data",
            "x.csv",
            "--visible",
            "gaussian",
            "--hidden",
            "6",
            "--epochs",
            "20",
            "--lr",
            "0.01",
            "--out",
            "g",
            "--no-plots",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let r = json(&d.join("g/run.json"));
    assert_eq!(r["settings"]["test_images"], 30);
    assert!(r["results"]["log_likelihood_test"]
        .as_f64()
        .unwrap()
        .is_finite());
    // Grey levels 0–255 in a CSV: scaled by the training maximum, then binarised.
    let mut grey = String::new();
    for i in 0..100u32 {
        let row: Vec<String> = (0..9u32)
            .map(|j| ((i * 37 + j * 91) % 256).to_string())
            .collect();
        grey.push_str(&(row.join(",") + "\n"));
    }
    std::fs::write(d.join("grey.csv"), grey).unwrap();
    let o = run_in(
        &d,
        &[
            "rbm",
            "train",
            "--data",
            "grey.csv",
            "--hidden",
            "3",
            "--epochs",
            "3",
            "--out",
            "grey",
            "--no-plots",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let m = json(&d.join("grey/model.json"));
    assert_eq!(m["preprocess"]["scale"].as_f64(), Some(255.0));
    std::fs::write(d.join("neg.csv"), "0,1\n-1,0\n1,1\n0,0\n1,0\n0,1\n1,1\n").unwrap();
    assert_refused(
        &d,
        &[(
            &["rbm", "train", "--data", "neg.csv", "--out", "neg"],
            "non-negative intensities",
        )],
    );
}

#[test]
fn rbm_bad_inputs_give_one_line_errors_and_exit_2() {
    let d = scratch("rbm-bad");
    // A previous run that a failing command must not touch.
    let o = run_in(
        &d,
        &[
            "rbm",
            "train",
            "--hidden",
            "4",
            "--epochs",
            "2",
            "--out",
            "keep",
            "--no-plots",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let before = std::fs::read(d.join("keep/model.json")).unwrap();
    let mut bad_magic = vec![0x12u8, 0x34, 0x08, 0x03];
    bad_magic.extend([0u8; 32]);
    std::fs::write(d.join("bad-idx3-ubyte"), &bad_magic).unwrap();
    let mut cut = vec![0u8, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28];
    cut.extend([0u8; 100]);
    std::fs::write(d.join("cut-idx3-ubyte"), &cut).unwrap();
    let mut small = vec![0u8, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3];
    small.extend([255u8; 18]);
    std::fs::write(d.join("small-idx3-ubyte"), &small).unwrap();
    std::fs::write(d.join("notmodel.json"), "{\"format\": \"other\"}").unwrap();
    assert_refused(
        &d,
        &[
            (
                &["rbm", "train", "--data", "bad-idx3-ubyte", "--out", "keep"],
                "wrong magic number",
            ),
            (
                &["rbm", "train", "--data", "cut-idx3-ubyte", "--out", "keep"],
                "truncated",
            ),
            (
                &["rbm", "train", "--hidden", "0", "--out", "keep"],
                "--hidden",
            ),
            (
                &["rbm", "train", "--lr", "-1", "--out", "keep"],
                "learning_rate",
            ),
            (
                &["rbm", "train", "--binarize", "2", "--out", "keep"],
                "--binarize",
            ),
            (
                &["rbm", "train", "--visible", "ising", "--out", "keep"],
                "--visible",
            ),
            (
                &["rbm", "train", "--data", "missing.npy", "--out", "keep"],
                "missing.npy",
            ),
            (
                &[
                    "rbm",
                    "eval",
                    "--model",
                    "keep/model.json",
                    "--data",
                    "small-idx3-ubyte",
                    "--out",
                    "fresh",
                ],
                "9 values but the model",
            ),
            (
                &["rbm", "eval", "--model", "notmodel.json", "--out", "fresh"],
                "not a thermolab RBM model",
            ),
            (
                &["rbm", "eval", "--model", "nothere.json", "--out", "fresh"],
                "nothere.json",
            ),
        ],
    );
    assert_eq!(std::fs::read(d.join("keep/model.json")).unwrap(), before);
    // A refused evaluation leaves no folder (and no lock) behind.
    assert!(!d.join("fresh").exists() && !d.join(".fresh.lock").exists());
}

#[test]
fn kill_then_resume_trains_the_same_machine() {
    let d = scratch("rbm-resume");
    let args = [
        "rbm",
        "train",
        "--hidden",
        "16",
        "--epochs",
        "3000",
        "--checkpoint-every",
        "50",
        "--eval-every",
        "500",
        "--seed",
        "4",
        "--no-plots",
    ];
    run_kill_and_resume(&d, &args);
    let a = json(&d.join("full/model.json"));
    let b = json(&d.join("killed/model.json"));
    assert_eq!(
        a["rbm"], b["rbm"],
        "the resumed run trained a different machine"
    );
    let epochs = |p: &str| -> Vec<Value> {
        json(&d.join(p).join("run.json"))["results"]["curves"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["epoch"].clone())
            .collect()
    };
    assert_eq!(epochs("full"), epochs("killed"));
}
