//! `thermolab rbm train` and `thermolab rbm eval`: restricted Boltzmann machines on images, with
//! exact or AIS log-likelihoods, learning curves, filters, fantasy samples and a model file.

mod eval;
mod train;

use super::images::ImageGrid;
use super::Run;
use crate::args::{RbmArgs, RbmCommand};
use crate::plots::render_png;
use anyhow::Result;
use std::time::Instant;
use thermolab::drivers::rbm::{ais_log_z, AisEstimate, AisSettings};
use thermolab::kernels::rbm::GibbsBatch;
use thermolab::systems::rbm::{log_partition_exact, Rbm};

/// Largest layer enumerated exactly at the end of a run or by `eval`.
const EXACT_UNITS: usize = 25;

/// `thermolab rbm`.
pub fn run(a: RbmArgs) -> Result<()> {
    match a.command {
        RbmCommand::Train(t) => train::train(t),
        RbmCommand::Eval(e) => eval::eval(e),
    }
}

/// Final log Z: exact when the smaller layer allows, else forward AIS.
fn final_log_z(
    rbm: &Rbm,
    base_data: &[f32],
    force_ais: bool,
    chains: usize,
    temperatures: usize,
    seed: u64,
    threads: usize,
) -> Result<(f64, Option<AisEstimate>, f64)> {
    let t0 = Instant::now();
    if !force_ais {
        if let Ok(lz) = log_partition_exact(rbm, EXACT_UNITS) {
            return Ok((lz, None, t0.elapsed().as_secs_f64()));
        }
    }
    let s = AisSettings {
        chains,
        temperatures,
        seed,
        threads,
        ..Default::default()
    }
    .validate()?;
    let base = rbm.base_rate_biases(base_data);
    let e = ais_log_z(rbm, &base, &s)?;
    Ok((e.log_z, Some(e), t0.elapsed().as_secs_f64()))
}

/// Fantasy samples: `n` Gibbs chains from data rows, `sweeps` sweeps, then the visible means.
fn fantasies(rbm: &Rbm, start: &[f32], n: usize, sweeps: usize, seed: u64) -> Vec<Vec<f32>> {
    let nv = rbm.n_visible;
    let rows = (start.len() / nv).min(n);
    if rows == 0 {
        return Vec::new();
    }
    let mut r = thermolab::rng::stream(seed, 7_000_000);
    let mut g = GibbsBatch::new(rbm, start[..rows * nv].to_vec(), &mut r);
    g.sample_hidden(rbm, 1.0);
    for _ in 0..sweeps {
        g.sweep(rbm, 1.0);
    }
    let mut means = Vec::new();
    rbm.visible_means(&g.h, &mut means);
    means.chunks_exact(nv).map(|c| c.to_vec()).collect()
}

/// The weights into each of the first `max` hidden units, as images.
fn filters(rbm: &Rbm, max: usize) -> Vec<Vec<f32>> {
    let (nv, nh) = (rbm.n_visible, rbm.n_hidden);
    (0..nh.min(max))
        .map(|j| (0..nv).map(|i| rbm.w[i * nh + j]).collect())
        .collect()
}

/// The machine's image shape, or one row of all visible units.
fn image_shape(rbm: &Rbm) -> (usize, usize) {
    rbm.image_shape.unwrap_or((1, rbm.n_visible))
}

/// Renders the filters and fantasy samples as image grids into the run folder and report.
fn add_grids(run: &mut Run, rbm: &Rbm, fantasy: &[Vec<f32>]) -> Result<()> {
    if run.report.is_none() {
        return Ok(());
    }
    let (rows, cols) = image_shape(rbm);
    let mut html = String::from("<div>");
    for (name, title, tiles) in [
        (
            "filters",
            "Filters: the weights into each hidden unit",
            filters(rbm, 100),
        ),
        (
            "fantasy",
            "Fantasy samples: Gibbs chains started at test images, after 1000 sweeps (visible means)",
            fantasy.to_vec(),
        ),
    ] {
        if tiles.is_empty() {
            continue;
        }
        let grid = ImageGrid {
            title: title.into(),
            tiles,
            rows,
            cols,
            per_row: 10,
        };
        render_png(&grid, &run.folder, name, grid.size())?;
        html.push_str(&format!(
            "<img src=\"{name}.png\" alt=\"{name}\" width=\"420\"> "
        ));
    }
    html.push_str("</div>");
    if let Some(rep) = run.report.as_mut() {
        rep.heading("Filters and fantasy samples");
        rep.raw(&html);
    }
    Ok(())
}
