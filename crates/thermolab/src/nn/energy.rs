//! `MlpEnergy`: a network's loss on a data set as an energy over its flat parameter vector, with
//! forward and backward passes over a batch in caller-reused buffers.

use super::{Activation, Architecture};
use crate::data::Dataset;
use crate::energy::{check_dim, Energy, EnergyError, Gradient};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A training loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Mean squared error over rows and outputs (PyTorch's `MSELoss` with mean reduction).
    Mse,
    /// Softmax cross-entropy of the logits against a class-index target column, averaged over rows.
    SoftmaxCrossEntropy,
}

impl Loss {
    /// Parses `mse` or `cross-entropy` (also `ce`, `softmax`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "mse" => Some(Self::Mse),
            "cross-entropy" | "ce" | "softmax" => Some(Self::SoftmaxCrossEntropy),
            _ => None,
        }
    }
    /// The loss's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Mse => "mse",
            Self::SoftmaxCrossEntropy => "cross-entropy",
        }
    }
}

/// An energy whose evaluations can be restricted to a minibatch of data rows.
pub trait MinibatchEnergy: Gradient {
    /// Number of data rows.
    fn n_data(&self) -> usize;
    /// Restricts later evaluations to `rows` (`None`: all rows).
    fn set_batch(&mut self, rows: Option<&[usize]>);
    /// Tells a chain's own copy of the energy which chain it serves, so that any randomness it
    /// draws itself (data augmentation) is the chain's own. Drivers call it once per copy; the
    /// default ignores it.
    fn set_chain(&mut self, _chain: u64) {}
}

/// The loss of a dense network on a data set, as a function of the flat parameter vector.
///
/// Buffers are unit-major (`units × rows`): each unit's values over the batch are contiguous, so
/// the inner loops are AXPYs and dot products over the batch, which the compiler vectorises.
#[derive(Debug, Clone)]
pub struct MlpEnergy {
    arch: Architecture,
    spans: Vec<super::LayerSpan>,
    data: Arc<Dataset>,
    loss: Loss,
    batch: Option<Vec<usize>>,
    // The full data set, transposed once (inputs × n, targets × n).
    full_x: Vec<f64>,
    full_y: Vec<f64>,
    // Per-layer activations (units × rows); acts[0] is the input. Every activation's derivative
    // is a function of its output, so pre-activations are never stored.
    acts: Vec<Vec<f64>>,
    delta: Vec<f64>,
    delta_prev: Vec<f64>,
    target: Vec<f64>,
}

/// Transposes a row-major `rows × cols` block into `cols × rows`.
fn transpose_into(src: &[f64], rows: usize, cols: usize, dst: &mut Vec<f64>) {
    dst.clear();
    dst.resize(rows * cols, 0.0);
    for r in 0..rows {
        for c in 0..cols {
            dst[c * rows + r] = src[r * cols + c];
        }
    }
}

/// Grows `v` to at least `n` values (never shrinks, so swapping buffers costs no refill).
#[inline(always)]
fn grow(v: &mut Vec<f64>, n: usize) {
    if v.len() < n {
        v.resize(n, 0.0);
    }
}

/// Rows processed together in the register-blocked kernels.
const LANES: usize = 8;

/// The `LANES` values of `x` from `at` on, as an array (one bounds check).
#[inline(always)]
fn lanes(x: &[f64], at: usize) -> &[f64; LANES] {
    x[at..at + LANES].try_into().expect("LANES values")
}

/// Mutable [`lanes`].
#[inline(always)]
fn lanes_mut(x: &mut [f64], at: usize) -> &mut [f64; LANES] {
    (&mut x[at..at + LANES]).try_into().expect("LANES values")
}

/// Independent accumulators in reductions: enough to hide the add latency (4 vectors of 4).
const ACC: usize = 16;

/// Dot product with `ACC` independent accumulators (vectorised, not latency-bound).
#[inline(always)]
fn dot(x: &[f64], y: &[f64]) -> f64 {
    let mut acc = [0.0f64; ACC];
    let (xc, yc) = (x.chunks_exact(ACC), y.chunks_exact(ACC));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (a, b) in xc.zip(yc) {
        for i in 0..ACC {
            acc[i] += a[i] * b[i];
        }
    }
    let mut s = reduce(&acc);
    for (a, b) in xr.iter().zip(yr) {
        s += a * b;
    }
    s
}

/// Sum with `ACC` independent accumulators.
#[inline(always)]
fn sum(x: &[f64]) -> f64 {
    let mut acc = [0.0f64; ACC];
    let xc = x.chunks_exact(ACC);
    let xr = xc.remainder();
    for a in xc {
        for i in 0..ACC {
            acc[i] += a[i];
        }
    }
    reduce(&acc) + xr.iter().sum::<f64>()
}

