//! Restricted Boltzmann machines: Bernoulli–Bernoulli and Gaussian–Bernoulli energies, free
//! energies, conditionals, reconstructions and the pseudo-likelihood.
//!
//! With visible units `v`, hidden units `h ∈ {0,1}^H`, weights `W` (visible × hidden) and biases
//! `b` (visible), `c` (hidden), the energies are
//!
//! - Bernoulli visible units, `v ∈ {0,1}^V`: `E(v,h) = −b·v − c·h − vᵀ W h`;
//! - Gaussian visible units with fixed scales `σ`: `E(v,h) = Σ_i (v_i − b_i)²/(2σ_i²) − c·h −
//!   Σ_ij (v_i/σ_i) W_ij h_j`.
//!
//! Summing out `h` gives the free energy `F(v) = −log Σ_h e^{−E(v,h)}`:
//! `F(v) = −b·v − Σ_j softplus(c_j + (vW)_j)` (Bernoulli) and
//! `F(v) = Σ_i (v_i − b_i)²/(2σ_i²) − Σ_j softplus(c_j + ((v/σ)W)_j)` (Gaussian), so
//! `p(v) = e^{−F(v)}/Z`. The model implements [`Energy`] and [`Gradient`] with `F` as the energy
//! over visible states, so the generic kernels and estimators apply to it.
//!
//! Parameters are `f32` (matrix products through faer); sums that feed log-probabilities are
//! accumulated in `f64`.
//!
//! # References
//! - G. E. Hinton (2002), "Training products of experts by minimizing contrastive divergence".
//! - G. E. Hinton (2012), "A practical guide to training restricted Boltzmann machines".
//! - R. Salakhutdinov & I. Murray (2008), "On the quantitative analysis of deep belief networks".

pub(crate) mod dense;
mod exact;
mod saved;
#[cfg(test)]
mod tests;

pub use dense::softplus;
pub use exact::{average_log_likelihood, exact_visible_samples, log_partition_exact};
pub use saved::{ModelFileError, Preprocess, SavedRbm, MODEL_FORMAT};

use crate::energy::{check_dim, Energy, EnergyError, Gradient};
use dense::{gemm, View};
use rand_distr::Distribution;
use serde::{Deserialize, Serialize};

/// The kind of the visible units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisibleKind {
    /// Binary units in {0, 1}.
    Bernoulli,
    /// Real-valued units with a Gaussian conditional of fixed scale `σ_i`.
    Gaussian,
}

/// A problem building, loading or using a Boltzmann machine.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RbmError {
    /// A layer has no units.
    #[error("an RBM needs at least one {layer} unit")]
    EmptyLayer {
        /// `visible` or `hidden`.
        layer: &'static str,
    },
    /// A parameter array has the wrong length.
    #[error("parameter `{field}` has {found} values, expected {expected}")]
    Shape {
        /// The field.
        field: &'static str,
        /// Values expected.
        expected: usize,
        /// Values found.
        found: usize,
    },
    /// A parameter is NaN or infinite (or a scale is not positive).
    #[error("parameter `{field}` holds a non-finite or invalid value at index {index}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Index of the first bad value.
        index: usize,
    },
    /// Data of the wrong width for this machine.
    #[error("data rows have {found} values but the machine has {expected} visible units")]
    Width {
        /// Visible units.
        expected: usize,
        /// Values per row in the data.
        found: usize,
    },
    /// Binary data expected.
    #[error("row {row}, column {column}: value {value} is not 0 or 1 (binarise the data for a Bernoulli RBM)")]
    NotBinary {
        /// 0-based row.
        row: usize,
        /// 0-based column.
        column: usize,
        /// The value.
        value: f32,
    },
    /// A value in the data is NaN or infinite.
    #[error("row {row}, column {column}: value is not finite")]
    NonFinite {
        /// 0-based row.
        row: usize,
        /// 0-based column.
        column: usize,
    },
    /// The requested exact computation is too large.
    #[error("exact log Z needs 2^{units} terms (smaller layer has {units} units; the limit is {limit}); use AIS instead")]
    TooLarge {
        /// Units in the enumerated layer.
        units: usize,
        /// The limit.
        limit: usize,
    },
    /// Bernoulli units cannot take negative intensities.
    #[error("Bernoulli units need non-negative intensities (found {value}); use Gaussian units for real-valued data")]
    NegativeIntensity {
        /// The most negative value found.
        value: f32,
    },
    /// Invalid settings for an RBM driver.
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
    /// The operation is not defined for this kind of visible unit.
    #[error("{what} is only defined for Bernoulli visible units")]
    Unsupported {
        /// What was asked.
        what: &'static str,
    },
}

