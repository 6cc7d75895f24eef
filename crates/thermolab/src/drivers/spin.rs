//! Temperature sweeps of spin systems: equilibrate and sample each temperature in parallel (one
//! deterministic stream per temperature, so results do not depend on the thread count), then
//! report energy, |magnetisation|, heat capacity, susceptibility and the Binder cumulant with
//! errors; and thermodynamic integration of ⟨E⟩ over β for free energy and entropy.
//!
//! Errors: single-chain runs are cut into `blocks` contiguous blocks (blocking) and nonlinear
//! observables (C, χ, Binder) use the jackknife over blocks; multi-spin runs use the 64
//! independent replicas as the blocks.

use crate::estimate::series::{integrated_autocorrelation_time, jackknife, Estimate};
use crate::kernels::spin::{
    fast_rng, potts_sweep, sweep, swendsen_wang, wolff_sweep, FastRng, LatticeTables, MultiSpin,
    SpinRule,
};
use crate::settings::{nonzero, SettingsError};
use crate::systems::spin::{IsingGraph, Lattice, Potts};
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;

/// The system being swept.
#[derive(Debug, Clone)]
pub enum SpinModel {
    /// An Ising model on any graph (lattices, spin glasses, edge lists).
    Ising(Arc<IsingGraph>),
    /// A q-state Potts model.
    Potts(Potts),
}

impl SpinModel {
    /// Number of sites.
    pub fn n_sites(&self) -> usize {
        match self {
            Self::Ising(g) => g.n(),
            Self::Potts(p) => p.lattice.n(),
        }
    }
}

/// The update algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SpinAlgorithm {
    /// Single-spin Metropolis (checkerboard, tabulated on lattices).
    Metropolis,
    /// Single-spin heat-bath.
    HeatBath,
    /// Wolff single-cluster updates (ferromagnet, zero field).
    Wolff,
    /// Swendsen–Wang cluster updates (ferromagnet, zero field).
    SwendsenWang,
    /// Multi-spin-coded Metropolis, 64 replicas per word (2-D lattice ferromagnet, zero field).
    MultiSpin,
}

impl SpinAlgorithm {
    /// Parses `metropolis`, `heatbath`, `wolff`, `sw`, `msc`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "metropolis" => Some(Self::Metropolis),
            "heatbath" | "heat-bath" => Some(Self::HeatBath),
            "wolff" => Some(Self::Wolff),
            "sw" | "swendsen-wang" => Some(Self::SwendsenWang),
            "msc" | "multispin" => Some(Self::MultiSpin),
            _ => None,
        }
    }
}

/// Settings of a temperature sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpinSweepSettings {
    /// Temperatures (k_B = 1), each > 0.
    pub temperatures: Vec<f64>,
    /// Update algorithm.
    pub algorithm: SpinAlgorithm,
    /// Measured sweeps per temperature.
    pub sweeps: usize,
    /// Equilibration sweeps per temperature; `None` means `sweeps / 5`.
    pub thermalization: Option<usize>,
    /// Blocks for error estimates (single-chain algorithms).
    pub blocks: usize,
    /// Worker threads (0: all cores). Results do not depend on it.
    pub threads: usize,
    /// Start from random spins (true) or all up (false, the default: the ordered state is the
    /// equilibrium below T_c, and a random start there can stay trapped in stripe states).
    pub hot_start: bool,
    /// Keep the final configuration of each temperature.
    pub snapshots: bool,
}

impl Default for SpinSweepSettings {
    fn default() -> Self {
        Self {
            temperatures: vec![2.0],
            algorithm: SpinAlgorithm::Metropolis,
            sweeps: 10_000,
            thermalization: None,
            blocks: 32,
            threads: 0,
            hot_start: false,
            snapshots: false,
        }
    }
}

/// Settings checked against a model.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidSpinSweep(SpinSweepSettings);

impl ValidSpinSweep {
    /// The checked settings.
    pub fn get(&self) -> &SpinSweepSettings {
        &self.0
    }
}

