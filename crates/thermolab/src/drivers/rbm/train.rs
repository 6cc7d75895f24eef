//! RBM training: minibatch stochastic gradient ascent on the log-likelihood with the negative
//! phase from contrastive divergence (CD-k), persistent chains (PCD-k) or persistent chains
//! with replica exchange across temperatures (tempered PCD); momentum, weight decay and a
//! linearly decaying learning rate.
//!
//! The gradient of the average log-likelihood is `⟨v hᵀ⟩_data − ⟨v hᵀ⟩_model` (with `v/σ` for
//! Gaussian units); the data term uses `p(h|v)` exactly and the model term uses `p(h|v)` at the
//! chains' visible states.
//!
//! # References
//! - G. E. Hinton (2002), "Training products of experts by minimizing contrastive divergence".
//! - T. Tieleman (2008), "Training restricted Boltzmann machines using approximations to the
//!   likelihood gradient" (PCD).
//! - G. Desjardins, A. Courville, Y. Bengio, P. Vincent & O. Delalleau (2010), "Tempered Markov
//!   chain Monte Carlo for training of restricted Boltzmann machines".

use crate::drivers::tempering::{Exchange, Family, JointChains, JointReplicas};
use crate::error::Error;
use crate::kernels::rbm::GibbsBatch;
use crate::rng::{self, FastRng, Purpose};
use crate::run::{Observer, RunContext, Termination};
use crate::settings::{nonzero, positive, SettingsError};
use crate::systems::rbm::dense::{gemm, sigmoid_in_place, View};
use crate::systems::rbm::{Rbm, RbmError, VisibleKind};
use rand::seq::SliceRandom;
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Where the negative phase comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Contrastive divergence: chains restart at the minibatch and run `k` steps.
    Cd,
    /// Persistent CD: chains carry over between updates.
    Pcd,
    /// Persistent CD with replica exchange between `replicas` temperatures.
    Tempered,
}

/// Settings of RBM training (plain data; see [`TrainSettings::validate`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainSettings {
    /// The negative phase.
    pub method: Method,
    /// Gibbs steps per update.
    pub k: usize,
    /// Passes over the data.
    pub epochs: usize,
    /// Rows per minibatch.
    pub batch_size: usize,
    /// Persistent chains (PCD and tempered; 0 = the batch size).
    pub chains: usize,
    /// Temperatures for tempered PCD (β spaced evenly from 1 down to `beta_min`).
    pub replicas: usize,
    /// Smallest inverse temperature for tempered PCD.
    pub beta_min: f64,
    /// Initial learning rate.
    pub learning_rate: f64,
    /// Learning rate at the end, as a fraction of the initial one (linear decay; 1 = constant).
    pub final_learning_rate_fraction: f64,
    /// Momentum (0 = plain SGD).
    pub momentum: f64,
    /// L2 weight decay on `W`.
    pub weight_decay: f64,
    /// Standard deviation of the initial weights.
    pub init_std: f64,
    /// Initialise visible biases to the data's base rates (else zero).
    pub base_rate_init: bool,
    /// Shuffle the rows every epoch (else keep the data order).
    pub shuffle: bool,
}

impl Default for TrainSettings {
    fn default() -> Self {
        Self {
            method: Method::Pcd,
            k: 1,
            epochs: 10,
            batch_size: 20,
            chains: 0,
            replicas: 8,
            beta_min: 0.5,
            learning_rate: 0.05,
            final_learning_rate_fraction: 1.0,
            momentum: 0.5,
            weight_decay: 1e-4,
            init_std: 0.01,
            base_rate_init: true,
            shuffle: true,
        }
    }
}

/// Settings that passed [`TrainSettings::validate`] (not deserialisable: a resumed trainer
/// validates its settings again).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidTrainSettings(TrainSettings);

impl ValidTrainSettings {
    /// The settings.
    pub fn get(&self) -> &TrainSettings {
        &self.0
    }
}

