//! The local learning coefficient λ̂ (Lau, Furman, Wang, Murfet & Wei 2025, after Watanabe's
//! WBIC): how many effective parameters a model uses near a trained parameter w*, estimated by
//! localised SGLD at inverse temperature β = 1/ln n.
//!
//! With L the mean loss over the n data rows (a negative log-likelihood per row),
//! λ̂ = nβ·(⟨L⟩ − L(w*)), the average under the tempered, localised posterior
//! p(w) ∝ exp(−nβ·L(w) − (γ/2)·‖w − w*‖²). For a regular model λ = d/2; singular models (every
//! network) have less. Each chain starts at w* and moves by SGLD in the convention of devinterp:
//! `w ← w − (ε/2)·(nβ·∇L_B(w) + γ·(w − w*)) + N(0, ε)`, with L_B the loss on a minibatch of B
//! rows (B = n: full batch). Minibatches come in epochs: a fresh permutation of the rows per
//! epoch, cut into ⌊n/B⌋ batches of B (the remainder sits out that epoch, as PyTorch's
//! `drop_last`), so that over an epoch the batches' losses average to nearly the full loss and
//! the batch noise in ⟨L⟩ largely cancels (independent batches per step left it 3–10× noisier).
//! ⟨L⟩ averages the loss that each step computes anyway, L_B at the step's start: unbiased for
//! L at that point. λ̂ is estimated per chain; its standard error is the spread of the chains' values
//! over √chains.

use crate::energy::{Energy, EnergyError, Gradient};
use crate::kernels::mcmc::State;
use crate::kernels::sgmcmc::SgKernel;
use crate::kernels::Kernel;
use crate::nn::MinibatchEnergy;
use crate::rng::{stream, Purpose};
use crate::settings::SettingsError;
use crate::Error;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// An energy summed over rows (a negative log-likelihood, as [`NetworkPosterior`] gives with
/// [`likelihood_only`]) divided by the number of rows: the mean loss per row that
/// [`local_learning_coefficient`] takes.
///
/// [`NetworkPosterior`]: crate::systems::posterior::NetworkPosterior
/// [`likelihood_only`]: crate::systems::posterior::NetworkPosterior::likelihood_only
#[derive(Debug, Clone)]
pub struct MeanLoss<E>(pub E);

impl<E: MinibatchEnergy> Energy for MeanLoss<E> {
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        let n = self.0.n_data() as f64;
        Ok(self.0.energy(x)? / n)
    }
}

impl<E: MinibatchEnergy> Gradient for MeanLoss<E> {
    fn energy_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, EnergyError> {
        let n = self.0.n_data() as f64;
        let e = self.0.energy_grad(x, grad)?;
        grad.iter_mut().for_each(|g| *g /= n);
        Ok(e / n)
    }
}

impl<E: MinibatchEnergy> MinibatchEnergy for MeanLoss<E> {
    fn n_data(&self) -> usize {
        self.0.n_data()
    }
    fn set_batch(&mut self, rows: Option<&[usize]>) {
        self.0.set_batch(rows)
    }
    fn set_chain(&mut self, chain: u64) {
        self.0.set_chain(chain)
    }
}

/// Settings of [`local_learning_coefficient`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlcSettings {
    /// Independent chains (at least 2, for the standard error).
    pub chains: usize,
    /// Steps per chain whose losses are averaged.
    pub draws: usize,
    /// Steps per chain before those, discarded.
    pub burn_in: usize,
    /// The SGLD step ε (devinterp's convention, above).
    pub step_size: f64,
    /// The localisation strength γ.
    pub localization: f64,
    /// nβ; `None`: n / ln n (β = 1/ln n, Watanabe's WBIC temperature).
    pub n_beta: Option<f64>,
    /// Rows per minibatch; `None` (or n and more): full batch.
    pub batch_size: Option<usize>,
    /// The run's seed: chain c's noise and batches come from stream (seed, chain, c).
    pub seed: u64,
}

