//! The single-precision kernel of a one-hidden-layer regression network's squared error
//! (`n_in → H → 1`, identity output): inputs and parameters rounded to f32, arithmetic in 8-wide
//! f32 vectors over rows, each unit's sums accumulated in f32 lanes and the lanes in f64. Two
//! passes per gradient: units forward, with the output accumulated on the fly, then units
//! backward, with each unit's gradient sums in lanes. The rounding is that of the f32 data
//! (about 10⁻⁷ relative), far below what a sampler resolves.

use crate::math::{exp_f32_g, madd_f32 as madd};
use crate::nn::Activation;

/// Rows per vector.
const L: usize = 8;

/// Unit-major f32 inputs (`n_in` rows of `n_pad`), targets, a row mask, and work buffers.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct OneHiddenF32 {
    n_in: usize,
    hidden: usize,
    act: Activation,
    n_pad: usize,
    x: Vec<f32>,
    y: Vec<f32>,
    mask: Vec<f32>,
    /// Hidden activations, `hidden × n_pad`.
    a: Vec<f32>,
    /// Output, then residual, per row.
    r: Vec<f32>,
    /// Lanes of `Σ δ_j x_k` per input, for the unit at hand.
    sx: Vec<[f32; L]>,
    /// Use the portable code even where AVX2 and FMA are available (to test it).
    portable: bool,
}

/// Activations as const-generic tags, so each kernel is compiled (and vectorised) for one.
const RELU: u8 = 0;
const IDENTITY: u8 = 1;
const SIGMOID: u8 = 2;
const TANH: u8 = 3;

/// The tag of an activation.
fn tag(act: Activation) -> u8 {
    match act {
        Activation::Relu => RELU,
        Activation::Identity => IDENTITY,
        Activation::Sigmoid => SIGMOID,
        Activation::Tanh => TANH,
    }
}

/// The activation in f32. tanh is `(1 − t)/(1 + t)` with `t = e^{−2|z|}` (absolute error near
/// 10⁻⁷, which is what f32 resolves around outputs of order one).
#[inline(always)]
fn act_f32<const FMA: bool, const ACT: u8>(z: f32) -> f32 {
    match ACT {
        RELU => z.max(0.0),
        IDENTITY => z,
        SIGMOID => 1.0 / (1.0 + exp_f32_g::<FMA>(-z)),
        _ => {
            let t = exp_f32_g::<FMA>(-2.0 * z.abs());
            ((1.0 - t) / (1.0 + t)).copysign(z)
        }
    }
}

