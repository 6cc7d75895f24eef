//! `thermolab certify`: the library's self-test ([`thermolab::certify`]) — samplers, tempering,
//! evidence, spin kernels and Boltzmann machines on targets with exactly known answers —
//! printed as z-scores with pass or fail. Exit code 1 when any check fails.

use super::{unix_time, Run};
use crate::args::CertifyArgs;
use anyhow::{bail, Result};
use serde_json::json;
use std::time::Instant;
use thermolab::run::Termination;

/// `thermolab certify`.
pub fn run(a: CertifyArgs) -> Result<()> {
    crate::limits::threads(a.threads)?;
    if !(a.z_max.is_finite() && a.z_max > 0.0) {
        bail!("--z-max must be a finite number > 0");
    }
    if a.common.seed != 0 {
        bail!("--seed: certify runs every check with its own fixed seed, so that its verdict is reproducible; leave --seed out");
    }
    let mut run = Run::start(&a.common, "thermolab-certify", "thermolab certify")?;
    let started = unix_time();
    run.out.event("start", json!({"command": "certify"}));
    let t0 = Instant::now();
    let c = thermolab::certify::certify(a.z_max, a.threads, &super::stop_on_ctrl_c())?;
    let interrupted = c.termination == Termination::Interrupted;
    let failed = c.failed();
    run.out.text(&format!(
        "{:<44} {:<38} {:>11} {:>9} {:>11} {:>7}  result",
        "check", "quantity", "estimate", "SE", "exact", "z"
    ));
    for x in &c.checks {
        run.out.text(&format!(
            "{:<44} {:<38} {:>11.5} {:>9.5} {:>11.5} {:>+7.2}  {}",
            x.group,
            x.quantity,
            x.estimate,
            x.se,
            x.exact,
            x.z,
            if x.pass { "pass" } else { "FAIL" }
        ));
    }
    let verdict = match (failed, interrupted) {
        (0, false) => format!(
            "PASS: all {} checks within |z| ≤ {}",
            c.checks.len(),
            a.z_max
        ),
        (0, true) => format!(
            "INTERRUPTED: the {} checks made pass (|z| ≤ {}); the rest did not run",
            c.checks.len(),
            a.z_max
        ),
        (f, _) => format!(
            "FAIL: {f} of {} checks outside |z| ≤ {}",
            c.checks.len(),
            a.z_max
        ),
    };
    run.out
        .text(&format!("{verdict} ({:.1} s)", t0.elapsed().as_secs_f64()));
    if let Some(rep) = run.report.as_mut() {
        rep.headline(&verdict);
        rep.heading("Checks");
        let rows: Vec<Vec<String>> = c
            .checks
            .iter()
            .map(|x| {
                vec![
                    x.group.clone(),
                    x.quantity.clone(),
                    format!("{:.5}", x.estimate),
                    format!("{:.5}", x.se),
                    format!("{:.5}", x.exact),
                    format!("{:+.2}", x.z),
                    if x.pass { "pass".into() } else { "FAIL".into() },
                ]
            })
            .collect();
        rep.table(
            &[
                "check", "quantity", "estimate", "SE", "exact", "z", "result",
            ],
            &rows,
        );
    }
    run.out.event(
        "result",
        json!({"checks": c.checks.len(), "failed": failed, "verdict": verdict}),
    );
    let run_json = json!({
        "command": "certify",
        "version": thermolab::VERSION,
        "seed": null,
        "seeds": "fixed per check",
        "started_unix": started,
        "settings": {"z_max": a.z_max},
        "timings": c.timings.iter().map(|(n, s)| json!({"group": n, "seconds": s})).collect::<Vec<_>>(),
        "results": {"checks": c.checks, "failed": failed, "verdict": verdict},
        "termination": c.termination,
    });
    run.finish(&run_json)?;
    if failed > 0 {
        return Err(crate::Diverged(format!("{failed} certification check(s) failed")).into());
    }
    Ok(())
}
