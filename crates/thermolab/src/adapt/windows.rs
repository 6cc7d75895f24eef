//! Stan's windowed warm-up schedule: a fast initial buffer (step size only), slow windows that
//! double in length (metric estimation; step size restarted after each), and a terminal buffer.
//!
//! # References
//! - Stan Reference Manual, "HMC algorithm parameters: automatic parameter tuning".

use serde::{Deserialize, Serialize};

/// Where each warm-up iteration falls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowSchedule {
    warmup: usize,
    init_buffer: usize,
    term_buffer: usize,
    window: usize,
    next_end: usize,
}

impl WindowSchedule {
    /// The schedule for `warmup` iterations (defaults 75 / 25 / 50, shrunk proportionally when
    /// warm-up is short; below 20 iterations only the step size adapts).
    pub fn new(warmup: usize) -> Self {
        let (mut init, mut term, mut base) = (75, 50, 25);
        if warmup < 20 {
            return Self {
                warmup,
                init_buffer: warmup,
                term_buffer: 0,
                window: 0,
                next_end: usize::MAX,
            };
        }
        if init + term + base > warmup {
            init = (0.15 * warmup as f64) as usize;
            term = (0.1 * warmup as f64) as usize;
            base = warmup - (init + term);
        }
        Self {
            warmup,
            init_buffer: init,
            term_buffer: term,
            window: base,
            next_end: init + base - 1,
        }
    }
    /// Whether iteration `i` (0-based) contributes draws to the metric estimate.
    pub fn in_window(&self, i: usize) -> bool {
        self.window > 0 && i >= self.init_buffer && i < self.warmup - self.term_buffer
    }
    /// Whether iteration `i` closes a metric window; advances the schedule when it does.
    pub fn end_of_window(&mut self, i: usize) -> bool {
        if self.window == 0 || i != self.next_end || i >= self.warmup {
            return false;
        }
        let last = self.warmup - self.term_buffer - 1;
        if self.next_end < last {
            self.window *= 2;
            self.next_end = i + self.window;
            if self.next_end + 2 * self.window > last {
                self.next_end = last;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stan_windows_for_1000_warmup() {
        let mut s = WindowSchedule::new(1000);
        let ends: Vec<usize> = (0..1000).filter(|&i| s.end_of_window(i)).collect();
        // 75 + 25, then 50, 100, 200, and the last window stretched to iteration 949.
        assert_eq!(ends, vec![99, 149, 249, 449, 949]);
        let s = WindowSchedule::new(1000);
        assert!(!s.in_window(74) && s.in_window(75) && s.in_window(949) && !s.in_window(950));
        let mut short = WindowSchedule::new(100);
        let ends: Vec<usize> = (0..100).filter(|&i| short.end_of_window(i)).collect();
        assert_eq!(ends, vec![89]);
        assert!(!WindowSchedule::new(10).in_window(5));
    }
}
