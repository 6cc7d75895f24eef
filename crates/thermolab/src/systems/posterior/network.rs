//! The posterior of a dense network of any depth on real data, for stochastic-gradient MCMC:
//! `E(θ) = −ln p(D | θ) − ln p(θ)` with a categorical (softmax), Gaussian or Student-t likelihood
//! and a Gaussian prior with a scale per layer. On a minibatch B of the N rows the likelihood
//! term is `(N/|B|)·Σ_{i∈B} −ln p(y_i | x_i, θ)`, an unbiased estimate of the full sum, so β
//! multiplies the *summed* energy whatever the batch (thermolab's temperature convention; see
//! `docs/bayesian-deep-learning.md` for the conversions to `posteriors` and devinterp).
//!
//! The work is in f32 with the matrix products through faer (rows × units, row-major), as the
//! PyTorch stacks run by default; losses are summed in f64 and the gradient is returned in f64.
//! The parameter layout is that of [`crate::nn`] (per layer `W` as `n_out × n_in`, then `b`).

pub use super::augment::Augmentation;
pub use super::prior::GaussianPrior;
use crate::energy::{check_dim, Energy, EnergyError, Gradient};
use crate::gemm::{gemm, View};
use crate::nn::{Activation, Architecture, LayerSpan, MinibatchEnergy};
use crate::systems::ModelError;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The distribution of a target given the network's outputs `f`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Likelihood {
    /// `y ~ Categorical(softmax f)`: the outputs are logits, the target a class index.
    Categorical,
    /// `y ~ N(f, sd²)` per output.
    Gaussian {
        /// The noise standard deviation.
        sd: f64,
    },
    /// `y ~ f + scale·t_dof` per output: a regression likelihood robust to outliers.
    StudentT {
        /// Degrees of freedom ν.
        dof: f64,
        /// The scale s.
        scale: f64,
    },
}

impl Likelihood {
    fn check(&self) -> Result<(), ModelError> {
        let ok = |v: f64| v > 0.0 && v.is_finite();
        match *self {
            Self::Categorical => Ok(()),
            Self::Gaussian { sd } if ok(sd) => Ok(()),
            Self::Gaussian { .. } => Err(ModelError::new(
                "noise_sd",
                "the Gaussian likelihood's sd must be finite and > 0",
            )),
            Self::StudentT { dof, scale } if ok(dof) && ok(scale) => Ok(()),
            Self::StudentT { .. } => Err(ModelError::new(
                "dof",
                "the Student-t likelihood's dof and scale must be finite and > 0",
            )),
        }
    }

    /// The likelihood's name (`categorical`, `gaussian`, `student_t`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Categorical => "categorical",
            Self::Gaussian { .. } => "gaussian",
            Self::StudentT { .. } => "student_t",
        }
    }

    /// The constant part of `−ln p(y | f)` per target value.
    fn constant(&self) -> f64 {
        let ln_2pi = (2.0 * std::f64::consts::PI).ln();
        match *self {
            Self::Categorical => 0.0,
            Self::Gaussian { sd } => sd.ln() + 0.5 * ln_2pi,
            Self::StudentT { dof, scale } => {
                use statrs::function::gamma::ln_gamma;
                ln_gamma(0.5 * dof) - ln_gamma(0.5 * (dof + 1.0))
                    + 0.5 * (dof * std::f64::consts::PI).ln()
                    + scale.ln()
            }
        }
    }
}

/// The data of a network posterior: inputs in f32 and the targets its likelihood reads.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkData {
    /// Inputs, `n × n_inputs`, row-major.
    pub x: Vec<f32>,
    /// Number of rows.
    pub n: usize,
    /// Input columns.
    pub n_inputs: usize,
    /// Targets.
    pub targets: Targets,
}

/// Targets of a [`NetworkData`].
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// A class index per row (categorical likelihood).
    Classes(Vec<u32>),
    /// `n × n_outputs` values, row-major (Gaussian and Student-t likelihoods).
    Values {
        /// The values.
        y: Vec<f32>,
        /// Values per row.
        n_outputs: usize,
    },
}

