//! The power-posterior ladder of [`super::evidence`]: every rung sampled by NUTS, and the rungs
//! whose chains disagree sampled once more, longer, with more chains and smaller steps.

use super::{ladder, verdict, EvidenceEvent, EvidenceSettings};
use crate::adapt::{MassEstimator, MetricKind};
use crate::drivers::sample::{sample, InitPoint, SampleSettings, ValidSampleSettings};
use crate::energy::{LinearPath, PathAt};
use crate::error::Error;
use crate::estimate::diagnostics::{ess_bulk, rhat};
use crate::estimate::evidence::Rung;
use crate::kernels::mcmc::{Metric, SamplerKind};
use crate::rng::{Purpose, Streams};
use crate::run::{Observer, RunContext, Termination};

/// A sampled power-posterior ladder.
#[derive(Debug, Clone)]
pub struct Ladder {
    /// The rungs (likelihood energies of the draws, their ESS).
    pub rungs: Vec<Rung>,
    /// The draws at t = 1.
    pub draws: Vec<Vec<f64>>,
    /// Each rung's draws' covariance as a (regularised, dense) metric, `(t, Σ̂_t)`; rungs whose
    /// covariance is not positive definite are left out.
    pub metrics: Vec<(f64, Metric)>,
    /// Energy/gradient evaluations spent.
    pub evals: u64,
    /// Why the ladder ended: `Finished`, or the reason a stop came (the flag, an observer, the
    /// budget), perhaps after the last rung.
    pub termination: Termination,
    /// Whether every rung was sampled.
    pub complete: bool,
    /// Each rung's R̂ of ΔE over its chains (NaN with one chain).
    pub rhat: Vec<f64>,
    /// Each rung's divergent transitions after warm-up.
    pub divergences: Vec<usize>,
    /// Whether a rung was sampled a second time (longer, more chains, smaller steps) because the
    /// first run's chains disagreed (R̂ of ΔE above 1.05); its numbers are the second run's.
    pub retried: Vec<bool>,
}

/// One rung's run, reduced to what the ladder keeps.
struct Sampled {
    rung: Rung,
    rhat: f64,
    divergences: usize,
    metric: Option<Metric>,
    /// The draws, kept at t = 1 only.
    draws: Vec<Vec<f64>>,
}

impl Sampled {
    /// Whether the rung's chains disagree (R̂ of ΔE above 1.05; NaN, with one chain or a
    /// constant ΔE, is not a disagreement).
    fn disagrees(&self) -> bool {
        self.rhat > verdict::MAX_RHAT
    }
}

/// Samples the rung at `t` with `settings` from `streams`; `None` when a stop came first (the
/// reason in `termination`). Adds the evaluations to `evals`.
fn sample_rung<P: LinearPath, O: Observer<EvidenceEvent>>(
    post: &P,
    t: f64,
    settings: &ValidSampleSettings,
    streams: Streams,
    evals: &mut u64,
    ctx: &mut RunContext<O>,
    termination: &mut Termination,
) -> Result<Option<Sampled>, Error> {
    let d = post.dim();
    let r = sample(
        &PathAt::new(post.clone(), t),
        settings,
        streams,
        &mut ctx.stage(*evals, |_| ()),
    )?;
    if r.termination != Termination::Finished {
        *termination = r.termination;
        return Ok(None);
    }
    let mut p = post.clone();
    let mut g = vec![0.0; d];
    let mut per_chain = Vec::with_capacity(r.chains.len());
    let mut cov = MassEstimator::new(MetricKind::Dense, d);
    for c in &r.chains {
        *evals += c.evals_warmup + c.evals_sampling;
        let mut u = Vec::with_capacity(c.stats.len());
        for x in c.draws.chunks_exact(d) {
            u.push(p.delta_energy(x, &mut g)?);
            cov.add(x);
        }
        per_chain.push(u);
    }
    let refs: Vec<&[f64]> = per_chain.iter().map(|c| c.as_slice()).collect();
    let ess = ess_bulk(&refs);
    let rhat = match refs.len() > 1 {
        true => rhat(&refs),
        false => f64::NAN,
    };
    let mut rung = Rung::linear(
        t,
        per_chain.concat(),
        if ess.is_finite() { ess } else { 1.0 },
    );
    rung.chains = per_chain.len();
    Ok(Some(Sampled {
        rung,
        rhat,
        divergences: r
            .chains
            .iter()
            .map(|c| c.stats.iter().filter(|s| s.divergent).count())
            .sum(),
        metric: cov.metric(),
        draws: match t == 1.0 {
            true => r
                .chains
                .iter()
                .flat_map(|c| c.draws.chunks_exact(d).map(|x| x.to_vec()))
                .collect(),
            false => Vec::new(),
        },
    }))
}

