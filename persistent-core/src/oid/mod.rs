//! `Oid`: the object id a storage assigns, and its ZODB-style display (`oid_repr`).

pub(crate) mod hash;

use std::fmt;

/// An object id, assigned by a storage and stable across processes.
///
/// `Oid::ROOT` (0) is reserved for the database root object.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Oid(pub u64);

impl Oid {
    /// The root object's oid.
    pub const ROOT: Oid = Oid(0);

    /// The oid of the database's registry of record schemas (docs/spec.md §7.2), reserved:
    /// storages allocate oids counting up from 1 and never reach it.
    pub const SCHEMAS: Oid = Oid(i64::MAX as u64);

    /// The 8 big-endian bytes ZODB uses for this oid.
    #[must_use]
    pub fn to_bytes(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }

    /// The oid whose 8 big-endian bytes are `bytes`.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 8]) -> Oid {
        Oid(u64::from_be_bytes(bytes))
    }
}

/// Displays as ZODB's `oid_repr`: `0x` then the lowercase hex digits without leading zeros,
/// with one `0` added in front when there are fewer than 8 digits and their count is odd
/// (`0x00`, `0x01`, `0x0a`, `0x0100`, `0xbc614e`, `0x10000000`, `0x100000000`).
impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = format!("{:x}", self.0);
        if digits.len() < 8 && digits.len() % 2 == 1 {
            write!(f, "0x0{digits}")
        } else {
            write!(f, "0x{digits}")
        }
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::Oid;

    #[test]
    fn display_follows_oid_repr() {
        let cases: [(u64, &str); 9] = [
            (0, "0x00"),
            (1, "0x01"),
            (10, "0x0a"),
            (0x100, "0x0100"),
            (0x123, "0x0123"),
            (12_345_678, "0xbc614e"),
            (0x1000_0000, "0x10000000"),
            (0x1_0000_0000, "0x100000000"),
            (0x8000_0000_0000_0000, "0x8000000000000000"),
        ];
        for (value, shown) in cases {
            assert_eq!(Oid(value).to_string(), shown, "oid {value}");
        }
    }

    #[test]
    fn bytes_round_trip_big_endian() {
        let oid = Oid(0x0102_0304_0506_0708);
        assert_eq!(oid.to_bytes(), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(Oid::from_bytes(oid.to_bytes()), oid);
    }
}