impl NetworkData {
    /// Rows of inputs with class labels, checking shapes and finiteness.
    pub fn classes(x: Vec<f32>, n_inputs: usize, labels: Vec<u32>) -> Result<Self, ModelError> {
        let n = labels.len();
        Self::checked(x, n, n_inputs, Targets::Classes(labels))
    }

    /// Rows of inputs with `n_outputs` real targets each, checking shapes and finiteness.
    pub fn values(
        x: Vec<f32>,
        n_inputs: usize,
        y: Vec<f32>,
        n_outputs: usize,
    ) -> Result<Self, ModelError> {
        if n_outputs == 0 || !y.len().is_multiple_of(n_outputs) {
            return Err(ModelError::new(
                "targets",
                format!("{} target values do not make rows of {n_outputs}", y.len()),
            ));
        }
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::new(
                "targets",
                format!(
                    "target value {} (row {}) is not finite",
                    i,
                    i / n_outputs + 1
                ),
            ));
        }
        let n = y.len() / n_outputs;
        Self::checked(x, n, n_inputs, Targets::Values { y, n_outputs })
    }

    /// A data set's columns: class indices when `classes` (one integer target column), real
    /// targets otherwise.
    pub fn from_dataset(data: &crate::data::Dataset, classes: bool) -> Result<Self, ModelError> {
        let x = data.x.iter().map(|&v| v as f32).collect();
        if !classes {
            let y = data.y.iter().map(|&v| v as f32).collect();
            return Self::values(x, data.n_inputs, y, data.n_targets);
        }
        if data.n_targets != 1 {
            return Err(ModelError::new(
                "targets",
                "a classifier needs exactly one target column of class indices",
            ));
        }
        let mut labels = Vec::with_capacity(data.n);
        for (i, &v) in data.y.iter().enumerate() {
            if !(v >= 0.0 && v.fract() == 0.0 && v < u32::MAX as f64) {
                return Err(ModelError::new(
                    "targets",
                    format!("row {} has class label {v}, expected an integer ≥ 0", i + 1),
                ));
            }
            labels.push(v as u32);
        }
        Self::classes(x, data.n_inputs, labels)
    }

    /// Labelled images (MNIST, digits) as rows of pixels with class labels.
    pub fn from_images(images: &crate::data::ImageSet) -> Result<Self, ModelError> {
        let labels = images
            .labels
            .as_ref()
            .ok_or_else(|| ModelError::new("labels", "the images carry no labels"))?;
        Self::classes(
            images.pixels.clone(),
            images.width(),
            labels.iter().map(|&l| l as u32).collect(),
        )
    }

    fn checked(
        x: Vec<f32>,
        n: usize,
        n_inputs: usize,
        targets: Targets,
    ) -> Result<Self, ModelError> {
        if n == 0 || n_inputs == 0 {
            return Err(ModelError::new(
                "data",
                "the data set has no rows or no inputs",
            ));
        }
        if x.len() != n * n_inputs {
            return Err(ModelError::new(
                "data",
                format!(
                    "{} input values are not {n} rows of {n_inputs} (one per target row)",
                    x.len()
                ),
            ));
        }
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::new(
                "data",
                format!(
                    "input value (row {}, column {}) is not finite",
                    i / n_inputs + 1,
                    i % n_inputs + 1
                ),
            ));
        }
        Ok(Self {
            x,
            n,
            n_inputs,
            targets,
        })
    }

    /// Rows `rows` of this set, as a new set (a train/test split).
    pub fn select(&self, rows: &[usize]) -> NetworkData {
        let d = self.n_inputs;
        let mut x = Vec::with_capacity(rows.len() * d);
        for &r in rows {
            x.extend_from_slice(&self.x[r * d..(r + 1) * d]);
        }
        let targets = match &self.targets {
            Targets::Classes(c) => Targets::Classes(rows.iter().map(|&r| c[r]).collect()),
            Targets::Values { y, n_outputs } => {
                let k = *n_outputs;
                let mut v = Vec::with_capacity(rows.len() * k);
                for &r in rows {
                    v.extend_from_slice(&y[r * k..(r + 1) * k]);
                }
                Targets::Values { y: v, n_outputs: k }
            }
        };
        NetworkData {
            x,
            n: rows.len(),
            n_inputs: d,
            targets,
        }
    }
}

