//! `thermolab sample --sampler sgld|psgld|sghmc|sgnht|csgmcmc`: a dense network's posterior on
//! minibatches of real data, sampled at a temperature, with the posterior predictive's test
//! accuracy, NLL and calibration (or RMSE) and the energy per epoch.

use super::{fmt, unix_time, Run};
use crate::args::SampleArgs;
use crate::plots::LineChart;
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use thermolab::data::{digits, load_csv, mnist, mnist_dir, Columns, CsvSpec, MnistSplit};
use thermolab::drivers::sgmcmc::{sg_sample, SgRun, SgSettings, StepSchedule};
use thermolab::estimate::predictive::{classification_metrics, regression_metrics};
use thermolab::kernels::sgmcmc::SgMethod;
use thermolab::nn::{Architecture, Init};
use thermolab::rng::{stream, Purpose};
use thermolab::run::{RunContext, Termination};
use thermolab::systems::posterior::{
    Augmentation, GaussianPrior, Likelihood, NetworkData, NetworkPosterior, Predictive, Targets,
};
use thermolab::trace::csv_table;

/// The samplers this command runs.
pub const SAMPLERS: [&str; 5] = ["sgld", "psgld", "sghmc", "sgnht", "csgmcmc"];

/// Whether `sampler` names a stochastic-gradient sampler.
pub fn is_stochastic_gradient(sampler: &str) -> bool {
    SAMPLERS.contains(&sampler)
}

/// Training and test rows, and what they are.
pub(super) struct Split {
    pub train: NetworkData,
    pub test: NetworkData,
    pub desc: Value,
    pub classes: bool,
    /// Image height and width, for image data.
    pub image: Option<(usize, usize)>,
}

/// Standardises every input column by the training rows' mean and sd (constant columns are
/// only centred).
fn standardise(train: &mut NetworkData, test: &mut NetworkData) {
    let d = train.n_inputs;
    for j in 0..d {
        let col = train.x.iter().skip(j).step_by(d);
        let n = train.n as f64;
        let mean = col.clone().map(|&v| v as f64).sum::<f64>() / n;
        let var = col.map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        let sd = if var > 0.0 { var.sqrt() } else { 1.0 };
        for set in [&mut *train, &mut *test] {
            for v in set.x.iter_mut().skip(j).step_by(d) {
                *v = ((*v as f64 - mean) / sd) as f32;
            }
        }
    }
}

/// Splits `all` into training and test rows by a seeded shuffle.
fn hold_out(all: &NetworkData, fraction: f64, seed: u64) -> Result<(NetworkData, NetworkData)> {
    if !(fraction > 0.0 && fraction < 1.0) {
        bail!("--test-fraction: must be in (0, 1), got {fraction}");
    }
    use rand::seq::SliceRandom;
    let mut rows: Vec<usize> = (0..all.n).collect();
    rows.shuffle(&mut stream(seed, Purpose::Data, 1));
    let n_test = ((all.n as f64 * fraction).round() as usize).clamp(1, all.n.saturating_sub(1));
    if all.n < 2 {
        bail!("--data: at least 2 rows are needed to hold some out for testing");
    }
    let (test, train) = rows.split_at(n_test);
    Ok((all.select(train), all.select(test)))
}

pub(super) fn model_error(e: thermolab::systems::ModelError) -> anyhow::Error {
    anyhow!("--{}: {}", e.parameter.replace('_', "-"), e.message)
}

