//! The CDF figures: Figure 16 (ours vs the paper) and the thesis' WAN experiment.

use ballot::sim::experiments::figure16::{self, Figure16, RANGES, Reference};
use ballot::sim::experiments::quantile;
use ballot::sim::experiments::wan::Wan;
use plotters::prelude::*;

use crate::Options;
use crate::plot::{
    COLORS, Res, cdf_points, label_font, ms, round_up, short, title_font, whole, with_footer,
};

/// The paper's raw data (MIT, © 2014 Heidi Howard; see tests/data/README.md).
const PAPER_CSV: &str = include_str!("../../tests/data/ongaro2014_fig16_lan_raw.csv");

/// Figure 16's two panels: the paper's top graph (150–x ms) and bottom graph
/// (scaled timeouts). 150–300 is in both, as in the paper.
const TOP: [&str; 6] = [
    "150-150", "150-151", "150-155", "150-175", "150-200", "150-300",
];
const BOTTOM: [&str; 5] = ["12-24", "25-50", "50-100", "100-200", "150-300"];

/// One curve: label, our sorted sample (ms; empty when we cannot run the range),
/// the paper's sorted sample (ms).
struct Curve {
    label: String,
    ours: Vec<f64>,
    paper: Vec<f64>,
}

pub fn figure16(o: &Options) -> Res {
    let paper = figure16::parse_reference(PAPER_CSV);
    let paper_ms = |label: &str| -> Vec<f64> {
        paper
            .iter()
            .find(|r: &&Reference| r.label == label)
            .map(|r| r.samples.iter().map(|&d| ms(d)).collect())
            .unwrap_or_default()
    };
    let mut curves: Vec<Curve> = vec![Curve {
        label: "150-150".into(),
        ours: Vec::new(), // Config needs max > min
        paper: paper_ms("150-150"),
    }];
    for &(min, max) in &RANGES {
        let experiment = Figure16::new(min, max).with_seed(o.seed);
        let outcome = experiment.run(o.fig16_trials);
        if outcome.unfinished() > 0 || outcome.violations() > 0 {
            println!(
                "  figure16 {}: {} unfinished trials (plotted at the {} s limit), {} violations",
                experiment.label(),
                outcome.unfinished(),
                experiment.limit.as_secs(),
                outcome.violations()
            );
        }
        curves.push(Curve {
            label: experiment.label(),
            ours: outcome.sorted().into_iter().map(ms).collect(),
            paper: paper_ms(&experiment.label()),
        });
    }

    let path = o.out.join("figure16.svg");
    let root = SVGBackend::new(&path, (960, 1000)).into_drawing_area();
    let plot = with_footer(
        &root,
        &[
            format!(
                "ballot (solid): {} trials per range, seed {}, simulated LAN: one-way delay 0.1–0.3 ms, \
                 fsync 1 ms + exp(mean 3 ms), PreVote off, 5 servers (docs/figure16.md).",
                o.fig16_trials, o.seed
            ),
            "paper (dashed): LogCabin, 1000 trials per range (100 for 150–150); raw data \
             tests/data/ongaro2014_fig16_lan_raw.csv (heidihoward/ocaml-raft-data, MIT)."
                .to_string(),
            format!("made by: {}", o.command),
        ],
    )?;
    let (top, bottom) = plot.split_vertically(plot.dim_in_pixel().1 / 2);

    // Top: 150–x ms, log time axis (150–150 reaches minutes).
    let pick = |names: &[&str]| -> Vec<&Curve> {
        names
            .iter()
            .filter_map(|n| curves.iter().find(|c| c.label == *n))
            .collect()
    };
    let top_curves = pick(&TOP);
    let top_max = top_curves
        .iter()
        .flat_map(|c| c.ours.last().into_iter().chain(c.paper.last()))
        .fold(1000.0f64, |a, &b| a.max(b));
    let top_max = 10f64.powf(top_max.log10().ceil());
    let mut chart = ChartBuilder::on(&top)
        .caption(
            "Figure 16 (top): time without a leader after a crash, timeouts 150–x ms",
            title_font(),
        )
        .margin(12)
        .margin_right(34)
        .x_label_area_size(42)
        .y_label_area_size(56)
        .build_cartesian_2d((50f64..top_max).log_scale(), 0f64..1f64)?;
    chart
        .configure_mesh()
        .x_desc("time without leader (ms, log scale)")
        .y_desc("cumulative fraction of trials")
        .x_label_formatter(&whole)
        .y_label_formatter(&short)
        .axis_desc_style(label_font())
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    draw_pairs(&mut chart, &top_curves)?;

    // Bottom: scaled timeouts, linear time axis.
    let bottom_curves = pick(&BOTTOM);
    let bottom_max = bottom_curves
        .iter()
        .flat_map(|c| c.ours.last().into_iter().chain(c.paper.last()))
        .fold(100.0f64, |a, &b| a.max(b));
    let mut chart = ChartBuilder::on(&bottom)
        .caption(
            "Figure 16 (bottom): scaled timeouts (min–max ms)",
            title_font(),
        )
        .margin(12)
        .margin_right(34)
        .x_label_area_size(42)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..round_up(bottom_max, 100.0), 0f64..1f64)?;
    chart
        .configure_mesh()
        .x_desc("time without leader (ms)")
        .y_desc("cumulative fraction of trials")
        .x_label_formatter(&whole)
        .y_label_formatter(&short)
        .axis_desc_style(label_font())
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    draw_pairs(&mut chart, &bottom_curves)?;
    root.present()?;
    Ok(())
}