/// The posterior of a dense network (see the module documentation).
///
/// ```
/// use thermolab::prelude::*;
/// use thermolab::nn::{Activation, Architecture, MinibatchEnergy};
/// use thermolab::systems::posterior::{GaussianPrior, Likelihood, NetworkData, NetworkPosterior};
///
/// // Four points of XOR, a 2-8-2 tanh classifier, a N(0, 1) prior.
/// let x = vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
/// let data = NetworkData::classes(x, 2, vec![0, 1, 1, 0])?;
/// let arch = Architecture::new(vec![2, 8, 2], Activation::Tanh);
/// let prior = GaussianPrior::isotropic(&arch, 1.0);
/// let mut post = NetworkPosterior::new(arch, data.into(), Likelihood::Categorical, prior)?;
/// let theta = vec![0.1; post.dim()];
/// let mut grad = vec![0.0; post.dim()];
/// let full = post.energy_grad(&theta, &mut grad)?;
/// // On a batch of two rows the likelihood is scaled by 4/2.
/// post.set_batch(Some(&[0, 3]));
/// let half = post.energy(&theta)?;
/// assert!(full.is_finite() && half.is_finite());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct NetworkPosterior {
    arch: Architecture,
    spans: Vec<LayerSpan>,
    likelihood: Likelihood,
    prior: GaussianPrior,
    data: Arc<NetworkData>,
    batch: Option<Vec<usize>>,
    augment: Option<Augmentation>,
    with_prior: bool,
    // The chain this copy serves (see MinibatchEnergy::set_chain).
    chain: u64,
    // Minibatches set so far: batch k's shifts come from stream (seed, augment, k).
    batches_set: u64,
    work: Work,
}

/// A posterior predictive (see [`NetworkPosterior::predictive`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Predictive {
    /// Averaged class probabilities, `rows × classes`.
    Classes(Vec<f64>),
    /// Predictive means and sds, `rows × outputs` each.
    Values {
        /// The means.
        mean: Vec<f64>,
        /// The sds.
        sd: Vec<f64>,
    },
}

/// Buffers reused across evaluations.
#[derive(Debug, Clone, Default)]
struct Work {
    /// The parameters in f32.
    w: Vec<f32>,
    /// The gradient in f32.
    g: Vec<f32>,
    /// The batch's inputs, gathered.
    xb: Vec<f32>,
    /// Each layer's outputs (rows × units); the last holds the network's outputs.
    acts: Vec<Vec<f32>>,
    /// ∂E/∂(a layer's pre-activations), rows × units.
    delta: Vec<f32>,
    back: Vec<f32>,
}

impl NetworkPosterior {
    /// The posterior of `arch` on `data`, checking that they fit: inputs, outputs (one per class
    /// for the categorical likelihood, which must cover every label), an identity output layer,
    /// the likelihood's and prior's parameters.
    pub fn new(
        arch: Architecture,
        data: Arc<NetworkData>,
        likelihood: Likelihood,
        prior: GaussianPrior,
    ) -> Result<Self, ModelError> {
        likelihood.check()?;
        if arch.sizes.len() < 2 || arch.sizes.contains(&0) {
            return Err(ModelError::new(
                "arch",
                format!("`{arch}` needs at least two layers of at least one unit"),
            ));
        }
        prior.check(&arch)?;
        if arch.output != Activation::Identity {
            return Err(ModelError::new(
                "arch",
                "the output layer must be linear (logits or means); the likelihood links them",
            ));
        }
        if data.n_inputs != arch.n_inputs() {
            return Err(ModelError::new(
                "arch",
                format!(
                    "the data have {} input column(s) but `{arch}` expects {}",
                    data.n_inputs,
                    arch.n_inputs()
                ),
            ));
        }
        let k = arch.n_outputs();
        match (&data.targets, likelihood) {
            (Targets::Classes(labels), Likelihood::Categorical) => {
                if let Some((i, l)) = labels.iter().enumerate().find(|(_, &l)| l as usize >= k) {
                    return Err(ModelError::new(
                        "targets",
                        format!("row {} has class {l}, but `{arch}` has {k} outputs", i + 1),
                    ));
                }
            }
            (Targets::Values { n_outputs, .. }, Likelihood::Gaussian { .. })
            | (Targets::Values { n_outputs, .. }, Likelihood::StudentT { .. }) => {
                if *n_outputs != k {
                    return Err(ModelError::new(
                        "targets",
                        format!("the data have {n_outputs} target(s) but `{arch}` has {k} outputs"),
                    ));
                }
            }
            (Targets::Classes(_), _) => {
                return Err(ModelError::new(
                    "likelihood",
                    "class labels need the categorical likelihood",
                ))
            }
            (Targets::Values { .. }, _) => {
                return Err(ModelError::new(
                    "likelihood",
                    "the categorical likelihood needs class labels",
                ))
            }
        }
        Ok(Self {
            spans: arch.layers(),
            arch,
            likelihood,
            prior,
            data,
            batch: None,
            augment: None,
            with_prior: true,
            chain: 0,
            batches_set: 0,
            work: Work::default(),
        })
    }

