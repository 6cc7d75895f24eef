//! Distributed parallel tempering: replicas stay where they live (on workers, e.g. Ray actors),
//! and the rungs move between them instead.
//!
//! In the in-process engine a state travels between rungs and a rung's mover (its stream, its
//! step size and their adaptation) stays put. Exchanging which replica holds which rung is the
//! same Markov chain, so here the states stay on their [`Walkers`] and each rung's *portable
//! part* (a few dozen bytes: the position of its random stream, its step size, its
//! dual-averaging state) goes to whichever replica holds the rung. Each round the driver's
//! [`Relay`] sends every group of walkers its [`Order`]s (rung, t, neighbours' t, rung part)
//! and gets back [`Report`]s (evaluations, the slope `∂_t ln p*`, the log ratios towards both
//! neighbours, the rung part after the moves); it decides the swaps from its own stream with
//! the engine's [`Conductor`]. Communication per round is O(replicas) scalars whatever the
//! dimension of the state, and the output is bit-identical to [`run`](super::run) for any
//! grouping of the walkers (this is how Pigeons.jl distributes non-reversible parallel
//! tempering over MPI, Syed et al. 2022, Algorithm 5).
//!
//! The draws at t = 1 stay on the walkers too, each with its round number, and are gathered
//! once at the end ([`Walkers::draws`]) or taken at checkpoints ([`Walkers::take_draws`]).
//!
//! Between rounds a run can be saved and continued bit for bit: [`Relay::snapshot`] holds the
//! driver's side (the conductor, the rung parts, who is where) and [`Walkers::snapshot`] a
//! group's replicas (their states, written exactly as words). A lost worker is replaced by
//! fresh walkers given the last snapshot ([`Walkers::restore`]), and every group goes back to
//! that round with the driver ([`Relay::restore`]).

use super::{Conductor, Family, Tempering, ValidTempering};
use crate::error::Error;
use crate::rng::{self, Purpose};
use crate::run::Termination;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// A family whose movers split into what stays with a replica and what belongs to a rung.
pub trait Walkable: Family {
    /// The rung's part of `mover` as words (a fixed, small number whatever the dimension).
    fn rung_part(&self, mover: &Self::Mover) -> Vec<u64>;
    /// Puts a rung's part (from [`Walkable::rung_part`]) into `mover`.
    fn load_rung(&self, mover: &mut Self::Mover, part: &[u64]) -> Result<(), Error>;
    /// Appends the draw (the position) of `state` to `out`.
    fn draw(&self, state: &Self::State, out: &mut Vec<f64>);
    /// Appends `state` to `out` as words: everything a replica needs to go on bit for bit.
    fn save_state(&self, state: &Self::State, out: &mut Vec<u64>);
    /// The state from exactly the words [`Walkable::save_state`] wrote.
    fn load_state(&self, words: &[u64]) -> Result<Self::State, Error>;
}

/// The first word of a [`Walkers::snapshot`] ("TLWALK01").
const WALKERS_MAGIC: u64 = u64::from_le_bytes(*b"TLWALK01");

/// What a walker does in one round.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// The walker.
    pub walker: u32,
    /// Its rung.
    pub rung: u32,
    /// The rung's t, and the neighbours' t (NaN at the ends of the ladder).
    pub t: [f64; 3],
    /// Flags: [`Order::RELOCATE`], [`Order::RESPACED`], [`Order::END_WARMUP`], [`Order::WARM`],
    /// [`Order::KEEP`], [`Order::CLOSE`].
    pub flags: u8,
    /// The rung's part.
    pub part: Vec<u64>,
}

impl Order {
    /// The walker's state moves to t first (its rung changed, or the ladder was re-spaced).
    pub const RELOCATE: u8 = 1;
    /// The ladder was re-spaced: the rung's mover restarts its adaptation at t first.
    pub const RESPACED: u8 = 2;
    /// Warm-up ended: the rung's mover fixes its tuning first.
    pub const END_WARMUP: u8 = 4;
    /// The round is a warm-up round (the mover adapts).
    pub const WARM: u8 = 8;
    /// The walker held the top rung at the end of the last round, a kept one: before moving,
    /// it keeps its position as that round's draw.
    pub const KEEP: u8 = 16;
    /// The run is over: the walker keeps its draw as told and does not move (its report is
    /// empty).
    pub const CLOSE: u8 = 32;
}

