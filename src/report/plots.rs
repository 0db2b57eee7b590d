//! SVG plots of a run, drawn with `plotters` into strings.
//!
//! Four plots: latency percentiles per window, the latency CDF, the success ratio per
//! window (faults shaded, each incident's recovery point marked) and throughput/goodput per
//! window. Per-window figures are drawn as steps over their window; an idle window (no
//! figure) leaves a gap. Text stays SVG `<text>` (no font files are read: plotters' naive
//! font only estimates label widths), and the output is byte-stable: plotters writes no ids
//! or timestamps, and every tick label is formatted at a fixed precision.

use super::tables::{fixed, secs};
use crate::history::OpKind;
use crate::metrics::availability::WindowStats;
use crate::metrics::latency::{self, Selection};
use crate::metrics::recovery::Rto;
use crate::simulation::RunResult;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::error::Error;

/// The plot files with their titles, in the order of the report.
pub const FILES: [(&str, &str); 4] = [
    ("latency.svg", "Latency of ok operations over time"),
    ("cdf.svg", "Latency CDF of ok operations"),
    ("success.svg", "Success ratio over time"),
    ("throughput.svg", "Throughput and goodput over time"),
];

/// Width and height of every plot, in pixels.
pub const SIZE: (u32, u32) = (960, 440);

const FONT: &str = "sans-serif";
const BLUE_: RGBColor = RGBColor(31, 119, 180);
const RED_: RGBColor = RGBColor(214, 39, 40);
const GREEN_: RGBColor = RGBColor(44, 160, 44);
const FAULT: RGBColor = RGBColor(255, 140, 0);
const MARK: RGBColor = RGBColor(148, 103, 189);
const GREY: RGBColor = RGBColor(110, 110, 110);
const TIME_AXIS: &str = "time since the start of the run (s)";
/// Height of the legend row under each chart, in pixels.
const LEGEND_H: u32 = 38;
/// Chart margins and label areas, in pixels.
const MARGIN: u32 = 14;
const MARGIN_RIGHT: u32 = 34;
const Y_LABELS_W: u32 = 84;
/// The plotting area's width, in pixels (for placing labels).
const PLOT_W: f64 = (SIZE.0 - MARGIN - MARGIN_RIGHT - Y_LABELS_W) as f64;
/// A generous estimate of one character's width at the label sizes used, in pixels (the
/// browser picks the font; labels are placed so that a wider one still fits).
const CHAR_W: f64 = 8.0;

type Drawn<T = ()> = Result<T, Box<dyn Error>>;
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type TimeChart<'a, 'b, Y> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, Y>>;
type Plot = fn(&Area, &RunResult, &str) -> Drawn<Vec<Key>>;

/// How a legend entry looks.
#[derive(Clone, Copy, Debug)]
enum Swatch {
    Line(RGBColor, u32),
    Dashed(RGBColor),
    Fill(RGBColor, f64),
    Dot(RGBColor),
}

/// One legend entry.
struct Key {
    swatch: Swatch,
    label: String,
}

fn key(swatch: Swatch, label: impl Into<String>) -> Key {
    Key { swatch, label: label.into() }
}

/// Every plot, by file name, in the order of [`FILES`].
pub fn render_all(r: &RunResult) -> Vec<(&'static str, String)> {
    let draws: [Plot; 4] = [latency_plot, cdf_plot, success_plot, throughput_plot];
    FILES.iter().zip(draws).map(|(&(file, title), draw)| (file, render(r, title, draw))).collect()
}

/// Draws one plot: the chart above, its legend in a row below (never over the data).
fn render(r: &RunResult, title: &str, draw: Plot) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).expect("drawing into a string cannot fail");
        let (chart, legend) = root.split_vertically(SIZE.1 - LEGEND_H);
        let keys = draw(&chart, r, title).expect("drawing into a string cannot fail");
        draw_legend(&legend, &keys).expect("drawing into a string cannot fail");
        root.present().expect("drawing into a string cannot fail");
    }
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "a plot is one SVG element");
    svg
}