    /// The same posterior with its minibatches augmented (see [`Augmentation`]); the images
    /// must fill the rows' inputs and the shift be below their side.
    pub fn with_augmentation(mut self, augment: Augmentation) -> Result<Self, ModelError> {
        if augment.height * augment.width != self.data.n_inputs {
            return Err(ModelError::new(
                "augment",
                format!(
                    "{} × {} images do not fit rows of {} inputs",
                    augment.height, augment.width, self.data.n_inputs
                ),
            ));
        }
        if augment.max_shift == 0 || augment.max_shift >= augment.height.min(augment.width) {
            return Err(ModelError::new(
                "augment_shift",
                format!(
                    "the shift must be at least 1 and below the image's side ({})",
                    augment.height.min(augment.width)
                ),
            ));
        }
        self.augment = Some(augment);
        Ok(self)
    }

    /// The same posterior without its prior: the energy is the negative log-likelihood alone
    /// (N/B-scaled on a minibatch), the loss whose learning coefficient
    /// [`crate::drivers::llc`] estimates.
    pub fn likelihood_only(mut self) -> Self {
        self.with_prior = false;
        self
    }

    /// The same posterior with plain minibatches.
    pub fn without_augmentation(mut self) -> Self {
        self.augment = None;
        self
    }

    /// The augmentation of minibatches, if any.
    pub fn augmentation(&self) -> Option<&Augmentation> {
        self.augment.as_ref()
    }

    /// The architecture.
    pub fn architecture(&self) -> &Architecture {
        &self.arch
    }

    /// The likelihood.
    pub fn likelihood(&self) -> Likelihood {
        self.likelihood
    }

    /// The prior.
    pub fn prior(&self) -> &GaussianPrior {
        &self.prior
    }

    /// The data.
    pub fn data(&self) -> &Arc<NetworkData> {
        &self.data
    }

    /// The network's outputs (logits or means, `rows × n_outputs`) at `theta` for `rows` rows
    /// of inputs `x` (row-major), computed in blocks of 1 000 rows.
    pub fn outputs(&mut self, theta: &[f64], x: &[f32]) -> Result<Vec<f32>, EnergyError> {
        check_dim(self.arch.n_params(), theta)?;
        let d = self.arch.n_inputs();
        if !x.len().is_multiple_of(d) {
            return Err(EnergyError::Data(format!(
                "{} input values are not rows of {d}",
                x.len()
            )));
        }
        let k = self.arch.n_outputs();
        let w = &mut self.work;
        w.w.clear();
        w.w.extend(theta.iter().map(|&v| v as f32));
        let mut out = Vec::with_capacity(x.len() / d * k);
        for block in x.chunks(1000 * d) {
            let rows = block.len() / d;
            forward(&self.arch, &self.spans, &w.w, block, rows, &mut w.acts);
            out.extend_from_slice(&w.acts[self.spans.len() - 1][..rows * k]);
        }
        Ok(out)
    }

