//! LEB128 varints (7 bits a byte, the high bit set on every byte but the last), the one
//! encoding of unsigned numbers in the project's own byte formats: the record envelope
//! (`envelope.rs`) and SQLite's per-transaction oid lists. Nothing here knows what a number
//! means.

/// Appends `value` as a varint.
pub fn write(out: &mut Vec<u8>, mut value: u64) {
    loop {
        #[allow(clippy::cast_possible_truncation, reason = "the low seven bits")]
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Reads a varint from the front of `input` and moves `input` past it; `None` if it is cut
/// short or runs past 64 bits.
pub fn read(input: &mut &[u8]) -> Option<u64> {
    let mut value: u64 = 0;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = input.split_first()?;
        *input = rest;
        value |= u64::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_and_damage_is_refused() {
        for value in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut bytes = Vec::new();
            write(&mut bytes, value);
            let mut input = &bytes[..];
            assert_eq!(read(&mut input), Some(value));
            assert!(input.is_empty());
        }
        assert_eq!(read(&mut &[0x80][..]), None, "cut short");
        assert_eq!(read(&mut &[0xff; 11][..]), None, "past 64 bits");
    }
}
