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
}

/// The loss of a dense network on a data set, as a function of the flat parameter vector.
#[derive(Debug, Clone)]
pub struct MlpEnergy {
    arch: Architecture,
    spans: Vec<super::LayerSpan>,
    data: Arc<Dataset>,
    loss: Loss,
    batch: Option<Vec<usize>>,
    // Per-layer buffers: pre-activations and activations (rows × width); acts[0] is the input.
    pre: Vec<Vec<f64>>,
    acts: Vec<Vec<f64>>,
    delta: Vec<f64>,
    delta_prev: Vec<f64>,
    target: Vec<f64>,
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
        Ok(Self {
            pre: vec![Vec::new(); arch.sizes.len()],
            acts: vec![Vec::new(); arch.sizes.len()],
            arch,
            spans,
            data,
            loss,
            batch: None,
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

    /// Network outputs for arbitrary input rows (`inputs.len() = rows × n_inputs`).
    pub fn predict(&mut self, theta: &[f64], inputs: &[f64]) -> Vec<f64> {
        let rows = inputs.len() / self.arch.n_inputs();
        self.acts[0].clear();
        self.acts[0].extend_from_slice(inputs);
        self.forward(theta, rows);
        self.acts.last().expect("layers").clone()
    }

    /// Loads the current batch (inputs and targets) into the buffers; returns its row count.
    fn load_batch(&mut self) -> usize {
        let (ni, nt) = (self.data.n_inputs, self.data.n_targets);
        self.acts[0].clear();
        self.target.clear();
        match &self.batch {
            None => {
                self.acts[0].extend_from_slice(&self.data.x);
                self.target.extend_from_slice(&self.data.y);
                self.data.n
            }
            Some(rows) => {
                for &r in rows {
                    self.acts[0].extend_from_slice(&self.data.x[r * ni..(r + 1) * ni]);
                    self.target
                        .extend_from_slice(&self.data.y[r * nt..(r + 1) * nt]);
                }
                rows.len()
            }
        }
    }

    fn forward(&mut self, theta: &[f64], rows: usize) {
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
            let input = &head[l];
            let out = &mut tail[0];
            let pre = &mut self.pre[l + 1];
            out.resize(rows * sp.n_out, 0.0);
            pre.resize(rows * sp.n_out, 0.0);
            for r in 0..rows {
                let a = &input[r * sp.n_in..(r + 1) * sp.n_in];
                let z = &mut pre[r * sp.n_out..(r + 1) * sp.n_out];
                for (j, zj) in z.iter_mut().enumerate() {
                    let wr = &w[j * sp.n_in..(j + 1) * sp.n_in];
                    *zj = b[j] + wr.iter().zip(a).map(|(p, q)| p * q).sum::<f64>();
                }
                let o = &mut out[r * sp.n_out..(r + 1) * sp.n_out];
                if act == Activation::Identity {
                    o.copy_from_slice(z);
                } else {
                    for (oj, zj) in o.iter_mut().zip(z.iter()) {
                        *oj = act.apply(*zj);
                    }
                }
            }
        }
    }

    /// Loss of the loaded batch; if `want_delta`, also fills `self.delta` with dL/dz_out.
    fn loss_and_delta(&mut self, rows: usize, want_delta: bool) -> f64 {
        let k = self.arch.n_outputs();
        let out = self.acts.last().expect("layers");
        self.delta.resize(rows * k, 0.0);
        match self.loss {
            Loss::Mse => {
                let scale = 1.0 / (rows * k) as f64;
                let mut s = 0.0;
                for (i, (o, t)) in out.iter().zip(&self.target).enumerate() {
                    let r = o - t;
                    s += r * r;
                    if want_delta {
                        self.delta[i] = 2.0 * scale * r;
                    }
                }
                s * scale
            }
            Loss::SoftmaxCrossEntropy => {
                let scale = 1.0 / rows as f64;
                let mut s = 0.0;
                for r in 0..rows {
                    let z = &out[r * k..(r + 1) * k];
                    let m = z.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
                    let sum: f64 = z.iter().map(|v| (v - m).exp()).sum();
                    let lse = m + sum.ln();
                    let c = self.target[r] as usize;
                    s += lse - z[c];
                    if want_delta {
                        for j in 0..k {
                            let p = (z[j] - lse).exp();
                            self.delta[r * k + j] = scale * (p - if j == c { 1.0 } else { 0.0 });
                        }
                    }
                }
                s * scale
            }
        }
    }

    fn backward(&mut self, theta: &[f64], grad: &mut [f64], rows: usize) {
        grad.iter_mut().for_each(|g| *g = 0.0);
        // The output activation's derivative (identity for the provided losses unless chosen).
        let out_act = self.arch.output;
        if out_act != Activation::Identity {
            let (pre, act) = (&self.pre[self.spans.len()], &self.acts[self.spans.len()]);
            for ((d, z), a) in self.delta.iter_mut().zip(pre).zip(act) {
                *d *= out_act.derivative(*z, *a);
            }
        }
        for l in (0..self.spans.len()).rev() {
            let sp = self.spans[l];
            let a_prev = &self.acts[l];
            {
                let (gw, gb) = grad[sp.w..sp.b + sp.n_out].split_at_mut(sp.b - sp.w);
                for r in 0..rows {
                    let d = &self.delta[r * sp.n_out..(r + 1) * sp.n_out];
                    let a = &a_prev[r * sp.n_in..(r + 1) * sp.n_in];
                    for (j, dj) in d.iter().enumerate() {
                        gb[j] += dj;
                        let g = &mut gw[j * sp.n_in..(j + 1) * sp.n_in];
                        for (gk, ak) in g.iter_mut().zip(a) {
                            *gk += dj * ak;
                        }
                    }
                }
            }
            if l == 0 {
                break;
            }
            let w = &theta[sp.w..sp.b];
            self.delta_prev.clear();
            self.delta_prev.resize(rows * sp.n_in, 0.0);
            let hidden = self.arch.hidden;
            let z_prev = &self.pre[l];
            for r in 0..rows {
                let d = &self.delta[r * sp.n_out..(r + 1) * sp.n_out];
                let dp = &mut self.delta_prev[r * sp.n_in..(r + 1) * sp.n_in];
                for (j, dj) in d.iter().enumerate() {
                    let wr = &w[j * sp.n_in..(j + 1) * sp.n_in];
                    for (p, wk) in dp.iter_mut().zip(wr) {
                        *p += dj * wk;
                    }
                }
                let zp = &z_prev[r * sp.n_in..(r + 1) * sp.n_in];
                let ap = &a_prev[r * sp.n_in..(r + 1) * sp.n_in];
                for ((p, z), a) in dp.iter_mut().zip(zp).zip(ap) {
                    *p *= hidden.derivative(*z, *a);
                }
            }
            std::mem::swap(&mut self.delta, &mut self.delta_prev);
        }
    }
}

impl Energy for MlpEnergy {
    fn dim(&self) -> usize {
        self.arch.n_params()
    }
    fn energy(&mut self, theta: &[f64]) -> Result<f64, EnergyError> {
        check_dim(self.arch.n_params(), theta)?;
        let rows = self.load_batch();
        self.forward(theta, rows);
        Ok(self.loss_and_delta(rows, false))
    }
}

impl Gradient for MlpEnergy {
    fn energy_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.arch.n_params(), theta)?;
        check_dim(self.arch.n_params(), grad)?;
        let rows = self.load_batch();
        self.forward(theta, rows);
        let loss = self.loss_and_delta(rows, true);
        self.backward(theta, grad, rows);
        Ok(loss)
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
