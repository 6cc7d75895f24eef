//! Deep linear networks y = W_L ⋯ W_1 x with Gaussian noise: the singular models whose learning
//! coefficient is known (reduced-rank regression, two layers: Aoyagi & Watanabe 2005; any depth:
//! Aoyagi 2024), with a teacher of chosen rank to generate their data.

use super::ModelError;
use crate::energy::{check_dim, Energy, EnergyError, Gradient};
use crate::nn::MinibatchEnergy;
use crate::rng::{stream, Purpose};
use rand_distr::{Distribution, StandardNormal};

/// The loss of a deep linear network (no biases) on a data set: the mean over the batch's rows
/// of ½‖y − W_L ⋯ W_1 x‖², the Gaussian negative log-likelihood (unit noise) less its constant.
///
/// The parameter vector holds W_1 (h₁ × M), …, W_L (N × h_{L−1}), each row-major, for
/// `widths = [M, h₁, …, h_{L−1}, N]`. Two layers are reduced-rank regression.
///
/// ```
/// use thermolab::prelude::*;
/// use thermolab::systems::DeepLinearNetwork;
///
/// // Reduced-rank regression: 3 inputs, 2 hidden, 3 outputs, a teacher of rank 1.
/// let net = DeepLinearNetwork::teacher(&[3, 2, 3], 1, 500, 7)?;
/// assert_eq!(net.dim(), 2 * 3 + 3 * 2);
/// assert_eq!(thermolab::systems::rrr_learning_coefficient(3, 3, 2, 1), 3.5);
/// # Ok::<(), thermolab::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct DeepLinearNetwork {
    widths: Vec<usize>,
    x: Vec<f64>,
    y: Vec<f64>,
    n: usize,
    teacher: Option<Vec<f64>>,
    batch: Option<Vec<usize>>,
    // The full batch's sufficient statistics: Σxxᵀ/n (M × M), Σyxᵀ/n (N × M), Σ‖y‖²/n.
    sxx: Vec<f64>,
    syx: Vec<f64>,
    syy: f64,
    // Products of the layers: right[k] = W_k ⋯ W_1 (h_k × M), left[k] = W_L ⋯ W_{k+1}.
    right: Vec<Vec<f64>>,
    left: Vec<Vec<f64>>,
    resid: Vec<f64>,
    gmap: Vec<f64>,
    tmp: Vec<f64>,
}

/// `out = a · b` for row-major `a` (r × k) and `b` (k × c).
fn matmul(a: &[f64], b: &[f64], r: usize, k: usize, c: usize, out: &mut Vec<f64>) {
    out.clear();
    out.resize(r * c, 0.0);
    for i in 0..r {
        for l in 0..k {
            let v = a[i * k + l];
            if v != 0.0 {
                let row = &b[l * c..(l + 1) * c];
                for (o, bv) in out[i * c..(i + 1) * c].iter_mut().zip(row) {
                    *o += v * bv;
                }
            }
        }
    }
}

/// The identity matrix of size n, row-major.
fn eye(n: usize) -> Vec<f64> {
    let mut m = vec![0.0; n * n];
    for i in 0..n {
        m[i * n + i] = 1.0;
    }
    m
}

impl DeepLinearNetwork {
    /// A network of the given widths on data `x` (n × M) and `y` (n × N), row-major.
    pub fn new(widths: &[usize], x: Vec<f64>, y: Vec<f64>) -> Result<Self, ModelError> {
        if widths.len() < 2 || widths.contains(&0) {
            return Err(ModelError::new(
                "widths",
                "needs at least an input and an output width, none zero",
            ));
        }
        let (m, out) = (widths[0], widths[widths.len() - 1]);
        if !x.len().is_multiple_of(m)
            || !y.len().is_multiple_of(out)
            || x.len() / m != y.len() / out
        {
            return Err(ModelError::new(
                "data",
                format!(
                    "x holds {} values and y {}: not n × {m} and n × {out}",
                    x.len(),
                    y.len()
                ),
            ));
        }
        let n = x.len() / m;
        if n == 0 || !x.iter().chain(&y).all(|v| v.is_finite()) {
            return Err(ModelError::new(
                "data",
                "needs at least one row, all values finite",
            ));
        }
        let mut sxx = vec![0.0; m * m];
        let mut syx = vec![0.0; out * m];
        let mut syy = 0.0;
        for (xr, yr) in x.chunks_exact(m).zip(y.chunks_exact(out)) {
            for (i, &a) in xr.iter().enumerate() {
                for (s, &b) in sxx[i * m..(i + 1) * m].iter_mut().zip(xr) {
                    *s += a * b;
                }
            }
            for (i, &a) in yr.iter().enumerate() {
                for (s, &b) in syx[i * m..(i + 1) * m].iter_mut().zip(xr) {
                    *s += a * b;
                }
                syy += a * a;
            }
        }
        let scale = 1.0 / n as f64;
        sxx.iter_mut().chain(&mut syx).for_each(|v| *v *= scale);
        Ok(Self {
            widths: widths.to_vec(),
            x,
            y,
            n,
            teacher: None,
            batch: None,
            sxx,
            syx,
            syy: syy * scale,
            right: Vec::new(),
            left: Vec::new(),
            resid: Vec::new(),
            gmap: Vec::new(),
            tmp: Vec::new(),
        })
    }

