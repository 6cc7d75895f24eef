//! Single-site updates of the q-state Potts model: Metropolis (propose one of the other q − 1
//! states uniformly) and heat-bath (draw the new state from its conditional distribution).

use super::{FastRng, SpinRule};
use crate::systems::spin::Potts;
use rand::Rng;

/// One sweep (N update attempts, sites in order) of the Potts model at inverse temperature β.
pub fn potts_sweep(
    p: &Potts,
    s: &mut [u8],
    rule: SpinRule,
    beta: f64,
    counts: &mut Vec<u32>,
    rng: &mut FastRng,
) {
    let q = usize::from(p.q);
    counts.resize(q, 0);
    let mut w = vec![0.0; q];
    for i in 0..p.lattice.n() {
        match rule {
            SpinRule::Metropolis => {
                let mut v = rng.random_range(0..p.q - 1);
                if v >= s[i] {
                    v += 1;
                }
                let de = p.delta(s, i, v);
                if de <= 0.0 || rng.random::<f64>() < (-beta * de).exp() {
                    s[i] = v;
                }
            }
            SpinRule::HeatBath => {
                p.neighbor_counts(s, i, counts);
                let mx = *counts.iter().max().unwrap_or(&0);
                let mut total = 0.0;
                for (wv, &c) in w.iter_mut().zip(counts.iter()) {
                    *wv = (beta * p.j * (f64::from(c) - f64::from(mx))).exp();
                    total += *wv;
                }
                let mut u = rng.random::<f64>() * total;
                let mut v = q - 1;
                for (k, wv) in w.iter().enumerate() {
                    if u < *wv {
                        v = k;
                        break;
                    }
                    u -= wv;
                }
                s[i] = v as u8;
            }
        }
    }
}
