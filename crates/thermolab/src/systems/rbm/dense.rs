//! Dense f32 building blocks for Boltzmann machines: matrix products (from `crate::gemm`), a
//! vectorisable logistic sigmoid, a softplus for free energies, and fast uniform variates.

pub(crate) use crate::gemm::{gemm, View};

/// The logistic sigmoid in f32 (absolute error below 1e-7).
#[inline(always)]
pub(crate) fn sigmoid_f32(x: f32) -> f32 {
    1.0 / (1.0 + crate::math::exp_f32(-x))
}

#[inline(always)]
fn sigmoid_slice_body(xs: &mut [f32]) {
    for x in xs.iter_mut() {
        *x = sigmoid_f32(*x);
    }
}

/// Replaces every element by its logistic sigmoid.
pub(crate) fn sigmoid_in_place(xs: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        #[target_feature(enable = "avx2,fma")]
        fn wide(xs: &mut [f32]) {
            sigmoid_slice_body(xs)
        }
        // SAFETY: AVX2 and FMA support were detected at run time.
        unsafe { wide(xs) };
        return;
    }
    sigmoid_slice_body(xs)
}

/// `ln(1 + e^x)` in f64, relative error below 1e-11; branch-free so that loops over it vectorise.
#[inline(always)]
pub fn softplus(x: f64) -> f64 {
    softplus_g::<false>(x)
}

/// [`softplus`] with fused multiply-adds when `FMA` (call only from `fma`-enabled code).
///
/// `e^{−|x|}` by range reduction and a degree-11 Taylor polynomial on |r| ≤ ln2/2, then
/// `ln(1 + t) = 2 atanh(t/(2 + t))` with `t/(2 + t) ≤ 1/3` and ten terms of the series.
#[inline(always)]
fn softplus_g<const FMA: bool>(x: f64) -> f64 {
    use crate::math::{madd, LN2_HI, LN2_LO, LOG2E, SHIFTER};
    let a = (-x.abs()).max(-700.0);
    let t = a * LOG2E + SHIFTER;
    let n = t - SHIFTER;
    let r = (a - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.0 / 39_916_800.0;
    for c in [
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = madd::<FMA>(p, r, c);
    }
    let e = p * f64::from_bits(((n as i64 + 1023) << 52) as u64);
    let s = e / (2.0 + e);
    let s2 = s * s;
    let mut q = 1.0 / 21.0;
    for k in (0..10).rev() {
        q = madd::<FMA>(q, s2, 1.0 / (2 * k + 1) as f64);
    }
    x.max(0.0) + 2.0 * s * q
}

/// `Σ softplus(scale · x_j)` over a slice, in f64.
#[inline]
pub(crate) fn softplus_sum(xs: &[f32], scale: f64) -> f64 {
    #[inline(always)]
    fn body<const FMA: bool>(xs: &[f32], scale: f64) -> f64 {
        let mut s = [0.0f64; 4];
        let chunks = xs.chunks_exact(4);
        let rest = chunks.remainder();
        for c in chunks {
            for l in 0..4 {
                s[l] += softplus_g::<FMA>(scale * c[l] as f64);
            }
        }
        let mut t = (s[0] + s[1]) + (s[2] + s[3]);
        for &x in rest {
            t += softplus_g::<FMA>(scale * x as f64);
        }
        t
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        #[target_feature(enable = "avx2,fma")]
        fn wide(xs: &[f32], scale: f64) -> f64 {
            body::<true>(xs, scale)
        }
        // SAFETY: AVX2 and FMA support were detected at run time.
        return unsafe { wide(xs, scale) };
    }
    body::<false>(xs, scale)
}

/// Fills `out` with uniforms on [0, 1) with 24 random bits each.
#[inline]
pub(crate) fn fill_uniform<R: rand::RngCore + ?Sized>(rng: &mut R, out: &mut [f32]) {
    const SCALE: f32 = 1.0 / 16_777_216.0;
    let mut pairs = out.chunks_exact_mut(2);
    for p in &mut pairs {
        let r = rng.next_u64();
        p[0] = (r >> 40) as f32 * SCALE;
        p[1] = ((r >> 8) & 0xff_ffff) as f32 * SCALE;
    }
    for x in pairs.into_remainder() {
        *x = (rng.next_u64() >> 40) as f32 * SCALE;
    }
}

/// Replaces each probability `p` by a Bernoulli(p) draw (1.0 or 0.0), using `uniform` scratch.
#[inline]
pub(crate) fn bernoulli_in_place<R: rand::RngCore + ?Sized>(
    rng: &mut R,
    p: &mut [f32],
    uniform: &mut Vec<f32>,
) {
    uniform.resize(p.len(), 0.0);
    fill_uniform(rng, uniform);
    for (x, &u) in p.iter_mut().zip(uniform.iter()) {
        *x = if u < *x { 1.0 } else { 0.0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_and_softplus_match_the_standard_library() {
        let mut worst_s = 0.0f64;
        let mut worst_p = 0.0f64;
        for i in -40_000..40_000 {
            let x = i as f64 * 0.0025;
            let mut v = [x as f32];
            sigmoid_in_place(&mut v);
            let exact = 1.0 / (1.0 + (-(x as f32) as f64).exp());
            worst_s = worst_s.max((v[0] as f64 - exact).abs());
            let sp = x.max(0.0) + (-x.abs()).exp().ln_1p();
            worst_p = worst_p.max((softplus(x) - sp).abs() / sp.max(1e-300));
        }
        assert!(worst_s < 2e-7, "sigmoid error {worst_s}");
        assert!(worst_p < 1e-11, "softplus error {worst_p}");
        assert!((softplus(-800.0)).abs() < 1e-300 && softplus(800.0) == 800.0);
        let xs: Vec<f32> = (0..37).map(|i| i as f32 * 0.3 - 5.0).collect();
        let direct: f64 = xs.iter().map(|&x| softplus(2.0 * x as f64)).sum();
        assert!((softplus_sum(&xs, 2.0) - direct).abs() < 1e-12);
    }

    #[test]
    fn uniforms_are_uniform() {
        let mut rng = crate::rng::fast_from(&mut crate::rng::init_stream(3));
        let mut u = vec![0.0f32; 100_001];
        fill_uniform(&mut rng, &mut u);
        let mean = u.iter().map(|&x| x as f64).sum::<f64>() / u.len() as f64;
        assert!((mean - 0.5).abs() < 4.0 * (1.0 / 12.0f64 / u.len() as f64).sqrt());
        assert!(u.iter().all(|&x| (0.0..1.0).contains(&x)));
    }
}
