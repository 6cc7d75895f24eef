//! Bayesian logistic regression: weights and bias with a `N(0, s²)` prior and a Bernoulli
//! likelihood, `E(θ) = Σ_i [log(1 + e^{η_i}) − y_i η_i] + ‖θ‖²/(2s²)`, `η = Xw + b`.
//!
//! Built in: scikit-learn's breast-cancer data (569 × 30), each column standardised to mean 0 and
//! population sd 1, with an N(0, 1) prior (31 parameters) — the W5 reference target.

use crate::data::{CsvSpec, Dataset};
use crate::energy::{check_dim, Energy, EnergyError, Gradient};
use crate::systems::ModelError;
use std::path::Path;

static BREAST_CANCER: &str = include_str!("../../../data/breast_cancer.csv");

/// A Bayesian logistic-regression posterior (parameters: `p` weights, then the bias).
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticRegression {
    /// Features, column-major (`p × n`).
    x: Vec<f64>,
    y: Vec<f64>,
    n: usize,
    p: usize,
    prior_sd: f64,
    eta: Vec<f64>,
    ex: Vec<f64>,
    /// The single-precision kernel (`None`: compute in f64).
    fast: Option<super::logistic_f32::F32Kernel>,
}

impl LogisticRegression {
    /// From a data set with one 0/1 target column; features are standardised when `standardise`.
    pub fn new(data: &Dataset, prior_sd: f64, standardise: bool) -> Result<Self, ModelError> {
        if data.n_targets != 1 {
            return Err(ModelError::new(
                "data",
                "logistic regression needs exactly one target column",
            ));
        }
        if let Some((i, v)) = data
            .y
            .iter()
            .enumerate()
            .find(|(_, v)| **v != 0.0 && **v != 1.0)
        {
            return Err(ModelError::new(
                "data",
                format!("row {}: target {v} is not 0 or 1", i + 1),
            ));
        }
        if !(prior_sd > 0.0 && prior_sd.is_finite()) {
            return Err(ModelError::new("prior_sd", "the prior sd must be > 0"));
        }
        let (n, p) = (data.n, data.n_inputs);
        let mut x = data.x.clone();
        if standardise {
            for j in 0..p {
                let mean = (0..n).map(|i| x[i * p + j]).sum::<f64>() / n as f64;
                let var = (0..n).map(|i| (x[i * p + j] - mean).powi(2)).sum::<f64>() / n as f64;
                let sd = if var > 0.0 { var.sqrt() } else { 1.0 };
                for i in 0..n {
                    x[i * p + j] = (x[i * p + j] - mean) / sd;
                }
            }
        }
        // Store the design matrix column by column: the gradient's loops then run over long
        // contiguous columns.
        let mut xt = vec![0.0; n * p];
        for i in 0..n {
            for j in 0..p {
                xt[j * n + i] = x[i * p + j];
            }
        }
        let fast = Some(super::logistic_f32::F32Kernel::new(&xt, &data.y, n, p));
        Ok(Self {
            x: xt,
            y: data.y.clone(),
            n,
            p,
            prior_sd,
            eta: vec![0.0; n],
            ex: vec![0.0; n],
            fast,
        })
    }
    /// Computes in double precision throughout (the default uses the f32 kernel: features
    /// rounded to f32, sums in f64, about 3× faster).
    pub fn double_precision(mut self) -> Self {
        self.fast = None;
        self
    }
    /// Runs the single-precision kernel's portable (non-FMA) code, as on CPUs without AVX2 and
    /// FMA (for tests; a no-op when the kernel is off).
    #[cfg(test)]
    pub(crate) fn force_portable(&mut self) {
        if let Some(k) = self.fast.as_mut() {
            k.force_portable();
        }
    }
    /// Whether the single-precision kernel is in use.
    pub fn single_precision(&self) -> bool {
        self.fast.is_some()
    }
    /// The built-in breast-cancer posterior with an N(0, 1) prior.
    pub fn breast_cancer() -> Self {
        Self::new(&Self::breast_cancer_data(), 1.0, true).expect("built-in data valid")
    }
    /// The built-in breast-cancer data set (scikit-learn's, 569 rows, 30 features).
    pub fn breast_cancer_data() -> Dataset {
        crate::data::parse_csv_text(
            BREAST_CANCER,
            Path::new("breast_cancer.csv"),
            &CsvSpec::default(),
        )
        .expect("built-in data parse")
    }
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.n
    }
}

impl Energy for LogisticRegression {
    fn dim(&self) -> usize {
        self.p + 1
    }
    fn energy(&mut self, th: &[f64]) -> Result<f64, EnergyError> {
        let mut g = vec![0.0; self.p + 1];
        self.energy_grad(th, &mut g)
    }
}

