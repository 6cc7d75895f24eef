//! The run context every driver takes — observers, a stop flag, a budget — and the termination
//! reason every driver's result names.
//!
//! A driver owns its loop; what happens around the loop comes in through a [`RunContext`]:
//! - an [`Observer`] of the driver's events (progress bars, traces, monitors, checkpoint
//!   writers), called on the driver's own thread at the driver's cadence ([`Every`] thins it);
//! - a [`StopFlag`] that a signal handler or another thread raises (Ctrl-C): the driver stops at
//!   its next check and returns what it has, with [`Termination::Interrupted`];
//! - a [`Budget`] of wall-clock seconds and energy evaluations ([`Termination::BudgetExhausted`]).
//!
//! Algorithms never print: everything a user sees comes through an observer.
//!
//! ```
//! use thermolab::run::{Budget, Control, Observer, RunContext, StopFlag, Termination};
//!
//! struct Count(usize);
//! impl Observer<f64> for Count {
//!     fn on_step(&mut self, _energy: &f64) -> Control {
//!         self.0 += 1;
//!         Control::Continue
//!     }
//! }
//! let stop = StopFlag::new();
//! let mut ctx = RunContext::new()
//!     .with_observer(Count(0))
//!     .with_stop(stop.clone())
//!     .with_budget(Budget { evaluations: Some(10), ..Budget::default() });
//! ctx.start();
//! let mut evaluations = 0;
//! let why = loop {
//!     evaluations += 1;
//!     if let Some(t) = ctx.step(&1.0, evaluations) {
//!         break t;
//!     }
//! };
//! assert_eq!(why, Termination::BudgetExhausted);
//! assert_eq!(ctx.observer.0, 10);
//! ```

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// What an observer tells the driver after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop now; the driver ends with [`Termination::Interrupted`].
    Stop,
}

/// Why a driver stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Termination {
    /// The configured number of iterations, rounds or epochs ran.
    Finished,
    /// A configured target (e.g. an energy value) was reached.
    TargetReached,
    /// A convergence rule fired (e.g. the best energy was confirmed by independent restarts).
    Converged,
    /// The time or evaluation budget ran out.
    BudgetExhausted,
    /// The energy became non-finite and the run could not go on.
    Diverged,
    /// The stop flag was raised or an observer asked to stop.
    Interrupted,
}

impl Termination {
    /// The snake_case name used in run files.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Finished => "finished",
            Self::TargetReached => "target_reached",
            Self::Converged => "converged",
            Self::BudgetExhausted => "budget_exhausted",
            Self::Diverged => "diverged",
            Self::Interrupted => "interrupted",
        }
    }
    /// Whether the run did all it was asked to (finished, converged or reached its target).
    pub fn is_complete(&self) -> bool {
        matches!(self, Self::Finished | Self::Converged | Self::TargetReached)
    }
}

/// A hook called by a driver. `Ev` is the driver's event type.
pub trait Observer<Ev: ?Sized> {
    /// Called once before the first step.
    fn on_init(&mut self) {}
    /// Called after each step (or at the observer's own cadence, see [`Every`]).
    fn on_step(&mut self, _event: &Ev) -> Control {
        Control::Continue
    }
    /// Called once at the end with the termination reason.
    fn on_finish(&mut self, _termination: Termination) {}
}

/// Forwards every `k`-th step to the inner observer (init and finish always).
#[derive(Debug)]
pub struct Every<O> {
    inner: O,
    k: usize,
    seen: usize,
}

impl<O> Every<O> {
    /// Wraps `inner` with cadence `k` (`k = 0` is treated as 1).
    pub fn new(inner: O, k: usize) -> Self {
        Self {
            inner,
            k: k.max(1),
            seen: 0,
        }
    }
    /// The wrapped observer.
    pub fn into_inner(self) -> O {
        self.inner
    }
}

impl<Ev: ?Sized, O: Observer<Ev>> Observer<Ev> for Every<O> {
    fn on_init(&mut self) {
        self.inner.on_init()
    }
    fn on_step(&mut self, event: &Ev) -> Control {
        self.seen += 1;
        if self.seen.is_multiple_of(self.k) {
            self.inner.on_step(event)
        } else {
            Control::Continue
        }
    }
    fn on_finish(&mut self, t: Termination) {
        self.inner.on_finish(t)
    }
}