/// The legend: entries side by side, centred in their row.
fn draw_legend(area: &Area, keys: &[Key]) -> Drawn {
    const SWATCH: i32 = 30;
    let width = |k: &Key| SWATCH + 8 + (k.label.chars().count() as f64 * CHAR_W) as i32 + 26;
    let total: i32 = keys.iter().map(width).sum();
    let mut x = ((SIZE.0 as i32 - total) / 2).max(4);
    let y = LEGEND_H as i32 / 2 - 4;
    for k in keys {
        match k.swatch {
            Swatch::Line(c, w) => {
                area.draw(&PathElement::new(vec![(x, y), (x + SWATCH, y)], c.stroke_width(w)))?
            }
            Swatch::Dashed(c) => {
                for dash in 0..3 {
                    let a = x + dash * 11;
                    area.draw(&PathElement::new(vec![(a, y), (a + 7, y)], c.stroke_width(2)))?;
                }
            }
            Swatch::Fill(c, alpha) => {
                area.draw(&Rectangle::new([(x, y - 8), (x + SWATCH, y + 8)], c.mix(alpha).filled()))?
            }
            Swatch::Dot(c) => area.draw(&Circle::new((x + SWATCH / 2, y), 5, c.filled()))?,
        }
        area.draw(&Text::new(k.label.clone(), (x + SWATCH + 8, y), text_style(17, HPos::Left)))?;
        x += width(k);
    }
    Ok(())
}

/// A chart with the report's caption, margins and label areas.
fn builder<'a, 'b>(root: &'a Area<'b>, title: &str) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut b = ChartBuilder::on(root);
    b.caption(title, (FONT, 26))
        .margin(MARGIN)
        .margin_right(MARGIN_RIGHT)
        .x_label_area_size(52)
        .y_label_area_size(Y_LABELS_W);
    b
}

/// A placeholder for a plot without data.
fn no_data(root: &Area, title: &str, what: &str) -> Drawn<Vec<Key>> {
    let (w, h) = SIZE;
    root.draw(&Text::new(title.to_string(), (w as i32 / 2, 30), text_style(26, HPos::Center)))?;
    root.draw(&Text::new(what.to_string(), (w as i32 / 2, h as i32 / 2), text_style(19, HPos::Center)))?;
    Ok(Vec::new())
}

fn text_style(size: u32, h: HPos) -> TextStyle<'static> {
    TextStyle::from((FONT, size)).pos(Pos::new(h, VPos::Center))
}

/// The end of the run, in seconds: the time axis' range.
fn end_s(r: &RunResult) -> f64 {
    r.duration_s.max(1e-9)
}

/// Tick labels of a time axis: whole seconds on runs of 10 s or more.
fn time_label(r: &RunResult) -> impl Fn(&f64) -> String {
    let decimals = if r.duration_s >= 10.0 { 0 } else { 1 };
    move |x: &f64| fixed(*x, decimals)
}

