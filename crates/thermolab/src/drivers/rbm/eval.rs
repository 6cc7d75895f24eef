//! Evaluating a Boltzmann machine: `ln Z` exact when the smaller layer allows and by AIS
//! otherwise, the start states of reverse AIS (exact samples, or long tempering, labelled as
//! such), learning-curve measurements and fantasy samples.

use crate::drivers::ais::{ais_log_z, AisEstimate, AisEvent, AisSettings};
use crate::drivers::tempering::{temper_rbm, RbmTemperSettings};
use crate::error::Error;
use crate::kernels::rbm::GibbsBatch;
use crate::rng::{self, Purpose};
use crate::run::{Observer, RunContext, StopFlag, Termination};
use crate::systems::rbm::{exact_visible_samples, log_partition_exact, Rbm, VisibleKind};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Largest layer enumerated exactly for `ln Z` at the end of a run or by evaluation.
pub const EXACT_UNITS: usize = 25;

/// How a `ln Z` was obtained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum LogZMethod {
    /// Enumeration of the smaller layer.
    Exact,
    /// Forward AIS (an estimate that is low in expectation).
    Ais(AisEstimate),
}

/// A `ln Z` with how it was obtained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogZ {
    /// `ln Z`.
    pub value: f64,
    /// Exact, or the AIS estimate with its error.
    pub method: LogZMethod,
    /// Seconds spent.
    pub seconds: f64,
}

impl LogZ {
    /// The standard error (0 when exact).
    pub fn se(&self) -> f64 {
        match &self.method {
            LogZMethod::Exact => 0.0,
            LogZMethod::Ais(e) => e.se,
        }
    }
    /// `exact` or `ais`.
    pub fn method_name(&self) -> &'static str {
        match self.method {
            LogZMethod::Exact => "exact",
            LogZMethod::Ais(_) => "ais",
        }
    }
}

