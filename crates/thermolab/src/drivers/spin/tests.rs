//! Statistical tests of the temperature-sweep driver against Kaufman's exact finite lattice.

use super::*;
use crate::estimate::exact::{kaufman, CRITICAL_TEMPERATURE};

fn sweep_of(
    l: usize,
    alg: SpinAlgorithm,
    temps: &[f64],
    sweeps: usize,
    threads: usize,
) -> Vec<TemperaturePoint> {
    let model = lattice_model(2, l, 1.0, 0.0).unwrap();
    let s = SpinSweepSettings {
        temperatures: temps.to_vec(),
        algorithm: alg,
        sweeps,
        threads,
        ..Default::default()
    }
    .validate(&model)
    .unwrap();
    run_sweep(&s, 42, &mut RunContext::new()).unwrap().points
}

/// Every kernel's ⟨E⟩ and C within 4 standard errors of Kaufman at T = 2.0, T_c and 3.0 for
/// L = 8 and 16.
#[test]
fn every_kernel_matches_kaufman() {
    let temps = [2.0, CRITICAL_TEMPERATURE, 3.0];
    for alg in [
        SpinAlgorithm::Metropolis,
        SpinAlgorithm::HeatBath,
        SpinAlgorithm::Wolff,
        SpinAlgorithm::SwendsenWang,
        SpinAlgorithm::MultiSpin,
    ] {
        for l in [8, 16] {
            let sweeps = if alg == SpinAlgorithm::MultiSpin {
                2_000
            } else {
                30_000
            };
            for p in sweep_of(l, alg, &temps, sweeps, 0) {
                let k = kaufman(l, l, 1.0, p.temperature);
                let ze = p.energy.z_score(k.energy_per_site);
                let zc = p.heat_capacity.z_score(k.heat_capacity_per_site);
                assert!(
                    ze.abs() < 4.0 && zc.abs() < 4.0,
                    "{alg:?} L={l} T={}: e {:?} vs {}, c {:?} vs {}",
                    p.temperature,
                    p.energy,
                    k.energy_per_site,
                    p.heat_capacity,
                    k.heat_capacity_per_site
                );
            }
        }
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let a = sweep_of(8, SpinAlgorithm::Metropolis, &[2.0, 2.5, 3.0], 200, 1);
    let b = sweep_of(8, SpinAlgorithm::Metropolis, &[2.0, 2.5, 3.0], 200, 2);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.energy, y.energy);
        assert_eq!(x.heat_capacity, y.heat_capacity);
    }
}

#[test]
fn wolff_decorrelates_faster_than_metropolis_at_tc() {
    let w = &sweep_of(32, SpinAlgorithm::Wolff, &[CRITICAL_TEMPERATURE], 4000, 0)[0];
    let m = &sweep_of(
        32,
        SpinAlgorithm::Metropolis,
        &[CRITICAL_TEMPERATURE],
        4000,
        0,
    )[0];
    assert!(
        w.tau_abs_magnetization * 5.0 < m.tau_abs_magnetization,
        "{} vs {}",
        w.tau_abs_magnetization,
        m.tau_abs_magnetization
    );
}

/// Free energy per site at T = 2.0 (β = 0.5) by thermodynamic integration from β = 0, L = 16.
#[test]
fn thermodynamic_integration_matches_kaufman() {
    let n = 40;
    let betas: Vec<f64> = (1..=n).map(|k| 0.5 * k as f64 / n as f64).collect();
    let temps: Vec<f64> = betas.iter().map(|b| 1.0 / b).collect();
    let pts = sweep_of(16, SpinAlgorithm::Wolff, &temps, 20_000, 0);
    let u: Vec<Estimate> = pts.iter().map(|p| p.energy).collect();
    let ti = thermodynamic_integration(&betas, &u, 0.0);
    let last = ti.last().unwrap();
    let k = kaufman(16, 16, 1.0, 2.0);
    let z = last.free_energy_per_site.z_score(k.free_energy_per_site);
    assert!(
        z.abs() < 3.0,
        "{:?} vs {}",
        last.free_energy_per_site,
        k.free_energy_per_site
    );
    assert!(last.free_energy_per_site.se < 2e-3);
}

#[test]
fn settings_are_checked_against_the_model() {
    let model = lattice_model(2, 8, 1.0, 0.5).unwrap();
    let bad = |s: SpinSweepSettings| s.validate(&model).unwrap_err().field;
    assert_eq!(
        bad(SpinSweepSettings {
            algorithm: SpinAlgorithm::Wolff,
            ..Default::default()
        }),
        "algorithm"
    );
    assert_eq!(
        bad(SpinSweepSettings {
            temperatures: vec![-1.0],
            ..Default::default()
        }),
        "temperatures"
    );
    assert_eq!(
        bad(SpinSweepSettings {
            temperatures: vec![],
            ..Default::default()
        }),
        "temperatures"
    );
    assert_eq!(
        bad(SpinSweepSettings {
            sweeps: 0,
            ..Default::default()
        }),
        "sweeps"
    );
    let odd = lattice_model(2, 7, 1.0, 0.0).unwrap();
    let e = SpinSweepSettings {
        algorithm: SpinAlgorithm::MultiSpin,
        ..Default::default()
    }
    .validate(&odd);
    assert_eq!(e.unwrap_err().field, "algorithm");
}