impl SpinSweepSettings {
    /// Checks the settings for `model`.
    pub fn validate(self, model: &SpinModel) -> Result<ValidSpinSweep, SettingsError> {
        if self.temperatures.is_empty() {
            return Err(SettingsError::new(
                "temperatures",
                "need at least one temperature",
            ));
        }
        if let Some(t) = self
            .temperatures
            .iter()
            .find(|t| !(t.is_finite() && **t > 0.0))
        {
            return Err(SettingsError::new(
                "temperatures",
                format!("every temperature must be > 0, got {t}"),
            ));
        }
        nonzero("sweeps", self.sweeps)?;
        if self.blocks < 2 {
            return Err(SettingsError::new("blocks", "need at least 2 blocks"));
        }
        if self.sweeps < self.blocks {
            return Err(SettingsError::new(
                "sweeps",
                format!("need at least `blocks` = {} sweeps", self.blocks),
            ));
        }
        let alg = self.algorithm;
        match model {
            SpinModel::Potts(_)
                if !matches!(alg, SpinAlgorithm::Metropolis | SpinAlgorithm::HeatBath) =>
            {
                return Err(SettingsError::new(
                    "algorithm",
                    "the Potts model supports metropolis and heatbath",
                ));
            }
            SpinModel::Ising(g) => {
                if matches!(alg, SpinAlgorithm::Wolff | SpinAlgorithm::SwendsenWang)
                    && !g.is_ferromagnetic_zero_field()
                {
                    return Err(SettingsError::new(
                        "algorithm",
                        "cluster updates need couplings ≥ 0 and zero field",
                    ));
                }
                if alg == SpinAlgorithm::MultiSpin {
                    let ok = g.uniform().is_some_and(|u| {
                        u.lattice.dim == 2 && u.lattice.l % 2 == 0 && u.h == 0.0 && u.j > 0.0
                    });
                    if !ok {
                        return Err(SettingsError::new(
                            "algorithm",
                            "multi-spin coding needs a 2-D lattice with even L, J > 0 and h = 0",
                        ));
                    }
                }
            }
            SpinModel::Potts(_) => {}
        }
        Ok(ValidSpinSweep(self))
    }
}

/// Results at one temperature (per-site quantities).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemperaturePoint {
    /// Temperature.
    pub temperature: f64,
    /// Inverse temperature.
    pub beta: f64,
    /// ⟨E⟩/N.
    pub energy: Estimate,
    /// ⟨|M|⟩/N (Potts: the order parameter `(q·max_k n_k/N − 1)/(q − 1)`).
    pub abs_magnetization: Estimate,
    /// `C/N = β² N (⟨e²⟩ − ⟨e⟩²)`.
    pub heat_capacity: Estimate,
    /// `χ = β N (⟨m²⟩ − ⟨|m|⟩²)`.
    pub susceptibility: Estimate,
    /// Binder cumulant `1 − ⟨m⁴⟩ / (3⟨m²⟩²)`.
    pub binder: Estimate,
    /// Integrated autocorrelation time of the energy, in sweeps.
    pub tau_energy: f64,
    /// Integrated autocorrelation time of |M|, in sweeps.
    pub tau_abs_magnetization: f64,
    /// Measurements per chain.
    pub measurements: usize,
    /// Spin-flip attempts made (all replicas, equilibration included).
    pub flip_attempts: u64,
    /// Seconds spent in the update kernel (measurements excluded).
    pub kernel_seconds: f64,
    /// Final configuration (replica 0), when requested.
    #[serde(skip)]
    pub snapshot: Option<Vec<i8>>,
}

/// Per-chain series of per-site energy and |order parameter|.
struct Series {
    e: Vec<f64>,
    m: Vec<f64>,
}

/// Moment vector per block: e, e², m, m², m⁴.
fn moments(s: &Series, range: std::ops::Range<usize>) -> [f64; 5] {
    let n = range.len() as f64;
    let mut a = [0.0; 5];
    for i in range {
        let (e, m) = (s.e[i], s.m[i]);
        a[0] += e;
        a[1] += e * e;
        a[2] += m;
        a[3] += m * m;
        a[4] += m * m * m * m;
    }
    a.map(|v| v / n)
}

