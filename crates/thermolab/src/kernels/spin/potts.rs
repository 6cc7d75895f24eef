//! Single-site updates of the q-state Potts model: Metropolis (propose one of the other q − 1
//! states uniformly) and heat-bath (draw the new state from its conditional distribution).

use super::{SpinRule, SpinStats};
use crate::energy::EnergyError;
use crate::kernels::Kernel;
use crate::systems::spin::Potts;
use rand::Rng;

/// One sweep (N update attempts, sites in order) of the Potts model at inverse temperature β.
pub fn potts_sweep<R: Rng + ?Sized>(
    p: &Potts,
    s: &mut [u8],
    rule: SpinRule,
    beta: f64,
    counts: &mut Vec<u32>,
    w: &mut Vec<f64>,
    rng: &mut R,
) {
    let q = usize::from(p.q);
    counts.resize(q, 0);
    w.resize(q, 0.0);
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

/// Single-site Potts updates as a [`Kernel`]: one step is one sweep.
#[derive(Debug, Clone)]
pub struct PottsSingle {
    /// The update rule.
    pub rule: SpinRule,
    counts: Vec<u32>,
    weights: Vec<f64>,
}

impl PottsSingle {
    /// A sweep kernel with rule `rule`.
    pub fn new(rule: SpinRule) -> Self {
        Self {
            rule,
            counts: Vec::new(),
            weights: Vec::new(),
        }
    }
}

impl<'g> Kernel<&'g Potts, Vec<u8>> for PottsSingle {
    type Stats = SpinStats;
    fn step<R: Rng + ?Sized>(
        &mut self,
        p: &mut &'g Potts,
        s: &mut Vec<u8>,
        beta: f64,
        rng: &mut R,
    ) -> Result<SpinStats, EnergyError> {
        potts_sweep(
            p,
            s,
            self.rule,
            beta,
            &mut self.counts,
            &mut self.weights,
            rng,
        );
        Ok(SpinStats {
            attempts: p.lattice.n() as u64,
            ..SpinStats::default()
        })
    }
}
