//! The continuous family of parallel tempering: replicas of a [`LinearPath`] (a power
//! posterior, β-tempering of a plain energy, a Gaussian reference path), each moved by its own
//! copy of a tuned MCMC kernel with its own step size (dual averaging during warm-up).
//!
//! Each replica keeps both parts of its energy, `E_ref` and `ΔE`, and their gradients, measured
//! once per round: a swap then needs no evaluation (the state's energy and gradient at its new
//! rung are `E_ref + t·ΔE` and `∇E_ref + t·∇ΔE`).

use super::{run, Family, Tempering, TemperingEvent, ValidTempering, Walkable};
use crate::adapt::DualAveraging;
use crate::energy::{LinearPath, PathAt, PathEnergy};
use crate::error::Error;
use crate::kernels::mcmc::{find_step_size, State, TunedKernel};
use crate::rng::Rng;
use crate::run::{Control, Observer, RunContext};
use rand::SeedableRng;

/// A replica's state: the kernel's state at its rung, and both parts of its energy.
#[derive(Debug, Clone)]
pub struct PathState {
    /// Position, energy `E_t` and gradient `∇E_t` at the replica's rung.
    pub state: State,
    /// `E_ref` and `ΔE` at the position.
    pub parts: PathEnergy,
    g_ref: Vec<f64>,
    g_delta: Vec<f64>,
}

/// What stays at a rung: the energy at t, the kernel with its tuning, the stream, the adapter.
#[derive(Debug, Clone)]
pub struct PathMover<P, K> {
    target: PathAt<P>,
    kernel: K,
    rng: Rng,
    dual: DualAveraging,
}

impl<P, K> PathMover<P, K> {
    /// The rung's kernel (with its adapted tuning).
    pub fn kernel(&self) -> &K {
        &self.kernel
    }
}

/// Replicas of the path `path`, every one started at `x0`, moved by copies of `kernel`.
#[derive(Debug, Clone)]
pub struct PathReplicas<P, K> {
    /// The path.
    pub path: P,
    /// The kernel every rung starts from (each rung tunes its own copy).
    pub kernel: K,
    /// The starting point of every replica.
    pub x0: Vec<f64>,
    /// Acceptance statistic the step sizes aim for (the kernel's default unless set).
    pub target_accept: Option<f64>,
}

impl<P, K> Family for PathReplicas<P, K>
where
    P: LinearPath,
    K: TunedKernel<PathAt<P>> + Clone + Send + Sync,
{
    type State = PathState;
    type Mover = PathMover<P, K>;

    fn start(&self, _k: usize, t: f64, mut rng: Rng) -> Result<(Self::Mover, Self::State), Error> {
        let mut target = PathAt::new(self.path.clone(), t);
        let mut kernel = self.kernel.clone();
        let state = kernel.state_at(&mut target, self.x0.clone())?;
        find_step_size(&mut kernel, &mut target, &state, 1.0, &mut rng)?;
        let accept = self
            .target_accept
            .unwrap_or_else(|| kernel.default_target_accept());
        let dual = DualAveraging::new(kernel.tuning().step_size, accept);
        let d = self.x0.len();
        let mut st = PathState {
            state,
            parts: PathEnergy::default(),
            g_ref: vec![0.0; d],
            g_delta: vec![0.0; d],
        };
        st.parts = target
            .path
            .parts(&st.state.x, &mut st.g_ref, &mut st.g_delta)?;
        let mover = PathMover {
            target,
            kernel,
            rng,
            dual,
        };
        Ok((mover, st))
    }

    fn advance(
        &self,
        m: &mut Self::Mover,
        s: &mut Self::State,
        t: f64,
        warmup: bool,
    ) -> Result<u64, Error> {
        m.target.t = t;
        let info = m
            .kernel
            .step(&mut m.target, &mut s.state, 1.0, &mut m.rng)?;
        if warmup {
            m.kernel.tuning_mut().step_size = m.dual.update(info.accept_stat);
        }
        let path = &mut m.target.path;
        s.parts = match m.kernel.uses_gradient() {
            true => path.parts(&s.state.x, &mut s.g_ref, &mut s.g_delta)?,
            false => match path.values(&s.state.x) {
                Some(parts) => parts?,
                None => path.parts(&s.state.x, &mut s.g_ref, &mut s.g_delta)?,
            },
        };
        Ok(u64::from(info.n_evals) + 1)
    }

    fn log_ratio(&self, s: &Self::State, _lane: usize, from: f64, to: f64) -> f64 {
        -(to - from) * s.parts.delta
    }

    fn slope(&self, s: &Self::State, _lane: usize, _t: f64) -> f64 {
        -s.parts.delta
    }

    fn exchange(&self, a: &mut Self::State, b: &mut Self::State, _lane: usize) {
        std::mem::swap(a, b);
    }

    fn relocate(&self, s: &mut Self::State, t: f64) {
        s.state.energy = s.parts.at(t);
        if !s.state.grad.is_empty() {
            for ((g, a), b) in s.state.grad.iter_mut().zip(&s.g_ref).zip(&s.g_delta) {
                *g = a + t * b;
            }
        }
    }

    fn respaced(&self, m: &mut Self::Mover, t: f64) {
        m.target.t = t;
        let eps = m.kernel.tuning().step_size;
        m.dual.restart(eps);
    }

    fn end_warmup(&self, m: &mut Self::Mover) {
        m.kernel.tuning_mut().step_size = m.dual.final_step_size();
    }

    fn log_z_start(&self) -> Option<f64> {
        self.path.log_z_reference()
    }
}

