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
    /// What the plot shows, for `plots.json`: its axis ranges and each series' extent.
    fn manifest(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
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
    folder.write(&format!("{name}.png"), png_of(plot, SIZE)?)?;
    folder.write(&format!("{name}.svg"), &svg)?;
    Ok(svg)
}

/// `plot` drawn on a `size` pixel bitmap, encoded as PNG.
fn png_of<P: Plot>(plot: &P, size: (u32, u32)) -> Result<Vec<u8>> {
    let mut rgb = vec![0u8; 3 * size.0 as usize * size.1 as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        plot.draw(&root)?;
        root.present().map_err(err)?;
    }
    crate::png::encode_rgb(&rgb, size.0, size.1)
}

/// Draws the series legend in the house style (inside the plot; for charts whose data leave
/// no corner free, see [`LineChart`]'s legend strip above the plot).
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

/// The smallest and largest finite value, or `None` when there is none.
fn bounds(vals: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = vals
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    lo.is_finite().then_some((lo, hi))
}

/// An axis range around `(lo, hi)`: 3 % padding, or ±0.5 (±10 % of the value) when flat.
pub fn padded((lo, hi): (f64, f64)) -> (f64, f64) {
    if hi <= lo {
        let w = (0.1 * lo.abs()).max(0.5);
        (lo - w, hi + w)
    } else {
        let pad = 0.03 * (hi - lo);
        (lo - pad, hi + pad)
    }
}

/// A tick label for `v` on an axis spanning `span`: plain decimals where they read well,
/// scientific notation for very large or small numbers, integers on count axes.
fn tick(v: f64, span: f64, integer: bool) -> String {
    if integer {
        return format!("{:.0}", v);
    }
    let big = v.abs().max(span.abs());
    if v == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&big) {
        // Enough mantissa digits that neighbouring ticks (a seventh of the span apart) differ.
        let digits = ((v.abs() / (span.abs() / 7.0)).log10().ceil() as i64).clamp(2, 10) as usize;
        let t = format!("{v:.digits$e}");
        // 1.50e3 → 1.5e3, 2.00e-4 → 2e-4.
        match t.split_once('e') {
            Some((m, e)) => {
                let m = m.trim_end_matches('0').trim_end_matches('.');
                format!("{m}e{e}")
            }
            None => t,
        }
    } else {
        let decimals = (1.0 - span.log10().floor()).clamp(0.0, 6.0) as usize;
        format!("{v:.decimals$}")
    }
}

/// How many tick labels an axis of `span` gets: 7, or on a count axis no more than there are
/// integers in it (so that no two labels round to the same integer).
fn labels(span: f64, integer: bool) -> usize {
    if integer {
        (span.floor() as usize + 1).clamp(2, 7)
    } else {
        7
    }
}

/// A point with its standard error: (x, y, se).
pub type ErrorPoint = (f64, f64, f64);

/// Lines, dots and error bars against a shared x axis; log-scaled y on request. The axes
/// contain every point drawn and every error bar; the legend sits in a strip above the plot,
/// outside the data.
#[derive(Default)]
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
    /// Only this x range is drawn (points outside it are left out); default: all the data.
    pub x_range: Option<(f64, f64)>,
    /// x counts something (draws, epochs, bins): integer tick labels.
    pub integer_x: bool,
    /// y counts something: integer tick labels.
    pub integer_y: bool,
}

/// The axes of a chart: x and y ranges (y in data units, also on a log axis).
#[derive(Debug, Clone, Copy)]
struct Frame {
    x: (f64, f64),
    y: (f64, f64),
}