/// Pairwise sum of the accumulators.
#[inline(always)]
fn reduce(acc: &[f64; ACC]) -> f64 {
    let mut v = *acc;
    let mut n = ACC;
    while n > 1 {
        n /= 2;
        for i in 0..n {
            v[i] += v[i + n];
        }
    }
    v[0]
}

/// One dense layer forward, unit-major: `out = f(W·input + b)`, 8 rows at a time
/// with every input accumulated in registers (sum first, bias last).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn layer_forward(
    w: &[f64],
    b: &[f64],
    input: &[f64],
    out: &mut [f64],
    rows: usize,
    n_in: usize,
    f: impl Fn(f64) -> f64,
) {
    for (j, &bj) in b.iter().enumerate() {
        let wj = &w[j * n_in..(j + 1) * n_in];
        let o = &mut out[j * rows..(j + 1) * rows];
        let mut r0 = 0;
        while r0 + LANES <= rows {
            let mut acc = [0.0f64; LANES];
            for (k, wk) in wj.iter().enumerate() {
                let a = lanes(input, k * rows + r0);
                for i in 0..LANES {
                    acc[i] += wk * a[i];
                }
            }
            let oc = lanes_mut(o, r0);
            for i in 0..LANES {
                oc[i] = f(acc[i] + bj);
            }
            r0 += LANES;
        }
        for r in r0..rows {
            let mut acc = 0.0;
            for (k, wk) in wj.iter().enumerate() {
                acc += wk * input[k * rows + r];
            }
            o[r] = f(acc + bj);
        }
    }
}

/// One dense layer backward to its input: `dp_k = (Σ_j W_jk δ_j) · f'(a_k)`, 8 rows at a time,
/// with the activation's derivative written in terms of its output `a_k`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn layer_backward(
    w: &[f64],
    delta: &[f64],
    ap: &[f64],
    dp: &mut [f64],
    rows: usize,
    n_out: usize,
    df: impl Fn(f64) -> f64,
) {
    let n_in = dp.len() / rows;
    for k in 0..n_in {
        let dk = &mut dp[k * rows..(k + 1) * rows];
        let ak = &ap[k * rows..(k + 1) * rows];
        let mut r0 = 0;
        while r0 + LANES <= rows {
            let mut acc = [0.0f64; LANES];
            for j in 0..n_out {
                let wjk = w[j * n_in + k];
                let d = lanes(delta, j * rows + r0);
                for i in 0..LANES {
                    acc[i] += wjk * d[i];
                }
            }
            let ac = lanes(ak, r0);
            let dc = lanes_mut(dk, r0);
            for i in 0..LANES {
                dc[i] = acc[i] * df(ac[i]);
            }
            r0 += LANES;
        }
        for r in r0..rows {
            let mut acc = 0.0;
            for j in 0..n_out {
                acc += w[j * n_in + k] * delta[j * rows + r];
            }
            dk[r] = acc * df(ak[r]);
        }
    }
}

impl MlpEnergy {
    /// Builds the energy, checking that the data fit the architecture and the loss.
    pub fn new(arch: Architecture, data: Arc<Dataset>, loss: Loss) -> Result<Self, EnergyError> {
        if data.n_inputs != arch.n_inputs() {
            return Err(EnergyError::Data(format!(
                "the data have {} input column(s) but the network `{arch}` expects {}",
                data.n_inputs,
                arch.n_inputs()
            )));
        }
        match loss {
            Loss::Mse if data.n_targets != arch.n_outputs() => {
                return Err(EnergyError::Data(format!(
                    "the data have {} target column(s) but the network `{arch}` has {} output(s)",
                    data.n_targets,
                    arch.n_outputs()
                )))
            }
            Loss::SoftmaxCrossEntropy => {
                if data.n_targets != 1 {
                    return Err(EnergyError::Data(
                        "cross-entropy needs exactly one target column of class indices".into(),
                    ));
                }
                let k = arch.n_outputs();
                if let Some((i, v)) = data
                    .y
                    .iter()
                    .enumerate()
                    .find(|(_, v)| v.fract() != 0.0 || **v < 0.0 || **v >= k as f64)
                {
                    return Err(EnergyError::Data(format!(
                        "row {} has class label {v}, expected an integer in 0..{k}",
                        i + 1
                    )));
                }
            }
            Loss::Mse => {}
        }
        if data.n == 0 {
            return Err(EnergyError::Data("the data set has no rows".into()));
        }
        let spans = arch.layers();
        let (mut full_x, mut full_y) = (Vec::new(), Vec::new());
        transpose_into(&data.x, data.n, data.n_inputs, &mut full_x);
        transpose_into(&data.y, data.n, data.n_targets, &mut full_y);
        Ok(Self {
            acts: vec![Vec::new(); arch.sizes.len()],
            arch,
            spans,
            data,
            loss,
            batch: None,
            full_x,
            full_y,
            delta: Vec::new(),
            delta_prev: Vec::new(),
            target: Vec::new(),
        })
    }

