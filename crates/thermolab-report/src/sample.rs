//! The figures of a sampling run, as `thermolab sample` and the Python package draw them: a
//! trace and a rank plot for the first parameters, the energy's marginal against its
//! transitions (E-BFMI), and for a one-input network the posterior predictive band.

use crate::plots::LineChart;
use thermolab::estimate::diagnostics::{quantile, ParamSummary};
use thermolab::estimate::histogram;
use thermolab::kernels::mcmc::StepInfo;
use thermolab::systems::posterior::BayesianMlp;

/// A run's draws and sampler columns, chain by chain.
#[derive(Debug, Clone, Default)]
pub struct SampleDraws {
    /// Per chain: draws, row-major.
    pub draws: Vec<Vec<f64>>,
    /// Per chain: the seven sampler columns of each draw (`lp__`, `accept_stat__`,
    /// `step_size__`, `tree_depth__`, `n_leapfrog__`, `divergent__`, `energy__`).
    pub stats: Vec<Vec<[f64; 7]>>,
}

impl SampleDraws {
    /// From the sampler's per-draw statistics at inverse temperature `beta`.
    pub fn from_steps(draws: Vec<Vec<f64>>, steps: &[&[StepInfo]], beta: f64) -> Self {
        Self {
            draws,
            stats: steps
                .iter()
                .map(|c| {
                    c.iter()
                        .map(|s| thermolab::trace::sampler_columns(s, beta))
                        .collect()
                })
                .collect(),
        }
    }
    /// Parameter `j` of a `dim`-parameter run, per chain.
    pub fn parameter(&self, j: usize, dim: usize) -> Vec<Vec<f64>> {
        self.draws
            .iter()
            .map(|c| c.iter().skip(j).step_by(dim).copied().collect())
            .collect()
    }
}

/// One figure: the chart, its file name (without extension) and its caption.
pub struct Figure {
    /// The chart.
    pub chart: LineChart,
    /// File name, without extension.
    pub name: String,
    /// One line under it in the report.
    pub caption: String,
}

