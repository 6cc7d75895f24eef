//! `thermolab rbm eval`: log Z of a saved machine (exact, AIS, reverse AIS) and the average
//! log-likelihood of a data set.

use super::super::images::load_part;
use super::super::{fmt, unix_time, Run};
use super::{add_grids, parse_binarize};
use crate::args::RbmEvalArgs;
use anyhow::{bail, Result};
use serde_json::json;
use thermolab::drivers::rbm::{
    fantasies, final_log_z, reverse_ais_log_z, reverse_start, temper_rbm, AisEstimate, AisSettings,
    LogZMethod, RbmTemperSettings, ReverseStart,
};
use thermolab::run::{RunContext, Termination};
use thermolab::systems::rbm::{Preprocess, SavedRbm, VisibleKind};

/// `thermolab rbm eval`.
pub fn eval(a: RbmEvalArgs) -> Result<()> {
    crate::limits::threads(a.threads)?;
    if a.ais_chains == 0 || a.ais_temperatures < 2 {
        bail!("--ais-chains must be ≥ 1 and --ais-temperatures ≥ 2");
    }
    if a.tempering > 0 && (a.tempering < 2 || a.tempering_rounds < 20) {
        bail!("--tempering needs at least 2 temperatures and --tempering-rounds at least 20");
    }
    let mut run = Run::start(&a.common, "thermolab-rbm-eval", "thermolab rbm eval")?;
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
    let preprocess = match &a.binarize {
        Some(b) if rbm.visible == VisibleKind::Bernoulli => Preprocess::fit(
            rbm.visible,
            &x,
            set.width(),
            parse_binarize(b, a.common.seed)?,
        )?,
        Some(_) => bail!("--binarize: the model has Gaussian visible units"),
        None => saved.preprocess.clone(),
    };
    preprocess.apply(&mut x, set.width());
    rbm.check_data(&x)?;
    let started = unix_time();
    run.out.event(
        "start",
        json!({"command": "rbm eval", "model": a.model, "data": desc, "images": set.n}),
    );
    let seed = a.common.seed;
    let stop = super::super::stop_on_ctrl_c();
    let settings_json = json!({"model": a.model, "data": desc, "images": set.n, "ais": a.ais,
        "ais_chains": a.ais_chains, "ais_temperatures": a.ais_temperatures, "reverse": a.reverse,
        "preprocess": preprocess});
    let lz = match stoppable(final_log_z(
        rbm,
        &x,
        a.ais,
        AisSettings {
            chains: a.ais_chains,
            temperatures: a.ais_temperatures,
            threads: a.threads,
            ..Default::default()
        },
        seed,
        &mut RunContext::new()
            .with_stop(stop.clone())
            .with_observer(run.out.progress(a.ais_temperatures as u64, "ais")),
    ))? {
        Some(lz) => lz,
        None => {
            // Stopped during the forward AIS: there is no estimate to report.
            run.out.text("interrupted during the forward AIS: no log Z");
            return run
                .finish(&json!({
                    "command": "rbm eval", "version": thermolab::VERSION, "seed": seed,
                    "started_unix": started, "settings": settings_json, "results": {},
                    "termination": Termination::Interrupted,
                }))
                .map(|_| ());
        }
    };
    let mut termination = Termination::Finished;
    let (log_z, secs) = (lz.value, lz.seconds);
    let ais = match &lz.method {
        LogZMethod::Ais(e) => Some(e.clone()),
        LogZMethod::Exact => None,
    };
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
    run.headline(&format!(
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
    let start = if a.reverse {
        let base = rbm.base_rate_biases(&x);
        stoppable(reverse_start(
            rbm,
            &base,
            a.ais_chains,
            a.reverse_rounds,
            seed,
            &stop,
        ))?
    } else {
        None
    };
    if a.reverse && start.is_none() {
        termination = Termination::Interrupted;
    }
    if let Some((start, source)) = start {
        let n = a.ais_chains;
        let base = rbm.base_rate_biases(&x);
        let s = AisSettings {
            chains: n,
            temperatures: a.ais_temperatures,
            threads: a.threads,
            ..Default::default()
        }
        .validate()?;
        let mut ctx = RunContext::new()
            .with_stop(stop.clone())
            .with_observer(run.out.progress(a.ais_temperatures as u64, "reverse ais"));
        let e = reverse_ais_log_z(rbm, &base, &start, &s, seed, &mut ctx)?;
        if e.termination != Termination::Finished {
            termination = Termination::Interrupted;
        } else {
            let (label, what) = match source {
            ReverseStart::Exact => (
                "AIS (reverse, from exact samples)",
                "from exact model samples: high in expectation, so with forward AIS it brackets log Z",
            ),
            ReverseStart::Tempering => (
                "AIS (reverse, from tempering states)",
                "from the β = 1 chains of a tempering run: approximate samples, so an estimate, not a bound",
            ),
        };
            run.out.text(&format!(
                "reverse AIS: log Z = {} ± {} → log-likelihood {} ({what})",
                fmt(e.log_z),
                fmt(e.se),
                fmt(mean_neg_f - e.log_z)
            ));
            rows.push(vec![
                label.into(),
                fmt(e.log_z),
                fmt(e.se),
                fmt(mean_neg_f - e.log_z),
                format!("{:.3}", e.seconds),
            ]);
            reverse = Some((e, source));
        }
    }
    let mut tempered = None;
    if a.tempering > 0 && termination == Termination::Finished {
        let s = RbmTemperSettings {
            betas: (0..a.tempering)
                .map(|k| k as f64 / (a.tempering - 1) as f64)
                .collect(),
            chains: 16,
            burn_in: a.tempering_rounds / 10,
            rounds: a.tempering_rounds,
            threads: a.threads,
        }
        .validate()?;
        let t0 = std::time::Instant::now();
        let mut ctx = RunContext::new().with_stop(stop.clone());
        let t = temper_rbm(rbm, &rbm.base_rate_biases(&x), &s, (seed, 0), &mut ctx)?;
        if t.termination != Termination::Finished {
            termination = Termination::Interrupted;
        } else {
            let secs = t0.elapsed().as_secs_f64();
            run.out.text(&format!(
            "tempering + stepping-stone ({} temperatures): log Z = {} ± {} → log-likelihood {} ({} round trips, {secs:.3} s)",
            a.tempering,
            fmt(t.log_z.value),
            fmt(t.log_z.se),
            fmt(mean_neg_f - t.log_z.value),
            t.round_trips
        ));
            rows.push(vec![
                "tempering + stepping-stone".into(),
                fmt(t.log_z.value),
                fmt(t.log_z.se),
                fmt(mean_neg_f - t.log_z.value),
                format!("{secs:.3}"),
            ]);
            tempered = Some((t, secs));
        }
    }
    if !a.common.no_plots {
        let fant = if termination == Termination::Finished {
            fantasies(rbm, &x, 100, 1000, seed)
        } else {
            Vec::new()
        };
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
    run.out.event(
        "result",
        json!({"log_z": log_z, "log_likelihood": ll,
            "reverse_log_z": reverse.as_ref().map(|(r, _)| r.log_z),
            "tempering_log_z": tempered.as_ref().map(|(t, _)| t.log_z.value)}),
    );
    let run_json = json!({
        "command": "rbm eval",
        "version": thermolab::VERSION,
        "seed": seed,
        "started_unix": started,
        "settings": settings_json,
        "results": {
            "log_z": log_z, "log_z_method": if ais.is_some() { "ais" } else { "exact" },
            "log_likelihood": ll, "mean_negative_free_energy": mean_neg_f,
            "ais": ais.as_ref().map(ais_json),
            "reverse_ais": reverse.as_ref().map(|(r, src)| { let mut j = ais_json(r); j["start"] = json!(src); j }),
            "log_likelihood_bracket": reverse.as_ref().filter(|(_, src)| *src == ReverseStart::Exact).map(|(r, _)| [mean_neg_f - r.log_z, ll]),
            "tempering": tempered.as_ref().map(|(t, secs)| json!({"log_z": t.log_z, "swap_rates": t.swap_rates,
                "round_trips": t.round_trips, "seconds": secs})),
        },
        "termination": termination,
    });
    run.finish(&run_json)?;
    Ok(())
}

/// `Ok(None)` for a stage that the stop flag ended ([`thermolab::Error::Stopped`]), so that the
/// command writes what it has as an interrupted run; other errors pass.
fn stoppable<T>(r: Result<T, thermolab::Error>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(thermolab::Error::Stopped { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
