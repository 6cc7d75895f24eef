//! Estimators of log Z / log evidence along a path, each with a standard error: thermodynamic
//! integration (one implementation: trapezoid with the Calderhead–Girolami correction, or
//! Simpson), stepping-stone (one implementation), annealed-importance weights, bridge sampling
//! and — for teaching only — the harmonic mean.
//!
//! Conventions: a path `p_t ∝ exp(−E_ref − t·ΔE)` for t ∈ [0, 1]; for a power posterior ΔE is
//! the likelihood energy `−log L`. `ln Z(1) − ln Z(0) = ∫₀¹ ⟨∂_t ln p*_t⟩_t dt = −∫₀¹ ⟨ΔE⟩_t dt`,
//! and on a linear path `d²ln Z/dt² = Var_t(ΔE)`. Paths that are not linear in t (a Boltzmann
//! machine with its hidden units summed out) give each draw's log ratio to the next rung
//! explicitly.
//!
//! # References
//! - Friel, N. & Pettitt, A. N. (2008), "Marginal likelihood estimation via power posteriors",
//!   *JRSS B* 70.
//! - Calderhead, B. & Girolami, M. (2009), "Estimating Bayes factors via thermodynamic
//!   integration and population MCMC", *CSDA* 53.
//! - Xie, Lewis, Fan, Kuo & Chen (2011), "Improving marginal likelihood estimation for Bayesian
//!   phylogenetic model selection", *Systematic Biology* 60 (stepping-stone).
//! - Neal, R. M. (2001), "Annealed importance sampling", *Statistics and Computing* 11.
//! - Meng, X.-L. & Wong, W. H. (1996), "Simulating ratios of normalizing constants via a simple
//!   identity", *Statistica Sinica* 6 (bridge sampling).
//! - Newton, M. A. & Raftery, A. E. (1994) (the harmonic mean, known to have infinite variance).

use super::series::Estimate;
use serde::{Deserialize, Serialize};

/// The draws of one rung of a path, with their effective sample size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rung {
    /// Position t ∈ [0, 1].
    pub t: f64,
    /// `−∂_t ln p*_t(x)` of every draw: ΔE on a linear path (the likelihood energy of a power
    /// posterior, the energy of β-tempering).
    pub delta: Vec<f64>,
    /// `ln p*_{t'}(x) − ln p*_t(x)` of every draw, t' the next rung, for paths that are not
    /// linear in t (`None`: it is `−(t' − t)·ΔE`).
    pub forward: Option<Vec<f64>>,
    /// Effective sample size of the draws.
    pub ess: f64,
    /// The draws are this many chains of equal length, one after the other (0: another
    /// layout), so that estimators can measure the autocorrelation of what they average.
    #[serde(default)]
    pub chains: usize,
}

impl Rung {
    /// A rung of a linear path from the ΔE of its draws.
    pub fn linear(t: f64, delta: Vec<f64>, ess: f64) -> Self {
        Self {
            t,
            delta,
            forward: None,
            ess,
            chains: 0,
        }
    }

    /// Splits `values` (one per draw) into the rung's chains, when their layout is known.
    fn per_chain<'a>(&self, values: &'a [f64]) -> Option<Vec<&'a [f64]>> {
        let c = self.chains;
        (c > 0 && values.len().is_multiple_of(c) && values.len() / c >= 4)
            .then(|| values.chunks_exact(values.len() / c).collect())
    }

    /// The effective sample size for a mean of `values` (one per draw): their own ESS where
    /// the chains are known (a function of the draws can mix worse than ΔE), never more than
    /// the rung's ESS.
    fn ess_of(&self, values: &[f64]) -> f64 {
        let own = self
            .per_chain(values)
            .map(|c| crate::estimate::diagnostics::ess_mean(&c))
            .filter(|e| e.is_finite() && *e > 0.0);
        own.map_or(self.ess, |e| e.min(self.ess)).max(1.0)
    }
}

/// One stone of a stepping-stone ladder: how well the draws of a rung cover the next one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stone {
    /// The rung's position.
    pub from: f64,
    /// The next rung's.
    pub to: f64,
    /// The importance weights' effective sample size as a share of the draws, `(Σw)²/(nΣw²)`.
    pub weight_ess: f64,
    /// Pareto k̂ of the weights ([`super::pareto`]).
    pub pareto_k: f64,
}

