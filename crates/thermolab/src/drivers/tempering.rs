//! Parallel tempering along a path `E_t = E_base + t·E_path` (a power posterior, or the
//! Boltzmann path `t·E`): replicas at increasing t each take kernel steps, then neighbouring
//! replicas exchange states with probability `min(1, exp((t_i − t_j)(E_path(x_i) − E_path(x_j))))`.
//! Swaps follow the non-reversible deterministic even/odd scheme (even pairs on even rounds, odd
//! pairs on odd rounds), whose round-trip rate grows linearly rather than quadratically with the
//! number of replicas. During warm-up the ladder is re-spaced so each pair rejects equally often,
//! using the estimated communication barrier Λ = Σ rejection rates; `2Λ + 1` replicas is the
//! advised count.
//!
//! # References
//! - Swendsen, R. H. & Wang, J.-S. (1986), "Replica Monte Carlo simulation of spin glasses", *PRL* 57.
//! - Syed, Bouchard-Côté, Deligiannidis & Doucet (2022), "Non-reversible parallel tempering: a
//!   scalable highly parallel MCMC scheme", *JRSS B* 84.

use crate::adapt::DualAveraging;
use crate::energy::EnergyError;
use crate::kernels::mcmc::{Sampler, SamplerKind, State};
use crate::rng::{chain_stream, Rng as ChainRng};
use crate::systems::posterior::{Posterior, PowerPosterior};
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Settings of [`temper`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TemperingSettings {
    /// The initial ladder of t values, increasing, ending at 1 (re-spaced during warm-up).
    pub ladder: Vec<f64>,
    /// The kernel every replica uses.
    pub kernel: SamplerKind,
    /// Kernel steps between swap rounds.
    pub steps_per_round: usize,
    /// Warm-up rounds (step sizes and ladder adapt; not kept).
    pub warmup: usize,
    /// Kept rounds.
    pub rounds: usize,
    /// Re-space the ladder during warm-up.
    pub adapt_ladder: bool,
    /// Worker threads (0: all cores). Results do not depend on it.
    pub threads: usize,
    /// Keep the draws of every replica, not only those at t = 1.
    pub keep_all: bool,
}

impl Default for TemperingSettings {
    fn default() -> Self {
        Self {
            ladder: (0..10)
                .map(|k| 0.01f64.powf(1.0 - k as f64 / 9.0))
                .collect(),
            kernel: SamplerKind::Hmc { steps: 10 },
            steps_per_round: 1,
            warmup: 2000,
            rounds: 10_000,
            adapt_ladder: true,
            threads: 0,
            keep_all: false,
        }
    }
}

impl TemperingSettings {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), crate::settings::SettingsError> {
        use crate::settings::{nonzero, SettingsError};
        if self.ladder.len() < 2 {
            return Err(SettingsError::new("ladder", "needs at least two replicas"));
        }
        if self.ladder.windows(2).any(|w| w[1] <= w[0]) {
            return Err(SettingsError::new("ladder", "must be strictly increasing"));
        }
        if let Some(b) = self.ladder.iter().find(|b| !(0.0..=1.0).contains(*b)) {
            return Err(SettingsError::new(
                "ladder",
                format!("every β must lie in [0, 1], got {b}"),
            ));
        }
        if *self.ladder.last().expect("non-empty") != 1.0 {
            return Err(SettingsError::new("ladder", "must end at 1"));
        }
        nonzero("rounds", self.rounds)?;
        nonzero("steps_per_round", self.steps_per_round)?;
        Ok(())
    }
}

struct Replica<P> {
    energy: PowerPosterior<P>,
    state: State,
    path: f64,
    sampler: Sampler,
    dual: DualAveraging,
    rng: ChainRng,
}