impl Default for LlcSettings {
    fn default() -> Self {
        Self {
            chains: 4,
            draws: 2000,
            burn_in: 500,
            step_size: 1e-4,
            localization: 100.0,
            n_beta: None,
            batch_size: None,
            seed: 0,
        }
    }
}

impl LlcSettings {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.chains < 2 {
            return Err(SettingsError::new(
                "chains",
                "at least 2 chains (the standard error is their spread)",
            ));
        }
        if self.draws < 2 {
            return Err(SettingsError::new("draws", "at least 2 draws per chain"));
        }
        if !(self.step_size > 0.0 && self.step_size.is_finite()) {
            return Err(SettingsError::new(
                "step_size",
                "must be positive and finite",
            ));
        }
        if !(self.localization >= 0.0 && self.localization.is_finite()) {
            return Err(SettingsError::new(
                "localization",
                "must be finite and at least 0",
            ));
        }
        if let Some(nb) = self.n_beta {
            if !(nb > 0.0 && nb.is_finite()) {
                return Err(SettingsError::new("n_beta", "must be positive and finite"));
            }
        }
        if self.batch_size == Some(0) {
            return Err(SettingsError::new("batch_size", "must be at least 1"));
        }
        Ok(())
    }
}

/// An estimate of the local learning coefficient, with what it was computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Llc {
    /// λ̂, the mean of the chains' estimates.
    pub lambda: f64,
    /// Its standard error (the chains' standard deviation over √chains).
    pub se: f64,
    /// λ̂ of each chain.
    pub per_chain: Vec<f64>,
    /// L(w*) on all rows.
    pub loss_at_center: f64,
    /// The nβ used.
    pub n_beta: f64,
    /// The loss at each kept step, per chain (the λ̂ traces are nβ·(trace − L(w*))).
    pub loss_traces: Vec<Vec<f64>>,
    /// Steps that met a non-finite loss or gradient or left a non-finite position (the chain
    /// stayed where it was).
    pub divergences: usize,
    /// Why the estimate should not be trusted, if it should not (empty: no reason found).
    pub warnings: Vec<String>,
}

/// The loss `nβ·L_B(w) + (γ/2)‖w − w*‖²` over β, so that SGLD at β targets the localised
/// tempered posterior; it keeps the last L_B it computed.
struct Localized<'a, E> {
    inner: E,
    center: &'a [f64],
    n: f64,
    gamma_over_beta: f64,
    last_loss: f64,
}

impl<E: Gradient> Energy for Localized<'_, E> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        let loss = self.inner.energy(x)?;
        self.last_loss = loss;
        Ok(self.n * loss + self.pull(x))
    }
}

impl<E: Gradient> Gradient for Localized<'_, E> {
    fn energy_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, EnergyError> {
        let loss = self.inner.energy_grad(x, grad)?;
        self.last_loss = loss;
        for ((g, v), c) in grad.iter_mut().zip(x).zip(self.center) {
            *g = self.n * *g + self.gamma_over_beta * (v - c);
        }
        Ok(self.n * loss + self.pull(x))
    }
}

impl<E> Localized<'_, E> {
    fn pull(&self, x: &[f64]) -> f64 {
        let sq: f64 = x
            .iter()
            .zip(self.center)
            .map(|(v, c)| (v - c).powi(2))
            .sum();
        0.5 * self.gamma_over_beta * sq
    }
}

