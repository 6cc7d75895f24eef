//! Evidence (log Z) by several estimators on one posterior: a power-posterior ladder sampled by
//! NUTS feeds thermodynamic integration and stepping-stone; annealed importance sampling moves a
//! population from the prior to the posterior; bridge sampling and the harmonic mean use the
//! posterior draws; the Laplace approximation uses the mode. Every estimate carries its standard
//! error and its cost. TI, stepping-stone, AIS and the ladder spacing are the shared
//! implementations of [`crate::estimate::evidence`], [`crate::drivers::ais`] and
//! [`crate::drivers::ladder`].
//!
//! Random streams: chain c of rung k draws from (seed, rung, (k, c)), the pilot's from
//! (seed, pilot, (k, c)), AIS particle i from (seed, particle, i), bridge sampling's proposals
//! from (seed, bridge, 0) — so runs with different seeds never share a stream.

use crate::adapt::MetricKind;
use crate::drivers::ais::AisEvent;
use crate::drivers::ais::{self, AisEstimate, PathParticles};
use crate::drivers::ladder::{barrier_of_rungs, overlap_length, space_evenly_by};
use crate::drivers::sample::{sample, SampleSettings};
use crate::energy::{EnergyError, Gradient, LinearPath};
use crate::error::Error;
use crate::estimate::evidence::{
    stepping_stones, stones, thermodynamic_integration, Rung, TiNode, TiRule,
};
use crate::estimate::pareto::k_threshold;
use crate::estimate::series::Estimate;
use crate::kernels::mcmc::Metric;
use crate::rng::{Purpose, Streams};
use crate::run::{Control, Observer, RunContext, Termination};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Settings of [`evidence`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvidenceSettings {
    /// Rungs of the power-posterior ladder (t_k = (k/K)^power, k = 0…K).
    pub rungs: usize,
    /// Exponent of the ladder (Friel & Pettitt recommend about 4–5: rungs crowd near t = 0).
    pub power: f64,
    /// Chains per rung.
    pub chains: usize,
    /// Warm-up iterations per chain and rung.
    pub warmup: usize,
    /// Draws per chain and rung.
    pub draws: usize,
    /// AIS particles.
    pub ais_particles: usize,
    /// AIS temperatures (a minimum when `adaptive` spaces the schedule: 6L² steps for a path of
    /// overlap length L, at most 20 000).
    pub ais_steps: usize,
    /// Worker threads (0: all cores).
    pub threads: usize,
    /// An explicit ladder (increasing, from 0 to 1) instead of `rungs`/`power`.
    pub ladder: Option<Vec<f64>>,
    /// Space the ladder and the AIS schedule evenly in overlap length
    /// ([`crate::drivers::ladder::overlap_length`]), measured by one or two short pilot runs (used when
    /// no explicit ladder is given). `rungs` is then a minimum, and `draws` per rung may fall (to
    /// no fewer than 200, or `draws` if that is less) so that the ladder costs about
    /// `rungs × draws`.
    pub adaptive: bool,
    /// An explicit AIS schedule (set by the adaptive spacing).
    pub ais_ladder: Option<Vec<f64>>,
    /// Run annealed importance sampling (the costliest estimator).
    pub ais: bool,
}

impl Default for EvidenceSettings {
    fn default() -> Self {
        Self {
            rungs: 32,
            power: 5.0,
            chains: 2,
            warmup: 300,
            draws: 1000,
            ais_particles: 256,
            ais_steps: 1000,
            threads: 0,
            ladder: None,
            adaptive: true,
            ais_ladder: None,
            ais: true,
        }
    }
}

/// Evidence settings that passed [`EvidenceSettings::validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidEvidenceSettings(EvidenceSettings);

impl ValidEvidenceSettings {
    /// The checked settings.
    pub fn get(&self) -> &EvidenceSettings {
        &self.0
    }
}

impl EvidenceSettings {
    /// Checks every field.
    pub fn validate(self) -> Result<ValidEvidenceSettings, crate::settings::SettingsError> {
        use crate::settings::{nonzero, positive, SettingsError};
        nonzero("rungs", self.rungs)?;
        positive("power", self.power)?;
        nonzero("chains", self.chains)?;
        nonzero("draws", self.draws)?;
        nonzero("ais_particles", self.ais_particles)?;
        nonzero("ais_steps", self.ais_steps)?;
        if let Some(l) = &self.ladder {
            if l.len() < 2 {
                return Err(SettingsError::new(
                    "ladder",
                    "needs at least two temperatures",
                ));
            }
            if let Some(b) = l.iter().find(|b| !(0.0..=1.0).contains(*b)) {
                return Err(SettingsError::new(
                    "ladder",
                    format!("every β must lie in [0, 1], got {b}"),
                ));
            }
            if l.windows(2).any(|w| w[1] <= w[0]) {
                return Err(SettingsError::new("ladder", "must be strictly increasing"));
            }
            if l[0] != 0.0 || l[l.len() - 1] != 1.0 {
                return Err(SettingsError::new("ladder", "must start at 0 and end at 1"));
            }
        }
        if let Some(l) = &self.ais_ladder {
            if l.len() < 2
                || l[0] != 0.0
                || l[l.len() - 1] != 1.0
                || l.windows(2).any(|w| w[1] <= w[0])
            {
                return Err(SettingsError::new(
                    "ais_ladder",
                    "must increase strictly from 0 to 1",
                ));
            }
        }
        Ok(ValidEvidenceSettings(self))
    }
}

/// The power-posterior path measured on the ladder: `(t, ⟨log L⟩_t, its standard error)`.
pub type PathPoint = (f64, f64, f64);

/// Everything [`evidence`] measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceRun {
    /// One entry per estimator.
    pub estimates: Vec<EvidenceEstimate>,
    /// The thermodynamic-integration integrand along the ladder.
    pub path: Vec<PathPoint>,
    /// The communication barrier Λ(t) along the ladder, `(t, Λ)`: cumulative expected swap
    /// rejection between neighbouring rungs, estimated from their draws (Syed et al. 2022).
    pub barrier: Vec<(f64, f64)>,
    /// Every rung of the ladder that was sampled, with the stone to the next one.
    #[serde(default)]
    pub ladder: Vec<LadderRung>,
    /// Which estimates to trust, and why.
    #[serde(default)]
    pub verdict: Verdict,
    /// Why the run ended. A run stopped (flag, observer or budget) before its ladder was complete
    /// has no estimates (a partial ladder gives none); one stopped later has TI and
    /// stepping-stone, and the estimators it did not reach are missing.
    pub termination: Termination,
}

