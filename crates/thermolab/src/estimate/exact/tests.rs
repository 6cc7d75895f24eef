//! Tests of the exact layer: enumeration against brute force, Kaufman against enumeration and
//! Onsager, the density of states against enumeration.

use super::*;
use crate::systems::spin::{IsingGraph, Lattice, Potts};

/// Brute force: every state, energy computed from scratch, plain sums (small systems only).
fn brute(g: &IsingGraph, beta: f64) -> (f64, f64, f64) {
    let n = g.n();
    let (mut z, mut e1, mut e2) = (0.0, 0.0, 0.0);
    for k in 0..(1u64 << n) {
        let s: Vec<i8> = (0..n)
            .map(|i| if k >> i & 1 == 1 { 1 } else { -1 })
            .collect();
        let e = g.energy(&s);
        let w = (-beta * e).exp();
        z += w;
        e1 += w * e;
        e2 += w * e * e;
    }
    (z.ln(), e1 / z, beta * beta * (e2 / z - (e1 / z).powi(2)))
}

#[test]
fn enumeration_matches_brute_force_on_assorted_models() {
    let mut rng = crate::rng::init_stream(5);
    let models = [
        IsingGraph::lattice(Lattice::new(2, 3).unwrap(), 1.0, 0.3),
        IsingGraph::edwards_anderson(Lattice::new(2, 3).unwrap(), &mut rng),
        IsingGraph::sherrington_kirkpatrick(10, &mut rng),
    ];
    for g in &models {
        let pts = enumerate_ising(g, &[0.0, 0.4, 1.3]).unwrap();
        for p in pts {
            let (lz, u, c) = brute(g, p.beta);
            assert!(
                (p.log_z - lz).abs() < 1e-11 * lz.abs().max(1.0),
                "{} vs {lz}",
                p.log_z
            );
            assert!((p.energy - u).abs() < 1e-9 * (1.0 + u.abs()));
            assert!((p.heat_capacity - c).abs() < 1e-8 * (1.0 + c.abs()));
        }
    }
    // β = 0: ln Z = N ln 2.
    let g = &models[0];
    let p0 = enumerate_ising(g, &[0.0]).unwrap()[0];
    assert!((p0.log_z - 9.0 * 2f64.ln()).abs() < 1e-12);
}

#[test]
fn density_of_states_reproduces_enumeration() {
    let g = IsingGraph::lattice(Lattice::new(2, 4).unwrap(), 1.0, 0.0);
    let dos = density_of_states(&g).unwrap();
    // The 4×4 torus: g(E) sums to 2^16; ground states are the two aligned states at E = −32.
    let total: f64 = dos.log_g.iter().map(|l| l.exp()).sum();
    assert!((total - 65536.0).abs() < 1e-6);
    assert_eq!(dos.energies[0], -32.0);
    assert!((dos.log_g[0] - 2f64.ln()).abs() < 1e-12);
    for beta in [0.1, 0.44, 1.0] {
        let a = dos.at(beta);
        let b = enumerate_ising(&g, &[beta]).unwrap()[0];
        assert!((a.log_z - b.log_z).abs() < 1e-12 * b.log_z.abs());
        assert!((a.heat_capacity - b.heat_capacity).abs() < 1e-9 * b.heat_capacity);
    }
    let sk = IsingGraph::sherrington_kirkpatrick(4, &mut crate::rng::init_stream(1));
    assert!(density_of_states(&sk).is_err());
}

/// An `m × n` torus (m rows of n) as a graph, for rectangular Kaufman checks.
fn torus(m: usize, n: usize) -> IsingGraph {
    let idx = |r: usize, c: usize| (r % m * n + c % n) as u32;
    let mut bonds = Vec::new();
    for r in 0..m {
        for c in 0..n {
            bonds.push((idx(r, c), idx(r, c + 1), 1.0));
            bonds.push((idx(r, c), idx(r + 1, c), 1.0));
        }
    }
    IsingGraph::from_bonds(m * n, bonds, vec![0.0; m * n]).unwrap()
}