/// A restricted Boltzmann machine (plain data: serialisable, cloneable).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rbm {
    /// The kind of the visible units.
    pub visible: VisibleKind,
    /// Visible units `V`.
    pub n_visible: usize,
    /// Hidden units `H`.
    pub n_hidden: usize,
    /// Weights, `V × H`, row-major (`w[i·H + j]` couples visible `i` and hidden `j`).
    pub w: Vec<f32>,
    /// Visible biases (length `V`).
    pub b: Vec<f32>,
    /// Hidden biases (length `H`).
    pub c: Vec<f32>,
    /// Visible scales `σ_i` (length `V`; Gaussian units only, empty for Bernoulli).
    #[serde(default)]
    pub sigma: Vec<f32>,
    /// Optional image shape (rows, columns) of the visible layer, for drawing filters.
    #[serde(default)]
    pub image_shape: Option<(usize, usize)>,
}

impl Rbm {
    /// A machine with all parameters zero (Gaussian units get `σ = 1`).
    pub fn zeros(
        visible: VisibleKind,
        n_visible: usize,
        n_hidden: usize,
    ) -> Result<Self, RbmError> {
        if n_visible == 0 {
            return Err(RbmError::EmptyLayer { layer: "visible" });
        }
        if n_hidden == 0 {
            return Err(RbmError::EmptyLayer { layer: "hidden" });
        }
        Ok(Self {
            visible,
            n_visible,
            n_hidden,
            w: vec![0.0; n_visible * n_hidden],
            b: vec![0.0; n_visible],
            c: vec![0.0; n_hidden],
            sigma: match visible {
                VisibleKind::Bernoulli => Vec::new(),
                VisibleKind::Gaussian => vec![1.0; n_visible],
            },
            image_shape: None,
        })
    }

    /// A machine with weights drawn from N(0, `std`²) on the stream `rng` and zero biases.
    pub fn random(
        visible: VisibleKind,
        n_visible: usize,
        n_hidden: usize,
        std: f64,
        rng: &mut crate::rng::Rng,
    ) -> Result<Self, RbmError> {
        let mut m = Self::zeros(visible, n_visible, n_hidden)?;
        let normal = rand_distr::Normal::new(0.0, std.abs())
            .unwrap_or(rand_distr::Normal::new(0.0, 0.0).expect("zero sd is valid"));
        for w in &mut m.w {
            *w = normal.sample(rng) as f32;
        }
        Ok(m)
    }

    /// Checks shapes and values (for machines read from files).
    pub fn validate(&self) -> Result<(), RbmError> {
        if self.n_visible == 0 {
            return Err(RbmError::EmptyLayer { layer: "visible" });
        }
        if self.n_hidden == 0 {
            return Err(RbmError::EmptyLayer { layer: "hidden" });
        }
        let sigma_len = match self.visible {
            VisibleKind::Bernoulli => 0,
            VisibleKind::Gaussian => self.n_visible,
        };
        for (field, v, n) in [
            ("w", &self.w, self.n_visible * self.n_hidden),
            ("b", &self.b, self.n_visible),
            ("c", &self.c, self.n_hidden),
            ("sigma", &self.sigma, sigma_len),
        ] {
            if v.len() != n {
                return Err(RbmError::Shape {
                    field,
                    expected: n,
                    found: v.len(),
                });
            }
            if let Some(index) = v.iter().position(|x| !x.is_finite()) {
                return Err(RbmError::Invalid { field, index });
            }
        }
        if let Some(index) = self.sigma.iter().position(|&s| s <= 0.0) {
            return Err(RbmError::Invalid {
                field: "sigma",
                index,
            });
        }
        if let Some((r, c)) = self.image_shape {
            if r * c != self.n_visible {
                return Err(RbmError::Shape {
                    field: "image_shape",
                    expected: self.n_visible,
                    found: r * c,
                });
            }
        }
        Ok(())
    }

    /// Checks that `data` holds whole rows of the right kind (binary for Bernoulli units).
    pub fn check_data(&self, data: &[f32]) -> Result<usize, RbmError> {
        let v = self.n_visible;
        if !data.len().is_multiple_of(v) {
            return Err(RbmError::Width {
                expected: v,
                found: data.len() % v,
            });
        }
        for (k, &x) in data.iter().enumerate() {
            if !x.is_finite() {
                return Err(RbmError::NonFinite {
                    row: k / v,
                    column: k % v,
                });
            }
            if self.visible == VisibleKind::Bernoulli && x != 0.0 && x != 1.0 {
                return Err(RbmError::NotBinary {
                    row: k / v,
                    column: k % v,
                    value: x,
                });
            }
        }
        Ok(data.len() / v)
    }

