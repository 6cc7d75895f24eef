//! Tests of the annealers: they solve the known problems, respect budgets and survive NaN.

use super::*;
use crate::energy::EnergyError;
use crate::energy::{Energy, Gradient};
use crate::kernels::anneal::Cooled;
use crate::kernels::mcmc::SamplerKind;
use crate::rng::chain_stream;
use crate::run::{Control, Observer, RunContext, Termination};
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
            let r = anneal(&mut f, &x0, &s, seed, &mut RunContext::new()).unwrap();
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
    let r = anneal(&mut f, &[5.0, 5.0], &s, 1, &mut RunContext::new()).unwrap();
    assert_eq!(r.termination, Termination::BudgetExhausted);
    assert!(r.evaluations.cost() <= 300);
    let s = AnnealSettings {
        target_energy: Some(0.5),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let r = anneal(&mut f, &[5.0, 5.0], &s, 1, &mut RunContext::new()).unwrap();
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
    let r = anneal(&mut HalfNan, &[0.5, 3.0], &s, 3, &mut RunContext::new()).unwrap();
    assert!(r.non_finite > 0);
    assert!(r.best_energy < 1e-8 && r.best_energy.is_finite(), "{r:?}");
    let r = anneal(&mut HalfNan, &[-1.0, 0.0], &s, 3, &mut RunContext::new()).unwrap();
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
    let a = blog_anneal(&mut Quadratic, &[5.0, 5.0], &s, 0, &mut RunContext::new()).unwrap();
    let b = blog_anneal(&mut Quadratic, &[5.0, 5.0], &s, 0, &mut RunContext::new()).unwrap();
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
        0,
        &mut RunContext::new().with_observer(StopAt(10)),
    )
    .unwrap();
    assert_eq!(r.termination, Termination::Interrupted);
    let s = BlogSettings::default().validate().unwrap();
    let r = blog_anneal(
        &mut Quadratic,
        &[5.0, 5.0],
        &s,
        0,
        &mut RunContext::new().with_observer(StopAt(10)),
    )
    .unwrap();
    assert_eq!(r.termination, Termination::Interrupted);
}

/// Annealing runs with any tuned MCMC kernel (through `Cooled`): MALA, HMC, NUTS and RWM all
/// reach the minimum of the 10-D Rosenbrock valley, and HMC, NUTS and RWM that of the
/// multimodal 10-D Ackley function (MALA's small Langevin steps freeze in Ackley's ripples, as
/// the annealer's own Cauchy proposals do not). The search box confines them: moves out of it
/// are rejected.
#[test]
fn annealing_runs_with_mcmc_kernels() {
    let all = [
        SamplerKind::Mala,
        SamplerKind::Hmc { steps: 5 },
        SamplerKind::Nuts { max_depth: 6 },
        SamplerKind::Rwm,
    ];
    for (name, kinds) in [("rosenbrock", &all[..]), ("ackley", &all[1..])] {
        let mut f = test_function(name, 10).unwrap();
        let s = settings_for(name, 10);
        for &kind in kinds {
            let kernel = Cooled::new(kind.build(10, 0.1));
            let b = f.domain();
            let mut rng = chain_stream(0, 9);
            let x0: Vec<f64> = (0..10)
                .map(|_| rng.random_range(b.lower..b.upper))
                .collect();
            let r = anneal_with(&mut f, kernel, &x0, &s, 2, &mut RunContext::new()).unwrap();
            assert!(
                r.best_energy < f.tolerance(),
                "{name} {kind:?}: {}",
                r.best_energy
            );
            if kind.uses_gradient() {
                // More gradients than one restart's steps: the kernel, not only L-BFGS, used them.
                assert!(
                    r.evaluations.gradient > 3500,
                    "{kind:?}: {:?}",
                    r.evaluations
                );
            }
        }
    }
}

/// The baseline is annealing with a fixed Gaussian walk at T₀·α^k: its temperatures follow the
/// walkthrough's cooling exactly.
#[test]
fn the_baseline_cools_geometrically() {
    struct Temps(Vec<f64>);
    impl<'a> Observer<AnnealEvent<'a>> for Temps {
        fn on_step(&mut self, e: &AnnealEvent<'a>) -> Control {
            self.0.push(e.temperature);
            Control::Continue
        }
    }
    let s = BlogSettings {
        iterations: 200,
        t_initial: 2.0,
        alpha: 0.97,
        ..Default::default()
    }
    .validate()
    .unwrap();
    let mut ctx = RunContext::new().with_observer(Temps(Vec::new()));
    blog_anneal(&mut Quadratic, &[5.0, 5.0], &s, 0, &mut ctx).unwrap();
    let t = ctx.into_observer().0;
    assert_eq!(t.len(), 200);
    for (k, v) in t.iter().enumerate() {
        let want = 2.0 * 0.97f64.powi(k as i32);
        assert!((v - want).abs() < 1e-12 * want, "{k}: {v} vs {want}");
    }
}

/// An energy finite only on the unit disc around (1, 1) (NaN elsewhere in its box).
struct Disc;
impl Energy for Disc {
    fn dim(&self) -> usize {
        2
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
        let r2 = (x[0] - 1.0).powi(2) + (x[1] - 1.0).powi(2);
        Ok(if r2 < 1.0 { r2 } else { f64::NAN })
    }
}
impl Gradient for Disc {
    fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
        g[0] = 2.0 * (x[0] - 1.0);
        g[1] = 2.0 * (x[1] - 1.0);
        self.energy(x)
    }
}

/// Restarts draw their start again until its energy is finite (the disc is 9 % of the box), so
/// even 20 iterations per restart anneal from a real state; leaving a state of infinite energy
/// for a finite one is not a divergence.
#[test]
fn restarts_start_where_the_energy_is_finite() {
    let s = AnnealSettings {
        bounds: Some(crate::systems::Bounds {
            lower: -2.0,
            upper: 4.0,
        }),
        iterations: Some(20),
        restarts: 8,
        confirmations: 0,
        refine: false,
        ..Default::default()
    }
    .validate()
    .unwrap();
    let r = anneal(&mut Disc, &[1.2, 1.0], &s, 5, &mut RunContext::new()).unwrap();
    assert_eq!(r.restarts.len(), 8);
    assert!(
        r.restarts.iter().all(|x| x.annealed_energy < 1.0),
        "{:?}",
        r.restarts
    );
    use crate::kernels::anneal::GaussianWalk;
    use crate::kernels::mcmc::State;
    use crate::kernels::Kernel;
    let mut st = State {
        x: vec![0.0, 0.0],
        energy: f64::INFINITY,
        grad: Vec::new(),
    };
    let info = GaussianWalk::new(0.1)
        .step(&mut Quadratic, &mut st, 1.0, &mut chain_stream(1, 0))
        .unwrap();
    assert!(info.accepted && !info.divergent && st.energy.is_finite());
}
