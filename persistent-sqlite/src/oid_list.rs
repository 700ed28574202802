//! The oids a transaction wrote, as stored in its `"transaction"` row (schema version 3):
//! ascending, each written as its distance from the one before (the first from 0) as a
//! varint (`persistent_core::codec::varint`, seven bits a byte). 100,000 consecutive oids
//! take 100 KB; one oid a few bytes. The list replaces an index on `object_state (tid)`, which cost a B-tree entry per
//! revision (and a page per commit) to answer the two questions the list answers: what a
//! transaction wrote (`transactions`) and what changed after a tid (`changes_since`).

use persistent_core::codec::varint;
use persistent_core::{Error, Oid, StorageErrorKind};

/// The stored form of `oids` (any order; duplicates are kept once).
pub(crate) fn encode(oids: impl IntoIterator<Item = Oid>) -> Vec<u8> {
    let mut sorted: Vec<u64> = oids.into_iter().map(|oid| oid.0).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut bytes = Vec::with_capacity(sorted.len() * 2);
    let mut previous = 0u64;
    for oid in sorted {
        varint::write(&mut bytes, oid - previous);
        previous = oid;
    }
    bytes
}

/// The oids stored as `bytes`, ascending.
///
/// # Errors
/// `Error::Storage` of kind `Corrupt` when the bytes are not such a list.
pub(crate) fn decode(bytes: &[u8]) -> Result<Vec<Oid>, Error> {
    let corrupt = || {
        Error::storage(
            StorageErrorKind::Corrupt,
            "a transaction's list of written oids is damaged".to_string(),
        )
    };
    let mut oids = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    let mut previous = 0u64;
    while !rest.is_empty() {
        let delta = varint::read(&mut rest).ok_or_else(corrupt)?;
        // After the first oid every distance is at least 1 (ascending, no duplicates).
        if !oids.is_empty() && delta == 0 {
            return Err(corrupt());
        }
        previous = previous.checked_add(delta).ok_or_else(corrupt)?;
        oids.push(Oid(previous));
    }
    Ok(oids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_round_trip_ascending_and_distinct() {
        let oids = [Oid(5), Oid(0), Oid(u64::MAX), Oid(300), Oid(5), Oid(1 << 40)];
        let decoded = decode(&encode(oids)).unwrap();
        assert_eq!(decoded, [Oid(0), Oid(5), Oid(300), Oid(1 << 40), Oid(u64::MAX)]);
        assert_eq!(decode(&encode([])).unwrap(), []);
    }

    #[test]
    fn consecutive_oids_take_a_byte_each() {
        let bytes = encode((1..=100_000).map(Oid));
        assert_eq!(bytes.len(), 100_000);
        assert_eq!(decode(&bytes).unwrap().len(), 100_000);
    }

    #[test]
    fn damaged_lists_are_refused() {
        assert!(decode(&[0x80]).is_err(), "a cut number");
        assert!(decode(&[1, 0]).is_err(), "a repeated oid");
        assert!(decode(&[0xff; 11]).is_err(), "a number past 64 bits");
        let mut max = encode([Oid(u64::MAX)]);
        max.extend(encode([Oid(1)]));
        assert!(decode(&max).is_err(), "past the largest oid");
    }
}
