//! Every plot of the Ising, Potts, sample, temper, train and RBM commands has axes that contain
//! all its plotted points and error bars, and none is empty; read from each run's `plots.json`
//! (the axis ranges the plots were drawn with, and each series' extent).

mod common;

use common::*;
use serde_json::Value;

/// Checks every plot of the run folder `dir`; returns how many there were.
fn axes_hold_the_data(dir: &std::path::Path) -> usize {
    let text = std::fs::read_to_string(dir.join("plots.json"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let plots: Vec<Value> = serde_json::from_str(&text).unwrap();
    for p in &plots {
        let name = p["name"].as_str().unwrap();
        let range = |k: &str| -> (f64, f64) {
            let r = p[k].as_array().unwrap_or_else(|| panic!("{name}: no {k}"));
            (r[0].as_f64().unwrap(), r[1].as_f64().unwrap())
        };
        let (x, y) = (range("x_range"), range("y_range"));
        assert!(
            x.0 < x.1 && y.0 < y.1,
            "{name}: degenerate axes {x:?} {y:?}"
        );
        let mut drawn = 0;
        for s in p["series"].as_array().unwrap() {
            if s["n"].as_u64().unwrap() == 0 {
                continue;
            }
            drawn += 1;
            for (k, (lo, hi)) in [("x", x), ("y", y)] {
                let e = s[k].as_array().unwrap();
                let (a, b) = (e[0].as_f64().unwrap(), e[1].as_f64().unwrap());
                assert!(
                    a >= lo && b <= hi,
                    "{name}, series {}: {k} extent [{a}, {b}] outside the axis [{lo}, {hi}]",
                    s["name"]
                );
            }
        }
        assert!(drawn > 0, "{name}: an empty plot");
    }
    plots.len()
}

#[test]
fn every_plot_contains_its_points_and_error_bars() {
    let d = scratch("plots");
    let runs: &[(&str, &[&str])] = &[
        // Ising with and without exact curves (a spin glass has none), with TI.
        (
            "ising",
            &[
                "ising",
                "--L",
                "8",
                "--T",
                "1.5:3.5:5",
                "--sweeps",
                "2000",
                "--ti",
            ],
        ),
        (
            "glass",
            &[
                "ising", "--L", "6", "--glass", "ea", "--T", "0.8:2:4", "--sweeps", "1000",
            ],
        ),
        (
            "potts",
            &[
                "ising",
                "--q",
                "3",
                "--L",
                "8",
                "--T",
                "0.8:1.2:4",
                "--sweeps",
                "1000",
            ],
        ),
        (
            "sample",
            &[
                "sample", "--target", "bnn", "--warmup", "200", "--draws", "200",
            ],
        ),
        ("temper", &["temper", "--rounds", "2000", "--warmup", "500"]),
        ("train", &["train", "--epochs", "300"]),
        (
            "train-diverged",
            &[
                "train",
                "--epochs",
                "300",
                "--optimizer",
                "sgd",
                "--lr",
                "50",
            ],
        ),
        ("rbm", &["rbm", "train", "--hidden", "6", "--epochs", "5"]),
        ("demo", &["demo"]),
        ("anneal", &["anneal", "--dim", "2"]),
        (
            "anneal-adaptive",
            &["anneal", "--dim", "2", "--method", "adaptive"],
        ),
    ];
    for (out, args) in runs {
        let o = run_in(&d, &[*args, &["--out", out][..]].concat());
        assert!(
            o.status.code() == Some(0) || (*out == "train-diverged" && o.status.code() == Some(1)),
            "{out}: {}",
            stderr(&o)
        );
        let n = axes_hold_the_data(&d.join(out));
        assert!(n >= 2, "{out}: {n} plots");
    }
}
