//! Parallel tempering of a Boltzmann machine along the annealing path of
//! [`crate::kernels::rbm`] (`β = 0`: the base-rate machine; `β = 1`: the model), with block Gibbs
//! sweeps in every replica, non-reversible even/odd swaps (Syed et al. 2022), and ln Z by
//! stepping-stone (Xie et al. 2011) from the same run: a third estimate beside exact enumeration
//! and AIS.
//!
//! With `U(v, h) = E(v, h) − E_A(v)` the replica at `β` targets `∝ exp(−E_A − β U)`, so a swap of
//! states `x_i, x_j` between `β_i, β_j` is accepted with probability
//! `min(1, exp((β_i − β_j)(U(x_i) − U(x_j))))`. The stepping-stone ratios use the marginals with
//! the hidden units summed out: `ln Z_{k+1}/Z_k = ln E_k[p*_{k+1}(v)/p*_k(v)]`; the standard error
//! is a jackknife over blocks of rounds (all rungs together, so the coupling through swaps is
//! accounted for).
//!
//! # References
//! - S. Syed, A. Bouchard-Côté, G. Deligiannidis & A. Doucet (2022), "Non-reversible parallel
//!   tempering: a scalable highly parallel MCMC scheme".
//! - W. Xie, P. O. Lewis, Y. Fan, L. Kuo & M.-H. Chen (2011), "Improving marginal likelihood
//!   estimation for Bayesian phylogenetic model selection".

use crate::estimate::series::Estimate;
use crate::kernels::rbm::{base_energy, base_log_partition, sample_base, BaseRate, GibbsBatch};
use crate::rng;
use crate::settings::{nonzero, SettingsError};
use crate::systems::rbm::{Rbm, RbmError};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

/// Settings of [`temper_rbm`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RbmTemperSettings {
    /// Inverse temperatures, strictly increasing from 0 to 1.
    pub betas: Vec<f64>,
    /// Independent chains per temperature.
    pub chains: usize,
    /// Rounds (a sweep of every replica, then one swap pass) discarded first.
    pub burn_in: usize,
    /// Rounds kept.
    pub rounds: usize,
    /// Blocks of rounds for the jackknife.
    pub blocks: usize,
    /// Run seed.
    pub seed: u64,
}

impl Default for RbmTemperSettings {
    fn default() -> Self {
        Self {
            betas: (0..=32).map(|k| k as f64 / 32.0).collect(),
            chains: 16,
            burn_in: 200,
            rounds: 2000,
            blocks: 20,
            seed: 0,
        }
    }
}

impl RbmTemperSettings {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), SettingsError> {
        nonzero("chains", self.chains)?;
        nonzero("rounds", self.rounds)?;
        if self.blocks < 2 || self.blocks > self.rounds {
            return Err(SettingsError::new("blocks", "needs 2 ≤ blocks ≤ rounds"));
        }
        let b = &self.betas;
        if b.len() < 2 || b[0] != 0.0 || b[b.len() - 1] != 1.0 {
            return Err(SettingsError::new("betas", "must run from 0 to 1"));
        }
        if b.windows(2).any(|w| w[1] <= w[0] || !w[1].is_finite()) {
            return Err(SettingsError::new("betas", "must be strictly increasing"));
        }
        Ok(())
    }
}

/// What a tempering run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RbmTemperResult {
    /// ln Z by stepping-stone, with its jackknife standard error.
    pub log_z: Estimate,
    /// Swap acceptance rate of each adjacent pair.
    pub swap_rates: Vec<f64>,
    /// Completed round trips (β = 0 → 1 → 0) of the replica labels, over all chains.
    pub round_trips: u64,
    /// Visible states of the β = 1 replicas at the end (`chains × V`).
    pub final_states: Vec<f32>,
}

