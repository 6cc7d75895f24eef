//! `thermolab ising`: temperature sweeps of Ising, Potts and spin-glass models with error bars,
//! exact curves (Kaufman, Onsager, enumeration) where they exist, thermodynamic integration,
//! and spin snapshots.

use super::{fmt, unix_time, Run};
use crate::args::IsingArgs;
use crate::plots::{render_png, LineChart, SpinImage};
use anyhow::{anyhow, bail, Result};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;
use thermolab::drivers::spin::{
    run_sweep, thermodynamic_integration, SpinAlgorithm, SpinModel, SpinSweepSettings,
    TemperaturePoint,
};
use thermolab::estimate::exact::{kaufman, onsager, IsingExact, CRITICAL_TEMPERATURE};
use thermolab::estimate::series::Estimate;
use thermolab::rng::{Purpose, Streams};
use thermolab::run::RunContext;
use thermolab::systems::spin::{IsingGraph, Lattice, Potts};
use thermolab::trace::csv_table;

/// Parses `lo:hi:count`, a comma-separated list, or one value.
pub fn parse_temperatures(text: &str) -> Result<Vec<f64>> {
    let num = |t: &str| -> Result<f64> {
        t.trim()
            .parse::<f64>()
            .map_err(|_| anyhow!("--T: `{}` is not a number", t.trim()))
    };
    let parts: Vec<&str> = text.split(':').collect();
    match parts.len() {
        1 => text.split(',').map(num).collect(),
        3 => {
            let (lo, hi) = (num(parts[0])?, num(parts[1])?);
            let n: usize = parts[2]
                .trim()
                .parse()
                .map_err(|_| anyhow!("--T: `{}` is not a count", parts[2].trim()))?;
            if n == 0 {
                bail!("--T: the count must be at least 1");
            }
            Ok((0..n)
                .map(|i| {
                    if n == 1 {
                        lo
                    } else {
                        lo + (hi - lo) * i as f64 / (n - 1) as f64
                    }
                })
                .collect())
        }
        _ => bail!("--T: expected `lo:hi:count`, a list `a,b,c`, or one value, got `{text}`"),
    }
}

fn est(e: &Estimate) -> Vec<f64> {
    vec![e.value, e.se]
}