    /// The posterior predictive on inputs `x` (row-major) from `samples` of θ: for the
    /// categorical likelihood the averaged class probabilities (`rows × classes`); otherwise
    /// the predictive mean and sd per value (`rows × outputs` each; the sd combines the
    /// samples' spread with the likelihood's noise, the Student-t's as its sd s·√(ν/(ν − 2)),
    /// infinite for ν ≤ 2).
    pub fn predictive<'s>(
        &mut self,
        samples: impl IntoIterator<Item = &'s [f64]>,
        x: &[f32],
    ) -> Result<Predictive, EnergyError> {
        let k = self.arch.n_outputs();
        let mut count = 0usize;
        let mut first = Vec::new();
        let mut second = Vec::new();
        for theta in samples {
            let out = self.outputs(theta, x)?;
            if first.is_empty() {
                first = vec![0.0f64; out.len()];
                second = vec![0.0f64; out.len()];
            }
            count += 1;
            match self.likelihood {
                Likelihood::Categorical => {
                    for (row, acc) in out.chunks_exact(k).zip(first.chunks_exact_mut(k)) {
                        let m = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
                        let z: f64 = row.iter().map(|&v| (v as f64 - m).exp()).sum();
                        for (a, &v) in acc.iter_mut().zip(row) {
                            *a += (v as f64 - m).exp() / z;
                        }
                    }
                }
                _ => {
                    for ((a, b), &v) in first.iter_mut().zip(second.iter_mut()).zip(&out) {
                        *a += v as f64;
                        *b += (v as f64) * (v as f64);
                    }
                }
            }
        }
        if count == 0 {
            return Err(EnergyError::Data("no samples to average".into()));
        }
        let c = count as f64;
        first.iter_mut().for_each(|v| *v /= c);
        let noise_var = match self.likelihood {
            Likelihood::Categorical => return Ok(Predictive::Classes(first)),
            Likelihood::Gaussian { sd } => sd * sd,
            Likelihood::StudentT { dof, scale } if dof > 2.0 => scale * scale * dof / (dof - 2.0),
            Likelihood::StudentT { .. } => f64::INFINITY,
        };
        let sd = first
            .iter()
            .zip(&second)
            .map(|(m, s2)| ((s2 / c - m * m).max(0.0) + noise_var).sqrt())
            .collect();
        Ok(Predictive::Values { mean: first, sd })
    }

    /// The energy (and its gradient) on the current batch.
    fn eval(&mut self, theta: &[f64], grad: Option<&mut [f64]>) -> Result<f64, EnergyError> {
        let p = self.arch.n_params();
        check_dim(p, theta)?;
        let data = &*self.data;
        let w = &mut self.work;
        w.w.clear();
        w.w.extend(theta.iter().map(|&v| v as f32));
        let d = data.n_inputs;
        let (input, rows): (&[f32], usize) = match &self.batch {
            None => (&data.x, data.n),
            Some(batch) => {
                w.xb.clear();
                match &self.augment {
                    None => {
                        for &r in batch {
                            w.xb.extend_from_slice(&data.x[r * d..(r + 1) * d]);
                        }
                    }
                    Some(aug) => {
                        use rand::Rng;
                        // Chain c's batch k: stream (seed, augment, c·2⁴⁰ + k).
                        let mut rng = crate::rng::stream(
                            aug.seed,
                            crate::rng::Purpose::Augment,
                            (self.chain << 40) | (self.batches_set & ((1 << 40) - 1)),
                        );
                        let s = aug.max_shift as i64;
                        w.xb.resize(batch.len() * d, 0.0);
                        for (i, &r) in batch.iter().enumerate() {
                            let (dy, dx) = (
                                rng.random_range(-s..=s) as isize,
                                rng.random_range(-s..=s) as isize,
                            );
                            aug.shift(
                                &data.x[r * d..(r + 1) * d],
                                dy,
                                dx,
                                &mut w.xb[i * d..(i + 1) * d],
                            );
                        }
                    }
                }
                (&w.xb, batch.len())
            }
        };
        if rows == 0 {
            return Err(EnergyError::Data("the batch is empty".into()));
        }
        forward(&self.arch, &self.spans, &w.w, input, rows, &mut w.acts);
        let scale = data.n as f64 / rows as f64;
        let last = self.spans.len() - 1;
        let k = self.arch.n_outputs();
        let want_grad = grad.is_some();
        if want_grad {
            w.delta.resize(rows * k, 0.0);
        }
        let nll = output_loss(
            self.likelihood,
            &data.targets,
            self.batch.as_deref(),
            &w.acts[last][..rows * k],
            k,
            scale as f32,
            if want_grad {
                Some(&mut w.delta[..rows * k])
            } else {
                None
            },
        );
        let likelihood_energy = scale * nll + (data.n * k) as f64 * self.likelihood.constant();
        let Some(grad) = grad else {
            let prior = if self.with_prior {
                self.prior.energy(&self.spans, theta, None)
            } else {
                0.0
            };
            return Ok(likelihood_energy + prior);
        };
        check_dim(p, grad)?;
        w.g.resize(p, 0.0);
        for l in (0..self.spans.len()).rev() {
            let s = self.spans[l];
            let a_in: &[f32] = if l == 0 {
                input
            } else {
                &w.acts[l - 1][..rows * s.n_in]
            };
            let delta = &w.delta[..rows * s.n_out];
            gemm(
                &mut w.g[s.w..s.b],
                View::t(delta, rows, s.n_out),
                View::n(a_in, rows, s.n_in),
                1.0,
                false,
            );
            let gb = &mut w.g[s.b..s.b + s.n_out];
            gb.iter_mut().for_each(|v| *v = 0.0);
            for row in delta.chunks_exact(s.n_out) {
                for (g, v) in gb.iter_mut().zip(row) {
                    *g += v;
                }
            }
            if l > 0 {
                w.back.resize(rows * s.n_in, 0.0);
                gemm(
                    &mut w.back[..rows * s.n_in],
                    View::n(delta, rows, s.n_out),
                    View::n(&w.w[s.w..s.b], s.n_out, s.n_in),
                    1.0,
                    false,
                );
                derivative_times(
                    self.arch.hidden,
                    &w.acts[l - 1],
                    &mut w.back[..rows * s.n_in],
                );
                std::mem::swap(&mut w.delta, &mut w.back);
            }
        }
        for (g, &v) in grad.iter_mut().zip(&w.g) {
            *g = v as f64;
        }
        let prior = if self.with_prior {
            self.prior.energy(&self.spans, theta, Some(grad))
        } else {
            0.0
        };
        Ok(likelihood_energy + prior)
    }
}