/// The activation's derivative from its output (as in [`Activation::derivative`]).
#[inline(always)]
fn deriv_f32<const ACT: u8>(a: f32) -> f32 {
    match ACT {
        RELU => {
            if a > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        IDENTITY => 1.0,
        SIGMOID => a * (1.0 - a),
        _ => 1.0 - a * a,
    }
}

impl OneHiddenF32 {
    /// From row-major inputs (`n × n_in`) and one target per row.
    pub(super) fn new(
        x: &[f64],
        y: &[f64],
        n: usize,
        n_in: usize,
        hidden: usize,
        act: Activation,
    ) -> Self {
        let n_pad = n.div_ceil(L) * L;
        let mut xs = vec![0.0f32; n_in * n_pad];
        for i in 0..n {
            for k in 0..n_in {
                xs[k * n_pad + i] = x[i * n_in + k] as f32;
            }
        }
        let mut ys = vec![0.0f32; n_pad];
        let mut mask = vec![0.0f32; n_pad];
        for i in 0..n {
            ys[i] = y[i] as f32;
            mask[i] = 1.0;
        }
        Self {
            n_in,
            hidden,
            act,
            n_pad,
            x: xs,
            y: ys,
            mask,
            a: vec![0.0; hidden * n_pad],
            r: vec![0.0; n_pad],
            sx: vec![[0.0; L]; n_in],
            portable: false,
        }
    }

    /// Runs the portable (non-FMA) code from now on, whatever the CPU supports.
    #[cfg(test)]
    pub(super) fn force_portable(&mut self) {
        self.portable = true;
    }

    /// The sum of squared residuals `Σ_i (f_θ(x_i) − y_i)²` and, in `g`, its gradient, for the
    /// flat parameters of `n_in-H-1` (hidden weights row by row, hidden biases, output weights,
    /// output bias).
    #[inline(always)]
    fn eval_impl<const FMA: bool, const ACT: u8>(&mut self, th: &[f64], g: &mut [f64]) -> f64 {
        let (ni, h, np) = (self.n_in, self.hidden, self.n_pad);
        let (w1, rest) = th.split_at(ni * h);
        let (b1, rest) = rest.split_at(h);
        let (w2, b2) = rest.split_at(h);
        let b2 = b2[0] as f32;
        // Forward, unit by unit; the output accumulates in `r`, starting from b₂ − y.
        for (r, y) in self.r.iter_mut().zip(&self.y) {
            *r = b2 - y;
        }
        for j in 0..h {
            let (bj, vj) = (b1[j] as f32, w2[j] as f32);
            let aj = &mut self.a[j * np..(j + 1) * np];
            for i0 in (0..np).step_by(L) {
                let mut z = [bj; L];
                for k in 0..ni {
                    let wk = w1[j * ni + k] as f32;
                    let xk = &self.x[k * np + i0..k * np + i0 + L];
                    for l in 0..L {
                        z[l] = madd::<FMA>(wk, xk[l], z[l]);
                    }
                }
                // Local arrays first: the compiler vectorises these loops only when it can see
                // that nothing aliases.
                let mut av = [0.0f32; L];
                for l in 0..L {
                    av[l] = act_f32::<FMA, ACT>(z[l]);
                }
                let rc: &mut [f32; L] = (&mut self.r[i0..i0 + L]).try_into().expect("L rows");
                for l in 0..L {
                    rc[l] = madd::<FMA>(vj, av[l], rc[l]);
                }
                aj[i0..i0 + L].copy_from_slice(&av);
            }
        }
        // Residuals of the real rows, and their sum of squares and sum.
        let (mut ss, mut rs) = ([0.0f32; L], [0.0f32; L]);
        for i0 in (0..np).step_by(L) {
            let rc: &mut [f32; L] = (&mut self.r[i0..i0 + L]).try_into().expect("L rows");
            let m: &[f32; L] = self.mask[i0..i0 + L].try_into().expect("L rows");
            for l in 0..L {
                rc[l] *= m[l];
                ss[l] = madd::<FMA>(rc[l], rc[l], ss[l]);
                rs[l] += rc[l];
            }
        }
        // Backward, unit by unit: ∂/∂v_j = 2Σ r a_j, δ_j = r v_j f'(a_j), ∂/∂b_j = 2Σ δ_j,
        // ∂/∂W_jk = 2Σ δ_j x_k.
        let sum = |v: &[f32; L]| 2.0 * v.iter().map(|&x| x as f64).sum::<f64>();
        let (gw1, grest) = g.split_at_mut(ni * h);
        let (gb1, grest) = grest.split_at_mut(h);
        let (gw2, gb2) = grest.split_at_mut(h);
        gb2[0] = sum(&rs);
        for j in 0..h {
            let vj = w2[j] as f32;
            let aj = &self.a[j * np..(j + 1) * np];
            let (mut sa, mut sd) = ([0.0f32; L], [0.0f32; L]);
            let sx = &mut self.sx[..ni];
            sx.iter_mut().for_each(|s| *s = [0.0; L]);
            for i0 in (0..np).step_by(L) {
                let ac: &[f32; L] = aj[i0..i0 + L].try_into().expect("L rows");
                let rc: &[f32; L] = self.r[i0..i0 + L].try_into().expect("L rows");
                let mut dv = [0.0f32; L];
                for l in 0..L {
                    dv[l] = rc[l] * vj * deriv_f32::<ACT>(ac[l]);
                }
                for l in 0..L {
                    sa[l] = madd::<FMA>(rc[l], ac[l], sa[l]);
                }
                for l in 0..L {
                    sd[l] += dv[l];
                }
                // A loop over the inputs (of run-time length) keeps the compiler vectorising
                // across the L rows rather than across blocks.
                for (k, s) in sx.iter_mut().enumerate() {
                    let xc: &[f32; L] = self.x[k * np + i0..k * np + i0 + L]
                        .try_into()
                        .expect("L rows");
                    for l in 0..L {
                        s[l] = madd::<FMA>(dv[l], xc[l], s[l]);
                    }
                }
            }
            gw2[j] = sum(&sa);
            gb1[j] = sum(&sd);
            for (k, s) in sx.iter().enumerate() {
                gw1[j * ni + k] = sum(s);
            }
        }
        ss.iter().map(|&x| x as f64).sum()
    }

    /// [`Self::eval_impl`] for the network's activation.
    #[inline(always)]
    fn eval_act<const FMA: bool>(&mut self, th: &[f64], g: &mut [f64]) -> f64 {
        match tag(self.act) {
            RELU => self.eval_impl::<FMA, RELU>(th, g),
            IDENTITY => self.eval_impl::<FMA, IDENTITY>(th, g),
            SIGMOID => self.eval_impl::<FMA, SIGMOID>(th, g),
            _ => self.eval_impl::<FMA, TANH>(th, g),
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn eval_avx2_fma(&mut self, th: &[f64], g: &mut [f64]) -> f64 {
        self.eval_act::<true>(th, g)
    }

    /// Sum of squared residuals and its gradient (runtime-dispatched to AVX2 + FMA).
    pub(super) fn eval(&mut self, th: &[f64], g: &mut [f64]) -> f64 {
        #[cfg(target_arch = "x86_64")]
        if !self.portable
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above.
            return unsafe { self.eval_avx2_fma(th, g) };
        }
        self.eval_act::<false>(th, g)
    }
}
