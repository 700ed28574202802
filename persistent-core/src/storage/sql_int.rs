//! Oids and tids as signed 64-bit SQL integers (SQLite `INTEGER`, PostgreSQL `int8`), for
//! storages that keep them in SQL. Oids are stored bit for bit (an oid of
//! 2^63 or more becomes negative and comes back unchanged); tids must stay below
//! `i64::MAX` so that their order in SQL is their order as timestamps.

use crate::error::{Error, StorageErrorKind};
use crate::oid::Oid;
use crate::timestamp::{Tid, TimeStamp};

/// The SQL integer for `oid` (bit-for-bit).
#[allow(clippy::cast_possible_wrap, reason = "oids are stored bit for bit")]
#[must_use]
pub fn oid_to_sql(oid: Oid) -> i64 {
    oid.0 as i64
}

/// The oid stored as `value`.
#[allow(clippy::cast_sign_loss, reason = "oids are stored bit for bit")]
#[must_use]
pub fn oid_from_sql(value: i64) -> Oid {
    Oid(value as u64)
}

/// The SQL integer for a tid being written.
///
/// # Errors
/// `Error::Storage` of kind `Invalid` for a tid of `i64::MAX` or more.
pub fn tid_to_sql(tid: Tid) -> Result<i64, Error> {
    match i64::try_from(tid.as_u64()) {
        Ok(value) if value < i64::MAX => Ok(value),
        _ => Err(Error::storage(
            StorageErrorKind::Invalid,
            format!("tid {tid:?} is too large to store as a signed 64-bit SQL integer (must be below 2^63 - 1)"),
        )),
    }
}

/// The SQL integer to compare stored tids with `tid`: tids of `i64::MAX` or more are
/// clamped to `i64::MAX`, which no stored tid reaches, so `<` and `>` keep their meaning.
#[must_use]
pub fn tid_bound(tid: Tid) -> i64 {
    i64::try_from(tid.as_u64()).unwrap_or(i64::MAX)
}

/// The tid stored as `value`.
#[allow(
    clippy::cast_sign_loss,
    reason = "stored tids are written by `tid_to_sql`, so never negative"
)]
#[must_use]
pub fn tid_from_sql(value: i64) -> Tid {
    TimeStamp::from_u64(value as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_round_trip_bit_for_bit() {
        for value in [0, 1, 1 << 40, u64::MAX] {
            assert_eq!(oid_from_sql(oid_to_sql(Oid(value))), Oid(value));
        }
    }

    #[test]
    fn tids_below_the_limit_round_trip() {
        let tid = TimeStamp::from_u64(0x040d_4c10_8269_48a5);
        assert_eq!(tid_from_sql(tid_to_sql(tid).unwrap()), tid);
        assert!(tid_to_sql(TimeStamp::from_u64(i64::MAX as u64)).is_err());
        assert!(tid_to_sql(TimeStamp::from_u64(u64::MAX)).is_err());
        assert_eq!(tid_bound(TimeStamp::from_u64(u64::MAX)), i64::MAX);
    }
}