/// The figures of a run of `params` (their summaries, in order); `network` adds the predictive
/// band of a one-input, one-output Bayesian network, titled with `arch`.
pub fn figures(
    r: &SampleDraws,
    params: &[ParamSummary],
    network: Option<(&BayesianMlp, &str)>,
) -> Vec<Figure> {
    let dim = params.len();
    let mut out = Vec::new();
    for (j, param) in params.iter().enumerate().take(dim.min(3)) {
        let per = r.parameter(j, dim);
        let lines: Vec<(String, Vec<(f64, f64)>)> = per
            .iter()
            .enumerate()
            .map(|(c, v)| {
                (
                    format!("chain {c}"),
                    v.iter().enumerate().map(|(i, x)| (i as f64, *x)).collect(),
                )
            })
            .collect();
        let file = param.name.replace('.', "_");
        out.push(Figure {
            chart: LineChart {
                title: format!("Trace of {}", param.name),
                x_label: "draw".into(),
                y_label: param.name.clone(),
                lines,
                integer_x: true,
                ..Default::default()
            },
            name: format!("trace_{file}"),
            caption: "Draws of each chain (they should overlap)".into(),
        });
        // Rank plot: histogram of each chain's ranks among all draws.
        let all: Vec<f64> = per.iter().flatten().copied().collect();
        let mut sorted = all.clone();
        sorted.sort_by(|x, y| x.total_cmp(y));
        let bins = 20;
        let lines = per
            .iter()
            .enumerate()
            .map(|(c, v)| {
                let ranks: Vec<f64> = v
                    .iter()
                    .map(|x| sorted.partition_point(|y| y < x) as f64)
                    .collect();
                let h = histogram(
                    &ranks
                        .iter()
                        .copied()
                        .chain([0.0, all.len() as f64])
                        .collect::<Vec<_>>(),
                    bins,
                );
                (
                    format!("chain {c}"),
                    h.counts
                        .iter()
                        .enumerate()
                        .map(|(i, n)| (i as f64, *n as f64))
                        .collect(),
                )
            })
            .collect();
        out.push(Figure {
            chart: LineChart {
                title: format!("Rank plot of {}", param.name),
                x_label: "rank bin".into(),
                y_label: "count".into(),
                lines,
                integer_x: true,
                integer_y: true,
                ..Default::default()
            },
            name: format!("rank_{file}"),
            caption: "Ranks per chain: flat and alike when the chains mix".into(),
        });
    }
    // Energy: marginal distribution of H (centred) against its transitions (E-BFMI).
    let mut e = Vec::new();
    let mut de = Vec::new();
    for c in &r.stats {
        let h: Vec<f64> = c.iter().map(|s| s[6]).collect();
        let m = h.iter().sum::<f64>() / h.len().max(1) as f64;
        e.extend(h.iter().map(|v| v - m));
        de.extend(h.windows(2).map(|w| w[1] - w[0]));
    }
    if !e.is_empty() {
        let lo = e.iter().chain(&de).fold(f64::INFINITY, |x, y| x.min(*y));
        let hi = e
            .iter()
            .chain(&de)
            .fold(f64::NEG_INFINITY, |x, y| x.max(*y));
        let hist = |v: &[f64]| {
            let h = histogram(&v.iter().copied().chain([lo, hi]).collect::<Vec<_>>(), 40);
            h.counts
                .iter()
                .enumerate()
                .map(|(i, n)| (0.5 * (h.edges[i] + h.edges[i + 1]), *n as f64))
                .collect::<Vec<_>>()
        };
        out.push(Figure {
            chart: LineChart {
                title: "Energy: marginal vs transitions".into(),
                x_label: "H − mean H".into(),
                y_label: "count".into(),
                lines: vec![
                    ("marginal energy".into(), hist(&e)),
                    ("energy transition".into(), hist(&de)),
                ],
                integer_y: true,
                ..Default::default()
            },
            name: "energy".into(),
            caption: "When the transition histogram is much narrower than the marginal, momentum resampling explores poorly (low E-BFMI)".into(),
        });
    }
    if let Some((b, arch)) = network {
        if let Some(f) = predictive(r, dim, b, arch) {
            out.push(f);
        }
    }
    out
}

/// The posterior predictive band of a one-input, one-output network over 200 points of its
/// data's range (about a hundred draws per chain).
fn predictive(r: &SampleDraws, dim: usize, b: &BayesianMlp, arch: &str) -> Option<Figure> {
    let mut b = b.clone();
    let net = b.network();
    let data = net.data().clone();
    if data.n_inputs != 1 || data.n_targets != 1 {
        return None;
    }
    let (lo, hi) = data
        .x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(p, q), &v| {
            (p.min(v), q.max(v))
        });
    let xs: Vec<f64> = (0..200)
        .map(|i| lo + (hi - lo) * i as f64 / 199.0)
        .collect();
    let mut preds: Vec<Vec<f64>> = Vec::new();
    for c in &r.draws {
        let n = c.len() / dim;
        for k in (0..n).step_by((n / 100).max(1)) {
            preds.push(net.predict(&c[k * dim..(k + 1) * dim], &xs));
        }
    }
    let q = |p: f64| -> Vec<(f64, f64)> {
        xs.iter()
            .enumerate()
            .map(|(i, x)| {
                let col: Vec<f64> = preds.iter().map(|v| v[i]).collect();
                (*x, quantile(&col, p))
            })
            .collect()
    };
    Some(Figure {
        chart: LineChart {
            title: format!("Posterior predictive of {arch}"),
            x_label: "x".into(),
            y_label: "f(x)".into(),
            lines: vec![
                ("median".into(), q(0.5)),
                ("5 %".into(), q(0.05)),
                ("95 %".into(), q(0.95)),
            ],
            points: vec![(
                "data".into(),
                data.x.iter().copied().zip(data.y.iter().copied()).collect(),
            )],
            ..Default::default()
        },
        name: "posterior_predictive".into(),
        caption: "Median and 90 % band of the network function over the posterior draws".into(),
    })
}