fn observables(chains: &[Series], blocks: usize, beta: f64, n: f64) -> [Estimate; 5] {
    let mut bl: Vec<[f64; 5]> = Vec::new();
    if chains.len() > 1 {
        bl.extend(chains.iter().map(|c| moments(c, 0..c.e.len())));
    } else {
        let c = &chains[0];
        let len = c.e.len() / blocks;
        let start = c.e.len() - len * blocks;
        bl.extend((0..blocks).map(|b| moments(c, start + b * len..start + (b + 1) * len)));
    }
    [
        jackknife(&bl, |m| m[0]),
        jackknife(&bl, |m| m[2]),
        jackknife(&bl, |m| beta * beta * n * (m[1] - m[0] * m[0])),
        jackknife(&bl, |m| beta * n * (m[3] - m[2] * m[2])),
        jackknife(&bl, |m| 1.0 - m[4] / (3.0 * m[3] * m[3])),
    ]
}

fn random_spins(n: usize, hot: bool, rng: &mut FastRng) -> Vec<i8> {
    (0..n)
        .map(|_| if !hot || rng.random::<bool>() { 1 } else { -1 })
        .collect()
}

fn run_point(
    model: &SpinModel,
    s: &SpinSweepSettings,
    idx: usize,
    seed: u64,
    progress: &(dyn Fn(u64) + Sync),
) -> TemperaturePoint {
    let t = s.temperatures[idx];
    let beta = 1.0 / t;
    let mut rng = fast_rng(seed, idx as u64);
    let n = model.n_sites();
    let nf = n as f64;
    let therm = s.thermalization.unwrap_or(s.sweeps / 5).max(1);
    let total = therm + s.sweeps;
    let mut kernel = 0.0;
    let mut attempts = 0u64;
    let mut chains: Vec<Series> = Vec::new();
    let mut snapshot = None;
    let tick = |k: usize| {
        if (k + 1) % 64 == 0 {
            progress(64);
        }
    };
    match model {
        SpinModel::Ising(g) if s.algorithm == SpinAlgorithm::MultiSpin => {
            let l = g.uniform().expect("validated").lattice.l;
            let j = g.uniform().expect("validated").j;
            let mut ms = MultiSpin::new(l, j, s.hot_start, &mut rng).expect("validated");
            chains = (0..64)
                .map(|_| Series {
                    e: Vec::with_capacity(s.sweeps),
                    m: Vec::with_capacity(s.sweeps),
                })
                .collect();
            for k in 0..total {
                let t0 = Instant::now();
                ms.sweep(beta, &mut rng);
                kernel += t0.elapsed().as_secs_f64();
                attempts += 64 * n as u64;
                if k >= therm {
                    let m = ms.measure();
                    for (r, c) in chains.iter_mut().enumerate() {
                        c.e.push(m.energy[r] / nf);
                        c.m.push(m.magnetization[r].abs() / nf);
                    }
                }
                tick(k);
            }
            if s.snapshots {
                snapshot = Some(ms.replica(0));
            }
        }
        SpinModel::Ising(g) => {
            let mut sp = random_spins(n, s.hot_start, &mut rng);
            let rule = if s.algorithm == SpinAlgorithm::HeatBath {
                SpinRule::HeatBath
            } else {
                SpinRule::Metropolis
            };
            let tables = g
                .uniform()
                .map(|u| LatticeTables::new(rule, beta, u.j, u.h, u.lattice.z()));
            let (mut stack, mut parent, mut flip) = (Vec::new(), Vec::new(), Vec::new());
            let mut c = Series {
                e: Vec::with_capacity(s.sweeps),
                m: Vec::with_capacity(s.sweeps),
            };
            // Wolff: clusters per sweep chosen during equilibration so a sweep flips about N
            // spins on average, then held fixed while measuring.
            let (mut per_sweep, mut built, mut flipped) = (1usize, 0u64, 0u64);
            for k in 0..total {
                let t0 = Instant::now();
                match s.algorithm {
                    SpinAlgorithm::Wolff => {
                        if k < therm.max(1) {
                            let st = wolff_sweep(g, &mut sp, beta, per_sweep, &mut stack, &mut rng);
                            built += st.clusters;
                            flipped += st.flipped;
                            let mean = flipped as f64 / built as f64;
                            per_sweep = ((n as f64 / mean).ceil() as usize).max(1);
                            attempts += st.flipped;
                        } else {
                            attempts +=
                                wolff_sweep(g, &mut sp, beta, per_sweep, &mut stack, &mut rng)
                                    .flipped;
                        }
                    }
                    SpinAlgorithm::SwendsenWang => {
                        swendsen_wang(g, &mut sp, beta, &mut parent, &mut flip, &mut rng);
                        attempts += n as u64;
                    }
                    _ => {
                        sweep(g, &mut sp, rule, beta, tables.as_ref(), &mut rng);
                        attempts += n as u64;
                    }
                }
                kernel += t0.elapsed().as_secs_f64();
                if k >= therm {
                    c.e.push(g.energy(&sp) / nf);
                    c.m.push((IsingGraph::magnetization(&sp) as f64).abs() / nf);
                }
                tick(k);
            }
            chains.push(c);
            if s.snapshots {
                snapshot = Some(sp);
            }
        }
        SpinModel::Potts(p) => {
            let q = usize::from(p.q);
            let mut sp: Vec<u8> = (0..n)
                .map(|_| {
                    if s.hot_start {
                        rng.random_range(0..p.q)
                    } else {
                        0
                    }
                })
                .collect();
            let rule = if s.algorithm == SpinAlgorithm::HeatBath {
                SpinRule::HeatBath
            } else {
                SpinRule::Metropolis
            };
            let mut counts = Vec::new();
            let mut c = Series {
                e: Vec::with_capacity(s.sweeps),
                m: Vec::with_capacity(s.sweeps),
            };
            for k in 0..total {
                let t0 = Instant::now();
                potts_sweep(p, &mut sp, rule, beta, &mut counts, &mut rng);
                kernel += t0.elapsed().as_secs_f64();
                attempts += n as u64;
                if k >= therm {
                    let mut hist = vec![0usize; q];
                    sp.iter().for_each(|&v| hist[usize::from(v)] += 1);
                    let mx = *hist.iter().max().unwrap_or(&0) as f64 / nf;
                    c.e.push(p.energy(&sp) / nf);
                    c.m.push((q as f64 * mx - 1.0) / (q as f64 - 1.0));
                }
                tick(k);
            }
            chains.push(c);
            if s.snapshots {
                snapshot = Some(sp.iter().map(|&v| v as i8).collect());
            }
        }
    }
    let [energy, abs_m, heat, chi, binder] = observables(&chains, s.blocks, beta, nf);
    let take = chains.len().min(8);
    let tau_e = chains[..take]
        .iter()
        .map(|c| integrated_autocorrelation_time(&c.e))
        .sum::<f64>()
        / take as f64;
    let tau_m = chains[..take]
        .iter()
        .map(|c| integrated_autocorrelation_time(&c.m))
        .sum::<f64>()
        / take as f64;
    TemperaturePoint {
        temperature: t,
        beta,
        energy,
        abs_magnetization: abs_m,
        heat_capacity: heat,
        susceptibility: chi,
        binder,
        tau_energy: tau_e,
        tau_abs_magnetization: tau_m,
        measurements: s.sweeps,
        flip_attempts: attempts,
        kernel_seconds: kernel,
        snapshot,
    }
}