/// What [`evidence`] reports to observers: the stage it is in and its progress.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvidenceEvent {
    /// `pilot`, `ladder` or `ais`.
    pub stage: &'static str,
    /// Rungs (or AIS temperatures) done in this stage.
    pub done: usize,
    /// Rungs (or AIS temperatures) in this stage.
    pub total: usize,
}

/// One estimator's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct EvidenceEstimate {
    /// Estimator name.
    pub method: String,
    /// The log-evidence estimate with its standard error.
    pub log_z: Estimate,
    /// Energy/gradient evaluations spent (shared ladder costs are counted once, under TI).
    pub evaluations: u64,
    /// Seconds spent.
    pub seconds: f64,
    /// A caveat worth printing next to the number.
    pub note: Option<String>,
    /// Whether the verdict trusts it (its diagnostics passed and it agrees with the other
    /// trusted estimates within their errors).
    #[serde(default)]
    pub trusted: bool,
    /// Why it is not trusted (empty when it is).
    #[serde(default)]
    pub problems: Vec<String>,
}

fn ladder(s: &EvidenceSettings) -> Vec<f64> {
    match &s.ladder {
        Some(l) => l.clone(),
        None => (0..=s.rungs)
            .map(|k| (k as f64 / s.rungs as f64).powf(s.power))
            .collect(),
    }
}

