//! Cold-start election time against cluster size.

use std::time::Duration;

use ballot::Config;
use ballot::sim::SimOptions;
use plotters::prelude::*;

use crate::Options;
use crate::compare::{Row, cold_starts};
use crate::plot::{COLORS, Res, label_font, ms, title_font, whole, with_footer};

/// Simulated time from building the cluster until a leader is in contact with a
/// quorum, for each seed: `SimOptions::new(seed).nodes(voters)` with the default
/// `Config` (timeouts 150–300 ms, heartbeat 50 ms, CheckQuorum on) and PreVote as
/// given; one-way delay 1–3 ms, persist 0.1–1 ms.
fn elect_times(o: &Options, voters: usize, pre_vote: bool) -> Vec<f64> {
    let base = o.seed.wrapping_mul(1_000_000).wrapping_add(1);
    let mut v: Vec<f64> = (0..o.cold_seeds)
        .map(|i| {
            let mut sim = SimOptions::new(base.wrapping_add(i))
                .nodes(voters)
                .config(Config::default().with_pre_vote(pre_vote))
                .build();
            let elected = sim.run_until(|s| s.leader().is_some(), Duration::from_secs(60));
            assert!(elected, "no leader within 60 s: {}", sim.report());
            let report = sim.report();
            assert!(report.is_ok(), "{report}");
            ms(sim.now() - ballot::Instant::ZERO)
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

pub fn cold_start(o: &Options, compare: Option<&Vec<Row>>) -> Res {
    let measured = compare.map(|rows| cold_starts(rows)).unwrap_or_default();
    if compare.is_some() && measured.is_empty() {
        println!(
            "  cold_start: compare.csv has no cold_start_<voters>_<variant> rows with a time unit"
        );
    }
    let path = o.out.join("cold_start.svg");
    let wide = !measured.is_empty();
    let root = SVGBackend::new(&path, (if wide { 1200 } else { 760 }, 540)).into_drawing_area();
    let base = o.seed.wrapping_mul(1_000_000) + 1;
    let mut footer = vec![
        format!(
            "simulated{}: seeds {}–{} per size, SimOptions::new(seed).nodes(n), default Config (timeouts \
             150–300 ms, CheckQuorum on), one-way delay 1–3 ms,",
            if wide { " (left)" } else { "" },
            base,
            base + o.cold_seeds - 1
        ),
        "persist 0.1–1 ms; time until a leader is in contact with a quorum; point = median, bar = min–max."
            .to_string(),
    ];
    if wide {
        footer.push(format!(
            "right: wall time per cold-start election, ballot and raft-rs side by side, from {} \
             (benches/compare-raft-rs).",
            o.compare.display()
        ));
    }
    footer.push(format!("made by: {}", o.command));
    let plot = with_footer(&root, &footer)?;
    let (left, right) = if wide {
        let (l, r) = plot.split_horizontally(plot.dim_in_pixel().0 * 55 / 100);
        (l, Some(r))
    } else {
        (plot, None)
    };

    let x_max = o.cold_sizes.iter().copied().max().unwrap_or(5).max(5) as f64 * 1.5;
    let mut series = Vec::new();
    for pre_vote in [true, false] {
        let mut points = Vec::new();
        for &n in &o.cold_sizes {
            let t = elect_times(o, n, pre_vote);
            let median = t[t.len() / 2];
            println!(
                "  cold start {n:>5} voters, PreVote {}: median {median:.1} ms (min {:.1}, max {:.1})",
                if pre_vote { "on " } else { "off" },
                t[0],
                t[t.len() - 1]
            );
            points.push((n as f64, t[0], median, t[t.len() - 1]));
        }
        series.push((pre_vote, points));
    }
    let y_max = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|q| q.3))
        .fold(100.0f64, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(&left)
        .caption("Cold start: simulated time to elect a leader", title_font())
        .margin(12)
        .margin_right(34)
        .x_label_area_size(42)
        .y_label_area_size(56)
        .build_cartesian_2d((2f64..x_max).log_scale(), 0f64..y_max)?;
    chart
        .configure_mesh()
        .x_desc("voters (log scale)")
        .y_desc("simulated time to a leader (ms)")
        .x_label_formatter(&whole)
        .y_label_formatter(&whole)
        .axis_desc_style(label_font())
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for (i, (pre_vote, points)) in series.iter().enumerate() {
        let color = COLORS[i];
        // Nudge the two series apart so that their bars do not hide each other.
        let nudge = if i == 0 { 0.95 } else { 1.05 };
        let points: Vec<(f64, f64, f64, f64)> = points
            .iter()
            .map(|p| (p.0 * nudge, p.1, p.2, p.3))
            .collect();
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|p| (p.0, p.2)),
                color.stroke_width(2),
            ))?
            .label(format!(
                "ballot, PreVote {}",
                if *pre_vote { "on" } else { "off" }
            ))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(2))
            });
        chart.draw_series(
            points
                .iter()
                .map(|p| ErrorBar::new_vertical(p.0, p.1, p.2, p.3, color.stroke_width(1), 8)),
        )?;
        chart.draw_series(
            points
                .iter()
                .map(|p| Circle::new((p.0, p.2), 3, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .label_font(label_font())
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.5))
        .draw()?;

    if let Some(right) = right {
        draw_measured(&right, &measured)?;
    }
    root.present()?;
    Ok(())
}

