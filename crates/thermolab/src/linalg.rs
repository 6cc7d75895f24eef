//! Small dense linear algebra for mass matrices: Cholesky factorisation and triangular solves on
//! row-major `d × d` matrices. Mass matrices have d up to a few hundred, where a direct O(d³)
//! factorisation once per adaptation window costs microseconds to milliseconds.

/// Lower Cholesky factor `L` of a symmetric positive-definite row-major matrix `a` (`a = L Lᵀ`);
/// `None` if it is not positive definite.
pub fn cholesky(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let mut s = a[i * d + j];
            for k in 0..j {
                s -= l[i * d + k] * l[j * d + k];
            }
            if i == j {
                if !(s > 0.0 && s.is_finite()) {
                    return None;
                }
                l[i * d + i] = s.sqrt();
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    }
    Some(l)
}

/// `out = L x` for lower-triangular `L`.
pub fn lower_mul(l: &[f64], d: usize, x: &[f64], out: &mut [f64]) {
    for i in 0..d {
        out[i] = l[i * d..i * d + i + 1]
            .iter()
            .zip(x)
            .map(|(a, b)| a * b)
            .sum();
    }
}

/// Solves `L y = b` (forward substitution) in place.
pub fn lower_solve(l: &[f64], d: usize, b: &mut [f64]) {
    for i in 0..d {
        let s: f64 = l[i * d..i * d + i]
            .iter()
            .zip(&b[..i])
            .map(|(a, c)| a * c)
            .sum();
        b[i] = (b[i] - s) / l[i * d + i];
    }
}

/// Solves `Lᵀ y = b` (back substitution) in place.
pub fn lower_t_solve(l: &[f64], d: usize, b: &mut [f64]) {
    for i in (0..d).rev() {
        let mut s = b[i];
        for k in i + 1..d {
            s -= l[k * d + i] * b[k];
        }
        b[i] = s / l[i * d + i];
    }
}

/// `out = A x` for a dense row-major `A`.
pub fn mat_vec(a: &[f64], d: usize, x: &[f64], out: &mut [f64]) {
    for i in 0..d {
        out[i] = a[i * d..(i + 1) * d]
            .iter()
            .zip(x)
            .map(|(p, q)| p * q)
            .sum();
    }
}

/// The condition number `λ_max/λ_min` of a symmetric positive-definite `A`, by power iteration
/// on `A` and on `A⁻¹` (through its Cholesky factor): cheap, deterministic, accurate to a few
/// per cent, which is what choosing a metric needs. `None` unless `A` is positive definite.
pub fn condition_number(a: &[f64], d: usize) -> Option<f64> {
    let l = cholesky(a, d)?;
    let power = |apply: &dyn Fn(&mut Vec<f64>)| {
        let mut v: Vec<f64> = (0..d).map(|i| 1.0 + 0.1 * (i as f64).sin()).collect();
        let mut lambda = 0.0;
        for _ in 0..200 {
            let norm = dot4(&v, &v).sqrt();
            v.iter_mut().for_each(|x| *x /= norm);
            let before = v.clone();
            apply(&mut v);
            let next = dot4(&before, &v);
            if (next - lambda).abs() <= 1e-4 * next.abs() {
                return next;
            }
            lambda = next;
        }
        lambda
    };
    let big = power(&|v: &mut Vec<f64>| {
        let x = v.clone();
        sym_mat_vec(a, d, &x, v);
    });
    let inv = power(&|v: &mut Vec<f64>| {
        lower_solve(&l, d, v);
        lower_t_solve(&l, d, v);
    });
    Some(big * inv)
}