/// A mutable reference to an observer is an observer.
impl<Ev: ?Sized, O: Observer<Ev> + ?Sized> Observer<Ev> for &mut O {
    fn on_init(&mut self) {
        (**self).on_init()
    }
    fn on_step(&mut self, event: &Ev) -> Control {
        (**self).on_step(event)
    }
    fn on_finish(&mut self, t: Termination) {
        (**self).on_finish(t)
    }
}

/// A pair of observers, called in order; either may stop the driver. Nest pairs for more.
impl<Ev: ?Sized, A: Observer<Ev>, B: Observer<Ev>> Observer<Ev> for (A, B) {
    fn on_init(&mut self) {
        self.0.on_init();
        self.1.on_init();
    }
    fn on_step(&mut self, event: &Ev) -> Control {
        let a = self.0.on_step(event);
        let b = self.1.on_step(event);
        if a == Control::Stop || b == Control::Stop {
            Control::Stop
        } else {
            Control::Continue
        }
    }
    fn on_finish(&mut self, t: Termination) {
        self.0.on_finish(t);
        self.1.on_finish(t);
    }
}

/// The empty observer.
impl<Ev: ?Sized> Observer<Ev> for () {}

/// A flag that asks a run to stop, shared between threads (raise it from a Ctrl-C handler).
/// Worker threads read it once per iteration; the cost is one relaxed atomic load.
#[derive(Debug, Clone, Default)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    /// A flag that is not raised.
    pub fn new() -> Self {
        Self::default()
    }
    /// Asks every run holding this flag to stop.
    pub fn raise(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    /// Whether the flag has been raised.
    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Limits on a run. A driver that reaches one stops with [`Termination::BudgetExhausted`] and
/// returns what it has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    /// Wall-clock seconds from [`RunContext::start`].
    pub seconds: Option<f64>,
    /// Energy (or gradient) evaluations, as the driver counts them.
    pub evaluations: Option<u64>,
}

impl Budget {
    /// No limits.
    pub fn unlimited() -> Self {
        Self::default()
    }
}

/// What a driver consults as it runs: an observer of its events, a stop flag and a budget.
#[derive(Debug)]
pub struct RunContext<O = ()> {
    /// The observer (`()` for none).
    pub observer: O,
    stop: StopFlag,
    budget: Budget,
    started: Option<Instant>,
}

impl Default for RunContext<()> {
    fn default() -> Self {
        Self::new()
    }
}

impl RunContext<()> {
    /// A context with no observer, a flag nobody raises and no budget.
    pub fn new() -> Self {
        Self {
            observer: (),
            stop: StopFlag::new(),
            budget: Budget::default(),
            started: None,
        }
    }
}