impl LineChart {
    fn in_x(&self, x: f64) -> bool {
        x.is_finite() && self.x_range.is_none_or(|(a, b)| x >= a && x <= b)
    }
    fn keep_y(&self, y: f64) -> bool {
        y.is_finite() && (!self.log_y || y > 0.0)
    }
    /// The drawn part of every series as (name, kind, x values, y values with error-bar ends).
    fn drawn(&self) -> Vec<(&str, &'static str, Vec<f64>, Vec<f64>)> {
        let mut out = Vec::new();
        for (kind, set) in [("line", &self.lines), ("points", &self.points)] {
            for (name, pts) in set {
                let p: Vec<&(f64, f64)> = pts
                    .iter()
                    .filter(|p| self.in_x(p.0) && self.keep_y(p.1))
                    .collect();
                out.push((
                    name.as_str(),
                    kind,
                    p.iter().map(|p| p.0).collect(),
                    p.iter().map(|p| p.1).collect(),
                ));
            }
        }
        for (name, pts) in &self.errors {
            let (mut xs, mut ys) = (Vec::new(), Vec::new());
            for &(x, y, e) in pts {
                if !self.in_x(x) || !self.keep_y(y) {
                    continue;
                }
                let e = if e.is_finite() { e.abs() } else { 0.0 };
                xs.push(x);
                ys.push(y);
                if self.keep_y(y + e) {
                    ys.push(y + e);
                }
                if self.keep_y(y - e) {
                    ys.push(y - e);
                }
            }
            out.push((name.as_str(), "errors", xs, ys));
        }
        out
    }
    /// The axes that hold every drawn point and bar; `None` when there is nothing to draw.
    fn frame(&self) -> Option<Frame> {
        let drawn = self.drawn();
        let xs = bounds(drawn.iter().flat_map(|d| d.2.iter().copied()))?;
        let ys = bounds(drawn.iter().flat_map(|d| d.3.iter().copied()))?;
        let x = match self.x_range {
            Some(r) => r,
            None => padded(xs),
        };
        let y = if self.log_y {
            let (a, b) = padded((ys.0.ln(), ys.1.ln()));
            (a.exp(), b.exp())
        } else {
            padded(ys)
        };
        Some(Frame { x, y })
    }
}

