//! Zero heap allocations per NUTS, HMC and MALA transition once their buffers have their size,
//! counted by a global allocator (on the test's own thread only), on a plain energy and on a
//! Gaussian reference path (a rung of tempering or evidence), with diagonal and dense metrics.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use thermolab::energy::{PathAt, ReferencePath};
use thermolab::kernels::mcmc::{Hmc, Mala, Metric, Nuts, State, StepInfo, Tuning};
use thermolab::kernels::Kernel;
use thermolab::rng::chain_stream;
use thermolab::systems::Ar1Gaussian;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

struct Counting;

fn note() {
    if COUNTING.with(Cell::get) {
        COUNT.with(|c| c.set(c.get() + 1));
    }
}

// SAFETY: every call is forwarded to the system allocator unchanged; the counter is a
// const-initialised thread-local without destructor, so touching it never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations made by `n` transitions of `k` on `target`, after 300 warm-up transitions.
fn allocations<T, K>(k: &mut K, target: &mut T, state: &mut State, n: usize) -> u64
where
    T: thermolab::Gradient,
    K: Kernel<T, State, Stats = StepInfo>,
{
    let mut rng = chain_stream(1, 0);
    for _ in 0..300 {
        k.step(target, state, 1.0, &mut rng).unwrap();
    }
    COUNT.with(|c| c.set(0));
    COUNTING.with(|c| c.set(true));
    let mut moved = 0;
    for _ in 0..n {
        moved += usize::from(k.step(target, state, 1.0, &mut rng).unwrap().accepted);
    }
    COUNTING.with(|c| c.set(false));
    assert!(moved > n / 10, "the kernel barely moved ({moved} of {n})");
    COUNT.with(Cell::get)
}

fn tuning(d: usize, eps: f64, dense: bool) -> Tuning {
    let mut t = Tuning::new(d, eps);
    if dense {
        let cov: Vec<f64> = (0..d * d)
            .map(|k| if k / d == k % d { 1.0 } else { 0.1 })
            .collect();
        t.metric = Metric::dense(cov, d).unwrap();
    }
    t
}

#[test]
fn transitions_allocate_nothing_after_warm_up() {
    // The counter sees allocations on this thread.
    COUNT.with(|c| c.set(0));
    COUNTING.with(|c| c.set(true));
    let v = std::hint::black_box(vec![1u8; 3]);
    COUNTING.with(|c| c.set(false));
    drop(v);
    assert_eq!(COUNT.with(Cell::get), 1);
    let d = 20;
    for dense in [false, true] {
        let mut g = Ar1Gaussian::new(d, 0.6, 1.0).unwrap();
        let mut path = PathAt::new(
            ReferencePath {
                target: g.clone(),
                ref_sd: 2.0,
            },
            0.7,
        );
        let x0 = vec![0.1; d];
        let mut start = State::new(&mut g, x0.clone()).unwrap();
        let mut path_start = State::new(&mut path, x0).unwrap();
        let mut nuts = Nuts::with_tuning(tuning(d, 0.3, dense), 10);
        let mut hmc = Hmc::with_tuning(tuning(d, 0.2, dense), 10);
        let mut mala = Mala::with_tuning(tuning(d, 0.3, dense));
        let mut path_nuts = Nuts::with_tuning(tuning(d, 0.3, dense), 10);
        let cases = [
            (
                "nuts",
                allocations(&mut nuts, &mut g, &mut start.clone(), 1000),
            ),
            (
                "hmc",
                allocations(&mut hmc, &mut g, &mut start.clone(), 1000),
            ),
            ("mala", allocations(&mut mala, &mut g, &mut start, 1000)),
            (
                "nuts on a reference path",
                allocations(&mut path_nuts, &mut path, &mut path_start, 1000),
            ),
        ];
        for (name, n) in cases {
            assert_eq!(
                n, 0,
                "{name} (dense metric: {dense}): {n} allocations in 1000 transitions"
            );
        }
    }
}
