//! The estimated-size encoding: 24 bits of 64-byte units, as the reference stores it.
//! Every example of docs/spec.md §2.7 is checked in `tests/tests/protocol_metadata.rs`.

/// Largest size (in bytes) that still encodes exactly as `size / 64 + 1` units.
const LARGEST_EXACT: u64 = 1_073_741_696;
/// Units stored for any size above `LARGEST_EXACT` (the 24-bit maximum).
const MAX_UNITS: u32 = 16_777_215;

/// Units stored for an estimated size of `bytes`: `bytes / 64 + 1`, capped at 2^24 - 1.
#[allow(
    clippy::cast_possible_truncation,
    reason = "bytes <= LARGEST_EXACT here, so the units fit in 24 bits"
)]
pub(crate) fn size_to_units(bytes: u64) -> u32 {
    if bytes > LARGEST_EXACT {
        MAX_UNITS
    } else {
        (bytes / 64 + 1) as u32
    }
}

/// The size in bytes that `units` reads back as.
pub(crate) fn units_to_size(units: u32) -> u64 {
    u64::from(units) * 64
}
