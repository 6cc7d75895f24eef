//! `thermolab rbm train`: training with learning curves, checkpoints, the final exact or AIS
//! log-likelihood, and the model file.

use super::super::images::load_split;
use super::super::{checkpoint_path, fmt, unix_time, Run};
use super::{add_grids, parse_binarize};
use crate::args::RbmTrainArgs;
use crate::plots::LineChart;
use crate::Diverged;
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::path::PathBuf;
use thermolab::drivers::ais::AisSettings;
use thermolab::drivers::rbm::{
    exact_is_cheap, fantasies, final_log_z, init_rbm, learning_curve_point, EpochEvent, LogZMethod,
    Method, RbmTrainer, TrainSettings, TrainerState,
};
use thermolab::run::{Control, Observer, RunContext, StopFlag, Termination};
use thermolab::systems::rbm::{
    average_log_likelihood, Preprocess, SavedRbm, VisibleKind, MODEL_FORMAT,
};
use thermolab::trace::{load_checkpoint, save_checkpoint};

/// What training reports at each epoch: learning curves, the progress bar and checkpoints.
struct EpochWatcher<'a> {
    out: &'a crate::output::Out,
    progress: crate::output::Progress,
    eval_every: usize,
    epochs: usize,
    exact: bool,
    mon_train: &'a [f32],
    mon_test: &'a [f32],
    curves: Vec<Value>,
    checkpoint_every: usize,
    checkpoint: PathBuf,
    target: Value,
    stop: StopFlag,
    error: Option<thermolab::Error>,
}

impl EpochWatcher<'_> {
    fn save(&self, state: &TrainerState) -> Result<(), thermolab::Error> {
        let doc = json!({"trainer": state, "curves": self.curves});
        save_checkpoint(&self.checkpoint, "rbm train", &self.target, &doc)
    }
}