/// Runs `rows` rows of `input` through the network, leaving each layer's outputs in `acts`.
fn forward(
    arch: &Architecture,
    spans: &[LayerSpan],
    w: &[f32],
    input: &[f32],
    rows: usize,
    acts: &mut Vec<Vec<f32>>,
) {
    acts.resize(spans.len(), Vec::new());
    for (l, s) in spans.iter().enumerate() {
        let (done, rest) = acts.split_at_mut(l);
        let a_in: &[f32] = if l == 0 {
            &input[..rows * s.n_in]
        } else {
            &done[l - 1][..rows * s.n_in]
        };
        let out = &mut rest[0];
        if out.len() < rows * s.n_out {
            out.resize(rows * s.n_out, 0.0);
        }
        let out = &mut out[..rows * s.n_out];
        gemm(
            out,
            View::n(a_in, rows, s.n_in),
            View::t(&w[s.w..s.b], s.n_out, s.n_in),
            1.0,
            false,
        );
        let b = &w[s.b..s.b + s.n_out];
        for row in out.chunks_exact_mut(s.n_out) {
            for (v, bj) in row.iter_mut().zip(b) {
                *v += bj;
            }
        }
        if l + 1 < spans.len() {
            activate(arch.hidden, out);
        }
    }
}

/// Applies a hidden activation in place.
fn activate(act: Activation, xs: &mut [f32]) {
    use crate::math::exp_f32;
    match act {
        Activation::Relu => xs.iter_mut().for_each(|v| *v = v.max(0.0)),
        Activation::Tanh => xs
            .iter_mut()
            .for_each(|v| *v = 1.0 - 2.0 / (exp_f32(2.0 * *v) + 1.0)),
        Activation::Sigmoid => xs.iter_mut().for_each(|v| *v = 1.0 / (1.0 + exp_f32(-*v))),
        Activation::Identity => {}
    }
}

