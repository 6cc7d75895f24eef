//! `thermolab rbm train`: training with learning curves, checkpoints, the final exact or AIS
//! log-likelihood, and the model file.

use super::super::images::load_split;
use super::super::{checkpoint_path, fmt, unix_time, write_atomic, Run};
use super::{add_grids, fantasies, final_log_z, EXACT_UNITS};
use crate::args::RbmTrainArgs;
use crate::plots::LineChart;
use crate::Diverged;
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use thermolab::data::Binarize;
use thermolab::drivers::rbm::{init_rbm, Method, RbmTrainer, TrainSettings};
use thermolab::observe::{Control, Termination};
use thermolab::systems::rbm::{
    average_log_likelihood, log_partition_exact, Preprocess, Rbm, SavedRbm, VisibleKind,
    MODEL_FORMAT,
};

/// Parses `--binarize`: a threshold in [0, 1) or `sample`.
fn parse_binarize(text: &str, seed: u64) -> Result<Binarize> {
    if text == "sample" {
        return Ok(Binarize::Sample(seed));
    }
    match text.parse::<f32>() {
        Ok(t) if (0.0..1.0).contains(&t) => Ok(Binarize::Threshold(t)),
        _ => bail!("--binarize: `{text}` is not a threshold in [0, 1) or `sample`"),
    }
}

/// Learning-curve measurements on the monitor subsets.
fn monitor(rbm: &Rbm, train: &[f32], test: &[f32], exact: bool) -> Value {
    let f_train = rbm.free_energies(train);
    let f_test = rbm.free_energies(test);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let mut m = json!({
        "reconstruction_error": rbm.reconstruction_error(train),
        "free_energy_gap": mean(&f_test) - mean(&f_train),
    });
    if let Ok(pl) = rbm.pseudo_log_likelihood(test) {
        m["pseudo_log_likelihood_test"] = json!(mean(&pl));
    }
    if exact {
        if let Ok(lz) = log_partition_exact(rbm, EXACT_UNITS) {
            m["log_z"] = json!(lz);
            m["log_likelihood_train"] = json!(-mean(&f_train) - lz);
            m["log_likelihood_test"] = json!(-mean(&f_test) - lz);
        }
    }
    m
}

/// Whether exact log Z is cheap enough to compute at every curve point (≤ ~3·10⁷ terms).
fn exact_is_cheap(rbm: &Rbm) -> bool {
    let units = match rbm.visible {
        VisibleKind::Gaussian => rbm.n_hidden,
        VisibleKind::Bernoulli => rbm.n_hidden.min(rbm.n_visible),
    };
    let other = rbm.n_hidden + rbm.n_visible - units;
    units <= 20 && (1u64 << units) * other as u64 <= 30_000_000
}