impl Plot for LineChart {
    fn manifest(&self) -> serde_json::Value {
        let frame = self.frame();
        let series: Vec<serde_json::Value> = self
            .drawn()
            .into_iter()
            .map(|(name, kind, xs, ys)| {
                serde_json::json!({"name": name, "kind": kind, "n": xs.len(),
                    "x": bounds(xs.into_iter()), "y": bounds(ys.into_iter())})
            })
            .collect();
        serde_json::json!({
            "title": self.title, "x_label": self.x_label, "y_label": self.y_label,
            "x_range": frame.map(|f| f.x), "y_range": frame.map(|f| f.y), "log_y": self.log_y,
            "series": series,
        })
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let (w, _) = root.dim_in_pixel();
        // The legend: a strip under the title, four entries a row.
        let mut entries: Vec<(String, RGBColor, u8)> = Vec::new();
        for (i, (name, _)) in self.points.iter().enumerate() {
            entries.push((name.clone(), COLORS[(i + 2) % COLORS.len()], 1));
        }
        for (i, (name, _)) in self.errors.iter().enumerate() {
            entries.push((name.clone(), COLORS[(i + 1) % COLORS.len()], 2));
        }
        for (i, (name, _)) in self.lines.iter().enumerate() {
            entries.push((name.clone(), COLORS[i % COLORS.len()], 0));
        }
        let per_row = 4;
        let rows = entries.len().div_ceil(per_row) as u32;
        let (head, body) = root.split_vertically(34 + 20 * rows);
        head.draw(&Text::new(
            self.title.clone(),
            (12, 8),
            ("sans-serif", 20).into_font(),
        ))
        .map_err(err)?;
        let col = (w as i32 - 24) / per_row as i32;
        for (k, (name, c, kind)) in entries.iter().enumerate() {
            let x = 12 + (k % per_row) as i32 * col;
            let y = 40 + 20 * (k / per_row) as i32;
            match kind {
                0 => head
                    .draw(&PathElement::new(
                        vec![(x, y), (x + 20, y)],
                        c.stroke_width(2),
                    ))
                    .map_err(err)?,
                _ => head
                    .draw(&Circle::new((x + 10, y), 3, c.filled()))
                    .map_err(err)?,
            }
            let label: String = name.chars().take(28).collect();
            head.draw(&Text::new(
                label,
                (x + 26, y - 7),
                ("sans-serif", 13).into_font(),
            ))
            .map_err(err)?;
        }
        let Some(f) = self.frame() else {
            body.draw(&Text::new(
                "no data to plot",
                (w as i32 / 2 - 50, 100),
                ("sans-serif", 16).into_font(),
            ))
            .map_err(err)?;
            return Ok(());
        };
        let mut b = ChartBuilder::on(&body);
        b.margin(12).x_label_area_size(40).y_label_area_size(80);
        let (xspan, yspan) = (f.x.1 - f.x.0, f.y.1 - f.y.0);
        let (ix, iy) = (self.integer_x, self.integer_y);
        let xfmt = move |v: &f64| tick(*v, xspan, ix);
        let yfmt = move |v: &f64| tick(*v, yspan, iy);
        macro_rules! body {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_desc(self.x_label.as_str())
                    .y_desc(self.y_label.as_str())
                    .x_labels(labels(xspan, ix))
                    .y_labels(labels(yspan, iy))
                    .x_label_formatter(&xfmt)
                    .y_label_formatter(&yfmt)
                    .label_style(("sans-serif", 13))
                    .draw()
                    .map_err(err)?;
                for (i, (_, pts)) in self.points.iter().enumerate() {
                    let c = COLORS[(i + 2) % COLORS.len()].mix(0.6);
                    chart
                        .draw_series(
                            pts.iter()
                                .filter(|p| self.in_x(p.0) && self.keep_y(p.1))
                                .map(|p| Circle::new(*p, 2, c.filled())),
                        )
                        .map_err(err)?;
                }
                for (i, (_, pts)) in self.errors.iter().enumerate() {
                    let c = COLORS[(i + 1) % COLORS.len()];
                    chart
                        .draw_series(
                            pts.iter()
                                .filter(|p| self.in_x(p.0) && self.keep_y(p.1))
                                .map(|&(x, y, e)| {
                                    let e = if e.is_finite() { e.abs() } else { 0.0 };
                                    let lo = if self.keep_y(y - e) { y - e } else { y };
                                    ErrorBar::new_vertical(x, lo, y, y + e, c.filled(), 6)
                                }),
                        )
                        .map_err(err)?;
                }
                for (i, (_, pts)) in self.lines.iter().enumerate() {
                    let c = COLORS[i % COLORS.len()];
                    chart
                        .draw_series(LineSeries::new(
                            pts.iter()
                                .copied()
                                .filter(|p| self.in_x(p.0) && self.keep_y(p.1)),
                            c.stroke_width(2),
                        ))
                        .map_err(err)?;
                }
            }};
        }
        if self.log_y {
            body!(b
                .build_cartesian_2d(f.x.0..f.x.1, (f.y.0..f.y.1).log_scale())
                .map_err(err)?);
        } else {
            body!(b
                .build_cartesian_2d(f.x.0..f.x.1, f.y.0..f.y.1)
                .map_err(err)?);
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
    fn manifest(&self) -> serde_json::Value {
        let x = (self.xs[0], *self.xs.last().expect("grid"));
        let y = (self.ys[0], *self.ys.last().expect("grid"));
        let series: Vec<serde_json::Value> = self
            .paths
            .iter()
            .map(|(name, p)| {
                serde_json::json!({"name": name, "kind": "line", "n": p.len(),
                    "x": bounds(p.iter().map(|q| q.0)), "y": bounds(p.iter().map(|q| q.1))})
            })
            .chain(self.marks.iter().map(|(name, p)| {
                serde_json::json!({"name": name, "kind": "points", "n": 1,
                    "x": (p.0, p.0), "y": (p.1, p.1)})
            }))
            .collect();
        serde_json::json!({"title": self.title, "x_range": x, "y_range": y, "log_y": false,
            "series": series})
    }

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
    folder.write(&format!("{name}.png"), png_of(plot, size)?)?;
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

impl HistogramChart {
    fn top(&self) -> f64 {
        *self.hist.counts.iter().max().unwrap_or(&1) as f64 * 1.1 + 0.5
    }
}

impl Plot for HistogramChart {
    fn manifest(&self) -> serde_json::Value {
        let e = &self.hist.edges;
        let max = self.hist.counts.iter().max().copied().unwrap_or(0) as f64;
        serde_json::json!({"title": self.title, "x_label": self.x_label,
            "x_range": (e[0], *e.last().expect("edges")), "y_range": (0.0, self.top()),
            "log_y": false, "series": [{"name": "counts", "kind": "bars",
                "n": self.hist.counts.len(), "x": (e[0], *e.last().expect("edges")),
                "y": (0.0, max)}]})
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let e = &self.hist.edges;
        let top = self.top();
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

#[cfg(test)]
mod tick_tests {
    use super::tick;

    /// Seven ticks across a narrow range of large (or tiny) values keep distinct labels.
    #[test]
    fn neighbouring_ticks_differ() {
        for (lo, span) in [
            (1e5, 1.0),
            (3.2e7, 40.0),
            (1e-6, 1e-9),
            (-2e9, 1e3),
            (1e30, 1e29),
        ] {
            let labels: Vec<String> = (0..7)
                .map(|k| tick(lo + span * k as f64 / 6.0, span, false))
                .collect();
            let mut unique = labels.clone();
            unique.dedup();
            assert_eq!(unique.len(), 7, "{labels:?}");
        }
    }
}