/// Every stone of `rungs`, forward (each rung's draws reweighted to the next).
pub fn stones(rungs: &[Rung]) -> Vec<Stone> {
    (1..rungs.len())
        .map(|k| {
            let a = log_ratios(&rungs[k - 1], rungs[k].t);
            let lr = log_mean_exp(&a);
            let w: Vec<f64> = a.iter().map(|v| (v - lr).exp()).collect();
            let n = w.len() as f64;
            Stone {
                from: rungs[k - 1].t,
                to: rungs[k].t,
                weight_ess: w.iter().sum::<f64>().powi(2)
                    / (n * w.iter().map(|x| x * x).sum::<f64>()),
                pareto_k: super::pareto::pareto_k(&a),
            }
        })
        .collect()
}

/// Each draw's log ratio `ln p*_{t'} − ln p*_t` from `rung` to position `to`.
fn log_ratios(rung: &Rung, to: f64) -> Vec<f64> {
    match &rung.forward {
        Some(f) => f.clone(),
        None => {
            let dt = to - rung.t;
            rung.delta.iter().map(|u| -dt * u).collect()
        }
    }
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

fn var(x: &[f64]) -> f64 {
    let m = mean(x);
    x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() as f64 - 1.0).max(1.0)
}

/// `ln mean exp(a_i)`.
pub fn log_mean_exp(a: &[f64]) -> f64 {
    let m = a.iter().fold(f64::NEG_INFINITY, |x, &y| x.max(y));
    if !m.is_finite() {
        return m;
    }
    m + (a.iter().map(|v| (v - m).exp()).sum::<f64>() / a.len() as f64).ln()
}

/// The quadrature rule of [`thermodynamic_integration`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TiRule {
    /// Trapezoid, with the Calderhead–Girolami variance correction where the nodes carry
    /// `Var(ΔE)`; discretisation error by Richardson's estimate against every other node.
    Trapezoid,
    /// Simpson on consecutive pairs of intervals (the non-uniform rule, exact for quadratics;
    /// pairs whose lengths differ more than twofold, and a last odd interval, by the
    /// trapezoid); discretisation error |Simpson − trapezoid|.
    Simpson,
}

/// One node of a thermodynamic integration: the mean slope `⟨∂_t ln p*⟩_t = −⟨ΔE⟩_t` with its
/// standard error, and (on linear paths) `Var_t(ΔE)` for the trapezoid correction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TiNode {
    /// Position t.
    pub t: f64,
    /// `⟨∂_t ln p*_t⟩`.
    pub slope: f64,
    /// Its standard error.
    pub se: f64,
    /// `Var_t(ΔE) = d²ln Z/dt²` on a linear path.
    pub var: Option<f64>,
}

impl TiNode {
    /// The node of a rung: mean and MCSE of `−ΔE`, and (on linear paths) its variance.
    pub fn of(rung: &Rung) -> Self {
        let v = var(&rung.delta);
        Self {
            t: rung.t,
            slope: -mean(&rung.delta),
            se: (v / rung.ess_of(&rung.delta)).sqrt(),
            var: rung.forward.is_none().then_some(v),
        }
    }
}

