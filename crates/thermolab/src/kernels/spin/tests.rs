//! Tests of the spin kernels on systems small enough to enumerate.

use super::*;
use crate::estimate::exact::{enumerate_ising, enumerate_potts};
use crate::estimate::series::{jackknife, mean_by_blocks};
use crate::systems::spin::{IsingGraph, Lattice, Potts};
use rand::SeedableRng;

fn mean_se(x: &[f64]) -> (f64, f64) {
    let e = mean_by_blocks(x, 40);
    (e.value, e.se)
}

#[test]
fn multispin_measure_matches_the_replicas_and_replicas_stay_independent() {
    let mut rng = crate::rng::fast_stream(3, crate::rng::Purpose::Chain, 0);
    let mut ms = MultiSpin::new(6, 1.0, true, &mut rng).unwrap();
    let g = IsingGraph::lattice(Lattice::new(2, 6).unwrap(), 1.0, 0.0);
    for _ in 0..50 {
        ms.sweep(0.35, &mut rng);
    }
    let m = ms.measure();
    for r in [0, 17, 63] {
        let s = ms.replica(r);
        assert_eq!(m.energy[r], g.energy(&s));
        assert_eq!(m.magnetization[r], IsingGraph::magnetization(&s) as f64);
    }
    // Independent random numbers per lane: replicas do not coalesce.
    let distinct = (1..64).filter(|&r| ms.replica(r) != ms.replica(0)).count();
    assert_eq!(distinct, 63);
    assert!(MultiSpin::new(5, 1.0, true, &mut rng).is_err());
}

/// Multi-spin Metropolis on a 4×4 torus: pooled ⟨E⟩ of 64 replicas within 4 SE of enumeration.
#[test]
fn multispin_samples_the_exact_energy() {
    let g = IsingGraph::lattice(Lattice::new(2, 4).unwrap(), 1.0, 0.0);
    for beta in [0.3, 0.44, 0.7] {
        let exact = enumerate_ising(&g, &[beta]).unwrap()[0];
        let mut rng = crate::rng::fast_stream(11, crate::rng::Purpose::Chain, 0);
        let mut ms = MultiSpin::new(4, 1.0, true, &mut rng).unwrap();
        for _ in 0..200 {
            ms.sweep(beta, &mut rng);
        }
        let mut per_rep = vec![0.0; 64];
        let n = 3000;
        for _ in 0..n {
            ms.sweep(beta, &mut rng);
            for (p, e) in per_rep.iter_mut().zip(ms.measure().energy) {
                *p += e / n as f64;
            }
        }
        let b: Vec<[f64; 1]> = per_rep.iter().map(|v| [*v]).collect();
        let est = jackknife(&b, |m| m[0]);
        let z = est.z_score(exact.energy);
        assert!(
            z.abs() < 4.0,
            "β={beta}: {} ± {} vs {}",
            est.value,
            est.se,
            exact.energy
        );
    }
}

/// Every single-spin rule on lattices (tabulated) and graphs (direct), against enumeration.
#[test]
fn single_spin_rules_sample_the_exact_energy() {
    let mut grng = crate::rng::init_stream(4);
    let cases = [
        IsingGraph::lattice(Lattice::new(2, 4).unwrap(), 1.0, 0.3),
        IsingGraph::edwards_anderson(Lattice::new(2, 4).unwrap(), &mut grng),
        IsingGraph::sherrington_kirkpatrick(12, &mut grng),
        IsingGraph::lattice(Lattice::new(3, 2).unwrap(), 0.7, -0.2),
    ];
    for (ci, g) in cases.iter().enumerate() {
        for rule in [SpinRule::Metropolis, SpinRule::HeatBath] {
            let beta = 0.6;
            let exact = enumerate_ising(g, &[beta]).unwrap()[0];
            let tables = g
                .uniform()
                .map(|u| LatticeTables::new(rule, beta, u.j, u.h, u.lattice.z()));
            let mut rng = FastRng::seed_from_u64(ci as u64 * 10 + rule as u64);
            let mut s = vec![1i8; g.n()];
            let mut es = Vec::new();
            for k in 0..60_000 {
                sweep(g, &mut s, rule, beta, tables.as_ref(), &mut rng);
                if k >= 1000 {
                    es.push(g.energy(&s));
                }
            }
            let (m, se) = mean_se(&es);
            assert!(
                ((m - exact.energy) / se).abs() < 4.0,
                "case {ci} {rule:?}: {m} ± {se} vs {}",
                exact.energy
            );
        }
    }
}

#[test]
fn cluster_updates_sample_the_exact_energy() {
    let g = IsingGraph::lattice(Lattice::new(2, 4).unwrap(), 1.0, 0.0);
    for beta in [0.3, 0.5] {
        let exact = enumerate_ising(&g, &[beta]).unwrap()[0];
        for wolff in [true, false] {
            let mut rng = FastRng::seed_from_u64(7 + u64::from(wolff));
            let mut s = vec![1i8; 16];
            let (mut st, mut pa, mut fl) = (Vec::new(), Vec::new(), Vec::new());
            let mut es = Vec::new();
            for _ in 0..40_000 {
                if wolff {
                    wolff_sweep(&g, &mut s, beta, 3, &mut st, &mut rng);
                } else {
                    swendsen_wang(&g, &mut s, beta, &mut pa, &mut fl, &mut rng);
                }
                es.push(g.energy(&s));
            }
            let (m, se) = mean_se(&es);
            assert!(
                ((m - exact.energy) / se).abs() < 4.0,
                "wolff={wolff} β={beta}: {m} ± {se} vs {}",
                exact.energy
            );
        }
    }
}

#[test]
fn potts_rules_sample_the_exact_energy() {
    let p = Potts::square(3, 3, 1.0).unwrap();
    let beta = 0.8;
    let exact = enumerate_potts(&p, &[beta]).unwrap()[0];
    for rule in [SpinRule::Metropolis, SpinRule::HeatBath] {
        let mut rng = FastRng::seed_from_u64(21 + rule as u64);
        let mut s = vec![0u8; 9];
        let (mut c, mut w) = (Vec::new(), Vec::new());
        let mut es = Vec::new();
        for _ in 0..60_000 {
            potts_sweep(&p, &mut s, rule, beta, &mut c, &mut w, &mut rng);
            es.push(p.energy(&s));
        }
        let (m, se) = mean_se(&es);
        assert!(
            ((m - exact.energy) / se).abs() < 4.0,
            "{rule:?}: {m} ± {se} vs {}",
            exact.energy
        );
    }
}