/// `out = A x` for a symmetric row-major `A`, as column updates `Σ_k x_k A[k, ·]` (element-wise,
/// so the AVX2 build, chosen at run time, rounds exactly like the portable one).
pub fn sym_mat_vec(a: &[f64], d: usize, x: &[f64], out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { sym_mat_vec_avx2(a, d, x, out) };
    }
    sym_mat_vec_impl(a, d, x, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn sym_mat_vec_avx2(a: &[f64], d: usize, x: &[f64], out: &mut [f64]) {
    sym_mat_vec_impl(a, d, x, out)
}

#[inline(always)]
fn sym_mat_vec_impl(a: &[f64], d: usize, x: &[f64], out: &mut [f64]) {
    // Blocks of outputs (16, then 8, 4, 2, 1 for the rest) stay in registers across all rows;
    // every output is summed over k in the same order whatever its block.
    let mut j0 = 0;
    while j0 + 16 <= d {
        column_block::<16>(a, d, x, j0, out);
        j0 += 16;
    }
    for w in [8, 4, 2, 1] {
        if j0 + w <= d {
            match w {
                8 => column_block::<8>(a, d, x, j0, out),
                4 => column_block::<4>(a, d, x, j0, out),
                2 => column_block::<2>(a, d, x, j0, out),
                _ => column_block::<1>(a, d, x, j0, out),
            }
            j0 += w;
        }
    }
}

#[inline(always)]
fn column_block<const W: usize>(a: &[f64], d: usize, x: &[f64], j0: usize, out: &mut [f64]) {
    let mut acc = [0.0f64; W];
    for (k, &xk) in x[..d].iter().enumerate() {
        let row: &[f64; W] = a[k * d + j0..k * d + j0 + W].try_into().expect("block");
        for l in 0..W {
            acc[l] += xk * row[l];
        }
    }
    out[j0..j0 + W].copy_from_slice(&acc);
}

/// A dot product summed in four fixed lanes (vectorisable, and the same on every build).
#[inline]
pub fn dot4(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    (acc[0] + acc[2]) + (acc[1] + acc[3]) + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condition_numbers_of_known_matrices() {
        let diag = [4.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.25];
        let k = condition_number(&diag, 3).unwrap();
        assert!((k - 16.0).abs() < 0.2, "{k}");
        // [[1, ρ], [ρ, 1]] has eigenvalues 1 ± ρ.
        let rho = 0.9;
        let k = condition_number(&[1.0, rho, rho, 1.0], 2).unwrap();
        assert!((k - 19.0).abs() < 0.2, "{k}");
        assert!(condition_number(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
    }

    #[test]
    fn symmetric_products_match_the_plain_ones() {
        for d in [1usize, 3, 8, 13, 30] {
            let b: Vec<f64> = (0..d * d)
                .map(|i| ((i * 7 % 11) as f64 - 5.0) * 0.1)
                .collect();
            let a: Vec<f64> = (0..d * d).map(|k| b[k] + b[(k % d) * d + k / d]).collect();
            let x: Vec<f64> = (0..d).map(|i| (i as f64 * 0.37).sin()).collect();
            let (mut want, mut got) = (vec![0.0; d], vec![0.0; d]);
            mat_vec(&a, d, &x, &mut want);
            sym_mat_vec(&a, d, &x, &mut got);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 1e-12, "d = {d}: {g} vs {w}");
            }
            let plain: f64 = x.iter().zip(&want).map(|(p, q)| p * q).sum();
            assert!((dot4(&x, &want) - plain).abs() < 1e-12);
        }
    }

    #[test]
    fn cholesky_and_solves_invert_each_other() {
        let d = 4;
        let b: Vec<f64> = (0..16).map(|i| ((i * 7 % 5) as f64 - 2.0) * 0.3).collect();
        // A = B Bᵀ + I is positive definite.
        let mut a = vec![0.0; 16];
        for i in 0..d {
            for j in 0..d {
                a[i * d + j] = (0..d).map(|k| b[i * d + k] * b[j * d + k]).sum::<f64>()
                    + if i == j { 1.0 } else { 0.0 };
            }
        }
        let l = cholesky(&a, d).unwrap();
        for i in 0..d {
            for j in 0..d {
                let v: f64 = (0..d).map(|k| l[i * d + k] * l[j * d + k]).sum();
                assert!((v - a[i * d + j]).abs() < 1e-12);
            }
        }
        let x = [1.0, -2.0, 0.5, 3.0];
        let mut y = vec![0.0; 4];
        lower_mul(&l, d, &x, &mut y);
        lower_solve(&l, d, &mut y);
        assert!(y.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-12));
        let mut z = x.to_vec();
        lower_t_solve(&l, d, &mut z);
        let mut back = [0.0; 4];
        for i in 0..d {
            back[i] = (0..d).map(|k| l[k * d + i] * z[k]).sum();
        }
        assert!(back.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-12));
        assert!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
    }
}
