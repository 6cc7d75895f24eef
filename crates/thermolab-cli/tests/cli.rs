//! CLI tests: run the `thermolab` binary in temporary folders, on success paths and on every
//! kind of bad input (message, exit code, and no folder left behind).

mod common;

use common::*;
use std::path::Path;

#[test]
fn demo_writes_a_complete_run_folder() {
    let d = scratch("demo");
    let o = run_in(&d, &["demo"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = d.join("thermolab-demo");
    for f in [
        "run.json",
        "report.html",
        "anneal_path.svg",
        "anneal_path.png",
        "train_loss.svg",
        "train_loss.png",
        "train_fit.svg",
        "train_fit.png",
        "train_weights.svg",
        "train_weights.png",
        "train_loss.csv",
        "train_weights.csv",
        "train_predictions.csv",
        "anneal_adaptive_trace.csv",
    ] {
        assert!(out.join(f).is_file(), "missing {f}");
    }
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["command"], "demo");
    assert_eq!(run["termination"], "finished");
    assert!(run["results"]["train"]["final_loss"].as_f64().unwrap() < 0.5);
    assert!(
        run["results"]["anneal"]["adaptive"]["best_energy"]
            .as_f64()
            .unwrap()
            < 1e-8
    );
    assert_eq!(run["results"]["analogies"].as_array().unwrap().len(), 5);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    // Self-contained: plots inline, nothing fetched from elsewhere.
    assert!(html.contains("<svg"));
    for fetch in ["src=\"http", "href=\"http", "<link", "<script", "url(http"] {
        assert!(!html.contains(fetch), "report fetches something: {fetch}");
    }
    // Text mode prints the analogy table.
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("Free energy"), "{text}");
    // A second demo replaces the first; --out is honoured.
    let o = run_in(&d, &["demo", "--out", "other", "--no-plots", "--seed", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(d.join("other/run.json").is_file());
    assert!(!d.join("other/report.html").exists());
}

#[test]
fn json_format_prints_json_lines_events() {
    let d = scratch("json");
    let o = run_in(
        &d,
        &[
            "anneal",
            "--function",
            "ackley",
            "--dim",
            "5",
            "--format",
            "json",
            "--seed",
            "2",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    let main: Vec<&str> = kinds.iter().copied().filter(|k| *k != "progress").collect();
    assert_eq!(main, vec!["start", "result", "done"]);
    assert!(
        kinds[1] == "progress",
        "a progress event comes at once: {kinds:?}"
    );
    let result = lines.iter().find(|l| l["type"] == "result").unwrap();
    assert!(result["data"]["best_energy"].as_f64().unwrap() < 1e-2);
    assert_eq!(lines.last().unwrap()["data"]["termination"], "converged");
    let run: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.join("thermolab-anneal/run.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(run["results"]["success"], true);
    assert_eq!(run["seed"], 2);
}

#[test]
fn anneal_is_reproducible_for_a_seed() {
    let d = scratch("repro");
    let best = |out: &str, seed: &str| {
        let o = run_in(
            &d,
            &[
                "anneal",
                "--function",
                "rastrigin",
                "--dim",
                "4",
                "--seed",
                seed,
                "--out",
                out,
                "--no-plots",
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let run: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join(out).join("run.json")).unwrap())
                .unwrap();
        run["results"]["best_x"].clone()
    };
    assert_eq!(best("a", "7"), best("b", "7"));
    let o = run_in(
        &d,
        &[
            "anneal",
            "--function",
            "quadratic",
            "--method",
            "blog",
            "--no-plots",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The annealer drives an MCMC kernel as the temperature falls: MALA and NUTS find the
/// Rosenbrock minimum, and the run records the kernel.
#[test]
fn anneal_runs_with_an_mcmc_kernel() {
    let d = scratch("anneal-kernel");
    for kernel in ["mala", "nuts"] {
        let o = run_in(
            &d,
            &[
                "anneal",
                "--function",
                "rosenbrock",
                "--dim",
                "5",
                "--kernel",
                kernel,
                "--out",
                kernel,
                "--no-plots",
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let run: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(d.join(kernel).join("run.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(run["settings"]["kernel"], kernel);
        assert_eq!(
            run["results"]["success"], true,
            "{kernel}: {}",
            run["results"]
        );
    }
    assert_refused(
        &d,
        &[
            (
                &["anneal", "--kernel", "gibbs"],
                "--kernel: unknown kernel `gibbs`",
            ),
            (
                &["anneal", "--method", "blog", "--kernel", "mala"],
                "the blog baseline has its own",
            ),
        ],
    );
}

#[test]
fn train_on_a_csv_with_chosen_columns() {
    let d = scratch("csv");
    let mut text = String::from("a,b,label,y\n");
    for i in 0..60 {
        let a = i as f64 / 30.0 - 1.0;
        let b = (i % 7) as f64 / 7.0;
        text.push_str(&format!("{a},{b},{},{}\n", i % 3, 2.0 * a - b));
    }
    std::fs::write(d.join("t.csv"), text).unwrap();
    let o = run_in(
        &d,
        &[
            "train",
            "--data",
            "t.csv",
            "--inputs",
            "a,b",
            "--targets",
            "y",
            "--arch",
            "2-8-1:tanh",
            "--epochs",
            "300",
            "--batch-size",
            "10",
            "--optimizer",
            "sgd",
            "--lr",
            "0.05",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("thermolab-train/run.json")).unwrap())
            .unwrap();
    assert!(
        run["results"]["final_loss"].as_f64().unwrap() < 0.05,
        "{}",
        run["results"]["final_loss"]
    );
    assert!(run["results"]["noise_temperature"].as_f64().unwrap() > 0.0);
    let o = run_in(
        &d,
        &[
            "train",
            "--data",
            "t.csv",
            "--inputs",
            "a,b",
            "--targets",
            "label",
            "--arch",
            "2-8-3:relu",
            "--loss",
            "cross-entropy",
            "--epochs",
            "50",
            "--no-plots",
            "--out",
            "ce",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Every bad input: one-line error naming the problem, exit code 2, nothing written.
#[test]
fn bad_inputs_give_one_line_errors_and_exit_2() {
    let d = scratch("bad");
    std::fs::write(d.join("ragged.csv"), "x,y\n1,2\n3\n").unwrap();
    std::fs::write(d.join("word.csv"), "x,y\n1,2\n3,abc\n").unwrap();
    std::fs::write(d.join("nan.csv"), "x,y\n1,2\n2,NaN\n").unwrap();
    std::fs::write(d.join("empty.csv"), "").unwrap();
    std::fs::write(d.join("w.txt"), "1\n2\n").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["train", "--data", "ragged.csv"],
            "ragged.csv:3: expected 2 fields, found 1",
        ),
        (
            &["train", "--data", "word.csv"],
            "word.csv:3: column y: `abc` is not a number",
        ),
        (
            &["train", "--data", "nan.csv"],
            "nan.csv:3: column y: value `NaN` is not finite",
        ),
        (&["train", "--data", "empty.csv"], "empty.csv: no data rows"),
        (
            &["train", "--data", "absent.csv"],
            "absent.csv: No such file",
        ),
        (&["anneal", "--function", "nope"], "unknown function `nope`"),
        (
            &["train", "--lr", "-0.1"],
            "--lr: must be a finite number > 0, got -0.1",
        ),
        (&["train", "--epochs", "0"], "--epochs: must be at least 1"),
        (
            &["train", "--arch", "1-x-1"],
            "bad architecture `1-x-1`: `x` is not a layer width",
        ),
        (
            &["train", "--arch", "2-4-1"],
            "1 input column(s) but the network `2-4-1:relu` expects 2",
        ),
        (
            &["train", "--init", "w.txt"],
            "w.txt: 2 numbers, but `1-10-1:relu` has 31 parameters",
        ),
        (
            &["train", "--out", "/proc/thermolab-cannot/x"],
            "cannot write output folder",
        ),
        (
            &["anneal", "--x0", "1,2"],
            "--x0: 2 values given, but rastrigin has dimension 10",
        ),
        (&["anneal", "--schedule", "hot"], "unknown schedule `hot`"),
        (&["anneal", "--method", "blog", "--alpha", "1.5"], "--alpha"),
        (&["anneal", "--restarts", "0"], "--restarts"),
    ];
    assert_refused(&d, cases);
    // Nothing was written: no run folders, no partial folders.
    assert_eq!(
        entries(&d),
        vec!["empty.csv", "nan.csv", "ragged.csv", "w.txt", "word.csv"]
    );
    // A folder holding other files is never replaced.
    std::fs::create_dir_all(d.join("keep")).unwrap();
    std::fs::write(d.join("keep/notes.txt"), "mine").unwrap();
    let o = run_in(&d, &["demo", "--out", "keep"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a thermolab run"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(d.join("keep/notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn a_diverging_run_still_writes_its_folder_and_says_so() {
    let d = scratch("diverge");
    let o = run_in(
        &d,
        &[
            "train",
            "--optimizer",
            "sgd",
            "--lr",
            "100",
            "--momentum",
            "0",
            "--no-plots",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("diverged"));
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("thermolab-train/run.json")).unwrap())
            .unwrap();
    assert_eq!(run["termination"], "diverged");
}

#[test]
fn help_lists_every_command_and_option() {
    let o = bin().arg("--help").output().unwrap();
    let h = String::from_utf8_lossy(&o.stdout);
    for c in [
        "demo", "anneal", "train", "ising", "sample", "evidence", "certify",
    ] {
        assert!(h.contains(c), "{h}");
        let o = bin().args([c, "--help"]).output().unwrap();
        let h = String::from_utf8_lossy(&o.stdout);
        for opt in ["--seed", "--out", "--format"] {
            assert!(h.contains(opt), "{c}: {h}");
        }
    }
}

#[test]
fn ising_sweep_agrees_with_kaufman_and_writes_its_folder() {
    let d = scratch("ising");
    let o = run_in(
        &d,
        &[
            "ising",
            "--L",
            "16",
            "--T",
            "2.0,2.269,3.0",
            "--algorithm",
            "wolff",
            "--sweeps",
            "20000",
            "--ti",
            "--ti-points",
            "30",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = d.join("thermolab-ising");
    for f in [
        "run.json",
        "report.html",
        "observables.csv",
        "energy.svg",
        "heat_capacity.png",
        "free_energy.svg",
        "thermodynamic_integration.csv",
        "snapshot_T2.000.png",
        "snapshot_T2.269.png",
        "snapshot_T3.000.png",
    ] {
        assert!(out.join(f).is_file(), "missing {f}");
    }
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["results"]["exact_source"], "kaufman");
    for p in run["results"]["points"].as_array().unwrap() {
        let (ze, zc) = (
            p["exact"]["z_energy"].as_f64().unwrap(),
            p["exact"]["z_heat_capacity"].as_f64().unwrap(),
        );
        assert!(ze.abs() < 4.0 && zc.abs() < 4.0, "{p}");
    }
    let ti = run["results"]["thermodynamic_integration"]
        .as_array()
        .unwrap();
    assert_eq!(ti.len(), 30);
}

#[test]
fn ising_bad_inputs_give_one_line_errors_and_exit_2() {
    let d = scratch("ising-bad");
    std::fs::write(d.join("bad.edges"), "0 1 1\n1 2 x\n").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["ising", "--edges", "bad.edges"],
            "bad.edges:2: `x` is not a number",
        ),
        (
            &["ising", "--L", "0"],
            "lattice side L must be at least 2, got 0",
        ),
        (
            &["ising", "--T", "0:2:5"],
            "every temperature must be > 0, got 0",
        ),
        (
            &["ising", "--T", "-1"],
            "every temperature must be > 0, got -1",
        ),
        (
            &["ising", "--algorithm", "nope"],
            "unknown algorithm `nope`",
        ),
        (
            &["ising", "--h", "0.5", "--algorithm", "wolff"],
            "cluster updates need couplings ≥ 0 and zero field",
        ),
        (
            &["ising", "--L", "7", "--algorithm", "msc"],
            "multi-spin coding needs a 2-D lattice with even L",
        ),
    ];
    assert_refused(&d, cases);
    assert_eq!(entries(&d), vec!["bad.edges"]);
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn sample_writes_draws_summary_and_plots() {
    let d = scratch("sample");
    let o = run_in(
        &d,
        &[
            "sample", "--target", "gauss", "--dim", "5", "--warmup", "300", "--draws", "300",
            "--seed", "3",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = d.join("thermolab-sample");
    for f in [
        "run.json",
        "report.html",
        "summary.csv",
        "draws/chain_0.csv",
        "draws/chain_3.csv",
        "trace_x0.svg",
        "rank_x0.png",
        "energy.svg",
    ] {
        assert!(out.join(f).is_file(), "missing {f}");
    }
    let header = read(&out.join("draws/chain_0.csv"))
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(header.starts_with("x0,x1,x2,x3,x4,lp__,accept_stat__,step_size__,tree_depth__,n_leapfrog__,divergent__,energy__"), "{header}");
    assert_eq!(read(&out.join("draws/chain_0.csv")).lines().count(), 301);
    let run: serde_json::Value = serde_json::from_str(&read(&out.join("run.json"))).unwrap();
    assert!(run["results"]["max_r_hat"].as_f64().unwrap() < 1.05);
    assert!(
        !d.join("thermolab-sample.checkpoint.json").exists(),
        "a finished run removes its checkpoint"
    );
    // The Bayesian network draws a posterior predictive band.
    let o = run_in(
        &d,
        &[
            "sample",
            "--target",
            "bnn",
            "--arch",
            "1-4-1:tanh",
            "--warmup",
            "100",
            "--draws",
            "100",
            "--chains",
            "2",
            "--out",
            "bnn",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(d.join("bnn/posterior_predictive.svg").is_file());
    let run: serde_json::Value = serde_json::from_str(&read(&d.join("bnn/run.json"))).unwrap();
    assert_eq!(
        run["settings"]["target"]["precision"],
        "f32 data and kernel, f64 sums"
    );
    // `--f64` switches the logistic regression to its double-precision code.
    let o = run_in(
        &d,
        &[
            "sample",
            "--target",
            "logreg",
            "--f64",
            "--warmup",
            "50",
            "--draws",
            "20",
            "--chains",
            "1",
            "--out",
            "lr64",
            "--no-plots",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let run: serde_json::Value = serde_json::from_str(&read(&d.join("lr64/run.json"))).unwrap();
    assert_eq!(run["settings"]["target"]["precision"], "f64");
}

/// `kill -9` in the middle of sampling, then `--resume`: the same draws as an uninterrupted run,
/// and no partial folder left behind.
#[test]
fn kill_then_resume_reproduces_the_draws() {
    let d = scratch("resume");
    let args = [
        "sample",
        "--target",
        "gauss",
        "--dim",
        "60",
        "--warmup",
        "400",
        "--draws",
        "3000",
        "--checkpoint-every",
        "50",
        "--seed",
        "11",
        "--no-plots",
    ];
    run_kill_and_resume(&d, &args);
    for c in 0..4 {
        let f = format!("draws/chain_{c}.csv");
        assert!(
            read(&d.join("full").join(&f)) == read(&d.join("killed").join(&f)),
            "chain {c} differs after resume"
        );
    }
    let names = entries(&d);
    assert!(names.iter().all(|n| !n.contains("partial")), "{names:?}");
}

#[test]
fn sample_bad_inputs_give_one_line_errors_and_exit_2() {
    let d = scratch("sample-bad");
    std::fs::write(d.join("nan.csv"), "a,b,y\n1,2,0\n3,NaN,1\n").unwrap();
    std::fs::write(d.join("two.csv"), "a,y\n1,0\n2,1\n").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["sample", "--target", "logreg", "--data", "nan.csv"],
            "nan.csv:3: column b: value `NaN` is not finite",
        ),
        (
            &[
                "sample",
                "--target",
                "bnn",
                "--data",
                "two.csv",
                "--arch",
                "2-4-1:tanh",
            ],
            "1 input column(s) but the network `2-4-1:tanh` expects 2",
        ),
        (&["sample", "--chains", "0"], "--chains: must be at least 1"),
        (&["sample", "--draws", "0"], "--draws: must be at least 1"),
        (&["sample", "--target", "nope"], "unknown target `nope`"),
        (&["sample", "--sampler", "gibbs"], "unknown sampler `gibbs`"),
        (&["sample", "--beta", "-1"], "--beta"),
        (
            &["sample", "--resume", "--out", "nothing"],
            "--resume: no checkpoint at nothing.checkpoint.json",
        ),
    ];
    assert_refused(&d, cases);
    assert_eq!(entries(&d), vec!["nan.csv", "two.csv"]);
}

/// The centred funnel, where fixed-step trajectories diverge in the neck: divergences are counted,
/// the run completes and no draw is non-finite.
#[test]
fn a_hard_target_gives_counted_divergences_not_a_poisoned_chain() {
    let d = scratch("sample-div");
    let o = run_in(
        &d,
        &[
            "sample",
            "--target",
            "funnel",
            "--dim",
            "10",
            "--warmup",
            "200",
            "--draws",
            "300",
            "--no-plots",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let run: serde_json::Value =
        serde_json::from_str(&read(&d.join("thermolab-sample/run.json"))).unwrap();
    let div = run["results"]["divergences"].as_u64().unwrap()
        + run["results"]["divergences_warmup"].as_u64().unwrap();
    assert!(div > 0, "the centred funnel should produce divergences");
    let draws = read(&d.join("thermolab-sample/draws/chain_0.csv"));
    assert!(!draws.contains("nan") && !draws.contains("inf"));
}

/// Every estimate in an evidence run.json lies within 3 SE (+0.05 nats) of the exact value;
/// Laplace (deterministic) within 1e-4; the harmonic mean is not checked.
fn assert_estimates_near_exact(run: &serde_json::Value) {
    let exact = run["results"]["exact_log_evidence"].as_f64().unwrap();
    for e in run["results"]["estimates"].as_array().unwrap() {
        let m = e["method"].as_str().unwrap();
        let (v, se) = (
            e["log_z"]["value"].as_f64().unwrap(),
            // Laplace has no standard error (null).
            e["log_z"]["se"].as_f64().unwrap_or(f64::NAN),
        );
        match m {
            "harmonic mean" => {}
            "Laplace" => assert!((v - exact).abs() < 1e-4, "{m}: {v} vs {exact}"),
            _ => assert!(
                (v - exact).abs() < 3.0 * se + 0.05,
                "{m}: {v} ± {se} vs {exact}"
            ),
        }
    }
}

#[test]
fn evidence_estimators_agree_with_the_exact_linear_regression_evidence() {
    let d = scratch("evidence");
    let o = run_in(
        &d,
        &[
            "evidence", "--target", "linreg", "--n", "80", "--dim", "4", "--rungs", "20",
            "--draws", "500", "--seed", "5",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let run: serde_json::Value =
        serde_json::from_str(&read(&d.join("thermolab-evidence/run.json"))).unwrap();
    assert_estimates_near_exact(&run);
    assert!(d.join("thermolab-evidence/ti_integrand.svg").is_file());
    assert!(d.join("thermolab-evidence/barrier.svg").is_file());
    let lambda = run["results"]["barrier"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()[1]
        .as_f64()
        .unwrap();
    assert!(lambda > 0.5 && lambda < 50.0, "{lambda}");
    assert!(d.join("thermolab-evidence/path.csv").is_file());
    // A plain energy: ln Z of a correlated Gaussian from a Gaussian reference.
    let o = run_in(
        &d,
        &[
            "evidence",
            "--target",
            "gauss",
            "--dim",
            "8",
            "--out",
            "gauss",
            "--no-plots",
            "--estimators",
            "ti,ss,ais",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let run: serde_json::Value = serde_json::from_str(&read(&d.join("gauss/run.json"))).unwrap();
    assert_estimates_near_exact(&run);
    // Unknown noise: the Normal–Inverse-Gamma prior, exact Student-t evidence.
    let o = run_in(
        &d,
        &[
            "evidence",
            "--target",
            "linreg-nig",
            "--n",
            "60",
            "--dim",
            "3",
            "--out",
            "nig",
            "--no-plots",
            "--estimators",
            "ti,ss,bridge",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let run: serde_json::Value = serde_json::from_str(&read(&d.join("nig/run.json"))).unwrap();
    assert_eq!(run["results"]["estimates"].as_array().unwrap().len(), 3);
    assert_estimates_near_exact(&run);
}

#[test]
fn evidence_of_a_bayesian_network_and_the_centred_funnel() {
    let d = scratch("evidence-bnn");
    let o = run_in(
        &d,
        &[
            "evidence",
            "--target",
            "bnn",
            "--arch",
            "1-3-1:tanh",
            "--n",
            "30",
            "--sigma",
            "0.3",
            "--rungs",
            "12",
            "--draws",
            "300",
            "--ais-particles",
            "64",
            "--ais-steps",
            "100",
            "--out",
            "bnn",
            "--no-plots",
            "--seed",
            "2",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let run: serde_json::Value = serde_json::from_str(&read(&d.join("bnn/run.json"))).unwrap();
    let est = run["results"]["estimates"].as_array().unwrap();
    let get = |m: &str| est.iter().find(|e| e["method"] == m).unwrap()["log_z"].clone();
    let (ti, ss) = (get("thermodynamic integration"), get("stepping-stone"));
    let (a, b) = (ti["value"].as_f64().unwrap(), ss["value"].as_f64().unwrap());
    let se = (ti["se"].as_f64().unwrap().powi(2) + ss["se"].as_f64().unwrap().powi(2)).sqrt();
    assert!(
        a.is_finite() && (a - b).abs() < 4.0 * se + 0.05,
        "TI {a} vs SS {b}"
    );
    // The centred funnel runs and prints its exact ln Z beside the estimates.
    let o = run_in(
        &d,
        &[
            "evidence",
            "--target",
            "funnel",
            "--dim",
            "3",
            "--out",
            "funnel",
            "--no-plots",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("exact log evidence"));
}

#[test]
fn evidence_bad_inputs_give_one_line_errors_and_exit_2() {
    let d = scratch("evidence-bad");
    let cases: &[(&[&str], &str)] = &[
        (
            &["evidence", "--ladder", "0,0.5,0.3,1"],
            "--ladder: must be strictly increasing",
        ),
        (
            &["evidence", "--ladder", "0,1.5"],
            "every β must lie in [0, 1], got 1.5",
        ),
        (
            &["evidence", "--estimators", "ti,magic"],
            "unknown estimator `magic`",
        ),
        (&["evidence", "--target", "nope"], "unknown target `nope`"),
        (
            &["evidence", "--sigma", "-1"],
            "sigma and the prior sd must be finite and > 0",
        ),
    ];
    assert_refused(&d, cases);
}

/// The self-test passes on this machine, and a bad threshold is refused.
#[test]
fn certify_passes() {
    let d = scratch("certify");
    let o = run_in(&d, &["certify", "--no-plots"]);
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
    let run: serde_json::Value =
        serde_json::from_str(&read(&d.join("thermolab-certify/run.json"))).unwrap();
    assert_eq!(run["results"]["failed"], 0);
    assert!(run["results"]["checks"].as_array().unwrap().len() >= 30);
    let o = run_in(&d, &["certify", "--z-max", "0", "--out", "bad"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--z-max must be a finite number > 0"));
}

#[test]
fn temper_recovers_mixture_weights_and_refuses_bad_ladders() {
    let d = scratch("temper");
    let o = run_in(&d, &["temper", "--rounds", "20000", "--seed", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let run: serde_json::Value =
        serde_json::from_str(&read(&d.join("thermolab-temper/run.json"))).unwrap();
    let w = run["results"]["mixture_weights"][1]["estimate"]["value"]
        .as_f64()
        .unwrap();
    assert!((w - 0.7).abs() < 0.02, "{w}");
    assert!(
        d.join("thermolab-temper/barrier.svg").is_file()
            && d.join("thermolab-temper/draws/chain_1.csv").is_file()
    );
    let cases: &[(&[&str], &str)] = &[
        (
            &["temper", "--beta-min", "0", "--out", "x"],
            "--beta-min: must lie in (0, 1)",
        ),
        (
            &["temper", "--replicas", "1", "--out", "x"],
            "--replicas: tempering needs at least 2",
        ),
        (
            &["temper", "--sampler", "gibbs", "--out", "x"],
            "unknown sampler `gibbs`",
        ),
    ];
    assert_refused(&d, cases);
    assert!(!d.join("x").exists());
}
