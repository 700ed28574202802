//! The record envelope stored for each object revision: format version, type name, state.
//! Layout: one byte `FORMAT_VERSION`, a varint length and the UTF-8 type name, then the
//! state bytes to the end.

use crate::error::{Error, Result};
use crate::oid::Oid;

/// The envelope format this version writes and reads.
pub const FORMAT_VERSION: u8 = 1;

/// Wraps `state` of type `type_name` in an envelope.
#[cfg(test)]
pub fn encode_record(type_name: &str, state: &[u8]) -> Vec<u8> {
    let mut out = begin_record(type_name, state.len());
    out.extend_from_slice(state);
    out
}

/// The envelope header for a record of type `type_name`, with room for `state_capacity`
/// more bytes: append the state to it to make the record.
pub fn begin_record(type_name: &str, state_capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + 2 + type_name.len() + state_capacity);
    out.push(FORMAT_VERSION);
    let mut length = type_name.len();
    loop {
        let byte = (length & 0x7f) as u8;
        length >>= 7;
        if length == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(type_name.as_bytes());
    out
}

/// Splits a record of `oid` into its type name and state; a wrong version or a truncated
/// header is `Error::CorruptRecord`.
pub fn decode_record(oid: Oid, record: &[u8]) -> Result<(&str, &[u8])> {
    let corrupt = |message: &str| Error::CorruptRecord { oid, message: message.to_string() };
    let (&version, mut rest) = record.split_first().ok_or_else(|| corrupt("empty record"))?;
    if version != FORMAT_VERSION {
        return Err(corrupt(&format!(
            "format version {version} is not supported (this build reads {FORMAT_VERSION})"
        )));
    }
    let mut length: usize = 0;
    let mut shift = 0;
    loop {
        let (&byte, tail) = rest.split_first().ok_or_else(|| corrupt("truncated header"))?;
        rest = tail;
        if shift > 28 {
            return Err(corrupt("type name length too large"));
        }
        length |= usize::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            break;
        }
    }
    if rest.len() < length {
        return Err(corrupt("truncated type name"));
    }
    let (name, state) = rest.split_at(length);
    let name = std::str::from_utf8(name).map_err(|_| corrupt("type name is not UTF-8"))?;
    Ok((name, state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let record = encode_record("app::Account", &[1, 2, 3]);
        assert_eq!(decode_record(Oid(1), &record).unwrap(), ("app::Account", &[1u8, 2, 3][..]));
    }

    #[test]
    fn bad_records_are_typed_errors() {
        for bad in [&[][..], &[9, 0][..], &[1][..], &[1, 5, b'a'][..], &[1, 1, 0xff][..]] {
            assert!(matches!(decode_record(Oid(7), bad), Err(Error::CorruptRecord { .. })));
        }
    }
}
