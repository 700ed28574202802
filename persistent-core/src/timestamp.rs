//! `TimeStamp`: ZODB's 8-byte transaction timestamp, bit-exact (SPEC.md section 5).
//! STUB: being implemented; signatures are final.

use crate::error::Result;

/// ZODB's transaction id / serial: 8 big-endian bytes, ordered as bytes.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize,
)]
pub struct TimeStamp([u8; 8]);

/// A transaction id is a timestamp.
pub type Tid = TimeStamp;

impl TimeStamp {
    /// All zero bytes: 1900-01-01 00:00:00, the serial of a never-stored object.
    pub const ZERO: TimeStamp = TimeStamp([0; 8]);

    /// The timestamp with these raw bytes.
    pub const fn from_raw(raw: [u8; 8]) -> TimeStamp {
        TimeStamp(raw)
    }

    /// The raw 8 bytes.
    pub const fn raw(&self) -> [u8; 8] {
        self.0
    }

    /// The timestamp as a big-endian u64 (same order as the bytes).
    pub const fn as_u64(&self) -> u64 {
        u64::from_be_bytes(self.0)
    }

    /// The timestamp whose big-endian u64 is `value`.
    pub const fn from_u64(value: u64) -> TimeStamp {
        TimeStamp(value.to_be_bytes())
    }

    /// From calendar fields (UTC); errors name the field out of range.
    pub fn new(
        year: u32,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: f64,
    ) -> Result<TimeStamp> {
        let _ = (year, month, day, hour, minute, second);
        todo!()
    }

    /// The current time.
    pub fn now() -> TimeStamp {
        todo!()
    }

    /// `self` if it is later than `other`, else the smallest timestamp after `other`.
    pub fn later_than(&self, other: TimeStamp) -> TimeStamp {
        if *self > other {
            *self
        } else {
            TimeStamp::from_u64(other.as_u64() + 1)
        }
    }

    /// Seconds since the Unix epoch.
    pub fn time_time(&self) -> f64 {
        todo!()
    }
}

impl std::fmt::Debug for TimeStamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TimeStamp({:016x})", self.as_u64())
    }
}