    /// Data from a teacher: x ~ N(0, I), y = U Vᵀ x + N(0, I) with U (N × r) and V (M × r) of
    /// standard normal entries, so the true map has rank `rank`. The teacher's own parameter
    /// (V ᵀ in the first layer's first rows, identities between, U in the last layer's first
    /// columns) is [`teacher_parameter`](Self::teacher_parameter). Needs `rank` at most every
    /// width.
    pub fn teacher(widths: &[usize], rank: usize, n: usize, seed: u64) -> Result<Self, ModelError> {
        if widths.len() < 2 || rank > *widths.iter().min().unwrap_or(&0) {
            return Err(ModelError::new(
                "rank",
                format!("the teacher's rank {rank} exceeds a width of {widths:?}"),
            ));
        }
        let (m, out) = (widths[0], widths[widths.len() - 1]);
        let mut rng = stream(seed, Purpose::Data, 0);
        let mut normal =
            |k: usize| -> Vec<f64> { (0..k).map(|_| StandardNormal.sample(&mut rng)).collect() };
        let u = normal(out * rank);
        let v = normal(m * rank);
        let x = normal(n * m);
        let noise = normal(n * out);
        let mut map = vec![0.0; out * m];
        for i in 0..out {
            for j in 0..m {
                map[i * m + j] = (0..rank).map(|k| u[i * rank + k] * v[j * rank + k]).sum();
            }
        }
        let mut y = noise;
        for r in 0..n {
            for i in 0..out {
                y[r * out + i] += (0..m).map(|j| map[i * m + j] * x[r * m + j]).sum::<f64>();
            }
        }
        let mut net = Self::new(widths, x, y)?;
        let mut w = Vec::with_capacity(net.dim());
        let layers = widths.len() - 1;
        for k in 0..layers {
            let (cols, rows) = (widths[k], widths[k + 1]);
            for i in 0..rows {
                for j in 0..cols {
                    let value = if layers == 1 {
                        map[i * m + j]
                    } else if k == 0 {
                        if i < rank {
                            v[j * rank + i]
                        } else {
                            0.0
                        }
                    } else if k == layers - 1 {
                        if j < rank {
                            u[i * rank + j]
                        } else {
                            0.0
                        }
                    } else if i == j && i < rank {
                        1.0
                    } else {
                        0.0
                    };
                    w.push(value);
                }
            }
        }
        net.teacher = Some(w);
        Ok(net)
    }

    /// The widths `[M, h₁, …, N]`.
    pub fn widths(&self) -> &[usize] {
        &self.widths
    }

    /// The teacher's parameter, for a network made by [`teacher`](Self::teacher).
    pub fn teacher_parameter(&self) -> Option<&[f64]> {
        self.teacher.as_deref()
    }

    /// Where layer k's weights start in the parameter vector.
    fn offsets(&self) -> Vec<usize> {
        let mut at = vec![0];
        for k in 0..self.widths.len() - 1 {
            at.push(at[k] + self.widths[k] * self.widths[k + 1]);
        }
        at
    }

