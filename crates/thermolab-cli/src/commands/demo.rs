//! `thermolab demo`: the walkthrough on built-in data — annealing on the quadratic, the 1-10-1
//! network on sin data, and the thermodynamics ↔ learning table filled with this run's numbers.

use super::anneal::{grid, plot_trace, Recorder};
use super::train::{execute, write_outputs, TrainPlan};
use super::{fmt, unix_time, Run};
use crate::args::DemoArgs;
use anyhow::Result;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use thermolab::data::sin_data;
use thermolab::drivers::anneal::{anneal, blog_anneal, AnnealSettings, BlogSettings};
use thermolab::drivers::optim::OptimizerSettings;
use thermolab::drivers::train::TrainSettings;
use thermolab::nn::{Init, Loss, MlpEnergy};
use thermolab::rng::init_stream;
use thermolab::run::{RunContext, Termination};
use thermolab::systems::{Quadratic, TestFunction};

/// `thermolab demo`.
pub fn run(a: DemoArgs) -> Result<()> {
    let seed = a.common.seed;
    let mut run = Run::start(
        &a.common,
        "thermolab-demo",
        "thermolab demo: learning as statistical mechanics",
    )?;
    let started = unix_time();
    run.out
        .event("start", json!({"command": "demo", "seed": seed}));
    if let Some(rep) = run.report.as_mut() {
        rep.para("Loss is energy, noise is temperature, a trained network is one microstate of an ensemble. \
                  Part 1 anneals the quadratic (x−1)² + (y+2)² from (5, 5); part 2 trains a 1-10-1 ReLU network \
                  on noisy sin data with Adam; the table at the end reads both runs as thermodynamics.");
        rep.heading("1. Simulated annealing on the quadratic");
    }

    // Part 1: the walkthrough's annealer and the adaptive one, side by side.
    let x0 = [5.0, 5.0];
    let blog_s = BlogSettings::default().validate()?;
    let mut blog_rec = Recorder::new(blog_s.get().iterations, 5000);
    let t = Instant::now();
    let blog = blog_anneal(
        &mut Quadratic,
        &x0,
        &blog_s,
        seed,
        &mut RunContext::new()
            .with_stop(super::stop_on_ctrl_c())
            .with_observer(&mut blog_rec),
    )?;
    let blog_secs = t.elapsed().as_secs_f64();
    let ad_s = AnnealSettings {
        bounds: Some(Quadratic.domain()),
        ..Default::default()
    }
    .validate()?;
    let mut ad_rec = Recorder::new(3000, 5000);
    let t = Instant::now();
    let ad = anneal(
        &mut Quadratic,
        &x0,
        &ad_s,
        seed,
        &mut RunContext::new()
            .with_stop(super::stop_on_ctrl_c())
            .with_observer(&mut ad_rec),
    )?;
    let ad_secs = t.elapsed().as_secs_f64();
    run.headline(&format!(
        "anneal quadratic from (5, 5): walkthrough SA best {} at ({}, {}) in {} evaluations; adaptive annealer best {} in {} evaluations ({})",
        fmt(blog.best_energy), fmt(blog.best_x[0]), fmt(blog.best_x[1]), blog.evaluations.cost(),
        fmt(ad.best_energy), ad.evaluations.cost(), ad.termination.as_str()
    ));
    let ad_t0 = ad.restarts.first().map_or(f64::NAN, |r| r.t_initial);
    if let Some(rep) = run.report.as_mut() {
        rep.table(
            &[
                "annealer",
                "best energy",
                "best state",
                "evaluations",
                "acceptance",
                "seconds",
            ],
            &[
                vec![
                    "walkthrough (σ = 0.1, T ← 0.99 T)".into(),
                    fmt(blog.best_energy),
                    format!("({}, {})", fmt(blog.best_x[0]), fmt(blog.best_x[1])),
                    blog.evaluations.cost().to_string(),
                    format!("{:.3}", blog.restarts[0].acceptance_rate),
                    format!("{blog_secs:.5}"),
                ],
                vec![
                    format!(
                        "adaptive ({} restarts, {})",
                        ad.restarts.len(),
                        ad.termination.as_str()
                    ),
                    fmt(ad.best_energy),
                    format!("({}, {})", fmt(ad.best_x[0]), fmt(ad.best_x[1])),
                    ad.evaluations.cost().to_string(),
                    format!(
                        "{:.3}",
                        ad.restarts.first().map_or(f64::NAN, |r| r.acceptance_rate)
                    ),
                    format!("{ad_secs:.5}"),
                ],
            ],
        );
    }
    if run.report.is_some() {
        // The landscape under every accepted state of both paths and the minimum, padded.
        let pts: Vec<(f64, f64)> = blog_rec
            .path
            .iter()
            .chain(&ad_rec.path)
            .copied()
            .chain([(1.0, -2.0)])
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        let (mut lo, mut hi) = (
            (f64::INFINITY, f64::INFINITY),
            (f64::NEG_INFINITY, f64::NEG_INFINITY),
        );
        for (x, y) in &pts {
            lo = (lo.0.min(*x), lo.1.min(*y));
            hi = (hi.0.max(*x), hi.1.max(*y));
        }
        let pad = (0.05 * (hi.0 - lo.0)).max(0.5);
        let pad_y = (0.05 * (hi.1 - lo.1)).max(0.5);
        let mut c = grid(
            &mut Quadratic,
            (lo.0 - pad, lo.1 - pad_y),
            (hi.0 + pad, hi.1 + pad_y),
            60,
        );
        c.title = "Annealing paths on (x−1)² + (y+2)²".into();
        c.paths
            .push(("walkthrough SA".into(), blog_rec.path.clone()));
        c.paths
            .push(("adaptive, restart 0".into(), ad_rec.path.clone()));
        c.marks.push(("minimum (1, −2)".into(), (1.0, -2.0)));
        run.plot(
            &c,
            "anneal_path",
            "Accepted states of each annealer over the energy landscape",
        )?;
        plot_trace(
            &mut run,
            &blog_rec,
            "anneal_energy",
            "Walkthrough SA: energy and temperature",
        )?;
    }
    run.folder
        .write("anneal_walkthrough_trace.csv", blog_rec.csv())?;
    run.folder
        .write("anneal_adaptive_trace.csv", ad_rec.csv())?;

    // Part 2: the seed network on the sin data.
    if let Some(rep) = run.report.as_mut() {
        rep.heading("2. A 1-10-1 ReLU network on sin data (Adam, lr 0.01, 2000 full-batch epochs)");
    }
    let data = Arc::new(sin_data(200, 0.1, seed));
    let arch = "1-10-1:relu".parse()?;
    let energy = MlpEnergy::new(arch, data, Loss::Mse)?;
    let theta0 = Init::Auto.sample(energy.architecture(), &mut init_stream(seed));
    let lr = 0.01;
    let settings = TrainSettings {
        epochs: 2000,
        batch_size: None,
        optimizer: OptimizerSettings::adam(lr),
    }
    .validate()?;
    let train_settings = *settings.get();
    let plan = TrainPlan {
        energy,
        theta0,
        settings,
        data_desc: json!({"builtin": "sin", "n": 200, "noise": 0.1}),
    };
    let mut o = execute(&run, plan, seed)?;
    let probe_batch = 20;
    let train = write_outputs(&mut run, &mut o, "train_", probe_batch, seed, lr)?;
    let r = &o.result;
    run.out.text(&format!(
        "train 1-10-1:relu on sin: MSE {} → {} in {} epochs ({:.2} µs/epoch), termination {}",
        fmt(r.losses[0]),
        fmt(r.final_loss),
        r.epochs_run,
        1e6 * r.loop_seconds / r.epochs_run.max(1) as f64,
        r.termination.as_str()
    ));

    // Part 3: the analogies with this run's numbers.
    let u = r.final_loss;
    let temp = train["noise_temperature_probe"]["temperature"].as_f64();
    let s_final = o.thermo.final_weight_entropy;
    let s_init = train["weight_entropy_initial"].as_f64();
    let free = match (temp, s_final) {
        (Some(t), Some(s)) => Some(u - t * s),
        _ => None,
    };
    let opt = |v: Option<f64>| v.map_or("n/a".to_string(), fmt);
    let eq = o.thermo.equilibrium_epoch.map(|e| e + 1);
    let rows = vec![
        ("Energy E", "loss", format!("training MSE {} at epoch 1 → {} after {} epochs; annealing: E = {} at the best state",
            fmt(r.losses[0]), fmt(u), r.epochs_run, fmt(ad.best_energy))),
        ("Temperature T", "noise (learning rate × gradient noise)", format!(
            "gradient-noise temperature T = lr·Var(g)/2 = {} for batch-{probe_batch} minibatches at the final weights (lr {lr}); annealing cooled from T₀ = {} to {}",
            opt(temp), fmt(ad_t0), fmt(ad_t0 * ad_s.get().t_final_ratio))),
        ("Entropy S", "spread of solutions", format!(
            "differential entropy of the weight values {} nats at initialisation → {} nats after training (Vasicek estimator)",
            opt(s_init), opt(s_final))),
        ("Free energy F = U − TS", "regularised objective", format!(
            "F = {} − {} × {} = {}", fmt(u), opt(temp), opt(s_final), opt(free))),
        ("Equilibrium", "convergence", format!(
            "loss plateau (window means within 1%) from epoch {}; annealing {} after {} restarts",
            eq.map_or("—".into(), |e| e.to_string()), ad.termination.as_str(), ad.restarts.len())),
    ];
    run.out
        .text("\nthermodynamics ↔ learning, measured in this run:");
    for (a, b, c) in &rows {
        run.out.text(&format!("  {a:<24} ↔ {b:<40} {c}"));
    }
    if let Some(rep) = run.report.as_mut() {
        rep.heading("3. Thermodynamics ↔ learning, with this run's numbers");
        let table: Vec<Vec<String>> = rows
            .iter()
            .map(|(a, b, c)| vec![a.to_string(), b.to_string(), c.clone()])
            .collect();
        rep.table(
            &["thermodynamics", "learning", "measured in this run"],
            &table,
        );
    }
    let analogies: Vec<_> = rows
        .iter()
        .map(|(a, b, c)| json!({"thermodynamics": a, "learning": b, "measured": c}))
        .collect();
    run.out.event(
        "result",
        json!({"anneal_best_energy": ad.best_energy, "train_final_loss": r.final_loss,
            "temperature": temp, "entropy": s_final, "free_energy": free}),
    );
    let run_json = json!({
        "command": "demo",
        "version": thermolab::VERSION,
        "seed": seed,
        "started_unix": started,
        "settings": {
            "anneal": {"function": "quadratic", "x0": x0, "walkthrough": blog_s.get(), "adaptive": ad_s.get()},
            "train": {"arch": "1-10-1:relu", "data": {"builtin": "sin", "n": 200, "noise": 0.1}, "train": train_settings},
        },
        "timings": {"anneal_walkthrough_seconds": blog_secs, "anneal_adaptive_seconds": ad_secs, "train_loop_seconds": r.loop_seconds},
        "results": {
            "anneal": {"walkthrough": blog, "adaptive": ad},
            "train": train,
            "thermodynamics": {"energy": u, "temperature": temp, "entropy": s_final, "free_energy": free, "equilibrium_epoch": eq},
            "analogies": analogies,
        },
        "termination": if [blog.termination, ad.termination].contains(&Termination::Interrupted) {
            Termination::Interrupted
        } else {
            r.termination
        },
    });
    run.finish(&run_json)?;
    Ok(())
}
