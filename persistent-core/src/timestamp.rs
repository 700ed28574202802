//! `TimeStamp`: ZODB's 8-byte transaction timestamp, bit-exact (docs/spec.md §5): the
//! encoding of calendar fields, validation, `now`, `later_than`, `time_time` and display.
//! The calendar arithmetic lives in `timestamp/calendar.rs`.

mod calendar;

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// Minutes in the 31-day "month" the encoding uses for every month.
const MINUTES_PER_DAY: u32 = 24 * 60;
const MINUTES_PER_MONTH: u32 = 31 * MINUTES_PER_DAY;
const MINUTES_PER_YEAR: u32 = 12 * MINUTES_PER_MONTH;
/// 2^32, the scale of the low half: one unit is 60 / 2^32 seconds.
const LOW_SCALE: f64 = 4_294_967_296.0;

/// ZODB's transaction id / serial: 8 big-endian bytes, ordered as bytes.
///
/// The high u32 counts minutes since 1900-01-01 00:00 with every month counted as 31 days;
/// the low u32 is the second within that minute in units of 60 / 2^32 s.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize,
)]
pub struct TimeStamp([u8; 8]);

/// A transaction id is a timestamp.
pub type Tid = TimeStamp;

impl TimeStamp {
    /// All zero bytes: 1900-01-01 00:00:00, the serial of a never-stored object.
    pub const ZERO: TimeStamp = TimeStamp([0; 8]);

    /// The greatest timestamp (all bytes 0xff): `load_before(oid, TimeStamp::MAX)` reads the
    /// current revision.
    pub const MAX: TimeStamp = TimeStamp([0xff; 8]);

    /// The timestamp with these raw bytes.
    #[must_use]
    pub const fn from_raw(raw: [u8; 8]) -> TimeStamp {
        TimeStamp(raw)
    }

