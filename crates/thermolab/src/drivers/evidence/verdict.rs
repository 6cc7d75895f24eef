//! Which evidence estimates to trust: each estimator's own diagnostics (R̂ of every rung, the
//! Pareto k̂ of every stepping stone and of the AIS weights, the weight ESS, the size of the
//! error bar), then agreement — the largest set of surviving estimates that agree pairwise
//! within two combined standard errors is trusted; an estimate outside it is flagged as
//! disagreeing; with no unique largest set, none is trusted. The sources are the ladder (TI,
//! Simpson and stepping-stone share its draws), AIS and bridge sampling: the set is trusted
//! only when it holds two or more of them and every source that passed its diagnostics — a
//! lone source is unconfirmed, and a source is never outvoted, because an estimator can be
//! wrong in ways its own diagnostics do not see (AIS particles that lag behind the path, a
//! rung stuck in one mode of a bimodal power posterior, both biasing the path methods alike).

use super::EvidenceEstimate;
use crate::estimate::evidence::Stone;
use serde::{Deserialize, Serialize};

/// One rung of a sampled ladder, as reported.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LadderRung {
    /// Its position t.
    pub t: f64,
    /// Draws taken there (all chains).
    pub draws: usize,
    /// Their effective sample size (of ΔE).
    pub ess: f64,
    /// R̂ of ΔE over the rung's chains (NaN with one chain).
    pub rhat: f64,
    /// Divergent transitions there after warm-up (biased draws: the sampler cannot follow the
    /// curvature).
    #[serde(default)]
    pub divergences: usize,
    /// Whether the rung was sampled again (longer, more chains, smaller steps) because its first
    /// chains disagreed, R̂ of ΔE above 1.05 (its numbers are the second run's).
    #[serde(default)]
    pub retried: bool,
    /// The stepping stone to the next rung (`None` at the last).
    pub next: Option<Stone>,
}

/// The verdict on a set of evidence estimates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Verdict {
    /// The estimator whose estimate to use (the trusted one with the smallest standard error);
    /// `None` when none is trusted.
    pub best: Option<String>,
    /// The trusted estimators.
    pub trusted: Vec<String>,
    /// One line saying what was decided and why.
    pub summary: String,
}

/// What the diagnostics read.
pub(super) struct Evidence<'a> {
    pub ladder: &'a [LadderRung],
    /// What AIS's diagnostics read.
    pub ais: Option<AisChecks>,
    pub particles: usize,
    /// The k̂ above which a mean of weights is not trusted.
    pub threshold: f64,
}

/// An error bar wider than this (nats) is too wide to rely on.
const MAX_SE: f64 = 0.3;
/// R̂ of a rung above this: its chains disagree.
pub(super) const MAX_RHAT: f64 = 1.05;

/// Divergent transitions above this share of the draws bias them (a handful along a long
/// ladder, as a mildly funnel-shaped rung gives, do not move the estimates).
const MAX_DIVERGENT: f64 = 0.002;

fn divergence_problem(rungs: &[LadderRung], out: &mut Vec<String>) {
    let n: usize = rungs.iter().map(|r| r.divergences).sum();
    let draws: usize = rungs.iter().map(|r| r.draws).sum();
    if n as f64 > MAX_DIVERGENT * draws as f64 {
        let worst = rungs.iter().max_by_key(|r| r.divergences).expect("a rung");
        out.push(format!(
            "{n} divergent transitions in {draws} draws ({} at t = {:.3e}): the draws there may be biased; reparametrise (e.g. non-centred) or raise the target acceptance",
            worst.divergences, worst.t
        ));
    }
}