/// A raised stop flag ends the sweep early with the measurements made so far.
#[test]
fn a_stop_flag_ends_a_sweep_with_its_measurements() {
    struct StopAt(crate::run::StopFlag);
    impl Observer<SweepEvent> for StopAt {
        fn on_step(&mut self, ev: &SweepEvent) -> crate::run::Control {
            if ev.sweeps >= 400 {
                self.0.raise();
            }
            crate::run::Control::Continue
        }
    }
    let model = lattice_model(2, 8, 1.0, 0.0).unwrap();
    let s = SpinSweepSettings {
        temperatures: vec![2.0, 3.0],
        sweeps: 10_000,
        thermalization: Some(100),
        report_every: 100,
        ..Default::default()
    }
    .validate(&model)
    .unwrap();
    let flag = crate::run::StopFlag::new();
    let mut ctx = RunContext::new()
        .with_stop(flag.clone())
        .with_observer(StopAt(flag));
    let r = run_sweep(&s, 1, &mut ctx).unwrap();
    assert_eq!(r.termination, Termination::Interrupted);
    for p in &r.points {
        assert!(
            p.measurements >= 300 && p.measurements < 1000,
            "{}",
            p.measurements
        );
        assert!(p.energy.value.is_finite() && p.energy.se > 0.0);
    }
}

/// ln Z of a QUBO (whose Ising form has a constant) by thermodynamic integration from β = 0,
/// against enumeration: the integration starts from the constant, not from 0.
#[test]
fn thermodynamic_integration_of_a_qubo_matches_enumeration() {
    use crate::estimate::exact::enumerate_ising;
    let n = 10;
    let mut terms = Vec::new();
    for i in 0..n {
        terms.push((i, i, 0.5 + 0.1 * i as f64));
        for j in (i + 1)..n {
            if (i * 7 + j * 3) % 4 == 0 {
                terms.push((i, j, if (i + j) % 2 == 0 { -1.0 } else { 0.7 }));
            }
        }
    }
    let g = Arc::new(IsingGraph::from_terms(n, terms, true).unwrap());
    assert!(g.offset() != 0.0);
    let model = SpinModel::Ising(g.clone());
    let k = 24;
    let betas: Vec<f64> = (1..=k).map(|i| i as f64 / k as f64).collect();
    let s = SpinSweepSettings {
        temperatures: betas.iter().map(|b| 1.0 / b).collect(),
        algorithm: SpinAlgorithm::HeatBath,
        sweeps: 20_000,
        threads: 1,
        ..Default::default()
    }
    .validate(&model)
    .unwrap();
    let r = run_sweep(&s, 5, &mut RunContext::new()).unwrap();
    let u: Vec<Estimate> = r.points.iter().map(|p| p.energy).collect();
    let ti = thermodynamic_integration(&betas, &u, model.infinite_temperature_energy().unwrap());
    let exact = enumerate_ising(&g, &[1.0]).unwrap()[0].log_z / n as f64;
    let last = ti.last().unwrap();
    let z = last.log_z_per_site.z_score(exact);
    assert!(z.abs() < 4.0, "{:?} vs exact {exact}", last.log_z_per_site);
}

/// A scan split by `first_temperature` measures what the whole scan does, temperature by
/// temperature.
#[test]
fn split_scans_measure_what_the_whole_scan_measures() {
    let model = lattice_model(2, 8, 1.0, 0.0).unwrap();
    let run = |temps: &[f64], first| {
        let s = SpinSweepSettings {
            temperatures: temps.to_vec(),
            sweeps: 500,
            first_temperature: first,
            threads: 1,
            ..Default::default()
        }
        .validate(&model)
        .unwrap();
        run_sweep(&s, 4, &mut RunContext::new()).unwrap().points
    };
    let whole = run(&[1.5, 2.0, 2.5], 0);
    let mut parts = run(&[1.5], 0);
    parts.extend(run(&[2.0, 2.5], 1));
    // Everything but the timings.
    let key = |p: &TemperaturePoint| {
        (
            p.energy,
            p.abs_magnetization,
            p.heat_capacity,
            p.susceptibility,
            p.binder,
            p.flip_attempts,
        )
    };
    assert_eq!(whole.len(), parts.len());
    for (a, b) in whole.iter().zip(&parts) {
        assert_eq!(key(a), key(b));
    }
}