/// Loads `--data` with its test split.
pub(super) fn load(a: &SampleArgs) -> Result<Split> {
    let seed = a.common.seed;
    let name = a.model.data.as_deref().unwrap_or("sin");
    let mut split = match name {
        "sin" => {
            let train = thermolab::data::sin_data(200, a.model.noise_sd.max(0.0), seed);
            let test = thermolab::data::sin_data(200, a.model.noise_sd.max(0.0), seed ^ 0x7e57);
            Split {
                train: NetworkData::from_dataset(&train, false).map_err(model_error)?,
                test: NetworkData::from_dataset(&test, false).map_err(model_error)?,
                desc: json!({"builtin": "sin", "train_rows": 200, "test_rows": 200}),
                classes: false,
                image: None,
            }
        }
        "mnist" => {
            let dir = mnist_dir()?;
            let train =
                NetworkData::from_images(&mnist(&dir, MnistSplit::Train)?).map_err(model_error)?;
            let test =
                NetworkData::from_images(&mnist(&dir, MnistSplit::Test)?).map_err(model_error)?;
            Split {
                desc: json!({"builtin": "mnist", "folder": dir, "train_rows": train.n, "test_rows": test.n}),
                train,
                test,
                classes: true,
                image: Some((28, 28)),
            }
        }
        "digits" | "breast-cancer" => {
            let all = if name == "digits" {
                NetworkData::from_images(&digits()).map_err(model_error)?
            } else {
                let d = thermolab::systems::posterior::LogisticRegression::breast_cancer_data();
                NetworkData::from_dataset(&d, true).map_err(model_error)?
            };
            let (mut train, mut test) = hold_out(&all, a.sg.test_fraction, seed)?;
            if name == "breast-cancer" {
                standardise(&mut train, &mut test);
            }
            Split {
                desc: json!({"builtin": name, "train_rows": train.n, "test_rows": test.n, "standardised": name == "breast-cancer"}),
                train,
                test,
                classes: true,
                image: (name == "digits").then_some((8, 8)),
            }
        }
        file => {
            let targets = match &a.model.target_column {
                None => Columns::Default,
                Some(t) => Columns::Named(t.split(',').map(|s| s.trim().to_string()).collect()),
            };
            let spec = CsvSpec {
                targets,
                ..CsvSpec::default()
            };
            let d = load_csv(Path::new(file), &spec)?;
            let classes = match a.sg.likelihood.as_deref() {
                Some("categorical") => true,
                Some(_) => false,
                None => false,
            };
            let all = NetworkData::from_dataset(&d, classes)
                .map_err(|e| anyhow!("{file}: {}", e.message))?;
            let (mut train, mut test) = hold_out(&all, a.sg.test_fraction, seed)?;
            standardise(&mut train, &mut test);
            Split {
                desc: json!({"file": file, "train_rows": train.n, "test_rows": test.n, "inputs": d.input_names, "targets": d.target_names, "standardised": true}),
                train,
                test,
                classes,
                image: None,
            }
        }
    };
    if a.sg.train_rows > 0 && a.sg.train_rows < split.train.n {
        let rows: Vec<usize> = (0..a.sg.train_rows).collect();
        split.train = split.train.select(&rows);
        split.desc["train_rows"] = json!(split.train.n);
    }
    Ok(split)
}

/// The likelihood `--likelihood` names (or the data's default).
pub(super) fn likelihood(a: &SampleArgs, classes: bool) -> Result<Likelihood> {
    let sd = a.model.noise_sd;
    Ok(match a.sg.likelihood.as_deref() {
        None if classes => Likelihood::Categorical,
        None => Likelihood::Gaussian { sd },
        Some("categorical") if classes => Likelihood::Categorical,
        Some("categorical") => bail!("--likelihood categorical: these data have real targets"),
        Some(_) if classes => {
            bail!("--likelihood: the data are classes, which need the categorical likelihood")
        }
        Some("gaussian") => Likelihood::Gaussian { sd },
        Some("student-t") => Likelihood::StudentT {
            dof: a.sg.dof,
            scale: sd,
        },
        Some(l) => {
            bail!("--likelihood: unknown likelihood `{l}` (categorical, gaussian, student-t)")
        }
    })
}

/// The run's settings from the flags.
pub(super) fn settings(a: &SampleArgs) -> Result<SgSettings> {
    let method = match a.sampler.as_str() {
        "sgld" | "csgmcmc" => SgMethod::Sgld,
        "psgld" => SgMethod::Psgld {
            decay: 0.99,
            damping: 1e-8,
        },
        "sghmc" => SgMethod::Sghmc {
            friction: a.sg.friction,
        },
        "sgnht" => SgMethod::Sgnht {
            diffusion: a.sg.diffusion,
        },
        s => bail!("--sampler: `{s}` is not a stochastic-gradient sampler"),
    };
    let cyclical = a.sampler == "csgmcmc";
    let temperature = match a.sg.temperature {
        Some(t) => t,
        None if a.beta > 0.0 && a.beta.is_finite() => 1.0 / a.beta,
        None => bail!("--beta: must be finite and > 0 (or give --temperature)"),
    };
    let s = SgSettings {
        method,
        step_size: a.sg.step_size,
        temperature,
        batch_size: (a.sg.batch_size > 0).then_some(a.sg.batch_size),
        epochs: a.sg.epochs,
        burn_in_epochs: a
            .sg
            .burn_in_epochs
            .unwrap_or(if cyclical { 0 } else { a.sg.epochs / 5 }),
        thin: a.thin.unwrap_or(100),
        chains: a.chains,
        schedule: if cyclical {
            StepSchedule::Cyclical {
                cycles: a.sg.cycles,
                exploration: a.sg.exploration,
            }
        } else {
            StepSchedule::Constant
        },
        seed: a.common.seed,
    };
    s.validate()
        .map_err(|e| anyhow!("--{}: {}", e.field.replace('_', "-"), e.message))?;
    Ok(s)
}