impl<O> RunContext<O> {
    /// The same context with observer `observer`.
    pub fn with_observer<P>(self, observer: P) -> RunContext<P> {
        RunContext {
            observer,
            stop: self.stop,
            budget: self.budget,
            started: self.started,
        }
    }
    /// The same context stopping when `flag` is raised.
    pub fn with_stop(mut self, flag: StopFlag) -> Self {
        self.stop = flag;
        self
    }
    /// The same context with budget `budget`.
    pub fn with_budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }
    /// The stop flag (clone it into worker threads).
    pub fn stop_flag(&self) -> &StopFlag {
        &self.stop
    }
    /// The budget.
    pub fn budget(&self) -> Budget {
        self.budget
    }
    /// Starts the clock (drivers call this once; later calls keep the first start).
    pub fn start(&mut self) {
        self.started.get_or_insert_with(Instant::now);
    }
    /// Seconds since [`RunContext::start`].
    pub fn elapsed(&self) -> f64 {
        self.started.map_or(0.0, |t| t.elapsed().as_secs_f64())
    }
    /// Whether the run must stop now: the flag was raised (`Interrupted`) or the budget is spent
    /// after `evaluations` evaluations (`BudgetExhausted`).
    pub fn check(&self, evaluations: u64) -> Option<Termination> {
        if self.stop.is_raised() {
            return Some(Termination::Interrupted);
        }
        let over_time = self.budget.seconds.is_some_and(|s| self.elapsed() >= s);
        let over_evals = self.budget.evaluations.is_some_and(|m| evaluations >= m);
        (over_time || over_evals).then_some(Termination::BudgetExhausted)
    }
    /// The observer's initialisation hook, and the start of the clock.
    pub fn init<Ev: ?Sized>(&mut self)
    where
        O: Observer<Ev>,
    {
        self.start();
        self.observer.on_init();
    }
    /// Passes `event` to the observer, then checks the flag and the budget: `Some(reason)` when
    /// the run must stop.
    pub fn step<Ev: ?Sized>(&mut self, event: &Ev, evaluations: u64) -> Option<Termination>
    where
        O: Observer<Ev>,
    {
        if self.observer.on_step(event) == Control::Stop {
            return Some(Termination::Interrupted);
        }
        self.check(evaluations)
    }
    /// The observer's finishing hook.
    pub fn finish<Ev: ?Sized>(&mut self, termination: Termination)
    where
        O: Observer<Ev>,
    {
        self.observer.on_finish(termination);
    }
    /// A context for a nested driver: `first` observes before this context's observer; the
    /// flag, budget and clock are this context's.
    pub fn prepend<P>(&mut self, first: P) -> RunContext<(P, &mut O)> {
        RunContext {
            observer: (first, &mut self.observer),
            stop: self.stop.clone(),
            budget: self.budget,
            started: self.started,
        }
    }
    /// A context for one stage of a larger run: its events go to `wrap(observer)` (an adapter
    /// that turns them into the larger run's events, or `()`); the flag and the clock (started
    /// now if it was not) are this context's, and the evaluation budget is what is left after
    /// `spent` evaluations.
    pub fn stage<'a, P>(
        &'a mut self,
        spent: u64,
        wrap: impl FnOnce(&'a mut O) -> P,
    ) -> RunContext<P> {
        self.start();
        RunContext {
            stop: self.stop.clone(),
            budget: Budget {
                evaluations: self.budget.evaluations.map(|m| m.saturating_sub(spent)),
                ..self.budget
            },
            started: self.started,
            observer: wrap(&mut self.observer),
        }
    }
    /// Takes the observer back.
    pub fn into_observer(self) -> O {
        self.observer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct CountSteps(usize, Option<Termination>);
    impl Observer<u32> for CountSteps {
        fn on_step(&mut self, _e: &u32) -> Control {
            self.0 += 1;
            if self.0 == 3 {
                Control::Stop
            } else {
                Control::Continue
            }
        }
        fn on_finish(&mut self, t: Termination) {
            self.1 = Some(t);
        }
    }

    #[test]
    fn every_forwards_at_its_cadence_and_stop_propagates() {
        let mut inner = Every::new(CountSteps(0, None), 2);
        let mut other = ();
        let mut obs = (&mut inner, &mut other);
        let mut stopped_at = None;
        for i in 0..10u32 {
            if obs.on_step(&i) == Control::Stop {
                stopped_at = Some(i);
                break;
            }
        }
        obs.on_finish(Termination::Interrupted);
        assert_eq!(stopped_at, Some(5)); // 6th step = 3rd forwarded
        let c = inner.into_inner();
        assert_eq!(c.0, 3);
        assert_eq!(c.1, Some(Termination::Interrupted));
        assert_eq!(Termination::TargetReached.as_str(), "target_reached");
    }

    #[test]
    fn the_flag_and_the_budget_stop_a_run() {
        let flag = StopFlag::new();
        let mut ctx = RunContext::new().with_stop(flag.clone());
        ctx.init::<u32>();
        assert_eq!(ctx.step(&1u32, 5), None);
        flag.raise();
        assert_eq!(ctx.step(&1u32, 5), Some(Termination::Interrupted));
        let ctx = RunContext::new().with_budget(Budget {
            seconds: Some(0.0),
            evaluations: None,
        });
        let mut ctx = ctx;
        ctx.start();
        assert_eq!(ctx.check(0), Some(Termination::BudgetExhausted));
        let ctx = RunContext::new().with_budget(Budget {
            seconds: None,
            evaluations: Some(3),
        });
        assert_eq!(ctx.check(2), None);
        assert_eq!(ctx.check(3), Some(Termination::BudgetExhausted));
    }
}