impl<'a, 'e> Observer<EpochEvent<'e>> for EpochWatcher<'a> {
    fn on_step(&mut self, ev: &EpochEvent<'e>) -> Control {
        let r = ev.report;
        self.progress.set(r.epoch as u64);
        if r.epoch.is_multiple_of(self.eval_every) || r.epoch == self.epochs {
            let mut point = serde_json::to_value(learning_curve_point(
                ev.rbm,
                self.mon_train,
                self.mon_test,
                self.exact,
            ))
            .expect("a curve point serialises");
            point["epoch"] = json!(r.epoch);
            point["seconds"] = json!(r.seconds);
            point["learning_rate"] = json!(r.learning_rate);
            if !r.swap_rates.is_empty() {
                point["swap_rates"] = json!(r.swap_rates);
            }
            self.out.event("epoch", point.clone());
            self.curves.push(point);
        }
        let unfinished = r.epoch < self.epochs;
        let due = self.checkpoint_every > 0 && r.epoch.is_multiple_of(self.checkpoint_every);
        if unfinished && (due || (self.checkpoint_every > 0 && self.stop.is_raised())) {
            if let Err(e) = self.save(ev.state) {
                self.error = Some(e);
                return Control::Stop;
            }
        }
        Control::Continue
    }
    fn on_finish(&mut self, _t: Termination) {
        self.progress.finish();
    }
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
    // Weights with their velocity and gradient, and the persistent chains of every replica.
    let (v, h) = (width as f64, a.hidden as f64);
    let chains = if a.chains == 0 {
        a.batch_size
    } else {
        a.chains
    } as f64;
    crate::limits::memory(
        &format!(
            "--hidden {} on {} visible units with {} chains (--batch-size, --chains, --tempered)",
            a.hidden, width, chains
        ),
        4.0 * (6.0 * v * h + chains * a.tempered.unwrap_or(1) as f64 * 4.0 * (v + h)),
    )?;
    let (mut train_x, mut test_x) = (split.train.pixels.clone(), split.test.pixels.clone());
    preprocess.apply(&mut train_x, width);
    preprocess.apply(&mut test_x, width);
    // The run folder (and its lock) before the checkpoint is read or any work done.
    let mut run = if a.resume {
        Run::resume(&a.common, "thermolab-rbm", "thermolab rbm train")?
    } else {
        Run::start(&a.common, "thermolab-rbm", "thermolab rbm train")?
    };
    let out_dir = run.target().to_path_buf();
    let cp_path = checkpoint_path(&out_dir);
    let data_desc = split.desc.clone();
    // What a checkpoint must match to be resumed: the data as preprocessed, the machine's
    // shape and kind, the training settings and the seed.
    let target = json!({"data": data_desc, "train_rows": split.train.n, "preprocess": preprocess,
        "hidden": a.hidden, "visible": visible, "settings": settings.get(), "seed": seed});
    let mut resumed_curves: Vec<Value> = Vec::new();
    let mut trainer = if a.resume {
        if !cp_path.exists() {
            bail!("--resume: no checkpoint at {}", cp_path.display());
        }
        let mut doc: Value = load_checkpoint(&cp_path, "rbm train", &target).map_err(|e| {
            anyhow::anyhow!(
                "{e}; the checkpoint was made with other data or settings: rerun without --resume"
            )
        })?;
        resumed_curves = doc["curves"].as_array().cloned().unwrap_or_default();
        let state: TrainerState =
            serde_json::from_value(doc["trainer"].take()).with_context(|| {
                format!(
                    "{}: a damaged checkpoint, or one written by another version of thermolab",
                    cp_path.display()
                )
            })?;
        RbmTrainer::resume(state)?
    } else {
        let mut m0 = init_rbm(visible, width, a.hidden, &train_x, &settings, seed)?;
        if split.train.rows > 1 {
            m0.image_shape = Some((split.train.rows, split.train.cols));
        }
        RbmTrainer::new(m0, &train_x, settings.clone(), seed)?
    };
    let started = unix_time();
    run.out.event(
        "start",
        json!({"command": "rbm train", "data": data_desc, "hidden": a.hidden, "method": method}),
    );
    run.out.text(&format!(
        "training a {}×{} {:?} RBM on {} ({} train, {} test images) by {:?}",
        width, a.hidden, visible, data_desc, split.train.n, split.test.n, method
    ));
    let stop = super::super::stop_on_ctrl_c();
    let ais_stop = stop.clone();
    let mon_train: Vec<f32> = train_x[..a.monitor_rows.min(split.train.n) * width].to_vec();
    let mon_test: Vec<f32> = test_x[..a.monitor_rows.min(split.test.n) * width].to_vec();
    let eval_every = if a.eval_every > 0 {
        a.eval_every
    } else {
        (a.epochs / 50).max(1)
    };
    let mut progress = run.out.progress(a.epochs as u64, "epochs");
    progress.set(trainer.epoch() as u64);
    let watcher = EpochWatcher {
        out: &run.out,
        progress,
        eval_every,
        epochs: a.epochs,
        exact: exact_is_cheap(trainer.rbm()),
        mon_train: &mon_train,
        mon_test: &mon_test,
        curves: resumed_curves,
        checkpoint_every: a.checkpoint_every,
        checkpoint: cp_path.clone(),
        target,
        stop: stop.clone(),
        error: None,
    };
    let mut ctx = RunContext::new().with_stop(stop).with_observer(watcher);
    if trainer.epoch() >= a.epochs {
        bail!("no epochs to run (the checkpoint is already complete)");
    }
    let summary = trainer.run(&train_x, &mut ctx)?;
    let watcher = ctx.into_observer();
    if let Some(e) = watcher.error {
        return Err(e.into());
    }
    if summary.termination == Termination::Interrupted && a.checkpoint_every > 0 {
        watcher.save(trainer.state())?;
    }
    let curves = watcher.curves;
    let rbm = trainer.rbm().clone();
    // Final evaluation on the full train and test sets (after an interrupt only when exact
    // enumeration is cheap: a long AIS is not what a Ctrl-C asks for).
    let mut summary = summary;
    let interrupted = summary.termination == Termination::Interrupted;
    let lz = (!interrupted || exact_is_cheap(&rbm)).then(|| {
        final_log_z(
            &rbm,
            &train_x,
            false,
            AisSettings {
                chains: a.ais_chains,
                temperatures: a.ais_temperatures,
                ..Default::default()
            },
            seed,
            // A Ctrl-C here keeps the trained machine and leaves log Z out.
            &mut RunContext::new()
                .with_stop(ais_stop.clone())
                .with_observer(run.out.progress(a.ais_temperatures as u64, "ais")),
        )
    });
    let lz = match lz.transpose() {
        Err(thermolab::Error::Stopped { .. }) => {
            summary.termination = Termination::Interrupted;
            None
        }
        other => other?,
    };
    let (log_z, z_seconds) = lz
        .as_ref()
        .map_or((f64::NAN, 0.0), |l| (l.value, l.seconds));
    let ais = match lz.as_ref().map(|l| &l.method) {
        Some(LogZMethod::Ais(e)) => Some(e.clone()),
        _ => None,
    };
    let ll_train = average_log_likelihood(&rbm, &train_x, log_z);
    let ll_test = average_log_likelihood(&rbm, &test_x, log_z);
    // The pseudo-likelihood costs V·H softplus terms per image: use the monitor images.
    let pl_test = rbm
        .pseudo_log_likelihood(&mon_test)
        .ok()
        .map(|v| v.iter().sum::<f64>() / v.len().max(1) as f64);
    let recon = rbm.reconstruction_error(&test_x);
    let method_txt = match (&lz, &ais) {
        (None, _) => "not computed: the run was interrupted",
        (Some(_), Some(_)) => "AIS",
        (Some(_), None) => "exact",
    };
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
    run.headline(&format!(
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
        training: json!({"settings": settings.get(), "seed": seed, "epochs": summary.epochs, "seconds": summary.seconds}),
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
                integer_x: true,
                ..Default::default()
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
            integer_x: true,
            ..Default::default()
        };
        run.plot(
            &chart,
            "monitors",
            "A growing free-energy gap signals over-fitting",
        )?;
        let fant = if interrupted {
            Vec::new()
        } else {
            fantasies(&rbm, &test_x, 100, 1000, seed)
        };
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
    run.out.event(
        "result",
        json!({"log_z": log_z, "log_z_method": method_txt, "log_likelihood_train": ll_train,
            "log_likelihood_test": ll_test, "epochs": summary.epochs}),
    );
    let run_json = json!({
        "command": "rbm train",
        "version": thermolab::VERSION,
        "seed": seed,
        "started_unix": started,
        "settings": {"data": data_desc, "visible": visible, "hidden": a.hidden, "training": settings.get(),
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
