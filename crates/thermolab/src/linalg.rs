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

#[cfg(test)]
mod tests {
    use super::*;

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
