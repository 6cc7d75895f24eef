//! Exact thermodynamics by enumerating every state (up to 2²⁶ states), with log-sum-exp
//! accumulation, and the exact density of states g(E) for integer-valued energies.

use crate::systems::spin::{IsingGraph, Potts};
use crate::systems::ModelError;
use serde::{Deserialize, Serialize};

/// The most states enumerated.
pub const MAX_STATES: u64 = 1 << 26;

/// Exact results at one inverse temperature (totals, not per site).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ExactPoint {
    /// Inverse temperature β.
    pub beta: f64,
    /// `ln Z`.
    pub log_z: f64,
    /// `U = ⟨E⟩`.
    pub energy: f64,
    /// `C = β² Var(E)`.
    pub heat_capacity: f64,
    /// `F = −ln Z / β` (−∞·sign at β = 0 is reported as NaN).
    pub free_energy: f64,
    /// `S = ln Z + β U`.
    pub entropy: f64,
    /// `⟨|M|⟩` (total), when known.
    pub abs_magnetization: Option<f64>,
    /// `⟨M²⟩` (total), when known.
    pub magnetization_sq: Option<f64>,
}

/// Streaming Boltzmann-weighted sums at one β, stable through a running maximum exponent.
/// Energy moments are kept about the energy of the heaviest state seen so far (re-centred when
/// it changes), so the variance does not come from a difference of two large numbers.
#[derive(Clone, Copy)]
struct Acc {
    beta: f64,
    mx: f64,
    center: f64,
    /// Σw, Σw(E−c), Σw(E−c)², Σw|M|, Σw M².
    s: [f64; 5],
}

impl Acc {
    fn new(beta: f64) -> Self {
        Self {
            beta,
            mx: f64::NEG_INFINITY,
            center: 0.0,
            s: [0.0; 5],
        }
    }
    /// Adds `count` states of energy `e` and magnetisation `m`, where `log_count` = ln count.
    #[inline]
    fn add(&mut self, e: f64, m: f64, log_count: f64) {
        let x = -self.beta * e + log_count;
        if x > self.mx {
            let r = (self.mx - x).exp();
            self.s.iter_mut().for_each(|v| *v *= r);
            self.mx = x;
            let d = self.center - e;
            self.s[2] += 2.0 * d * self.s[1] + d * d * self.s[0];
            self.s[1] += d * self.s[0];
            self.center = e;
        }
        let w = (x - self.mx).exp();
        let de = e - self.center;
        self.s[0] += w;
        self.s[1] += w * de;
        self.s[2] += w * de * de;
        self.s[3] += w * m.abs();
        self.s[4] += w * m * m;
    }
    fn point(&self, with_m: bool) -> ExactPoint {
        let z = self.s[0];
        let du = self.s[1] / z;
        let var = (self.s[2] / z - du * du).max(0.0);
        let u = self.center + du;
        let log_z = self.mx + z.ln();
        ExactPoint {
            beta: self.beta,
            log_z,
            energy: u,
            heat_capacity: self.beta * self.beta * var,
            free_energy: if self.beta > 0.0 {
                -log_z / self.beta
            } else {
                f64::NAN
            },
            entropy: log_z + self.beta * u,
            abs_magnetization: with_m.then(|| self.s[3] / z),
            magnetization_sq: with_m.then(|| self.s[4] / z),
        }
    }
}

fn check_states(n_states: f64) -> Result<(), ModelError> {
    if n_states > MAX_STATES as f64 {
        Err(ModelError::new(
            "model",
            format!("{n_states:.3e} states is too many to enumerate (at most {MAX_STATES})"),
        ))
    } else {
        Ok(())
    }
}

/// Enumerates every state of `g` (in Gray-code order, one flip per step) and returns the exact
/// thermodynamics at each β in `betas`.
pub fn enumerate_ising(g: &IsingGraph, betas: &[f64]) -> Result<Vec<ExactPoint>, ModelError> {
    let n = g.n();
    check_states(2f64.powi(n as i32))?;
    let mut s = vec![-1i8; n];
    let mut e = g.energy(&s);
    let mut m = -(n as f64);
    let mut acc: Vec<Acc> = betas.iter().map(|&b| Acc::new(b)).collect();
    let total: u64 = 1 << n;
    for k in 0..total {
        if k > 0 {
            let i = k.trailing_zeros() as usize;
            e += g.delta_flip(&s, i);
            s[i] = -s[i];
            m += 2.0 * f64::from(s[i]);
        }
        for a in acc.iter_mut() {
            a.add(e, m, 0.0);
        }
    }
    Ok(acc.iter().map(|a| a.point(true)).collect())
}

/// The exact density of states: distinct energies and `ln g(E)`, for models whose couplings,
/// fields and constant are integers (so energies are integers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DensityOfStates {
    /// Distinct energies, ascending.
    pub energies: Vec<f64>,
    /// `ln g(E)` for each energy.
    pub log_g: Vec<f64>,
}

impl DensityOfStates {
    /// Exact thermodynamics at β from the density of states.
    pub fn at(&self, beta: f64) -> ExactPoint {
        let mut a = Acc::new(beta);
        for (e, lg) in self.energies.iter().zip(&self.log_g) {
            a.add(*e, 0.0, *lg);
        }
        a.point(false)
    }
}

/// Enumerates `g` into its density of states (integer energies only).
pub fn density_of_states(g: &IsingGraph) -> Result<DensityOfStates, ModelError> {
    let integral = g.bonds().iter().all(|b| b.2.fract() == 0.0)
        && (0..g.n()).all(|i| g.field(i).fract() == 0.0);
    if !integral {
        return Err(ModelError::new(
            "model",
            "the density of states needs integer couplings and fields",
        ));
    }
    let n = g.n();
    check_states(2f64.powi(n as i32))?;
    let mut s = vec![-1i8; n];
    let mut e = g.energy(&s).round() as i64;
    let mut hist = std::collections::BTreeMap::<i64, u64>::new();
    let total: u64 = 1 << n;
    for k in 0..total {
        if k > 0 {
            let i = k.trailing_zeros() as usize;
            e += g.delta_flip(&s, i).round() as i64;
            s[i] = -s[i];
        }
        *hist.entry(e).or_insert(0) += 1;
    }
    Ok(DensityOfStates {
        energies: hist.keys().map(|&k| k as f64).collect(),
        log_g: hist.values().map(|&c| (c as f64).ln()).collect(),
    })
}

/// Enumerates every state of a small Potts model; magnetisation is not computed.
pub fn enumerate_potts(p: &Potts, betas: &[f64]) -> Result<Vec<ExactPoint>, ModelError> {
    let n = p.lattice.n();
    check_states(f64::from(p.q).powi(n as i32))?;
    let mut s = vec![0u8; n];
    let mut acc: Vec<Acc> = betas.iter().map(|&b| Acc::new(b)).collect();
    loop {
        let e = p.energy(&s);
        for a in acc.iter_mut() {
            a.add(e, 0.0, 0.0);
        }
        // Next state in base q.
        let mut i = 0;
        loop {
            if i == n {
                return Ok(acc.iter().map(|a| a.point(false)).collect());
            }
            s[i] += 1;
            if s[i] < p.q {
                break;
            }
            s[i] = 0;
            i += 1;
        }
    }
}
