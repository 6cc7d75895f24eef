//! Image data for the `rbm` commands (built-in digits, MNIST, files; train/test splits) and the
//! image-grid plot used for filters and fantasy samples.

use crate::plots::Plot;
use anyhow::{anyhow, bail, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use thermolab::data::{digits, load_images, mnist, mnist_dir, ImageSet, MnistSplit};

/// Training and test images with a description of where they came from.
pub struct Split {
    /// Training images.
    pub train: ImageSet,
    /// Test images.
    pub test: ImageSet,
    /// Where they came from.
    pub desc: String,
}

/// Loads `digits`, `mnist` or a file, split into train and test.
pub fn load_split(data: &str, test: Option<&Path>, holdout: f64) -> Result<Split> {
    match data {
        "digits" => {
            let d = digits();
            Ok(Split {
                train: d.slice(0, 1500),
                test: d.slice(1500, d.n),
                desc: "digits (built in; images 0–1499 train, 1500–1796 test)".into(),
            })
        }
        "mnist" => {
            let dir = mnist_dir()?;
            Ok(Split {
                train: mnist(&dir, MnistSplit::Train)?,
                test: mnist(&dir, MnistSplit::Test)?,
                desc: format!("MNIST from {}", dir.display()),
            })
        }
        file => {
            let path = Path::new(file);
            let all = load_images(path)?;
            if let Some(t) = test {
                let test_set = load_images(t)?;
                if test_set.width() != all.width() {
                    bail!(
                        "{}: test images have {} values, training images have {}",
                        t.display(),
                        test_set.width(),
                        all.width()
                    );
                }
                return Ok(Split {
                    train: all,
                    test: test_set,
                    desc: format!("{} (test: {})", path.display(), t.display()),
                });
            }
            if !(holdout > 0.0 && holdout < 1.0) {
                bail!("--holdout: must lie in (0, 1), got {holdout}");
            }
            let n_test = ((all.n as f64 * holdout).round() as usize).max(1);
            if n_test >= all.n {
                bail!(
                    "{}: {} rows are too few to hold out a test set",
                    path.display(),
                    all.n
                );
            }
            let cut = all.n - n_test;
            Ok(Split {
                train: all.slice(0, cut),
                test: all.slice(cut, all.n),
                desc: format!("{} (last {n_test} rows held out)", path.display()),
            })
        }
    }
}

/// Loads one part (`train` or `test`) of `digits`, `mnist` or a whole file.
pub fn load_part(data: &str, split: &str) -> Result<(ImageSet, String)> {
    if !["train", "test"].contains(&split) {
        bail!("--split: `{split}` is not `train` or `test`");
    }
    if data == "digits" || data == "mnist" {
        let s = load_split(data, None, 0.15)?;
        let set = if split == "train" { s.train } else { s.test };
        return Ok((set, format!("{} [{split}]", s.desc)));
    }
    let set = load_images(Path::new(data)).with_context(|| format!("--data {data}"))?;
    Ok((set, data.to_string()))
}

/// A grid of grey-level tiles (filters or samples), each normalised to its own range.
pub struct ImageGrid {
    /// Title above the grid.
    pub title: String,
    /// Tile pixels, row-major, `rows × cols` each.
    pub tiles: Vec<Vec<f32>>,
    /// Tile height.
    pub rows: usize,
    /// Tile width.
    pub cols: usize,
    /// Tiles per grid row.
    pub per_row: usize,
}

impl ImageGrid {
    /// A pixel size for the PNG that keeps every tile at least 2 pixels per cell.
    pub fn size(&self) -> (u32, u32) {
        let grid_rows = self.tiles.len().div_ceil(self.per_row).max(1);
        let scale = (600 / (self.per_row * (self.cols + 1)).max(1)).max(2);
        let w = self.per_row * (self.cols + 1) * scale + 20;
        let h = grid_rows * (self.rows + 1) * scale + 50;
        (w as u32, h as u32)
    }
}

impl Plot for ImageGrid {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let e = |x: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("plot: {x:?}");
        root.fill(&WHITE).map_err(e)?;
        let grid_rows = self.tiles.len().div_ceil(self.per_row).max(1);
        let w = (self.per_row * (self.cols + 1)) as f64;
        let h = (grid_rows * (self.rows + 1)) as f64;
        // The title fits the width (about 7 pixels a character at this size).
        let fit = (root.dim_in_pixel().0 as usize / 7).max(10);
        let title: String = if self.title.chars().count() > fit {
            self.title.chars().take(fit - 1).chain(['…']).collect()
        } else {
            self.title.clone()
        };
        let mut chart = ChartBuilder::on(root)
            .caption(&title, ("sans-serif", 14))
            .margin(6)
            .build_cartesian_2d(0.0..w, h..0.0)
            .map_err(e)?;
        for (t, tile) in self.tiles.iter().enumerate() {
            let lo = tile.iter().copied().fold(f32::INFINITY, f32::min);
            let hi = tile.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let span = if hi > lo { hi - lo } else { 1.0 };
            let (gx, gy) = (
                (t % self.per_row) * (self.cols + 1),
                (t / self.per_row) * (self.rows + 1),
            );
            chart
                .draw_series(tile.iter().enumerate().map(|(i, &v)| {
                    let (x, y) = ((gx + i % self.cols) as f64, (gy + i / self.cols) as f64);
                    let g = (255.0 * (1.0 - (v - lo) / span)) as u8;
                    Rectangle::new([(x, y), (x + 1.0, y + 1.0)], RGBColor(g, g, g).filled())
                }))
                .map_err(e)?;
        }
        Ok(())
    }
}
