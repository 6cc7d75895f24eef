//! `thermolab anneal`: minimise a built-in test function with the adaptive annealer or the
//! walkthrough's baseline, and write the trace, plots and report.

use super::{fmt, parse_floats, unix_time, Run};
use crate::args::AnnealArgs;
use crate::plots::{ContourPaths, LineChart};
use crate::report::Report;
use anyhow::{anyhow, bail, Result};
use rand::Rng;
use serde_json::{json, Value};
use std::time::Instant;
use thermolab::drivers::anneal::{
    anneal, anneal_with, blog_anneal, AnnealEvent, AnnealSettings, BlogSettings,
};
use thermolab::drivers::schedule::Schedule;
use thermolab::energy::Energy;
use thermolab::kernels::anneal::Cooled;
use thermolab::kernels::mcmc::SamplerKind;
use thermolab::kernels::AcceptanceRule;
use thermolab::rng::init_stream;
use thermolab::run::{Control, Observer, RunContext};
use thermolab::systems::{test_function, TestFunction};
use thermolab::trace::csv_table;

/// Records a thinned trace and, for 2-D problems, the path of the first restart.
pub struct Recorder {
    every: usize,
    /// Rows: restart, iteration, temperature, energy, best, accepted, scale.
    pub rows: Vec<[f64; 7]>,
    /// Accepted states of restart 0 (2-D only).
    pub path: Vec<(f64, f64)>,
    n: usize,
}

impl Recorder {
    /// Keeps about `max_rows` rows out of `expected` steps.
    pub fn new(expected: usize, max_rows: usize) -> Self {
        Self {
            every: expected.div_ceil(max_rows.max(1)).max(1),
            rows: Vec::new(),
            path: Vec::new(),
            n: 0,
        }
    }
    /// The trace as CSV.
    pub fn csv(&self) -> String {
        csv_table(
            &[
                "restart",
                "iteration",
                "temperature",
                "energy",
                "best_energy",
                "accepted",
                "scale",
            ],
            self.rows.iter().map(|r| &r[..]),
        )
    }
}

impl<'a> Observer<AnnealEvent<'a>> for Recorder {
    fn on_step(&mut self, e: &AnnealEvent<'a>) -> Control {
        if e.x.len() == 2
            && e.restart == 0
            && (e.accepted || self.path.is_empty())
            && self.path.len() < 20_000
        {
            self.path.push((e.x[0], e.x[1]));
        }
        if self.n.is_multiple_of(self.every) {
            self.rows.push([
                e.restart as f64,
                e.iteration as f64,
                e.temperature,
                e.energy,
                e.best_energy,
                f64::from(u8::from(e.accepted)),
                e.scale,
            ]);
        }
        self.n += 1;
        Control::Continue
    }
}

/// The default start point: (5, 5) for the quadratic, else uniform in the box from the
/// initialisation stream.
pub fn default_start(f: &dyn TestFunction, seed: u64) -> Vec<f64> {
    if f.name() == "quadratic" {
        return vec![5.0, 5.0];
    }
    let b = f.domain();
    let mut rng = init_stream(seed);
    (0..f.dim())
        .map(|_| rng.random_range(b.lower..b.upper))
        .collect()
}