    /// Rows of `v` divided by `σ` (a copy; Bernoulli rows are returned unchanged).
    pub(crate) fn scaled_visible<'a>(&self, v: &'a [f32], buf: &'a mut Vec<f32>) -> &'a [f32] {
        match self.visible {
            VisibleKind::Bernoulli => v,
            VisibleKind::Gaussian => {
                buf.clear();
                buf.extend(
                    v.chunks_exact(self.n_visible)
                        .flat_map(|row| row.iter().zip(&self.sigma).map(|(x, s)| x / s)),
                );
                buf
            }
        }
    }

    /// Hidden pre-activations `c + (v/σ) W` for `n` rows of `v` into `out` (`n × H`).
    pub fn hidden_input(&self, v: &[f32], out: &mut Vec<f32>) {
        let n = v.len() / self.n_visible;
        out.resize(n * self.n_hidden, 0.0);
        for row in out.chunks_exact_mut(self.n_hidden) {
            row.copy_from_slice(&self.c);
        }
        let mut buf = Vec::new();
        let vs = self.scaled_visible(v, &mut buf);
        gemm(
            out,
            View::n(vs, n, self.n_visible),
            View::n(&self.w, self.n_visible, self.n_hidden),
            1.0,
            true,
        );
    }

    /// `p(h_j = 1 | v)` for `n` rows of `v` into `out` (`n × H`).
    pub fn hidden_probabilities(&self, v: &[f32], out: &mut Vec<f32>) {
        self.hidden_input(v, out);
        dense::sigmoid_in_place(out);
    }

    /// The conditional mean of the visible units given hidden states `h` (`n × H`) into `out`:
    /// `σ(b + Wh)` for Bernoulli units, `b + σ·(Wh)` for Gaussian units.
    pub fn visible_means(&self, h: &[f32], out: &mut Vec<f32>) {
        let n = h.len() / self.n_hidden;
        out.resize(n * self.n_visible, 0.0);
        gemm(
            out,
            View::n(h, n, self.n_hidden),
            View::t(&self.w, self.n_visible, self.n_hidden),
            1.0,
            false,
        );
        match self.visible {
            VisibleKind::Bernoulli => {
                for row in out.chunks_exact_mut(self.n_visible) {
                    for (x, b) in row.iter_mut().zip(&self.b) {
                        *x += b;
                    }
                }
                dense::sigmoid_in_place(out);
            }
            VisibleKind::Gaussian => {
                for row in out.chunks_exact_mut(self.n_visible) {
                    for ((x, b), s) in row.iter_mut().zip(&self.b).zip(&self.sigma) {
                        *x = b + s * *x;
                    }
                }
            }
        }
    }

    /// Free energies `F(v)` of `n` rows of `v` (f64).
    pub fn free_energies(&self, v: &[f32]) -> Vec<f64> {
        let mut a = Vec::new();
        self.hidden_input(v, &mut a);
        v.chunks_exact(self.n_visible)
            .zip(a.chunks_exact(self.n_hidden))
            .map(|(row, act)| self.visible_term(row) - dense::softplus_sum(act, 1.0))
            .collect()
    }

    /// The visible part of the free energy: `−b·v` or `Σ (v_i − b_i)²/(2σ_i²)`.
    pub(crate) fn visible_term(&self, v: &[f32]) -> f64 {
        match self.visible {
            VisibleKind::Bernoulli => -v
                .iter()
                .zip(&self.b)
                .map(|(&x, &b)| x as f64 * b as f64)
                .sum::<f64>(),
            VisibleKind::Gaussian => v
                .iter()
                .zip(&self.b)
                .zip(&self.sigma)
                .map(|((&x, &b), &s)| {
                    let z = (x as f64 - b as f64) / s as f64;
                    0.5 * z * z
                })
                .sum(),
        }
    }

    /// The joint energy `E(v, h)` of one visible and one hidden state.
    pub fn joint_energy(&self, v: &[f32], h: &[f32]) -> f64 {
        let mut inter = 0.0f64;
        let mut hb = 0.0f64;
        for (j, (&hj, &cj)) in h.iter().zip(&self.c).enumerate() {
            if hj == 0.0 {
                continue;
            }
            hb += hj as f64 * cj as f64;
            let s: f64 = v
                .iter()
                .zip(self.w.chunks_exact(self.n_hidden))
                .enumerate()
                .map(|(i, (&vi, wi))| {
                    let x = match self.visible {
                        VisibleKind::Bernoulli => vi,
                        VisibleKind::Gaussian => vi / self.sigma[i],
                    };
                    x as f64 * wi[j] as f64
                })
                .sum();
            inter += hj as f64 * s;
        }
        self.visible_term(v) - hb - inter
    }