/// What a walker reports after its round.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The walker.
    pub walker: u32,
    /// Evaluations made.
    pub evaluations: u64,
    /// `∂_t ln p*_t(x)` at the walker's rung.
    pub slope: f64,
    /// `ln p*_{t_{k−1}}(x) − ln p*_{t_k}(x)` and `ln p*_{t_{k+1}}(x) − ln p*_{t_k}(x)` (NaN at
    /// the ends).
    pub ratios: [f64; 2],
    /// The rung's part after the moves.
    pub part: Vec<u64>,
}

/// A little-endian byte message of words.
struct Wire(Vec<u8>);

impl Wire {
    fn word(&mut self, w: u64) {
        self.0.extend_from_slice(&w.to_le_bytes());
    }
    fn words(&mut self, ws: &[u64]) {
        self.word(ws.len() as u64);
        ws.iter().for_each(|&w| self.word(w));
    }
}

/// Reads a [`Wire`] message.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn word(&mut self) -> Result<u64, Error> {
        if self.0.len() < 8 {
            return Err(Error::Protocol(
                "a tempering message ends early (truncated or not a thermolab message)".into(),
            ));
        }
        let (w, rest) = self.0.split_at(8);
        self.0 = rest;
        Ok(u64::from_le_bytes(w.try_into().expect("8 bytes")))
    }
    fn float(&mut self) -> Result<f64, Error> {
        self.word().map(f64::from_bits)
    }
    fn words(&mut self) -> Result<Vec<u64>, Error> {
        let n = self.word()? as usize;
        if n > self.0.len() / 8 {
            return Err(Error::Protocol("a tempering message ends early".into()));
        }
        (0..n).map(|_| self.word()).collect()
    }
    fn count(&mut self) -> Result<usize, Error> {
        let n = self.word()? as usize;
        if n > self.0.len() {
            return Err(Error::Protocol("a tempering message ends early".into()));
        }
        Ok(n)
    }
}

/// Encodes orders as bytes.
pub fn encode_orders(orders: &[Order]) -> Vec<u8> {
    let mut w = Wire(Vec::with_capacity(orders.len() * (8 * 6 + 8 * 14) + 8));
    w.word(orders.len() as u64);
    for o in orders {
        w.word(u64::from(o.walker) | (u64::from(o.rung) << 32));
        o.t.iter().for_each(|t| w.word(t.to_bits()));
        w.word(u64::from(o.flags));
        w.words(&o.part);
    }
    w.0
}

/// Decodes orders from bytes.
pub fn decode_orders(bytes: &[u8]) -> Result<Vec<Order>, Error> {
    let mut r = Reader(bytes);
    let n = r.count()?;
    (0..n)
        .map(|_| {
            let id = r.word()?;
            Ok(Order {
                walker: id as u32,
                rung: (id >> 32) as u32,
                t: [r.float()?, r.float()?, r.float()?],
                flags: r.word()? as u8,
                part: r.words()?,
            })
        })
        .collect()
}

/// Encodes reports as bytes.
pub fn encode_reports(reports: &[Report]) -> Vec<u8> {
    let mut w = Wire(Vec::with_capacity(reports.len() * (8 * 5 + 8 * 14) + 8));
    w.word(reports.len() as u64);
    for r in reports {
        w.word(u64::from(r.walker));
        w.word(r.evaluations);
        w.word(r.slope.to_bits());
        r.ratios.iter().for_each(|v| w.word(v.to_bits()));
        w.words(&r.part);
    }
    w.0
}

/// Decodes reports from bytes.
pub fn decode_reports(bytes: &[u8]) -> Result<Vec<Report>, Error> {
    let mut r = Reader(bytes);
    let n = r.count()?;
    (0..n)
        .map(|_| {
            Ok(Report {
                walker: r.word()? as u32,
                evaluations: r.word()?,
                slope: r.float()?,
                ratios: [r.float()?, r.float()?],
                part: r.words()?,
            })
        })
        .collect()
}

/// One group of walkers (the replicas one worker holds) and the draws they kept.
#[derive(Debug)]
pub struct Walkers<F: Walkable> {
    family: F,
    ids: Vec<u32>,
    movers: Vec<F::Mover>,
    states: Vec<F::State>,
    steps: usize,
    threads: usize,
    kept_rounds: Vec<u64>,
    kept: Vec<f64>,
    rounds_seen: u64,
}

