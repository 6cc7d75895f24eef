//! f32 matrix products through faer on one thread, on row-major buffers: the dense work of the
//! Boltzmann machines and of the networks' posteriors.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// A row-major matrix view: `rows × cols` of `data`, optionally read transposed.
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    /// Read as the transpose of the stored `rows × cols` matrix.
    pub t: bool,
}

impl<'a> View<'a> {
    /// The stored matrix as is.
    pub fn n(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            t: false,
        }
    }
    /// The stored matrix, transposed.
    pub fn t(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            t: true,
        }
    }
    fn mat(&self) -> MatRef<'a, f32> {
        let m =
            MatRef::from_row_major_slice(&self.data[..self.rows * self.cols], self.rows, self.cols);
        if self.t {
            m.transpose()
        } else {
            m
        }
    }
    fn shape(&self) -> (usize, usize) {
        if self.t {
            (self.cols, self.rows)
        } else {
            (self.rows, self.cols)
        }
    }
}

/// `dst (m × n, row-major) = alpha · a · b` (or `+=` when `accumulate`), on one thread.
pub(crate) fn gemm(dst: &mut [f32], a: View<'_>, b: View<'_>, alpha: f32, accumulate: bool) {
    let (m, k) = a.shape();
    let (k2, n) = b.shape();
    assert_eq!(k, k2, "inner dimensions differ");
    let c = MatMut::from_row_major_slice_mut(&mut dst[..m * n], m, n);
    let acc = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    matmul(c, acc, a.mat(), b.mat(), alpha, Par::Seq);
    clear_upper_state();
}

/// faer's x86 kernels return with dirty upper vector registers; legacy-SSE code that follows
/// then runs many times slower (measured in `bench/DEPENDENCIES.md`). `vzeroupper` clears them.
#[inline]
fn clear_upper_state() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        #[target_feature(enable = "avx")]
        fn zero_upper() {
            core::arch::x86_64::_mm256_zeroupper()
        }
        // SAFETY: AVX support was detected at run time.
        unsafe { zero_upper() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemm_matches_loops_in_every_orientation() {
        let (m, k, n) = (7, 5, 3);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        let at: Vec<f32> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect();
        let bt: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
        let mut want = vec![0.0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                want[i * n + j] = (0..k).map(|l| a[i * k + l] * b[l * n + j]).sum();
            }
        }
        for (va, vb) in [
            (View::n(&a, m, k), View::n(&b, k, n)),
            (View::t(&at, k, m), View::n(&b, k, n)),
            (View::n(&a, m, k), View::t(&bt, n, k)),
            (View::t(&at, k, m), View::t(&bt, n, k)),
        ] {
            let mut c = vec![1.0f32; m * n];
            gemm(&mut c, va, vb, 2.0, true);
            for (x, w) in c.iter().zip(&want) {
                assert!((x - (1.0 + 2.0 * w)).abs() < 1e-5);
            }
        }
    }
}
