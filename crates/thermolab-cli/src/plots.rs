//! Plots for run folders: each plot is drawn once per backend and written as SVG and PNG, with
//! text rendered from an embedded font so labels appear on machines without system fonts.

use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::sync::Once;
use thermolab::trace::RunFolder;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The embedded font is valid; a failure here would only lose text, not the plot.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Width and height of every plot, in pixels.
const SIZE: (u32, u32) = (720, 480);

/// A plot that can draw itself on any plotters backend.
pub trait Plot {
    /// Draws on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static;
}

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("plot: {e:?}")
}

/// Renders `plot` as `<name>.svg` and `<name>.png` inside the run folder; returns the SVG text
/// (for inlining into the HTML report).
pub fn render<P: Plot>(plot: &P, folder: &RunFolder, name: &str) -> Result<String> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        plot.draw(&root)?;
        root.present().map_err(err)?;
    }
    let png = folder.partial_path(&format!("{name}.png"));
    {
        let root = BitMapBackend::new(&png, SIZE).into_drawing_area();
        plot.draw(&root)?;
        root.present().map_err(err)?;
    }
    folder.write(&format!("{name}.svg"), &svg)?;
    Ok(svg)
}

/// Draws the series legend in the house style.
fn legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>) -> Result<()>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: plotters::coord::CoordTranslate,
{
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(err)
}

const COLORS: [RGBColor; 5] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
];

fn extent(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = vals
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        (0.0, 1.0)
    } else if hi <= lo {
        (lo - 0.5, hi + 0.5)
    } else {
        let pad = 0.03 * (hi - lo);
        (lo - pad, hi + pad)
    }
}

/// A point with its standard error: (x, y, se).
pub type ErrorPoint = (f64, f64, f64);

/// Lines (and optionally points) against a shared x axis; log-scaled y on request.
pub struct LineChart {
    /// Title above the plot.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// Named series of (x, y) points, drawn as lines.
    pub lines: Vec<(String, Vec<(f64, f64)>)>,
    /// Named series drawn as small dots.
    pub points: Vec<(String, Vec<(f64, f64)>)>,
    /// Named series of (x, y, standard error), drawn as dots with ±1 SE bars.
    pub errors: Vec<(String, Vec<ErrorPoint>)>,
    /// Log-scale the y axis (non-positive values are dropped).
    pub log_y: bool,
}

impl Plot for LineChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let all = || {
            self.lines
                .iter()
                .chain(&self.points)
                .flat_map(|(_, v)| v.iter())
        };
        let keep = |y: f64| !self.log_y || y > 0.0;
        let (x0, x1) = extent(all().map(|p| p.0));
        let (y0, y1) = extent(all().filter(|p| keep(p.1)).map(|p| p.1));
        let mut b = ChartBuilder::on(root);
        b.caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70);
        macro_rules! body {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_desc(self.x_label.as_str())
                    .y_desc(self.y_label.as_str())
                    .label_style(("sans-serif", 13))
                    .draw()
                    .map_err(err)?;
                for (i, (name, pts)) in self.points.iter().enumerate() {
                    let c = COLORS[(i + 2) % COLORS.len()].mix(0.6);
                    chart
                        .draw_series(
                            pts.iter()
                                .filter(|p| keep(p.1) && p.1.is_finite())
                                .map(|p| Circle::new(*p, 2, c.filled())),
                        )
                        .map_err(err)?
                        .label(name.as_str())
                        .legend(move |(x, y)| Circle::new((x + 10, y), 3, c.filled()));
                }
                for (i, (name, pts)) in self.errors.iter().enumerate() {
                    let c = COLORS[(i + 1) % COLORS.len()];
                    chart
                        .draw_series(
                            pts.iter()
                                .filter(|p| p.1.is_finite() && keep(p.1 - p.2))
                                .map(|&(x, y, e)| {
                                    let e = if e.is_finite() { e } else { 0.0 };
                                    ErrorBar::new_vertical(x, y - e, y, y + e, c.filled(), 6)
                                }),
                        )
                        .map_err(err)?
                        .label(name.as_str())
                        .legend(move |(x, y)| Circle::new((x + 10, y), 3, c.filled()));
                }
                for (i, (name, pts)) in self.lines.iter().enumerate() {
                    let c = COLORS[i % COLORS.len()];
                    chart
                        .draw_series(LineSeries::new(
                            pts.iter().copied().filter(|p| keep(p.1) && p.1.is_finite()),
                            c.stroke_width(2),
                        ))
                        .map_err(err)?
                        .label(name.as_str())
                        .legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                        });
                }
                legend(&mut chart)?;
            }};
        }
        if self.log_y {
            let (y0, y1) = extent(all().filter(|p| p.1 > 0.0).map(|p| p.1.ln()));
            body!(b
                .build_cartesian_2d(x0..x1, (y0.exp()..y1.exp()).log_scale())
                .map_err(err)?);
        } else {
            body!(b.build_cartesian_2d(x0..x1, y0..y1).map_err(err)?);
        }
        Ok(())
    }
}