/// Runs every temperature of the sweep (in parallel on a pool of `threads` workers) and returns
/// one point per temperature, in the input order. `progress` receives counts of finished sweeps.
pub fn run_sweep(
    model: &SpinModel,
    settings: &ValidSpinSweep,
    seed: u64,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<TemperaturePoint> {
    let s = settings.get();
    let idx: Vec<usize> = (0..s.temperatures.len()).collect();
    let work = || {
        idx.par_iter()
            .map(|&i| run_point(model, s, i, seed, progress))
            .collect::<Vec<_>>()
    };
    match rayon::ThreadPoolBuilder::new()
        .num_threads(s.threads)
        .build()
    {
        Ok(pool) => pool.install(work),
        Err(_) => idx
            .iter()
            .map(|&i| run_point(model, s, i, seed, progress))
            .collect(),
    }
}

/// Free energy and entropy per site from thermodynamic integration at one β.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TiPoint {
    /// Inverse temperature.
    pub beta: f64,
    /// `ln Z / N`, with statistical and discretisation errors combined.
    pub log_z_per_site: Estimate,
    /// `F / N = −ln Z / (N β)`.
    pub free_energy_per_site: Estimate,
    /// `S / N = ln Z / N + β U / N`.
    pub entropy_per_site: Estimate,
}