/// Words of a continuous rung's part: ChaCha key (4), stream (1), word position (2), step size
/// (1), dual averaging (6).
const PATH_WORDS: usize = 14;

impl<P, K> Walkable for PathReplicas<P, K>
where
    P: LinearPath,
    K: TunedKernel<PathAt<P>> + Clone + Send + Sync,
{
    fn rung_part(&self, m: &Self::Mover) -> Vec<u64> {
        let mut w = Vec::with_capacity(PATH_WORDS);
        let seed = m.rng.get_seed();
        w.extend(
            seed.chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))),
        );
        w.push(m.rng.get_stream());
        let pos = m.rng.get_word_pos();
        w.push(pos as u64);
        w.push((pos >> 64) as u64);
        w.push(m.kernel.tuning().step_size.to_bits());
        w.extend(m.dual.to_words());
        w
    }

    fn load_rung(&self, m: &mut Self::Mover, part: &[u64]) -> Result<(), Error> {
        if part.len() != PATH_WORDS {
            return Err(Error::Protocol(format!(
                "a rung's part has {} words, expected {PATH_WORDS}",
                part.len()
            )));
        }
        let mut seed = [0u8; 32];
        for (c, w) in seed.chunks_exact_mut(8).zip(&part[..4]) {
            c.copy_from_slice(&w.to_le_bytes());
        }
        let mut r = Rng::from_seed(seed);
        r.set_stream(part[4]);
        r.set_word_pos(u128::from(part[5]) | (u128::from(part[6]) << 64));
        m.rng = r;
        m.kernel.tuning_mut().step_size = f64::from_bits(part[7]);
        m.dual = crate::adapt::DualAveraging::from_words(&part[8..]);
        Ok(())
    }

    fn draw(&self, s: &Self::State, out: &mut Vec<f64>) {
        out.extend_from_slice(&s.state.x);
    }

    fn save_state(&self, s: &Self::State, out: &mut Vec<u64>) {
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        out.push(s.state.x.len() as u64);
        out.push(u64::from(!s.state.grad.is_empty()));
        out.extend(bits(&s.state.x));
        out.extend(bits(&s.state.grad));
        out.push(s.state.energy.to_bits());
        out.push(s.parts.reference.to_bits());
        out.push(s.parts.delta.to_bits());
        out.extend(bits(&s.g_ref));
        out.extend(bits(&s.g_delta));
    }

    fn load_state(&self, w: &[u64]) -> Result<Self::State, Error> {
        let d = self.x0.len();
        let with_grad = w.get(1).copied().unwrap_or(0) == 1;
        let expected = 2 + d * if with_grad { 4 } else { 3 } + 3;
        // A gradient kernel reads the state's gradient: a state saved without one is foreign.
        let fits_kernel = with_grad || !self.kernel.uses_gradient();
        if w.len() != expected || w[0] != d as u64 || w[1] > 1 || !fits_kernel {
            return Err(Error::Protocol(format!(
                "a saved replica of {} words does not fit a state of dimension {d} for this kernel",
                w.len()
            )));
        }
        let mut at = 2;
        let mut take = |n: usize| {
            let v: Vec<f64> = w[at..at + n].iter().map(|&b| f64::from_bits(b)).collect();
            at += n;
            v
        };
        let x = take(d);
        let grad = take(if with_grad { d } else { 0 });
        let e = take(3);
        Ok(PathState {
            state: State {
                x,
                energy: e[0],
                grad,
            },
            parts: PathEnergy {
                reference: e[1],
                delta: e[2],
            },
            g_ref: take(d),
            g_delta: take(d),
        })
    }
}

