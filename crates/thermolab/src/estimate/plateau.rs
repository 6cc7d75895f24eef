//! The equilibrium rule for a loss curve: the first epoch at which the loss stops moving.
//!
//! Rule (moving windows): with window `w`, epoch `t` (0-based, `w ≤ t ≤ n − w`) is in equilibrium
//! when the mean loss over `[t, t+w)` differs from the mean over `[t−w, t)` by at most
//! `rel_tol` times the latter. The equilibrium epoch is the first such `t`; `None` if the curve
//! never settles (or is shorter than `2w`). Default: `w = max(10, n/50)`, `rel_tol = 1%` — the
//! analogue of a physical observable whose running average has stopped drifting.

use serde::{Deserialize, Serialize};

/// Parameters of the plateau rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlateauRule {
    /// Window length in epochs; `None` means `max(10, n/50)`.
    pub window: Option<usize>,
    /// Relative tolerance between consecutive window means.
    pub rel_tol: f64,
}

impl Default for PlateauRule {
    fn default() -> Self {
        Self {
            window: None,
            rel_tol: 0.01,
        }
    }
}

/// The first epoch at which `losses` is in equilibrium under `rule`.
pub fn plateau_epoch(losses: &[f64], rule: &PlateauRule) -> Option<usize> {
    let n = losses.len();
    let w = rule.window.unwrap_or((n / 50).max(10)).max(1);
    if n < 2 * w {
        return None;
    }
    let mut prefix = vec![0.0; n + 1];
    for (i, l) in losses.iter().enumerate() {
        prefix[i + 1] = prefix[i] + l;
    }
    (w..=n - w).find(|&t| {
        let before = (prefix[t] - prefix[t - w]) / w as f64;
        let after = (prefix[t + w] - prefix[t]) / w as f64;
        before.is_finite()
            && after.is_finite()
            && (after - before).abs() <= rule.rel_tol * before.abs()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_knee_of_an_exponential_decay() {
        // L(t) = 1 + 10 e^{−t/50}: |ΔL| over a window w=20 is ≈ 10 e^{−t/50}(1−e^{−0.4}) ≈ 3.3 e^{−t/50};
        // it drops below 1% of ≈1 at t ≈ 50 ln(330) ≈ 290, give or take the window.
        let l: Vec<f64> = (0..1000)
            .map(|t| 1.0 + 10.0 * (-(t as f64) / 50.0).exp())
            .collect();
        let r = PlateauRule {
            window: Some(20),
            rel_tol: 0.01,
        };
        let t = plateau_epoch(&l, &r).unwrap();
        assert!((270..=310).contains(&t), "{t}");
        let rising: Vec<f64> = (0..100).map(|t| t as f64 + 1.0).collect();
        assert_eq!(plateau_epoch(&rising, &r), None);
        assert_eq!(plateau_epoch(&l[..30], &r), None);
    }
}