/// Draws each range's two curves (ours solid, the paper's dashed, same colour)
/// and the legend.
fn draw_pairs<'a, X>(
    chart: &mut ChartContext<
        'a,
        SVGBackend<'a>,
        Cartesian2d<X, plotters::coord::types::RangedCoordf64>,
    >,
    curves: &[&Curve],
) -> Res
where
    X: Ranged<ValueType = f64>,
{
    for (i, c) in curves.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let label = format!("{} ms", c.label.replace('-', "–"));
        if !c.ours.is_empty() {
            chart
                .draw_series(LineSeries::new(cdf_points(&c.ours), color.stroke_width(2)))?
                .label(label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(2))
                });
        }
        let dashed = DashedLineSeries::new(cdf_points(&c.paper), 5, 4, color.stroke_width(1));
        let anno = chart.draw_series(dashed)?;
        if c.ours.is_empty() {
            anno.label(format!("{label} (paper only: a Config needs max > min)"))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(1))
                });
        }
    }
    let grey = RGBColor(60, 60, 60);
    chart
        .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
        .label("ours: ballot, simulated (solid)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], grey.stroke_width(2)));
    chart
        .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
        .label("paper: LogCabin, measured (dashed)")
        .legend(move |(x, y)| {
            EmptyElement::at((x, y))
                + PathElement::new(vec![(0, 0), (6, 0)], grey.stroke_width(1))
                + PathElement::new(vec![(10, 0), (16, 0)], grey.stroke_width(1))
                + PathElement::new(vec![(20, 0), (22, 0)], grey.stroke_width(1))
        });
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(label_font())
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.5))
        .draw()?;
    Ok(())
}

/// The thesis' quoted figures for its WAN experiment (§9.3, "Simulated WAN
/// network"): (failed servers, mean "about", 99.9 % "within"), in ms.
const THESIS_WAN: [(usize, f64, f64); 2] = [(1, 475.0, 1500.0), (2, 650.0, 3000.0)];