/// The posterior predictive of `samples` on the test rows, and its metrics as JSON.
pub(super) fn test_metrics(
    post: &mut NetworkPosterior,
    samples: &[&[f64]],
    test: &NetworkData,
) -> Result<(Predictive, Value)> {
    let predictive = post.predictive(samples.iter().copied(), &test.x)?;
    let k = post.architecture().n_outputs();
    let metrics = match (&predictive, &test.targets) {
        (Predictive::Classes(probs), Targets::Classes(labels)) => {
            let m = classification_metrics(probs, labels, k);
            json!({"accuracy": m.accuracy, "accuracy_se": m.accuracy_se, "nll": m.nll, "nll_se": m.nll_se, "ece": m.ece, "ece_se": m.ece_se, "test_rows": m.n})
        }
        (Predictive::Values { mean, sd }, Targets::Values { y, .. }) => {
            let y: Vec<f64> = y.iter().map(|&v| v as f64).collect();
            let m = regression_metrics(mean, sd, &y, k);
            json!({"rmse": m.rmse, "rmse_se": m.rmse_se, "nll": m.nll, "nll_se": m.nll_se, "test_rows": m.n})
        }
        _ => bail!("the test rows' targets do not fit the likelihood"),
    };
    Ok((predictive, metrics))
}

/// The initialisation `--init` names.
pub(super) fn init_scheme(a: &SampleArgs) -> Result<Init> {
    Init::parse(&a.sg.init).ok_or_else(|| {
        anyhow!(
            "--init: unknown initialisation `{}` (auto, he, glorot, pytorch)",
            a.sg.init
        )
    })
}

/// What every stochastic-gradient command builds from its flags before it runs.
pub(super) struct Prepared {
    pub arch: Architecture,
    pub settings: SgSettings,
    pub scheme: Init,
    pub lik: Likelihood,
    pub post: NetworkPosterior,
    pub test: NetworkData,
    pub classes: bool,
    pub desc: Value,
}

impl Prepared {
    /// Chain c's starting point, from stream (seed, init, c).
    pub fn starts(&self) -> Vec<Vec<f64>> {
        (0..self.settings.chains)
            .map(|c| {
                self.scheme.sample(
                    &self.arch,
                    &mut stream(self.settings.seed, Purpose::Init, c as u64),
                )
            })
            .collect()
    }
}

/// Checks the flags, loads the data and builds the posterior, refusing `runs` runs whose kept
/// samples would not fit in memory.
pub(super) fn prepare(a: &SampleArgs, runs: usize) -> Result<Prepared> {
    crate::limits::threads(a.threads)?;
    let arch: Architecture = a.model.arch.parse()?;
    let settings = settings(a)?;
    let scheme = init_scheme(a)?;
    let split = load(a)?;
    let lik = likelihood(a, split.classes)?;
    // Kept samples: runs × chains × sampling steps / thin, each a parameter vector.
    let steps_per_epoch = split
        .train
        .n
        .div_ceil(settings.batch_size.unwrap_or(split.train.n).max(1));
    let kept =
        ((settings.epochs - settings.burn_in_epochs) * steps_per_epoch / settings.thin) as f64;
    crate::limits::memory(
        "--thin (samples kept in memory)",
        crate::limits::f64s(runs as f64 * settings.chains as f64 * kept * arch.n_params() as f64),
    )?;
    let prior = GaussianPrior::isotropic(&arch, a.model.prior_sd);
    let mut post = NetworkPosterior::new(arch.clone(), Arc::new(split.train), lik, prior)
        .map_err(model_error)?;
    let mut desc = split.desc;
    if a.sg.augment_shift > 0 {
        let Some((height, width)) = split.image else {
            bail!("--augment-shift: only image data (digits, mnist) can be shifted");
        };
        post = post
            .with_augmentation(Augmentation {
                height,
                width,
                max_shift: a.sg.augment_shift,
                seed: a.common.seed,
            })
            .map_err(model_error)?;
        desc["augment_shift"] = json!(a.sg.augment_shift);
    }
    Ok(Prepared {
        arch,
        settings,
        scheme,
        lik,
        post,
        test: split.test,
        classes: split.classes,
        desc,
    })
}