/// Samples the power posterior at every rung of the ladder; chain c of rung k draws from
/// (seed, `purpose`, (first + k, c)).
///
/// Then, on ladders of more than one chain, the rungs whose chains disagree (R̂ of ΔE above
/// 1.05) are sampled again — the worst first, at most an eighth of the rungs and at least 4 —
/// from (seed, `purpose`, (first + k + 2¹⁶, c)), with at least 4 chains, twice the warm-up (at
/// least 1000), four times the draws and a target acceptance of 0.95; the second run replaces
/// the first. A rung near a phase transition of the power posterior needs it (sblrc-blr near
/// t ≈ 0.07, where σ moves slowly between a prior-like and a fitted regime: R̂ 1.26 at 2 × 550
/// draws, 1.007 after the retry), and the rest of the ladder pays nothing. Divergences do not
/// trigger a retry: on arK's and centred eight schools' funnels the smaller steps left them
/// at 1–2 % of the draws while the ladder's cost grew by 80 %.
///
/// The context's observer hears of every finished rung as stage `stage`; its flag and budget
/// (counting `spent` evaluations made before) end the ladder early, with the rungs so far and
/// the reason in [`Ladder::termination`].
pub fn power_posterior_rungs<P: LinearPath, O: Observer<EvidenceEvent>>(
    post: &P,
    s: &EvidenceSettings,
    (seed, purpose, first): (u64, Purpose, u32),
    (stage, spent): (&'static str, u64),
    ctx: &mut RunContext<O>,
) -> Result<Ladder, Error> {
    let d = post.dim();
    let settings = SampleSettings {
        chains: s.chains,
        warmup: s.warmup,
        draws: s.draws,
        sampler: SamplerKind::Nuts { max_depth: 8 },
        metric: MetricKind::Diag,
        init: InitPoint::Jitter { radius: 1.0 },
        threads: s.threads,
        ..Default::default()
    }
    .validate(d)?;
    let retry = SampleSettings {
        chains: s.chains.max(4),
        warmup: (2 * s.warmup).max(1000),
        draws: 4 * s.draws,
        target_accept: Some(0.95),
        ..settings.get().clone()
    }
    .validate(d)?;
    let ts = ladder(s);
    let total = ts.len();
    let mut termination = Termination::Finished;
    let mut evals = spent;
    let streams = |k: usize, attempt: u32| Streams {
        seed,
        purpose,
        // Retry streams sit 2¹⁶ past the first run's (a ladder has at most 512 rungs per round,
        // and the pilots' rounds start 1000 apart).
        run: first + k as u32 + attempt * (1 << 16),
    };
    let mut done: Vec<Sampled> = Vec::with_capacity(total);
    for (k, &t) in ts.iter().enumerate() {
        let Some(r) = sample_rung(
            post,
            t,
            &settings,
            streams(k, 0),
            &mut evals,
            ctx,
            &mut termination,
        )?
        else {
            break;
        };
        done.push(r);
        let event = EvidenceEvent {
            stage,
            done: k + 1,
            total,
        };
        if let Some(why) = ctx.step(&event, evals) {
            termination = why;
            break;
        }
    }
    let mut retried = vec![false; done.len()];
    if termination == Termination::Finished && s.chains > 1 {
        let mut worst: Vec<(usize, f64)> = done
            .iter()
            .enumerate()
            .filter(|(_, r)| r.disagrees())
            .map(|(k, r)| (k, r.rhat))
            .collect();
        worst.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        worst.truncate((total / 8).max(4));
        // In ladder order, so that the streams and the observer's events run forwards.
        worst.sort_by_key(|w| w.0);
        for (k, _) in worst {
            let Some(r) = sample_rung(
                post,
                ts[k],
                &retry,
                streams(k, 1),
                &mut evals,
                ctx,
                &mut termination,
            )?
            else {
                break;
            };
            done[k] = r;
            retried[k] = true;
            let event = EvidenceEvent {
                stage,
                done: total,
                total,
            };
            if let Some(why) = ctx.step(&event, evals) {
                termination = why;
                break;
            }
        }
    }
    let mut ladder = Ladder {
        complete: done.len() == total,
        rungs: Vec::with_capacity(done.len()),
        draws: Vec::new(),
        metrics: Vec::new(),
        evals: evals - spent,
        termination,
        rhat: Vec::with_capacity(done.len()),
        divergences: Vec::with_capacity(done.len()),
        retried,
    };
    for r in done {
        if let Some(m) = r.metric {
            ladder.metrics.push((r.rung.t, m));
        }
        if r.rung.t == 1.0 {
            ladder.draws = r.draws;
        }
        ladder.rhat.push(r.rhat);
        ladder.divergences.push(r.divergences);
        ladder.rungs.push(r.rung);
    }
    Ok(ladder)
}
