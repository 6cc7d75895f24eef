//! `thermolab train`: train a dense network on CSV or built-in data, with the thermodynamic
//! monitor, and write losses, weights, predictions, plots and the report.

use super::{fmt, read_vector, unix_time, Run};
use crate::args::TrainArgs;
use crate::plots::{HistogramChart, LineChart};
use anyhow::{anyhow, bail, Result};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use thermolab::data::{load_csv, sin_data, Columns, CsvSpec, Dataset, Header};
use thermolab::drivers::optim::OptimizerSettings;
use thermolab::drivers::train::{noise_temperature_probe, train, TrainResult, TrainSettings};
use thermolab::energy::Energy;
use thermolab::nn::{Architecture, Init, Loss, MlpEnergy};
use thermolab::observe::{ThermoMonitor, ThermoReport};
use thermolab::rng::{init_stream, stream, Purpose};
use thermolab::run::RunContext;
use thermolab::run::Termination;
use thermolab::trace::csv_table;

/// Everything a training run needs, validated.
pub struct TrainPlan {
    /// The energy (network loss on the data).
    pub energy: MlpEnergy,
    /// Initial parameters.
    pub theta0: Vec<f64>,
    /// Validated settings.
    pub settings: thermolab::drivers::train::ValidTrainSettings,
    /// A description of the data for run.json.
    pub data_desc: Value,
}

/// What a finished training run measured.
pub struct TrainOutcome {
    /// The driver's result.
    pub result: TrainResult,
    /// The monitor's report.
    pub thermo: ThermoReport,
    /// The energy, for predictions.
    pub energy: MlpEnergy,
    /// Initial parameters.
    pub theta0: Vec<f64>,
}

fn columns(opt: &Option<String>) -> Columns {
    match opt {
        None => Columns::Default,
        Some(t) => Columns::Named(t.split(',').map(|s| s.trim().to_string()).collect()),
    }
}

/// Loads the data named by `--data`.
pub fn load_data(a: &TrainArgs) -> Result<(Dataset, Value)> {
    if a.data == "sin" {
        if a.n < 2 {
            bail!("--n: the sin data need at least 2 points");
        }
        if !(a.noise_sd.is_finite() && a.noise_sd >= 0.0) {
            bail!("--noise: must be a finite number ≥ 0, got {}", a.noise_sd);
        }
        let d = sin_data(a.n, a.noise_sd, a.common.seed);
        return Ok((d, json!({"builtin": "sin", "n": a.n, "noise": a.noise_sd})));
    }
    let header = match a.header.as_str() {
        "auto" => Header::Auto,
        "yes" | "true" => Header::Present,
        "no" | "false" => Header::Absent,
        h => bail!("--header: expected auto, yes or no, got `{h}`"),
    };
    let spec = CsvSpec {
        header,
        inputs: columns(&a.inputs),
        targets: columns(&a.target_column),
    };
    let d = load_csv(Path::new(&a.data), &spec)?;
    let desc =
        json!({"file": a.data, "rows": d.n, "inputs": d.input_names, "targets": d.target_names});
    Ok((d, desc))
}