impl<F: Walkable> Walkers<F> {
    /// Walkers `ids` of run `run` of seed `seed` with `settings`: walker w starts at rung w of
    /// the initial ladder from stream (seed, replica, (run, w)), as rung w does in
    /// [`run`](super::run). Moves them on `threads` threads (0: all cores). Returns the group
    /// and its first reports (the rung parts they start with).
    pub fn new(
        family: F,
        settings: &ValidTempering,
        ids: Vec<u32>,
        seed: u64,
        run: u32,
        threads: usize,
    ) -> Result<(Self, Vec<u8>), Error> {
        let s = settings.get();
        let n = s.ladder.len();
        if let Some(&w) = ids.iter().find(|&&w| w as usize >= n) {
            return Err(Error::Protocol(format!(
                "walker {w}: the ladder has {n} rungs"
            )));
        }
        let (movers, states): (Vec<F::Mover>, Vec<F::State>) = ids
            .iter()
            .map(|&w| {
                let r = rng::stream2(seed, Purpose::Replica, run, w);
                family.start(w as usize, s.ladder[w as usize], r)
            })
            .collect::<Result<Vec<_>, Error>>()?
            .into_iter()
            .unzip();
        let reports: Vec<Report> = ids
            .iter()
            .zip(&movers)
            .map(|(&walker, m)| Report {
                walker,
                evaluations: 0,
                slope: f64::NAN,
                ratios: [f64::NAN; 2],
                part: family.rung_part(m),
            })
            .collect();
        let walkers = Self {
            family,
            ids,
            movers,
            states,
            steps: s.steps_per_round,
            threads,
            kept_rounds: Vec::new(),
            kept: Vec::new(),
            rounds_seen: 0,
        };
        Ok((walkers, encode_reports(&reports)))
    }

    /// The walkers of this group.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// One round: carries out `orders` (bytes from [`Relay::orders`] or
    /// [`Relay::closing_orders`]), one per walker of the group, and returns the reports as
    /// bytes.
    pub fn advance(&mut self, orders: &[u8]) -> Result<Vec<u8>, Error> {
        let orders = decode_orders(orders)?;
        if orders.len() != self.ids.len()
            || orders.iter().zip(&self.ids).any(|(o, &w)| o.walker != w)
        {
            return Err(Error::Protocol(
                "tempering orders for other walkers than this group's".into(),
            ));
        }
        let family = &self.family;
        for (o, st) in orders.iter().zip(&self.states) {
            if o.flags & Order::KEEP != 0 {
                self.kept_rounds.push(self.rounds_seen.saturating_sub(1));
                family.draw(st, &mut self.kept);
            }
        }
        if orders.iter().any(|o| o.flags & Order::CLOSE != 0) {
            return Ok(encode_reports(&[]));
        }
        for ((o, m), st) in orders.iter().zip(&mut self.movers).zip(&mut self.states) {
            family.load_rung(m, &o.part)?;
            if o.flags & Order::RESPACED != 0 {
                family.respaced(m, o.t[0]);
            }
            if o.flags & Order::END_WARMUP != 0 {
                family.end_warmup(m);
            }
            if o.flags & Order::RELOCATE != 0 {
                family.relocate(st, o.t[0]);
            }
        }
        let steps = self.steps;
        let pool = crate::workers::Workers::lend(self.threads);
        let (movers, states) = (&mut self.movers, &mut self.states);
        let work = || {
            movers
                .par_iter_mut()
                .zip(states.par_iter_mut())
                .zip(orders.par_iter())
                .map(|((m, st), o)| -> Result<Report, Error> {
                    let t = o.t[0];
                    let mut evaluations = 0;
                    for _ in 0..steps {
                        evaluations += family.advance(m, st, t, o.flags & Order::WARM != 0)?;
                    }
                    let ratio = |u: f64| {
                        if u.is_nan() {
                            f64::NAN
                        } else {
                            family.log_ratio(st, 0, t, u)
                        }
                    };
                    Ok(Report {
                        walker: o.walker,
                        evaluations,
                        slope: family.slope(st, 0, t),
                        ratios: [ratio(o.t[1]), ratio(o.t[2])],
                        part: family.rung_part(m),
                    })
                })
                .collect::<Result<Vec<Report>, Error>>()
        };
        let reports = pool.install(work)?;
        self.rounds_seen += 1;
        Ok(encode_reports(&reports))
    }

