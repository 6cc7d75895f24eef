//! Worker pools for the drivers' `threads` setting, lent for a run and kept for the next one.
//!
//! A pool's threads live as long as the pool. Building a new pool for every run (as a notebook,
//! a calibration over seeds or a distributed task does, run after run) would start new threads
//! each time, and whatever a thread keeps for its life (the Python package keeps a Python
//! thread state on each thread that calls a Python model) would pile up. Pools are therefore
//! lent: a run takes an idle pool of its size or builds one, and gives it back when it ends.
//! Runs at the same time get different pools, so two runs on two threads never queue behind
//! each other's workers. `threads = 0` uses rayon's global pool (one worker per core).

use rayon::ThreadPool;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Idle pools kept for the next runs (beyond this many, a returned pool is dropped).
const KEEP: usize = 8;

/// Idle pools with their sizes.
static IDLE: Mutex<Vec<(usize, ThreadPool)>> = Mutex::new(Vec::new());

/// Pools built so far (their threads are named `thermolab-pool<serial>-<index>`).
static BUILT: AtomicUsize = AtomicUsize::new(0);

/// A pool of workers lent to one run; it goes back to the idle pools when dropped.
///
/// ```
/// use thermolab::workers::Workers;
/// use rayon::prelude::*;
///
/// let w = Workers::lend(2);
/// let sum: u64 = w.install(|| (1..=100u64).into_par_iter().sum());
/// assert_eq!(sum, 5050);
/// ```
#[derive(Debug)]
pub struct Workers {
    pool: Option<(usize, ThreadPool)>,
}

impl Workers {
    /// `threads` workers: an idle pool of that size, or a new one; none for 0 (the global pool).
    pub fn lend(threads: usize) -> Self {
        if threads == 0 {
            return Self { pool: None };
        }
        let mut idle = IDLE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = idle.iter().position(|(n, _)| *n == threads) {
            return Self {
                pool: Some(idle.swap_remove(i)),
            };
        }
        drop(idle);
        let serial = BUILT.fetch_add(1, Ordering::Relaxed);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(move |i| format!("thermolab-pool{serial}-{i}"))
            .build()
            .ok();
        Self {
            pool: pool.map(|p| (threads, p)),
        }
    }

    /// Runs `f` on these workers (its parallel iterators use them).
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some((_, p)) => p.install(f),
            None => f(),
        }
    }
}

/// Whether the calling thread is a pool worker (of a lent pool or of rayon's global pool):
/// such a thread outlives the run, so state kept per thread is reused rather than piled up.
pub fn on_pool_thread() -> bool {
    rayon::current_thread_index().is_some()
}

impl Drop for Workers {
    fn drop(&mut self) {
        if let Some(p) = self.pool.take() {
            let mut idle = IDLE.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < KEEP {
                idle.push(p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pool a closure runs on, by its threads' name.
    fn pool_of(w: &Workers) -> String {
        w.install(|| {
            let name = std::thread::current()
                .name()
                .unwrap_or_default()
                .to_string();
            name.rsplit_once('-')
                .map(|(p, _)| p.to_string())
                .unwrap_or(name)
        })
    }

    /// A pool given back is lent again (its threads are reused), and two pools lent at once
    /// are different. (Size 7: no other test lends pools of that size.)
    #[test]
    fn pools_are_lent_again_and_never_shared_at_once() {
        let a = Workers::lend(7);
        let first = pool_of(&a);
        assert!(first.starts_with("thermolab-pool"));
        let b = Workers::lend(7);
        assert_ne!(first, pool_of(&b));
        drop(b);
        drop(a);
        let again = Workers::lend(7);
        let second = Workers::lend(7);
        let names = [pool_of(&again), pool_of(&second)];
        assert!(names.contains(&first), "{names:?} vs {first}");
    }
}