/// `thermolab ising`.
pub fn run(a: IsingArgs) -> Result<()> {
    crate::limits::threads(a.threads)?;
    let temps = parse_temperatures(&a.t)?;
    // Spins and neighbour lists of the models alive at once (one per worker), and the measured
    // series of every temperature; the SK model stores all N² couplings.
    let sites = match a.glass.as_deref() {
        Some("sk") => (a.l as f64).powi(2),
        _ => (a.l as f64).powi(a.dim as i32),
    };
    let workers = if a.threads == 0 {
        crate::limits::cores()
    } else {
        a.threads
    };
    crate::limits::memory(
        &format!("--ti-points {}", a.ti_points),
        crate::limits::f64s(16.0 * a.ti_points as f64),
    )?;
    crate::limits::memory(
        &format!(
            "--side {} with --lattice-dim {}, --sweeps {}",
            a.l, a.dim, a.sweeps
        ),
        crate::limits::f64s(
            4.0 * sites * workers.min(temps.len()) as f64
                + 4.0 * a.sweeps as f64 * temps.len() as f64,
        ),
    )?;
    let algorithm = SpinAlgorithm::parse(&a.algorithm).ok_or_else(|| {
        anyhow!(
            "--algorithm: unknown algorithm `{}` (metropolis, heatbath, wolff, sw, msc)",
            a.algorithm
        )
    })?;
    if !(a.j.is_finite() && a.h.is_finite()) {
        bail!("--J and --h must be finite numbers");
    }
    let lattice = || Lattice::new(a.dim, a.l).map_err(|e| anyhow!("--L/--dim: {e}"));
    let mut rng = thermolab::rng::init_stream(a.common.seed);
    let (model, exact, label) = if let Some(q) = a.q {
        if a.dim != 2 {
            bail!("--q: the Potts model is 2-D only");
        }
        let p = Potts::square(a.l, q, a.j).map_err(|e| anyhow!("--q: {e}"))?;
        (
            SpinModel::Potts(p),
            IsingExact::None,
            format!("{q}-state Potts, L = {}", a.l),
        )
    } else if let Some(path) = &a.edges {
        let g = Arc::new(IsingGraph::from_edge_list(path, a.qubo)?);
        let ex = IsingExact::for_graph(&g);
        let n = g.n();
        (
            SpinModel::Ising(g),
            ex,
            format!(
                "{} from {} ({n} spins)",
                if a.qubo { "QUBO" } else { "Ising" },
                path.display()
            ),
        )
    } else if let Some(glass) = &a.glass {
        let g = match glass.as_str() {
            "ea" => IsingGraph::edwards_anderson(lattice()?, &mut rng),
            "sk" if a.l >= 2 => IsingGraph::sherrington_kirkpatrick(a.l, &mut rng),
            "sk" => bail!("--L: the SK model needs at least 2 spins"),
            other => bail!("--glass: unknown spin glass `{other}` (ea, sk)"),
        };
        let g = Arc::new(g);
        let ex = IsingExact::for_graph(&g);
        (
            SpinModel::Ising(g),
            ex,
            format!("{} spin glass", glass.to_uppercase()),
        )
    } else {
        let lat = lattice()?;
        let g = Arc::new(IsingGraph::lattice(lat, a.j, a.h));
        let ex = IsingExact::for_graph(&g);
        (
            SpinModel::Ising(g),
            ex,
            format!("{}-D Ising, L = {}, J = {}, h = {}", a.dim, a.l, a.j, a.h),
        )
    };
    let settings = SpinSweepSettings {
        temperatures: temps.clone(),
        algorithm,
        sweeps: a.sweeps,
        thermalization: a.thermalize,
        threads: a.threads,
        hot_start: a.hot,
        snapshots: true,
        ..Default::default()
    }
    .validate(&model)?;
    if a.ti && matches!(model, SpinModel::Potts(_)) {
        bail!("--ti: thermodynamic integration is implemented for Ising models");
    }
    if a.ti && a.ti_points < 2 {
        bail!("--ti-points: need at least 2 points");
    }
    let mut run = Run::start(
        &a.common,
        "thermolab-ising",
        &format!("thermolab ising: {label}"),
    )?;
    let started = unix_time();
    run.out.event("start", json!({"command": "ising", "model": label, "algorithm": a.algorithm, "temperatures": temps.len(), "seed": a.common.seed}));
    let total_sweeps = settings.total() as u64 * temps.len() as u64;
    let prog = run.out.progress(total_sweeps, "ising");
    let t0 = Instant::now();
    let stop = super::stop_on_ctrl_c();
    let mut ctx = RunContext::new()
        .with_stop(stop.clone())
        .with_observer(prog);
    let sweep = run_sweep(&settings, a.common.seed, &mut ctx)?;
    let mut termination = sweep.termination;
    let points = sweep.points;
    let sweep_seconds = t0.elapsed().as_secs_f64();
    let attempts: u64 = points.iter().map(|p| p.flip_attempts).sum();
    let kernel: f64 = points.iter().map(|p| p.kernel_seconds).sum();
    let flips_per_second = attempts as f64 / kernel.max(1e-12);

    // Thermodynamic integration on its own uniform β grid up to the coldest temperature (not
    // after an interrupted sweep).
    let ti = if a.ti && termination.is_complete() {
        let beta_max = 1.0 / temps.iter().cloned().fold(f64::INFINITY, f64::min);
        let betas: Vec<f64> = (1..=a.ti_points)
            .map(|k| beta_max * k as f64 / a.ti_points as f64)
            .collect();
        let ti_settings = SpinSweepSettings {
            temperatures: betas.iter().map(|b| 1.0 / b).collect(),
            snapshots: false,
            ..settings.get().clone()
        }
        .validate(&model)?;
        let streams = Streams {
            seed: a.common.seed,
            purpose: Purpose::Temperature,
            run: 1,
        };
        let r = run_sweep(
            &ti_settings,
            streams,
            &mut RunContext::new().with_stop(stop),
        )?;
        let u: Vec<Estimate> = r.points.iter().map(|p| p.energy).collect();
        if !r.termination.is_complete() {
            termination = r.termination;
        }
        r.termination.is_complete().then(|| {
            thermodynamic_integration(
                &betas,
                &u,
                model.infinite_temperature_energy().unwrap_or(0.0),
            )
        })
    } else {
        None
    };
    let seconds = t0.elapsed().as_secs_f64();

    // Table on screen.
    run.headline(&format!(
        "{label}, {} sweeps per temperature, {}",
        a.sweeps, a.algorithm
    ));
    run.out.text(&format!(
        "{:>8} {:>21} {:>19} {:>19} {:>19} {:>17} {:>8} {:>10}",
        "T", "e = E/N", "|m|", "C/N", "χ", "Binder U4", "τ(|m|)", "exact e"
    ));
    let pm = |e: &Estimate| format!("{:.5} ± {:.5}", e.value, e.se);
    let mut rows = Vec::new();
    let mut json_points = Vec::new();
    for p in &points {
        let ex = exact
            .at(p.temperature)
            .map(|e| (e.energy_per_site, e.heat_capacity_per_site));
        run.out.text(&format!(
            "{:>8.4} {:>21} {:>19} {:>19} {:>19} {:>17} {:>8.1} {:>10}",
            p.temperature,
            pm(&p.energy),
            pm(&p.abs_magnetization),
            pm(&p.heat_capacity),
            pm(&p.susceptibility),
            pm(&p.binder),
            p.tau_abs_magnetization,
            ex.map_or("—".into(), |e| format!("{:.5}", e.0))
        ));
        let mut r = vec![p.temperature];
        for e in [
            &p.energy,
            &p.abs_magnetization,
            &p.heat_capacity,
            &p.susceptibility,
            &p.binder,
        ] {
            r.extend(est(e));
        }
        r.extend([
            p.tau_energy,
            p.tau_abs_magnetization,
            ex.map_or(f64::NAN, |e| e.0),
            ex.map_or(f64::NAN, |e| e.1),
        ]);
        rows.push(r);
        let mut v = serde_json::to_value(p)?;
        if let Some((e, c)) = ex {
            v["exact"] = json!({"energy_per_site": e, "heat_capacity_per_site": c,
                "z_energy": p.energy.z_score(e), "z_heat_capacity": p.heat_capacity.z_score(c)});
        }
        json_points.push(v);
    }
    run.out.text(&format!(
        "{attempts} spin-flip attempts, {:.3e} per second in the kernel; {sweep_seconds:.2} s for the sweep{}, {seconds:.2} s in all",
        flips_per_second,
        if ti.is_some() {
            format!(" and {:.2} s for thermodynamic integration", seconds - sweep_seconds)
        } else {
            String::new()
        }
    ));
    run.folder.write(
        "observables.csv",
        csv_table(
            &[
                "temperature",
                "energy",
                "energy_se",
                "abs_magnetization",
                "abs_magnetization_se",
                "heat_capacity",
                "heat_capacity_se",
                "susceptibility",
                "susceptibility_se",
                "binder",
                "binder_se",
                "tau_energy",
                "tau_abs_magnetization",
                "exact_energy",
                "exact_heat_capacity",
            ],
            rows.iter().map(|r| &r[..]),
        ),
    )?;
    if let Some(ti) = &ti {
        let trows: Vec<Vec<f64>> = ti
            .iter()
            .map(|p| {
                let ex = exact
                    .at(1.0 / p.beta)
                    .map_or(f64::NAN, |e| e.free_energy_per_site);
                vec![
                    1.0 / p.beta,
                    p.beta,
                    p.free_energy_per_site.value,
                    p.free_energy_per_site.se,
                    p.entropy_per_site.value,
                    p.entropy_per_site.se,
                    ex,
                ]
            })
            .collect();
        run.folder.write(
            "thermodynamic_integration.csv",
            csv_table(
                &[
                    "temperature",
                    "beta",
                    "free_energy",
                    "free_energy_se",
                    "entropy",
                    "entropy_se",
                    "exact_free_energy",
                ],
                trows.iter().map(|r| &r[..]),
            ),
        )?;
        if let Some(last) = ti.last() {
            run.out.text(&format!(
                "thermodynamic integration: f(T = {:.4}) = {} ± {}{}",
                1.0 / last.beta,
                fmt(last.free_energy_per_site.value),
                fmt(last.free_energy_per_site.se),
                exact.at(1.0 / last.beta).map_or(String::new(), |e| format!(
                    " ({} {})",
                    exact.source(),
                    fmt(e.free_energy_per_site)
                ))
            ));
        }
    }
    plots(&mut run, &points, &exact, ti.as_deref(), a.l, &model)?;
    if let Some(rep) = run.report.as_mut() {
        rep.heading("Settings");
        rep.para(&format!(
            "{label}; algorithm {}; {} measured sweeps per temperature; seed {}.",
            a.algorithm, a.sweeps, a.common.seed
        ));
        rep.heading("Results");
        let table: Vec<Vec<String>> = points
            .iter()
            .map(|p| {
                let ex = exact
                    .at(p.temperature)
                    .map(|e| (e.energy_per_site, e.heat_capacity_per_site));
                vec![
                    format!("{:.4}", p.temperature),
                    pm(&p.energy),
                    pm(&p.abs_magnetization),
                    pm(&p.heat_capacity),
                    pm(&p.susceptibility),
                    pm(&p.binder),
                    format!("{:.1}", p.tau_abs_magnetization),
                    ex.map_or("—".into(), |e| format!("{:.5}", e.0)),
                    ex.map_or("—".into(), |e| format!("{:.5}", e.1)),
                ]
            })
            .collect();
        rep.table(
            &[
                "T",
                "e",
                "|m|",
                "C/N",
                "χ",
                "U4",
                "τ(|m|)",
                "exact e",
                "exact C/N",
            ],
            &table,
        );
    }
    let results = json!({
        "points": json_points,
        "flip_attempts": attempts,
        "kernel_seconds": kernel,
        "flips_per_second": flips_per_second,
        "thermodynamic_integration": ti,
        "exact_source": exact.source(),
    });
    run.out.event("result", json!({"flips_per_second": flips_per_second, "seconds": seconds, "temperatures": temps.len()}));
    let run_json: Value = json!({
        "command": "ising",
        "version": thermolab::VERSION,
        "seed": a.common.seed,
        "started_unix": started,
        "settings": {"model": label, "dim": a.dim, "L": a.l, "J": a.j, "h": a.h, "q": a.q, "glass": a.glass,
                     "edges": a.edges, "qubo": a.qubo, "sweep": settings.get(), "ti": a.ti, "ti_points": a.ti_points},
        "timings": {"seconds": seconds, "sweep_seconds": sweep_seconds, "ti_seconds": seconds - sweep_seconds, "kernel_seconds": kernel},
        "results": results,
        "termination": termination,
    });
    run.finish(&run_json)?;
    Ok(())
}