    /// The draws this group kept (one per kept round it held the top rung at the end of), with
    /// the number of the round (counted from 0, warm-up included) each was taken at the end of.
    pub fn draws(&self) -> (&[u64], &[f64]) {
        (&self.kept_rounds, &self.kept)
    }

    /// Takes the draws kept so far (as [`Walkers::draws`] gives them) and forgets them here.
    pub fn take_draws(&mut self) -> (Vec<u64>, Vec<f64>) {
        (
            std::mem::take(&mut self.kept_rounds),
            std::mem::take(&mut self.kept),
        )
    }

    /// The group's replicas between two rounds, as bytes (the draws are not in it: take them
    /// with [`Walkers::take_draws`] at the same time).
    pub fn snapshot(&self) -> Vec<u8> {
        let mut w = Wire(Vec::new());
        w.word(WALKERS_MAGIC);
        w.words(&self.ids.iter().map(|&i| u64::from(i)).collect::<Vec<_>>());
        w.word(self.rounds_seen);
        let mut words = Vec::new();
        for st in &self.states {
            words.clear();
            self.family.save_state(st, &mut words);
            w.words(&words);
        }
        w.0
    }

    /// Puts the group back to a [`Walkers::snapshot`] of the same walkers (this group fresh
    /// from [`Walkers::new`], or one that went on past it): the next orders are those of the
    /// round after the snapshot. The draws kept here are dropped. A snapshot of other walkers
    /// or a damaged one is an error and changes nothing.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let mut r = Reader(bytes);
        if r.word()? != WALKERS_MAGIC {
            return Err(Error::Protocol(
                "not a snapshot of tempering walkers".into(),
            ));
        }
        let ids = r.words()?;
        if ids.len() != self.ids.len()
            || ids.iter().zip(&self.ids).any(|(&a, &b)| a != u64::from(b))
        {
            return Err(Error::Protocol(
                "a snapshot of other walkers than this group's".into(),
            ));
        }
        let rounds_seen = r.word()?;
        let states = self
            .ids
            .iter()
            .map(|_| self.family.load_state(&r.words()?))
            .collect::<Result<Vec<_>, Error>>()?;
        if !r.0.is_empty() {
            return Err(Error::Protocol(
                "a snapshot of tempering walkers has bytes after its end".into(),
            ));
        }
        self.states = states;
        self.rounds_seen = rounds_seen;
        self.kept_rounds.clear();
        self.kept.clear();
        Ok(())
    }
}

/// The driver of a distributed tempering run: the [`Conductor`], the rung parts, and which
/// walker is where.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Relay {
    conductor: Conductor,
    groups: Vec<Vec<u32>>,
    parts: Vec<Vec<u64>>,
    relocate: Vec<bool>,
    pending: u8,
    last_kept: bool,
    started: bool,
    sent: u64,
    received: u64,
}

impl Relay {
    /// The driver of run `run` of seed `seed` with `settings`, its walkers in `groups` (every
    /// walker 0 … rungs − 1 in exactly one group), on a path `linear` in t or not.
    pub fn new(
        settings: &ValidTempering,
        groups: Vec<Vec<u32>>,
        linear: bool,
        seed: u64,
        run: u32,
    ) -> Result<Self, Error> {
        let n = settings.get().ladder.len();
        check_groups(&groups, n)?;
        Ok(Self {
            conductor: Conductor::new(settings, 1, linear, seed, run),
            groups,
            parts: vec![Vec::new(); n],
            relocate: vec![false; n],
            pending: 0,
            last_kept: false,
            started: false,
            sent: 0,
            received: 0,
        })
    }

    /// The driver between two rounds, as bytes (JSON, its floats as bits).
    pub fn snapshot(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a relay serialises")
    }

    /// The driver of a [`Relay::snapshot`] of a run with `settings`; a damaged snapshot, or one
    /// whose sizes, schedule or flags do not fit `settings`, is an error (that it is the same
    /// run — seed, chain, path — is the caller's to check).
    pub fn restore(settings: &ValidTempering, bytes: &[u8]) -> Result<Self, Error> {
        let relay: Self = serde_json::from_slice(bytes)
            .map_err(|e| Error::Protocol(format!("not a snapshot of a tempering driver: {e}")))?;
        let n = settings.get().ladder.len();
        check_groups(&relay.groups, n)?;
        if !relay.conductor.fits(settings, 1) || relay.parts.len() != n || relay.relocate.len() != n
        {
            return Err(Error::Protocol(
                "a snapshot of a tempering driver of other settings".into(),
            ));
        }
        Ok(relay)
    }