/// Runs parallel tempering of `rbm` from the base-rate machine with visible biases `base_b`.
pub fn temper_rbm(
    rbm: &Rbm,
    base_b: &[f32],
    settings: &RbmTemperSettings,
) -> Result<RbmTemperResult, RbmError> {
    rbm.validate()?;
    settings.validate().map_err(|_| RbmError::Unsupported {
        what: "these tempering settings",
    })?;
    let s = settings;
    let k_max = s.betas.len();
    let n = s.chains;
    let mut r = rng::chain_stream(s.seed, 0);
    let mut reps: Vec<GibbsBatch> = (0..k_max)
        .map(|_| {
            let v0 = sample_base(rbm, base_b, n, &mut r);
            let mut g = GibbsBatch::new(rbm, v0, &mut r);
            g.update_activations(rbm);
            g
        })
        .collect();
    // For round trips: the direction of the replica now at each position (None: not yet at 0).
    let mut heading_up: Vec<Vec<Option<bool>>> = vec![vec![None; n]; k_max];
    let mut trips = 0u64;
    let mut acc = vec![(0u64, 0u64); k_max - 1];
    // Per rung: block sums of e^{Δ − shift} with a running shift per rung.
    let nb = s.blocks;
    let per_block = s.rounds / nb;
    let mut sums = vec![vec![0.0f64; nb]; k_max - 1];
    let mut shift = vec![f64::NAN; k_max - 1];
    let (mut here, mut next, mut u) = (Vec::new(), Vec::new(), vec![Vec::new(); k_max]);
    let mut odd = false;
    for round in 0..s.burn_in + s.rounds {
        for (k, g) in reps.iter_mut().enumerate() {
            let beta = s.betas[k];
            let base = BaseRate {
                b: base_b,
                alpha: (1.0 - beta) as f32,
            };
            g.sample_hidden_current(beta as f32);
            g.sample_visible(rbm, beta as f32, Some(base));
            g.update_activations(rbm);
        }
        let kept = round >= s.burn_in;
        let block = if kept {
            ((round - s.burn_in) / per_block.max(1)).min(nb - 1)
        } else {
            0
        };
        for k in 0..k_max {
            let g = &reps[k];
            if kept && k + 1 < k_max {
                let (b0, b1) = (s.betas[k], s.betas[k + 1]);
                g.log_marginals(rbm, b1, Some((base_b, 1.0 - b1)), &mut next);
                g.log_marginals(rbm, b0, Some((base_b, 1.0 - b0)), &mut here);
                for (a, b) in next.iter().zip(&here) {
                    let d = a - b;
                    if shift[k].is_nan() {
                        shift[k] = d;
                    }
                    sums[k][block] += (d - shift[k]).exp();
                }
            }
            // U = E(v, h) − E_A(v) for the swaps.
            g.joint_energies(rbm, &mut u[k]);
            let nv = rbm.n_visible;
            for (c, e) in u[k].iter_mut().enumerate() {
                *e -= base_energy(rbm, base_b, &g.v[c * nv..(c + 1) * nv]);
            }
        }
        let mut k = usize::from(odd);
        while k + 1 < k_max {
            let dbeta = s.betas[k] - s.betas[k + 1];
            let (lo, hi) = reps.split_at_mut(k + 1);
            for c in 0..n {
                let log_acc = dbeta * (u[k][c] - u[k + 1][c]);
                acc[k].1 += 1;
                if log_acc >= 0.0 || r.random::<f64>() < log_acc.exp() {
                    lo[k].exchange(&mut hi[0], rbm, c);
                    let (x, y) = (heading_up[k][c], heading_up[k + 1][c]);
                    heading_up[k][c] = y;
                    heading_up[k + 1][c] = x;
                    acc[k].0 += 1;
                }
            }
            k += 2;
        }
        odd = !odd;
        // A label reaching β = 1 after last touching β = 0 turns round; back at 0 completes a trip.
        for h in heading_up[0].iter_mut() {
            if *h == Some(false) {
                trips += 1;
            }
            *h = Some(true);
        }
        for h in heading_up[k_max - 1].iter_mut() {
            if *h == Some(true) {
                *h = Some(false);
            }
        }
    }
    // Stepping-stone with a jackknife over blocks.
    let total_per_block = (per_block * n) as f64;
    let estimate_without = |skip: Option<usize>| -> f64 {
        let mut lz = base_log_partition(rbm, base_b);
        for k in 0..k_max - 1 {
            let (sum, cnt) = sums[k]
                .iter()
                .enumerate()
                .filter(|(b, _)| Some(*b) != skip)
                .fold((0.0, 0.0), |(s0, c0), (_, v)| {
                    (s0 + v, c0 + total_per_block)
                });
            lz += shift[k] + (sum / cnt).ln();
        }
        lz
    };
    let value = estimate_without(None);
    let loo: Vec<f64> = (0..nb).map(|b| estimate_without(Some(b))).collect();
    let mean = loo.iter().sum::<f64>() / nb as f64;
    let se = ((nb as f64 - 1.0) / nb as f64 * loo.iter().map(|x| (x - mean).powi(2)).sum::<f64>())
        .sqrt();
    Ok(RbmTemperResult {
        log_z: Estimate { value, se },
        swap_rates: acc
            .iter()
            .map(|&(a, t)| if t == 0 { 0.0 } else { a as f64 / t as f64 })
            .collect(),
        round_trips: trips,
        final_states: reps[k_max - 1].v.clone(),
    })
}