    /// The loss at `w`; with `grad`, its gradient too.
    fn evaluate(&mut self, w: &[f64], grad: Option<&mut [f64]>) -> Result<f64, EnergyError> {
        check_dim(self.dim(), w)?;
        let at = self.offsets();
        let layers = self.widths.len() - 1;
        let (m, out) = (self.widths[0], self.widths[layers]);
        // right[k] = W_{k+1} ⋯ W_1 (widths[k+1] × M); right of nothing is the identity.
        self.right.resize(layers + 1, Vec::new());
        self.right[0] = eye(m);
        for k in 0..layers {
            let (cols, rows) = (self.widths[k], self.widths[k + 1]);
            let (done, rest) = self.right.split_at_mut(k + 1);
            matmul(&w[at[k]..at[k + 1]], &done[k], rows, cols, m, &mut rest[0]);
        }
        let map = &self.right[layers];
        self.gmap.clear();
        self.gmap.resize(out * m, 0.0);
        let loss = match &self.batch {
            // The full batch through its sufficient statistics: with P the map,
            // L = ½(Σ‖y‖²/n − 2 tr(P Σxyᵀ/n) + tr(P Σxxᵀ/n Pᵀ)) and ∂L/∂P = P·Sxx − Syx,
            // whatever n is.
            None => {
                let mut quad = 0.0;
                let mut cross = 0.0;
                for i in 0..out {
                    let p = &map[i * m..(i + 1) * m];
                    for j in 0..m {
                        let ps: f64 = p
                            .iter()
                            .zip(&self.sxx[j * m..(j + 1) * m])
                            .map(|(a, b)| a * b)
                            .sum();
                        quad += ps * p[j];
                        cross += p[j] * self.syx[i * m + j];
                        self.gmap[i * m + j] = ps - self.syx[i * m + j];
                    }
                }
                0.5 * (self.syy - 2.0 * cross + quad)
            }
            Some(rows) => {
                let b = rows.len() as f64;
                self.resid.resize(out, 0.0);
                let mut loss = 0.0;
                for &r in rows {
                    let xr = &self.x[r * m..(r + 1) * m];
                    for i in 0..out {
                        let f: f64 = map[i * m..(i + 1) * m]
                            .iter()
                            .zip(xr)
                            .map(|(a, v)| a * v)
                            .sum();
                        self.resid[i] = f - self.y[r * out + i];
                        loss += 0.5 * self.resid[i] * self.resid[i];
                    }
                    for i in 0..out {
                        let e = self.resid[i] / b;
                        for (g, v) in self.gmap[i * m..(i + 1) * m].iter_mut().zip(xr) {
                            *g += e * v;
                        }
                    }
                }
                loss / b
            }
        };
        let Some(grad) = grad else {
            return Ok(loss);
        };
        // left[k] = W_L ⋯ W_{k+2} (N × widths[k+1]); dL/dW_{k+1} = left[k]ᵀ G right[k]ᵀ.
        self.left.resize(layers, Vec::new());
        self.left[layers - 1] = eye(out);
        for k in (0..layers - 1).rev() {
            let (cols, rows) = (self.widths[k + 1], self.widths[k + 2]);
            let (head, tail) = self.left.split_at_mut(k + 1);
            matmul(
                &tail[0],
                &w[at[k + 1]..at[k + 2]],
                out,
                rows,
                cols,
                &mut head[k],
            );
        }
        for k in 0..layers {
            let (cols, rows) = (self.widths[k], self.widths[k + 1]);
            // tmp = left[k]ᵀ G (rows × M)
            self.tmp.clear();
            self.tmp.resize(rows * m, 0.0);
            let left = &self.left[k];
            for i in 0..out {
                for a in 0..rows {
                    let l = left[i * rows + a];
                    if l != 0.0 {
                        for j in 0..m {
                            self.tmp[a * m + j] += l * self.gmap[i * m + j];
                        }
                    }
                }
            }
            // dW = tmp · right[k]ᵀ (rows × cols), right[k] is cols × M.
            let right = &self.right[k];
            let g = &mut grad[at[k]..at[k + 1]];
            for a in 0..rows {
                for c in 0..cols {
                    g[a * cols + c] = (0..m).map(|j| self.tmp[a * m + j] * right[c * m + j]).sum();
                }
            }
        }
        Ok(loss)
    }
}

impl Energy for DeepLinearNetwork {
    fn dim(&self) -> usize {
        self.widths.windows(2).map(|p| p[0] * p[1]).sum()
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        self.evaluate(x, None)
    }
}

impl Gradient for DeepLinearNetwork {
    fn energy_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, EnergyError> {
        self.evaluate(x, Some(grad))
    }
}