    /// The groups of walkers, as given to [`Relay::new`].
    pub fn groups(&self) -> &[Vec<u32>] {
        &self.groups
    }

    /// The run's bookkeeping (ladder, rounds done, evaluations).
    pub fn conductor(&self) -> &Conductor {
        &self.conductor
    }

    /// Bytes sent in orders and received in reports so far.
    pub fn traffic(&self) -> (u64, u64) {
        (self.sent, self.received)
    }

    /// Takes the groups' first reports (from [`Walkers::new`], in the order of the groups).
    pub fn start(&mut self, reports: &[Vec<u8>]) -> Result<(), Error> {
        let n = self.parts.len();
        let mut seen = vec![false; n];
        for r in self.reports(reports)? {
            seen[r.walker as usize] = true;
            self.parts[r.walker as usize] = r.part;
        }
        if seen.iter().any(|s| !s) {
            return Err(Error::Protocol("a walker sent no first report".into()));
        }
        self.started = true;
        Ok(())
    }

    fn reports(&mut self, reports: &[Vec<u8>]) -> Result<Vec<Report>, Error> {
        if reports.len() != self.groups.len() {
            return Err(Error::Protocol(format!(
                "{} reports for {} groups of walkers",
                reports.len(),
                self.groups.len()
            )));
        }
        let mut all = Vec::with_capacity(self.parts.len());
        for (bytes, group) in reports.iter().zip(&self.groups) {
            self.received += bytes.len() as u64;
            let rs = decode_reports(bytes)?;
            if rs.len() != group.len() || rs.iter().zip(group).any(|(r, &w)| r.walker != w) {
                return Err(Error::Protocol(
                    "a group reported for other walkers than its own".into(),
                ));
            }
            all.extend(rs);
        }
        Ok(all)
    }

    /// The orders of the next round, one message per group.
    pub fn orders(&mut self) -> Result<Vec<Vec<u8>>, Error> {
        self.orders_with(0)
    }

    /// The last orders of a run, finished or stopped early: the walker holding the top rung
    /// keeps the last round's draw; nobody moves.
    pub fn closing_orders(&mut self) -> Result<Vec<Vec<u8>>, Error> {
        self.orders_with(Order::CLOSE)
    }

    fn orders_with(&mut self, extra: u8) -> Result<Vec<Vec<u8>>, Error> {
        if !self.started {
            return Err(Error::Protocol(
                "the walkers' first reports are not in yet".into(),
            ));
        }
        let c = &self.conductor;
        let n = self.parts.len();
        let ladder = c.ladder();
        let rung_of = rungs_of(c, n);
        let warm = c.warm();
        let mut flags_all = self.pending | extra;
        if warm {
            flags_all |= Order::WARM;
        }
        let out: Vec<Vec<u8>> = self
            .groups
            .iter()
            .map(|group| {
                let orders: Vec<Order> = group
                    .iter()
                    .map(|&w| {
                        let k = rung_of[w as usize];
                        let mut flags = flags_all;
                        if self.relocate[w as usize] {
                            flags |= Order::RELOCATE;
                        }
                        if self.last_kept && k + 1 == n {
                            flags |= Order::KEEP;
                        }
                        Order {
                            walker: w,
                            rung: k as u32,
                            t: [
                                ladder[k],
                                if k > 0 { ladder[k - 1] } else { f64::NAN },
                                ladder.get(k + 1).copied().unwrap_or(f64::NAN),
                            ],
                            flags,
                            part: self.parts[k].clone(),
                        }
                    })
                    .collect();
                encode_orders(&orders)
            })
            .collect();
        self.sent += out.iter().map(|m| m.len() as u64).sum::<u64>();
        Ok(out)
    }

