//! Split-vote rate of the first term against the thesis' formula.

use ballot::sim::experiments::split_vote::SplitVote;
use plotters::prelude::*;

use crate::Options;
use crate::plot::{COLORS, Res, label_font, short, title_font, whole, with_footer};

/// (servers, down): from all up to a bare majority.
const CLUSTERS: [(usize, usize); 4] = [(5, 0), (5, 1), (5, 2), (9, 4)];

/// One-way latency as parts per million of the timeout range.
const LATENCIES_PPM: [u32; 8] = [
    25_000, 50_000, 100_000, 150_000, 200_000, 300_000, 400_000, 500_000,
];

pub fn split_vote(o: &Options) -> Res {
    let path = o.out.join("split_vote.svg");
    let root = SVGBackend::new(&path, (900, 600)).into_drawing_area();
    let plot = with_footer(
        &root,
        &[
            format!(
                "ballot, simulated (points): {} trials per point, seed {}; every timer started at 0, timeouts \
                 150–300 ms, fixed one-way latency δ, instantaneous disks, PreVote off.",
                o.split_trials, o.seed
            ),
            "Bars: 95 % interval (±1.96 binomial standard errors). Lines: the thesis' formula \
             Σ_{k=c−1..s} C(s,k) lᵏ(1−l)^(s−k), c = s − ⌊n/2⌋ + 1 (SplitVote::thesis_rate)."
                .to_string(),
            format!("made by: {}", o.command),
        ],
    )?;
    let mut chart = ChartBuilder::on(&plot)
        .caption(
            "Split votes in the first term: simulator vs the thesis' formula (§9.3)",
            title_font(),
        )
        .margin(14)
        .margin_right(34)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..0.52f64, 0f64..100f64)?;
    chart
        .configure_mesh()
        .x_desc("one-way latency δ ÷ election timeout range (150 ms)")
        .y_desc("first terms without a leader (%)")
        .x_label_formatter(&short)
        .y_label_formatter(&whole)
        .axis_desc_style(label_font())
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    let mut worst: f64 = 0.0;
    for (i, &(servers, down)) in CLUSTERS.iter().enumerate() {
        let color = COLORS[i];
        let formula = (0..=104).map(|k| {
            let ppm = k * 5_000;
            let e = SplitVote::new(servers, down, ppm);
            (f64::from(ppm) / 1e6, 100.0 * e.thesis_rate())
        });
        chart
            .draw_series(LineSeries::new(formula, color.stroke_width(2)))?
            .label(format!("{servers} servers, {down} down: formula"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(2))
            });
        let mut points = Vec::new();
        for &ppm in &LATENCIES_PPM {
            let e = SplitVote::new(servers, down, ppm).with_seed(o.seed ^ u64::from(ppm));
            let outcome = e.run(o.split_trials);
            let p = outcome.fraction();
            let half = 1.96 * outcome.variance_if(p).sqrt();
            let sigma = outcome.variance_if(e.thesis_rate()).sqrt();
            let z = (p - e.thesis_rate()) / sigma.max(1e-12);
            if z.abs() > 2.5 {
                println!(
                    "  split_vote {servers}/{down} at δ = {:.3} × range: {:.2} % vs formula {:.2} % ({z:+.1} σ)",
                    f64::from(ppm) / 1e6,
                    100.0 * p,
                    100.0 * e.thesis_rate()
                );
            }
            worst = worst.max(z.abs());
            points.push((f64::from(ppm) / 1e6, 100.0 * p, 100.0 * half));
        }
        chart.draw_series(points.iter().map(|&(x, y, h)| {
            ErrorBar::new_vertical(
                x,
                (y - h).max(0.0),
                y,
                (y + h).min(100.0),
                color.stroke_width(1),
                8,
            )
        }))?;
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&(x, y, _)| Circle::new((x, y), 4, color.filled())),
            )?
            .label(format!("{servers} servers, {down} down: simulator"))
            .legend(move |(x, y)| Circle::new((x + 11, y), 4, color.filled()));
    }
    println!("  split_vote: largest distance from the formula {worst:.1} σ");
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(label_font())
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.5))
        .draw()?;
    root.present()?;
    Ok(())
}
