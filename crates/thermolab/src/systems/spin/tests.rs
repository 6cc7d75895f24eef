//! Tests of the spin systems: lattice geometry, energy changes, edge-list parsing.

use super::*;
use std::io::Write;

#[test]
fn lattice_neighbors_and_colors() {
    let l = Lattice::new(2, 4).unwrap();
    let nb: Vec<usize> = l.neighbors(0).collect();
    assert_eq!(nb, vec![1, 3, 4, 12]);
    assert_eq!(l.bonds(), 32);
    for i in 0..l.n() {
        for k in l.neighbors(i) {
            assert_ne!(l.color(i), l.color(k));
            assert!(l.neighbors(k).any(|x| x == i));
        }
    }
    let c = Lattice::new(3, 3).unwrap();
    assert_eq!(c.neighbors(0).count(), 6);
    assert!(Lattice::new(4, 3).is_err());
    assert!(Lattice::new(2, 1).is_err());
}

#[test]
fn delta_flip_equals_energy_difference() {
    let mut rng = crate::rng::init_stream(2);
    use rand::Rng;
    let gs = [
        IsingGraph::lattice(Lattice::new(2, 5).unwrap(), 1.0, 0.2),
        IsingGraph::lattice(Lattice::new(3, 3).unwrap(), -0.5, 0.0),
        IsingGraph::edwards_anderson(Lattice::new(2, 4).unwrap(), &mut rng),
        IsingGraph::sherrington_kirkpatrick(12, &mut rng),
    ];
    for g in &gs {
        let mut s: Vec<i8> = (0..g.n())
            .map(|_| if rng.random() { 1 } else { -1 })
            .collect();
        for i in 0..g.n() {
            let e0 = g.energy(&s);
            let d = g.delta_flip(&s, i);
            s[i] = -s[i];
            assert!((g.energy(&s) - e0 - d).abs() < 1e-10);
        }
    }
    let p = Potts::square(4, 3, 1.0).unwrap();
    let mut s: Vec<u8> = (0..16).map(|_| rng.random_range(0..3)).collect();
    for i in 0..16 {
        for v in 0..3 {
            let e0 = p.energy(&s);
            let d = p.delta(&s, i, v);
            let old = s[i];
            s[i] = v;
            assert!((p.energy(&s) - e0 - d).abs() < 1e-12);
            s[i] = old;
        }
    }
}

fn tmp(name: &str, text: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("thermolab-spin-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(name);
    std::fs::File::create(&p)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    p
}

#[test]
fn edge_lists_load_as_ising_and_as_qubo() {
    let p = tmp("g.txt", "# triangle\n0 1 1.0\n1 2 -0.5\n0 2 2\n1 1 0.25\n");
    let g = IsingGraph::from_edge_list(&p, false).unwrap();
    assert_eq!(g.n(), 3);
    let s = [1i8, -1, 1];
    // E = −(1·(1)(−1) + (−0.5)(−1)(1) + 2·(1)(1)) − 0.25·(−1) = −(−1 + 0.5 + 2) + 0.25
    assert!((g.energy(&s) - (-1.5 + 0.25)).abs() < 1e-12);
    // QUBO: E(x) = Σ Q_ij x_i x_j must equal the converted Ising energy for every x.
    let q = tmp("q.txt", "0 0 -1\n1 1 2\n0 1 3\n1 2 -4\n2 2 0.5\n");
    let g = IsingGraph::from_edge_list(&q, true).unwrap();
    for k in 0..8u32 {
        let x: Vec<f64> = (0..3).map(|i| f64::from(k >> i & 1)).collect();
        let e_qubo = -x[0] + 2.0 * x[1] + 3.0 * x[0] * x[1] - 4.0 * x[1] * x[2] + 0.5 * x[2];
        let s: Vec<i8> = x.iter().map(|&v| if v > 0.5 { 1 } else { -1 }).collect();
        assert!((g.energy(&s) - e_qubo).abs() < 1e-12, "x={x:?}");
    }
    for (name, text, want) in [
        (
            "bad1.txt",
            "0 1\n",
            "bad1.txt:1: expected `i j value`, found 2 field(s)",
        ),
        (
            "bad2.txt",
            "0 1 1\n0 x 1\n",
            "bad2.txt:2: `x` is not a spin index",
        ),
        (
            "bad3.txt",
            "0 1 nan\n",
            "bad3.txt:1: value `nan` is not finite",
        ),
        (
            "bad4.txt",
            "# nothing\n",
            "bad4.txt: no couplings or fields found",
        ),
    ] {
        let e = IsingGraph::from_edge_list(&tmp(name, text), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{e}");
    }
}
