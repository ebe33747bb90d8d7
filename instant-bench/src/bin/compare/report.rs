//! The measurements of one run, and how they are written: `BENCHMARKS.md` and one SVG chart per
//! comparison.

use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Repeated timings of one scenario at one size.
#[derive(Debug, Clone)]
pub(crate) struct Measure {
    /// What was measured, e.g. `instant, awaited one by one`.
    pub(crate) label: String,
    /// The size (events, or the page), as shown in the table.
    pub(crate) size: String,
    /// One figure per repetition, in [`Section::unit`].
    pub(crate) samples: Vec<f64>,
    /// Work done per repetition (events, requests), for a rate column; 0 for none.
    pub(crate) work: f64,
}

/// Whether a ratio's median meets its target.
pub(crate) type Check = fn(f64) -> bool;

/// A ratio of two measures, taken repetition by repetition (so a drift of the machine's speed
/// between repetitions cancels out).
#[derive(Debug, Clone)]
pub(crate) struct Ratio {
    /// e.g. `instant awaited / floor one by one`.
    pub(crate) label: String,
    /// The size, as in the table.
    pub(crate) size: String,
    /// One ratio per repetition.
    pub(crate) samples: Vec<f64>,
    /// The target, in words, and whether the median meets it; `None` for a figure reported only.
    pub(crate) target: Option<(String, bool)>,
}

impl Ratio {
    /// `a / b` for each repetition. `check` receives the median.
    pub(crate) fn of(
        label: impl Into<String>,
        a: &Measure,
        b: &Measure,
        target: Option<(&str, Check)>,
    ) -> Self {
        let samples: Vec<f64> = a
            .samples
            .iter()
            .zip(&b.samples)
            .map(|(a, b)| a / b)
            .collect();
        let median = median(&samples);
        Self {
            label: label.into(),
            size: a.size.clone(),
            target: target.map(|(text, check)| (text.to_owned(), check(median))),
            samples,
        }
    }
}

/// The unit of a section's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// Seconds per repetition (lower is better); the rate column is work per second.
    Seconds,
    /// Requests per second (higher is better).
    PerSecond,
    /// Bytes (lower is better), e.g. memory per connection; no rate column.
    Bytes,
}

/// One comparison: its table, ratios, notes and chart.
#[derive(Debug, Clone)]
pub(crate) struct Section {
    /// The heading.
    pub(crate) title: String,
    /// The file name of the chart, under `benchmarks/`.
    pub(crate) chart: String,
    /// Markdown paragraphs before the table: what is measured and how.
    pub(crate) intro: Vec<String>,
    /// Versions and set-up lines of this comparison.
    pub(crate) setup: Vec<String>,
    /// The figures' unit.
    pub(crate) unit: Unit,
    /// The measures, in table order.
    pub(crate) measures: Vec<Measure>,
    /// The ratios.
    pub(crate) ratios: Vec<Ratio>,
    /// Markdown paragraphs after the ratios: findings, misses, what limits them.
    pub(crate) notes: Vec<String>,
}

/// The median of `values` (the mean of the middle two for an even count); NaN when empty.
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => f64::midpoint(sorted[n / 2 - 1], sorted[n / 2]),
    }
}

fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// A figure with three significant digits and a unit that fits it.
pub(crate) fn seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{} s", sig(s))
    } else if s >= 1e-3 {
        format!("{} ms", sig(s * 1e3))
    } else {
        format!("{} µs", sig(s * 1e6))
    }
}

fn sig(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// A rate with thousands separators, or K/M.
pub(crate) fn rate(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2} M", x / 1e6)
    } else if x >= 1e4 {
        format!("{:.1} K", x / 1e3)
    } else if x < 10.0 && x.fract() != 0.0 {
        sig(x)
    } else {
        format!("{}", x.round())
    }
}

/// A size in bytes, KiB or MiB.
pub(crate) fn bytes(x: f64) -> String {
    if x.abs() >= 1024.0 * 1024.0 {
        format!("{} MiB", sig(x / 1024.0 / 1024.0))
    } else if x.abs() >= 1024.0 {
        format!("{} KiB", sig(x / 1024.0))
    } else {
        format!("{x:.0} bytes")
    }
}

fn ratio_text(x: f64) -> String {
    if x >= 10.0 {
        format!("{x:.0}×")
    } else {
        format!("{x:.2}×")
    }
}

impl Section {
    fn figure(&self, x: f64) -> String {
        match self.unit {
            Unit::Seconds => seconds(x),
            Unit::PerSecond => format!("{} req/s", rate(x)),
            Unit::Bytes => bytes(x),
        }
    }