/// Thermodynamic integration `∫ ⟨∂_t ln p*⟩ dt` over increasing nodes: the cumulative integral
/// at every node (the first is 0). The standard error propagates the nodes' errors (independent
/// nodes) and adds, in quadrature, the rule's discretisation error.
pub fn thermodynamic_integration(nodes: &[TiNode], rule: TiRule) -> Vec<Estimate> {
    let n = nodes.len();
    let mut out = vec![Estimate {
        value: 0.0,
        se: 0.0,
    }];
    for k in 1..n {
        let part = &nodes[..=k];
        let (value, w) = quadrature(part, rule);
        let stat: f64 = w.iter().zip(part).map(|(w, p)| (w * p.se).powi(2)).sum();
        let disc = match rule {
            TiRule::Simpson => (value - quadrature(part, TiRule::Trapezoid).0).abs(),
            TiRule::Trapezoid if part.len() >= 5 => {
                let mut coarse: Vec<TiNode> = part.iter().step_by(2).copied().collect();
                if (part.len() - 1) % 2 == 1 {
                    coarse.push(part[part.len() - 1]);
                }
                (value - quadrature(&coarse, TiRule::Trapezoid).0).abs() / 3.0
            }
            // Too few nodes for Richardson: the monotone bracket's half-widths bound the error.
            TiRule::Trapezoid => part
                .windows(2)
                .map(|w| 0.5 * (w[1].t - w[0].t) * (w[1].slope - w[0].slope).abs())
                .sum::<f64>(),
        };
        out.push(Estimate {
            value,
            se: (stat + disc * disc).sqrt(),
        });
    }
    out
}

/// The rule's value over `nodes` and each node's weight.
fn quadrature(nodes: &[TiNode], rule: TiRule) -> (f64, Vec<f64>) {
    let n = nodes.len();
    let mut w = vec![0.0; n];
    let mut correction = 0.0;
    match rule {
        TiRule::Trapezoid => {
            for k in 0..n - 1 {
                let h = nodes[k + 1].t - nodes[k].t;
                w[k] += h / 2.0;
                w[k + 1] += h / 2.0;
                if let (Some(a), Some(b)) = (nodes[k].var, nodes[k + 1].var) {
                    // On a linear path the slope is monotone in t (its derivative is Var ≥ 0),
                    // so the interval's integral lies between h·slope at either end: a
                    // correction that would leave that bracket (a heavy-tailed end rung's
                    // variance) is cut back to it.
                    let half_gap = 0.5 * h * (nodes[k + 1].slope - nodes[k].slope).abs();
                    correction += (-h * h / 12.0 * (b - a)).clamp(-half_gap, half_gap);
                }
            }
        }
        TiRule::Simpson => {
            let mut k = 0;
            while k + 2 < n {
                // Composite Simpson on a non-uniform grid (exact for quadratics on each pair);
                // where one interval is more than twice the other an end weight would turn
                // negative and amplify noise, so that pair takes the trapezoid.
                let (h1, h2) = (nodes[k + 1].t - nodes[k].t, nodes[k + 2].t - nodes[k + 1].t);
                let s = h1 + h2;
                if h2 <= 2.0 * h1 && h1 <= 2.0 * h2 {
                    w[k] += s / 6.0 * (2.0 - h2 / h1);
                    w[k + 1] += s * s * s / (6.0 * h1 * h2);
                    w[k + 2] += s / 6.0 * (2.0 - h1 / h2);
                } else {
                    w[k] += h1 / 2.0;
                    w[k + 1] += s / 2.0;
                    w[k + 2] += h2 / 2.0;
                }
                k += 2;
            }
            if k + 1 < n {
                let h = nodes[k + 1].t - nodes[k].t;
                w[k] += h / 2.0;
                w[k + 1] += h / 2.0;
            }
        }
    }
    let value = w.iter().zip(nodes).map(|(w, p)| w * p.slope).sum::<f64>() + correction;
    (value, w)
}

/// Thermodynamic integration over a ladder of rungs (trapezoid with the Calderhead–Girolami
/// correction where the path is linear): `ln Z(1) − ln Z(t₀)`.
pub fn ti_corrected(rungs: &[Rung]) -> Estimate {
    let nodes: Vec<TiNode> = rungs.iter().map(TiNode::of).collect();
    *thermodynamic_integration(&nodes, TiRule::Trapezoid)
        .last()
        .expect("at least one node")
}

