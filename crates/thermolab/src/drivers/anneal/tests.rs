//! Tests of the annealers: they solve the known problems, respect budgets and survive NaN.

use super::*;
use crate::energy::EnergyError;
use crate::energy::{Energy, Gradient};
use crate::observe::{Control, Observer, Termination};
use crate::rng::chain_stream;
use crate::systems::{test_function, Quadratic};
use rand::Rng;

fn settings_for(name: &str, dim: usize) -> ValidAnnealSettings {
    let f = test_function(name, dim).unwrap();
    AnnealSettings {
        bounds: Some(f.domain()),
        ..Default::default()
    }
    .validate()
    .unwrap()
}

#[test]
fn solves_the_ten_dimensional_test_functions() {
    for name in ["rastrigin", "ackley", "rosenbrock"] {
        let mut f = test_function(name, 10).unwrap();
        let s = settings_for(name, 10);
        for seed in 0..3 {
            let mut rng = chain_stream(seed, 0);
            let b = f.domain();
            let x0: Vec<f64> = (0..10)
                .map(|_| rng.random_range(b.lower..b.upper))
                .collect();
            let r = anneal(&mut f, &x0, &s, &mut rng, &mut ()).unwrap();
            assert!(r.best_energy < f.tolerance(), "{name} seed {seed}: {r:?}");
            assert!(r.evaluations.cost() > 0);
        }
    }
}

#[test]
fn budget_and_target_stop_the_run() {
    let mut f = Quadratic;
    let s = AnnealSettings {
        max_evaluations: Some(300),
        refine: false,
        ..Default::default()
    }
    .validate()
    .unwrap();
    let r = anneal(&mut f, &[5.0, 5.0], &s, &mut chain_stream(1, 0), &mut ()).unwrap();
    assert_eq!(r.termination, Termination::BudgetExhausted);
    assert!(r.evaluations.cost() <= 300);
    let s = AnnealSettings {
        target_energy: Some(0.5),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let r = anneal(&mut f, &[5.0, 5.0], &s, &mut chain_stream(1, 0), &mut ()).unwrap();
    assert_eq!(r.termination, Termination::TargetReached);
    assert!(r.best_energy <= 0.5);
}

/// An energy that is NaN on half the plane: moves there are counted and rejected.
struct HalfNan;
impl Energy for HalfNan {
    fn dim(&self) -> usize {
        2
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        Ok(if x[0] < 0.0 {
            f64::NAN
        } else {
            (x[0] - 1.0).powi(2) + x[1] * x[1]
        })
    }
}
impl Gradient for HalfNan {
    fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        g[0] = 2.0 * (x[0] - 1.0);
        g[1] = 2.0 * x[1];
        self.energy(x)
    }
}

#[test]
fn nan_regions_are_counted_rejections() {
    let s = AnnealSettings::default().validate().unwrap();
    let r = anneal(
        &mut HalfNan,
        &[0.5, 3.0],
        &s,
        &mut chain_stream(3, 0),
        &mut (),
    )
    .unwrap();
    assert!(r.non_finite > 0);
    assert!(r.best_energy < 1e-8 && r.best_energy.is_finite(), "{r:?}");
    let r = anneal(
        &mut HalfNan,
        &[-1.0, 0.0],
        &s,
        &mut chain_stream(3, 0),
        &mut (),
    )
    .unwrap();
    assert_eq!(r.termination, Termination::Diverged);
}

#[test]
fn settings_are_validated_with_field_names() {
    let bad = AnnealSettings {
        target_acceptance: 1.5,
        ..Default::default()
    };
    assert_eq!(bad.validate().unwrap_err().field, "target_acceptance");
    let bad = AnnealSettings {
        restarts: 0,
        ..Default::default()
    };
    assert_eq!(bad.validate().unwrap_err().field, "restarts");
    assert!(BlogSettings {
        alpha: 0.0,
        ..Default::default()
    }
    .validate()
    .is_err());
    assert!(BlogSettings {
        step: -1.0,
        ..Default::default()
    }
    .validate()
    .is_err());
}

#[test]
fn blog_baseline_reaches_the_quadratic_minimum_and_is_reproducible() {
    let s = BlogSettings::default().validate().unwrap();
    let a = blog_anneal(
        &mut Quadratic,
        &[5.0, 5.0],
        &s,
        &mut chain_stream(0, 0),
        &mut (),
    )
    .unwrap();
    let b = blog_anneal(
        &mut Quadratic,
        &[5.0, 5.0],
        &s,
        &mut chain_stream(0, 0),
        &mut (),
    )
    .unwrap();
    assert_eq!(a, b);
    assert!(a.best_energy < 1e-2, "{a:?}");
    assert_eq!(a.evaluations.energy, 1001);
}

struct StopAt(usize);
impl<'a> Observer<AnnealEvent<'a>> for StopAt {
    fn on_step(&mut self, e: &AnnealEvent<'a>) -> Control {
        if e.iteration + 1 >= self.0 {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

#[test]
fn an_observer_can_interrupt() {
    let s = AnnealSettings::default().validate().unwrap();
    let r = anneal(
        &mut Quadratic,
        &[5.0, 5.0],
        &s,
        &mut chain_stream(0, 0),
        &mut StopAt(10),
    )
    .unwrap();
    assert_eq!(r.termination, Termination::Interrupted);
    let s = BlogSettings::default().validate().unwrap();
    let r = blog_anneal(
        &mut Quadratic,
        &[5.0, 5.0],
        &s,
        &mut chain_stream(0, 0),
        &mut StopAt(10),
    )
    .unwrap();
    assert_eq!(r.termination, Termination::Interrupted);
}
