//! `thermolab rbm train` and `thermolab rbm eval`: restricted Boltzmann machines on images, with
//! exact or AIS log-likelihoods, learning curves, filters, fantasy samples and a model file.

mod eval;
mod train;

use super::images::ImageGrid;
use super::Run;
use crate::args::{RbmArgs, RbmCommand};
use crate::plots::render_png;
use anyhow::{bail, Result};
use thermolab::data::Binarize;
use thermolab::systems::rbm::Rbm;

/// `thermolab rbm`.
pub fn run(a: RbmArgs) -> Result<()> {
    match a.command {
        RbmCommand::Train(t) => train::train(t),
        RbmCommand::Eval(e) => eval::eval(e),
    }
}

/// Parses `--binarize`: a threshold in [0, 1) or `sample`.
fn parse_binarize(text: &str, seed: u64) -> Result<Binarize> {
    if text == "sample" {
        return Ok(Binarize::Sample(seed));
    }
    match text.parse::<f32>() {
        Ok(t) if (0.0..1.0).contains(&t) => Ok(Binarize::Threshold(t)),
        _ => bail!("--binarize: `{text}` is not a threshold in [0, 1) or `sample`"),
    }
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
            "Filters: weights into each hidden unit",
            filters(rbm, 100),
        ),
        (
            "fantasy",
            "Fantasy samples: 1000 Gibbs sweeps from test images",
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
            "<img src=\"{}\" alt=\"{name}\" width=\"420\"> ",
            crate::report::png_data_uri(&run.folder.partial_path(&format!("{name}.png")))?
        ));
    }
    html.push_str("</div>");
    if let Some(rep) = run.report.as_mut() {
        rep.heading("Filters and fantasy samples");
        rep.para("Filters: the weights from the visible units into each hidden unit, as images. Fantasy samples: Gibbs chains started at test images, after 1000 sweeps, shown as the visible units' means.");
        rep.raw(&html);
    }
    Ok(())
}