/// Thermodynamic integration for an Ising model (any graph, any field), where ⟨E⟩ = 0 at β = 0
/// and `ln Z(0) = N ln 2`: `ln Z(β)/N = ln 2 − ∫₀^β u(β′) dβ′` over the measured per-site energies
/// `u` on an increasing grid of β > 0. Simpson's rule on uniform pairs of intervals (trapezoid on
/// a last odd interval); the discretisation error is estimated as |Simpson − trapezoid| and added
/// in quadrature to the propagated statistical error (independent runs per β).
pub fn thermodynamic_integration(betas: &[f64], energies: &[Estimate]) -> Vec<TiPoint> {
    let mut b = vec![0.0];
    b.extend_from_slice(betas);
    let mut u = vec![Estimate {
        value: 0.0,
        se: 0.0,
    }];
    u.extend_from_slice(energies);
    let mut out = Vec::new();
    // Cumulative integral with weights tracked per node for the statistical error.
    for k in 1..b.len() {
        let mut w = vec![0.0; k + 1];
        let mut trap = vec![0.0; k + 1];
        for i in 0..k {
            let h = b[i + 1] - b[i];
            trap[i] += h / 2.0;
            trap[i + 1] += h / 2.0;
        }
        let mut i = 0;
        while i + 2 <= k {
            let (h1, h2) = (b[i + 1] - b[i], b[i + 2] - b[i + 1]);
            if (h1 - h2).abs() <= 1e-9 * h1.max(h2) {
                w[i] += h1 / 3.0;
                w[i + 1] += 4.0 * h1 / 3.0;
                w[i + 2] += h1 / 3.0;
            } else {
                for (a, c) in [(i, h1), (i + 1, h2)] {
                    w[a] += c / 2.0;
                    w[a + 1] += c / 2.0;
                }
            }
            i += 2;
        }
        if i < k {
            let h = b[k] - b[i];
            w[i] += h / 2.0;
            w[k] += h / 2.0;
        }
        let integral: f64 = (0..=k).map(|j| w[j] * u[j].value).sum();
        let t_int: f64 = (0..=k).map(|j| trap[j] * u[j].value).sum();
        let stat: f64 = (0..=k).map(|j| (w[j] * u[j].se).powi(2)).sum::<f64>();
        let se = (stat + (integral - t_int).powi(2)).sqrt();
        let lz = Estimate {
            value: 2f64.ln() - integral,
            se,
        };
        let beta = b[k];
        out.push(TiPoint {
            beta,
            log_z_per_site: lz,
            free_energy_per_site: Estimate {
                value: -lz.value / beta,
                se: se / beta,
            },
            entropy_per_site: Estimate {
                value: lz.value + beta * u[k].value,
                se: (se * se + (beta * u[k].se).powi(2)).sqrt(),
            },
        });
    }
    out
}

/// What [`temper_ising`] measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsingTempering {
    /// The ladder of β, from 0.
    pub betas: Vec<f64>,
    /// `ln Z(β_k) / N` by stepping-stone from `ln Z(0) = N ln 2`, for every rung.
    pub log_z_per_site: Vec<Estimate>,
    /// Swap acceptance rate of each neighbouring pair.
    pub swap_acceptance: Vec<f64>,
}