fn ladder_problems(e: &Evidence<'_>, stones: bool, out: &mut Vec<String>) {
    divergence_problem(e.ladder, out);
    if e.ladder.len() > 1 && e.ladder.iter().all(|r| r.rhat.is_nan()) {
        out.push(
            "R̂ could not be computed (one chain per rung): the rungs' convergence is not checked"
                .into(),
        );
    }
    if let Some(r) = e
        .ladder
        .iter()
        .filter(|r| r.rhat > MAX_RHAT)
        .max_by(|a, b| a.rhat.total_cmp(&b.rhat))
    {
        out.push(format!(
            "the chains at t = {:.3e} disagree (R̂ {:.2}{}): the rungs are not converged; a longer --warmup and more --draws",
            r.t,
            r.rhat,
            if r.retried { ", also when sampled again 4× longer" } else { "" }
        ));
    }
    // A k̂ that could not be fitted (tied weights from a stuck chain) fails unless the weights
    // are all but equal.
    let bad = |s: &Stone| s.pareto_k > e.threshold || (s.pareto_k.is_nan() && s.weight_ess < 0.99);
    let first = e.ladder.first().and_then(|r| r.next);
    let worst = if stones {
        e.ladder
            .iter()
            .filter_map(|r| r.next)
            .filter(bad)
            .max_by(|a, b| a.pareto_k.total_cmp(&b.pareto_k))
    } else {
        first.filter(bad)
    };
    if let Some(s) = worst {
        out.push(format!(
            "the stone t = {:.3e} → {:.3e} has Pareto k̂ {:.2} (limit {:.2}; NaN: not fitted): its weights are too heavy-tailed for the error bar to hold; more rungs there (--rungs)",
            s.from, s.to, s.pareto_k, e.threshold
        ));
    }
}

/// What AIS's diagnostics read.
pub(super) struct AisChecks {
    /// The weights' Pareto k̂.
    pub k: f64,
    /// The weights' ESS.
    pub ess: f64,
    /// The z-score of the weighted particles' mean `−ΔE` against the t = 1 rung's.
    pub reached: f64,
    /// The rung inside the path where the weighted particles' mean `−ΔE` is furthest from the
    /// rung's (`t`, z-score), and how many rungs were compared.
    pub lag: Option<(f64, f64, usize)>,
}

/// Inside the path the weighted population is compared at every rung (tens to hundreds of
/// comparisons), so its threshold is wider than the single one at t = 1: 4, or
/// `√(2 ln m) + 1` for m comparisons where that is larger (the maximum of m standard normals
/// stays below it with high probability).
fn max_lag_z(m: usize) -> f64 {
    4.0f64.max((2.0 * (m.max(1) as f64).ln()).sqrt() + 1.0)
}

/// Sets `trusted` and `problems` of every estimate and returns the verdict.
pub(super) fn judge(estimates: &mut [EvidenceEstimate], e: &Evidence<'_>) -> Verdict {
    for est in estimates.iter_mut() {
        let mut p = Vec::new();
        match est.method.as_str() {
            "thermodynamic integration" | "thermodynamic integration (Simpson)" => {
                ladder_problems(e, false, &mut p)
            }
            "stepping-stone" => ladder_problems(e, true, &mut p),
            "annealed importance sampling" => {
                if let Some(AisChecks {
                    k,
                    ess,
                    reached,
                    lag,
                }) = e.ais
                {
                    if reached.abs() > 3.0 || reached.is_nan() {
                        p.push(format!(
                            "the particles did not reach the posterior: their weighted mean log-likelihood is {reached:+.1} standard errors from the t = 1 rung's; more temperatures (--ais-steps)"
                        ));
                    }
                    if let Some((t, z, _)) =
                        lag.filter(|(_, z, m)| z.abs() > max_lag_z(*m) || z.is_nan())
                    {
                        p.push(format!(
                            "the particles lag the ladder: at t = {t:.3e} their weighted mean log-likelihood is {z:+.1} standard errors from the rung's; more temperatures (--ais-steps)"
                        ));
                    }
                    let limit = crate::estimate::pareto::k_threshold(e.particles);
                    if k > limit || k.is_nan() {
                        p.push(format!(
                            "the AIS weights have Pareto k̂ {k:.2} (limit {limit:.2}): too heavy-tailed for the error bar to hold; more temperatures (--ais-steps) or particles"
                        ));
                    }
                    if ess < (0.05 * e.particles as f64).max(20.0) {
                        p.push(format!(
                            "weight ESS {ess:.0} of {} particles: the estimate rests on a few of them",
                            e.particles
                        ));
                    }
                }
            }
            "bridge sampling" => {
                divergence_problem(e.ladder.last().map(std::slice::from_ref).unwrap_or(&[]), &mut p);
                if let Some(r) = e.ladder.last().filter(|r| r.rhat > MAX_RHAT) {
                    p.push(format!(
                        "the posterior chains disagree (R̂ {:.2}): a longer --warmup",
                        r.rhat
                    ));
                }
            }
            "Laplace" => p.push(
                "a deterministic approximation with no standard error: exact only for a Gaussian posterior".into(),
            ),
            _ => p.push("not a reliable estimator (infinite variance in general)".into()),
        }
        if !(est.log_z.value.is_finite() && est.log_z.se.is_finite()) {
            if p.is_empty() {
                p.push("no finite estimate".into());
            }
        } else if est.log_z.se > MAX_SE {
            p.push(format!(
                "its standard error {:.2} is above {MAX_SE} nats: too imprecise to rely on",
                est.log_z.se
            ));
        }
        est.trusted = p.is_empty();
        est.problems = p;
    }
    agree(estimates)
}