/// Collects the draws at t = 1 (and at every rung with `keep_all`) of the kept rounds.
struct Collector {
    keep_all: bool,
    draws: Vec<f64>,
    all: Vec<f64>,
}

impl<'a> Observer<TemperingEvent<'a, PathState>> for Collector {
    fn on_step(&mut self, ev: &TemperingEvent<'a, PathState>) -> Control {
        if !ev.warmup {
            if let Some(top) = ev.states.last() {
                self.draws.extend_from_slice(&top.state.x);
            }
            if self.keep_all {
                for s in ev.states {
                    self.all.extend_from_slice(&s.state.x);
                }
            }
        }
        Control::Continue
    }
}

/// A continuous tempering run with its draws.
#[derive(Debug, Clone)]
pub struct TemperedDraws {
    /// The run (ladder, swaps, Λ, round trips, rungs, final states).
    pub run: Tempering<PathState>,
    /// Draws at t = 1, row-major, one per kept round.
    pub draws: Vec<f64>,
    /// With `keep_all`: every replica's draw at every kept round (`rounds × replicas × dim`),
    /// in ladder order.
    pub all_draws: Vec<f64>,
}

/// Parallel tempering of `replicas` (run `run_index` of seed `seed`), keeping the draws at t = 1
/// and, with `keep_all`, at every rung.
pub fn temper<P, K, O>(
    replicas: &PathReplicas<P, K>,
    settings: &ValidTempering,
    keep_all: bool,
    seed: u64,
    run_index: u32,
    ctx: &mut RunContext<O>,
) -> Result<TemperedDraws, Error>
where
    P: LinearPath,
    K: TunedKernel<PathAt<P>> + Clone + Send + Sync,
    O: for<'a> Observer<TemperingEvent<'a, PathState>>,
{
    crate::energy::check_dim(replicas.path.dim(), &replicas.x0)?;
    let rounds = settings.get().rounds;
    let mut collector = Collector {
        keep_all,
        draws: Vec::with_capacity(rounds * replicas.x0.len()),
        all: Vec::new(),
    };
    let result = run(
        replicas,
        settings,
        seed,
        run_index,
        &mut ctx.prepend(&mut collector),
    )?;
    Ok(TemperedDraws {
        run: result,
        draws: collector.draws,
        all_draws: collector.all,
    })
}

/// `chains` independent tempering runs of `replicas` (chain c is run c of seed `seed`, so its
/// streams are its own), one after the other; the observer sees every round of every chain.
/// A run stopped by the context ends the series; the context's budget is for the whole series.
pub fn temper_chains<P, K, O>(
    replicas: &PathReplicas<P, K>,
    settings: &ValidTempering,
    chains: usize,
    seed: u64,
    ctx: &mut RunContext<O>,
) -> Result<Vec<TemperedDraws>, Error>
where
    P: LinearPath,
    K: TunedKernel<PathAt<P>> + Clone + Send + Sync,
    O: for<'a> Observer<TemperingEvent<'a, PathState>>,
{
    let mut out = Vec::with_capacity(chains);
    // One clock and one evaluation budget for the whole series.
    ctx.start();
    let mut spent = 0;
    for c in 0..chains {
        let r = temper(
            replicas,
            settings,
            false,
            seed,
            c as u32,
            &mut ctx.stage(spent, |o| o),
        )?;
        spent += r.run.evaluations;
        let stopped = !r.run.termination.is_complete();
        out.push(r);
        if stopped {
            break;
        }
    }
    Ok(out)
}
