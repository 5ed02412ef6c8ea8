//! Line charts as SVG with `plotters`: titled, axes labelled, a legend when there are several
//! curves. `History::plot` draws loss and every metric, train and validation.

use std::path::Path;

use plotters::prelude::*;

use crate::train::History;

/// A chart that could not be drawn or written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PlotError {
    pub path: String,
    pub message: String,
}

/// One named curve of `(x, y)` points.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// `ys` against 1, 2, 3, ... (epochs).
    pub fn from_values(name: &str, ys: &[f64]) -> Self {
        Series {
            name: name.to_string(),
            points: ys
                .iter()
                .enumerate()
                .map(|(i, &y)| ((i + 1) as f64, y))
                .collect(),
        }
    }
}

/// One panel: a title, axis labels and its curves.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Plot y on a log scale (learning-rate sweeps, losses over decades).
    pub log_y: bool,
}

impl Chart {
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Self {
        Chart {
            title: title.to_string(),
            x_label: x_label.to_string(),
            y_label: y_label.to_string(),
            series: Vec::new(),
            log_y: false,
        }
    }

    pub fn series(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }

    pub fn log_y(mut self, log: bool) -> Self {
        self.log_y = log;
        self
    }

    /// Writes this chart alone.
    pub fn save_svg(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        save_panels(path, std::slice::from_ref(self), (900, 560))
    }
}

/// A tick label without float noise: `0.6`, not `0.6000000000000001`.
fn tick(v: f64) -> String {
    if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e5) {
        return format!("{v:.1e}");
    }
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn bounds(chart: &Chart) -> ((f64, f64), (f64, f64)) {
    let points = chart
        .series
        .iter()
        .flat_map(|s| &s.points)
        .filter(|p| p.1.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        return ((0.0, 1.0), (0.0, 1.0));
    }
    if x0 == x1 {
        x1 = x0 + 1.0;
    }
    if chart.log_y {
        y0 = y0.max(1e-12);
        y1 = y1.max(y0 * 10.0);
        return ((x0, x1), (y0, y1));
    }
    let pad = ((y1 - y0) * 0.05).max(1e-9);
    ((x0, x1), (y0 - pad, y1 + pad))
}

fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    chart: &Chart,
) -> Result<(), String> {
    let ((x0, x1), (y0, y1)) = bounds(chart);
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(&chart.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64);
    let colors = [
        BLUE,
        RED,
        GREEN,
        MAGENTA,
        CYAN,
        BLACK,
        RGBColor(230, 140, 0),
        RGBColor(120, 70, 160),
    ];
    macro_rules! finish {
        ($ctx:expr) => {{
            let mut ctx = $ctx.map_err(|e| e.to_string())?;
            ctx.configure_mesh()
                .x_label_formatter(&|x| format!("{x}"))
                .y_label_formatter(&|y| tick(*y))
                .x_desc(chart.x_label.as_str())
                .y_desc(chart.y_label.as_str())
                .draw()
                .map_err(|e| e.to_string())?;
            for (i, s) in chart.series.iter().enumerate() {
                let color = colors[i % colors.len()];
                let points = s
                    .points
                    .iter()
                    .copied()
                    .filter(|p| p.1.is_finite() && (!chart.log_y || p.1 > 0.0));
                ctx.draw_series(LineSeries::new(points, color.stroke_width(2)))
                    .map_err(|e| e.to_string())?
                    .label(s.name.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                    });
            }
            if chart.series.len() > 1 {
                ctx.configure_series_labels()
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .position(SeriesLabelPosition::UpperRight)
                    .draw()
                    .map_err(|e| e.to_string())?;
            }
        }};
    }
    if chart.log_y {
        finish!(builder.build_cartesian_2d(x0..x1, (y0..y1).log_scale()));
    } else {
        finish!(builder.build_cartesian_2d(x0..x1, y0..y1));
    }
    Ok(())
}

/// Writes several charts stacked in one SVG.
pub fn save_panels(
    path: impl AsRef<Path>,
    charts: &[Chart],
    size: (u32, u32),
) -> Result<(), PlotError> {
    // Not generic below here, so the plotting is compiled in this crate, not in every caller.
    save_panels_at(path.as_ref(), charts, size)
}

fn save_panels_at(path: &Path, charts: &[Chart], size: (u32, u32)) -> Result<(), PlotError> {
    let error = |message: String| PlotError {
        path: path.display().to_string(),
        message,
    };
    let height = size.1 * charts.len().max(1) as u32;
    let root = SVGBackend::new(path, (size.0, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| error(e.to_string()))?;
    for (area, chart) in root
        .split_evenly((charts.len().max(1), 1))
        .iter()
        .zip(charts)
    {
        draw(area, chart).map_err(error)?;
    }
    root.present().map_err(|e| error(e.to_string()))
}

impl History {
    /// One panel for the loss and one for each metric, train and validation together.
    pub fn charts(&self, title: &str) -> Vec<Chart> {
        let keys = self.keys();
        let mut charts = Vec::new();
        for key in keys.iter().filter(|k| !k.starts_with("val_")) {
            let mut chart = Chart::new(&format!("{title}: {key}"), "epoch", key).series(
                Series::from_values(&format!("train {key}"), &self.series(key)),
            );
            let val = format!("val_{key}");
            if keys.contains(&val) {
                chart = chart.series(Series::from_values(
                    &format!("validation {key}"),
                    &self.series(&val),
                ));
            }
            charts.push(chart);
        }
        charts
    }

    /// Draws loss and every metric, train and validation, into one SVG.
    pub fn plot(&self, path: impl AsRef<Path>, title: &str) -> Result<(), PlotError> {
        save_panels(path, &self.charts(title), (900, 420))
    }
}
