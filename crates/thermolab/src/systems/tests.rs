//! Tests of the built-in systems: gradients against finite differences, minima, exact log Z.

use super::*;
use crate::energy::{Energy, Gradient};
use proptest::prelude::*;

/// Central finite difference of `f` at `x` along every coordinate.
pub(crate) fn fd_grad<E: Energy + ?Sized>(f: &mut E, x: &[f64], h: f64) -> Vec<f64> {
    let mut xp = x.to_vec();
    (0..x.len())
        .map(|i| {
            let x0 = xp[i];
            xp[i] = x0 + h;
            let a = f.energy(&xp).unwrap();
            xp[i] = x0 - h;
            let b = f.energy(&xp).unwrap();
            xp[i] = x0;
            (a - b) / (2.0 * h)
        })
        .collect()
}

/// Checks the analytic gradient against finite differences with a mixed tolerance.
pub(crate) fn check_gradient<E: Gradient + ?Sized>(f: &mut E, x: &[f64]) {
    check_gradient_tol(f, x, 1e-5)
}

/// As [`check_gradient`] with tolerance `tol` (relative to 1 + |g|).
pub(crate) fn check_gradient_tol<E: Gradient + ?Sized>(f: &mut E, x: &[f64], tol: f64) {
    let mut g = vec![0.0; x.len()];
    let e = f.energy_grad(x, &mut g).unwrap();
    assert!((e - f.energy(x).unwrap()).abs() <= 1e-12 * (1.0 + e.abs()));
    let fd = fd_grad(f, x, 1e-6);
    for (a, b) in g.iter().zip(&fd) {
        // FD error ~ h² f''' + ε f / h: 1e-5 relative on these smooth functions.
        assert!(
            (a - b).abs() <= tol * (1.0 + a.abs()),
            "grad {a} vs fd {b} at {x:?}"
        );
    }
}

fn point(d: usize, lo: f64, hi: f64) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(lo..hi, d)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn quadratic_gradient(x in point(2, -10.0, 10.0)) { check_gradient(&mut Quadratic, &x); }
    #[test]
    fn rastrigin_gradient(x in point(5, -5.12, 5.12)) { check_gradient(&mut Rastrigin::new(5), &x); }
    #[test]
    fn ackley_gradient(x in point(4, -5.0, 5.0)) { check_gradient(&mut Ackley::new(4), &x); }
    #[test]
    fn rosenbrock_gradient(x in point(6, -2.0, 2.0)) { check_gradient(&mut Rosenbrock::new(6), &x); }
    #[test]
    fn isotropic_gradient(x in point(3, -3.0, 3.0)) {
        check_gradient(&mut IsotropicGaussian::new(vec![0.5, -1.0, 2.0], 0.7).unwrap(), &x);
    }
    #[test]
    fn ar1_gradient(x in point(7, -3.0, 3.0)) { check_gradient(&mut Ar1Gaussian::new(7, 0.9, 1.3).unwrap(), &x); }
    #[test]
    fn reflect_stays_in_box(v in -100.0f64..100.0) {
        let b = Bounds { lower: -1.5, upper: 2.0 };
        let r = b.reflect(v);
        prop_assert!((b.lower..=b.upper).contains(&r));
        if (b.lower..=b.upper).contains(&v) { prop_assert_eq!(r, v); }
    }
}

#[test]
fn minima_are_where_they_should_be() {
    for name in TEST_FUNCTIONS {
        let mut f = test_function(name, 6).unwrap();
        let xm = f.argmin();
        let fm = f.energy(&xm).unwrap();
        assert!((fm - f.minimum()).abs() < 1e-12, "{name}: {fm}");
        let mut g = vec![0.0; xm.len()];
        f.energy_grad(&xm, &mut g).unwrap();
        assert!(g.iter().all(|v| v.abs() < 1e-9), "{name}: gradient {g:?}");
    }
    assert!(test_function("nope", 2)
        .err()
        .unwrap()
        .message
        .contains("unknown function `nope`"));
    assert!(test_function("rosenbrock", 1).is_err());
}

/// Brute-force ∫ exp(−βE) on a 2-D grid, against the closed form.
#[test]
fn gaussian_log_z_matches_quadrature() {
    let mut g = Ar1Gaussian::new(2, 0.6, 0.8).unwrap();
    let beta = 1.7;
    let (h, n) = (0.01, 1200);
    let mut z = 0.0;
    for i in 0..n {
        for j in 0..n {
            let x = [
                (i as f64 - n as f64 / 2.0) * h,
                (j as f64 - n as f64 / 2.0) * h,
            ];
            z += (-beta * g.energy(&x).unwrap()).exp() * h * h;
        }
    }
    assert!(
        (z.ln() - g.log_z(beta)).abs() < 1e-6,
        "{} vs {}",
        z.ln(),
        g.log_z(beta)
    );
    let iso = IsotropicGaussian::new(vec![0.0; 3], 1.0).unwrap();
    assert!((iso.log_z(1.0) - 1.5 * (2.0 * std::f64::consts::PI).ln()).abs() < 1e-14);
    assert_eq!(iso.mean_energy(2.0), 0.75);
    assert!((g.covariance(0, 1) - 0.64 * 0.6).abs() < 1e-15);
}
