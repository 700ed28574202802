//! The record envelope stored for each object revision, around the encoded state. What does
//! not live here: the state's own encoding (`fields.rs`) and how a storage keeps records.
//!
//! Format 2 (written):
//! ```text
//! [2] [varint n][n bytes: type name, UTF-8] [varint: schema id, 0 = none]
//! [varint k][k varints: the oids the state references] [state bytes]
//! [4 bytes: CRC-32C of everything before them, little endian]
//! ```
//! The CRC-32C, last so that it is computed over one contiguous run, covers every other byte: a damaged record is
//! `Error::CorruptRecord`, never a wrong value. The reference list can be read without
//! decoding the state (for garbage collection and integrity checks).
//!
//! Format 1 (read only, what the first release wrote): `[1] [varint n][type name] [state]`,
//! no references, no checksum.

use super::varint;
use crate::error::{Error, Result};
use crate::oid::Oid;

/// The envelope format this version writes.
pub const FORMAT_VERSION: u8 = 2;

/// The first format, still read.
const FORMAT_1: u8 = 1;

/// One record, split into its parts (borrowing the record's bytes).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Record<'a> {
    /// The envelope format (1 or 2).
    pub(crate) format: u8,
    /// The stored type name.
    pub(crate) type_name: &'a str,
    /// The schema identity (0: none; format 1 has none).
    pub(crate) schema: u64,
    /// The encoded references (`reference_count` varints).
    references: &'a [u8],
    reference_count: usize,
    /// The encoded state.
    pub(crate) state: &'a [u8],
}

impl Record<'_> {
    /// The oids the state references, in the order they were listed.
    pub(crate) fn references(&self) -> Vec<Oid> {
        let mut input = self.references;
        (0..self.reference_count).map_while(|_| varint::read(&mut input).map(Oid)).collect()
    }
}

/// What a stored record's header says, read without decoding its state.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordInfo {
    /// The envelope format: 1 (the first release) or 2.
    pub format: u8,
    /// The stored type name.
    pub type_name: String,
    /// The number of the schema the state was written under in its database (0: none).
    pub schema: u64,
    /// The oids the state references (none listed in format 1).
    pub references: Vec<Oid>,
    /// The length of the encoded state.
    pub state_len: usize,
}

/// The header of a stored record of `oid`, after checking its checksum.
///
/// # Errors
/// `Error::CorruptRecord` naming `oid` for a damaged or unknown record.
pub fn record_info(oid: Oid, record: &[u8]) -> Result<RecordInfo> {
    let found = decode_record(oid, record)?;
    Ok(RecordInfo {
        format: found.format,
        type_name: found.type_name.to_string(),
        schema: found.schema,
        references: found.references(),
        state_len: found.state.len(),
    })
}

/// The oids a stored record references, read from its header without decoding the state
/// (a format-1 record lists none), after checking the record's checksum.
///
/// # Errors
/// `Error::CorruptRecord` naming `oid` for a damaged or unknown record.
pub fn references_of(oid: Oid, record: &[u8]) -> Result<Vec<Oid>> {
    decode_record(oid, record).map(|found| found.references())
}

/// The encoded state a stored record of `oid` holds (format 1 or 2), after checking the
/// record's checksum: the bytes the type's `decode_state` or a schema's fields read. For
/// tools that show a record without its Rust type (the `persistent` command-line tool).
///
/// # Errors
/// `Error::CorruptRecord` naming `oid` for a damaged or unknown record.
pub fn state_of(oid: Oid, record: &[u8]) -> Result<&[u8]> {
    decode_record(oid, record).map(|found| found.state)
}

/// Builds a format-2 record of `type_name` written under schema number `schema` (0: none)
/// with `state`, listing `references` (sorted and without repeats by the caller, or as they
/// come: the list is kept as given).
pub(crate) fn encode_record(
    type_name: &str,
    schema: u64,
    references: &[Oid],
    state: &[u8],
) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(1 + 2 + type_name.len() + 2 + 3 * references.len() + 4 + state.len());
    out.push(FORMAT_VERSION);
    varint::write(&mut out, type_name.len() as u64);
    out.extend_from_slice(type_name.as_bytes());
    varint::write(&mut out, schema);
    varint::write(&mut out, references.len() as u64);
    for oid in references {
        varint::write(&mut out, oid.0);
    }
    out.extend_from_slice(state);
    let checksum = crc32c::crc32c(&out);
    out.extend_from_slice(&checksum.to_le_bytes());
    out
}