/// A grid of energies over `[lo, hi]²` for contour plots.
pub fn grid(f: &mut dyn TestFunction, lo: (f64, f64), hi: (f64, f64), n: usize) -> ContourPaths {
    let xs: Vec<f64> = (0..n)
        .map(|i| lo.0 + (hi.0 - lo.0) * i as f64 / (n - 1) as f64)
        .collect();
    let ys: Vec<f64> = (0..n)
        .map(|i| lo.1 + (hi.1 - lo.1) * i as f64 / (n - 1) as f64)
        .collect();
    let values = ys
        .iter()
        .map(|&y| {
            xs.iter()
                .map(|&x| f.energy(&[x, y]).unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    ContourPaths {
        title: String::new(),
        xs,
        ys,
        values,
        paths: Vec::new(),
        marks: Vec::new(),
    }
}

/// Builds the adaptive annealer's settings from the arguments.
pub fn adaptive_settings(a: &AnnealArgs, f: &dyn TestFunction) -> Result<AnnealSettings> {
    let schedule = Schedule::parse(&a.schedule).ok_or_else(|| {
        anyhow!(
            "--schedule: unknown schedule `{}` (geometric, linear, logarithmic, reheat)",
            a.schedule
        )
    })?;
    let rule = AcceptanceRule::parse(&a.rule).ok_or_else(|| {
        anyhow!(
            "--rule: unknown acceptance rule `{}` (metropolis, barker)",
            a.rule
        )
    })?;
    Ok(AnnealSettings {
        schedule,
        iterations: a.iterations,
        restarts: a.restarts,
        confirmations: a.confirmations,
        t_initial: a.t0,
        rule,
        refine: !a.no_refine,
        bounds: Some(f.domain()),
        target_energy: a.stop_at,
        max_evaluations: a.max_evals,
        ..Default::default()
    })
}

/// Refuses sizes beyond the machine before any work: the annealer's vectors in memory, and a
/// default budget (350 × dim proposals per restart, each costing O(dim)) that would run for
/// hours; an explicit `--iterations` or `--max-evals` is the user's choice.
fn check_sizes(a: &AnnealArgs) -> Result<()> {
    let d = a.dim as f64;
    crate::limits::memory(&format!("--dim {}", a.dim), crate::limits::f64s(40.0 * d))?;
    let work = a.restarts as f64 * 350.0 * d * d;
    if a.iterations.is_none() && a.max_evals.is_none() && work > 1e13 {
        bail!(
            "--dim {}: the default budget ({} restarts × 350·dim proposals of {} coordinates each) would run for hours; lower --dim, or set --iterations or --max-evals",
            a.dim,
            a.restarts,
            a.dim
        );
    }
    Ok(())
}

/// `thermolab anneal`.
pub fn run(a: AnnealArgs) -> Result<()> {
    check_sizes(&a)?;
    let mut f = test_function(&a.function, a.dim).map_err(|e| anyhow!("--function: {e}"))?;
    if !["adaptive", "blog"].contains(&a.method.as_str()) {
        bail!("--method: unknown method `{}` (adaptive, blog)", a.method);
    }
    let kernel = match a.kernel.as_str() {
        "moves" => None,
        name => Some(
            SamplerKind::from_name(name, a.steps, a.max_depth).map_err(|_| {
                anyhow!("--kernel: unknown kernel `{name}` (moves, rwm, mala, hmc, nuts)")
            })?,
        ),
    };
    if kernel.is_some() && a.method == "blog" {
        bail!("--kernel: the blog baseline has its own fixed Gaussian walk; use --method adaptive");
    }
    let x0 = match &a.x0 {
        Some(t) => {
            let v = parse_floats("x0", t)?;
            if v.len() != f.dim() {
                bail!(
                    "--x0: {} values given, but {} has dimension {}",
                    v.len(),
                    f.name(),
                    f.dim()
                );
            }
            v
        }
        None => default_start(f.as_ref(), a.common.seed),
    };
    let blog = BlogSettings {
        iterations: a.iterations.unwrap_or(1000),
        t_initial: a.t0.unwrap_or(1.0),
        step: a.step,
        alpha: a.alpha,
    };
    let adaptive = adaptive_settings(&a, f.as_ref())?;
    // Validate before touching the output folder.
    let (blog, adaptive) = if a.method == "blog" {
        (Some(blog.validate()?), None)
    } else {
        (None, Some(adaptive.clone().validate()?))
    };
    let mut run = Run::start(
        &a.common,
        "thermolab-anneal",
        &format!("thermolab anneal: {}", f.name()),
    )?;
    let started = unix_time();
    let expected = adaptive
        .as_ref()
        .map_or(blog.as_ref().map_or(1, |b| b.get().iterations), |s| {
            s.iterations(f.dim()) * 3
        });
    let mut rec = Recorder::new(expected, 5000);
    let mut prog = run.out.progress(expected as u64, "anneal");
    run.out.event("start", json!({"command": "anneal", "function": f.name(), "dim": f.dim(), "method": a.method, "kernel": a.kernel, "seed": a.common.seed}));
    let t = Instant::now();
    let seed = a.common.seed;
    let (best_x, best_e, results) = {
        let mut ctx = RunContext::new()
            .with_stop(super::stop_on_ctrl_c())
            .with_observer((&mut rec, &mut prog));
        let r = match (&blog, &adaptive, kernel) {
            (Some(s), _, _) => blog_anneal(f.as_mut(), &x0, s, seed, &mut ctx)?,
            (None, Some(s), None) => anneal(f.as_mut(), &x0, s, seed, &mut ctx)?,
            (None, Some(s), Some(k)) => {
                let cooled = Cooled::new(k.build(f.dim(), 0.1));
                anneal_with(f.as_mut(), cooled, &x0, s, seed, &mut ctx)?
            }
            (None, None, _) => unreachable!("one method is validated"),
        };
        (r.best_x.clone(), r.best_energy, serde_json::to_value(&r)?)
    };
    let solve_seconds = t.elapsed().as_secs_f64();
    let termination = results["termination"].clone();
    let evals = results["evaluations"].clone();
    let gap = best_e - f.minimum();
    run.headline(&format!(
        "{} {}-D ({}): best energy {} (minimum {}), termination {}, evaluations {} energy + {} gradient, {:.3} s",
        f.name(), f.dim(), a.method, fmt(best_e), fmt(f.minimum()),
        termination.as_str().unwrap_or("?"), evals["energy"], evals["gradient"], solve_seconds
    ));
    run.out.event("result", json!({"best_energy": best_e, "gap": gap, "termination": termination, "evaluations": evals, "solve_seconds": solve_seconds}));
    run.folder.write("trace.csv", rec.csv())?;
    if let Some(rep) = run.report.as_mut() {
        describe(
            rep,
            f.as_ref(),
            &a.method,
            best_e,
            &best_x,
            &results,
            solve_seconds,
        );
    }
    plot_trace(
        &mut run,
        &rec,
        "energy",
        &format!("{} energy during annealing", f.name()),
    )?;
    if f.dim() == 2 && run.report.is_some() {
        let b = f.domain();
        let mut c = grid(f.as_mut(), (b.lower, b.lower), (b.upper, b.upper), 60);
        c.title = format!("{}: annealing path (restart 0)", f.name());
        c.paths.push((a.method.clone(), rec.path.clone()));
        let am = f.argmin();
        c.marks.push(("minimum".into(), (am[0], am[1])));
        run.plot(
            &c,
            "path",
            "Accepted states of the first restart over the energy landscape",
        )?;
    }
    let run_json = json!({
        "command": "anneal",
        "version": thermolab::VERSION,
        "seed": a.common.seed,
        "started_unix": started,
        "settings": {
            "function": f.name(), "dim": f.dim(), "method": a.method, "kernel": a.kernel, "x0": x0,
            "adaptive": adaptive.as_ref().map(|s| s.get().clone()), "blog": blog.as_ref().map(|b| *b.get()),
        },
        "timings": {"solve_seconds": solve_seconds},
        "results": {"best_x": best_x, "best_energy": best_e, "minimum": f.minimum(), "gap": gap,
                    "success": gap < f.tolerance(), "tolerance": f.tolerance(), "run": results},
        "termination": termination,
    });
    run.finish(&run_json)?;
    Ok(())
}

/// Adds the energy trace plot (energy and best energy against step).
pub fn plot_trace(run: &mut Run, rec: &Recorder, name: &str, title: &str) -> Result<()> {
    let step = |i: usize| i as f64;
    let cur: Vec<(f64, f64)> = rec
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| (step(i), r[3]))
        .collect();
    let best: Vec<(f64, f64)> = rec
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| (step(i), r[4]))
        .collect();
    let temp: Vec<(f64, f64)> = rec
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| (step(i), r[2]))
        .collect();
    let positive = rec.rows.iter().all(|r| r[3] > 0.0 || !r[3].is_finite());
    let chart = LineChart {
        title: title.into(),
        x_label: format!("recorded step (every {} proposals)", rec.every),
        y_label: "energy".into(),
        lines: vec![
            ("current".into(), cur),
            ("best".into(), best),
            ("temperature".into(), temp),
        ],
        points: vec![],
        errors: vec![],
        log_y: positive,
        ..Default::default()
    };
    run.plot(
        &chart,
        name,
        "Energy of the current state, best energy so far, and temperature",
    )
}

