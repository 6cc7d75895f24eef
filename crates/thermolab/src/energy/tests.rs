//! Tests of the energy contracts: adapters, tempering, counting and error classes.

use super::*;

/// E(x) = ½‖x‖² + x₀, a small energy with an easy gradient.
struct Bowl;
impl Energy for Bowl {
    fn dim(&self) -> usize {
        2
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        check_dim(2, x)?;
        Ok(0.5 * (x[0] * x[0] + x[1] * x[1]) + x[0])
    }
}
impl Gradient for Bowl {
    fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        g[0] = x[0] + 1.0;
        g[1] = x[1];
        self.energy(x)
    }
}

#[test]
fn log_density_round_trip_preserves_value_and_gradient() {
    let x = [0.3, -1.2];
    let mut g0 = [0.0; 2];
    let e0 = Bowl.energy_grad(&x, &mut g0).unwrap();
    let mut ld = AsLogDensity(Bowl);
    let mut g1 = [0.0; 2];
    let lp = ld.log_density_grad(&x, &mut g1).unwrap();
    assert_eq!(lp, -e0);
    assert_eq!(g1, [-g0[0], -g0[1]]);
    let mut back = FromLogDensity(ld);
    let mut g2 = [0.0; 2];
    assert_eq!(back.energy_grad(&x, &mut g2).unwrap(), e0);
    assert_eq!(g2, g0);
    assert_eq!(back.energy(&x).unwrap(), e0);
}

#[test]
fn tempered_scales_energy_and_gradient() {
    let mut t = Tempered::new(Bowl, 0.25);
    let x = [1.0, 2.0];
    let mut g = [0.0; 2];
    let e = t.energy_grad(&x, &mut g).unwrap();
    assert_eq!(e, 0.25 * 3.5);
    assert_eq!(g, [0.5, 0.5]);
}

#[test]
fn counted_counts_each_kind_of_call() {
    let mut c = Counted::new(Bowl);
    let mut g = [0.0; 2];
    c.energy(&[0.0, 0.0]).unwrap();
    c.energy(&[0.0, 0.0]).unwrap();
    c.energy_grad(&[0.0, 0.0], &mut g).unwrap();
    assert_eq!(
        c.counts(),
        EvalCounts {
            energy: 2,
            gradient: 1
        }
    );
    assert_eq!(c.counts().cost(), 4);
}

#[test]
fn recoverability_separates_numerics_from_bad_input() {
    assert!(EnergyError::NonFinite { value: f64::NAN }.is_recoverable());
    assert!(EnergyError::OutOfSupport("sigma < 0".into()).is_recoverable());
    assert!(!EnergyError::DimensionMismatch {
        expected: 2,
        got: 3
    }
    .is_recoverable());
    assert!(!EnergyError::Data("NaN in row 3".into()).is_recoverable());
    assert_eq!(
        Bowl.energy(&[1.0]).unwrap_err(),
        EnergyError::DimensionMismatch {
            expected: 2,
            got: 1
        }
    );
}

#[test]
fn eval_maps_non_finite_values_to_recoverable_errors() {
    assert!(finite(f64::NAN).unwrap_err().is_recoverable());
    assert!(finite(f64::INFINITY).is_err());
    assert_eq!(finite(1.5), Ok(1.5));
    assert_eq!(eval(&mut Bowl, &[0.0, 0.0]), Ok(0.0));
}

/// On a path, the energy-only route and the gradient route agree; at t = 0 both give the
/// reference alone, even where the target is undefined.
#[test]
fn a_path_at_zero_is_its_reference_even_where_the_target_is_undefined() {
    use crate::energy::{LinearPath, PathAt, ReferencePath};
    #[derive(Clone)]
    struct HalfLine;
    impl Energy for HalfLine {
        fn dim(&self) -> usize {
            1
        }
        fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
            Ok(if x[0] < 0.0 {
                f64::NAN
            } else {
                0.5 * x[0] * x[0]
            })
        }
    }
    impl Gradient for HalfLine {
        fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
            g[0] = x[0];
            self.energy(x)
        }
    }
    let path = ReferencePath {
        target: HalfLine,
        ref_sd: 2.0,
    };
    let reference = {
        let mut g = [0.0];
        path.clone().reference_energy(&[-1.0], &mut g).unwrap()
    };
    let mut at0 = PathAt::new(path.clone(), 0.0);
    assert_eq!(at0.energy(&[-1.0]).unwrap(), reference);
    let mut g = [0.0];
    assert_eq!(at0.energy_grad(&[-1.0], &mut g).unwrap(), reference);
    let mut half = PathAt::new(path, 0.5);
    let (e, eg) = (
        half.energy(&[0.7]).unwrap(),
        half.energy_grad(&[0.7], &mut g).unwrap(),
    );
    assert!((e - eg).abs() < 1e-12, "{e} vs {eg}");
    assert!(eval(&mut half, &[-1.0]).is_err());
}