/// `thermolab rbm train`.
pub fn train(a: RbmTrainArgs) -> Result<()> {
    let seed = a.common.seed;
    let visible = match a.visible.as_str() {
        "bernoulli" => VisibleKind::Bernoulli,
        "gaussian" => VisibleKind::Gaussian,
        v => bail!("--visible: unknown unit kind `{v}` (bernoulli, gaussian)"),
    };
    let method = match (a.cd, a.tempered) {
        (Some(_), _) => Method::Cd,
        (None, Some(_)) => Method::Tempered,
        _ => Method::Pcd,
    };
    if a.hidden == 0 {
        bail!("--hidden: must be at least 1");
    }
    if a.cd == Some(0) {
        bail!("--cd: needs at least 1 Gibbs step");
    }
    let settings = TrainSettings {
        method,
        k: a.cd.unwrap_or(a.k),
        epochs: a.epochs,
        batch_size: a.batch_size,
        chains: a.chains,
        replicas: a.tempered.unwrap_or(8),
        beta_min: a.beta_min,
        learning_rate: a.lr,
        final_learning_rate_fraction: a.final_lr_fraction,
        momentum: a.momentum,
        weight_decay: a.weight_decay,
        seed,
        ..Default::default()
    }
    .validate()?;
    let mut split = load_split(&a.data, a.test.as_deref(), a.holdout)?;
    if a.train_rows > 0 {
        split.train = split.train.slice(0, a.train_rows);
    }
    if split.train.n == 0 {
        bail!("--data {}: no training images", a.data);
    }
    let preprocess = Preprocess::fit(
        visible,
        &split.train.pixels,
        split.train.width(),
        parse_binarize(&a.binarize, seed)?,
    )
    .with_context(|| format!("--data {}", a.data))?;
    let width = split.train.width();
    let (mut train_x, mut test_x) = (split.train.pixels.clone(), split.test.pixels.clone());
    preprocess.apply(&mut train_x, width);
    preprocess.apply(&mut test_x, width);
    let out_dir = a
        .common
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("thermolab-rbm"));
    let cp_path = checkpoint_path(&out_dir);
    let data_desc = split.desc.clone();
    let mut resumed_curves: Vec<Value> = Vec::new();
    let mut trainer = if a.resume {
        let text = std::fs::read_to_string(&cp_path)
            .with_context(|| format!("--resume: no checkpoint at {}", cp_path.display()))?;
        let v: Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a thermolab checkpoint", cp_path.display()))?;
        if v["data"] != json!(data_desc) || v["settings"] != json!(settings) {
            bail!(
                "{}: the checkpoint was made with other data or settings; rerun without --resume",
                cp_path.display()
            );
        }
        let t = serde_json::from_value::<RbmTrainer>(v["trainer"].clone())
            .with_context(|| format!("{}: not a thermolab checkpoint", cp_path.display()))?;
        resumed_curves = v["curves"].as_array().cloned().unwrap_or_default();
        t
    } else {
        let mut m0 = init_rbm(visible, width, a.hidden, &train_x, &settings)?;
        if split.train.rows > 1 {
            m0.image_shape = Some((split.train.rows, split.train.cols));
        }
        RbmTrainer::new(m0, &train_x, settings.clone())?
    };
    let mut run = Run::start(&a.common, "thermolab-rbm", "thermolab rbm train")?;
    let started = unix_time();
    run.out.event(
        "start",
        json!({"command": "rbm train", "data": data_desc, "hidden": a.hidden, "method": method}),
    );
    run.out.text(&format!(
        "training a {}×{} {:?} RBM on {} ({} train, {} test images) by {:?}",
        width, a.hidden, visible, data_desc, split.train.n, split.test.n, method
    ));
    let stop = Arc::new(AtomicBool::new(false));
    {
        let s = stop.clone();
        let _ = ctrlc::set_handler(move || s.store(true, Ordering::Relaxed));
    }
    let mon_train: Vec<f32> = train_x[..a.monitor_rows.min(split.train.n) * width].to_vec();
    let mon_test: Vec<f32> = test_x[..a.monitor_rows.min(split.test.n) * width].to_vec();
    let eval_every = if a.eval_every > 0 {
        a.eval_every
    } else {
        (a.epochs / 50).max(1)
    };
    let exact_curves = exact_is_cheap(&trainer.rbm);
    let curves = std::cell::RefCell::new(resumed_curves);
    let mut progress = run.out.progress(a.epochs as u64, "epochs");
    progress.set(trainer.epoch() as u64);
    let mut cp_error: Option<String> = None;
    let summary = {
        let cp_every = a.checkpoint_every;
        let out = &run.out;
        let mut observer = |r: &thermolab::drivers::rbm::EpochReport, m: &Rbm| {
            progress.set(r.epoch as u64);
            if r.epoch % eval_every == 0 || r.epoch == a.epochs {
                let mut point = monitor(m, &mon_train, &mon_test, exact_curves);
                point["epoch"] = json!(r.epoch);
                point["seconds"] = json!(r.seconds);
                point["learning_rate"] = json!(r.learning_rate);
                if !r.swap_rates.is_empty() {
                    point["swap_rates"] = json!(r.swap_rates);
                }
                out.event("epoch", point.clone());
                curves.borrow_mut().push(point);
            }
            if stop.load(Ordering::Relaxed) {
                Control::Stop
            } else {
                Control::Continue
            }
        };
        // Checkpoints need the trainer itself, so run epoch by epoch.
        let mut last = None;
        while trainer.epoch() < a.epochs {
            let target = trainer.epoch() + 1;
            let mut stopped = false;
            let s = trainer.run_until(&train_x, target, &mut |r, m| {
                let c = observer(r, m);
                stopped = c == Control::Stop;
                c
            })?;
            last = Some(s);
            if cp_every > 0
                && (trainer.epoch() % cp_every == 0 || stopped)
                && trainer.epoch() < a.epochs
            {
                let doc = json!({"data": data_desc, "settings": settings, "trainer": trainer,
                    "curves": *curves.borrow()});
                if let Err(e) = write_atomic(&cp_path, &doc.to_string()) {
                    cp_error = Some(format!(
                        "cannot write checkpoint {}: {e}",
                        cp_path.display()
                    ));
                }
            }
            if stopped
                || last
                    .as_ref()
                    .is_some_and(|s| s.termination == Termination::Diverged)
            {
                break;
            }
        }
        last
    };
    progress.finish();
    if let Some(e) = cp_error {
        bail!(e);
    }
    let summary = summary.context("no epochs to run (the checkpoint is already complete)")?;
    let curves = curves.into_inner();
    let rbm = trainer.rbm.clone();
    // Final evaluation on the full train and test sets.
    let (log_z, ais, z_seconds) = final_log_z(
        &rbm,
        &train_x,
        false,
        a.ais_chains,
        a.ais_temperatures,
        seed,
        0,
    )?;
    let ll_train = average_log_likelihood(&rbm, &train_x, log_z);
    let ll_test = average_log_likelihood(&rbm, &test_x, log_z);
    // The pseudo-likelihood costs V·H softplus terms per image: use the monitor images.
    let pl_test = rbm
        .pseudo_log_likelihood(&mon_test)
        .ok()
        .map(|v| v.iter().sum::<f64>() / v.len().max(1) as f64);
    let recon = rbm.reconstruction_error(&test_x);
    let method_txt = if ais.is_some() { "AIS" } else { "exact" };
    run.out.text(&format!(
        "trained {} epochs in {:.3} s ({:.2} ms/epoch); {}",
        summary.epochs,
        summary.seconds,
        1e3 * summary.seconds / summary.epochs.max(1) as f64,
        match summary.termination {
            Termination::Finished => "finished".to_string(),
            t => format!("{t:?}").to_lowercase(),
        }
    ));
    let se_txt = ais
        .as_ref()
        .map(|e| format!(" ± {}", fmt(e.se)))
        .unwrap_or_default();
    run.out.text(&format!(
        "log Z = {}{se_txt} ({method_txt}, {:.3} s); average log-likelihood: train {} test {} nats/image",
        fmt(log_z),
        z_seconds,
        fmt(ll_train),
        fmt(ll_test)
    ));
    if let Some(pl) = pl_test {
        run.out.text(&format!(
            "test pseudo-log-likelihood {} nats/image (all units, first {} test images); reconstruction error {}",
            fmt(pl),
            mon_test.len() / width,
            fmt(recon)
        ));
    }
    // Files.
    let saved = SavedRbm {
        format: MODEL_FORMAT.into(),
        rbm: rbm.clone(),
        preprocess: preprocess.clone(),
        data: data_desc.clone(),
        training: json!({"settings": settings, "epochs": summary.epochs, "seconds": summary.seconds}),
    };
    run.folder.write("model.json", saved.to_json())?;
    let header = [
        "epoch",
        "seconds",
        "reconstruction_error",
        "free_energy_gap",
        "pseudo_log_likelihood_test",
        "log_likelihood_train",
        "log_likelihood_test",
    ];
    let mut csv = header.join(",") + "\n";
    for p in &curves {
        let row: Vec<String> = header
            .iter()
            .map(|k| {
                p.get(*k)
                    .and_then(Value::as_f64)
                    .map(|v| format!("{v}"))
                    .unwrap_or_default()
            })
            .collect();
        csv.push_str(&(row.join(",") + "\n"));
    }
    run.folder.write("curves.csv", csv)?;
    let series = |key: &str| -> Vec<(f64, f64)> {
        curves
            .iter()
            .filter_map(|p| Some((p["epoch"].as_f64()?, p.get(key)?.as_f64()?)))
            .collect()
    };
    if !a.common.no_plots {
        let mut lines = Vec::new();
        for (k, label) in [
            ("log_likelihood_test", "test log-likelihood (exact)"),
            ("log_likelihood_train", "train log-likelihood (exact)"),
            ("pseudo_log_likelihood_test", "test pseudo-log-likelihood"),
        ] {
            let s = series(k);
            if !s.is_empty() {
                lines.push((label.to_string(), s));
            }
        }
        if !lines.is_empty() {
            let chart = LineChart {
                title: "Learning curves".into(),
                x_label: "epoch".into(),
                y_label: "nats per image".into(),
                lines,
                points: vec![],
                errors: vec![],
                log_y: false,
            };
            run.plot(&chart, "learning_curves", "Log-likelihood (exact where the smaller layer is enumerable) and pseudo-log-likelihood on the monitor images")?;
        }
        let chart = LineChart {
            title: "Reconstruction error and the train/test free-energy gap".into(),
            x_label: "epoch".into(),
            y_label: "value".into(),
            lines: vec![
                (
                    "reconstruction error".into(),
                    series("reconstruction_error"),
                ),
                (
                    "mean F(test) − mean F(train)".into(),
                    series("free_energy_gap"),
                ),
            ],
            points: vec![],
            errors: vec![],
            log_y: false,
        };
        run.plot(
            &chart,
            "monitors",
            "A growing free-energy gap signals over-fitting",
        )?;
        let fant = fantasies(&rbm, &test_x, 100, 1000, seed);
        add_grids(&mut run, &rbm, &fant)?;
    }
    if let Some(rep) = run.report.as_mut() {
        rep.heading("Result");
        rep.table(
            &["quantity", "value"],
            &[
                vec![
                    "log Z".into(),
                    format!("{}{se_txt} ({method_txt})", fmt(log_z)),
                ],
                vec!["train log-likelihood (nats/image)".into(), fmt(ll_train)],
                vec!["test log-likelihood (nats/image)".into(), fmt(ll_test)],
                vec![
                    "training time (s)".into(),
                    format!("{:.3}", summary.seconds),
                ],
            ],
        );
    }
    let diverged = summary.termination == Termination::Diverged;
    let run_json = json!({
        "command": "rbm train",
        "version": thermolab::VERSION,
        "seed": seed,
        "started_unix": started,
        "settings": {"data": data_desc, "visible": visible, "hidden": a.hidden, "training": settings,
            "preprocess": preprocess, "train_images": split.train.n, "test_images": split.test.n},
        "results": {
            "epochs": summary.epochs, "updates": summary.updates, "train_seconds": summary.seconds,
            "log_z": log_z, "log_z_method": method_txt, "ais": ais.as_ref().map(|e| json!({"se": e.se, "low": e.low, "high": e.high, "ess": e.ess, "chains": e.log_weights.len(), "temperatures": e.temperatures, "seconds": e.seconds})),
            "log_z_seconds": z_seconds,
            "log_likelihood_train": ll_train, "log_likelihood_test": ll_test,
            "pseudo_log_likelihood_test": pl_test, "reconstruction_error_test": recon,
            "curves": curves,
        },
        "termination": summary.termination,
    });
    run.finish(&run_json)?;
    if !diverged && summary.termination == Termination::Finished {
        let _ = std::fs::remove_file(&cp_path);
    }
    if diverged {
        return Err(Diverged("training diverged (non-finite weights); lower --lr".into()).into());
    }
    Ok(())
}