    /// The section as markdown; `chart_dir` is the charts' directory relative to the markdown.
    fn markdown(&self, chart_dir: &str) -> String {
        let mut md = format!("## {}\n\n", self.title);
        for p in &self.intro {
            let _ = writeln!(md, "{p}\n");
        }
        for line in &self.setup {
            let _ = writeln!(md, "- {line}");
        }
        if !self.setup.is_empty() {
            md.push('\n');
        }
        let rate_head = match self.unit {
            Unit::Seconds => "rate (median)",
            Unit::PerSecond => "time per request (median)",
            Unit::Bytes => "in KiB (median)",
        };
        let _ = writeln!(
            md,
            "| scenario | size | median | spread (min–max) | {rate_head} | runs |\n| --- | --- | --- | --- | --- | --- |"
        );
        for m in &self.measures {
            let med = median(&m.samples);
            let rate_cell = match self.unit {
                Unit::Seconds if m.work > 0.0 => format!("{}/s", rate(m.work / med)),
                Unit::Seconds => String::new(),
                Unit::PerSecond => seconds(1.0 / med),
                Unit::Bytes => format!("{:.1} KiB", med / 1024.0),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} – {} | {} | {} |",
                m.label,
                m.size,
                self.figure(med),
                self.figure(min(&m.samples)),
                self.figure(max(&m.samples)),
                rate_cell,
                m.samples.len()
            );
        }
        if !self.ratios.is_empty() {
            let _ = writeln!(
                md,
                "\nRatios, taken run by run in the same run of the suite:\n\n\
                 | ratio | size | median | spread (min–max) | target | met |\n| --- | --- | --- | --- | --- | --- |"
            );
            for r in &self.ratios {
                let (target, met) = match &r.target {
                    Some((text, true)) => (text.as_str(), "met"),
                    Some((text, false)) => (text.as_str(), "**missed**"),
                    None => ("—", "—"),
                };
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} – {} | {target} | {met} |",
                    r.label,
                    r.size,
                    ratio_text(median(&r.samples)),
                    ratio_text(min(&r.samples)),
                    ratio_text(max(&r.samples)),
                );
            }
        }
        let _ = writeln!(md, "\n![{}]({chart_dir}/{})\n", self.title, self.chart);
        for p in &self.notes {
            let _ = writeln!(md, "{p}\n");
        }
        md
    }

    /// Draws the chart: one bar per measure (its median) with a whisker for the spread, on a
    /// logarithmic axis when the figures span more than a factor of 20.
    fn draw(&self, path: &Path) -> Result<(), String> {
        // A section of latencies (no work to turn into a rate) is drawn in milliseconds.
        let timings_only = self.measures.iter().all(|m| m.work <= 0.0);
        let bars: Vec<(String, f64, f64, f64)> = self
            .measures
            .iter()
            .map(|m| {
                let to_rate = |x: f64| match self.unit {
                    Unit::Seconds if m.work > 0.0 => m.work / x,
                    Unit::Seconds if timings_only => x * 1e3,
                    Unit::Bytes => x / 1024.0,
                    _ => x,
                };
                // Rates: higher is better; the slowest run is the lowest rate.
                let (a, b) = (to_rate(min(&m.samples)), to_rate(max(&m.samples)));
                (
                    format!("{} ({})", m.label, m.size),
                    to_rate(median(&m.samples)),
                    a.min(b),
                    a.max(b),
                )
            })
            .collect();
        let axis = match self.unit {
            Unit::Seconds if timings_only => {
                "milliseconds, lower is better (median; whisker: spread over the runs)"
            }
            Unit::Seconds => "events per second (median; whisker: spread over the runs)",
            Unit::PerSecond => "requests per second (median; whisker: spread over the runs)",
            Unit::Bytes => "KiB, lower is better (median; whisker: spread over the runs)",
        };
        draw_bars(path, &self.title, axis, &bars).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// The whole report.
#[derive(Debug)]
pub(crate) struct Report {
    /// Lines about the machine and the run.
    pub(crate) machine: Vec<String>,
    /// Markdown paragraphs at the top.
    pub(crate) preamble: Vec<String>,
    /// The comparisons.
    pub(crate) sections: Vec<Section>,
    /// Markdown at the end (what is not done).
    pub(crate) epilogue: Vec<String>,
}

impl Report {
    /// Writes `BENCHMARKS.md` into `dir` and the charts into `dir/<chart_dir>`.
    pub(crate) fn write(&self, dir: &Path, chart_dir: &str) -> Result<(), String> {
        let charts = dir.join(chart_dir);
        std::fs::create_dir_all(&charts)
            .map_err(|e| format!("cannot create {}: {e}", charts.display()))?;
        let mut md = String::from("# Benchmarks: instant beside the alternatives\n\n");
        md.push_str(
            "Written by `cargo xtask bench --compare`; do not edit by hand. Every figure below \
             comes from one run of the suite on one machine.\n\n",
        );
        for line in &self.machine {
            let _ = writeln!(md, "- {line}");
        }
        md.push('\n');
        for p in &self.preamble {
            let _ = writeln!(md, "{p}\n");
        }
        for section in &self.sections {
            section.draw(&charts.join(&section.chart))?;
            md.push_str(&section.markdown(chart_dir));
        }
        for p in &self.epilogue {
            let _ = writeln!(md, "{p}\n");
        }
        let file = dir.join("BENCHMARKS.md");
        std::fs::write(&file, md).map_err(|e| format!("cannot write {}: {e}", file.display()))
    }
}

/// A horizontal bar chart in SVG.
fn draw_bars(
    path: &Path,
    title: &str,
    axis: &str,
    bars: &[(String, f64, f64, f64)],
) -> Result<(), Box<dyn std::error::Error>> {
    const WIDTH: u32 = 960;
    const LEFT: i32 = 380;
    const RIGHT: i32 = 40;
    const TOP: i32 = 50;
    const ROW: i32 = 26;
    let height = u32::try_from(TOP + ROW * bars.len() as i32 + 70)?;
    let root = SVGBackend::new(path, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let font = |size: f64| ("sans-serif", size).into_font();
    root.draw(&Text::new(
        title.to_owned(),
        (20, 18),
        font(18.0).color(&BLACK),
    ))?;

    let positive = bars
        .iter()
        .flat_map(|b| [b.1, b.2, b.3])
        .filter(|x| *x > 0.0);
    let hi = positive.clone().fold(f64::MIN_POSITIVE, f64::max);
    let lo = positive.fold(f64::INFINITY, f64::min).min(hi);
    let log = hi / lo > 20.0;
    let (lo_axis, hi_axis) = if log {
        (
            10f64.powf(lo.log10().floor()),
            10f64.powf(hi.log10().ceil()),
        )
    } else {
        (0.0, hi * 1.1)
    };
    let width = f64::from(WIDTH) - f64::from(LEFT + RIGHT);
    let x_of = |v: f64| -> i32 {
        let f = if log {
            (v.max(lo_axis).log10() - lo_axis.log10()) / (hi_axis.log10() - lo_axis.log10())
        } else {
            v / hi_axis
        };
        LEFT + (f * width).round() as i32
    };
    let bottom = TOP + ROW * bars.len() as i32;

    // Grid lines and tick labels.
    let ticks: Vec<f64> = if log {
        let (a, b) = (lo_axis.log10() as i32, hi_axis.log10() as i32);
        (a..=b).map(|e| 10f64.powi(e)).collect()
    } else {
        (0..=5).map(|i| hi_axis * f64::from(i) / 5.0).collect()
    };
    let label_style = font(12.0)
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    for t in ticks {
        let x = x_of(t);
        root.draw(&PathElement::new(
            vec![(x, TOP - 4), (x, bottom)],
            RGBColor(220, 220, 220),
        ))?;
        root.draw(&Text::new(rate(t), (x, bottom + 6), label_style.clone()))?;
    }
    root.draw(&Text::new(
        axis.to_owned(),
        (LEFT + (width as i32) / 2, bottom + 28),
        label_style,
    ))?;

    let name_style = font(13.0)
        .color(&BLACK)
        .pos(Pos::new(HPos::Right, VPos::Center));
    let palette = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    // One colour per scenario, the same at every size.
    let mut scenarios: Vec<&str> = Vec::new();
    for (i, (name, median, low, high)) in bars.iter().enumerate() {
        let y = TOP + ROW * i as i32;
        let scenario = name.split_once(" (").map_or(name.as_str(), |(s, _)| s);
        let index = scenarios
            .iter()
            .position(|s| *s == scenario)
            .unwrap_or_else(|| {
                scenarios.push(scenario);
                scenarios.len() - 1
            });
        let color = palette[index % palette.len()];
        root.draw(&Text::new(
            name.clone(),
            (LEFT - 8, y + ROW / 2),
            name_style.clone(),
        ))?;
        root.draw(&Rectangle::new(
            [(LEFT, y + 4), (x_of(*median), y + ROW - 4)],
            color.filled(),
        ))?;
        let mid = y + ROW / 2;
        root.draw(&PathElement::new(
            vec![(x_of(*low), mid), (x_of(*high), mid)],
            BLACK.stroke_width(2),
        ))?;
        for x in [x_of(*low), x_of(*high)] {
            root.draw(&PathElement::new(
                vec![(x, mid - 5), (x, mid + 5)],
                BLACK.stroke_width(2),
            ))?;
        }
    }
    root.present()?;
    Ok(())
}