/// Stepping-stone: `ln Z(t_K) − ln Z(t_0) = Σ_k ln mean_{t_{k−1}} exp(r_k)` with `r_k` each
/// draw's log ratio to the next rung (`−(t_k − t_{k−1}) ΔE` on a linear path), and a
/// delta-method standard error per stone (`Var(w) / (ESS_w · mean(w)²)`, with the ESS of the
/// weights themselves where the rung's chains are known). Also returns the cumulative
/// estimate at every rung (the first is 0). [`stones`] says whether each stone's weights can
/// be trusted.
pub fn stepping_stones(rungs: &[Rung]) -> Vec<Estimate> {
    let mut total = 0.0;
    let mut var_total = 0.0;
    let mut out = vec![Estimate {
        value: 0.0,
        se: 0.0,
    }];
    for k in 1..rungs.len() {
        let r = &rungs[k - 1];
        let a = log_ratios(r, rungs[k].t);
        let lr = log_mean_exp(&a);
        total += lr;
        let w: Vec<f64> = a.iter().map(|v| (v - lr).exp()).collect(); // normalised to mean 1
        var_total += var(&w) / r.ess_of(&w);
        out.push(Estimate {
            value: total,
            se: var_total.sqrt(),
        });
    }
    out
}

/// [`stepping_stones`] over the whole ladder: `ln Z(t_K) − ln Z(t_0)`.
pub fn stepping_stone(rungs: &[Rung]) -> Estimate {
    *stepping_stones(rungs).last().expect("at least one rung")
}

/// Log Z from annealed-importance log-weights: `ln mean exp(log w)`, standard error by the
/// delta method, and the weights' effective sample size `(Σw)²/Σw²`.
pub fn ais_estimate(log_w: &[f64]) -> (Estimate, f64) {
    let lz = log_mean_exp(log_w);
    let w: Vec<f64> = log_w.iter().map(|v| (v - lz).exp()).collect();
    let n = w.len() as f64;
    let ess = w.iter().sum::<f64>().powi(2) / w.iter().map(|v| v * v).sum::<f64>();
    (
        Estimate {
            value: lz,
            se: (var(&w) / n).sqrt(),
        },
        ess,
    )
}

/// The harmonic-mean estimator from posterior draws: `ln Z = −ln mean exp(E_lik)`. Its variance
/// is typically infinite; it is here to show why it should not be used.
pub fn harmonic_mean(posterior_lik_energy: &[f64], ess: f64) -> Estimate {
    let a: Vec<f64> = posterior_lik_energy.to_vec();
    let l = log_mean_exp(&a);
    let w: Vec<f64> = a.iter().map(|v| (v - l).exp()).collect();
    Estimate {
        value: -l,
        se: (var(&w) / ess.max(1.0)).sqrt(),
    }
}