/// Estimates the local learning coefficient of `energy` (a mean loss per row, see the module
/// documentation) at `center` (a trained parameter, ideally a local minimum of the loss).
///
/// ```
/// use thermolab::drivers::llc::{local_learning_coefficient, LlcSettings};
/// use thermolab::kernels::sgmcmc::SgKernel;
/// use thermolab::prelude::*;
/// use thermolab::systems::DeepLinearNetwork;
///
/// // Linear regression with 3 inputs and 2 outputs: a regular model, λ = d/2 = 3.
/// let mut net = DeepLinearNetwork::teacher(&[3, 2], 2, 2000, 1)?;
/// // Train: SGLD at zero temperature (β = ∞) is gradient descent.
/// let mut state = State::new(&mut net, vec![0.0; 6])?;
/// let mut gd = SgKernel::sgld(0.5)?;
/// let mut rng = thermolab::rng::chain_stream(0, 0);
/// for _ in 0..200 {
///     gd.step(&mut net, &mut state, f64::INFINITY, &mut rng)?;
/// }
/// let center = state.x;
/// let settings = LlcSettings { step_size: 1e-3, localization: 1.0, ..LlcSettings::default() };
/// let llc = local_learning_coefficient(&net, &center, &settings)?;
/// assert!((llc.lambda - 3.0).abs() < 4.0 * llc.se + 0.3, "{llc:?}");
/// # Ok::<(), thermolab::Error>(())
/// ```
pub fn local_learning_coefficient<E>(
    energy: &E,
    center: &[f64],
    settings: &LlcSettings,
) -> Result<Llc, Error>
where
    E: MinibatchEnergy + Clone + Send + Sync,
{
    settings.validate()?;
    crate::energy::check_dim(energy.dim(), center)?;
    let n = energy.n_data();
    if n < 2 {
        return Err(SettingsError::new("data", "needs at least 2 rows").into());
    }
    let mut full = energy.clone();
    full.set_batch(None);
    let loss_at_center = crate::energy::eval(&mut full, center)?;
    let n_beta = settings.n_beta.unwrap_or(n as f64 / (n as f64).ln());
    let beta = n_beta / n as f64;
    let batch = settings.batch_size.filter(|&b| b < n);
    let sgld = SgKernel::sgld(settings.step_size * beta)?;
    let chains: Vec<Result<(Vec<f64>, usize), EnergyError>> = (0..settings.chains)
        .into_par_iter()
        .map(|c| {
            let mut target = Localized {
                inner: energy.clone(),
                center,
                n: n as f64,
                gamma_over_beta: settings.localization / beta,
                last_loss: f64::NAN,
            };
            target.inner.set_batch(None);
            target.inner.set_chain(c as u64);
            let mut rng = stream(settings.seed, Purpose::Chain, c as u64);
            let mut kernel = sgld.clone();
            let mut state = State {
                x: center.to_vec(),
                energy: f64::NAN,
                grad: Vec::new(),
            };
            // Epochs of a fresh permutation, cut into ⌊n/B⌋ batches of B rows.
            let mut order: Vec<usize> = (0..n).collect();
            let per_epoch = batch.map_or(1, |b| n / b);
            let mut next = per_epoch;
            let mut trace = Vec::with_capacity(settings.draws);
            let mut divergences = 0;
            for step in 0..settings.burn_in + settings.draws {
                if let Some(b) = batch {
                    if next == per_epoch {
                        order.shuffle(&mut rng);
                        next = 0;
                    }
                    target
                        .inner
                        .set_batch(Some(&order[next * b..(next + 1) * b]));
                    next += 1;
                }
                let info = kernel.step(&mut target, &mut state, beta, &mut rng)?;
                if info.diverged {
                    divergences += 1;
                } else if step >= settings.burn_in {
                    trace.push(target.last_loss);
                }
            }
            Ok((trace, divergences))
        })
        .collect();
    let mut loss_traces = Vec::with_capacity(settings.chains);
    let mut divergences = 0;
    for chain in chains {
        let (trace, d) = chain?;
        loss_traces.push(trace);
        divergences += d;
    }
    let per_chain: Vec<f64> = loss_traces
        .iter()
        .map(|t| {
            let mean = t.iter().sum::<f64>() / t.len().max(1) as f64;
            n_beta * (mean - loss_at_center)
        })
        .collect();
    let k = per_chain.len() as f64;
    let lambda = per_chain.iter().sum::<f64>() / k;
    let var = per_chain.iter().map(|v| (v - lambda).powi(2)).sum::<f64>() / (k - 1.0);
    let se = (var / k).sqrt();
    let mut warnings = Vec::new();
    if divergences > 0 {
        warnings.push(format!(
            "{divergences} steps diverged: lower step_size or raise localization"
        ));
    }
    if loss_traces.iter().any(|t| t.is_empty()) {
        warnings.push("a chain kept no draws (every step diverged)".into());
    }
    if lambda < -3.0 * se {
        warnings.push(format!(
            "λ̂ = {lambda:.3} is below zero: the center is not a local minimum of the loss \
             (train further, or the chains found lower loss nearby)"
        ));
    }
    if let Some((ratio, limit)) = spread_excess(&loss_traces, &per_chain, n_beta) {
        warnings.push(format!(
            "the chains disagree: their λ̂ (from {:.3} to {:.3}) spread {ratio:.1}× more than \
             their own noise allows (limit {limit:.1}): lower step_size or raise draws",
            per_chain.iter().copied().fold(f64::INFINITY, f64::min),
            per_chain.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        ));
    }
    let drift = drift(&loss_traces, n_beta);
    if drift > 4.0 {
        warnings.push(format!(
            "the chains' losses still drift (first and second half of the draws differ by \
             {drift:.1} standard errors): raise burn_in or step_size"
        ));
    }
    Ok(Llc {
        lambda,
        se,
        per_chain,
        loss_at_center,
        n_beta,
        loss_traces,
        divergences,
        warnings,
    })
}