/// Multiplies `delta` by the activation's derivative, written in terms of its outputs `a`.
fn derivative_times(act: Activation, a: &[f32], delta: &mut [f32]) {
    let pairs = delta.iter_mut().zip(a);
    match act {
        Activation::Relu => pairs.for_each(|(d, &a)| {
            if a <= 0.0 {
                *d = 0.0
            }
        }),
        Activation::Tanh => pairs.for_each(|(d, &a)| *d *= 1.0 - a * a),
        Activation::Sigmoid => pairs.for_each(|(d, &a)| *d *= a * (1.0 - a)),
        Activation::Identity => {}
    }
}

/// `Σ_rows −ln p(y | f)` without the likelihood's constant, and `scale · ∂/∂f` into `delta`.
fn output_loss(
    likelihood: Likelihood,
    targets: &Targets,
    batch: Option<&[usize]>,
    out: &[f32],
    k: usize,
    scale: f32,
    mut delta: Option<&mut [f32]>,
) -> f64 {
    let row_of = |i: usize| batch.map_or(i, |b| b[i]);
    let mut total = 0.0f64;
    for (i, f) in out.chunks_exact(k).enumerate() {
        let r = row_of(i);
        let dl = delta.as_deref_mut().map(|d| &mut d[i * k..(i + 1) * k]);
        total += match (likelihood, targets) {
            (Likelihood::Categorical, Targets::Classes(labels)) => {
                let y = labels[r] as usize;
                let m = f.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                let s: f32 = f.iter().map(|&v| crate::math::exp_f32(v - m)).sum();
                let lse = m as f64 + (s as f64).ln();
                if let Some(dl) = dl {
                    let inv = scale / s;
                    for (j, (d, &v)) in dl.iter_mut().zip(f).enumerate() {
                        *d = crate::math::exp_f32(v - m) * inv - if j == y { scale } else { 0.0 };
                    }
                }
                lse - f[y] as f64
            }
            (Likelihood::Gaussian { sd }, Targets::Values { y, .. }) => {
                let prec = 1.0 / (sd * sd);
                let yr = &y[r * k..(r + 1) * k];
                let mut sq = 0.0f64;
                let mut dl = dl;
                for j in 0..k {
                    let res = f[j] - yr[j];
                    sq += (res as f64) * (res as f64);
                    if let Some(d) = dl.as_deref_mut() {
                        d[j] = scale * (prec as f32) * res;
                    }
                }
                0.5 * prec * sq
            }
            (Likelihood::StudentT { dof, scale: s }, Targets::Values { y, .. }) => {
                let ns2 = dof * s * s;
                let yr = &y[r * k..(r + 1) * k];
                let mut e = 0.0f64;
                let mut dl = dl;
                for j in 0..k {
                    let res = (f[j] - yr[j]) as f64;
                    e += 0.5 * (dof + 1.0) * (res * res / ns2).ln_1p();
                    if let Some(d) = dl.as_deref_mut() {
                        d[j] = scale * ((dof + 1.0) * res / (ns2 + res * res)) as f32;
                    }
                }
                e
            }
            // `new` pairs likelihoods and targets.
            _ => unreachable!("likelihood and targets checked in NetworkPosterior::new"),
        };
    }
    total
}

impl Energy for NetworkPosterior {
    fn dim(&self) -> usize {
        self.arch.n_params()
    }
    fn energy(&mut self, theta: &[f64]) -> Result<f64, EnergyError> {
        self.eval(theta, None)
    }
}

impl Gradient for NetworkPosterior {
    fn energy_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> Result<f64, EnergyError> {
        self.eval(theta, Some(grad))
    }
}

impl MinibatchEnergy for NetworkPosterior {
    fn n_data(&self) -> usize {
        self.data.n
    }
    fn set_batch(&mut self, rows: Option<&[usize]>) {
        match rows {
            None => self.batch = None,
            Some(r) => {
                self.batches_set += 1;
                let b = self.batch.get_or_insert_with(Vec::new);
                b.clear();
                // Rows past the end are dropped, never read out of bounds.
                b.extend(r.iter().copied().filter(|&i| i < self.data.n));
            }
        }
    }
    fn set_chain(&mut self, chain: u64) {
        self.chain = chain;
    }
}