impl TrainSettings {
    /// Checks every field.
    pub fn validate(self) -> Result<ValidTrainSettings, SettingsError> {
        nonzero("k", self.k)?;
        nonzero("epochs", self.epochs)?;
        nonzero("batch_size", self.batch_size)?;
        positive("learning_rate", self.learning_rate)?;
        if !(0.0..=1.0).contains(&self.final_learning_rate_fraction) {
            return Err(SettingsError::new(
                "final_learning_rate_fraction",
                format!(
                    "must lie in [0, 1], got {}",
                    self.final_learning_rate_fraction
                ),
            ));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(SettingsError::new(
                "momentum",
                format!("must lie in [0, 1), got {}", self.momentum),
            ));
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(SettingsError::new(
                "weight_decay",
                "must be a finite number >= 0",
            ));
        }
        if !(self.init_std >= 0.0 && self.init_std.is_finite()) {
            return Err(SettingsError::new(
                "init_std",
                "must be a finite number >= 0",
            ));
        }
        if self.method == Method::Tempered {
            if self.replicas < 2 {
                return Err(SettingsError::new(
                    "replicas",
                    "tempered PCD needs at least 2",
                ));
            }
            if !(self.beta_min > 0.0 && self.beta_min < 1.0) {
                return Err(SettingsError::new(
                    "beta_min",
                    format!("must lie in (0, 1), got {}", self.beta_min),
                ));
            }
        }
        Ok(ValidTrainSettings(self))
    }
}

/// What one epoch did (passed to the caller's observer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// 1-based epoch.
    pub epoch: usize,
    /// Parameter updates so far.
    pub updates: u64,
    /// Learning rate at the end of the epoch.
    pub learning_rate: f64,
    /// Seconds of training so far (observer time excluded).
    pub seconds: f64,
    /// Replica-exchange acceptance rate per adjacent pair this epoch (tempered PCD only).
    pub swap_rates: Vec<f64>,
}

/// How training ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSummary {
    /// Why it stopped.
    pub termination: Termination,
    /// Epochs completed.
    pub epochs: usize,
    /// Parameter updates.
    pub updates: u64,
    /// Seconds of training (observer time excluded).
    pub seconds: f64,
}

/// A machine for `data` (`n × V` rows): weights N(0, `init_std`²) from the run's initialisation
/// stream and, if asked, visible biases at the data's base rates.
pub fn init_rbm(
    visible: VisibleKind,
    n_visible: usize,
    n_hidden: usize,
    data: &[f32],
    settings: &ValidTrainSettings,
    seed: u64,
) -> Result<Rbm, RbmError> {
    let s = settings.get();
    let mut r = rng::init_stream(seed);
    let mut m = Rbm::random(visible, n_visible, n_hidden, s.init_std, &mut r)?;
    if s.base_rate_init {
        m.b = m.base_rate_biases(data);
    }
    Ok(m)
}

/// Everything a training run needs to continue: the machine, its settings (as given; validated
/// again by [`RbmTrainer::resume`]), momenta, persistent chains and generators.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainerState {
    /// The machine being trained.
    pub rbm: Rbm,
    /// The settings.
    pub settings: TrainSettings,
    vel_w: Vec<f32>,
    vel_b: Vec<f32>,
    vel_c: Vec<f32>,
    /// Persistent chains, one batch per temperature (empty for CD).
    chains: Vec<JointChains>,
    betas: Vec<f32>,
    chain_rng: FastRng,
    order_rng: rng::Rng,
    /// Replica exchange of tempered PCD.
    exchange: Option<Exchange>,
    /// Epochs completed.
    pub epoch: usize,
    updates: u64,
    seconds: f64,
}

/// An RBM training run: its state and its checked settings. Checkpoint it between epochs
/// ([`RbmTrainer::state`]) and resume to the same result ([`RbmTrainer::resume`]).
#[derive(Debug, Clone)]
pub struct RbmTrainer {
    state: TrainerState,
    settings: ValidTrainSettings,
}

/// What training reports to observers after each epoch.
#[derive(Debug)]
pub struct EpochEvent<'a> {
    /// The epoch's report.
    pub report: &'a EpochReport,
    /// The machine after the epoch.
    pub rbm: &'a Rbm,
    /// The trainer's state (for checkpoints).
    pub state: &'a TrainerState,
}

/// Scratch buffers of one update.
#[derive(Default)]
struct Scratch {
    vpos: Vec<f32>,
    ppos: Vec<f32>,
    scaled: Vec<f32>,
    grad_w: Vec<f32>,
    grad_b: Vec<f32>,
    grad_c: Vec<f32>,
    cd: Option<GibbsBatch>,
}

