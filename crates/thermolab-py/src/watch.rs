//! Long calls from Python: the library's run on a worker thread with the GIL released, while
//! the calling thread watches for Ctrl-C (which stops the run and keeps what it has) and
//! redraws the caller's progress bar (`thermolab.progress`, a terminal line or a Jupyter
//! widget) from a shared counter.

use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError};
use pyo3::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use thermolab::run::{Control, Observer, StopFlag};

/// Work done so far, in the run's own unit (iterations, rounds, sweeps, epochs), the total, and
/// the stage of a run that has several (`pilot`, `ladder`, `ais`).
#[derive(Clone)]
pub struct Tick {
    done: Arc<AtomicUsize>,
    total: Arc<AtomicUsize>,
    stage: Arc<Mutex<&'static str>>,
}

impl Tick {
    /// A counter of `total` units, none done.
    pub fn new(total: usize) -> Self {
        Self {
            done: Arc::default(),
            total: Arc::new(AtomicUsize::new(total)),
            stage: Arc::new(Mutex::new("")),
        }
    }
    /// Records that `n` units are done.
    pub fn set(&self, n: usize) {
        self.done.store(n, Ordering::Relaxed);
    }
    /// Records that the run is in `stage`, `done` of its `total` units done.
    pub fn stage(&self, stage: &'static str, done: usize, total: usize) {
        *self.stage.lock().unwrap_or_else(|p| p.into_inner()) = stage;
        self.total.store(total, Ordering::Relaxed);
        self.set(done);
    }
    fn read(&self) -> (usize, usize, &'static str) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
            *self.stage.lock().unwrap_or_else(|p| p.into_inner()),
        )
    }
}

/// An observer that moves a [`Tick`] by what each event says is done.
pub struct Ticker<F> {
    tick: Tick,
    done: F,
}

impl<F> Ticker<F> {
    /// `done(event)` says how many units are done at that event.
    pub fn new(tick: Tick, done: F) -> Self {
        Self { tick, done }
    }
}

impl<E, F: FnMut(&E) -> usize> Observer<E> for Ticker<F> {
    fn on_step(&mut self, e: &E) -> Control {
        let n = (self.done)(e);
        self.tick.set(n);
        Control::Continue
    }
}

/// What the watcher reports to the progress bar. The bar's own errors are ignored (a broken
/// bar must not end a run), except a KeyboardInterrupt: Python runs its SIGINT handler in
/// whatever Python code the main thread is executing, often the bar, and that Ctrl-C is the
/// user's. Returns whether one came.
fn redraw(py: Python<'_>, bar: Option<&Bound<'_, PyAny>>, tick: &Tick, started: Instant) -> bool {
    let Some(b) = bar else {
        return false;
    };
    let (done, total, stage) = tick.read();
    let r = b.call_method1(
        "update",
        (done, total, started.elapsed().as_secs_f64(), stage),
    );
    matches!(r, Err(e) if e.is_instance_of::<PyKeyboardInterrupt>(py))
}

/// Runs `work` on a worker thread with the GIL released; every 100 ms the calling thread checks
/// for signals (a KeyboardInterrupt raises `stop`: the run then ends early and its result is
/// kept) and calls `bar.update(done, total, seconds, stage)`; at the end `bar.close(interrupted)`.
/// Returns the result and whether the user interrupted. A signal handler's other exception is
/// raised after the run has stopped.
pub fn watched<R: Send>(
    py: Python<'_>,
    bar: Option<&Bound<'_, PyAny>>,
    tick: &Tick,
    stop: &StopFlag,
    work: impl FnOnce() -> R + Send,
) -> PyResult<(R, bool)> {
    let started = Instant::now();
    let mut interrupted = false;
    let mut other: Option<PyErr> = None;
    let result = std::thread::scope(|s| -> PyResult<R> {
        let signal = Arc::new((Mutex::new(false), Condvar::new()));
        let ended = signal.clone();
        let handle = s.spawn(move || {
            // Raised even when `work` panics, so that the watcher never waits for ever.
            struct Ended(Arc<(Mutex<bool>, Condvar)>);
            impl Drop for Ended {
                fn drop(&mut self) {
                    *self.0 .0.lock().unwrap_or_else(|p| p.into_inner()) = true;
                    self.0 .1.notify_all();
                }
            }
            let _ended = Ended(ended);
            work()
        });
        loop {
            let finished = py.detach(|| {
                let (lock, cv) = &*signal;
                let guard = lock.lock().unwrap_or_else(|p| p.into_inner());
                let (guard, _) = cv
                    .wait_timeout_while(guard, Duration::from_millis(100), |ended| !*ended)
                    .unwrap_or_else(|p| p.into_inner());
                *guard
            });
            if let Err(e) = py.check_signals() {
                stop.raise();
                if e.is_instance_of::<PyKeyboardInterrupt>(py) {
                    interrupted = true;
                } else {
                    other.get_or_insert(e);
                }
            }
            if redraw(py, bar, tick, started) {
                stop.raise();
                interrupted = true;
            }
            if finished {
                break;
            }
        }
        if let Some(b) = bar {
            if let Err(e) = b.call_method1("close", (interrupted,)) {
                if e.is_instance_of::<PyKeyboardInterrupt>(py) {
                    // The run has ended: the Ctrl-C is raised to the caller below.
                    interrupted = true;
                }
            }
        }
        py.detach(|| handle.join()).map_err(|_| {
            PyRuntimeError::new_err(
                "thermolab: the worker thread panicked (a bug: please report it)",
            )
        })
    })?;
    if let Some(e) = other {
        return Err(e);
    }
    Ok((result, interrupted))
}

/// After a run watched by [`watched`]: a Ctrl-C that came after the run had finished is the
/// caller's, raised as in plain Python; one that stopped the run is reported as `interrupted`.
pub fn interrupted_run(interrupted: bool, finished: bool) -> PyResult<bool> {
    if interrupted && finished {
        return Err(PyKeyboardInterrupt::new_err(()));
    }
    Ok(interrupted)
}
