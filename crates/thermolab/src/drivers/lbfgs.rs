//! L-BFGS local minimisation with a backtracking (Armijo) line search, for refining the best
//! states of an annealer or any `Gradient` energy.
//!
//! # References
//! - Liu, D. C. & Nocedal, J. (1989), "On the limited memory BFGS method for large scale
//!   optimization", *Mathematical Programming* 45.
//! - Nocedal, J. & Wright, S. J. (2006), *Numerical Optimization*, algorithm 7.4 (two-loop recursion).

use crate::energy::{eval_grad, EnergyError, Gradient};
use crate::run::Termination;
use serde::{Deserialize, Serialize};

/// Settings of [`minimise`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LbfgsSettings {
    /// Maximum number of iterations (line searches).
    pub max_iterations: usize,
    /// Number of stored correction pairs.
    pub memory: usize,
    /// Stop when the largest gradient component is below this.
    pub gradient_tolerance: f64,
    /// Stop when an iteration lowers the energy by less than this times (1 + |E|).
    pub relative_tolerance: f64,
}

impl Default for LbfgsSettings {
    fn default() -> Self {
        Self {
            max_iterations: 200,
            memory: 7,
            gradient_tolerance: 1e-9,
            relative_tolerance: 1e-15,
        }
    }
}

/// Result of a local minimisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LbfgsResult {
    /// Final state.
    pub x: Vec<f64>,
    /// Energy at `x`.
    pub energy: f64,
    /// Iterations taken.
    pub iterations: usize,
    /// Why it stopped (`Converged`, `Finished` at the iteration cap, `Diverged` if the start
    /// point itself was non-finite).
    pub termination: Termination,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimises `f` from `x0` with L-BFGS. Recoverable errors during the line search shrink the
/// step; a non-recoverable error is returned.
pub fn minimise<E: Gradient + ?Sized>(
    f: &mut E,
    x0: &[f64],
    s: &LbfgsSettings,
) -> Result<LbfgsResult, EnergyError> {
    let n = x0.len();
    let mut x = x0.to_vec();
    let mut g = vec![0.0; n];
    let mut fx = match eval_grad(f, &x, &mut g) {
        Ok(v) => v,
        Err(e) if e.is_recoverable() => {
            return Ok(LbfgsResult {
                x,
                energy: f64::NAN,
                iterations: 0,
                termination: Termination::Diverged,
            })
        }
        Err(e) => return Err(e),
    };
    let m = s.memory.max(1);
    let mut s_hist: Vec<Vec<f64>> = Vec::with_capacity(m);
    let mut y_hist: Vec<Vec<f64>> = Vec::with_capacity(m);
    let mut rho: Vec<f64> = Vec::with_capacity(m);
    let mut d = vec![0.0; n];
    let mut xn = vec![0.0; n];
    let mut gn = vec![0.0; n];
    let mut alpha = vec![0.0; m];
    let mut termination = Termination::Finished;
    let mut it = 0;
    while it < s.max_iterations {
        if g.iter().fold(0.0f64, |a, v| a.max(v.abs())) <= s.gradient_tolerance {
            termination = Termination::Converged;
            break;
        }
        // Two-loop recursion: d = −H g.
        d.copy_from_slice(&g);
        let k = s_hist.len();
        for i in (0..k).rev() {
            alpha[i] = rho[i] * dot(&s_hist[i], &d);
            for (dj, yj) in d.iter_mut().zip(&y_hist[i]) {
                *dj -= alpha[i] * yj;
            }
        }
        let gamma = if k > 0 {
            dot(&s_hist[k - 1], &y_hist[k - 1]) / dot(&y_hist[k - 1], &y_hist[k - 1])
        } else {
            1.0 / g.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-300)
        };
        d.iter_mut().for_each(|v| *v *= gamma);
        for i in 0..k {
            let b = rho[i] * dot(&y_hist[i], &d);
            for (dj, sj) in d.iter_mut().zip(&s_hist[i]) {
                *dj += (alpha[i] - b) * sj;
            }
        }
        d.iter_mut().for_each(|v| *v = -*v);
        let mut slope = dot(&g, &d);
        if slope >= 0.0 {
            // Not a descent direction: reset memory and use steepest descent.
            s_hist.clear();
            y_hist.clear();
            rho.clear();
            let gn2 = g.iter().map(|v| v * v).sum::<f64>();
            let sc = 1.0 / gn2.sqrt().max(1e-300);
            for (dj, gj) in d.iter_mut().zip(&g) {
                *dj = -sc * gj;
            }
            slope = -gn2 * sc;
        }
        // Backtracking line search with the Armijo condition.
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..60 {
            for i in 0..n {
                xn[i] = x[i] + step * d[i];
            }
            match eval_grad(f, &xn, &mut gn) {
                Ok(fnew) if fnew <= fx + 1e-4 * step * slope => {
                    accepted = Some(fnew);
                    break;
                }
                Ok(_) => {}
                Err(e) if e.is_recoverable() => {}
                Err(e) => return Err(e),
            }
            step *= 0.5;
        }
        it += 1;
        let Some(fnew) = accepted else {
            termination = Termination::Converged;
            break;
        };
        if s_hist.len() == m {
            s_hist.remove(0);
            y_hist.remove(0);
            rho.remove(0);
        }
        let sv: Vec<f64> = (0..n).map(|i| xn[i] - x[i]).collect();
        let yv: Vec<f64> = (0..n).map(|i| gn[i] - g[i]).collect();
        let sy = dot(&sv, &yv);
        if sy > 1e-300 {
            rho.push(1.0 / sy);
            s_hist.push(sv);
            y_hist.push(yv);
        }
        let decrease = fx - fnew;
        std::mem::swap(&mut x, &mut xn);
        std::mem::swap(&mut g, &mut gn);
        fx = fnew;
        if decrease <= s.relative_tolerance * (1.0 + fx.abs()) {
            termination = Termination::Converged;
            break;
        }
    }
    Ok(LbfgsResult {
        x,
        energy: fx,
        iterations: it,
        termination,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systems::{Ar1Gaussian, Rosenbrock};

    #[test]
    fn solves_rosenbrock_and_a_correlated_quadratic() {
        let r = minimise(
            &mut Rosenbrock::new(10),
            &[-1.2; 10],
            &LbfgsSettings {
                max_iterations: 1000,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(r.energy < 1e-10, "{r:?}");
        assert!(r.x.iter().all(|v| (v - 1.0).abs() < 1e-4));
        let g = minimise(
            &mut Ar1Gaussian::new(20, 0.95, 1.0).unwrap(),
            &[3.0; 20],
            &Default::default(),
        )
        .unwrap();
        assert!(g.energy < 1e-12, "{g:?}");
        assert_eq!(g.termination, Termination::Converged);
    }
}