#[test]
fn kaufman_matches_enumeration_to_1e12() {
    for (m, n) in [(4, 4), (3, 4), (4, 3), (4, 5)] {
        let g = torus(m, n);
        for t in [1.0, 2.0, CRITICAL_TEMPERATURE, 2.5, 4.0] {
            let k = kaufman(m, n, 1.0, t);
            let e = enumerate_ising(&g, &[1.0 / t]).unwrap()[0];
            let sites = (m * n) as f64;
            let rel = (k.log_z_per_site - e.log_z / sites).abs() / (e.log_z / sites);
            assert!(
                rel < 1e-12,
                "{m}x{n} T={t}: {} vs {}",
                k.log_z_per_site,
                e.log_z / sites
            );
            let du = k.energy_per_site - e.energy / sites;
            let dc = k.heat_capacity_per_site - e.heat_capacity / sites;
            assert!(du.abs() < 1e-10, "{m}x{n} T={t}: du = {du}");
            assert!(dc.abs() < 1e-9, "{m}x{n} T={t}: dc = {dc}");
        }
    }
}

#[test]
fn kaufman_approaches_onsager_and_is_fast_at_l_1024() {
    for t in [1.5, 2.0, 3.0, 4.0] {
        let o = onsager(1.0, t);
        let k = kaufman(256, 256, 1.0, t);
        // Below T_c the finite torus keeps both ordered states: ln Z/N exceeds the infinite
        // lattice's by ln 2 / N.
        let degeneracy = if t < CRITICAL_TEMPERATURE {
            t * 2f64.ln() / 65536.0
        } else {
            0.0
        };
        let df = k.free_energy_per_site - o.free_energy_per_site + degeneracy;
        assert!(df.abs() < 1e-9, "T={t}: {df}");
        assert!(
            (k.energy_per_site - o.energy_per_site).abs() < 1e-8,
            "T={t}"
        );
        assert!(
            (k.heat_capacity_per_site - o.heat_capacity_per_site).abs() < 1e-6,
            "T={t}"
        );
    }
    // Finite-size heat-capacity peak at T_c grows like (8/π) K_c² ln L.
    let c64 = kaufman(64, 64, 1.0, CRITICAL_TEMPERATURE).heat_capacity_per_site;
    let c256 = kaufman(256, 256, 1.0, CRITICAL_TEMPERATURE).heat_capacity_per_site;
    assert!(
        (c64 - 2.19).abs() < 0.01 && (c256 - 2.87).abs() < 0.01,
        "{c64} {c256}"
    );
    let t = std::time::Instant::now();
    let k = kaufman(1024, 1024, 1.0, CRITICAL_TEMPERATURE);
    assert!(t.elapsed().as_secs_f64() < 1.0 && k.log_z_per_site.is_finite());
}

#[test]
fn onsager_known_values() {
    // At T_c: u = −√2, f = −T_c (ln 2 / 2 + 2G/π) with Catalan's G.
    let o = onsager(1.0, CRITICAL_TEMPERATURE);
    assert!(
        (o.energy_per_site + std::f64::consts::SQRT_2).abs() < 1e-9,
        "{}",
        o.energy_per_site
    );
    let catalan = 0.915_965_594_177_219;
    let f = -CRITICAL_TEMPERATURE * (2f64.ln() / 2.0 + 2.0 * catalan / std::f64::consts::PI);
    assert!(
        (o.free_energy_per_site - f).abs() < 1e-9,
        "{} vs {f}",
        o.free_energy_per_site
    );
    assert!((onsager(1.0, 2.0).magnetization - 0.911_319_8).abs() < 1e-6);
    assert_eq!(onsager(1.0, 3.0).magnetization, 0.0);
}

#[test]
fn potts_enumeration_matches_ising_for_q2() {
    // q = 2 Potts with coupling 2J equals Ising with J up to a constant shift of the energy.
    let p = Potts::square(3, 2, 2.0).unwrap();
    let g = IsingGraph::lattice(Lattice::new(2, 3).unwrap(), 1.0, 0.0);
    let a = enumerate_potts(&p, &[0.7]).unwrap()[0];
    let b = enumerate_ising(&g, &[0.7]).unwrap()[0];
    assert!((a.heat_capacity - b.heat_capacity).abs() < 1e-10);
    // E_potts = E_ising − J·bonds (18 bonds, J = 1): ln Z shifts by β·18.
    assert!((a.log_z - (b.log_z + 0.7 * 18.0)).abs() < 1e-10);
}
