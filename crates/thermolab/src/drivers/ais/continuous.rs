//! The continuous family of AIS: particles of a [`LinearPath`] drawn from its reference density
//! and moved by one HMC transition (a few leapfrog steps) per temperature.
//!
//! The step size is shared by the whole population and adapted between temperatures from its
//! mean acceptance (towards 0.65); the metric at t is the one of the largest pilot position
//! t' ≤ t (from an independent pilot run, so that the estimate stays unbiased), else the
//! identity. Each particle keeps both parts of its energy, measured once per temperature, which
//! give both its weight increment and its energy and gradient at the next temperature.

use super::AisFamily;
use crate::energy::{LinearPath, PathAt, PathEnergy};
use crate::error::Error;
use crate::kernels::mcmc::{Hmc, Metric, State, Tuning};
use crate::kernels::Kernel;
use crate::rng::Rng;

/// AIS particles of `path`.
#[derive(Debug, Clone)]
pub struct PathParticles<P> {
    /// The path (its reference end must be samplable).
    pub path: P,
    /// Leapfrog steps per temperature.
    pub leapfrog_steps: u32,
    /// Pilot metrics `(t, Σ̂_t)`, increasing in t.
    pub metrics: Vec<(f64, Metric)>,
}

/// The population's shared step size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathTuning {
    /// Step size ε.
    pub step_size: f64,
}

/// A group of particles with its energy, kernel and random stream (the group's own, from the
/// engine: the particles of a group draw from it in turn).
#[derive(Debug)]
pub struct Group<P> {
    target: Option<PathAt<P>>,
    kernel: Hmc,
    states: Vec<State>,
    parts: Vec<PathEnergy>,
    g_ref: Vec<Vec<f64>>,
    g_delta: Vec<Vec<f64>>,
    rng: Rng,
}

impl<P: LinearPath> AisFamily for PathParticles<P> {
    type Group = Group<P>;
    type Tuning = PathTuning;

    fn start(&self, _index: usize, len: usize, t0: f64, rng: Rng) -> Result<Group<P>, Error> {
        let d = self.path.dim();
        let mut target = PathAt::new(self.path.clone(), t0);
        let mut g = Group {
            kernel: Hmc::with_tuning(Tuning::new(d, 0.5), self.leapfrog_steps),
            states: Vec::with_capacity(len),
            parts: Vec::with_capacity(len),
            g_ref: Vec::with_capacity(len),
            g_delta: Vec::with_capacity(len),
            rng,
            target: None,
        };
        for _ in 0..len {
            let mut x = vec![0.0; d];
            if !self.path.sample_reference(&mut g.rng, &mut x) {
                return Err(crate::settings::SettingsError::new(
                    "path",
                    "AIS needs a reference end it can sample (a prior or a Gaussian reference)",
                )
                .into());
            }
            let (mut gr, mut gd) = (vec![0.0; d], vec![0.0; d]);
            let parts = target.path.parts(&x, &mut gr, &mut gd)?;
            g.states.push(State {
                x,
                energy: parts.at(t0),
                grad: gr.iter().zip(&gd).map(|(a, b)| a + t0 * b).collect(),
            });
            g.parts.push(parts);
            g.g_ref.push(gr);
            g.g_delta.push(gd);
        }
        g.target = Some(target);
        Ok(g)
    }

    fn add_log_ratio(&self, g: &Group<P>, from: f64, to: f64, log_w: &mut [f64]) {
        for (w, p) in log_w.iter_mut().zip(&g.parts) {
            *w -= (to - from) * p.delta;
        }
    }

    fn advance(&self, g: &mut Group<P>, t: f64, tuning: &PathTuning) -> Result<(f64, u64), Error> {
        let target = g.target.as_mut().expect("set at the start");
        target.t = t;
        g.kernel.tuning.step_size = tuning.step_size;
        if let Some((_, m)) = self.metrics.iter().rev().find(|(s, _)| *s <= t) {
            if g.kernel.tuning.metric != *m {
                g.kernel.tuning.metric = m.clone();
            }
        }
        let (mut accept, mut evals) = (0.0, 0u64);
        for i in 0..g.states.len() {
            let st = &mut g.states[i];
            st.energy = g.parts[i].at(t);
            for ((x, a), b) in st.grad.iter_mut().zip(&g.g_ref[i]).zip(&g.g_delta[i]) {
                *x = a + t * b;
            }
            let info = g.kernel.step(target, st, 1.0, &mut g.rng)?;
            accept += info.accept_stat;
            g.parts[i] = target
                .path
                .parts(&st.x, &mut g.g_ref[i], &mut g.g_delta[i])?;
            evals += u64::from(info.n_evals) + 1;
        }
        Ok((accept, evals))
    }

    fn tuning(&self) -> PathTuning {
        PathTuning { step_size: 0.5 }
    }

    fn retune(&self, tuning: &mut PathTuning, _t: f64, mean_accept: f64) {
        tuning.step_size =
            (tuning.step_size * (3.0 * (mean_accept - 0.65)).exp()).clamp(1e-4, 10.0);
    }
}
