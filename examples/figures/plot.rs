//! Shared pieces: colours, fonts, the provenance footer, CDF thinning.

use std::time::Duration;

use plotters::coord::Shift;
use plotters::prelude::*;

/// A drawing area of the SVG backend.
pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Result of a drawing function.
pub type Res = Result<(), Box<dyn std::error::Error>>;

/// Colours for up to nine series, distinguishable and printable.
pub const COLORS: [RGBColor; 9] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
    RGBColor(127, 127, 127),
];

/// The font of titles.
pub fn title_font() -> TextStyle<'static> {
    ("sans-serif", 17).into_font().into()
}

/// The font of axis descriptions and legends.
pub fn label_font() -> TextStyle<'static> {
    ("sans-serif", 13).into_font().into()
}

/// Milliseconds as a float.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Splits `root` into the plot area and a footer strip with `lines` (the
/// command, seed and trial counts that made the figure).
pub fn with_footer<'a>(
    root: &Area<'a>,
    lines: &[String],
) -> Result<Area<'a>, Box<dyn std::error::Error>> {
    root.fill(&WHITE)?;
    let h = root.dim_in_pixel().1;
    let footer = 8 + 16 * lines.len() as u32;
    let (plot, foot) = root.split_vertically(h.saturating_sub(footer));
    let style: TextStyle = ("sans-serif", 11).into_font().color(&RGBColor(60, 60, 60));
    for (i, line) in lines.iter().enumerate() {
        foot.draw(&Text::new(
            line.clone(),
            (8, 4 + 16 * i as i32),
            style.clone(),
        ))?;
    }
    Ok(plot)
}

/// Points of the empirical CDF of `sorted` (ascending) at the Hazen positions
/// `(i + 0.5) / n` (0-based `i`; the paper's data file's convention), thinned to
/// at most a few hundred: 200 evenly spaced in probability, plus a logarithmic
/// grid in the upper tail (down to one in 10⁴) so that a tail plot keeps its
/// shape. Always includes the first and the last value.
pub fn cdf_points(sorted: &[f64]) -> Vec<(f64, f64)> {
    let n = sorted.len();
    if n == 0 {
        return Vec::new();
    }
    let mut idx: Vec<usize> = (0..=200).map(|j| j * (n - 1) / 200).collect();
    // Tail: 1 - p = 10^(-t), t in (0, 4] by 0.05.
    for k in 1..=80 {
        let tail = 10f64.powf(-(k as f64) * 0.05);
        let i = ((1.0 - tail) * n as f64).floor() as usize;
        idx.push(i.min(n - 1));
    }
    idx.sort_unstable();
    idx.dedup();
    idx.into_iter()
        .map(|i| (sorted[i], (i as f64 + 0.5) / n as f64))
        .collect()
}

/// An axis value without decimals (`1000`, not `1000.0`).
pub fn whole(v: &f64) -> String {
    format!("{v:.0}")
}

/// An axis value with up to two decimals, trailing zeros dropped.
pub fn short(v: &f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Rounds `x` up to a multiple of `step`.
pub fn round_up(x: f64, step: f64) -> f64 {
    (x / step).ceil() * step
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_points_are_thinned_sorted_and_keep_the_ends() {
        let sorted: Vec<f64> = (0..10_000).map(f64::from).collect();
        let pts = cdf_points(&sorted);
        assert!(pts.len() <= 281 && pts.len() > 200, "{}", pts.len());
        assert_eq!(pts[0], (0.0, 0.5 / 10_000.0));
        assert_eq!(*pts.last().unwrap(), (9_999.0, 9_999.5 / 10_000.0));
        assert!(pts.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1));
        // The tail grid reaches the 99.99th percentile region.
        assert!(pts.iter().any(|&(_, p)| p > 0.9998 && p < 0.99995));
        // Small samples: every point, once.
        assert_eq!(cdf_points(&[1.0, 2.0, 3.0]).len(), 3);
        assert!(cdf_points(&[]).is_empty());
    }
}