/// Persistent chains per temperature: `chains`, or one per batch row when it is 0.
fn persistent_chains(s: &TrainSettings) -> usize {
    if s.chains == 0 {
        s.batch_size
    } else {
        s.chains
    }
}

/// Inverse temperatures of the persistent chains: none for CD, 1 for PCD, `replicas` evenly
/// from 1 down to `beta_min` for tempered PCD.
fn chain_betas(s: &TrainSettings) -> Vec<f32> {
    match s.method {
        Method::Cd => Vec::new(),
        Method::Pcd => vec![1.0],
        Method::Tempered => (0..s.replicas)
            .map(|r| (1.0 - (1.0 - s.beta_min) * r as f64 / (s.replicas - 1) as f64) as f32)
            .collect(),
    }
}

impl RbmTrainer {
    /// A trainer for `rbm` on `data` (`n × V`; used to start the persistent chains), with the
    /// streams of seed `seed`.
    pub fn new(
        rbm: Rbm,
        data: &[f32],
        settings: ValidTrainSettings,
        seed: u64,
    ) -> Result<Self, Error> {
        rbm.validate()?;
        let n = rbm.check_data(data)?;
        if n == 0 {
            return Err(SettingsError::new("data", "the training data has no rows").into());
        }
        let s = settings.get().clone();
        let nv = rbm.n_visible;
        let mut start_rng = rng::stream(seed, Purpose::Chain, 0);
        let (n_chains, betas) = (persistent_chains(&s), chain_betas(&s));
        let mut chain_rng = rng::fast_from(&mut start_rng);
        let mut chains = Vec::new();
        for &beta in &betas {
            let mut v0 = Vec::with_capacity(n_chains * nv);
            for _ in 0..n_chains {
                let row = start_rng.random_range(0..n);
                v0.extend_from_slice(&data[row * nv..(row + 1) * nv]);
            }
            let mut g = GibbsBatch::new(&rbm, v0);
            g.sample_hidden(&rbm, beta, &mut chain_rng);
            chains.push(JointChains {
                g,
                energy: Vec::new(),
            });
        }
        let exchange = (s.method == Method::Tempered).then(|| {
            Exchange::new(
                betas.len(),
                n_chains,
                rng::stream(seed, Purpose::Training, 1),
            )
        });
        Ok(Self {
            state: TrainerState {
                vel_w: vec![0.0; rbm.w.len()],
                vel_b: vec![0.0; rbm.b.len()],
                vel_c: vec![0.0; rbm.c.len()],
                rbm,
                settings: s,
                chains,
                betas,
                chain_rng,
                order_rng: rng::stream(seed, Purpose::Training, 0),
                exchange,
                epoch: 0,
                updates: 0,
                seconds: 0.0,
            },
            settings,
        })
    }

    /// A trainer continuing from `state` (e.g. read from a checkpoint): its settings are
    /// validated again and its arrays checked against its machine.
    pub fn resume(state: TrainerState) -> Result<Self, Error> {
        let settings = state.settings.clone().validate()?;
        state.rbm.validate()?;
        let s = settings.get();
        let (nv, nh) = (state.rbm.n_visible, state.rbm.n_hidden);
        let betas = chain_betas(s);
        let rungs = betas.len();
        let lanes = persistent_chains(s);
        let shapes_ok = state.vel_w.len() == nv * nh
            && state.vel_b.len() == nv
            && state.vel_c.len() == nh
            && state.chains.len() == rungs
            && state.betas == betas
            && state
                .chains
                .iter()
                .all(|c| c.g.n == lanes && c.g.v.len() == lanes * nv && c.g.h.len() == lanes * nh)
            && match (&state.exchange, s.method) {
                (Some(x), Method::Tempered) => x.fits(rungs, lanes),
                (None, Method::Cd | Method::Pcd) => true,
                _ => false,
            };
        if !shapes_ok {
            return Err(SettingsError::new(
                "checkpoint",
                "its arrays or chains do not fit its machine and settings",
            )
            .into());
        }
        let mut t = Self { state, settings };
        let rbm = t.state.rbm.clone();
        for c in &mut t.state.chains {
            c.g.update_activations(&rbm);
        }
        Ok(t)
    }

    /// The machine being trained.
    pub fn rbm(&self) -> &Rbm {
        &self.state.rbm
    }

    /// The state to checkpoint.
    pub fn state(&self) -> &TrainerState {
        &self.state
    }