/// Writes `energy.csv` (the mean minibatch energy per epoch, a column per chain named
/// `{label}_<c>`) and its plot.
pub(super) fn write_energy(
    run: &mut Run,
    result: &SgRun,
    arch: &Architecture,
    label: &str,
) -> Result<()> {
    let mut header = vec!["epoch".to_string()];
    header.extend((0..result.chains.len()).map(|c| format!("{label}_{c}")));
    let hrefs: Vec<&str> = header.iter().map(String::as_str).collect();
    let rows: Vec<Vec<f64>> = (0..result.epochs_run)
        .map(|e| {
            let mut r = vec![(e + 1) as f64];
            r.extend(result.chains.iter().map(|c| c.epoch_energy[e]));
            r
        })
        .collect();
    run.folder
        .write("energy.csv", csv_table(&hrefs, rows.iter().map(|r| &r[..])))?;
    if run.report.is_some() && result.epochs_run > 0 {
        let lines = result
            .chains
            .iter()
            .enumerate()
            .map(|(c, ch)| {
                let pts = ch
                    .epoch_energy
                    .iter()
                    .enumerate()
                    .map(|(e, &v)| (e as f64 + 1.0, v))
                    .collect();
                (format!("{label} {c}"), pts)
            })
            .collect();
        let chart = LineChart {
            title: format!("Mean minibatch energy per epoch, {arch}"),
            x_label: "epoch".into(),
            y_label: "energy (summed, N/B-scaled)".into(),
            lines,
            points: vec![],
            errors: vec![],
            log_y: false,
            integer_x: true,
            ..Default::default()
        };
        run.plot(
            &chart,
            "energy",
            "The energy relaxing to the temperature's equilibrium; the burn-in should cover the fall",
        )?;
    }
    Ok(())
}

