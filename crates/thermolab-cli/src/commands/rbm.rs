//! `thermolab rbm train` and `thermolab rbm eval`: restricted Boltzmann machines on images, with
//! exact or AIS log-likelihoods, learning curves, filters, fantasy samples and a model file.

use super::images::{load_part, load_split, ImageGrid};
use super::{fmt, unix_time, Run};
use crate::args::{RbmArgs, RbmCommand, RbmEvalArgs, RbmTrainArgs};
use crate::plots::{render_png, LineChart};
use crate::Diverged;
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use thermolab::data::{Binarize, ImageSet};
use thermolab::drivers::rbm::{
    ais_log_z, init_rbm, reverse_ais_log_z, AisEstimate, AisSettings, Method, RbmTrainer,
    TrainSettings,
};
use thermolab::kernels::rbm::GibbsBatch;
use thermolab::observe::{Control, Termination};
use thermolab::systems::rbm::{
    average_log_likelihood, log_partition_exact, Preprocess, Rbm, SavedRbm, VisibleKind,
    MODEL_FORMAT,
};

/// Largest layer enumerated exactly at the end of a run or by `eval`.
const EXACT_UNITS: usize = 25;

/// `thermolab rbm`.
pub fn run(a: RbmArgs) -> Result<()> {
    match a.command {
        RbmCommand::Train(t) => train(t),
        RbmCommand::Eval(e) => eval(e),
    }
}

fn parse_binarize(text: &str, seed: u64) -> Result<Binarize> {
    if text == "sample" {
        return Ok(Binarize::Sample(seed));
    }
    match text.parse::<f32>() {
        Ok(t) if (0.0..1.0).contains(&t) => Ok(Binarize::Threshold(t)),
        _ => bail!("--binarize: `{text}` is not a threshold in [0, 1) or `sample`"),
    }
}

fn checkpoint_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    out.with_file_name(format!("{name}.checkpoint.json"))
}

fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// Per-column standardisation of `train` (constant columns keep sd 1).
fn standardizer(train: &ImageSet) -> (Vec<f32>, Vec<f32>) {
    let w = train.width();
    let n = train.n.max(1) as f64;
    let mut mean = vec![0.0f64; w];
    let mut sq = vec![0.0f64; w];
    for row in train.pixels.chunks_exact(w) {
        for (i, &x) in row.iter().enumerate() {
            mean[i] += x as f64 / n;
            sq[i] += (x as f64) * (x as f64) / n;
        }
    }
    let sd = mean
        .iter()
        .zip(&sq)
        .map(|(m, s)| {
            let v = (s - m * m).max(0.0).sqrt();
            if v > 1e-6 {
                v as f32
            } else {
                1.0
            }
        })
        .collect();
    (mean.iter().map(|&m| m as f32).collect(), sd)
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

/// Final log Z: exact when the smaller layer allows, else forward AIS.
fn final_log_z(
    rbm: &Rbm,
    base_data: &[f32],
    force_ais: bool,
    chains: usize,
    temperatures: usize,
    seed: u64,
    threads: usize,
) -> Result<(f64, Option<AisEstimate>, f64)> {
    let t0 = Instant::now();
    if !force_ais {
        if let Ok(lz) = log_partition_exact(rbm, EXACT_UNITS) {
            return Ok((lz, None, t0.elapsed().as_secs_f64()));
        }
    }
    let s = AisSettings {
        chains,
        temperatures,
        seed,
        threads,
        ..Default::default()
    }
    .validate()?;
    let base = rbm.base_rate_biases(base_data);
    let e = ais_log_z(rbm, &base, &s)?;
    Ok((e.log_z, Some(e), t0.elapsed().as_secs_f64()))
}

/// Fantasy samples: `n` Gibbs chains from data rows, `sweeps` sweeps, then the visible means.
fn fantasies(rbm: &Rbm, start: &[f32], n: usize, sweeps: usize, seed: u64) -> Vec<Vec<f32>> {
    let nv = rbm.n_visible;
    let rows = (start.len() / nv).min(n);
    if rows == 0 {
        return Vec::new();
    }
    let mut r = thermolab::rng::stream(seed, 7_000_000);
    let mut g = GibbsBatch::new(rbm, start[..rows * nv].to_vec(), &mut r);
    g.sample_hidden(rbm, 1.0);
    for _ in 0..sweeps {
        g.sweep(rbm, 1.0);
    }
    let mut means = Vec::new();
    rbm.visible_means(&g.h, &mut means);
    means.chunks_exact(nv).map(|c| c.to_vec()).collect()
}

fn filters(rbm: &Rbm, max: usize) -> Vec<Vec<f32>> {
    let (nv, nh) = (rbm.n_visible, rbm.n_hidden);
    (0..nh.min(max))
        .map(|j| (0..nv).map(|i| rbm.w[i * nh + j]).collect())
        .collect()
}

fn image_shape(rbm: &Rbm) -> (usize, usize) {
    rbm.image_shape.unwrap_or((1, rbm.n_visible))
}

fn add_grids(run: &mut Run, rbm: &Rbm, fantasy: &[Vec<f32>]) -> Result<()> {
    if run.report.is_none() {
        return Ok(());
    }
    let (rows, cols) = image_shape(rbm);
    let mut html = String::from("<div>");
    for (name, title, tiles) in [
        (
            "filters",
            "Filters: the weights into each hidden unit",
            filters(rbm, 100),
        ),
        (
            "fantasy",
            "Fantasy samples: Gibbs chains after 1000 sweeps (visible means)",
            fantasy.to_vec(),
        ),
    ] {
        if tiles.is_empty() {
            continue;
        }
        let grid = ImageGrid {
            title: title.into(),
            tiles,
            rows,
            cols,
            per_row: 10,
        };
        render_png(&grid, &run.folder, name, grid.size())?;
        html.push_str(&format!(
            "<img src=\"{name}.png\" alt=\"{name}\" width=\"420\"> "
        ));
    }
    html.push_str("</div>");
    if let Some(rep) = run.report.as_mut() {
        rep.heading("Filters and fantasy samples");
        rep.raw(&html);
    }
    Ok(())
}

fn train(a: RbmTrainArgs) -> Result<()> {
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
    let preprocess = match visible {
        VisibleKind::Bernoulli => Preprocess {
            binarize: Some(parse_binarize(&a.binarize, seed)?),
            standardize: None,
        },
        VisibleKind::Gaussian => Preprocess {
            binarize: None,
            standardize: Some(standardizer(&split.train)),
        },
    };
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
        serde_json::from_value::<RbmTrainer>(v["trainer"].clone())
            .with_context(|| format!("{}: not a thermolab checkpoint", cp_path.display()))?
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
    let mut curves: Vec<Value> = Vec::new();
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
                curves.push(point);
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
                let doc = json!({"data": data_desc, "settings": settings, "trainer": trainer});
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

fn eval(a: RbmEvalArgs) -> Result<()> {
    let saved = SavedRbm::load(&a.model)?;
    let rbm = &saved.rbm;
    let (set, desc) = load_part(&a.data, &a.split)?;
    if set.width() != rbm.n_visible {
        bail!(
            "--data {}: images have {} values but the model {} has {} visible units",
            a.data,
            set.width(),
            a.model.display(),
            rbm.n_visible
        );
    }
    let mut x = set.pixels.clone();
    saved.preprocess.apply(&mut x, set.width());
    rbm.check_data(&x)?;
    if a.ais_chains == 0 || a.ais_temperatures < 2 {
        bail!("--ais-chains must be ≥ 1 and --ais-temperatures ≥ 2");
    }
    let mut run = Run::start(&a.common, "thermolab-rbm-eval", "thermolab rbm eval")?;
    let started = unix_time();
    let seed = a.common.seed;
    let (log_z, ais, secs) = final_log_z(
        rbm,
        &x,
        a.ais,
        a.ais_chains,
        a.ais_temperatures,
        seed,
        a.threads,
    )?;
    let mean_neg_f = {
        let f = rbm.free_energies(&x);
        -f.iter().sum::<f64>() / f.len().max(1) as f64
    };
    let ll = mean_neg_f - log_z;
    let mut rows = vec![vec![
        if ais.is_some() {
            "AIS (forward)".into()
        } else {
            "exact".into()
        },
        fmt(log_z),
        ais.as_ref()
            .map(|e| fmt(e.se))
            .unwrap_or_else(|| "0".into()),
        fmt(ll),
        format!("{secs:.3}"),
    ]];
    run.out.text(&format!(
        "{} images from {desc}: log Z = {}{} ({}, {:.3} s); average log-likelihood {} nats/image",
        set.n,
        fmt(log_z),
        ais.as_ref()
            .map(|e| format!(" ± {}", fmt(e.se)))
            .unwrap_or_default(),
        if ais.is_some() { "AIS" } else { "exact" },
        secs,
        fmt(ll)
    ));
    let mut reverse = None;
    if a.reverse {
        let n = a.ais_chains.min(set.n);
        let mut r = thermolab::rng::stream(seed, 8_000_000);
        let mut g = GibbsBatch::new(rbm, x[..n * rbm.n_visible].to_vec(), &mut r);
        g.sample_hidden(rbm, 1.0);
        for _ in 0..a.reverse_burn_in {
            g.sweep(rbm, 1.0);
        }
        let s = AisSettings {
            chains: n,
            temperatures: a.ais_temperatures,
            seed,
            threads: a.threads,
            ..Default::default()
        }
        .validate()?;
        let base = rbm.base_rate_biases(&x);
        let e = reverse_ais_log_z(rbm, &base, &g.v, &s)?;
        run.out.text(&format!(
            "reverse AIS: log Z = {} ± {} → log-likelihood {} (an estimate from above for log Z when the start states are exact samples)",
            fmt(e.log_z),
            fmt(e.se),
            fmt(mean_neg_f - e.log_z)
        ));
        rows.push(vec![
            "AIS (reverse)".into(),
            fmt(e.log_z),
            fmt(e.se),
            fmt(mean_neg_f - e.log_z),
            format!("{:.3}", e.seconds),
        ]);
        reverse = Some(e);
    }
    if !a.common.no_plots {
        let fant = fantasies(rbm, &x, 100, 1000, seed);
        add_grids(&mut run, rbm, &fant)?;
    }
    if let Some(rep) = run.report.as_mut() {
        rep.heading(&format!("{} on {desc}", a.model.display()));
        rep.table(
            &[
                "method",
                "log Z",
                "SE",
                "log-likelihood (nats/image)",
                "seconds",
            ],
            &rows,
        );
    }
    let ais_json = |e: &AisEstimate| {
        json!({"log_z": e.log_z, "se": e.se, "low": e.low, "high": e.high, "ess": e.ess,
            "chains": e.log_weights.len(), "temperatures": e.temperatures, "seconds": e.seconds})
    };
    let run_json = json!({
        "command": "rbm eval",
        "version": thermolab::VERSION,
        "seed": seed,
        "started_unix": started,
        "settings": {"model": a.model, "data": desc, "images": set.n, "ais": a.ais,
            "ais_chains": a.ais_chains, "ais_temperatures": a.ais_temperatures, "reverse": a.reverse},
        "results": {
            "log_z": log_z, "log_z_method": if ais.is_some() { "ais" } else { "exact" },
            "log_likelihood": ll, "mean_negative_free_energy": mean_neg_f,
            "ais": ais.as_ref().map(ais_json), "reverse_ais": reverse.as_ref().map(ais_json),
            "log_likelihood_bracket": reverse.as_ref().map(|r| [mean_neg_f - r.log_z, ll]),
        },
        "termination": "finished",
    });
    run.finish(&run_json)?;
    Ok(())
}