    /// The architecture.
    pub fn architecture(&self) -> &Architecture {
        &self.arch
    }
    /// The data set.
    pub fn data(&self) -> &Arc<Dataset> {
        &self.data
    }
    /// The loss.
    pub fn loss(&self) -> Loss {
        self.loss
    }

    /// Network outputs (row-major, `rows × n_outputs`) for row-major input rows.
    pub fn predict(&mut self, theta: &[f64], inputs: &[f64]) -> Vec<f64> {
        let ni = self.arch.n_inputs();
        let rows = inputs.len() / ni;
        let mut t = std::mem::take(&mut self.acts[0]);
        transpose_into(inputs, rows, ni, &mut t);
        self.acts[0] = t;
        self.forward(theta, rows);
        let k = self.arch.n_outputs();
        let mut out = Vec::new();
        transpose_into(self.acts.last().expect("layers"), k, rows, &mut out);
        out
    }

    /// Loads the current batch (unit-major inputs and targets); returns its row count.
    fn load_batch(&mut self) -> usize {
        let (ni, nt) = (self.data.n_inputs, self.data.n_targets);
        match &self.batch {
            None => self.data.n,
            Some(rows) => {
                let m = rows.len();
                self.acts[0].resize(m * ni, 0.0);
                self.target.resize(m * nt, 0.0);
                for (i, &r) in rows.iter().enumerate() {
                    for c in 0..ni {
                        self.acts[0][c * m + i] = self.data.x[r * ni + c];
                    }
                    for c in 0..nt {
                        self.target[c * m + i] = self.data.y[r * nt + c];
                    }
                }
                m
            }
        }
    }

    #[inline(always)]
    fn forward(&mut self, theta: &[f64], rows: usize) {
        self.forward_from::<false>(theta, rows, false)
    }

    /// Forward pass; layer 0 reads the cached full data set when `full` is set.
    #[inline(always)]
    fn forward_from<const FMA: bool>(&mut self, theta: &[f64], rows: usize, full: bool) {
        let last = self.spans.len() - 1;
        for (l, sp) in self.spans.iter().enumerate() {
            let act = if l == last {
                self.arch.output
            } else {
                self.arch.hidden
            };
            let w = &theta[sp.w..sp.b];
            let b = &theta[sp.b..sp.b + sp.n_out];
            let (head, tail) = self.acts.split_at_mut(l + 1);
            let input: &[f64] = if l == 0 && full {
                &self.full_x
            } else {
                &head[l]
            };
            let out = &mut tail[0];
            out.resize(rows * sp.n_out, 0.0);
            match act {
                Activation::Relu => layer_forward(w, b, input, out, rows, sp.n_in, |v| v.max(0.0)),
                Activation::Identity => layer_forward(w, b, input, out, rows, sp.n_in, |v| v),
                Activation::Tanh => {
                    layer_forward(w, b, input, out, rows, sp.n_in, crate::math::tanh_g::<FMA>)
                }
                Activation::Sigmoid => layer_forward(w, b, input, out, rows, sp.n_in, |v| {
                    1.0 / (1.0 + (-v).exp())
                }),
            }
        }
    }

    /// Loss of the loaded batch; if `want_delta`, also fills `self.delta` with dL/dz_out.
    #[inline(always)]
    fn loss_and_delta(&mut self, rows: usize, want_delta: bool) -> f64 {
        let k = self.arch.n_outputs();
        let out = self.acts.last().expect("layers");
        let target: &[f64] = if self.batch.is_none() {
            &self.full_y
        } else {
            &self.target
        };
        grow(&mut self.delta, rows * k);
        let delta = &mut self.delta[..rows * k];
        match self.loss {
            Loss::Mse => {
                let scale = 1.0 / (rows * k) as f64;
                for ((d, o), t) in delta.iter_mut().zip(out).zip(target) {
                    *d = o - t;
                }
                let ss = dot(delta, delta);
                if want_delta {
                    let c = 2.0 * scale;
                    delta.iter_mut().for_each(|d| *d *= c);
                }
                ss * scale
            }
            Loss::SoftmaxCrossEntropy => {
                let scale = 1.0 / rows as f64;
                let mut s = 0.0;
                for r in 0..rows {
                    let z = |j: usize| out[j * rows + r];
                    let m = (0..k).fold(f64::NEG_INFINITY, |a, j| a.max(z(j)));
                    let se: f64 = (0..k).map(|j| (z(j) - m).exp()).sum();
                    let lse = m + se.ln();
                    let c = target[r] as usize;
                    s += lse - z(c);
                    if want_delta {
                        for j in 0..k {
                            let p = (z(j) - lse).exp();
                            delta[j * rows + r] = scale * (p - if j == c { 1.0 } else { 0.0 });
                        }
                    }
                }
                s * scale
            }
        }
    }

