//! Summary statistics of a sample of durations, and the two-sample
//! Kolmogorov–Smirnov distance.
//!
//! Quantiles are computed with integer arithmetic on nanoseconds, so the same
//! sample gives the same numbers on every machine.

use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use super::super::options::{Nanos, nanos};

/// Parts per million: `p` of a quantile is given as `p_ppm / 1_000_000`.
const PPM: u64 = 1_000_000;

/// The quantile `p_ppm / 10⁶` of `sorted` (ascending), interpolated linearly
/// between order statistics placed at the cumulative fractions `(i - 0.5) / n`
/// (Hazen's plotting positions; R's type 5). That is the convention of the
/// Figure 16 data file, so the paper's quantiles and ours are computed alike. The
/// median of an even-sized sample is the mean of the two middle values. `None` for
/// an empty sample.
pub fn quantile(sorted: &[Duration], p_ppm: u32) -> Option<Duration> {
    let n = sorted.len() as u64;
    if n == 0 {
        return None;
    }
    let p = u64::from(p_ppm).min(PPM);
    // Position h = n·p + 1/2 (1-based), in millionths.
    let h = u128::from(n) * u128::from(p) + u128::from(PPM / 2);
    let whole = (h / u128::from(PPM)) as u64;
    let frac = (h % u128::from(PPM)) as u64;
    if whole == 0 {
        return Some(sorted[0]);
    }
    if whole >= n {
        return Some(sorted[(n - 1) as usize]);
    }
    let lo = nanos(sorted[(whole - 1) as usize]);
    let hi = nanos(sorted[whole as usize]);
    let extra = (u128::from(hi.saturating_sub(lo)) * u128::from(frac) / u128::from(PPM)) as u64;
    Some(Duration::from_nanos(lo + extra))
}

/// A sample's size, mean and quantiles.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Summary {
    /// Number of values.
    pub count: usize,
    /// The smallest value.
    pub min: Duration,
    /// The median (see [`quantile`]).
    pub median: Duration,
    /// The arithmetic mean, rounded down to the nanosecond.
    pub mean: Duration,
    /// The 90th percentile.
    pub p90: Duration,
    /// The 99th percentile.
    pub p99: Duration,
    /// The largest value.
    pub max: Duration,
}

impl Summary {
    /// Summarises `values` (in any order). `None` if it is empty.
    pub fn of(values: &[Duration]) -> Option<Summary> {
        let mut sorted: Vec<Duration> = values.to_vec();
        sorted.sort_unstable();
        Summary::of_sorted(&sorted)
    }

    /// Summarises `sorted`, which must be in ascending order. `None` if it is empty.
    pub fn of_sorted(sorted: &[Duration]) -> Option<Summary> {
        let (&min, &max) = (sorted.first()?, sorted.last()?);
        let sum: u128 = sorted.iter().map(|&d| u128::from(nanos(d))).sum();
        let mean = (sum / sorted.len() as u128) as u64;
        Some(Summary {
            count: sorted.len(),
            min,
            median: quantile(sorted, 500_000)?,
            mean: Duration::from_nanos(mean),
            p90: quantile(sorted, 900_000)?,
            p99: quantile(sorted, 990_000)?,
            max,
        })
    }
}

impl fmt::Display for Summary {
    /// `n 1000: min .. median .. mean .. p90 .. p99 .. max ..`, in milliseconds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "n {}: min {}, median {}, mean {}, p90 {}, p99 {}, max {}",
            self.count,
            Nanos(nanos(self.min)),
            Nanos(nanos(self.median)),
            Nanos(nanos(self.mean)),
            Nanos(nanos(self.p90)),
            Nanos(nanos(self.p99)),
            Nanos(nanos(self.max)),
        )
    }
}

/// The two-sample Kolmogorov–Smirnov statistic: the largest vertical distance
/// between the empirical distribution functions of `a` and `b` (both sorted
/// ascending), in `[0, 1]`. `0.0` if either sample is empty.
///
/// At significance level α the two samples are judged different when the
/// statistic exceeds `c(α) · sqrt((n + m) / (n · m))`, with `c(0.05) ≈ 1.358` and
/// `c(0.01) ≈ 1.628` (see [`ks_critical_squared`] for the squared bound, which
/// needs no square root).
pub fn ks_distance(a: &[Duration], b: &[Duration]) -> f64 {
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 {
        return 0.0;
    }
    let (mut i, mut j) = (0, 0);
    // The distance |i/n - j/m| as an exact fraction |i·m - j·n| / (n·m).
    let mut best: u128 = 0;
    while i < n && j < m {
        let x = a[i].min(b[j]);
        while i < n && a[i] == x {
            i += 1;
        }
        while j < m && b[j] == x {
            j += 1;
        }
        let d = (i as u128 * m as u128).abs_diff(j as u128 * n as u128);
        best = best.max(d);
    }
    best as f64 / (n as f64 * m as f64)
}

/// The square of the two-sample KS critical value for sample sizes `n` and `m` at
/// the level whose coefficient is `c` (1.358 for 5 %, 1.628 for 1 %):
/// `c² · (n + m) / (n · m)`. Compare it with the square of [`ks_distance`].
pub fn ks_critical_squared(c: f64, n: usize, m: usize) -> f64 {
    if n == 0 || m == 0 {
        return f64::INFINITY;
    }
    c * c * (n + m) as f64 / (n as f64 * m as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&x| Duration::from_millis(x)).collect()
    }

    #[test]
    fn quantiles_follow_hazen_positions() {
        let s = ms(&[10, 20, 30, 40]);
        // Median of an even sample: the mean of the two middle values.
        assert_eq!(quantile(&s, 500_000), Some(Duration::from_millis(25)));
        // Below the first plotting position (0.125) and above the last (0.875).
        assert_eq!(quantile(&s, 100_000), Some(Duration::from_millis(10)));
        assert_eq!(quantile(&s, 990_000), Some(Duration::from_millis(40)));
        // p = 0.25: h = 1.5, halfway between the first and the second value.
        assert_eq!(quantile(&s, 250_000), Some(Duration::from_millis(15)));
        assert_eq!(quantile(&[], 500_000), None);
    }

    #[test]
    fn summary_of_an_odd_sample() {
        let s = Summary::of(&ms(&[5, 1, 3])).unwrap();
        assert_eq!(s.count, 3);
        assert_eq!(s.min, Duration::from_millis(1));
        assert_eq!(s.median, Duration::from_millis(3));
        assert_eq!(s.mean, Duration::from_millis(3));
        assert_eq!(s.max, Duration::from_millis(5));
        assert_eq!(Summary::of(&[]), None);
    }

    #[test]
    fn ks_distance_of_identical_disjoint_and_shifted_samples() {
        let a = ms(&[1, 2, 3, 4]);
        assert_eq!(ks_distance(&a, &a), 0.0);
        assert_eq!(ks_distance(&a, &ms(&[10, 11])), 1.0);
        // {1,2,3,4} vs {3,4,5,6}: at x = 2, F_a = 0.5 and F_b = 0.
        assert_eq!(ks_distance(&a, &ms(&[3, 4, 5, 6])), 0.5);
        // Ties across samples are stepped over together.
        assert_eq!(ks_distance(&ms(&[1, 2]), &ms(&[2, 2])), 0.5);
    }

    #[test]
    fn ks_critical_value_shrinks_with_sample_size() {
        let small = ks_critical_squared(1.358, 100, 100);
        let large = ks_critical_squared(1.358, 1000, 1000);
        assert!(small > large && large > 0.0);
        assert!((large - 1.358f64 * 1.358 * 0.002).abs() < 1e-12);
    }
}
