//! The crate's own monotonic time type.
//!
//! `ballot` never reads a clock. The caller passes `now` into every call as an
//! [`Instant`]: a count of nanoseconds from an origin the caller chooses (process
//! start, simulation start, anything monotonic). Only differences between instants
//! matter, so every node may use its own origin.

use core::fmt;
use core::ops::{Add, AddAssign, Sub};
use core::time::Duration;

/// A point in monotonic time: nanoseconds since an origin chosen by the caller.
///
/// All arithmetic saturates, so no value of `now` can make `ballot` panic or wrap:
/// `Instant::MAX + Duration::from_secs(1) == Instant::MAX`.
///
/// **Usable range.** A node accepts a `now` up to (not including)
/// `Instant::MAX - election_timeout_max` — about 584 years from the origin, less one
/// election timeout — so that every deadline it arms stays below `Instant::MAX`. A
/// step with a later `now` is treated as a broken clock: it changes nothing, the
/// node does not remember that time, the step is counted in
/// [`Stats::clock_out_of_range`](crate::Stats::clock_out_of_range), and a command
/// in it is rejected with
/// [`CommandError::ClockOutOfRange`](crate::CommandError::ClockOutOfRange). (Before
/// this rule, one such reading wedged a node for good: every deadline saturated
/// at or below the clamped time.)
///
/// ```
/// use ballot::Instant;
/// use core::time::Duration;
/// let t = Instant::from_millis(150);
/// assert_eq!(t + Duration::from_millis(50), Instant::from_millis(200));
/// assert_eq!(Instant::from_millis(200) - t, Duration::from_millis(50));
/// assert_eq!(t - Instant::from_millis(200), Duration::ZERO); // saturates
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// The origin.
    pub const ZERO: Instant = Instant(0);
    /// The latest representable instant (about 584 years after the origin).
    pub const MAX: Instant = Instant(u64::MAX);

    /// An instant `nanos` nanoseconds after the origin.
    pub const fn from_nanos(nanos: u64) -> Self {
        Instant(nanos)
    }

    /// An instant `micros` microseconds after the origin (saturating).
    pub const fn from_micros(micros: u64) -> Self {
        Instant(micros.saturating_mul(1_000))
    }

    /// An instant `millis` milliseconds after the origin (saturating).
    pub const fn from_millis(millis: u64) -> Self {
        Instant(millis.saturating_mul(1_000_000))
    }

    /// An instant `secs` seconds after the origin (saturating).
    pub const fn from_secs(secs: u64) -> Self {
        Instant(secs.saturating_mul(1_000_000_000))
    }

    /// Nanoseconds since the origin.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// The time elapsed since `earlier`, or zero if `earlier` is later than `self`.
    pub const fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, or `None` if that is past [`Instant::MAX`].
    pub fn checked_add(self, d: Duration) -> Option<Instant> {
        let nanos = u64::try_from(d.as_nanos()).ok()?;
        self.0.checked_add(nanos).map(Instant)
    }

    /// `self + d`, clamped to [`Instant::MAX`].
    pub fn saturating_add(self, d: Duration) -> Instant {
        self.checked_add(d).unwrap_or(Instant::MAX)
    }

    /// `self - d`, clamped to [`Instant::ZERO`].
    pub fn saturating_sub(self, d: Duration) -> Instant {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_sub(nanos))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        self.saturating_add(d)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = self.saturating_add(d);
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, d: Duration) -> Instant {
        self.saturating_sub(d)
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Instant {
    /// Milliseconds with microsecond precision, e.g. `1500.250ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let micros = self.0 / 1_000;
        write!(f, "{}.{:03}ms", micros / 1_000, micros % 1_000)
    }
}

/// A duration as whole nanoseconds, saturating at `u64::MAX` (584 years).
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