/// Annealed importance sampling from the prior (t = 0) to the posterior (t = 1), through the
/// shared AIS engine: particles (in groups of 32) are moved by one HMC transition (3 leapfrog
/// steps) per temperature, with the step size adapted between temperatures from the
/// population's mean acceptance, and weighted by `exp(−Δt ΔE)`.
///
/// `metrics` (from an independent pilot run, so that the estimate stays unbiased) gives the
/// HMC metric along the path: at temperature t, the one of the largest pilot t' ≤ t. Without
/// them the metric is the identity, which mixes slowly on strongly correlated posteriors.
pub fn ais<P: LinearPath, O: Observer<AisEvent>>(
    post: &P,
    s: &EvidenceSettings,
    metrics: &[(f64, Metric)],
    seed: u64,
    ctx: &mut RunContext<O>,
) -> Result<AisEstimate, Error> {
    let ts: Vec<f64> = match &s.ais_ladder {
        Some(l) => l.clone(),
        None => (0..=s.ais_steps)
            .map(|k| (k as f64 / s.ais_steps as f64).powf(s.power))
            .collect(),
    };
    const GROUP: usize = 32;
    let family = PathParticles {
        path: post.clone(),
        leapfrog_steps: 3,
        metrics: metrics.to_vec(),
    };
    // Probes at the ladder's rungs, for comparison with their independent equilibrium runs.
    let probes: Vec<f64> = ladder(s).into_iter().filter(|&t| t > 0.0).collect();
    let run = ais::run_probed(
        &family,
        &ts,
        &probes,
        s.ais_particles,
        GROUP,
        s.threads,
        (seed, 0),
        ctx,
    )?;
    let base = post.log_z_reference().unwrap_or(0.0);
    Ok(AisEstimate::from_run(run, base, false))
}

/// The AIS metrics from the pilot's dense covariance estimates: dense where the posterior at
/// t = 1 is strongly correlated (its correlation matrix's condition number above 30), else
/// their diagonals. A dense metric costs d² per leapfrog step; on a 30-D regression with a
/// correlation condition number of about 12 it bought nothing over the diagonal, on the
/// diabetes regression (about 470) it raised the weight ESS from 10 % to 40 % of the particles.
/// A dense estimate needs draws: with fewer than 4d per rung (`n_draws`) only diagonals are used.
fn ais_metrics(metrics: Vec<(f64, Metric)>, n_draws: usize) -> Vec<(f64, Metric)> {
    let correlated = metrics.last().is_some_and(|(_, m)| match m {
        Metric::Dense { dim, .. } if n_draws < 4 * dim => false,
        Metric::Dense { dim, inv_mass, .. } => {
            let d = *dim;
            let sd: Vec<f64> = (0..d).map(|i| inv_mass[i * d + i].sqrt()).collect();
            let corr: Vec<f64> = (0..d * d)
                .map(|k| inv_mass[k] / (sd[k / d] * sd[k % d]))
                .collect();
            crate::linalg::condition_number(&corr, d).is_none_or(|k| k > 30.0)
        }
        Metric::Diag { .. } => false,
    });
    if correlated {
        return metrics;
    }
    metrics
        .into_iter()
        .map(|(t, m)| (t, Metric::diag(m.variances())))
        .collect()
}

/// Mean and sample variance (denominator `n − 1`, at least 1).
fn mean_var(u: &[f64]) -> (f64, f64) {
    let n = u.len() as f64;
    let m = u.iter().sum::<f64>() / n;
    (
        m,
        u.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0).max(1.0),
    )
}

/// The AIS schedule from a pilot ladder: K steps equally spaced in overlap length L (the
/// thermodynamic length where ΔE is Gaussian), with K = 6L² (at least `min_steps`, at most
/// 20 000).
///
/// With K equal-length steps AIS's log-weight variance is about L²/K when the kernel keeps up
/// with the moving target; 6L² keeps it near 1/6 and leaves the particles time to follow the
/// posterior mean as it moves away from the prior's. Measured on 30-D regressions: at K = L²/2
/// the weight ESS fell to 2–12 % and errors reached 2.5 reported SEs; at K = 3L² one problem
/// (Gaussian features, coefficients drawn from the prior) still came out 0.13–0.21 nats low in
/// four of five seeds (z ≈ −2 to −3) while its weight ESS looked healthy (45 %); at 6L² its
/// errors were −0.08 to +0.03.
fn ais_schedule(ts: &[f64], length: &[f64], min_steps: usize) -> Vec<f64> {
    let total = length[length.len() - 1];
    // At most 20 000 steps unless more were asked for.
    let steps = ((6.0 * total * total).ceil() as usize)
        .min(20_000)
        .max(min_steps);
    space_evenly_by(ts, length, steps + 1, true)
}

/// Passes the events of the AIS stage to an observer of [`evidence`] as stage `ais`.
struct AisStage<'a, O>(&'a mut O);