/// A heat map of a 2-D energy with annealing paths drawn over it.
pub struct ContourPaths {
    /// Title above the plot.
    pub title: String,
    /// Grid of energies: `values[j][i]` at `x = xs[i]`, `y = ys[j]`.
    pub xs: Vec<f64>,
    /// y grid.
    pub ys: Vec<f64>,
    /// Energies on the grid.
    pub values: Vec<Vec<f64>>,
    /// Named paths of (x, y) states.
    pub paths: Vec<(String, Vec<(f64, f64)>)>,
    /// Marked points (name, location), e.g. the true minimum.
    pub marks: Vec<(String, (f64, f64))>,
}

impl Plot for ContourPaths {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let (x0, x1) = (self.xs[0], *self.xs.last().expect("grid"));
        let (y0, y1) = (self.ys[0], *self.ys.last().expect("grid"));
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("x")
            .y_desc("y")
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(err)?;
        // Colour by log(1 + E − E_min) so the basin stays visible.
        let lo = self
            .values
            .iter()
            .flatten()
            .fold(f64::INFINITY, |a, &b| a.min(b));
        let hi = self
            .values
            .iter()
            .flatten()
            .fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let span = (1.0 + hi - lo).ln().max(1e-12);
        let (dx, dy) = (
            (x1 - x0) / (self.xs.len() - 1).max(1) as f64,
            (y1 - y0) / (self.ys.len() - 1).max(1) as f64,
        );
        chart
            .draw_series(self.ys.iter().enumerate().flat_map(|(j, &y)| {
                self.xs.iter().enumerate().map(move |(i, &x)| {
                    let t = (1.0 + self.values[j][i] - lo).ln() / span;
                    let c = ViridisRGB::get_color(1.0 - t);
                    Rectangle::new(
                        [(x - dx / 2.0, y - dy / 2.0), (x + dx / 2.0, y + dy / 2.0)],
                        c.filled(),
                    )
                })
            }))
            .map_err(err)?;
        for (k, (name, path)) in self.paths.iter().enumerate() {
            let c = [WHITE, RGBColor(255, 80, 80), RGBColor(255, 200, 0)][k % 3];
            chart
                .draw_series(LineSeries::new(path.iter().copied(), c.stroke_width(2)))
                .map_err(err)?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                });
        }
        for (name, p) in &self.marks {
            chart
                .draw_series(std::iter::once(Cross::new(*p, 8, BLACK.stroke_width(3))))
                .map_err(err)?
                .label(name.as_str())
                .legend(|(x, y)| Cross::new((x + 10, y), 5, BLACK.stroke_width(2)));
        }
        legend(&mut chart)?;
        Ok(())
    }
}

/// Renders `plot` as `<name>.png` only (for images too large to be useful as SVG).
pub fn render_png<P: Plot>(
    plot: &P,
    folder: &RunFolder,
    name: &str,
    size: (u32, u32),
) -> Result<()> {
    register_font();
    let png = folder.partial_path(&format!("{name}.png"));
    let root = BitMapBackend::new(&png, size).into_drawing_area();
    plot.draw(&root)?;
    root.present().map_err(err)?;
    Ok(())
}

/// A spin configuration of a square lattice as an image (up = dark, down = light).
pub struct SpinImage {
    /// Title above the image.
    pub title: String,
    /// Side length.
    pub l: usize,
    /// Spins (±1 for Ising; Potts states map to grey levels).
    pub spins: Vec<i8>,
    /// Number of distinct states (2 for Ising).
    pub states: u8,
}

impl Plot for SpinImage {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let l = self.l as f64;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 18))
            .margin(8)
            .build_cartesian_2d(0.0..l, 0.0..l)
            .map_err(err)?;
        let q = f64::from(self.states.max(2) - 1);
        chart
            .draw_series(self.spins.iter().enumerate().map(|(i, &v)| {
                let (x, y) = ((i % self.l) as f64, (i / self.l) as f64);
                let level = if self.states <= 2 {
                    f64::from(u8::from(v > 0))
                } else {
                    f64::from(v) / q
                };
                let g = (235.0 - 200.0 * level) as u8;
                Rectangle::new(
                    [(x, y), (x + 1.0, y + 1.0)],
                    RGBColor(g, g, if self.states <= 2 { g } else { 255 - g / 2 }).filled(),
                )
            }))
            .map_err(err)?;
        Ok(())
    }
}

/// A histogram from bin edges and counts.
pub struct HistogramChart {
    /// Title above the plot.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// The histogram.
    pub hist: thermolab::estimate::Histogram,
}

impl Plot for HistogramChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let e = &self.hist.edges;
        let top = *self.hist.counts.iter().max().unwrap_or(&1) as f64 * 1.1 + 0.5;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(e[0]..*e.last().expect("edges"), 0.0..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc("count")
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(self.hist.counts.iter().enumerate().map(|(i, &c)| {
                Rectangle::new(
                    [(e[i], 0.0), (e[i + 1], c as f64)],
                    COLORS[0].mix(0.8).filled(),
                )
            }))
            .map_err(err)?;
        Ok(())
    }
}
