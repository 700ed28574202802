//! Finding the [`Shape`] of a type by driving its `Deserialize` impl with a deserializer
//! that records what is asked of it. What does not live here: comparing shapes
//! (`schema.rs`) and reading bytes by shape (`value.rs`).

use serde::de::DeserializeOwned;

use super::Shape;

/// The shape of `F`, or [`Shape::Opaque`] naming `F` when its `Deserialize` impl cannot be
/// traced. Traces are made once per type and kept.
pub(crate) fn trace<F: DeserializeOwned + 'static>() -> Shape {
    todo!("helper")
}