    #[inline(always)]
    fn backward(&mut self, theta: &[f64], grad: &mut [f64], rows: usize) {
        let full = self.batch.is_none();
        let last = self.spans.len();
        let out_act = self.arch.output;
        if out_act != Activation::Identity {
            // `acts[last]` has exactly rows × n_outputs values, so the zip stops there.
            for (d, a) in self.delta.iter_mut().zip(&self.acts[last]) {
                *d *= out_act.derivative(*a);
            }
        }
        for l in (0..self.spans.len()).rev() {
            let sp = self.spans[l];
            let a_prev: &[f64] = if l == 0 && full {
                &self.full_x
            } else {
                &self.acts[l]
            };
            for j in 0..sp.n_out {
                let d = &self.delta[j * rows..(j + 1) * rows];
                grad[sp.b + j] = sum(d);
                for k in 0..sp.n_in {
                    grad[sp.w + j * sp.n_in + k] = dot(d, &a_prev[k * rows..(k + 1) * rows]);
                }
            }
            if l == 0 {
                break;
            }
            let w = &theta[sp.w..sp.b];
            grow(&mut self.delta_prev, rows * sp.n_in);
            let hidden = self.arch.hidden;
            let ap = &self.acts[l];
            let delta = &self.delta[..rows * sp.n_out];
            let dp = &mut self.delta_prev[..rows * sp.n_in];
            match hidden {
                Activation::Relu => layer_backward(w, delta, ap, dp, rows, sp.n_out, |a| {
                    if a > 0.0 {
                        1.0
                    } else {
                        0.0
                    }
                }),
                Activation::Identity => layer_backward(w, delta, ap, dp, rows, sp.n_out, |_| 1.0),
                Activation::Tanh => {
                    layer_backward(w, delta, ap, dp, rows, sp.n_out, |a| 1.0 - a * a)
                }
                Activation::Sigmoid => {
                    layer_backward(w, delta, ap, dp, rows, sp.n_out, |a| a * (1.0 - a))
                }
            }
            std::mem::swap(&mut self.delta, &mut self.delta_prev);
        }
    }
}

impl MlpEnergy {
    #[inline(always)]
    fn eval_impl<const FMA: bool>(&mut self, theta: &[f64], grad: Option<&mut [f64]>) -> f64 {
        let rows = self.load_batch();
        let full = self.batch.is_none();
        self.forward_from::<FMA>(theta, rows, full);
        match grad {
            None => self.loss_and_delta(rows, false),
            Some(g) => {
                let loss = self.loss_and_delta(rows, true);
                self.backward(theta, g, rows);
                loss
            }
        }
    }

    /// The same computation compiled for AVX2 (wider vectors; no change in rounding, since
    /// Rust never contracts a·b + c into a fused multiply-add on its own).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn eval_avx2(&mut self, theta: &[f64], grad: Option<&mut [f64]>) -> f64 {
        self.eval_impl::<false>(theta, grad)
    }

    /// AVX2 with fused multiply-adds inside tanh and sigmoid (the affine layers stay unfused, so
    /// ReLU networks give the same numbers on every x86-64 path).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn eval_avx2_fma(&mut self, theta: &[f64], grad: Option<&mut [f64]>) -> f64 {
        self.eval_impl::<true>(theta, grad)
    }

    fn eval(&mut self, theta: &[f64], grad: Option<&mut [f64]>) -> f64 {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            if std::arch::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU supports AVX2 and FMA, checked just above.
                return unsafe { self.eval_avx2_fma(theta, grad) };
            }
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { self.eval_avx2(theta, grad) };
        }
        self.eval_impl::<false>(theta, grad)
    }
}

impl Energy for MlpEnergy {
    fn dim(&self) -> usize {
        self.arch.n_params()
    }
    fn energy(&mut self, theta: &[f64]) -> Result<f64, EnergyError> {
        check_dim(self.arch.n_params(), theta)?;
        Ok(self.eval(theta, None))
    }
}

impl Gradient for MlpEnergy {
    fn energy_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.arch.n_params(), theta)?;
        check_dim(self.arch.n_params(), grad)?;
        Ok(self.eval(theta, Some(grad)))
    }
}

impl MinibatchEnergy for MlpEnergy {
    fn n_data(&self) -> usize {
        self.data.n
    }
    fn set_batch(&mut self, rows: Option<&[usize]>) {
        match rows {
            None => self.batch = None,
            Some(r) => {
                let b = self.batch.get_or_insert_with(Vec::new);
                b.clear();
                b.extend_from_slice(r);
            }
        }
    }
}