    /// Takes the groups' reports of the round (in the order of the groups): keeps the rungs'
    /// measurements, decides the swaps and ends the round.
    pub fn absorb(&mut self, reports: &[Vec<u8>]) -> Result<(), Error> {
        let n = self.parts.len();
        let all = self.reports(reports)?;
        let c = &mut self.conductor;
        let rung_of = rungs_of(c, n);
        let mut at: Vec<Option<Report>> = vec![None; n];
        for r in all {
            let k = rung_of[r.walker as usize];
            at[k] = Some(r);
        }
        let at: Vec<Report> = at
            .into_iter()
            .map(|r| r.ok_or_else(|| Error::Protocol("a walker did not report".into())))
            .collect::<Result<_, _>>()?;
        c.count(at.iter().map(|r| r.evaluations).sum());
        for (k, r) in at.iter().enumerate() {
            c.record(k, r.slope, Some(r.ratios[1]));
        }
        let swapped = c.swap(|k, _, _, _| at[k].ratios[1] + at[k + 1].ratios[0]);
        self.relocate.iter_mut().for_each(|r| *r = false);
        for &(k, _) in &swapped {
            self.relocate[c.walker_at(k, 0) as usize] = true;
            self.relocate[c.walker_at(k + 1, 0) as usize] = true;
        }
        for (k, r) in at.into_iter().enumerate() {
            self.parts[k] = r.part;
        }
        self.last_kept = !c.warm();
        let end = c.end_round();
        self.pending = 0;
        if end.respaced {
            self.pending |= Order::RESPACED;
            self.relocate.iter_mut().for_each(|r| *r = true);
        }
        if end.end_warmup {
            self.pending |= Order::END_WARMUP;
        }
        Ok(())
    }

    /// The run's result (no states: they stayed on the walkers), ended for `termination`;
    /// `log_z_start` is the family's `ln Z` at t = 0 when known.
    pub fn finish(self, termination: Termination, log_z_start: Option<f64>) -> Tempering<()> {
        self.conductor.finish(Vec::new(), termination, log_z_start)
    }
}

/// Checks that `groups` hold every walker 0 … n − 1 exactly once.
fn check_groups(groups: &[Vec<u32>], n: usize) -> Result<(), Error> {
    let mut seen = vec![false; n];
    for &w in groups.iter().flatten() {
        if w as usize >= n || std::mem::replace(&mut seen[w as usize], true) {
            return Err(Error::Protocol(format!(
                "walker {w} is out of the ladder's {n} rungs or in two groups"
            )));
        }
    }
    match seen.iter().position(|s| !s) {
        Some(w) => Err(Error::Protocol(format!("walker {w} is in no group"))),
        None => Ok(()),
    }
}

/// The rung of each walker (the inverse of [`Conductor::walker_at`] on one lane).
fn rungs_of(c: &Conductor, n: usize) -> Vec<usize> {
    let mut rung_of = vec![0usize; n];
    for k in 0..n {
        rung_of[c.walker_at(k, 0) as usize] = k;
    }
    rung_of
}

/// Runs a tempering of `family` in this process through the distributed protocol, its walkers
/// split into `groups` (the reference the distributed runs are checked against; the draws at
/// t = 1 come back in round order).
pub fn relay_in_process<F: Walkable + Clone>(
    family: &F,
    settings: &ValidTempering,
    groups: Vec<Vec<u32>>,
    seed: u64,
    run: u32,
) -> Result<(Tempering<()>, Vec<f64>), Error> {
    let mut relay = Relay::new(settings, groups.clone(), family.linear(), seed, run)?;
    let mut walkers = Vec::new();
    let mut first = Vec::new();
    for g in groups {
        let (w, r) = Walkers::new(family.clone(), settings, g, seed, run, 1)?;
        walkers.push(w);
        first.push(r);
    }
    relay.start(&first)?;
    while !relay.conductor().done() {
        let orders = relay.orders()?;
        let reports = walkers
            .iter_mut()
            .zip(&orders)
            .map(|(w, o)| w.advance(o))
            .collect::<Result<Vec<_>, Error>>()?;
        relay.absorb(&reports)?;
    }
    let closing = relay.closing_orders()?;
    for (w, o) in walkers.iter_mut().zip(&closing) {
        w.advance(o)?;
    }
    let mut kept: Vec<(u64, &[f64])> = Vec::new();
    for w in &walkers {
        let (rounds, x) = w.draws();
        if !rounds.is_empty() {
            let dim = x.len() / rounds.len();
            kept.extend(rounds.iter().copied().zip(x.chunks_exact(dim.max(1))));
        }
    }
    kept.sort_by_key(|(r, _)| *r);
    let draws = kept.iter().flat_map(|(_, x)| x.iter().copied()).collect();
    let log_z = family.log_z_start();
    Ok((relay.finish(Termination::Finished, log_z), draws))
}
