//! The posterior predictive's figures on the test rows: the reliability diagram of a
//! classifier (with `reliability.csv`), and for a regression on one input the predictive mean
//! with its ±2 sd band over the test points.

use super::Run;
use crate::plots::LineChart;
use anyhow::Result;
use thermolab::estimate::predictive::reliability;
use thermolab::nn::Architecture;
use thermolab::systems::posterior::{NetworkData, Predictive, Targets};
use thermolab::trace::csv_table;

/// Writes the predictive's table and figures into the run (figures only with plots on).
pub(super) fn write(
    run: &mut Run,
    predictive: &Predictive,
    test: &NetworkData,
    arch: &Architecture,
) -> Result<()> {
    match (predictive, &test.targets) {
        (Predictive::Classes(probs), Targets::Classes(labels)) => {
            let bins = reliability(probs, labels, arch.n_outputs());
            let rows: Vec<[f64; 5]> = bins
                .iter()
                .map(|b| {
                    [
                        b.lower,
                        b.confidence,
                        b.accuracy,
                        b.accuracy_se,
                        b.count as f64,
                    ]
                })
                .collect();
            run.folder.write(
                "reliability.csv",
                csv_table(
                    &["bin_lower", "confidence", "accuracy", "accuracy_se", "rows"],
                    rows.iter().map(|r| &r[..]),
                ),
            )?;
            if run.report.is_some() && !bins.is_empty() {
                let chart = LineChart {
                    title: format!("Reliability of the predictive, {arch}"),
                    x_label: "confidence (top probability)".into(),
                    y_label: "accuracy".into(),
                    lines: vec![("calibrated".into(), vec![(0.0, 0.0), (1.0, 1.0)])],
                    errors: vec![(
                        "test rows per bin, ± SE".into(),
                        bins.iter()
                            .map(|b| (b.confidence, b.accuracy, b.accuracy_se))
                            .collect(),
                    )],
                    ..Default::default()
                };
                run.plot(
                    &chart,
                    "reliability",
                    "Accuracy against confidence in 15 bins of the top probability: below the \
                     diagonal is overconfident",
                )?;
            }
        }
        (Predictive::Values { mean, sd }, Targets::Values { y, .. })
            if test.n_inputs == 1 && arch.n_outputs() == 1 && run.report.is_some() =>
        {
            let mut order: Vec<usize> = (0..test.n).collect();
            order.sort_by(|&a, &b| test.x[a].total_cmp(&test.x[b]));
            let at = |f: &dyn Fn(usize) -> f64| -> Vec<(f64, f64)> {
                order
                    .iter()
                    .map(|&i| (f64::from(test.x[i]), f(i)))
                    .collect()
            };
            let chart = LineChart {
                title: format!("Posterior predictive on the test inputs, {arch}"),
                x_label: "x".into(),
                y_label: "y".into(),
                lines: vec![
                    ("predictive mean".into(), at(&|i| mean[i])),
                    ("mean − 2 sd".into(), at(&|i| mean[i] - 2.0 * sd[i])),
                    ("mean + 2 sd".into(), at(&|i| mean[i] + 2.0 * sd[i])),
                ],
                points: vec![("test rows".into(), at(&|i| f64::from(y[i])))],
                ..Default::default()
            };
            run.plot(
                &chart,
                "predictive",
                "The predictive mean and its ±2 sd band (samples' spread and the noise) against \
                 the held-out rows",
            )?;
        }
        _ => {}
    }
    Ok(())
}