/// What a tempering run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemperingResult {
    /// The final ladder.
    pub ladder: Vec<f64>,
    /// Draws at t = 1 (row-major, one per kept round).
    pub draws: Vec<f64>,
    /// With `keep_all`: every replica's draw at every kept round (`rounds × replicas × dim`),
    /// in ladder order.
    pub all_draws: Vec<f64>,
    /// `E_path` of every replica's state at every kept round (`rounds × replicas`).
    pub path_energy: Vec<f64>,
    /// Rejection rate of each neighbouring pair during the kept rounds.
    pub rejection: Vec<f64>,
    /// The communication barrier Λ = Σ rejection rates.
    pub barrier: f64,
    /// Advised number of replicas, ⌈2Λ⌉ + 1.
    pub advised_replicas: usize,
    /// Round trips (hot end → cold end → hot end) completed by the replicas' labels.
    pub round_trips: u64,
    /// Kernel evaluations spent.
    pub evaluations: u64,
}

/// Re-spaces a ladder so the cumulative rejection (a piecewise-linear Λ(t)) is uniform.
fn respace(ladder: &[f64], rej: &[f64]) -> Vec<f64> {
    let n = ladder.len();
    let mut cum = vec![0.0; n];
    for k in 1..n {
        cum[k] = cum[k - 1] + rej[k - 1].max(1e-3);
    }
    let total = cum[n - 1];
    let mut out = vec![ladder[0]];
    for j in 1..n - 1 {
        let target = total * j as f64 / (n - 1) as f64;
        let k = (1..n).find(|&k| cum[k] >= target).unwrap_or(n - 1);
        let f = (target - cum[k - 1]) / (cum[k] - cum[k - 1]).max(1e-12);
        out.push(ladder[k - 1] + f * (ladder[k] - ladder[k - 1]));
    }
    out.push(ladder[n - 1]);
    out
}

