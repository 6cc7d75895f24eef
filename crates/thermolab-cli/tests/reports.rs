//! What a new user reads: one vocabulary across commands (shared names and defaults, the
//! physics letters as aliases, errors that name the flag), and outputs that keep their meaning
//! (parameters named by what they are, preprocessing stated, a classifier's accuracy, headline
//! results first, self-contained reports).

mod common;

use common::*;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn one_vocabulary_across_commands() {
    let d = scratch("vocab");
    // Every command's help names the default output folder and shows defaults.
    for cmd in [
        &["demo"][..],
        &["anneal"],
        &["train"],
        &["ising"],
        &["sample"],
        &["evidence"],
        &["certify"],
        &["temper"],
        &["rbm", "train"],
        &["rbm", "eval"],
    ] {
        let o = run_in(&d, &[cmd, &["--help"]].concat());
        let h = stdout(&o);
        assert!(
            h.contains("./thermolab-COMMAND"),
            "{cmd:?}: no default --out"
        );
        assert!(h.contains("[default: 0]"), "{cmd:?}: no default seed");
    }
    // Shared target options: the same defaults in sample and temper, and temper takes them all.
    let help = |c: &str| stdout(&run_in(&d, &[c, "--help"]));
    for flag in [
        "--dim <DIM>",
        "--rho <RHO>",
        "--separation <SEPARATION>",
        "--arch <ARCH>",
    ] {
        let line = |h: &str| {
            let i = h.find(flag).unwrap_or_else(|| panic!("{flag} missing"));
            h[i..]
                .split("[default:")
                .nth(1)
                .unwrap()
                .split(']')
                .next()
                .unwrap()
                .to_string()
        };
        assert_eq!(line(&help("sample")), line(&help("temper")), "{flag}");
    }
    // The physics letters and the words are the same options.
    let a = run_in(
        &d,
        &[
            "ising",
            "--L",
            "4",
            "--T",
            "2.0",
            "--sweeps",
            "200",
            "--no-plots",
            "--out",
            "a",
        ],
    );
    let b = run_in(
        &d,
        &[
            "ising",
            "--side",
            "4",
            "--temperatures",
            "2.0",
            "--sweeps",
            "200",
            "--no-plots",
            "--out",
            "b",
        ],
    );
    assert!(a.status.success() && b.status.success(), "{}", stderr(&a));
    let energies = |dir: &str| run_json(&d.join(dir))["results"]["points"][0]["energy"].clone();
    assert_eq!(energies("a"), energies("b"));
    // Errors name the flag, also for settings the library checks, and a negative seed.
    assert_refused(
        &d,
        &[
            (&["sample", "--chains", "0"], "--chains: must be at least 1"),
            (&["temper", "--rounds", "0"], "--rounds: must be at least 1"),
            (
                &["anneal", "--seed", "-1"],
                "`-1` is not a whole number from 0 to",
            ),
        ],
    );
}

#[test]
fn outputs_keep_their_meaning() {
    let d = scratch("meaning");
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data");
    std::fs::copy(examples.join("iris.csv"), d.join("iris.csv")).unwrap();
    // Logistic regression: parameters named by their features, standardisation stated.
    let o = run_in(
        &d,
        &[
            "sample", "--target", "logreg", "--warmup", "200", "--draws", "200", "--out", "lr",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("w_mean_radius") && text.contains("standardised"),
        "{text}"
    );
    let header = std::fs::read_to_string(d.join("lr/draws/chain_0.csv")).unwrap();
    let header = header
        .lines()
        .find(|l| !l.starts_with('#'))
        .unwrap()
        .to_string();
    assert!(
        header.contains("w_mean_radius,") && header.contains(",bias,"),
        "{header}"
    );
    let report = std::fs::read_to_string(d.join("lr/report.html")).unwrap();
    assert!(report.contains("class=\"settings\"") && report.contains("standardised"));
    // A network's parameters by layer, as Stan writes arrays.
    let o = run_in(
        &d,
        &[
            "sample",
            "--target",
            "bnn",
            "--warmup",
            "100",
            "--draws",
            "100",
            "--no-plots",
            "--out",
            "nn",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let s = std::fs::read_to_string(d.join("nn/summary.csv")).unwrap();
    assert!(s.contains("W1.1.1") && s.contains("b2.1"), "{s}");
    // A classifier reports its accuracy and writes class probabilities.
    let o = run_in(
        &d,
        &[
            "train",
            "--data",
            "iris.csv",
            "--target-column",
            "label",
            "--arch",
            "4-8-3:relu",
            "--loss",
            "cross-entropy",
            "--epochs",
            "300",
            "--out",
            "iris",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("accuracy on the training data"));
    let p = std::fs::read_to_string(d.join("iris/predictions.csv")).unwrap();
    assert!(
        p.lines()
            .next()
            .unwrap()
            .ends_with("probability_2,predicted_class"),
        "{p}"
    );
    let acc = run_json(&d.join("iris"))["results"]["accuracy"]
        .as_f64()
        .unwrap();
    assert!(acc > 0.8, "accuracy {acc}");
    // Headline results first; certify says PASS or FAIL; images are embedded.
    let o = run_in(
        &d,
        &[
            "temper", "--dim", "2", "--rounds", "2000", "--warmup", "500", "--out", "t",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let r = std::fs::read_to_string(d.join("t/report.html")).unwrap();
    let (h, body) = (
        r.find("class=\"headline\"").unwrap(),
        r.find("<h2>").unwrap(),
    );
    assert!(
        h < body && r.contains("Mode weights"),
        "the headline is not first"
    );
    let o = run_in(
        &d,
        &[
            "rbm", "train", "--hidden", "4", "--epochs", "2", "--out", "rbm",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let r = std::fs::read_to_string(d.join("rbm/report.html")).unwrap();
    assert!(r.contains("data:image/png;base64,") && !r.contains("src=\"filters.png\""));
    // A model's refusal of a data file names the file.
    assert_refused(
        &d,
        &[(
            &["sample", "--target", "logreg", "--data", "iris.csv"],
            "iris.csv: invalid model parameter",
        )],
    );
}

/// Every command's report opens with its headline, then what was run.
#[test]
fn reports_open_with_the_headline_then_the_settings() {
    let d = scratch("headlines");
    for (name, args) in [
        ("demo", &["demo"][..]),
        ("anneal", &["anneal", "--dim", "2"]),
        ("train", &["train", "--epochs", "50"]),
        (
            "ising",
            &[
                "ising",
                "--side",
                "4",
                "--temperatures",
                "2",
                "--sweeps",
                "200",
            ],
        ),
        (
            "sample",
            &["sample", "--dim", "2", "--warmup", "100", "--draws", "100"],
        ),
        ("rbm", &["rbm", "train", "--hidden", "4", "--epochs", "2"]),
    ] {
        let o = run_in(&d, &[args, &["--out", name]].concat());
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let r = std::fs::read_to_string(d.join(name).join("report.html")).unwrap();
        let h = r
            .find("class=\"headline\"")
            .unwrap_or_else(|| panic!("{name}: no headline"));
        let s = r
            .find("class=\"settings\"")
            .unwrap_or_else(|| panic!("{name}: no settings"));
        assert!(h < s, "{name}: settings before the headline");
    }
}
