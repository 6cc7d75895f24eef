//! The single-precision kernel of the logistic-regression energy: features stored as f32
//! columns padded to a multiple of 8 rows, arithmetic in 8-wide f32 vectors, the energy's terms
//! and the gradient's dot products summed in f32 lanes and the lanes in f64. It computes the
//! energy of the data as rounded to f32 (a relative perturbation of 6·10⁻⁸ of each feature) with
//! rounding errors of about 10⁻⁸ relative (10⁻⁷ for the gradient) — far below anything a
//! sampler can resolve — in less than half the time of the f64 kernel.

use crate::math::{exp_f32, ln_1p_unit_f32};

/// Column-major f32 features with 0/1 targets and a row mask, and work buffers.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct F32Kernel {
    /// Features, `p` columns of `n_pad` rows (padding rows are zero).
    x: Vec<f32>,
    y: Vec<f32>,
    mask: Vec<f32>,
    n_pad: usize,
    p: usize,
    eta: Vec<f32>,
    ex: Vec<f32>,
    work: Vec<f32>,
    w: Vec<f32>,
}

impl F32Kernel {
    /// From column-major f64 features (`p` columns of `n` rows) and targets.
    pub(super) fn new(x: &[f64], y: &[f64], n: usize, p: usize) -> Self {
        let n_pad = n.div_ceil(8) * 8;
        let mut xs = vec![0.0f32; n_pad * p];
        for j in 0..p {
            for i in 0..n {
                xs[j * n_pad + i] = x[j * n + i] as f32;
            }
        }
        let mut ys = vec![0.0f32; n_pad];
        let mut mask = vec![0.0f32; n_pad];
        for i in 0..n {
            ys[i] = y[i] as f32;
            mask[i] = 1.0;
        }
        Self {
            x: xs,
            y: ys,
            mask,
            n_pad,
            p,
            eta: vec![0.0; n_pad],
            ex: vec![0.0; n_pad],
            work: vec![0.0; n_pad],
            w: vec![0.0; p],
        }
    }

    /// The likelihood energy `Σ_i [softplus(η_i) − y_i η_i]` and its gradient (weights, then
    /// bias) written into `g`.
    #[inline(always)]
    fn eval_impl<const FMA: bool>(&mut self, th: &[f64], g: &mut [f64]) -> f64 {
        let (np, p) = (self.n_pad, self.p);
        for (w, t) in self.w.iter_mut().zip(th) {
            *w = *t as f32;
        }
        let b = th[p] as f32;
        self.eta.iter_mut().for_each(|e| *e = b);
        // η = b + Σ_j w_j x_j, four columns per pass over η.
        let mut cols = self.x.chunks_exact(np);
        let mut ws = self.w.chunks_exact(4);
        for w4 in &mut ws {
            let (c0, c1, c2, c3) = (
                cols.next().expect("p columns"),
                cols.next().expect("p columns"),
                cols.next().expect("p columns"),
                cols.next().expect("p columns"),
            );
            for i in 0..np {
                let mut e = self.eta[i];
                if FMA {
                    e = w4[0].mul_add(c0[i], e);
                    e = w4[1].mul_add(c1[i], e);
                    e = w4[2].mul_add(c2[i], e);
                    e = w4[3].mul_add(c3[i], e);
                } else {
                    e += w4[0] * c0[i] + w4[1] * c1[i] + w4[2] * c2[i] + w4[3] * c3[i];
                }
                self.eta[i] = e;
            }
        }
        for (wj, col) in ws.remainder().iter().zip(cols) {
            for (e, x) in self.eta.iter_mut().zip(col) {
                *e = if FMA { wj.mul_add(*x, *e) } else { *e + wj * x };
            }
        }
        // Energy terms and residuals from one exponential e = exp(−|η|), in simple element-wise
        // passes that vectorise; the energy's terms go through `work` and are summed in f64.
        for (e, h) in self.ex.iter_mut().zip(&self.eta) {
            *e = exp_f32(-h.abs());
        }
        for (((t, h), e), (y, m)) in self
            .work
            .iter_mut()
            .zip(&self.eta)
            .zip(&self.ex)
            .zip(self.y.iter().zip(&self.mask))
        {
            *t = m * (h.max(0.0) + ln_1p_unit_f32(*e) - y * h);
        }
        for (((h, e), y), m) in self
            .eta
            .iter_mut()
            .zip(&self.ex)
            .zip(&self.y)
            .zip(&self.mask)
        {
            let num = if *h > 0.0 { 1.0 } else { *e };
            *h = m * (num / (1.0 + e) - y);
        }
        let energy = sum_f64(&self.work);
        // Gradient: g_j = x_jᵀ r.
        for (gj, col) in g.iter_mut().zip(self.x.chunks_exact(np)) {
            *gj = dot::<FMA>(col, &self.eta);
        }
        g[p] = sum_f64(&self.eta);
        energy
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn eval_avx2_fma(&mut self, th: &[f64], g: &mut [f64]) -> f64 {
        self.eval_impl::<true>(th, g)
    }

    /// Likelihood energy and gradient (runtime-dispatched to AVX2 + FMA where available).
    pub(super) fn eval(&mut self, th: &[f64], g: &mut [f64]) -> f64 {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above.
            return unsafe { self.eval_avx2_fma(th, g) };
        }
        self.eval_impl::<false>(th, g)
    }
}

/// `Σ a_i` in 16 f32 lanes (at most a few hundred terms each), the lanes summed in f64.
#[inline(always)]
fn sum_f64(a: &[f32]) -> f64 {
    let mut lanes = [0.0f32; 16];
    let mut it = a.chunks_exact(16);
    for x in &mut it {
        for l in 0..16 {
            lanes[l] += x[l];
        }
    }
    let rest: f64 = it.remainder().iter().map(|&v| v as f64).sum();
    lanes.iter().map(|&v| v as f64).sum::<f64>() + rest
}

/// `Σ a_i b_i` in 32 f32 lanes (four independent vector accumulators), the lanes summed in f64.
#[inline(always)]
fn dot<const FMA: bool>(a: &[f32], b: &[f32]) -> f64 {
    let mut lanes = [0.0f32; 32];
    let mut ia = a.chunks_exact(32);
    let mut ib = b.chunks_exact(32);
    for (x, y) in (&mut ia).zip(&mut ib) {
        for l in 0..32 {
            lanes[l] = if FMA {
                x[l].mul_add(y[l], lanes[l])
            } else {
                lanes[l] + x[l] * y[l]
            };
        }
    }
    let rest: f64 = ia
        .remainder()
        .iter()
        .zip(ib.remainder())
        .map(|(x, y)| *x as f64 * *y as f64)
        .sum();
    lanes.iter().map(|&v| v as f64).sum::<f64>() + rest
}