    /// Epochs completed so far.
    pub fn epoch(&self) -> usize {
        self.state.epoch
    }

    /// The settings.
    pub fn settings(&self) -> &TrainSettings {
        self.settings.get()
    }

    /// Visible states of the persistent chains at β = 1 (`chains × V`; empty for CD).
    pub fn fantasy(&self) -> &[f32] {
        self.state.chains.first().map(|c| &c.g.v[..]).unwrap_or(&[])
    }

    /// Runs the remaining epochs; the observer sees every epoch and the context may stop the run
    /// between epochs. A run whose weights become non-finite ends as `Diverged`.
    pub fn run<O>(&mut self, data: &[f32], ctx: &mut RunContext<O>) -> Result<TrainSummary, Error>
    where
        O: for<'a> Observer<EpochEvent<'a>>,
    {
        let total = self.settings.get().epochs;
        self.run_until(data, total, ctx)
    }

    /// Runs epochs until `until` (capped at the configured number) have completed.
    pub fn run_until<O>(
        &mut self,
        data: &[f32],
        until: usize,
        ctx: &mut RunContext<O>,
    ) -> Result<TrainSummary, Error>
    where
        O: for<'a> Observer<EpochEvent<'a>>,
    {
        let n = self.state.rbm.check_data(data)?;
        if n == 0 {
            return Err(SettingsError::new("data", "the training data has no rows").into());
        }
        let mut scratch = Scratch::default();
        let total = self.settings.get().epochs.min(until);
        let mut termination = Termination::Finished;
        ctx.init::<EpochEvent<'_>>();
        while self.state.epoch < total {
            let report = self.run_epoch(data, n, &mut scratch);
            let r = &self.state.rbm;
            let finite = r.w.iter().chain(&r.b).chain(&r.c).all(|x| x.is_finite());
            if !finite {
                termination = Termination::Diverged;
                break;
            }
            let ev = EpochEvent {
                report: &report,
                rbm: &self.state.rbm,
                state: &self.state,
            };
            if let Some(t) = ctx.step(&ev, self.state.updates) {
                if self.state.epoch < total {
                    termination = t;
                    break;
                }
            }
        }
        ctx.finish::<EpochEvent<'_>>(termination);
        Ok(TrainSummary {
            termination,
            epochs: self.state.epoch,
            updates: self.state.updates,
            seconds: self.state.seconds,
        })
    }

    fn learning_rate(&self, total_updates: u64) -> f64 {
        let s = self.settings.get();
        let t = (self.state.updates as f64 / total_updates.max(1) as f64).min(1.0);
        s.learning_rate * (1.0 - (1.0 - s.final_learning_rate_fraction) * t)
    }

    fn run_epoch(&mut self, data: &[f32], n: usize, scratch: &mut Scratch) -> EpochReport {
        let start = Instant::now();
        let s = self.settings.get().clone();
        let nv = self.state.rbm.n_visible;
        let mut order: Vec<usize> = (0..n).collect();
        if s.shuffle {
            order.shuffle(&mut self.state.order_rng);
        }
        let batches = n.div_ceil(s.batch_size);
        let total_updates = (batches * s.epochs) as u64;
        if let Some(x) = self.state.exchange.as_mut() {
            x.reset_counts();
        }
        for batch in order.chunks(s.batch_size) {
            scratch.vpos.clear();
            for &r in batch {
                scratch.vpos.extend_from_slice(&data[r * nv..(r + 1) * nv]);
            }
            let lr = self.learning_rate(total_updates);
            self.update(&s, lr as f32, scratch);
        }
        self.state.epoch += 1;
        self.state.seconds += start.elapsed().as_secs_f64();
        EpochReport {
            epoch: self.state.epoch,
            updates: self.state.updates,
            learning_rate: self.learning_rate(total_updates),
            seconds: self.state.seconds,
            swap_rates: self.state.exchange.as_ref().map_or_else(Vec::new, |x| {
                x.rejection().iter().map(|r| 1.0 - r).collect()
            }),
        }
    }