impl<O: Observer<EvidenceEvent>> Observer<AisEvent> for AisStage<'_, O> {
    fn on_step(&mut self, e: &AisEvent) -> Control {
        self.0.on_step(&EvidenceEvent {
            stage: "ais",
            done: e.step,
            total: e.steps,
        })
    }
}

/// Runs every estimator on `post`.
pub fn evidence<P, O>(
    post: &P,
    settings: &ValidEvidenceSettings,
    seed: u64,
    ctx: &mut RunContext<O>,
) -> Result<EvidenceRun, Error>
where
    P: LinearPath,
    O: Observer<EvidenceEvent>,
{
    ctx.init::<EvidenceEvent>();
    let stopped = |ctx: &mut RunContext<O>, termination| {
        ctx.finish::<EvidenceEvent>(termination);
        Ok(EvidenceRun {
            estimates: Vec::new(),
            path: Vec::new(),
            barrier: Vec::new(),
            ladder: Vec::new(),
            verdict: Verdict::default(),
            termination,
        })
    };
    let mut out = Vec::new();
    let t0 = Instant::now();
    let mut s = settings.get().clone();
    let mut pilot_evals = 0;
    let mut pilot_metrics = Vec::new();
    if s.adaptive && s.ladder.is_none() {
        // Short pilots measure the overlap between neighbouring rungs: the first on the power
        // ladder, a second — where the first left an interval unresolved — on a ladder
        // respaced from it (measured again with rungs inside it, as Pigeons iterates its
        // schedule). Both schedules are then spaced evenly in overlap length.
        let mut ts = ladder(&EvidenceSettings {
            rungs: 24,
            ..s.clone()
        });
        let mut length = Vec::new();
        for round in 0..2 {
            let pilot = EvidenceSettings {
                chains: 1,
                warmup: 150,
                draws: 200,
                adaptive: false,
                ladder: Some(ts.clone()),
                ..s.clone()
            };
            let pl = power_posterior_rungs(
                post,
                &pilot,
                (seed, Purpose::Pilot, 1000 * round),
                ("pilot", pilot_evals),
                ctx,
            )?;
            if pl.termination != Termination::Finished {
                return stopped(ctx, pl.termination);
            }
            pilot_evals += pl.evals;
            pilot_metrics = ais_metrics(pl.metrics, pilot.chains * pilot.draws);
            length = overlap_length(&pl.rungs);
            // A second round only where the first could not resolve an interval: one whose
            // rungs hardly overlap (length above 1, weight ESS below e⁻¹ of the draws) is
            // measured again with rungs inside it; otherwise the first measure stands.
            let unresolved = length.windows(2).any(|w| w[1] - w[0] > 1.0);
            if round == 1 || !unresolved {
                break;
            }
            let total = length[length.len() - 1];
            let k = ((2.0 * total).ceil() as usize).clamp(24, 64);
            ts = space_evenly_by(&ts, &length, k + 1, true);
        }
        let total = length[length.len() - 1];
        // At most 512 rungs unless more were asked for.
        let rungs = ((2.0 * total).ceil() as usize).min(512).max(s.rungs);
        s.ladder = Some(space_evenly_by(&ts, &length, rungs + 1, true));
        // TI's variance is Σ Δt² Var/ESS: with more rungs each needs fewer draws, so keep the
        // total near what `rungs × draws` asked for (at least 200 per chain and rung).
        if rungs > s.rungs {
            s.draws = (s.draws * s.rungs / rungs).max(200.min(s.draws));
        }
        s.ais_ladder = Some(ais_schedule(&ts, &length, s.ais_steps));
    }
    let s = &s;
    let Ladder {
        rungs,
        draws,
        evals: ladder_evals,
        mut termination,
        complete,
        rhat,
        divergences,
        retried,
        ..
    } = power_posterior_rungs(
        post,
        s,
        (seed, Purpose::Rung, 0),
        ("ladder", pilot_evals),
        ctx,
    )?;
    if !complete {
        return stopped(ctx, termination);
    }
    let ladder_evals = ladder_evals + pilot_evals;
    let ladder_secs = t0.elapsed().as_secs_f64();
    let stones = stones(&rungs);
    for (rule, name, note) in [
        (
            TiRule::Trapezoid,
            "thermodynamic integration",
            "trapezoid with the Calderhead–Girolami correction (kept inside the bracket the monotone integrand allows); [0, t₁] by its stepping stone",
        ),
        (
            TiRule::Simpson,
            "thermodynamic integration (Simpson)",
            "Simpson's rule on the uneven ladder; [0, t₁] by its stepping stone",
        ),
    ] {
        out.push(EvidenceEstimate {
            method: name.into(),
            log_z: ti_from_first_stone(&rungs, rule),
            evaluations: if rule == TiRule::Trapezoid { ladder_evals } else { 0 },
            seconds: if rule == TiRule::Trapezoid { ladder_secs } else { 0.0 },
            note: Some(note.into()),
            ..Default::default()
        });
    }
    out.push(EvidenceEstimate {
        method: "stepping-stone".into(),
        log_z: *stepping_stones(&rungs)
            .last()
            .expect("a ladder has two rungs"),
        note: Some("same ladder as TI".into()),
        ..Default::default()
    });
    let mut ais_k = None;
    // A stop after the ladder keeps TI and stepping-stone and skips the stages still to come.
    if s.ais && termination == Termination::Finished {
        let t0 = Instant::now();
        let a = ais(
            post,
            s,
            &pilot_metrics,
            seed,
            &mut ctx.stage(ladder_evals, AisStage),
        )?;
        if a.termination != Termination::Finished {
            termination = a.termination;
        } else {
            // The weighted particles at the end against the independent t = 1 rung.
            let z = |mean: f64, se_a: f64, r: &Rung| {
                let (m, v) = mean_var(&r.delta);
                let se = (v / r.ess.max(1.0)).sqrt();
                match se_a * se_a + se * se {
                    // Both constant (ΔE the same everywhere): agreement or not, exactly.
                    0.0 if mean + m == 0.0 => 0.0,
                    var => (mean + m) / var.sqrt(),
                }
            };
            let reached = a
                .final_slope
                .zip(rungs.last())
                .map(|(f, r)| z(f.value, f.se, r));
            // The same comparison at every rung inside the path.
            let compared: Vec<(f64, f64)> = a
                .probes
                .iter()
                .filter(|p| p.t < 1.0)
                .filter_map(|p| {
                    let r = rungs.iter().find(|r| r.t == p.t)?;
                    Some((p.t, z(p.mean, p.se, r)))
                })
                .collect();
            let lag = compared
                .iter()
                .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
                .map(|&(t, z)| (t, z, compared.len()));
            ais_k = Some(verdict::AisChecks {
                k: a.pareto_k,
                ess: a.ess,
                reached: reached.unwrap_or(0.0),
                lag,
            });
            out.push(EvidenceEstimate {
                method: "annealed importance sampling".into(),
                log_z: Estimate {
                    value: a.log_z,
                    se: a.se,
                },
                evaluations: a.evaluations,
                seconds: t0.elapsed().as_secs_f64(),
                note: Some(format!(
                    "weight ESS {:.0} of {}, Pareto k̂ {:.2}",
                    a.ess, s.ais_particles, a.pareto_k
                )),
                ..Default::default()
            });
        }
    }
    if termination == Termination::Finished {
        out.extend(draw_estimates(post, &rungs, &draws, seed)?);
    }
    let path = rungs
        .iter()
        .map(|r| {
            let (m, v) = mean_var(&r.delta);
            (r.t, -m, (v / r.ess.max(1.0)).sqrt())
        })
        .collect();
    let ladder_report: Vec<LadderRung> = rungs
        .iter()
        .enumerate()
        .map(|(k, r)| LadderRung {
            t: r.t,
            draws: r.delta.len(),
            ess: r.ess,
            rhat: rhat.get(k).copied().unwrap_or(f64::NAN),
            divergences: divergences.get(k).copied().unwrap_or(0),
            retried: retried.get(k).copied().unwrap_or(false),
            next: stones.get(k).copied(),
        })
        .collect();
    let verdict = verdict::judge(
        &mut out,
        &verdict::Evidence {
            ladder: &ladder_report,
            ais: ais_k,
            particles: s.ais_particles,
            threshold: k_threshold(rungs.first().map_or(200, |r| r.delta.len())),
        },
    );
    ctx.finish::<EvidenceEvent>(termination);
    Ok(EvidenceRun {
        estimates: out,
        barrier: barrier_of_rungs(&rungs),
        path,
        ladder: ladder_report,
        verdict,
        termination,
    })
}