/// Splits a record of `oid` into its parts. An unknown version, a truncated header or (in
/// format 2) a checksum that does not match is `Error::CorruptRecord` naming the oid.
pub(crate) fn decode_record(oid: Oid, record: &[u8]) -> Result<Record<'_>> {
    let corrupt = |message: &str| Error::CorruptRecord { oid, message: message.to_string() };
    let (&version, mut rest) = record.split_first().ok_or_else(|| corrupt("empty record"))?;
    if version != FORMAT_VERSION && version != FORMAT_1 {
        return Err(corrupt(&format!(
            "format version {version} is not supported (this build reads 1 and {FORMAT_VERSION})"
        )));
    }
    let length = read_length(&mut rest).ok_or_else(|| corrupt("truncated header"))?;
    if rest.len() < length {
        return Err(corrupt("truncated type name"));
    }
    let (name, rest) = rest.split_at(length);
    if version == FORMAT_1 {
        let type_name = std::str::from_utf8(name).map_err(|_| corrupt("type name is not UTF-8"))?;
        return Ok(Record {
            format: FORMAT_1,
            type_name,
            schema: 0,
            references: &[],
            reference_count: 0,
            state: rest,
        });
    }
    // The checksum first: nothing of a damaged record is read.
    let Some(checked) = record.len().checked_sub(4) else {
        return Err(corrupt("truncated checksum"));
    };
    let (body, stored) = record.split_at(checked);
    let stored = u32::from_le_bytes([stored[0], stored[1], stored[2], stored[3]]);
    if stored != crc32c::crc32c(body) {
        return Err(corrupt("checksum mismatch: the stored bytes are damaged"));
    }
    if rest.len() < 4 {
        return Err(corrupt("truncated checksum"));
    }
    let mut rest = &rest[..rest.len() - 4];
    let schema = varint::read(&mut rest).ok_or_else(|| corrupt("truncated header"))?;
    let reference_count = read_length(&mut rest).ok_or_else(|| corrupt("truncated header"))?;
    let references_start = rest;
    for _ in 0..reference_count {
        varint::read(&mut rest).ok_or_else(|| corrupt("truncated reference list"))?;
    }
    let references = &references_start[..references_start.len() - rest.len()];
    let state = rest;
    let type_name = std::str::from_utf8(name).map_err(|_| corrupt("type name is not UTF-8"))?;
    Ok(Record { format: FORMAT_VERSION, type_name, schema, references, reference_count, state })
}

/// A varint that must fit a length (below 2^32).
fn read_length(input: &mut &[u8]) -> Option<usize> {
    varint::read(input).filter(|&n| n < 1 << 32).and_then(|n| usize::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_2_round_trips_with_references() {
        let record = encode_record("app::Account", 0, &[Oid(3), Oid(300)], &[1, 2, 3]);
        let decoded = decode_record(Oid(1), &record).unwrap();
        assert_eq!(decoded.type_name, "app::Account");
        assert_eq!(decoded.state, [1, 2, 3]);
        assert_eq!(decoded.references(), [Oid(3), Oid(300)]);
        assert_eq!(decoded.schema, 0);
    }

    #[test]
    fn a_record_without_references_costs_six_bytes_more_than_format_1() {
        let record = encode_record("app::Row", 0, &[], &[9; 20]);
        assert_eq!(record.len(), 1 + 1 + "app::Row".len() + 20 + 6);
    }

    #[test]
    fn the_state_is_what_was_encoded() {
        let record = encode_record("app::Account", 3, &[Oid(3), Oid(300)], &[1, 2, 3]);
        assert_eq!(state_of(Oid(1), &record).unwrap(), [1, 2, 3]);
        let mut bad = record.clone();
        bad[2] ^= 1;
        assert!(matches!(state_of(Oid(1), &bad), Err(Error::CorruptRecord { .. })));
    }

    #[test]
    fn format_1_is_still_read() {
        let mut record = vec![1, 3];
        record.extend_from_slice(b"a::B");
        record.truncate(2 + 3);
        record.extend_from_slice(&[7, 8]);
        let decoded = decode_record(Oid(1), &record).unwrap();
        assert_eq!((decoded.type_name, decoded.state), ("a::", &[7u8, 8][..]));
        assert!(decoded.references().is_empty());
    }

    #[test]
    fn every_changed_byte_of_a_format_2_record_is_detected() {
        let record = encode_record("app::Account", 0, &[Oid(3)], &[1, 2, 3, 4, 5, 6, 7]);
        for at in 1..record.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut bad = record.clone();
                bad[at] ^= flip;
                assert!(
                    matches!(decode_record(Oid(7), &bad), Err(Error::CorruptRecord { .. })),
                    "byte {at} xor {flip:#x} went unnoticed"
                );
            }
        }
    }

    #[test]
    fn bad_records_are_typed_errors() {
        for bad in [&[][..], &[9, 0][..], &[1][..], &[1, 5, b'a'][..], &[2, 1, b'a', 0][..]] {
            assert!(matches!(decode_record(Oid(7), bad), Err(Error::CorruptRecord { .. })));
        }
    }
}