/// Validates the arguments into a plan, before any output is written.
pub fn plan(a: &TrainArgs) -> Result<TrainPlan> {
    let arch: Architecture = a.arch.parse()?;
    // Parameters, gradients, optimiser moments, initial and best weights.
    crate::limits::memory(
        &format!("--arch {}", a.arch),
        crate::limits::f64s(8.0 * arch.n_params() as f64),
    )?;
    // The loss curve and its trace keep a few numbers per epoch; the built-in data 3 per point.
    crate::limits::memory(
        &format!("--epochs {}", a.epochs),
        crate::limits::f64s(4.0 * a.epochs as f64),
    )?;
    crate::limits::memory(
        &format!("--n {}", a.n),
        crate::limits::f64s(3.0 * a.n as f64),
    )?;
    let loss = Loss::parse(&a.loss)
        .ok_or_else(|| anyhow!("--loss: unknown loss `{}` (mse, cross-entropy)", a.loss))?;
    let optimizer = match a.optimizer.as_str() {
        "adam" => OptimizerSettings::adam(a.lr),
        "sgd" => OptimizerSettings::sgd(a.lr, a.momentum),
        o => bail!("--optimizer: unknown optimiser `{o}` (adam, sgd)"),
    };
    let settings = TrainSettings {
        epochs: a.epochs,
        batch_size: a.batch_size,
        optimizer,
    }
    .validate()?;
    let (data, data_desc) = load_data(a)?;
    let energy = MlpEnergy::new(arch.clone(), Arc::new(data), loss)?;
    let theta0 = match a.init.as_str() {
        "auto" => Init::Auto.sample(&arch, &mut init_stream(a.common.seed)),
        "he" => Init::He.sample(&arch, &mut init_stream(a.common.seed)),
        "glorot" => Init::Glorot.sample(&arch, &mut init_stream(a.common.seed)),
        file => {
            let v = read_vector(Path::new(file))?;
            if v.len() != arch.n_params() {
                bail!(
                    "{file}: {} numbers, but `{arch}` has {} parameters",
                    v.len(),
                    arch.n_params()
                );
            }
            v
        }
    };
    Ok(TrainPlan {
        energy,
        theta0,
        settings,
        data_desc,
    })
}

/// Runs the plan with the monitor and a progress bar.
pub fn execute(run: &Run, mut p: TrainPlan, seed: u64) -> Result<TrainOutcome> {
    let epochs = p.settings.get().epochs;
    let mut mon = ThermoMonitor::new((epochs / 100).max(1), 30);
    let mut prog = run.out.progress(epochs as u64, "train");
    let result = {
        let mut ctx = RunContext::new()
            .with_stop(super::stop_on_ctrl_c())
            .with_observer((&mut mon, &mut prog));
        train(&mut p.energy, p.theta0.clone(), &p.settings, seed, &mut ctx)?
    };
    Ok(TrainOutcome {
        result,
        thermo: mon.into_report(),
        energy: p.energy,
        theta0: p.theta0,
    })
}

