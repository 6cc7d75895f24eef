//! Temperature sweeps of spin systems: equilibrate and sample each temperature in parallel (one
//! named stream per temperature, so results do not depend on the thread count), then report
//! energy, |magnetisation|, heat capacity, susceptibility and the Binder cumulant with errors;
//! and thermodynamic integration of ⟨E⟩ over β for free energy and entropy.
//!
//! Every temperature is driven by a spin [`Kernel`]: single-spin Metropolis or heat-bath, Wolff,
//! Swendsen–Wang, multi-spin coding, or Potts updates. The temperatures advance together in
//! blocks of sweeps, so that the run context (progress, Ctrl-C, budget) is consulted between
//! blocks; a stopped run keeps the measurements made so far.
//!
//! Errors: single-chain runs are cut into `blocks` contiguous blocks (blocking) and nonlinear
//! observables (C, χ, Binder) use the jackknife over blocks; multi-spin runs use the 64
//! independent replicas as the blocks.

use crate::error::Error;
use crate::estimate::evidence::{thermodynamic_integration as integrate, TiNode, TiRule};
use crate::estimate::series::{integrated_autocorrelation_time, jackknife, Estimate};
use crate::kernels::spin::{
    MultiSpin, MultiSpinSweep, PottsSingle, SingleSpin, SpinRule, SwendsenWang, Wolff,
};
use crate::kernels::Kernel;
use crate::rng::{fast_from, FastRng, Streams};
use crate::run::{Observer, RunContext, StopFlag, Termination};
use crate::settings::{nonzero, SettingsError};
use crate::systems::spin::{IsingGraph, Lattice, Potts};
use crate::systems::ModelError;
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
    /// The per-site mean energy at β = 0 of an Ising model: its constant (from a QUBO's
    /// conversion; 0 otherwise) per site. `None` for the Potts model (no thermodynamic
    /// integration here).
    pub fn infinite_temperature_energy(&self) -> Option<f64> {
        match self {
            Self::Ising(g) => Some(g.offset() / g.n() as f64),
            Self::Potts(_) => None,
        }
    }
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
    /// Sweeps between observer events (0: about a hundred events per run). Results do not
    /// depend on it.
    pub report_every: usize,
    /// The index of the first temperature: temperature k of this run draws from the stream of
    /// temperature `first_temperature + k`, so a scan split into runs of a few temperatures
    /// each (on several processes or machines) measures exactly what one run of them all does.
    pub first_temperature: usize,
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
            report_every: 0,
            first_temperature: 0,
        }
    }
}

/// Settings checked against a model, which they carry: a sweep runs the model it was checked
/// for.
#[derive(Debug, Clone)]
pub struct ValidSpinSweep {
    settings: SpinSweepSettings,
    model: SpinModel,
}

impl ValidSpinSweep {
    /// The checked settings.
    pub fn get(&self) -> &SpinSweepSettings {
        &self.settings
    }
    /// The model they were checked for.
    pub fn model(&self) -> &SpinModel {
        &self.model
    }
    /// Equilibration sweeps per temperature.
    pub fn thermalization(&self) -> usize {
        let s = &self.settings;
        s.thermalization.unwrap_or(s.sweeps / 5).max(1)
    }
    /// Sweeps per temperature in all.
    pub fn total(&self) -> usize {
        self.thermalization() + self.settings.sweeps
    }
}

