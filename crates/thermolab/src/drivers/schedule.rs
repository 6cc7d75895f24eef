//! Cooling schedules: temperature as a function of the iteration, from T₀ down to T_end.
//!
//! With `n` iterations and `k = 0 … n−1`, `r = T_end / T₀` and `s = k / (n−1)`:
//! - geometric: `T_k = T₀ · r^s` (the classic `T ← αT` with `α = r^{1/(n−1)}`);
//! - linear: `T_k = T₀ + (T_end − T₀) s`;
//! - logarithmic: `T_k = T₀ / (1 + c·ln(1 + k))`, with `c` set so the last step reaches `T_end`
//!   (the slow schedule of Geman & Geman 1984, truncated to a finite run);
//! - exponential with reheats: the run is split into `cycles` geometric sweeps; cycle `j` starts
//!   at `T₀ · reheat^j` (reheating, Kirkpatrick-style, to escape the basin the previous cycle froze in).

use crate::settings::{nonzero, positive, SettingsError};
use serde::{Deserialize, Serialize};

/// A cooling schedule.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Schedule {
    /// `T₀ · (T_end/T₀)^{k/(n−1)}`.
    #[default]
    Geometric,
    /// Straight line from T₀ to T_end.
    Linear,
    /// `T₀ / (1 + c ln(1+k))`.
    Logarithmic,
    /// Geometric sweeps restarted `cycles` times, cycle `j` from `T₀ · reheat^j`.
    ExponentialReheat {
        /// Number of cooling cycles (≥ 1).
        cycles: usize,
        /// Factor applied to T₀ at each reheat, in (0, 1].
        reheat: f64,
    },
}

impl Schedule {
    /// Parses `geometric`, `linear`, `logarithmic` or `reheat` (3 cycles, factor 0.5).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "geometric" => Some(Self::Geometric),
            "linear" => Some(Self::Linear),
            "logarithmic" | "log" => Some(Self::Logarithmic),
            "reheat" | "exponential-reheat" => Some(Self::ExponentialReheat {
                cycles: 3,
                reheat: 0.5,
            }),
            _ => None,
        }
    }

    /// The schedule's short name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Geometric => "geometric",
            Self::Linear => "linear",
            Self::Logarithmic => "logarithmic",
            Self::ExponentialReheat { .. } => "reheat",
        }
    }

    /// Checks the schedule's own parameters.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if let Self::ExponentialReheat { cycles, reheat } = *self {
            nonzero("schedule.cycles", cycles)?;
            positive("schedule.reheat", reheat)?;
            if reheat > 1.0 {
                return Err(SettingsError::new("schedule.reheat", "must be at most 1"));
            }
        }
        Ok(())
    }

    /// Temperature at iteration `k` of `n`, cooling from `t0` to `t_end` (both > 0).
    pub fn temperature(&self, k: usize, n: usize, t0: f64, t_end: f64) -> f64 {
        let frac = |k: usize, n: usize| {
            if n <= 1 {
                1.0
            } else {
                k.min(n - 1) as f64 / (n - 1) as f64
            }
        };
        match *self {
            Self::Geometric => t0 * (t_end / t0).powf(frac(k, n)),
            Self::Linear => t0 + (t_end - t0) * frac(k, n),
            Self::Logarithmic => {
                if n <= 1 {
                    return t_end;
                }
                let c = (t0 / t_end - 1.0) / (n as f64).ln();
                t0 / (1.0 + c * (1.0 + k as f64).ln())
            }
            Self::ExponentialReheat { cycles, reheat } => {
                let len = n.div_ceil(cycles.max(1)).max(1);
                let j = (k / len).min(cycles.max(1) - 1);
                let start = t0 * reheat.powi(j as i32);
                let kk = k - j * len;
                let nn = if j + 1 == cycles { n - j * len } else { len };
                start * (t_end / start).powf(frac(kk, nn))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_start_hot_and_end_cold() {
        let all = [
            Schedule::Geometric,
            Schedule::Linear,
            Schedule::Logarithmic,
            Schedule::ExponentialReheat {
                cycles: 3,
                reheat: 0.5,
            },
        ];
        for s in all {
            s.validate().unwrap();
            let n = 101;
            assert!(
                (s.temperature(0, n, 10.0, 0.01) - 10.0).abs() < 1e-12,
                "{s:?}"
            );
            assert!(
                (s.temperature(n - 1, n, 10.0, 0.01) - 0.01).abs() < 1e-12,
                "{s:?}"
            );
            assert!((0..n).all(|k| s.temperature(k, n, 10.0, 0.01) > 0.0));
        }
        // Monotone except at reheats.
        for s in [Schedule::Geometric, Schedule::Linear, Schedule::Logarithmic] {
            let t: Vec<f64> = (0..50).map(|k| s.temperature(k, 50, 5.0, 0.1)).collect();
            assert!(t.windows(2).all(|w| w[1] <= w[0]), "{s:?}");
        }
        let r = Schedule::ExponentialReheat {
            cycles: 2,
            reheat: 0.5,
        };
        assert!((r.temperature(50, 100, 8.0, 0.1) - 4.0).abs() < 1e-12);
        assert!(Schedule::ExponentialReheat {
            cycles: 0,
            reheat: 0.5
        }
        .validate()
        .is_err());
        assert!(Schedule::ExponentialReheat {
            cycles: 2,
            reheat: 1.5
        }
        .validate()
        .is_err());
        // Geometric equals repeated multiplication by α.
        let alpha = (0.01f64 / 10.0).powf(1.0 / 100.0);
        let mut t = 10.0;
        for k in 0..101 {
            assert!((Schedule::Geometric.temperature(k, 101, 10.0, 0.01) - t).abs() < 1e-9 * t);
            t *= alpha;
        }
    }
}