/// The agreement step of [`judge`].
fn agree(estimates: &mut [EvidenceEstimate]) -> Verdict {
    let cand: Vec<usize> = (0..estimates.len())
        .filter(|&i| estimates[i].trusted)
        .collect();
    let fits = |a: &EvidenceEstimate, b: &EvidenceEstimate| {
        let (x, y) = (a.log_z, b.log_z);
        // Two combined standard errors: with three, an estimate whose own error bar is wide
        // "agrees" with a precise one while several of its own errors away.
        (x.value - y.value).abs() <= 2.0 * (x.se * x.se + y.se * y.se).sqrt() + 1e-9
    };
    // The largest pairwise-agreeing subsets (at most a handful of estimators: all subsets).
    let mut best: Vec<Vec<usize>> = Vec::new();
    for mask in 1u32..(1 << cand.len()) {
        let set: Vec<usize> = (0..cand.len())
            .filter(|j| mask & (1 << j) != 0)
            .map(|j| cand[j])
            .collect();
        let ok = set.iter().all(|&i| {
            set.iter()
                .all(|&j| i == j || fits(&estimates[i], &estimates[j]))
        });
        if !ok {
            continue;
        }
        match best.first().map(|b| b.len()) {
            Some(n) if set.len() < n => {}
            Some(n) if set.len() == n => best.push(set),
            _ => best = vec![set],
        }
    }
    let names = |v: &[usize], est: &[EvidenceEstimate]| {
        v.iter().map(|&i| est[i].method.clone()).collect::<Vec<_>>()
    };
    let source = |m: &str| match m {
        "annealed importance sampling" => 1,
        "bridge sampling" => 2,
        _ => 0,
    };
    let sources = |set: &[usize]| {
        let mut s: Vec<u8> = set.iter().map(|&i| source(&estimates[i].method)).collect();
        s.sort_unstable();
        s.dedup();
        s.len()
    };
    // Trusted: the unique largest agreeing set, when it holds every source that passed its
    // diagnostics and at least two of them. A source is never outvoted: two path methods
    // (the ladder and AIS) can share one bias — a rung whose chains sit in one mode of a
    // bimodal power posterior — that an independent method (bridge sampling) does not have.
    let keep: Vec<usize> = match best.as_slice() {
        [one] if sources(one) >= 2 && sources(one) == sources(&cand) => one.clone(),
        _ => Vec::new(),
    };
    let lone = !cand.is_empty() && sources(&cand) < 2;
    for &i in &cand {
        if !keep.contains(&i) {
            let others = names(&keep, estimates);
            estimates[i].trusted = false;
            estimates[i].problems.push(if lone {
                "no independent estimator confirms it (of the ladder, AIS and bridge sampling, only its own source passed its diagnostics)".into()
            } else if others.is_empty() {
                "the estimators disagree beyond their errors and no group of them agrees".into()
            } else {
                format!("disagrees with {} beyond two combined standard errors", others.join(", "))
            });
        }
    }
    let trusted = names(&keep, estimates);
    let best = keep
        .iter()
        .min_by(|&&a, &&b| estimates[a].log_z.se.total_cmp(&estimates[b].log_z.se))
        .map(|&i| estimates[i].method.clone());
    let summary = match (&best, keep.len()) {
        (None, _) if lone => format!(
            "no estimate is trusted: only {} passed its diagnostics, and no independent estimator confirms it",
            names(&cand, estimates).join(", ")
        ),
        (None, _) if cand.len() > 1 => {
            "no estimate is trusted: the estimators that passed their diagnostics disagree beyond their errors".to_string()
        }
        (None, _) => "no estimate is trusted: every estimator failed a diagnostic (see each one's problems)".to_string(),
        (Some(b), n) => {
            let e = &estimates[keep.iter().copied().find(|&i| &estimates[i].method == b).unwrap_or(0)];
            format!(
                "{n} estimators agree within their errors ({}); the most precise, {b}, gives ln Z = {:.4} ± {:.4}",
                trusted.join(", "),
                e.log_z.value,
                e.log_z.se
            )
        }
    };
    Verdict {
        best,
        trusted,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::series::Estimate;

    fn est(method: &str, value: f64, se: f64) -> EvidenceEstimate {
        EvidenceEstimate {
            method: method.into(),
            log_z: Estimate { value, se },
            trusted: true,
            ..Default::default()
        }
    }

    #[test]
    fn the_largest_agreeing_group_is_trusted_and_an_outlier_flagged() {
        let (ti, ss, ais, bridge) = (
            "thermodynamic integration",
            "stepping-stone",
            "annealed importance sampling",
            "bridge sampling",
        );
        let simpson = "thermodynamic integration (Simpson)";
        let mut v = vec![
            est(ti, 1.0, 0.05),
            est(ss, 1.04, 0.05),
            est(simpson, 2.0, 0.05),
            est(bridge, 0.98, 0.02),
            est(ais, 1.02, 0.05),
        ];
        let verdict = agree(&mut v);
        assert_eq!(verdict.trusted, [ti, ss, bridge, ais]);
        assert_eq!(verdict.best.as_deref(), Some(bridge));
        assert!(!v[2].trusted && v[2].problems[0].contains("disagrees with"));
        // A whole source against the others: it is not outvoted, nothing is trusted.
        let mut v = vec![
            est(ti, 1.0, 0.05),
            est(ss, 1.04, 0.05),
            est(bridge, 0.98, 0.02),
            est(ais, 2.0, 0.05),
        ];
        let verdict = agree(&mut v);
        assert!(
            verdict.best.is_none() && v.iter().all(|e| !e.trusted),
            "{verdict:?}"
        );
        // Two estimates that disagree: neither is trusted.
        let mut v = vec![est(ti, 1.0, 0.05), est(bridge, 2.0, 0.05)];
        let verdict = agree(&mut v);
        assert!(verdict.best.is_none() && !v[0].trusted && !v[1].trusted);
        assert!(verdict.summary.contains("disagree"));
        // The ladder's estimators agreeing among themselves confirm nothing.
        let mut v = vec![est(ti, 1.0, 0.05), est(ss, 1.01, 0.05)];
        let verdict = agree(&mut v);
        assert!(verdict.best.is_none(), "{verdict:?}");
        assert!(v[0].problems[0].contains("no independent estimator"));
    }
}