/// Runs parallel tempering on `post` from `x0` (every replica starts there).
pub fn temper<P: Posterior>(
    post: &P,
    x0: &[f64],
    s: &TemperingSettings,
    seed: u64,
) -> Result<TemperingResult, EnergyError> {
    let d = post.dim();
    let n = s.ladder.len();
    let mut ladder = s.ladder.clone();
    let mut reps: Vec<Replica<P>> = (0..n)
        .map(|k| {
            let mut energy = PowerPosterior::new(post.clone(), ladder[k]);
            let state = State::new(&mut energy, x0.to_vec())?;
            let mut g = vec![0.0; d];
            let path = energy.post.lik_energy(&state.x, &mut g)?;
            let mut rng = chain_stream(seed, k as u64);
            let mut sampler = Sampler::new(s.kernel, d, 0.5);
            sampler.find_step_size(&mut energy, &state, 1.0, &mut rng)?;
            let dual = DualAveraging::new(sampler.step_size, s.kernel.default_target_accept());
            Ok(Replica {
                energy,
                state,
                path,
                sampler,
                dual,
                rng,
            })
        })
        .collect::<Result<_, EnergyError>>()?;
    let mut swap_rng = chain_stream(seed, n as u64);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(s.threads)
        .build()
        .ok();
    // labels[k]: which state sits at replica k; last_end[label]: 0 = hot end, 1 = cold end.
    let mut labels: Vec<usize> = (0..n).collect();
    let mut last_end: Vec<Option<u8>> = vec![None; n];
    let (mut trips, mut evals) = (0u64, 0u64);
    let mut rej_count = vec![0.0f64; n - 1];
    let mut tries = vec![0.0f64; n - 1];
    let mut draws = Vec::with_capacity(s.rounds * d);
    let mut all_draws = Vec::with_capacity(if s.keep_all { s.rounds * n * d } else { 0 });
    let mut path_energy = Vec::with_capacity(s.rounds * n);
    let mut next_adapt = 100;
    for round in 0..s.warmup + s.rounds {
        let warm = round < s.warmup;
        let steps = s.steps_per_round;
        let local = |r: &mut Replica<P>| -> Result<u64, EnergyError> {
            let mut ev = 0;
            for _ in 0..steps {
                let info = r
                    .sampler
                    .step(&mut r.energy, &mut r.state, 1.0, &mut r.rng)?;
                ev += u64::from(info.n_evals);
                if warm {
                    r.sampler.step_size = r.dual.update(info.accept_stat);
                }
            }
            let mut g = vec![0.0; r.state.x.len()];
            r.path = r.energy.post.lik_energy(&r.state.x, &mut g)?;
            Ok(ev + 1)
        };
        let mut run = || {
            reps.par_iter_mut()
                .map(local)
                .collect::<Result<Vec<u64>, EnergyError>>()
        };
        let ev = match &pool {
            Some(p) => p.install(run)?,
            None => run()?,
        };
        evals += ev.iter().sum::<u64>();
        // Deterministic even/odd swaps.
        let mut k = round % 2;
        while k + 1 < n {
            let (a, b) = (ladder[k], ladder[k + 1]);
            let log_acc = (a - b) * (reps[k].path - reps[k + 1].path);
            let accept = log_acc >= 0.0 || swap_rng.random::<f64>() < log_acc.exp();
            tries[k] += 1.0;
            if accept {
                let (lo, hi) = reps.split_at_mut(k + 1);
                std::mem::swap(&mut lo[k].state.x, &mut hi[0].state.x);
                std::mem::swap(&mut lo[k].path, &mut hi[0].path);
                labels.swap(k, k + 1);
                for r in [&mut lo[k], &mut hi[0]] {
                    r.state = State::new(&mut r.energy, std::mem::take(&mut r.state.x))?;
                    evals += 1;
                }
            } else {
                rej_count[k] += 1.0;
            }
            k += 2;
        }
        // Round trips of labels between the two ends.
        for (end, idx) in [(0u8, 0usize), (1u8, n - 1)] {
            let l = labels[idx];
            if end == 0 && last_end[l] == Some(1) {
                trips += 1;
            }
            last_end[l] = Some(end);
        }
        if warm && s.adapt_ladder && round + 1 == next_adapt {
            let rej: Vec<f64> = rej_count
                .iter()
                .zip(&tries)
                .map(|(r, t)| r / t.max(1.0))
                .collect();
            ladder = respace(&ladder, &rej);
            for (r, t) in reps.iter_mut().zip(&ladder) {
                r.energy.t = *t;
                r.state = State::new(&mut r.energy, std::mem::take(&mut r.state.x))?;
                let eps = r.sampler.step_size;
                r.dual.restart(eps);
            }
            rej_count.iter_mut().for_each(|v| *v = 0.0);
            tries.iter_mut().for_each(|v| *v = 0.0);
            next_adapt *= 2;
        }
        if round + 1 == s.warmup {
            for r in reps.iter_mut() {
                r.sampler.step_size = r.dual.final_step_size();
            }
            rej_count.iter_mut().for_each(|v| *v = 0.0);
            tries.iter_mut().for_each(|v| *v = 0.0);
            trips = 0;
        }
        if !warm {
            draws.extend_from_slice(&reps[n - 1].state.x);
            if s.keep_all {
                for r in &reps {
                    all_draws.extend_from_slice(&r.state.x);
                }
            }
            path_energy.extend(reps.iter().map(|r| r.path));
        }
    }
    let rejection: Vec<f64> = rej_count
        .iter()
        .zip(&tries)
        .map(|(r, t)| r / t.max(1.0))
        .collect();
    let barrier: f64 = rejection.iter().sum();
    Ok(TemperingResult {
        ladder,
        draws,
        all_draws,
        path_energy,
        advised_replicas: (2.0 * barrier).ceil() as usize + 1,
        rejection,
        barrier,
        round_trips: trips,
        evaluations: evals,
    })
}