/// Milliseconds on a log axis: up to 6 decimals, trailing zeros dropped ("1", "0.25").
fn ms_label(y: &f64) -> String {
    let s = fixed(*y, 6);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A log axis' range: from the decade at or below `lo` to the one at or above `hi`, so
/// the axis is labelled at least at both ends (the lower end a hair below its decade, for
/// plotters to count it as a key point despite rounding).
fn decades(lo: f64, hi: f64) -> (f64, f64) {
    let lo = 10f64.powf(lo.log10().floor());
    let hi = 10f64.powf(hi.log10().ceil()).max(lo * 10.0);
    (lo * 0.999_999, hi)
}

/// Thins a CDF for drawing: of the points that fall in one of `buckets` equal slices of
/// the log-latency range, keeps the last (the highest fraction), so the curve looks the
/// same at any plot width and the SVG stays small.
fn thin_cdf(points: Vec<(f64, f64)>, (lo, hi): (f64, f64), buckets: f64) -> Vec<(f64, f64)> {
    let slice = |x: f64| ((x / lo).ln() / (hi / lo).ln() * buckets).floor() as i64;
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(points.len().min(buckets as usize + 1));
    for p in points {
        match out.last_mut() {
            Some(last) if slice(last.0) == slice(p.0) => *last = p,
            _ => out.push(p),
        }
    }
    out
}

/// Per-window values as steps over each window; an idle window (`None`) ends a segment.
fn steps(r: &RunResult, value: impl Fn(&WindowStats) -> Option<f64>) -> Vec<Vec<(f64, f64)>> {
    let window = r.metrics.availability.window_s;
    let mut segments = Vec::new();
    let mut current = Vec::new();
    for w in &r.metrics.windows {
        match value(w) {
            Some(y) => {
                current.push((w.start_s, y));
                current.push(((w.start_s + window).min(end_s(r)), y));
            }
            None if !current.is_empty() => segments.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        segments.push(current);
    }
    segments
}

fn draw_steps<Y: Ranged<ValueType = f64>>(
    chart: &mut TimeChart<'_, '_, Y>,
    segments: Vec<Vec<(f64, f64)>>,
    color: RGBColor,
) -> Drawn {
    let style = color.stroke_width(2);
    chart.draw_series(segments.into_iter().map(move |s| PathElement::new(s, style)))?;
    Ok(())
}

fn time_mesh<Y: Ranged<ValueType = f64> + ValueFormatter<f64>>(
    chart: &mut TimeChart<'_, '_, Y>,
    r: &RunResult,
    y_desc: &str,
    y_label: &dyn Fn(&f64) -> String,
) -> Drawn {
    let time_label = time_label(r);
    chart
        .configure_mesh()
        .x_desc(TIME_AXIS)
        .y_desc(y_desc)
        .x_label_formatter(&time_label)
        .y_label_formatter(y_label)
        .axis_desc_style((FONT, 19))
        .label_style((FONT, 16))
        .draw()?;
    Ok(())
}

/// Shades every fault's window (to the end of the run if it was not undone); a fault with
/// no duration (a restart, a clock step) is a thin line. Returns its legend entry, if any.
fn shade_faults<Y: Ranged<ValueType = f64>>(
    chart: &mut TimeChart<'_, '_, Y>,
    r: &RunResult,
    y: (f64, f64),
) -> Drawn<Option<Key>> {
    if r.faults.is_empty() {
        return Ok(None);
    }
    let fill = FAULT.mix(0.2).filled();
    let line = FAULT.mix(0.8).stroke_width(1);
    let spans: Vec<(f64, f64)> = r
        .faults
        .iter()
        .map(|f| (f.start.as_secs_f64(), f.end.map_or(end_s(r), |e| e.as_secs_f64()).min(end_s(r))))
        .collect();
    let windows = spans.iter().filter(|(a, b)| b > a);
    chart.draw_series(windows.map(|&(a, b)| Rectangle::new([(a, y.0), (b, y.1)], fill)))?;
    let instants = spans.iter().filter(|(a, b)| b <= a);
    chart.draw_series(instants.map(|&(a, _)| PathElement::new(vec![(a, y.0), (a, y.1)], line)))?;
    Ok(Some(key(Swatch::Fill(FAULT, 0.3), "fault (see Faults)")))
}

/// (a) p50 and p99 latency of the ok operations completed in each window.
fn latency_plot(root: &Area, r: &RunResult, title: &str) -> Drawn<Vec<Key>> {
    let p50 = steps(r, |w| w.p50_ms);
    let p99 = steps(r, |w| w.p99_ms);
    let values = || p50.iter().chain(&p99).flatten().map(|p| p.1).filter(|&y| y > 0.0);
    let (Some(lo), Some(hi)) = (values().reduce(f64::min), values().reduce(f64::max)) else {
        return no_data(root, title, "no operation succeeded: no latency to plot");
    };
    let y = decades(lo, hi * 1.1);
    let mut chart = builder(root, title).build_cartesian_2d(0.0..end_s(r), (y.0..y.1).log_scale())?;
    time_mesh(&mut chart, r, "latency (ms, log scale)", &ms_label)?;
    let mut keys: Vec<Key> = shade_faults(&mut chart, r, y)?.into_iter().collect();
    draw_steps(&mut chart, p99, RED_)?;
    draw_steps(&mut chart, p50, BLUE_)?;
    keys.push(key(Swatch::Line(BLUE_, 2), "p50 of the ok operations completed in the window"));
    keys.push(key(Swatch::Line(RED_, 2), "p99"));
    Ok(keys)
}

/// (b) The cumulative distribution of ok operations' latency (all, reads, writes), with
/// the p50, p99 and p99.9 of all ok operations marked.
fn cdf_plot(root: &Area, r: &RunResult, title: &str) -> Drawn<Vec<Key>> {
    let ops = &r.history.ops;
    let curves = [
        (Selection::Ok(None), BLACK, 3, "all ok operations"),
        (Selection::Ok(Some(OpKind::Read)), BLUE_, 1, "ok reads"),
        (Selection::Ok(Some(OpKind::Write)), RED_, 1, "ok writes"),
    ];
    let cdfs: Vec<Vec<(f64, f64)>> = curves
        .iter()
        .map(|c| latency::histogram(ops, c.0).cdf().into_iter().filter(|p| p.0 > 0.0).collect())
        .collect();
    let xs = || cdfs.iter().flatten().map(|p| p.0);
    let (Some(lo), Some(hi)) = (xs().reduce(f64::min), xs().reduce(f64::max)) else {
        return no_data(root, title, "no operation succeeded: no latency to plot");
    };
    let x = decades(lo, hi * 1.1);
    let mut chart = builder(root, title).build_cartesian_2d((x.0..x.1).log_scale(), 0.0..1.05)?;
    chart
        .configure_mesh()
        .x_desc("latency (ms, log scale)")
        .y_desc("cumulative fraction of ok operations")
        .x_label_formatter(&ms_label)
        .y_label_formatter(&|y| fixed(*y, 1))
        .axis_desc_style((FONT, 19))
        .label_style((FONT, 16))
        .draw()?;
    let mut keys = Vec::new();
    // The bold curve of all ok operations first, the thin ones of reads and writes on top.
    for (points, &(_, color, width, label)) in cdfs.into_iter().zip(&curves) {
        chart.draw_series(LineSeries::new(thin_cdf(points, x, 2000.0), color.stroke_width(width)))?;
        keys.push(key(Swatch::Line(color, width), label));
    }
    let p = &r.metrics.latency.all_ok;
    let marks =
        [("p50", p.p50_ms, 0.5, 0.06), ("p99", p.p99_ms, 0.99, 0.1), ("p99.9", p.p999_ms, 0.999, 0.2)];
    let log_share = |v: f64| (v / x.0).ln() / (x.1 / x.0).ln();
    for (name, ms, fraction, below) in marks.into_iter().filter(|m| m.1 > 0.0) {
        chart.draw_series(std::iter::once(Circle::new((ms, fraction), 4, MARK.filled())))?;
        // Below and to the right of the point (the curve lies above it there), or to the
        // left near the right edge.
        let anchor = if log_share(ms) < 0.72 { HPos::Left } else { HPos::Right };
        let style = text_style(17, anchor).color(&MARK);
        let at = (ms, fraction - below);
        chart.draw_series(std::iter::once(Text::new(format!("{name} {} ms", secs(ms)), at, style)))?;
    }
    keys.push(key(Swatch::Dot(MARK), "percentiles of all ok operations"));
    Ok(keys)
}

/// (c) The success ratio of the operations invoked in each window, with the SLO, every
/// fault's window shaded and every incident's recovery point (injection + RTO) marked. The
/// axis runs on above 1 (unlabelled) to leave rows for the incidents' labels.
fn success_plot(root: &Area, r: &RunResult, title: &str) -> Drawn<Vec<Key>> {
    let mut chart = builder(root, title).build_cartesian_2d(0.0..end_s(r), 0.0..1.3)?;
    let ratio_label = |y: &f64| if *y > 1.0 + 1e-9 { String::new() } else { fixed(*y, 1) };
    time_mesh(&mut chart, r, "success ratio (ok / decided, by invocation)", &ratio_label)?;
    let mut keys: Vec<Key> = shade_faults(&mut chart, r, (0.0, 1.0))?.into_iter().collect();
    let slo = r.metrics.availability.slo;
    let dashed = GREY.stroke_width(1);
    chart.draw_series(DashedLineSeries::new(vec![(0.0, slo), (end_s(r), slo)], 6, 4, dashed))?;
    draw_steps(&mut chart, steps(r, |w| w.success_ratio), BLUE_)?;
    keys.push(key(Swatch::Line(BLUE_, 2), "success ratio"));
    keys.push(key(Swatch::Dashed(GREY), format!("SLO {}", fixed(slo, 3))));
    if !r.metrics.incidents.is_empty() {
        mark_recoveries(&mut chart, r)?;
        keys.push(key(Swatch::Dashed(MARK), "recovery point (injection + RTO)"));
    }
    Ok(keys)
}

/// A dashed line at each incident's recovery point, a bracket from its injection, and a
/// label; an incident that did not recover (or could not be judged) gets a label at its
/// injection. Each label takes the first row where it does not overlap an earlier one: the
/// three rows above the data first, then rows over it.
fn mark_recoveries(chart: &mut TimeChart<'_, '_, RangedCoordf64>, r: &RunResult) -> Drawn {
    const LEVELS: [f64; 7] = [1.07, 1.145, 1.22, 0.92, 0.845, 0.77, 0.695];
    const ROWS: usize = LEVELS.len();
    let incidents = &r.metrics.incidents;
    let style = MARK.stroke_width(2);
    let s_per_px = end_s(r) / PLOT_W;
    let mut row_free_from = [f64::NEG_INFINITY; ROWS];
    for (n, inc) in incidents.iter().enumerate() {
        let name = match incidents.len() {
            1 => String::new(),
            2..=6 => format!("#{} ", n + 1),
            _ => format!("#{}", n + 1),
        };
        let (at, text, recovered) = match inc.rto {
            Rto::Recovered { rto_s } if incidents.len() > 6 => (inc.start_s + rto_s, name, true),
            Rto::Recovered { rto_s } => (inc.start_s + rto_s, format!("{name}RTO {} s", secs(rto_s)), true),
            Rto::NotRecovered => (inc.start_s, format!("{name} not recovered"), false),
            Rto::Undetermined => (inc.start_s, format!("{name} RTO undetermined"), false),
        };
        let text = text.trim().to_string();
        // Right of the mark, or left of it in the last quarter of the run.
        let right = at < 0.75 * end_s(r);
        let width = (text.chars().count() as f64 * CHAR_W + 8.0) * s_per_px;
        let (from, to) = if right { (inc.start_s, at + width) } else { (inc.start_s.min(at - width), at) };
        let row = (0..ROWS).find(|&i| row_free_from[i] < from).unwrap_or_else(|| {
            (0..ROWS).min_by(|&a, &b| row_free_from[a].total_cmp(&row_free_from[b])).unwrap_or(0)
        });
        row_free_from[row] = to + 4.0 * s_per_px;
        let level = LEVELS[row];
        if recovered {
            chart.draw_series(DashedLineSeries::new(vec![(at, 0.0), (at, 1.0)], 5, 3, style))?;
            let bracket =
                vec![(inc.start_s, level - 0.02), (inc.start_s, level), (at, level), (at, level - 0.02)];
            chart.draw_series(std::iter::once(PathElement::new(bracket, style)))?;
        } else {
            chart.draw_series(std::iter::once(Circle::new((at, level), 4, MARK.filled())))?;
        }
        let pad = 4.0 * s_per_px * if right { 1.0 } else { -1.0 };
        let anchor = if right { HPos::Left } else { HPos::Right };
        let label = Text::new(text, (at + pad, level), text_style(17, anchor).color(&MARK));
        chart.draw_series(std::iter::once(label))?;
    }
    Ok(())
}

/// (d) Completions per second in each window: all outcomes (throughput) and ok (goodput).
fn throughput_plot(root: &Area, r: &RunResult, title: &str) -> Drawn<Vec<Key>> {
    let windows = &r.metrics.windows;
    let top = windows.iter().map(|w| w.throughput_per_s.max(w.goodput_per_s)).fold(1.0, f64::max);
    let y = (0.0, top * 1.1);
    let mut chart = builder(root, title).build_cartesian_2d(0.0..end_s(r), y.0..y.1)?;
    time_mesh(&mut chart, r, "operations completed per second", &|y| fixed(*y, 0))?;
    let mut keys: Vec<Key> = shade_faults(&mut chart, r, y)?.into_iter().collect();
    draw_steps(&mut chart, steps(r, |w| Some(w.throughput_per_s)), BLUE_)?;
    draw_steps(&mut chart, steps(r, |w| Some(w.goodput_per_s)), GREEN_)?;
    keys.push(key(Swatch::Line(BLUE_, 2), "throughput (any outcome)"));
    keys.push(key(Swatch::Line(GREEN_, 2), "goodput (ok only)"));
    Ok(keys)
}

/// The distribution across seeds of one figure per run (e.g. Raft's election downtime), as
/// CDFs, one line per labelled series of values in milliseconds.
pub fn distribution_cdf(title: &str, x_label: &str, series: &[(String, Vec<f64>)]) -> String {
    const COLOURS: [RGBColor; 4] = [BLUE_, RED_, GREEN_, MARK];
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).expect("drawing into a string cannot fail");
        let (chart_area, legend) = root.split_vertically(SIZE.1 - LEGEND_H);
        let max = series.iter().flat_map(|(_, v)| v.iter().copied()).fold(1.0f64, f64::max);
        let mut keys = Vec::new();
        let mut chart = builder(&chart_area, title)
            .build_cartesian_2d(0.0..max * 1.05, 0.0..1.0)
            .expect("drawing into a string cannot fail");
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc("fraction of seeds")
            .x_label_formatter(&|x| fixed(*x, 0))
            .y_label_formatter(&|y| fixed(*y, 1))
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 17))
            .draw()
            .expect("drawing into a string cannot fail");
        for (i, (label, values)) in series.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let n = sorted.len().max(1) as f64;
            let points = sorted.iter().enumerate().map(|(k, &v)| (v, (k + 1) as f64 / n));
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                .expect("drawing into a string cannot fail");
            keys.push(key(Swatch::Line(colour, 2), label.clone()));
        }
        draw_legend(&legend, &keys).expect("drawing into a string cannot fail");
        root.present().expect("drawing into a string cannot fail");
    }
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axes_span_whole_decades() {
        let (lo, hi) = decades(1.9, 544.0);
        assert!((lo - 1.0).abs() < 1e-5 && lo < 1.0, "{lo}");
        assert_eq!(hi, 1000.0);
        assert_eq!(decades(2.0, 3.0).1, 10.0);
    }

    #[test]
    fn millisecond_labels_drop_trailing_zeros() {
        assert_eq!(ms_label(&1.0), "1");
        assert_eq!(ms_label(&0.25), "0.25");
        assert_eq!(ms_label(&1000.0), "1000");
    }

    #[test]
    fn a_thinned_cdf_keeps_the_last_point_of_each_slice() {
        let points: Vec<(f64, f64)> = (1..=1000).map(|i| (f64::from(i), f64::from(i) / 1000.0)).collect();
        let thin = thin_cdf(points, (1.0, 1000.0), 10.0);
        assert!(thin.len() <= 11, "{thin:?}");
        assert_eq!(thin.last(), Some(&(1000.0, 1.0)));
        assert!(thin.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
    }
}