impl MinibatchEnergy for DeepLinearNetwork {
    fn n_data(&self) -> usize {
        self.n
    }
    fn set_batch(&mut self, rows: Option<&[usize]>) {
        self.batch = rows.map(|r| r.to_vec());
    }
}

/// The learning coefficient (real log canonical threshold) of reduced-rank regression with M
/// inputs, N outputs, H hidden units and a true map of rank r (Aoyagi & Watanabe 2005,
/// Theorem 1), in its four cases.
pub fn rrr_learning_coefficient(m: usize, n: usize, h: usize, r: usize) -> f64 {
    let (m, n, h, r) = (m as f64, n as f64, h as f64, r as f64);
    if m + h < n + r {
        (h * m - h * r + n * r) / 2.0
    } else if n + h < m + r {
        (h * n - h * r + m * r) / 2.0
    } else if m + n < h + r {
        m * n / 2.0
    } else {
        let odd = ((m + h + n + r) as u64) % 2 == 1;
        let base = 2.0 * (h + r) * (m + n) - (m - n).powi(2) - (h + r).powi(2);
        (base + if odd { 1.0 } else { 0.0 }) / 8.0
    }
}

/// The learning coefficient of a deep linear network with `widths = [M, h₁, …, N]` and a true
/// map of rank r (Aoyagi 2024, "Consideration on the learning efficiency of multiple-layered
/// neural networks with linear units", Theorem 1). With Δᵢ = widthᵢ − r, the formula picks the
/// set Σ of ℓ + 1 widths for which max Δ_Σ < min Δ_rest, ΣΔ_Σ ≥ ℓ·max Δ_Σ and
/// ΣΔ_Σ < ℓ·min Δ_rest; with S = ΣΔ_Σ and a = S − ℓ(⌈S/ℓ⌉ − 1),
/// λ = (r(M + N) − r²)/2 + a(ℓ − a)/(4ℓ) − (ℓ − 1)S²/(4ℓ) + ½Σ_{i<j∈Σ} ΔᵢΔⱼ.
/// Two layers give [`rrr_learning_coefficient`], one layer MN/2. `None` when the rank exceeds a
/// width or fewer than two widths are given.
///
/// ```
/// use thermolab::systems::{dln_learning_coefficient, rrr_learning_coefficient};
///
/// assert_eq!(dln_learning_coefficient(&[3, 2, 3], 1), Some(rrr_learning_coefficient(3, 3, 2, 1)));
/// // Three layers, 2-3-3-2, with a rank-1 teacher: 21 parameters, λ = 2.
/// assert_eq!(dln_learning_coefficient(&[2, 3, 3, 2], 1), Some(2.0));
/// ```
pub fn dln_learning_coefficient(widths: &[usize], rank: usize) -> Option<f64> {
    if widths.len() < 2 || widths.iter().any(|&w| w < rank) {
        return None;
    }
    let mut delta: Vec<i64> = widths.iter().map(|&w| (w - rank) as i64).collect();
    delta.sort_unstable();
    let (m, n, r) = (
        widths[0] as f64,
        widths[widths.len() - 1] as f64,
        rank as f64,
    );
    let regular_part = (r * (m + n) - r * r) / 2.0;
    // max Δ_Σ < min Δ_rest makes Σ the k smallest Δ, ties taken whole: try each k.
    for size in 2..=delta.len() {
        let (chosen, rest) = delta.split_at(size);
        let ell = (size - 1) as i64;
        let max_in = chosen[size - 1];
        let sum: i64 = chosen.iter().sum();
        let fits = match rest.first() {
            Some(&rest_min) => max_in < rest_min && sum >= ell * max_in && sum < ell * rest_min,
            None => sum >= ell * max_in,
        };
        if !fits {
            continue;
        }
        let ceil = (sum + ell - 1).div_euclid(ell);
        let a = (sum - ell * (ceil - 1)) as f64;
        let (ell, s) = (ell as f64, sum as f64);
        let mut pairs = 0.0;
        for (i, &di) in chosen.iter().enumerate() {
            for &dj in &chosen[i + 1..] {
                pairs += (di * dj) as f64;
            }
        }
        return Some(
            regular_part + a * (ell - a) / (4.0 * ell) - (ell - 1.0) * s * s / (4.0 * ell)
                + 0.5 * pairs,
        );
    }
    None
}