impl SpinSweepSettings {
    /// Checks the settings for `model`.
    pub fn validate(self, model: &SpinModel) -> Result<ValidSpinSweep, SettingsError> {
        if self
            .thermalization
            .unwrap_or(0)
            .checked_add(self.sweeps)
            .is_none()
        {
            return Err(SettingsError::new(
                "thermalization",
                "thermalisation plus sweeps is too large to count",
            ));
        }
        if self.temperatures.is_empty() {
            return Err(SettingsError::new(
                "temperatures",
                "need at least one temperature",
            ));
        }
        if self
            .first_temperature
            .checked_add(self.temperatures.len())
            .is_none_or(|end| end > u32::MAX as usize)
        {
            return Err(SettingsError::new(
                "first_temperature",
                "first_temperature plus the number of temperatures must stay below 2^32",
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
        Ok(ValidSpinSweep {
            settings: self,
            model: model.clone(),
        })
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
#[derive(Debug, Clone, Default)]
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
        let blocks = blocks.min(c.e.len()).max(1);
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

/// The state of one temperature's chain(s) and its kernel.
enum Engine {
    Single(Vec<i8>, SingleSpin),
    Wolff(Vec<i8>, Wolff),
    SwendsenWang(Vec<i8>, SwendsenWang),
    MultiSpin(MultiSpin),
    Potts(Vec<u8>, PottsSingle),
}

/// One temperature of a sweep, advanced block by block.
struct Point {
    temperature: f64,
    beta: f64,
    rng: FastRng,
    engine: Engine,
    done: usize,
    series: Vec<Series>,
    attempts: u64,
    kernel_seconds: f64,
}

fn random_spins(n: usize, hot: bool, rng: &mut FastRng) -> Vec<i8> {
    (0..n)
        .map(|_| if !hot || rng.random::<bool>() { 1 } else { -1 })
        .collect()
}

impl Point {
    fn new(v: &ValidSpinSweep, idx: usize, streams: Streams) -> Self {
        let s = v.get();
        let t = s.temperatures[idx];
        let mut rng = fast_from(&mut streams.chain(s.first_temperature + idx));
        let rule = if s.algorithm == SpinAlgorithm::HeatBath {
            SpinRule::HeatBath
        } else {
            SpinRule::Metropolis
        };
        let (engine, chains) = match v.model() {
            SpinModel::Ising(g) => {
                let n = g.n();
                match s.algorithm {
                    SpinAlgorithm::MultiSpin => {
                        let ms = MultiSpin::for_graph(g, s.hot_start, &mut rng)
                            .expect("checked by validate");
                        (Engine::MultiSpin(ms), 64)
                    }
                    SpinAlgorithm::Wolff => (
                        Engine::Wolff(random_spins(n, s.hot_start, &mut rng), Wolff::default()),
                        1,
                    ),
                    SpinAlgorithm::SwendsenWang => (
                        Engine::SwendsenWang(
                            random_spins(n, s.hot_start, &mut rng),
                            SwendsenWang::default(),
                        ),
                        1,
                    ),
                    _ => (
                        Engine::Single(
                            random_spins(n, s.hot_start, &mut rng),
                            SingleSpin::new(rule),
                        ),
                        1,
                    ),
                }
            }
            SpinModel::Potts(p) => {
                let sp: Vec<u8> = (0..p.lattice.n())
                    .map(|_| {
                        if s.hot_start {
                            rng.random_range(0..p.q)
                        } else {
                            0
                        }
                    })
                    .collect();
                (Engine::Potts(sp, PottsSingle::new(rule)), 1)
            }
        };
        Self {
            temperature: t,
            beta: 1.0 / t,
            rng,
            engine,
            done: 0,
            series: (0..chains)
                .map(|_| Series {
                    e: Vec::with_capacity(s.sweeps),
                    m: Vec::with_capacity(s.sweeps),
                })
                .collect(),
            attempts: 0,
            kernel_seconds: 0.0,
        }
    }

    /// Sweeps until `until` sweeps are done (or the flag is raised), measuring after
    /// equilibration.
    fn advance(&mut self, v: &ValidSpinSweep, until: usize, stop: &StopFlag) -> Result<(), Error> {
        let therm = v.thermalization();
        let model = v.model();
        let beta = self.beta;
        while self.done < until.min(v.total()) {
            if stop.is_raised() {
                break;
            }
            let measure = self.done >= therm;
            let t0 = Instant::now();
            let st = match (&mut self.engine, model) {
                (Engine::Single(sp, k), SpinModel::Ising(g)) => {
                    k.step(&mut &**g, sp, beta, &mut self.rng)?
                }
                (Engine::Wolff(sp, k), SpinModel::Ising(g)) => {
                    k.calibrating = !measure;
                    k.step(&mut &**g, sp, beta, &mut self.rng)?
                }
                (Engine::SwendsenWang(sp, k), SpinModel::Ising(g)) => {
                    k.step(&mut &**g, sp, beta, &mut self.rng)?
                }
                (Engine::MultiSpin(ms), SpinModel::Ising(g)) => {
                    MultiSpinSweep.step(&mut &**g, ms, beta, &mut self.rng)?
                }
                (Engine::Potts(sp, k), SpinModel::Potts(p)) => {
                    k.step(&mut &*p, sp, beta, &mut self.rng)?
                }
                _ => unreachable!("the engine is built for the model"),
            };
            self.kernel_seconds += t0.elapsed().as_secs_f64();
            self.attempts += st.attempts;
            if measure {
                self.measure(model);
            }
            self.done += 1;
        }
        Ok(())
    }

    fn measure(&mut self, model: &SpinModel) {
        match (&self.engine, model) {
            (Engine::MultiSpin(ms), _) => {
                let nf = (ms.l() * ms.l()) as f64;
                let m = ms.measure();
                for (r, c) in self.series.iter_mut().enumerate() {
                    c.e.push(m.energy[r] / nf);
                    c.m.push(m.magnetization[r].abs() / nf);
                }
            }
            (
                Engine::Single(sp, _) | Engine::Wolff(sp, _) | Engine::SwendsenWang(sp, _),
                SpinModel::Ising(g),
            ) => {
                let nf = g.n() as f64;
                self.series[0].e.push(g.energy(sp) / nf);
                self.series[0]
                    .m
                    .push((IsingGraph::magnetization(sp) as f64).abs() / nf);
            }
            (Engine::Potts(sp, _), SpinModel::Potts(p)) => {
                let q = usize::from(p.q);
                let nf = p.lattice.n() as f64;
                let mut hist = vec![0usize; q];
                sp.iter().for_each(|&v| hist[usize::from(v)] += 1);
                let mx = *hist.iter().max().unwrap_or(&0) as f64 / nf;
                self.series[0].e.push(p.energy(sp) / nf);
                self.series[0]
                    .m
                    .push((q as f64 * mx - 1.0) / (q as f64 - 1.0));
            }
            _ => unreachable!("the engine is built for the model"),
        }
    }

    fn finish(self, v: &ValidSpinSweep) -> TemperaturePoint {
        let s = v.get();
        let nf = v.model().n_sites() as f64;
        let measured = self.series[0].e.len();
        let nan = Estimate {
            value: f64::NAN,
            se: f64::NAN,
        };
        let [energy, abs_m, heat, chi, binder] = if measured >= 2 {
            observables(&self.series, s.blocks, self.beta, nf)
        } else {
            [nan; 5]
        };
        let take = self.series.len().min(8);
        let tau = |f: &dyn Fn(&Series) -> &[f64]| {
            self.series[..take]
                .iter()
                .map(|c| integrated_autocorrelation_time(f(c)))
                .sum::<f64>()
                / take as f64
        };
        let (tau_e, tau_m) = if measured >= 2 {
            (tau(&|c| &c.e), tau(&|c| &c.m))
        } else {
            (f64::NAN, f64::NAN)
        };
        let snapshot = s.snapshots.then(|| match &self.engine {
            Engine::Single(sp, _) | Engine::Wolff(sp, _) | Engine::SwendsenWang(sp, _) => {
                sp.clone()
            }
            Engine::MultiSpin(ms) => ms.replica(0),
            Engine::Potts(sp, _) => sp.iter().map(|&v| v as i8).collect(),
        });
        TemperaturePoint {
            temperature: self.temperature,
            beta: self.beta,
            energy,
            abs_magnetization: abs_m,
            heat_capacity: heat,
            susceptibility: chi,
            binder,
            tau_energy: tau_e,
            tau_abs_magnetization: tau_m,
            measurements: measured,
            flip_attempts: self.attempts,
            kernel_seconds: self.kernel_seconds,
            snapshot,
        }
    }
}

/// Progress of a sweep, reported between blocks.
#[derive(Debug, Clone, Copy)]
pub struct SweepEvent {
    /// Sweeps done per temperature.
    pub sweeps: usize,
    /// Sweeps per temperature in all.
    pub total: usize,
    /// Temperatures in the run.
    pub temperatures: usize,
}

/// A finished (or stopped) sweep.
#[derive(Debug, Clone)]
pub struct SpinSweep {
    /// One point per temperature, in the input order.
    pub points: Vec<TemperaturePoint>,
    /// Why the run ended.
    pub termination: Termination,
}

/// Runs every temperature of the sweep (in parallel on a pool of `threads` workers), in blocks
/// of sweeps between which the context is consulted. Temperature i draws from stream i of
/// `streams` (a seed: (seed, chain, i)).
pub fn run_sweep<O: Observer<SweepEvent>>(
    settings: &ValidSpinSweep,
    streams: impl Into<Streams>,
    ctx: &mut RunContext<O>,
) -> Result<SpinSweep, Error> {
    let streams = streams.into();
    let s = settings.get();
    let total = settings.total();
    let every = match s.report_every {
        0 => (total / 100).max(1),
        k => k,
    };
    let mut points: Vec<Point> = (0..s.temperatures.len())
        .map(|i| Point::new(settings, i, streams))
        .collect();
    let pool = crate::workers::Workers::lend(s.threads);
    let stop = ctx.stop_flag().clone();
    let mut termination = Termination::Finished;
    let mut done = 0;
    ctx.init::<SweepEvent>();
    while done < total {
        let until = (done / every + 1) * every;
        let work = || {
            points
                .par_iter_mut()
                .map(|p| p.advance(settings, until, &stop))
                .collect::<Result<Vec<()>, Error>>()
        };
        pool.install(work)?;
        done = points.iter().map(|p| p.done).min().unwrap_or(total);
        let attempts: u64 = points.iter().map(|p| p.attempts).sum();
        let ev = SweepEvent {
            sweeps: done,
            total,
            temperatures: points.len(),
        };
        if let Some(t) = ctx.step(&ev, attempts) {
            if done < total {
                termination = t;
                break;
            }
        }
    }
    ctx.finish::<SweepEvent>(termination);
    Ok(SpinSweep {
        points: points.into_iter().map(|p| p.finish(settings)).collect(),
        termination,
    })
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

/// Thermodynamic integration for an Ising model (any graph, any field), where `ln Z(0) = N ln 2`
/// and the per-site energy at β = 0 is `u0` (the graph's [`IsingGraph::offset`] per site: 0
/// unless it came from a QUBO): `ln Z(β)/N = ln 2 − ∫₀^β u(β′) dβ′` over the measured per-site
/// energies `u` on an increasing grid of β > 0, by Simpson's rule
/// ([`crate::estimate::evidence`]'s one implementation; independent runs per β).
pub fn thermodynamic_integration(betas: &[f64], energies: &[Estimate], u0: f64) -> Vec<TiPoint> {
    let mut nodes = vec![TiNode {
        t: 0.0,
        slope: -u0,
        se: 0.0,
        var: None,
    }];
    nodes.extend(betas.iter().zip(energies).map(|(&b, u)| TiNode {
        t: b,
        slope: -u.value,
        se: u.se,
        var: None,
    }));
    integrate(&nodes, TiRule::Simpson)
        .into_iter()
        .zip(&nodes)
        .skip(1)
        .zip(energies)
        .map(|((i, node), u)| {
            let lz = Estimate {
                value: 2f64.ln() + i.value,
                se: i.se,
            };
            let beta = node.t;
            TiPoint {
                beta,
                log_z_per_site: lz,
                free_energy_per_site: Estimate {
                    value: -lz.value / beta,
                    se: lz.se / beta,
                },
                entropy_per_site: Estimate {
                    value: lz.value + beta * u.value,
                    se: (lz.se * lz.se + (beta * u.se).powi(2)).sqrt(),
                },
            }
        })
        .collect()
}

/// A uniform lattice ferromagnet or antiferromagnet as a sweep model.
pub fn lattice_model(dim: usize, l: usize, j: f64, h: f64) -> Result<SpinModel, ModelError> {
    if !(j.is_finite() && h.is_finite()) {
        return Err(ModelError::new("J", "J and h must be finite"));
    }
    Ok(SpinModel::Ising(Arc::new(IsingGraph::lattice(
        Lattice::new(dim, l)?,
        j,
        h,
    ))))
}

#[cfg(test)]
mod tests;
