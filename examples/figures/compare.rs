//! The side-by-side comparison's results (`docs/data/compare.csv`, written by the
//! comparison project under `benches/`): parsing, and the cost-ratio chart.
//!
//! Format (documented in `docs/figures/README.md`): a header line
//! `row,ballot,raft_rs,unit`, then one line per measured row, e.g.
//! `cold_start_5_prevote,1234.5,5678.9,us`. Blank lines and lines starting with `#`
//! are skipped. Values are positive numbers in `unit`, the same unit for both
//! sides of a row; the ratio drawn is `raft_rs / ballot`.

use std::error::Error;
use std::path::Path;

use plotters::prelude::*;

use crate::Options;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::plot::{Res, label_font, short, title_font, with_footer};

/// One measured row.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub name: String,
    pub ballot: f64,
    pub raft_rs: f64,
    pub unit: String,
}

impl Row {
    /// raft-rs ÷ ballot.
    pub fn ratio(&self) -> f64 {
        self.raft_rs / self.ballot
    }
}

/// The rows of `path`, or `None` if it does not exist.
pub fn load(path: &Path) -> Result<Option<Vec<Row>>, Box<dyn Error>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(
            parse(&text).map_err(|e| format!("{}: {e}", path.display()))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display()).into()),
    }
}

/// Parses the CSV; any malformed line is an error naming its line number.
pub fn parse(text: &str) -> Result<Vec<Row>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    match lines.next() {
        Some((_, "row,ballot,raft_rs,unit")) => {}
        Some((n, other)) => {
            return Err(format!(
                "line {n}: expected the header `row,ballot,raft_rs,unit`, found {other:?}"
            ));
        }
        None => return Err("empty file (expected the header `row,ballot,raft_rs,unit`)".into()),
    }
    let mut rows: Vec<Row> = Vec::new();
    for (n, line) in lines {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [name, ballot, raft_rs, unit] = fields[..] else {
            return Err(format!(
                "line {n}: expected 4 fields, found {}: {line:?}",
                fields.len()
            ));
        };
        let valid_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        if !valid_name {
            return Err(format!(
                "line {n}: bad row name {name:?} (letters, digits, _ - . only)"
            ));
        }
        let number = |s: &str| -> Result<f64, String> {
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or_else(|| format!("line {n}: {s:?} is not a positive number"))
        };
        if unit.is_empty() {
            return Err(format!("line {n}: empty unit"));
        }
        if rows.iter().any(|r| r.name == name) {
            return Err(format!("line {n}: row {name:?} appears twice"));
        }
        rows.push(Row {
            name: name.to_string(),
            ballot: number(ballot)?,
            raft_rs: number(raft_rs)?,
            unit: unit.to_string(),
        });
    }
    if rows.is_empty() {
        return Err("no rows after the header".into());
    }
    Ok(rows)
}

/// A time in `unit` as microseconds (`None` for a unit that is not a time).
pub fn micros(value: f64, unit: &str) -> Option<f64> {
    let scale = match unit {
        "ns" => 1e-3,
        "us" | "µs" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        _ => return None,
    };
    Some(value * scale)
}

