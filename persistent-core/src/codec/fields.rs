//! Field-by-field state encoding with postcard, used by `#[derive(Persistent)]` and by
//! hand-written `Persistent` impls: each persistent field is appended in declaration order;
//! decoding takes them back in the same order and refuses trailing bytes.

use std::cell::Cell;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::depth::{self, too_deep_message, Failure};
use super::depth_ser;
use super::reference::take_pending_error;
use crate::error::{Error, Result};

/// Appends `value` to `out`. A value nesting deeper than [`MAX_DEPTH`](super::MAX_DEPTH)
/// is `Error::Encode`: it could not be decoded again.
///
/// # Errors
/// `Error::Encode` naming `type_name` if serde refuses the value or it nests too deep; the
/// error of a persistent reference that cannot be encoded (`Error::ForeignObject`,
/// `Error::NoCodecContext`).
pub fn encode_field<F: Serialize + ?Sized>(
    type_name: &str,
    value: &F,
    out: &mut Vec<u8>,
) -> Result<()> {
    let buffer = std::mem::take(out);
    let tripped = Cell::new(false);
    let limited = depth_ser::limited(value, &tripped);
    match postcard::to_extend(&limited, buffer) {
        Ok(buffer) => {
            *out = buffer;
            Ok(())
        }
        Err(_) if tripped.get() => {
            // Leave no stale reference error behind for a later failure to report.
            take_pending_error();
            Err(Error::Encode { type_name: type_name.to_string(), message: too_deep_message() })
        }
        Err(error) => Err(take_pending_error().unwrap_or_else(|| Error::Encode {
            type_name: type_name.to_string(),
            message: error.to_string(),
        })),
    }
}

/// Takes the next field from the front of `input`. A field nesting values deeper than
/// [`MAX_DEPTH`](super::MAX_DEPTH) is `Error::Decode`, not a stack overflow.
///
/// # Errors
/// `Error::Decode` naming `type_name` for bytes that are not a `F`; the error of a
/// persistent reference that cannot be resolved.
pub fn decode_field<F: DeserializeOwned>(type_name: &str, input: &mut &[u8]) -> Result<F> {
    match depth::take_from_bytes::<F>(input) {
        Ok((value, rest)) => {
            *input = rest;
            Ok(value)
        }
        Err(Failure::TooDeep) => {
            // Leave no stale reference error behind for a later failure to report.
            take_pending_error();
            Err(Error::Decode { type_name: type_name.to_string(), message: too_deep_message() })
        }
        Err(Failure::Postcard(error)) => Err(take_pending_error().unwrap_or_else(|| {
            Error::Decode { type_name: type_name.to_string(), message: error.to_string() }
        })),
    }
}

/// Checks that every byte was consumed.
///
/// # Errors
/// `Error::Decode` naming `type_name` if bytes are left.
pub fn finish_decode(type_name: &str, input: &[u8]) -> Result<()> {
    if input.is_empty() {
        Ok(())
    } else {
        Err(Error::Decode {
            type_name: type_name.to_string(),
            message: format!("{} unexpected trailing bytes", input.len()),
        })
    }
}

/// Encodes a whole value (for states that are one serde value, like the collections').
///
/// # Errors
/// As [`encode_field`].
pub fn encode_value<F: Serialize + ?Sized>(type_name: &str, value: &F) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    encode_field(type_name, value, &mut out)?;
    Ok(out)
}

/// Decodes a whole value written by `encode_value`.
///
/// # Errors
/// As [`decode_field`] and [`finish_decode`].
pub fn decode_value<F: DeserializeOwned>(type_name: &str, bytes: &[u8]) -> Result<F> {
    let mut input = bytes;
    let value = decode_field(type_name, &mut input)?;
    finish_decode(type_name, input)?;
    Ok(value)
}

/// How generated code rebuilds a volatile field when an object loads: with `Default`.
/// The trait exists for its compile error, which names the rule instead of a helper.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "volatile field type `{Self}` must implement `Default`",
    label = "volatile fields are rebuilt with `Default::default()` when the object loads",
    note = "implement or derive `Default` for `{Self}`, or make the field persistent"
)]
pub trait VolatileField: Sized {
    /// The value a volatile field gets when the object loads.
    fn rebuilt() -> Self;
}

impl<T: Default> VolatileField for T {
    #[inline]
    fn rebuilt() -> Self {
        T::default()
    }
}