fn describe(
    rep: &mut Report,
    f: &dyn TestFunction,
    method: &str,
    best_e: f64,
    best_x: &[f64],
    results: &Value,
    secs: f64,
) {
    rep.heading("Result");
    let x: Vec<String> = best_x.iter().take(10).map(|v| fmt(*v)).collect();
    rep.table(
        &["quantity", "value"],
        &[
            vec!["function".into(), format!("{} ({}-D)", f.name(), f.dim())],
            vec!["method".into(), method.into()],
            vec!["best energy".into(), fmt(best_e)],
            vec!["known minimum".into(), fmt(f.minimum())],
            vec!["best state".into(), x.join(", ")],
            vec![
                "termination".into(),
                results["termination"].as_str().unwrap_or("?").into(),
            ],
            vec![
                "energy evaluations".into(),
                results["evaluations"]["energy"].to_string(),
            ],
            vec![
                "gradient evaluations".into(),
                results["evaluations"]["gradient"].to_string(),
            ],
            vec!["wall time (s)".into(), format!("{secs:.4}")],
        ],
    );
    if let Some(rs) = results["restarts"].as_array() {
        rep.heading("Restarts");
        let rows: Vec<Vec<String>> = rs
            .iter()
            .map(|r| {
                vec![
                    r["restart"].to_string(),
                    fmt(r["t_initial"].as_f64().unwrap_or(f64::NAN)),
                    fmt(r["annealed_energy"].as_f64().unwrap_or(f64::NAN)),
                    fmt(r["refined_energy"].as_f64().unwrap_or(f64::NAN)),
                    format!("{:.3}", r["acceptance_rate"].as_f64().unwrap_or(f64::NAN)),
                    r["cost_so_far"].to_string(),
                ]
            })
            .collect();
        rep.table(
            &[
                "restart",
                "T0",
                "annealed",
                "refined",
                "acceptance",
                "cost so far",
            ],
            &rows,
        );
    }
}