/// The variance of the chains' λ̂ over what each chain's own noise implies (batch means of
/// its trace, 20 batches), with the 99.9 % point of that ratio for chains that agree
/// (F(k − 1, 19k)); `Some` when the ratio passes it.
fn spread_excess(traces: &[Vec<f64>], per_chain: &[f64], n_beta: f64) -> Option<(f64, f64)> {
    use statrs::distribution::{ContinuousCDF, FisherSnedecor};
    const BATCHES: usize = 20;
    if per_chain.len() < 2 || traces.iter().any(|t| t.len() < BATCHES) {
        return None;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let var = |v: &[f64]| {
        let m = mean(v);
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64
    };
    let noise: Vec<f64> = traces
        .iter()
        .map(|t| {
            let size = t.len() / BATCHES;
            let batches: Vec<f64> = t.chunks_exact(size).take(BATCHES).map(mean).collect();
            n_beta * n_beta * var(&batches) / BATCHES as f64
        })
        .collect();
    let within = mean(&noise);
    if within <= 0.0 {
        return None;
    }
    let ratio = var(per_chain) / within;
    let dof = (per_chain.len() - 1) as f64;
    // Both variances are estimated: the ratio is F(k − 1, k·(batches − 1)) for chains that agree.
    let within_dof = (per_chain.len() * (BATCHES - 1)) as f64;
    let limit = FisherSnedecor::new(dof, within_dof)
        .ok()?
        .inverse_cdf(0.999);
    (ratio > limit).then_some((ratio, limit))
}

/// How far apart the first and second halves of the chains' losses are, in standard errors of
/// the difference (from the chains' spread of it).
fn drift(traces: &[Vec<f64>], n_beta: f64) -> f64 {
    let diffs: Vec<f64> = traces
        .iter()
        .filter(|t| t.len() >= 4)
        .map(|t| {
            let h = t.len() / 2;
            let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
            n_beta * (mean(&t[h..]) - mean(&t[..h]))
        })
        .collect();
    if diffs.len() < 2 {
        return 0.0;
    }
    let k = diffs.len() as f64;
    let mean = diffs.iter().sum::<f64>() / k;
    let var = diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (k - 1.0);
    if var > 0.0 {
        mean.abs() / (var / k).sqrt()
    } else {
        0.0
    }
}