fn plots(
    run: &mut Run,
    points: &[TemperaturePoint],
    exact: &IsingExact,
    ti: Option<&[thermolab::drivers::spin::TiPoint]>,
    l: usize,
    model: &SpinModel,
) -> Result<()> {
    if run.report.is_none() {
        return Ok(());
    }
    let (tmin, tmax) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.temperature), b.max(p.temperature))
        });
    let dense: Vec<f64> = (0..200)
        .map(|i| tmin + (tmax - tmin) * i as f64 / 199.0)
        .collect();
    let curve = |f: &dyn Fn(f64) -> Option<f64>| -> Vec<(f64, f64)> {
        dense.iter().filter_map(|&t| f(t).map(|v| (t, v))).collect()
    };
    type Pick = fn(&TemperaturePoint) -> Estimate;
    let specs: [(&str, &str, Pick, Option<usize>); 5] = [
        ("energy", "energy per site", |p| p.energy, Some(0)),
        (
            "magnetization",
            "|magnetisation| per site",
            |p| p.abs_magnetization,
            None,
        ),
        (
            "heat_capacity",
            "heat capacity per site",
            |p| p.heat_capacity,
            Some(1),
        ),
        (
            "susceptibility",
            "susceptibility",
            |p| p.susceptibility,
            None,
        ),
        ("binder", "Binder cumulant U4", |p| p.binder, None),
    ];
    for (name, ylabel, pick, exact_index) in specs {
        let mut lines = Vec::new();
        if let (Some(k), false) = (exact_index, matches!(exact, IsingExact::None)) {
            let label = if matches!(exact, IsingExact::Kaufman { .. }) {
                format!("exact (Kaufman, L = {l})")
            } else {
                "exact (enumeration)".into()
            };
            lines.push((
                label,
                curve(&|t| {
                    exact.at(t).map(|e| {
                        if k == 0 {
                            e.energy_per_site
                        } else {
                            e.heat_capacity_per_site
                        }
                    })
                }),
            ));
        }
        if name == "magnetization" {
            if let IsingExact::Kaufman { j, .. } = exact {
                lines.push((
                    "Onsager–Yang, L = ∞".into(),
                    curve(&|t| Some(onsager(*j, t).magnetization)),
                ));
            }
        }
        let chart = LineChart {
            title: format!("{ylabel} against temperature"),
            x_label: "temperature T".into(),
            y_label: ylabel.into(),
            lines,
            points: vec![],
            errors: vec![(
                "simulation (±1 SE)".into(),
                points
                    .iter()
                    .map(|p| {
                        let e = pick(p);
                        (p.temperature, e.value, e.se)
                    })
                    .collect(),
            )],
            log_y: false,
            ..Default::default()
        };
        run.plot(
            &chart,
            name,
            &format!("{ylabel}: simulation with error bars, exact curve where known"),
        )?;
    }
    if let Some(ti) = ti {
        let mut lines = Vec::new();
        if let IsingExact::Kaufman { l, j } = exact {
            lines.push((
                format!("exact (Kaufman, L = {l})"),
                ti.iter()
                    .map(|p| {
                        (
                            1.0 / p.beta,
                            kaufman(*l, *l, *j, 1.0 / p.beta).free_energy_per_site,
                        )
                    })
                    .collect(),
            ));
        }
        let chart = LineChart {
            title: "Free energy per site by thermodynamic integration".into(),
            x_label: "temperature T".into(),
            y_label: "F / N".into(),
            lines,
            points: vec![],
            errors: vec![(
                "∫⟨E⟩ dβ (±1 SE)".into(),
                ti.iter()
                    .map(|p| {
                        (
                            1.0 / p.beta,
                            p.free_energy_per_site.value,
                            p.free_energy_per_site.se,
                        )
                    })
                    .collect(),
            )],
            log_y: false,
            // The β grid runs to β → 0 (T → ∞): show the temperatures asked for.
            x_range: Some(crate::plots::padded((tmin, tmax))),
            ..Default::default()
        };
        run.plot(
            &chart,
            "free_energy",
            "Free energy from integrating the measured energy over β from β = 0",
        )?;
    }
    // Snapshots below, near and above the transition (2-D lattices).
    let side = match model {
        SpinModel::Ising(g) => g
            .uniform()
            .filter(|u| u.lattice.dim == 2)
            .map(|u| u.lattice.l),
        SpinModel::Potts(p) => Some(p.lattice.l),
    };
    let (Some(side), Some(rep)) = (side, run.report.as_mut()) else {
        return Ok(());
    };
    let tc = match model {
        SpinModel::Potts(p) => p.critical_temperature(),
        SpinModel::Ising(g) => CRITICAL_TEMPERATURE * g.uniform().map_or(1.0, |u| u.j.abs()),
    };
    let states = match model {
        SpinModel::Potts(p) => p.q,
        _ => 2,
    };
    let mut html = String::from("<div>");
    let mut picked: Vec<usize> = Vec::new();
    for target in [0.8 * tc, tc, 1.3 * tc] {
        let i = (0..points.len())
            .min_by(|&x, &y| {
                (points[x].temperature - target)
                    .abs()
                    .total_cmp(&(points[y].temperature - target).abs())
            })
            .unwrap_or(0);
        if picked.contains(&i) {
            continue;
        }
        picked.push(i);
        let p = &points[i];
        if let Some(s) = &p.snapshot {
            let name = format!("snapshot_T{:.3}", p.temperature);
            let img = SpinImage {
                title: format!("T = {:.3} (T_c ≈ {:.3})", p.temperature, tc),
                l: side,
                spins: s.clone(),
                states,
            };
            render_png(&img, &run.folder, &name, (420, 440))?;
            html.push_str(&format!(
                "<img src=\"{}\" alt=\"spins at T = {:.3}\" width=\"300\"> ",
                crate::report::png_data_uri(&run.folder.partial_path(&format!("{name}.png")))?,
                p.temperature
            ));
        }
    }
    html.push_str("</div>");
    rep.heading("Spin configurations below, near and above T_c");
    rep.raw(&html);
    Ok(())
}