/// Parallel tempering of an Ising model over a ladder of β starting at 0 (single-spin Metropolis
/// or heat-bath sweeps, even/odd swaps), then stepping-stone for `ln Z` along the ladder:
/// `ln Z(β_k) = N ln 2 + Σ_{j≤k} ln mean_{β_{j−1}} e^{−(β_j − β_{j−1}) E}`, each stone's variance
/// from its weights' variance over the effective sample size (from τ_int of the energy).
pub fn temper_ising(
    g: &IsingGraph,
    betas: &[f64],
    rounds: usize,
    seed: u64,
) -> Result<IsingTempering, SettingsError> {
    if betas.first() != Some(&0.0) || betas.windows(2).any(|w| w[1] <= w[0]) || betas.len() < 2 {
        return Err(SettingsError::new(
            "ladder",
            "must start at β = 0 and increase strictly",
        ));
    }
    nonzero("rounds", rounds)?;
    let n = g.n();
    let k = betas.len();
    let mut rngs: Vec<FastRng> = (0..k).map(|i| fast_rng(seed, i as u64)).collect();
    let mut swap_rng = fast_rng(seed, k as u64);
    let mut spins: Vec<Vec<i8>> = (0..k)
        .map(|i| random_spins(n, true, &mut rngs[i]))
        .collect();
    let tables: Vec<Option<LatticeTables>> = betas
        .iter()
        .map(|&b| {
            g.uniform()
                .map(|u| LatticeTables::new(SpinRule::Metropolis, b, u.j, u.h, u.lattice.z()))
        })
        .collect();
    let mut energies: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); k];
    let mut acc = vec![0.0f64; k - 1];
    let mut tries = vec![0.0f64; k - 1];
    let therm = rounds / 5;
    for round in 0..therm + rounds {
        for i in 0..k {
            sweep(
                g,
                &mut spins[i],
                SpinRule::Metropolis,
                betas[i],
                tables[i].as_ref(),
                &mut rngs[i],
            );
        }
        let e: Vec<f64> = spins.iter().map(|s| g.energy(s)).collect();
        let mut e = e;
        let mut p = round % 2;
        while p + 1 < k {
            let log_a = (betas[p] - betas[p + 1]) * (e[p] - e[p + 1]);
            let ok = log_a >= 0.0 || rng_uniform(&mut swap_rng) < log_a.exp();
            if round >= therm {
                tries[p] += 1.0;
                acc[p] += f64::from(u8::from(ok));
            }
            if ok {
                spins.swap(p, p + 1);
                e.swap(p, p + 1);
            }
            p += 2;
        }
        if round >= therm {
            for (store, v) in energies.iter_mut().zip(&e) {
                store.push(*v);
            }
        }
    }
    let mut lz = n as f64 * 2f64.ln();
    let mut var = 0.0;
    let mut out = vec![Estimate {
        value: lz / n as f64,
        se: 0.0,
    }];
    for j in 1..k {
        let db = betas[j] - betas[j - 1];
        let a: Vec<f64> = energies[j - 1].iter().map(|u| -db * u).collect();
        let l = crate::estimate::evidence::log_mean_exp(&a);
        lz += l;
        let w: Vec<f64> = a.iter().map(|v| (v - l).exp()).collect();
        let m = w.iter().sum::<f64>() / w.len() as f64;
        let vw = w.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (w.len() as f64 - 1.0);
        let ess = w.len() as f64 / (2.0 * integrated_autocorrelation_time(&w));
        var += vw / ess;
        out.push(Estimate {
            value: lz / n as f64,
            se: var.sqrt() / n as f64,
        });
    }
    Ok(IsingTempering {
        betas: betas.to_vec(),
        log_z_per_site: out,
        swap_acceptance: acc
            .iter()
            .zip(&tries)
            .map(|(a, t)| a / t.max(1.0))
            .collect(),
    })
}

fn rng_uniform(rng: &mut FastRng) -> f64 {
    rng.random::<f64>()
}

/// A uniform lattice ferromagnet or antiferromagnet as a sweep model.
pub fn lattice_model(dim: usize, l: usize, j: f64, h: f64) -> Result<SpinModel, String> {
    Ok(SpinModel::Ising(Arc::new(IsingGraph::lattice(
        Lattice::new(dim, l)?,
        j,
        h,
    ))))
}

#[cfg(test)]
mod tests;