    fn update(&mut self, s: &TrainSettings, lr: f32, sc: &mut Scratch) {
        let st = &mut self.state;
        let rbm = &st.rbm;
        let (nv, nh) = (rbm.n_visible, rbm.n_hidden);
        let b = sc.vpos.len() / nv;
        // Positive phase: p(h | v) at the data.
        rbm.hidden_probabilities(&sc.vpos, &mut sc.ppos);
        // Negative phase.
        let neg: &GibbsBatch = match s.method {
            Method::Cd => {
                let g = sc
                    .cd
                    .get_or_insert_with(|| GibbsBatch::new(rbm, sc.vpos.clone()));
                if g.n == b {
                    g.v.copy_from_slice(&sc.vpos);
                } else {
                    *g = GibbsBatch::new(rbm, sc.vpos.clone());
                }
                g.set_hidden_probabilities(&sc.ppos, &mut st.chain_rng);
                for _ in 0..s.k {
                    g.sweep(rbm, 1.0, &mut st.chain_rng);
                }
                g
            }
            Method::Pcd => {
                for _ in 0..s.k {
                    st.chains[0].g.sweep(rbm, 1.0, &mut st.chain_rng);
                }
                &st.chains[0].g
            }
            Method::Tempered => {
                let family = JointReplicas {
                    rbm,
                    chains: st.chains[0].g.n,
                };
                let ladder: Vec<f64> = st.betas.iter().map(|&b| f64::from(b)).collect();
                for _ in 0..s.k {
                    for (c, &beta) in st.chains.iter_mut().zip(&ladder) {
                        family
                            .advance(&mut st.chain_rng, c, beta, false)
                            .expect("block Gibbs cannot fail");
                    }
                    if let Some(x) = st.exchange.as_mut() {
                        x.round(&family, &ladder, &mut st.chains);
                    }
                }
                // Statistics at β = 1 from the states now in the first replica.
                let g = &mut st.chains[0].g;
                g.prob.clear();
                g.prob.extend_from_slice(&g.act);
                sigmoid_in_place(&mut g.prob);
                &st.chains[0].g
            }
        };
        let k = neg.n;
        // Gradient of W: (v/σ)ᵀ p(h|v) averaged over data minus over chains.
        sc.grad_w.resize(nv * nh, 0.0);
        let vpos_s = rbm.scaled_visible(&sc.vpos, &mut sc.scaled);
        gemm(
            &mut sc.grad_w,
            View::t(vpos_s, b, nv),
            View::n(&sc.ppos, b, nh),
            1.0 / b as f32,
            false,
        );
        let vneg_s = rbm.scaled_visible(&neg.v, &mut sc.scaled);
        gemm(
            &mut sc.grad_w,
            View::t(vneg_s, k, nv),
            View::n(&neg.prob, k, nh),
            -1.0 / k as f32,
            true,
        );
        let gb = &mut sc.grad_b;
        gb.clear();
        gb.resize(nv, 0.0);
        for row in sc.vpos.chunks_exact(nv) {
            for (g, &x) in gb.iter_mut().zip(row) {
                *g += x / b as f32;
            }
        }
        for row in neg.v.chunks_exact(nv) {
            for (g, &x) in gb.iter_mut().zip(row) {
                *g -= x / k as f32;
            }
        }
        if rbm.visible == VisibleKind::Gaussian {
            for (g, &sg) in gb.iter_mut().zip(&rbm.sigma) {
                *g /= sg * sg;
            }
        }
        let gc = &mut sc.grad_c;
        gc.clear();
        gc.resize(nh, 0.0);
        for row in sc.ppos.chunks_exact(nh) {
            for (g, &x) in gc.iter_mut().zip(row) {
                *g += x / b as f32;
            }
        }
        for row in neg.prob.chunks_exact(nh) {
            for (g, &x) in gc.iter_mut().zip(row) {
                *g -= x / k as f32;
            }
        }
        let m = s.momentum as f32;
        let wd = s.weight_decay as f32;
        let rbm = &mut st.rbm;
        for ((w, v), &g) in rbm.w.iter_mut().zip(st.vel_w.iter_mut()).zip(&sc.grad_w) {
            *v = m * *v + lr * (g - wd * *w);
            *w += *v;
        }
        for ((p, v), &g) in rbm.b.iter_mut().zip(st.vel_b.iter_mut()).zip(&sc.grad_b) {
            *v = m * *v + lr * g;
            *p += *v;
        }
        for ((p, v), &g) in rbm.c.iter_mut().zip(st.vel_c.iter_mut()).zip(&sc.grad_c) {
            *v = m * *v + lr * g;
            *p += *v;
        }
        st.updates += 1;
    }
}