/// The cold-start rows, `cold_start_<voters>_<variant>`, as
/// `(voters, variant, ballot µs, raft-rs µs)`, sorted by variant then voters.
/// Rows whose unit is not a time are left out.
pub fn cold_starts(rows: &[Row]) -> Vec<(usize, String, f64, f64)> {
    let mut out: Vec<(usize, String, f64, f64)> = rows
        .iter()
        .filter_map(|r| {
            let rest = r.name.strip_prefix("cold_start_")?;
            let (voters, variant) = rest.split_once('_').unwrap_or((rest, "default"));
            let voters: usize = voters.parse().ok()?;
            let b = micros(r.ballot, &r.unit)?;
            let f = micros(r.raft_rs, &r.unit)?;
            Some((voters, variant.to_string(), b, f))
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    out
}

/// `cost_ratio.svg`: one horizontal bar per row, raft-rs ÷ ballot on a log axis,
/// with the 1× (parity) and 10× lines.
pub fn cost_ratio(o: &Options, rows: &[Row]) -> Res {
    let path = o.out.join("cost_ratio.svg");
    let height = 150 + 30 * rows.len() as u32;
    let root = SVGBackend::new(&path, (960, height)).into_drawing_area();
    let plot = with_footer(
        &root,
        &[
            format!(
                "values: {} (written by the side-by-side comparison under benches/; see BENCHMARKS.md); \
                 bar = raft-rs ÷ ballot for the same work,",
                o.compare.display()
            ),
            "> 1 (blue) means ballot is cheaper, < 1 (red) raft-rs; black dashed line: parity; green dashed \
             line: 10×, issue 9's target for per-message paths."
                .to_string(),
            format!("made by: {}", o.command),
        ],
    )?;
    let ratios: Vec<f64> = rows.iter().map(Row::ratio).collect();
    let lo = ratios.iter().fold(0.5f64, |a, &b| a.min(b * 0.7));
    // Room right of the longest bar for its label (value and both costs).
    let hi = ratios.iter().fold(20.0f64, |a, &b| a.max(b * 30.0));
    let n = rows.len();
    let mut chart = ChartBuilder::on(&plot)
        .caption(
            "Cost per operation: raft-rs ÷ ballot (same run, same work)",
            title_font(),
        )
        .margin(14)
        .margin_right(34)
        .x_label_area_size(44)
        .y_label_area_size(250)
        .build_cartesian_2d((lo..hi).log_scale(), -0.6f64..n as f64 - 0.4)?;
    chart
        .configure_mesh()
        .x_desc("raft-rs cost ÷ ballot cost (×, log scale)")
        .axis_desc_style(label_font())
        .x_label_formatter(&short)
        .y_label_formatter(&|_| String::new())
        .light_line_style(WHITE.mix(0.0))
        .disable_y_mesh()
        .draw()?;
    let bar = RGBColor(31, 119, 180);
    chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
        let (a, b) = (1.0f64.min(r.ratio()), 1.0f64.max(r.ratio()));
        let color = if r.ratio() >= 1.0 {
            bar
        } else {
            RGBColor(214, 39, 40)
        };
        let y = (n - 1 - i) as f64; // the file's first row on top
        Rectangle::new([(a, y - 0.36), (b, y + 0.36)], color.mix(0.8).filled())
    }))?;
    chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
        let ratio = r.ratio();
        let shown = if ratio >= 10.0 {
            format!("{ratio:.1}")
        } else {
            format!("{ratio:.2}")
        };
        Text::new(
            format!(
                "{shown}×  ({} vs {} {})",
                fmt(r.raft_rs),
                fmt(r.ballot),
                r.unit
            ),
            (ratio.max(1.0) * 1.06, (n - 1 - i) as f64),
            label_font().pos(Pos::new(HPos::Left, VPos::Center)),
        )
    }))?;
    for (x, style) in [
        (1.0, BLACK.stroke_width(1)),
        (10.0, RGBColor(44, 160, 44).stroke_width(2)),
    ] {
        chart.draw_series(DashedLineSeries::new(
            vec![(x, -0.6), (x, n as f64 - 0.4)],
            6,
            4,
            style,
        ))?;
    }
    // Row names in the left label area, level with their bars.
    let name_style = label_font().pos(Pos::new(HPos::Right, VPos::Center));
    for (i, r) in rows.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(lo, (n - 1 - i) as f64));
        root.draw(&Text::new(r.name.clone(), (x - 8, y), name_style.clone()))?;
    }
    root.present()?;
    Ok(())
}

/// A value with up to 4 significant digits, no trailing zeros.
fn fmt(v: f64) -> String {
    let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_format() {
        let rows = parse(
            "row,ballot,raft_rs,unit\n\
             # comment\n\
             cold_start_5_prevote,1234.5,5678.9,us\n\n\
             bytes_per_node_5,240,2500,B\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].name, "cold_start_5_prevote");
        assert!((rows[0].ratio() - 5678.9 / 1234.5).abs() < 1e-12);
        assert_eq!(rows[1].unit, "B");
        let cold = cold_starts(&rows);
        assert_eq!(cold, vec![(5, "prevote".to_string(), 1234.5, 5678.9)]);
    }

    #[test]
    fn rejects_malformed_files_with_the_line_number() {
        let bad = [
            ("", "empty file"),
            ("row,ballot,unit\n", "line 1: expected the header"),
            ("row,ballot,raft_rs,unit\n", "no rows"),
            (
                "row,ballot,raft_rs,unit\na,1,2\n",
                "line 2: expected 4 fields",
            ),
            (
                "row,ballot,raft_rs,unit\na,1,-2,us\n",
                "line 2: \"-2\" is not a positive number",
            ),
            (
                "row,ballot,raft_rs,unit\na,0,2,us\n",
                "line 2: \"0\" is not a positive",
            ),
            ("row,ballot,raft_rs,unit\na,NaN,2,us\n", "not a positive"),
            ("row,ballot,raft_rs,unit\na b,1,2,us\n", "bad row name"),
            ("row,ballot,raft_rs,unit\na,1,2,\n", "empty unit"),
            (
                "row,ballot,raft_rs,unit\na,1,2,us\na,1,2,us\n",
                "line 3: row \"a\" appears twice",
            ),
        ];
        for (text, want) in bad {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn converts_time_units_and_skips_other_units() {
        assert_eq!(micros(1.5, "ms"), Some(1500.0));
        assert_eq!(micros(2000.0, "ns"), Some(2.0));
        assert_eq!(micros(1.0, "B"), None);
        let rows = parse(
            "row,ballot,raft_rs,unit\ncold_start_51_noprevote,2,4,ms\ncold_start_3_x,1,1,B\n",
        )
        .unwrap();
        assert_eq!(
            cold_starts(&rows),
            vec![(51, "noprevote".to_string(), 2000.0, 4000.0)]
        );
    }

    #[test]
    fn a_missing_file_is_none() {
        assert_eq!(load(Path::new("/nonexistent/compare.csv")).unwrap(), None);
    }
}
