//! `Element`: what a persistent collection can hold. What does not live here: how elements
//! are encoded (each state's `Persistent` impl, in `list::state` and `mapping::state`).

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A value a persistent collection can hold: anything serde can encode and decode that owns
/// its data. Implemented for every such type; a `P<T>` element is stored as a reference (its
/// oid), not as a copy of the object.
pub trait Element: Serialize + DeserializeOwned + 'static {}

impl<T: Serialize + DeserializeOwned + 'static> Element for T {}