pub fn wan(o: &Options) -> Res {
    let mut curves: Vec<(usize, Vec<f64>, f64)> = Vec::new();
    for failed in 0..=2 {
        let outcome = Wan::new(failed).with_seed(o.seed).run(o.wan_trials);
        let durations = outcome.sorted();
        let sorted: Vec<f64> = durations.iter().copied().map(ms).collect();
        let mean = sorted.iter().sum::<f64>() / sorted.len().max(1) as f64;
        let q = |ppm: u32| quantile(&durations, ppm).map_or(f64::NAN, ms);
        println!(
            "  wan {failed} failed: mean {mean:.0} ms, median {:.0}, p90 {:.0}, p99 {:.0}, p99.9 {:.0}, \
             max {:.0} ms; term 1 split {:.1} %, unfinished {}, violations {}",
            q(500_000),
            q(900_000),
            q(990_000),
            q(999_000),
            sorted.last().copied().unwrap_or(0.0),
            100.0 * outcome.first_term_splits() as f64 / o.wan_trials as f64,
            outcome.unfinished(),
            outcome.violations()
        );
        curves.push((failed, sorted, mean));
    }
    let path = o.out.join("wan.svg");
    let root = SVGBackend::new(&path, (1100, 520)).into_drawing_area();
    let plot = with_footer(
        &root,
        &[
            format!(
                "ballot, simulated: {} elections per curve, seed {}; 5 servers, every timer started at 0, \
                 one-way latency uniform 30–40 ms, timeouts 300–600 ms,",
                o.wan_trials, o.seed
            ),
            "disks instantaneous, PreVote off (ballot::sim::experiments::wan). Thesis marks: the figures \
             quoted in its text (Ongaro 2014, §9.3, 10,000 AvailSim elections per curve)."
                .to_string(),
            format!("made by: {}", o.command),
        ],
    )?;
    let (left, right) = plot.split_horizontally(plot.dim_in_pixel().0 / 2);
    let x_max = round_up(
        curves
            .iter()
            .filter_map(|c| c.1.last())
            .fold(1000.0f64, |a, &b| a.max(b)),
        500.0,
    )
    .max(3500.0);

    let mut chart = ChartBuilder::on(&left)
        .caption("WAN election time (CDF)", title_font())
        .margin(12)
        .margin_right(34)
        .x_label_area_size(42)
        .y_label_area_size(56)
        .build_cartesian_2d(300f64..1500f64, 0f64..1f64)?;
    chart
        .configure_mesh()
        .x_desc("election time (ms)")
        .y_desc("cumulative fraction of elections")
        .x_label_formatter(&whole)
        .y_label_formatter(&short)
        .axis_desc_style(label_font())
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for (failed, sorted, mean) in &curves {
        let color = COLORS[*failed];
        chart
            .draw_series(LineSeries::new(
                cdf_points(sorted).into_iter().filter(|p| p.0 <= 1500.0),
                color.stroke_width(2),
            ))?
            .label(format!("{failed} failed (mean {mean:.0} ms)"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(2))
            });
        let below = sorted.partition_point(|&v| v <= *mean) as f64 / sorted.len() as f64;
        chart.draw_series(std::iter::once(Circle::new(
            (*mean, below),
            4,
            color.filled(),
        )))?;
    }
    for (failed, mean, _) in THESIS_WAN {
        let color = COLORS[failed];
        chart
            .draw_series(DashedLineSeries::new(
                vec![(mean, 0.0), (mean, 1.0)],
                4,
                4,
                color.stroke_width(1),
            ))?
            .label(format!("thesis: mean ≈ {mean:.0} ms ({failed} failed)"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(1))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(label_font())
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.5))
        .draw()?;

    // Right: the tail, 1 − CDF on a log axis (as the thesis' right graph).
    let mut chart = ChartBuilder::on(&right)
        .caption("WAN election time: the tail (1 − CDF)", title_font())
        .margin(12)
        .margin_right(34)
        .x_label_area_size(42)
        .y_label_area_size(62)
        .build_cartesian_2d(300f64..x_max, (1e-4f64..1f64).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("election time (ms)")
        .y_desc("fraction of elections not done (log)")
        .x_label_formatter(&whole)
        .axis_desc_style(label_font())
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for (failed, sorted, _) in &curves {
        let color = COLORS[*failed];
        let n = sorted.len() as f64;
        // 1 − F at each thinned point; the last point (1 − F = 0.5/n) stays on the axis.
        let pts = cdf_points(sorted)
            .into_iter()
            .map(|(x, p)| (x, (1.0 - p).max(1e-4)));
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(2)))?
            .label(format!("{failed} failed ({n} elections)"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(2))
            });
    }
    for (failed, _, p999) in THESIS_WAN {
        let color = COLORS[failed];
        chart
            .draw_series(std::iter::once(TriangleMarker::new(
                (p999, 1e-3),
                7,
                color.filled(),
            )))?
            .label(format!(
                "thesis: 99.9 % within {:.1} s ({failed} failed)",
                p999 / 1e3
            ))
            .legend(move |(x, y)| TriangleMarker::new((x + 11, y), 6, color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(label_font())
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.5))
        .draw()?;
    root.present()?;
    Ok(())
}