/// Writes the CSVs and plots of a training run with file-name `prefix`; returns the results JSON.
pub fn write_outputs(
    run: &mut Run,
    o: &mut TrainOutcome,
    prefix: &str,
    probe_batch: usize,
    seed: u64,
    lr: f64,
) -> Result<Value> {
    let r = &o.result;
    let th = &o.thermo;
    let rows: Vec<[f64; 3]> = r
        .losses
        .iter()
        .enumerate()
        .map(|(i, l)| {
            [
                i as f64 + 1.0,
                *l,
                th.noise_temperature
                    .get(i)
                    .copied()
                    .flatten()
                    .unwrap_or(f64::NAN),
            ]
        })
        .collect();
    run.folder.write(
        &format!("{prefix}loss.csv"),
        csv_table(
            &["epoch", "loss", "noise_temperature"],
            rows.iter().map(|r| &r[..]),
        ),
    )?;
    let wrows: Vec<[f64; 3]> = r
        .theta
        .iter()
        .zip(&o.theta0)
        .enumerate()
        .map(|(i, (a, b))| [i as f64, *b, *a])
        .collect();
    run.folder.write(
        &format!("{prefix}weights.csv"),
        csv_table(&["index", "initial", "final"], wrows.iter().map(|r| &r[..])),
    )?;
    let arch = o.energy.architecture().clone();
    let data = o.energy.data().clone();
    let initial_entropy = thermolab::estimate::vasicek_entropy(&o.theta0);
    let probe = if r.termination == Termination::Diverged {
        None
    } else {
        noise_temperature_probe(
            &mut o.energy,
            &r.theta,
            probe_batch,
            lr,
            &mut stream(seed, Purpose::Training, 1),
        )
    };
    // Predictions on the data: outputs for regression; for a classifier the class
    // probabilities (softmax of the logits), the predicted class and the accuracy.
    let mut pred = o.energy.predict(&r.theta, &data.x);
    let k = arch.n_outputs();
    let classifier = o.energy.loss() == thermolab::nn::Loss::SoftmaxCrossEntropy;
    let mut header: Vec<String> = data.input_names.clone();
    header.extend(data.target_names.iter().cloned());
    let mut accuracy = None;
    if classifier {
        header.extend((0..k).map(|j| format!("probability_{j}")));
        header.push("predicted_class".into());
        let mut right = 0usize;
        for (i, row) in pred.chunks_exact_mut(k).enumerate() {
            let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let z: f64 = row.iter().map(|v| (v - m).exp()).sum();
            row.iter_mut().for_each(|v| *v = (*v - m).exp() / z);
            let best = (0..k)
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap_or(0);
            right += usize::from(best as f64 == data.y[i * data.n_targets]);
        }
        accuracy = Some(right as f64 / data.n.max(1) as f64);
    } else {
        header.extend((0..k).map(|j| format!("prediction_{j}")));
    }
    let hrefs: Vec<&str> = header.iter().map(|s| s.as_str()).collect();
    let prow: Vec<Vec<f64>> = (0..data.n)
        .map(|i| {
            let mut v = data.x[i * data.n_inputs..(i + 1) * data.n_inputs].to_vec();
            v.extend_from_slice(&data.y[i * data.n_targets..(i + 1) * data.n_targets]);
            let p = &pred[i * k..(i + 1) * k];
            v.extend_from_slice(p);
            if classifier {
                let best = (0..k).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap_or(0);
                v.push(best as f64);
            }
            v
        })
        .collect();
    run.folder.write(
        &format!("{prefix}predictions.csv"),
        csv_table(&hrefs, prow.iter().map(|r| &r[..])),
    )?;
    if run.report.is_some() {
        let loss_pts: Vec<(f64, f64)> = r
            .losses
            .iter()
            .enumerate()
            .map(|(i, l)| (i as f64 + 1.0, *l))
            .collect();
        let chart = LineChart {
            title: format!("Energy (loss) per epoch, {arch}"),
            x_label: "epoch".into(),
            y_label: format!("{} (log scale)", o.energy.loss().name()),
            lines: vec![("loss".into(), loss_pts)],
            points: vec![],
            errors: vec![],
            log_y: true,
            integer_x: true,
            ..Default::default()
        };
        let caption = if r.termination == Termination::Diverged {
            "Loss per epoch on a log axis: the run diverged (the loss grew without bound; lower --lr)"
        } else {
            "Loss decay on a log axis: the energy relaxing towards equilibrium"
        };
        run.plot(&chart, &format!("{prefix}loss"), caption)?;
        if data.n_inputs == 1 && data.n_targets == 1 && k == 1 {
            let (lo, hi) = data
                .x
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                    (a.min(v), b.max(v))
                });
            let xs: Vec<f64> = (0..400)
                .map(|i| lo + (hi - lo) * i as f64 / 399.0)
                .collect();
            let ys = o.energy.predict(&r.theta, &xs);
            let chart = LineChart {
                title: "Fitted curve over the data".into(),
                x_label: data.input_names[0].clone(),
                y_label: data.target_names[0].clone(),
                lines: vec![("network".into(), xs.iter().copied().zip(ys).collect())],
                points: vec![(
                    "data".into(),
                    data.x.iter().copied().zip(data.y.iter().copied()).collect(),
                )],
                errors: vec![],
                log_y: false,
                ..Default::default()
            };
            run.plot(
                &chart,
                &format!("{prefix}fit"),
                "The trained network (line) over the training data (dots)",
            )?;
        }
        if let Some(h) = &th.final_weights {
            let chart = HistogramChart {
                title: format!("Final weights ({} parameters)", r.theta.len()),
                x_label: "weight value".into(),
                hist: h.clone(),
            };
            run.plot(
                &chart,
                &format!("{prefix}weights"),
                "Histogram of the trained parameters: one microstate's spread",
            )?;
        }
        if th.weight_entropy.len() > 1 {
            let chart = LineChart {
                title: "Differential entropy of the weights".into(),
                x_label: "epoch".into(),
                y_label: "entropy (nats)".into(),
                lines: vec![(
                    "Vasicek estimate".into(),
                    th.weight_entropy
                        .iter()
                        .map(|(e, h)| (*e as f64 + 1.0, *h))
                        .collect(),
                )],
                points: vec![],
                errors: vec![],
                log_y: false,
                integer_x: true,
                ..Default::default()
            };
            run.plot(
                &chart,
                &format!("{prefix}entropy"),
                "Spread of the weight values during training",
            )?;
        }
    }
    Ok(json!({
        "final_loss": r.final_loss,
        "accuracy": accuracy,
        "initial_loss": r.losses.first(),
        "epochs_run": r.epochs_run,
        "termination": r.termination,
        "evaluations": r.evaluations,
        "loop_seconds": r.loop_seconds,
        "us_per_epoch": 1e6 * r.loop_seconds / r.epochs_run.max(1) as f64,
        "equilibrium_epoch": th.equilibrium_epoch.map(|e| e + 1),
        "plateau_rule": th.plateau_rule,
        "noise_temperature": th.final_noise_temperature,
        "noise_temperature_probe": {"batch_size": probe_batch, "lr": lr, "temperature": probe},
        "weight_entropy_initial": initial_entropy,
        "weight_entropy_final": th.final_weight_entropy,
        "weight_entropy_trace": th.weight_entropy,
        "weights_histogram": th.final_weights,
        "n_params": r.theta.len(),
    }))
}