/// The comparison's wall time per cold-start election, ballot vs raft-rs, one
/// pair of lines per variant (`prevote`, `noprevote`, ...), log-log.
fn draw_measured(area: &crate::plot::Area, measured: &[(usize, String, f64, f64)]) -> Res {
    let x_max = measured.iter().map(|m| m.0).max().unwrap_or(5) as f64 * 1.5;
    let y_lo = measured
        .iter()
        .map(|m| m.2.min(m.3))
        .fold(f64::INFINITY, f64::min)
        / 2.0;
    let y_hi = measured.iter().map(|m| m.2.max(m.3)).fold(0.0, f64::max) * 2.0;
    let mut chart = ChartBuilder::on(area)
        .caption("Cold start: measured cost (same run)", title_font())
        .margin(12)
        .margin_right(34)
        .x_label_area_size(42)
        .y_label_area_size(62)
        .build_cartesian_2d((2f64..x_max).log_scale(), (y_lo..y_hi).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("voters (log scale)")
        .y_desc("wall time per cold start (µs, log)")
        .x_label_formatter(&whole)
        .y_label_formatter(&whole)
        .axis_desc_style(label_font())
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    let mut variants: Vec<&str> = measured.iter().map(|m| m.1.as_str()).collect();
    variants.dedup();
    for (i, variant) in variants.iter().enumerate() {
        let rows: Vec<_> = measured.iter().filter(|m| m.1 == *variant).collect();
        let (b, r) = (
            COLORS[(2 * i) % COLORS.len()],
            COLORS[(2 * i + 1) % COLORS.len()],
        );
        chart
            .draw_series(LineSeries::new(
                rows.iter().map(|m| (m.0 as f64, m.2)),
                b.stroke_width(2),
            ))?
            .label(format!("ballot ({variant})"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], b.stroke_width(2)));
        chart.draw_series(
            rows.iter()
                .map(|m| Circle::new((m.0 as f64, m.2), 3, b.filled())),
        )?;
        chart
            .draw_series(DashedLineSeries::new(
                rows.iter().map(|m| (m.0 as f64, m.3)).collect::<Vec<_>>(),
                6,
                4,
                r.stroke_width(2),
            ))?
            .label(format!("raft-rs ({variant})"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], r.stroke_width(2)));
        chart.draw_series(
            rows.iter()
                .map(|m| TriangleMarker::new((m.0 as f64, m.3), 4, r.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(label_font())
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.5))
        .draw()?;
    Ok(())
}