/// Bridge sampling (Meng & Wong's iterative optimal bridge) between posterior draws and draws
/// from a normalised proposal q. Inputs are, for posterior draws, the unnormalised log posterior
/// `lp_post` and `lq_post = log q`; and the same two quantities at the proposal draws. The
/// standard error uses the relative-variance approximation of Frühwirth-Schnatter (2004) with the
/// posterior draws' effective sample size.
pub fn bridge_sampling(
    lp_post: &[f64],
    lq_post: &[f64],
    lp_prop: &[f64],
    lq_prop: &[f64],
    ess_post: f64,
) -> Estimate {
    let (n1, n2) = (lp_post.len() as f64, lp_prop.len() as f64);
    let (s1, s2) = (ess_post / (ess_post + n2), n2 / (ess_post + n2));
    // Work relative to a shift to avoid overflow.
    let shift = lp_post.iter().zip(lq_post).map(|(p, q)| p - q).sum::<f64>() / n1;
    let l1: Vec<f64> = lp_post
        .iter()
        .zip(lq_post)
        .map(|(p, q)| p - q - shift)
        .collect();
    let l2: Vec<f64> = lp_prop
        .iter()
        .zip(lq_prop)
        .map(|(p, q)| p - q - shift)
        .collect();
    let mut r = 1.0f64;
    for _ in 0..1000 {
        let num: f64 = l2
            .iter()
            .map(|l| l.exp() / (s1 * l.exp() + s2 * r))
            .sum::<f64>()
            / n2;
        let den: f64 = l1
            .iter()
            .map(|l| 1.0 / (s1 * l.exp() + s2 * r))
            .sum::<f64>()
            / n1;
        let next = num / den;
        if ((next - r) / r).abs() < 1e-12 {
            r = next;
            break;
        }
        r = next;
    }
    let f2: Vec<f64> = l2
        .iter()
        .map(|l| l.exp() / (s1 * l.exp() + s2 * r))
        .collect();
    let f1: Vec<f64> = l1.iter().map(|l| 1.0 / (s1 * l.exp() + s2 * r)).collect();
    let rel =
        var(&f2) / (n2 * mean(&f2).powi(2)) + var(&f1) / (ess_post.max(1.0) * mean(&f1).powi(2));
    Estimate {
        value: r.ln() + shift,
        se: rel.sqrt(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_mean_exp_is_stable() {
        assert!((log_mean_exp(&[1000.0, 1000.0]) - 1000.0).abs() < 1e-12);
        assert!((log_mean_exp(&[0.0, 2f64.ln()]) - 1.5f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn ti_integrates_a_known_path() {
        // ⟨log L⟩_t = −(1 − t)² + c has integral −1/3 + c; a noise-free path is integrated
        // exactly by Simpson and nearly by the corrected trapezoid.
        let rungs: Vec<Rung> = (0..=20)
            .map(|k| {
                let t = k as f64 / 20.0;
                let m = -(1.0 - t) * (1.0 - t) + 0.5;
                Rung::linear(t, vec![-m, -m], 2.0)
            })
            .collect();
        let nodes: Vec<TiNode> = rungs.iter().map(TiNode::of).collect();
        let simpson = thermodynamic_integration(&nodes, TiRule::Simpson);
        assert!((simpson[20].value - (-1.0 / 3.0 + 0.5)).abs() < 1e-12);
        assert!((ti_corrected(&rungs).value - (-1.0 / 3.0 + 0.5)).abs() < 1e-3);
        // Cumulative: at t = ½ the integral of −(1−t)² + ½ is −7/24 + ¼.
        assert!((simpson[10].value - (-7.0 / 24.0 + 0.25)).abs() < 1e-12);
    }

    /// Simpson's rule on an uneven grid integrates a quadratic exactly.
    #[test]
    fn simpson_is_exact_for_cubics_on_uneven_ladders() {
        let ts = [0.0, 0.1, 0.25, 0.4, 0.6, 0.8, 1.0];
        let f = |t: f64| -t * t + 0.5 * t - 3.0;
        let nodes: Vec<TiNode> = ts
            .iter()
            .map(|&t| TiNode {
                t,
                slope: f(t),
                se: 0.0,
                var: None,
            })
            .collect();
        let exact = -1.0 / 3.0 + 0.25 - 3.0;
        let v = thermodynamic_integration(&nodes, TiRule::Simpson)[6].value;
        assert!((v - exact).abs() < 1e-12, "{v} vs {exact}");
    }

    /// A two-state path with E ∈ {0, 1}: ln Z(t) = ln(1 + e^{−t}) exactly. Linear stones and the
    /// same stones given as explicit forward ratios agree with it.
    #[test]
    fn stepping_stone_on_an_exact_two_state_path() {
        let ts: Vec<f64> = (0..=8).map(|k| k as f64 / 8.0).collect();
        // Each rung's "draws": the two states with their exact weights, 1000 copies in proportion.
        let rungs: Vec<Rung> = ts
            .iter()
            .map(|&t| {
                let p1 = (-t).exp() / (1.0 + (-t).exp());
                let n1 = (p1 * 100_000.0).round() as usize;
                let mut d = vec![0.0; 100_000 - n1];
                d.extend(std::iter::repeat_n(1.0, n1));
                Rung::linear(t, d, 100_000.0)
            })
            .collect();
        let exact = (1.0 + (-1f64).exp()).ln() - 2f64.ln();
        let ss = stepping_stone(&rungs);
        assert!((ss.value - exact).abs() < 1e-4, "{ss:?} vs {exact}");
        let explicit: Vec<Rung> = rungs
            .iter()
            .enumerate()
            .map(|(k, r)| {
                let dt = ts.get(k + 1).map_or(0.0, |n| n - r.t);
                Rung {
                    forward: Some(r.delta.iter().map(|u| -dt * u).collect()),
                    ..r.clone()
                }
            })
            .collect();
        assert!((stepping_stone(&explicit).value - ss.value).abs() < 1e-12);
    }
}