/// `thermolab train`.
pub fn run(a: TrainArgs) -> Result<()> {
    let p = plan(&a)?;
    let mut run = Run::start(&a.common, "thermolab-train", "thermolab train")?;
    let started = unix_time();
    let arch = p.energy.architecture().to_string();
    let settings = *p.settings.get();
    let data_desc = p.data_desc.clone();
    run.out.event(
        "start",
        json!({"command": "train", "arch": arch, "data": data_desc, "seed": a.common.seed}),
    );
    let l0 = {
        let mut e = p.energy.clone();
        e.energy(&p.theta0).unwrap_or(f64::NAN)
    };
    let mut o = execute(&run, p, a.common.seed)?;
    let results = write_outputs(
        &mut run,
        &mut o,
        "",
        a.batch_size.unwrap_or(20),
        a.common.seed,
        a.lr,
    )?;
    let r = &o.result;
    let diverged = r.termination == Termination::Diverged;
    run.headline(&format!(
        "{arch} on {}: loss {} → {} after {} epochs ({:.2} µs/epoch), termination {}",
        a.data,
        fmt(l0),
        fmt(r.final_loss),
        r.epochs_run,
        1e6 * r.loop_seconds / r.epochs_run.max(1) as f64,
        r.termination.as_str()
    ));
    if let Some(acc) = results["accuracy"].as_f64() {
        run.out.text(&format!(
            "accuracy on the training data: {:.1} % (class probabilities in predictions.csv)",
            100.0 * acc
        ));
    }
    run.out.event("result", results.clone());
    if let Some(rep) = run.report.as_mut() {
        rep.heading("Result");
        rep.table(
            &["quantity", "value"],
            &[
                vec!["architecture".into(), arch.clone()],
                vec!["data".into(), a.data.clone()],
                vec![
                    "optimiser".into(),
                    format!(
                        "{} (lr {})",
                        settings.optimizer.name(),
                        settings.optimizer.lr()
                    ),
                ],
                vec!["initial loss".into(), fmt(l0)],
                vec![
                    "accuracy (training data)".into(),
                    results["accuracy"]
                        .as_f64()
                        .map_or("—".into(), |a| format!("{:.1} %", 100.0 * a)),
                ],
                vec!["final loss".into(), fmt(r.final_loss)],
                vec!["epochs".into(), r.epochs_run.to_string()],
                vec!["termination".into(), r.termination.as_str().into()],
                vec![
                    "equilibrium epoch".into(),
                    o.thermo
                        .equilibrium_epoch
                        .map_or("not reached".into(), |e| (e + 1).to_string()),
                ],
            ],
        );
    }
    let run_json = json!({
        "command": "train",
        "version": thermolab::VERSION,
        "seed": a.common.seed,
        "started_unix": started,
        "settings": {"arch": arch, "loss": a.loss, "data": data_desc, "train": settings, "init": a.init},
        "timings": {"loop_seconds": r.loop_seconds},
        "results": results,
        "termination": r.termination,
    });
    run.finish(&run_json)?;
    if diverged {
        return Err(crate::Diverged(format!(
            "training diverged at epoch {} (non-finite loss); the run folder records it",
            r.epochs_run + 1
        ))
        .into());
    }
    Ok(())
}