    /// The timestamp with these raw bytes; `Error::InvalidTimeStamp` naming "raw" unless
    /// there are exactly 8 of them.
    ///
    /// # Errors
    ///
    /// `Error::InvalidTimeStamp` (field "raw") unless `bytes` has exactly 8 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<TimeStamp> {
        let raw: [u8; 8] = bytes.try_into().map_err(|_| Error::InvalidTimeStamp {
            field: "raw",
            value: format!("{} bytes (need exactly 8)", bytes.len()),
        })?;
        Ok(TimeStamp(raw))
    }

    /// The raw 8 bytes.
    #[must_use]
    pub const fn raw(&self) -> [u8; 8] {
        self.0
    }

    /// The timestamp as a big-endian u64 (same order as the bytes).
    #[must_use]
    pub const fn as_u64(&self) -> u64 {
        u64::from_be_bytes(self.0)
    }

    /// The timestamp whose big-endian u64 is `value`.
    #[must_use]
    pub const fn from_u64(value: u64) -> TimeStamp {
        TimeStamp(value.to_be_bytes())
    }

    /// From calendar fields (UTC). Errors (`Error::InvalidTimeStamp`) name the field out of
    /// range: year below 1900 or too large for the encoding (past 9917), month outside
    /// 1..=12, day outside the real month (Gregorian leap years), hour above 23, minute
    /// above 59, second negative, NaN or not below 60.
    ///
    /// # Errors
    ///
    /// `Error::InvalidTimeStamp` naming the first field out of range, as listed above.
    pub fn new(
        year: u32,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: f64,
    ) -> Result<TimeStamp> {
        let invalid = |field: &'static str, value: String| Error::InvalidTimeStamp { field, value };
        if year < 1900 {
            return Err(invalid("year", year.to_string()));
        }
        if !(1..=12).contains(&month) {
            return Err(invalid("month", month.to_string()));
        }
        if day < 1 || day > calendar::month_len(i64::from(year), month) {
            return Err(invalid("day", day.to_string()));
        }
        if hour > 23 {
            return Err(invalid("hour", hour.to_string()));
        }
        if minute > 59 {
            return Err(invalid("minute", minute.to_string()));
        }
        if second.is_nan() || !(0.0..60.0).contains(&second) {
            return Err(invalid("second", second.to_string()));
        }
        let high = minutes_since_1900(year, month, day, hour, minute)
            .ok_or_else(|| invalid("year", year.to_string()))?;
        Ok(TimeStamp::from_halves(high, low_from_second(second)))
    }

    /// The current time (UTC, from the system clock). A clock set before 1900 gives
    /// `TimeStamp::ZERO`.
    #[must_use]
    pub fn now() -> TimeStamp {
        TimeStamp::from_system_time(SystemTime::now())
    }

    /// The timestamp of a system time (UTC): for example the moment to open a historical
    /// connection at (`Database::connect_at_time`). A time before 1900 gives
    /// `TimeStamp::ZERO`, one past the largest representable minute `TimeStamp::MAX`.
    #[must_use]
    #[allow(
        clippy::cast_possible_wrap,
        reason = "seconds from the system clock are far below 2^63"
    )]
    pub fn from_system_time(time: SystemTime) -> TimeStamp {
        let (secs, nanos) = match time.duration_since(UNIX_EPOCH) {
            Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
            Err(e) => {
                let d = e.duration();
                let secs = -(d.as_secs() as i64);
                match d.subsec_nanos() {
                    0 => (secs, 0),
                    n => (secs - 1, 1_000_000_000 - n),
                }
            }
        };
        TimeStamp::from_unix(secs, nanos).unwrap_or(if secs < 0 {
            TimeStamp::ZERO
        } else {
            TimeStamp::MAX
        })
    }

    /// The timestamp `secs` seconds plus `nanos` nanoseconds after the Unix epoch, if it is
    /// representable.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "`rem_euclid(86_400)` is in 0..86_400"
    )]
    pub(crate) fn from_unix(secs: i64, nanos: u32) -> Option<TimeStamp> {
        let days = secs.div_euclid(86_400);
        let in_day = secs.rem_euclid(86_400) as u32;
        let (year, month, day) = calendar::civil_from_days(days);
        let year = u32::try_from(year).ok()?;
        let second = f64::from(in_day % 60) + f64::from(nanos) / 1e9;
        TimeStamp::new(year, month, day, in_day / 3600, in_day / 60 % 60, second).ok()
    }

    /// `self` if it is later than `other`, else the smallest timestamp after `other`: one
    /// unit more in the low half, or, when the low half is all ones, the start of the next
    /// minute (carrying into hour, day by the real month length, month and year). At the
    /// largest representable minute there is nothing later and `other` is returned as is.
    #[must_use]
    pub fn later_than(&self, other: TimeStamp) -> TimeStamp {
        if *self > other {
            return *self;
        }
        let (high, low) = other.halves();
        if low < u32::MAX {
            return TimeStamp::from_halves(high, low + 1);
        }
        other.next_minute().unwrap_or(other)
    }

    /// The start (second 0) of the minute after this one, by the real calendar.
    fn next_minute(self) -> Option<TimeStamp> {
        let (mut year, mut month, mut day) = (self.year(), self.month(), self.day());
        let (mut hour, mut minute) = (self.hour(), self.minute() + 1);
        if minute == 60 {
            minute = 0;
            hour += 1;
        }
        if hour == 24 {
            hour = 0;
            day += 1;
        }
        if day > calendar::month_len(i64::from(year), month) {
            day = 1;
            month += 1;
        }
        if month == 13 {
            month = 1;
            year += 1;
        }
        let high = minutes_since_1900(year, month, day, hour, minute)?;
        Some(TimeStamp::from_halves(high, 0))
    }

    /// Seconds since the Unix epoch (UTC, real calendar), negative before 1970.
    #[must_use]
    #[allow(
        clippy::cast_precision_loss,
        reason = "seconds since 1970 as a float, as Python's timeTime()"
    )]
    pub fn time_time(&self) -> f64 {
        let days = calendar::days_from_civil(i64::from(self.year()), self.month(), self.day());
        let whole = days * 86_400 + i64::from(self.hour()) * 3600 + i64::from(self.minute()) * 60;
        whole as f64 + self.second()
    }

    /// The year (1900 and later).
    #[must_use]
    pub fn year(&self) -> u32 {
        self.halves().0 / MINUTES_PER_YEAR + 1900
    }

    /// The month, 1..=12.
    #[must_use]
    pub fn month(&self) -> u32 {
        self.halves().0 / MINUTES_PER_MONTH % 12 + 1
    }

    /// The day of the month, 1..=31 (raw bytes may encode a day past the real month end).
    #[must_use]
    pub fn day(&self) -> u32 {
        self.halves().0 / MINUTES_PER_DAY % 31 + 1
    }

    /// The hour, 0..=23.
    #[must_use]
    pub fn hour(&self) -> u32 {
        self.halves().0 / 60 % 24
    }

    /// The minute, 0..=59.
    #[must_use]
    pub fn minute(&self) -> u32 {
        self.halves().0 % 60
    }

    /// The second within the minute, `low * 60 / 2^32` (not rounded), in 0.0..60.0.
    #[must_use]
    pub fn second(&self) -> f64 {
        f64::from(self.halves().1) * 60.0 / LOW_SCALE
    }

    /// The high (minutes) and low (fraction of a minute) halves.
    #[allow(
        clippy::cast_possible_truncation,
        reason = "deliberately split into the high and low 32 bits"
    )]
    fn halves(self) -> (u32, u32) {
        let value = self.as_u64();
        ((value >> 32) as u32, value as u32)
    }

    fn from_halves(high: u32, low: u32) -> TimeStamp {
        TimeStamp::from_u64((u64::from(high) << 32) | u64::from(low))
    }
}

/// The high half for valid fields, or `None` when the year is too large for 32 bits.
fn minutes_since_1900(year: u32, month: u32, day: u32, hour: u32, minute: u32) -> Option<u32> {
    let months = u64::from(year - 1900) * 12 + u64::from(month - 1);
    let days = months * 31 + u64::from(day - 1);
    let minutes = (days * 24 + u64::from(hour)) * 60 + u64::from(minute);
    u32::try_from(minutes).ok()
}

/// `trunc(second * 2^32 / 60)` for 0 <= second < 60, kept within the low half.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "`units` is checked to be in 0..u32::MAX first"
)]
fn low_from_second(second: f64) -> u32 {
    let units = (second * LOW_SCALE / 60.0).trunc();
    if units >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        units as u32
    }
}

/// Formats as `%04d-%02d-%02d %02d:%02d:%09.6f`, e.g. `2008-12-22 15:20:48.300000`.
impl fmt::Display for TimeStamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:09.6}",
            self.year(),
            self.month(),
            self.day(),
            self.hour(),
            self.minute(),
            self.second()
        )
    }
}

/// Formats as `TimeStamp(<display form>, <16 lowercase hex digits of the raw bytes>)`, e.g.
/// `TimeStamp(2008-12-22 15:20:48.300000, 037abdd8ce147add)`.
impl fmt::Debug for TimeStamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeStamp({self}, {:016x})", self.as_u64())
    }
}

#[cfg(test)]
mod tests;