impl TemperingResult {
    /// The rungs of the run's final ladder, for thermodynamic integration and stepping-stone
    /// from the same tempering run (each rung's ESS from the integrated autocorrelation time of
    /// its `E_path` series).
    pub fn rungs(&self) -> Vec<crate::estimate::evidence::Rung> {
        let n = self.ladder.len();
        (0..n)
            .map(|k| {
                let u: Vec<f64> = self
                    .path_energy
                    .iter()
                    .skip(k)
                    .step_by(n)
                    .copied()
                    .collect();
                let tau = crate::estimate::series::integrated_autocorrelation_time(&u);
                crate::estimate::evidence::Rung {
                    t: self.ladder[k],
                    ess: u.len() as f64 / (2.0 * tau),
                    lik_energy: u,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systems::posterior::{BoltzmannPath, GaussianMixture};

    /// Two modes 10 σ apart with weights 0.3 / 0.7: a single gradient-based chain stays in one
    /// mode; tempering recovers the weights to ±0.02.
    #[test]
    fn tempering_recovers_the_weights_of_two_distant_modes() {
        let m = GaussianMixture::two_modes(2, 10.0);
        let post = BoltzmannPath(m.clone());
        let s = TemperingSettings {
            rounds: 40_000,
            warmup: 4000,
            ..Default::default()
        };
        s.validate().unwrap();
        let r = temper(&post, &[-5.0, 0.0], &s, 3).unwrap();
        let n = r.draws.len() / 2;
        let right = r
            .draws
            .chunks_exact(2)
            .filter(|x| m.nearest(x) == 1)
            .count() as f64
            / n as f64;
        assert!(
            (right - 0.7).abs() < 0.02,
            "weight of the right mode {right}"
        );
        assert!(r.round_trips > 50, "{} round trips", r.round_trips);
        assert!(
            r.barrier > 0.5 && r.ladder.windows(2).all(|w| w[1] > w[0]),
            "{r:?}"
        );
        // A single NUTS chain started in the left mode never leaves it.
        use crate::drivers::sample::{sample, InitPoint, SampleControl, SampleSettings};
        let one = SampleSettings {
            chains: 1,
            init: InitPoint::Given { x: vec![-5.0, 0.0] },
            ..Default::default()
        }
        .validate(2)
        .unwrap();
        let r1 = sample(&m, &one, 3, SampleControl::default()).unwrap();
        let right1 = r1.chains[0]
            .draws
            .chunks_exact(2)
            .filter(|x| m.nearest(x) == 1)
            .count();
        assert_eq!(right1, 0);
    }

    #[test]
    fn results_do_not_depend_on_threads_and_all_replicas_can_be_kept() {
        let post = BoltzmannPath(GaussianMixture::two_modes(2, 6.0));
        let run = |threads| {
            let s = TemperingSettings {
                rounds: 500,
                warmup: 300,
                threads,
                keep_all: true,
                ladder: vec![0.1, 0.3, 1.0],
                ..Default::default()
            };
            temper(&post, &[0.0, 0.0], &s, 8).unwrap()
        };
        let (a, b) = (run(1), run(2));
        assert_eq!(a, b);
        assert_eq!(a.all_draws.len(), 500 * 3 * 2);
        assert_eq!(&a.all_draws[4..6], &a.draws[0..2]);
    }

    /// Stepping-stone and TI from one tempering run along the power-posterior path (ladder from
    /// t = 0) recover the exact conjugate-regression evidence.
    #[test]
    fn stepping_stone_from_a_tempering_run() {
        use crate::estimate::evidence::{stepping_stone, ti_corrected};
        use crate::systems::posterior::LinearRegression;
        let post =
            LinearRegression::new(&crate::data::synthetic_regression(60, 4, 0.5, 2), 0.5, 1.0)
                .unwrap();
        let exact = post.log_evidence();
        let ladder: Vec<f64> = (0..=24).map(|k| (k as f64 / 24.0).powi(5)).collect();
        let s = TemperingSettings {
            ladder,
            rounds: 8000,
            warmup: 1000,
            adapt_ladder: false,
            ..Default::default()
        };
        let r = temper(&post, &[0.0; 4], &s, 4).unwrap();
        for est in [stepping_stone(&r.rungs()), ti_corrected(&r.rungs())] {
            assert!(
                (est.value - exact).abs() < 3.0 * est.se + 0.02,
                "{est:?} vs {exact}"
            );
            assert!(est.se < 0.3);
        }
    }

    #[test]
    fn ladders_are_validated() {
        let bad = |l: Vec<f64>| {
            TemperingSettings {
                ladder: l,
                ..Default::default()
            }
            .validate()
            .unwrap_err()
            .message
        };
        assert!(bad(vec![0.5, 0.2, 1.0]).contains("strictly increasing"));
        assert!(bad(vec![0.1, 0.5]).contains("end at 1"));
        assert!(bad(vec![-0.1, 1.0]).contains("[0, 1]"));
    }
}