/// `ln ∫ e^{−E}` of a plain energy by every estimator, with no prior sampler to write: a pilot
/// run of NUTS (four chains, 500 warm-up and 500 draws each; chain c draws from stream
/// (seed, pilot, (900, c))) fits a Gaussian `N(μ̂, (1.5)²Σ̂)` to the energy's draws, and [`evidence`] runs on
/// the path from it ([`crate::energy::FittedReference`]). A Gaussian rather than the prior
/// because an energy has none; widened so that its tails cover the target's, which the
/// reverse stones and bridge sampling's proposal need. Returns the run and the reference.
///
/// ```
/// use thermolab::drivers::evidence::{evidence_of_energy, EvidenceSettings};
/// use thermolab::prelude::*;
/// use thermolab::systems::Ar1Gaussian;
///
/// let target = Ar1Gaussian::new(3, 0.5, 1.0)?;
/// let exact = target.log_z(1.0);
/// let s = EvidenceSettings { ais: false, draws: 400, ..Default::default() }.validate()?;
/// let (run, _) = evidence_of_energy(&target, &s, 1, &mut RunContext::new())?;
/// println!("{}", run.verdict.summary); // which estimates to trust, and why
/// let e = run.estimates.iter().find(|e| e.method == "stepping-stone").unwrap();
/// assert!((e.log_z.value - exact).abs() < 4.0 * e.log_z.se + 0.05);
/// # Ok::<(), thermolab::Error>(())
/// ```
pub fn evidence_of_energy<E, O>(
    target: &E,
    settings: &ValidEvidenceSettings,
    seed: u64,
    ctx: &mut RunContext<O>,
) -> Result<(EvidenceRun, crate::energy::FittedReference<E>), Error>
where
    E: Gradient + Clone + Send + Sync,
    O: Observer<EvidenceEvent>,
{
    let d = target.dim();
    let pilot = SampleSettings {
        chains: 4,
        warmup: 500,
        draws: 500,
        metric: MetricKind::Dense,
        threads: settings.get().threads,
        ..Default::default()
    }
    .validate(d)?;
    let streams = Streams {
        seed,
        purpose: Purpose::Pilot,
        run: 900,
    };
    let r = sample(target, &pilot, streams, &mut ctx.stage(0, |_| ()))?;
    if r.termination != Termination::Finished {
        ctx.finish::<EvidenceEvent>(r.termination);
        return Err(Error::Stopped {
            what: "the reference's pilot run",
            termination: r.termination,
        });
    }
    let draws: Vec<f64> = r
        .chains
        .iter()
        .flat_map(|c| c.draws.iter().copied())
        .collect();
    let path = crate::energy::FittedReference::from_draws(target.clone(), &draws, d, 1.5)
        .ok_or_else(|| {
            EnergyError::Data(
                "the pilot draws' covariance is not positive definite: no Gaussian reference"
                    .into(),
            )
        })?;
    let run = evidence(&path, settings, seed, ctx)?;
    Ok((run, path))
}

/// Thermodynamic integration with the first interval [t₀, t₁] by its stepping stone: the
/// integrand at t₀ = 0 is the prior mean of the likelihood energy, which for a scale prior with
/// mass near 0 is enormous or infinite, while the stone's weights `e^{−t₁ΔE}` stay bounded.
fn ti_from_first_stone(rungs: &[Rung], rule: TiRule) -> Estimate {
    let first = stepping_stones(&rungs[..2])[1];
    if rungs.len() < 3 {
        return first;
    }
    let nodes: Vec<TiNode> = rungs[1..].iter().map(TiNode::of).collect();
    let rest = *thermodynamic_integration(&nodes, rule)
        .last()
        .expect("two nodes");
    Estimate {
        value: first.value + rest.value,
        se: (first.se * first.se + rest.se * rest.se).sqrt(),
    }
}

mod at_one;
use at_one::draw_estimates;
mod rungs;
pub use at_one::laplace;
pub use rungs::{power_posterior_rungs, Ladder};
mod verdict;
pub use verdict::{LadderRung, Verdict};

#[cfg(test)]
mod tests;