/// `thermolab sample` with a stochastic-gradient sampler.
pub fn run(a: SampleArgs) -> Result<()> {
    let prepared = prepare(&a, 1)?;
    let init = prepared.starts();
    let Prepared {
        arch,
        settings,
        scheme,
        lik,
        post,
        test,
        desc,
        ..
    } = prepared;
    let p = arch.n_params();
    let title = format!("thermolab sample: {} on {}", a.sampler, a.model.arch);
    let mut run = Run::start(&a.common, "thermolab-sample", &title)?;
    let started = unix_time();
    run.out.event(
        "start",
        json!({"command": "sample", "sampler": a.sampler, "arch": arch.to_string(), "data": desc, "seed": a.common.seed}),
    );
    let mut prog = run.out.progress(settings.epochs as u64, "epochs");
    let pool = thermolab::workers::Workers::lend(a.threads);
    let result: SgRun = {
        let mut ctx = RunContext::new()
            .with_stop(super::stop_on_ctrl_c())
            .with_observer(&mut prog);
        pool.install(|| sg_sample(&post, &init, &settings, &mut ctx))?
    };
    let seconds_per_epoch = result.seconds / result.epochs_run.max(1) as f64;
    let mut post = post;
    let n_samples = result.samples().count();
    let (samples, from_samples): (Vec<&[f64]>, bool) = if n_samples > 0 {
        (result.samples().map(|s| s.as_slice()).collect(), true)
    } else {
        (
            result
                .chains
                .iter()
                .map(|c| c.position.as_slice())
                .collect(),
            false,
        )
    };
    let (predictive, metrics) = test_metrics(&mut post, &samples, &test)?;
    write_energy(&mut run, &result, &arch, "chain")?;
    let sample_file = if p <= 2000 && n_samples > 0 {
        let mut header = vec!["chain".to_string(), "step".to_string()];
        header.extend((0..p).map(|i| format!("theta_{i}")));
        let hrefs: Vec<&str> = header.iter().map(String::as_str).collect();
        let rows: Vec<Vec<f64>> = result
            .chains
            .iter()
            .enumerate()
            .flat_map(|(c, ch)| {
                ch.samples.iter().zip(&ch.sample_steps).map(move |(s, &k)| {
                    let mut r = vec![c as f64, k as f64];
                    r.extend_from_slice(s);
                    r
                })
            })
            .collect();
        run.folder.write(
            "samples.csv",
            csv_table(&hrefs, rows.iter().map(|r| &r[..])),
        )?;
        Some("samples.csv")
    } else {
        None
    };
    super::predictive_plots::write(&mut run, &predictive, &test, &arch)?;
    let divergences = result.divergences();
    let summary = match &predictive {
        Predictive::Classes(_) => format!(
            "test accuracy {:.2} ± {:.2} %, NLL {} ± {}, ECE {:.3} ± {:.3}",
            100.0 * metrics["accuracy"].as_f64().unwrap_or(f64::NAN),
            100.0 * metrics["accuracy_se"].as_f64().unwrap_or(f64::NAN),
            fmt(metrics["nll"].as_f64().unwrap_or(f64::NAN)),
            fmt(metrics["nll_se"].as_f64().unwrap_or(f64::NAN)),
            metrics["ece"].as_f64().unwrap_or(f64::NAN),
            metrics["ece_se"].as_f64().unwrap_or(f64::NAN),
        ),
        Predictive::Values { .. } => format!(
            "test RMSE {} ± {}, NLL {} ± {}",
            fmt(metrics["rmse"].as_f64().unwrap_or(f64::NAN)),
            fmt(metrics["rmse_se"].as_f64().unwrap_or(f64::NAN)),
            fmt(metrics["nll"].as_f64().unwrap_or(f64::NAN)),
            fmt(metrics["nll_se"].as_f64().unwrap_or(f64::NAN)),
        ),
    };
    run.headline(&format!(
        "{} {arch} at T = {}: {} epochs × {} steps, {:.3} s per epoch; {summary} ({} samples)",
        a.sampler,
        settings.temperature,
        result.epochs_run,
        result.steps_per_epoch,
        seconds_per_epoch,
        n_samples
    ));
    let mut warnings = Vec::new();
    if divergences > 0 {
        warnings.push(format!(
            "{divergences} steps diverged (non-finite energy or gradient): lower --step-size"
        ));
    }
    if !from_samples {
        warnings.push(
            "no sample was kept (stopped before the burn-in ended, or --thin larger than the \
             sampling steps): the predictive is that of the chains' last positions"
                .to_string(),
        );
    }
    for w in &warnings {
        run.out.text(&format!("warning: {w}"));
    }
    if let Some(rep) = run.report.as_mut() {
        rep.heading("Result");
        let mut rows = vec![
            vec!["architecture".into(), arch.to_string()],
            vec!["likelihood".into(), lik.name().into()],
            vec![
                "seconds per epoch".into(),
                format!("{seconds_per_epoch:.4}"),
            ],
            vec!["samples".into(), n_samples.to_string()],
            vec!["divergences".into(), divergences.to_string()],
        ];
        if let Value::Object(m) = &metrics {
            rows.extend(m.iter().map(|(k, v)| vec![k.clone(), v.to_string()]));
        }
        rep.table(&["quantity", "value"], &rows);
        for w in &warnings {
            rep.para(&format!("Warning: {w}."));
        }
    }
    let run_json = json!({
        "command": "sample",
        "version": thermolab::VERSION,
        "seed": a.common.seed,
        "started_unix": started,
        "settings": {"sampler": a.sampler, "arch": arch.to_string(), "init": scheme, "likelihood": lik, "prior_sd": a.model.prior_sd, "data": desc, "sg": settings, "threads": a.threads},
        "timings": {"seconds": result.seconds, "seconds_per_epoch": seconds_per_epoch},
        "results": {
            "test": metrics,
            "samples": n_samples,
            "sample_file": sample_file,
            "epochs_run": result.epochs_run,
            "steps_per_epoch": result.steps_per_epoch,
            "divergences": divergences,
            "predictive_from": if from_samples { "samples" } else { "last positions" },
            "warnings": warnings,
        },
        "termination": result.termination,
    });
    run.out.event("result", run_json["results"].clone());
    run.finish(&run_json).context("writing the run folder")?;
    if result.termination == Termination::Finished && divergences > 0 && n_samples == 0 {
        bail!("every step diverged: lower --step-size");
    }
    Ok(())
}