    /// Mean squared reconstruction error: rows of `v` → `p(h|v)` → `E[v|h]`, with mean-field
    /// hidden activations (no sampling), averaged over rows (summed over units).
    pub fn reconstruction_error(&self, v: &[f32]) -> f64 {
        let mut h = Vec::new();
        let mut r = Vec::new();
        self.hidden_probabilities(v, &mut h);
        self.visible_means(&h, &mut r);
        let n = v.len() / self.n_visible;
        v.iter()
            .zip(&r)
            .map(|(&a, &b)| {
                let d = a as f64 - b as f64;
                d * d
            })
            .sum::<f64>()
            / n.max(1) as f64
    }

    /// The log pseudo-likelihood `Σ_i log p(v_i | v_{−i})` of each binary row, summed over every
    /// unit (not estimated from one random unit), so it is a properly normalised conditional
    /// log-probability. Bernoulli visible units only.
    pub fn pseudo_log_likelihood(&self, v: &[f32]) -> Result<Vec<f64>, RbmError> {
        if self.visible != VisibleKind::Bernoulli {
            return Err(RbmError::Unsupported {
                what: "the pseudo-likelihood",
            });
        }
        let (nv, nh) = (self.n_visible, self.n_hidden);
        let mut a = Vec::new();
        self.hidden_input(v, &mut a);
        let mut shifted = vec![0.0f32; nh];
        Ok(v.chunks_exact(nv)
            .zip(a.chunks_exact(nh))
            .map(|(row, act)| {
                let base = dense::softplus_sum(act, 1.0);
                let mut total = 0.0f64;
                for ((&vi, wi), &bi) in row.iter().zip(self.w.chunks_exact(nh)).zip(&self.b) {
                    // s = +1 if the flip turns v_i on, −1 if it turns it off.
                    let s = 1.0 - 2.0 * vi;
                    for ((o, &x), &w) in shifted.iter_mut().zip(act).zip(wi) {
                        *o = x + s * w;
                    }
                    // ΔF = F(flipped) − F(v); p(v_i | rest) = σ(ΔF).
                    let df = -(s as f64) * bi as f64 - (dense::softplus_sum(&shifted, 1.0) - base);
                    total -= softplus(-df);
                }
                total
            })
            .collect())
    }

    /// The visible biases of the "base-rate" machine (no weights) whose visible means match the
    /// data: the logit of each unit's smoothed frequency for Bernoulli units, the mean for
    /// Gaussian ones. AIS starts from this machine.
    pub fn base_rate_biases(&self, data: &[f32]) -> Vec<f32> {
        let nv = self.n_visible;
        let n = (data.len() / nv).max(1) as f64;
        let mut mean = vec![0.0f64; nv];
        for row in data.chunks_exact(nv) {
            for (m, &x) in mean.iter_mut().zip(row) {
                *m += x as f64;
            }
        }
        match self.visible {
            VisibleKind::Bernoulli => mean
                .iter()
                .map(|&s| {
                    let p = (s + 0.5) / (n + 1.0);
                    (p / (1.0 - p)).ln() as f32
                })
                .collect(),
            VisibleKind::Gaussian => mean.iter().map(|&s| (s / n) as f32).collect(),
        }
    }

    fn to_f32(x: &[f64]) -> Vec<f32> {
        x.iter().map(|&v| v as f32).collect()
    }
}

impl Energy for Rbm {
    fn dim(&self) -> usize {
        self.n_visible
    }
    /// The free energy `F(v)` of one visible state.
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        check_dim(self.n_visible, x)?;
        let v = Self::to_f32(x);
        crate::energy::finite(self.free_energies(&v)[0])
    }
}

impl Gradient for Rbm {
    /// `∂F/∂v_i`: `−b_i − Σ_j σ(a_j) W_ij` (Bernoulli, the continuous extension) or
    /// `(v_i − b_i)/σ_i² − Σ_j σ(a_j) W_ij/σ_i` (Gaussian).
    fn energy_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.n_visible, x)?;
        let v = Self::to_f32(x);
        let mut a = Vec::new();
        self.hidden_input(&v, &mut a);
        let f = self.visible_term(&v) - dense::softplus_sum(&a, 1.0);
        let nh = self.n_hidden;
        let p: Vec<f64> = a.iter().map(|&t| crate::math::sigmoid(t as f64)).collect();
        for (i, g) in grad.iter_mut().enumerate() {
            let wi = &self.w[i * nh..(i + 1) * nh];
            let s: f64 = wi.iter().zip(&p).map(|(&w, &q)| w as f64 * q).sum();
            *g = match self.visible {
                VisibleKind::Bernoulli => -(self.b[i] as f64) - s,
                VisibleKind::Gaussian => {
                    let si = self.sigma[i] as f64;
                    (x[i] - self.b[i] as f64) / (si * si) - s / si
                }
            };
        }
        crate::energy::finite(f)
    }
}