/// `ln Z` of `rbm`: exact when the smaller layer has at most [`EXACT_UNITS`] units (unless
/// `force_ais`), else forward AIS from the base-rate machine of `base_data` (run 0 of `seed`),
/// which `ctx` observes; its stop flag or budget ends the AIS run with [`Error::Stopped`].
pub fn final_log_z<O: Observer<AisEvent>>(
    rbm: &Rbm,
    base_data: &[f32],
    force_ais: bool,
    ais: AisSettings,
    seed: u64,
    ctx: &mut RunContext<O>,
) -> Result<LogZ, Error> {
    let t0 = Instant::now();
    if !force_ais {
        if let Ok(lz) = log_partition_exact(rbm, EXACT_UNITS) {
            return Ok(LogZ {
                value: lz,
                method: LogZMethod::Exact,
                seconds: t0.elapsed().as_secs_f64(),
            });
        }
    }
    let s = ais.validate()?;
    let base = rbm.base_rate_biases(base_data);
    let e = ais_log_z(rbm, &base, &s, seed, ctx)?;
    if e.termination != Termination::Finished {
        return Err(Error::Stopped {
            what: "AIS",
            termination: e.termination,
        });
    }
    Ok(LogZ {
        value: e.log_z,
        method: LogZMethod::Ais(e),
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// Where the start states of reverse AIS came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReverseStart {
    /// Exact samples (enumeration of the smaller layer): reverse AIS is then high in
    /// expectation, and with forward AIS brackets `ln Z`.
    Exact,
    /// The β = 1 replicas of a long tempering run: approximate samples, so reverse AIS is an
    /// estimate, not a bound.
    Tempering,
}

/// `n` start states for reverse AIS: exact samples when the smaller layer has at most 20 units,
/// else the β = 1 chains of a tempering run from the base-rate machine of `base_b` (33
/// temperatures, `rounds` rounds; run 1 of `seed`, so that its streams are not those of a
/// tempering estimate of the same seed). Raising `stop` ends the tempering with
/// [`Error::Stopped`].
pub fn reverse_start(
    rbm: &Rbm,
    base_b: &[f32],
    n: usize,
    rounds: usize,
    seed: u64,
    stop: &StopFlag,
) -> Result<(Vec<f32>, ReverseStart), Error> {
    let mut r = rng::stream(seed, Purpose::ReverseStart, 0);
    if let Ok(v) = exact_visible_samples(rbm, n, 20, &mut r) {
        return Ok((v, ReverseStart::Exact));
    }
    let s = RbmTemperSettings {
        chains: n,
        burn_in: rounds / 5,
        rounds,
        ..Default::default()
    }
    .validate()?;
    let mut ctx = RunContext::new().with_stop(stop.clone());
    let t = temper_rbm(rbm, base_b, &s, (seed, 1), &mut ctx)?;
    if t.termination != Termination::Finished {
        return Err(Error::Stopped {
            what: "tempering for the reverse-AIS start states",
            termination: t.termination,
        });
    }
    Ok((t.final_states, ReverseStart::Tempering))
}

/// Fantasy samples: `n` Gibbs chains from rows of `start`, `sweeps` sweeps, then the visible
/// means.
pub fn fantasies(rbm: &Rbm, start: &[f32], n: usize, sweeps: usize, seed: u64) -> Vec<Vec<f32>> {
    let nv = rbm.n_visible;
    let rows = (start.len() / nv).min(n);
    if rows == 0 {
        return Vec::new();
    }
    let mut r = rng::fast_stream(seed, Purpose::Fantasy, 0);
    let mut g = GibbsBatch::new(rbm, start[..rows * nv].to_vec());
    g.sample_hidden(rbm, 1.0, &mut r);
    for _ in 0..sweeps {
        g.sweep(rbm, 1.0, &mut r);
    }
    let mut means = Vec::new();
    rbm.visible_means(&g.h, &mut means);
    means.chunks_exact(nv).map(|c| c.to_vec()).collect()
}

/// Whether exact `ln Z` is cheap enough to compute at every learning-curve point
/// (≤ ~3·10⁷ terms).
pub fn exact_is_cheap(rbm: &Rbm) -> bool {
    let units = match rbm.visible {
        VisibleKind::Gaussian => rbm.n_hidden,
        VisibleKind::Bernoulli => rbm.n_hidden.min(rbm.n_visible),
    };
    let other = rbm.n_hidden + rbm.n_visible - units;
    units <= 20 && (1u64 << units) * other as u64 <= 30_000_000
}

/// One point of a learning curve, measured on monitor subsets of the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Mean squared reconstruction error on the training rows.
    pub reconstruction_error: f64,
    /// Mean free energy of the test rows minus that of the training rows (over-fitting grows it).
    pub free_energy_gap: f64,
    /// Mean pseudo-log-likelihood of the test rows (Bernoulli units).
    pub pseudo_log_likelihood_test: Option<f64>,
    /// Exact `ln Z`, when asked and cheap.
    pub log_z: Option<f64>,
    /// Exact mean log-likelihood of the training rows.
    pub log_likelihood_train: Option<f64>,
    /// Exact mean log-likelihood of the test rows.
    pub log_likelihood_test: Option<f64>,
}

/// Learning-curve measurements of `rbm` on `train` and `test` rows (exact log-likelihoods when
/// `exact` and the smaller layer allows).
pub fn learning_curve_point(rbm: &Rbm, train: &[f32], test: &[f32], exact: bool) -> CurvePoint {
    let f_train = rbm.free_energies(train);
    let f_test = rbm.free_energies(test);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let log_z = if exact {
        log_partition_exact(rbm, EXACT_UNITS).ok()
    } else {
        None
    };
    CurvePoint {
        reconstruction_error: rbm.reconstruction_error(train),
        free_energy_gap: mean(&f_test) - mean(&f_train),
        pseudo_log_likelihood_test: rbm.pseudo_log_likelihood(test).ok().map(|p| mean(&p)),
        log_z,
        log_likelihood_train: log_z.map(|lz| -mean(&f_train) - lz),
        log_likelihood_test: log_z.map(|lz| -mean(&f_test) - lz),
    }
}