impl LogisticRegression {
    /// Energy and gradient as loops over contiguous columns (AXPYs and dot products of length
    /// n) that the compiler vectorises.
    #[inline(always)]
    fn eval_impl<const FMA: bool>(&mut self, th: &[f64], g: &mut [f64]) -> f64 {
        let (n, p) = (self.n, self.p);
        let (w, b) = (&th[..p], th[p]);
        let s2 = self.prior_sd * self.prior_sd;
        self.eta.iter_mut().for_each(|e| *e = b);
        for (wj, col) in w.iter().zip(self.x.chunks_exact(n)) {
            for (e, xv) in self.eta.iter_mut().zip(col) {
                *e = if FMA {
                    wj.mul_add(*xv, *e)
                } else {
                    *e + wj * xv
                };
            }
        }
        // Softplus and sigmoid from one exponential e = exp(−|η|), as separate element-wise
        // passes (each vectorises).
        for (e, h) in self.ex.iter_mut().zip(&self.eta) {
            *e = crate::math::exp_g::<FMA>(-h.abs());
        }
        let mut acc = [0.0f64; 8];
        for ((h, e), y) in self
            .eta
            .chunks_exact(8)
            .zip(self.ex.chunks_exact(8))
            .zip(self.y.chunks_exact(8))
        {
            for k in 0..8 {
                acc[k] += h[k].max(0.0) + crate::math::ln_1p_unit(e[k]) - y[k] * h[k];
            }
        }
        let done = n - n % 8;
        for k in done..n {
            let (h, e, y) = (self.eta[k], self.ex[k], self.y[k]);
            acc[0] += h.max(0.0) + crate::math::ln_1p_unit(e) - y * h;
        }
        for ((h, e), y) in self.eta.iter_mut().zip(&self.ex).zip(&self.y) {
            let sig = if *h > 0.0 { 1.0 } else { *e } / (1.0 + e);
            *h = sig - y; // the residual replaces η
        }
        let e_sum: f64 = acc.iter().sum();
        for (gj, (tj, col)) in g.iter_mut().zip(th.iter().zip(self.x.chunks_exact(n))) {
            let mut a = [0.0f64; 16];
            let (cc, rc) = (col.chunks_exact(16), self.eta.chunks_exact(16));
            let tail: f64 = cc
                .remainder()
                .iter()
                .zip(rc.remainder())
                .map(|(u, v)| u * v)
                .sum();
            for (u, v) in cc.zip(rc) {
                for k in 0..16 {
                    a[k] = if FMA {
                        u[k].mul_add(v[k], a[k])
                    } else {
                        a[k] + u[k] * v[k]
                    };
                }
            }
            *gj = tj / s2 + a.iter().sum::<f64>() + tail;
        }
        g[p] = b / s2 + self.eta.iter().sum::<f64>();
        e_sum + th.iter().map(|t| t * t).sum::<f64>() / (2.0 * s2)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn eval_avx2(&mut self, th: &[f64], g: &mut [f64]) -> f64 {
        self.eval_impl::<false>(th, g)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn eval_avx2_fma(&mut self, th: &[f64], g: &mut [f64]) -> f64 {
        self.eval_impl::<true>(th, g)
    }
}

impl Gradient for LogisticRegression {
    fn energy_grad(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.p + 1, th)?;
        if let Some(k) = self.fast.as_mut() {
            let lik = k.eval(th, g);
            let s2 = self.prior_sd * self.prior_sd;
            for (gi, t) in g.iter_mut().zip(th) {
                *gi += t / s2;
            }
            return crate::energy::finite(lik + th.iter().map(|t| t * t).sum::<f64>() / (2.0 * s2));
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            if std::arch::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU supports AVX2 and FMA, checked just above.
                return Ok(unsafe { self.eval_avx2_fma(th, g) });
            }
            // SAFETY: the CPU supports AVX2, checked just above.
            return Ok(unsafe { self.eval_avx2(th, g) });
        }
        Ok(self.eval_impl::<false>(th, g))
    }
}

impl crate::energy::LinearPath for LogisticRegression {
    fn log_z_reference(&self) -> Option<f64> {
        Some(0.0)
    }
    fn dim(&self) -> usize {
        self.p + 1
    }
    fn reference_energy(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        check_dim(self.p + 1, th)?;
        let s2 = self.prior_sd * self.prior_sd;
        for (gi, t) in g.iter_mut().zip(th) {
            *gi = t / s2;
        }
        let d = th.len() as f64;
        Ok(th.iter().map(|t| t * t).sum::<f64>() / (2.0 * s2)
            + 0.5 * d * (2.0 * std::f64::consts::PI * s2).ln())
    }
    fn delta_energy(&mut self, th: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        let e = self.energy_grad(th, g)?;
        let s2 = self.prior_sd * self.prior_sd;
        for (gi, t) in g.iter_mut().zip(th) {
            *gi -= t / s2;
        }
        Ok(e - th.iter().map(|t| t * t).sum::<f64>() / (2.0 * s2))
    }
    fn sample_reference<R: rand::Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) -> bool {
        use rand_distr::{Distribution, StandardNormal};
        for o in out.iter_mut() {
            let z: f64 = StandardNormal.sample(rng);
            *o = self.prior_sd * z;
        }
        true
    }
}
