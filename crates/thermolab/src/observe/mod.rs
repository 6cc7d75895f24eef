//! Observers: hooks that drivers call at start, at each step and at the end (monitors, progress,
//! traces, report writers), and the termination reasons every driver reports.
//!
//! Algorithms never print; everything a user sees comes through an observer. An observer can ask
//! the driver to stop (Ctrl-C, a wall-clock limit) by returning [`Control::Stop`].

mod monitor;

pub use monitor::{ThermoMonitor, ThermoReport};

use serde::{Deserialize, Serialize};

/// What an observer tells the driver after a step.
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
    /// The configured number of iterations or epochs ran.
    Finished,
    /// A configured target (e.g. an energy value) was reached.
    TargetReached,
    /// A convergence rule fired (e.g. the best energy was confirmed by independent restarts).
    Converged,
    /// The evaluation budget ran out.
    BudgetExhausted,
    /// The energy became non-finite and the run could not go on.
    Diverged,
    /// An observer asked to stop.
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
}

/// A hook called by a driver. `Ev` is the driver's per-step event type.
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
        if self.seen % self.k == 0 {
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
}
