//! `ListState<T>`: the state of a `PersistentList`, its content for the shared handle
//! (`CollectionState`), and how it is stored (the whole `Vec<T>` as one postcard value,
//! elements that are `P<_>` as oids). What does not live here: the list's methods.

use std::ops::Deref;

use persistent_core::codec::{decode_value, encode_field};
use persistent_core::{interned_type_name, PObject, Persistent, Result};

use crate::element::Element;
use crate::handle::CollectionState;

/// The state behind a `PersistentList<T>` handle: the elements. It dereferences to `Vec<T>`
/// for reading only; change it through the list's methods, which mark the list changed.
#[derive(Debug, Default)]
pub struct ListState<T>(Vec<T>);

/// A state holding `items`, for building a handle by hand.
impl<T> From<Vec<T>> for ListState<T> {
    fn from(items: Vec<T>) -> Self {
        ListState(items)
    }
}

/// Read-only view of the elements.
impl<T> Deref for ListState<T> {
    type Target = Vec<T>;

    fn deref(&self) -> &Vec<T> {
        &self.0
    }
}

/// The record is the `Vec<T>` as one value. The stored type name names the element type
/// (`persistent::PersistentList<i64>`), so a list of one element type is never read as a
/// list of another; records written under the older name without it still load.
impl<T: Element> Persistent for ListState<T> {
    type Object = PObject<ListState<T>>;
    const TYPE_NAME: &'static str = "persistent_collections::PersistentList";

    fn stored_type_name() -> &'static str {
        interned_type_name::<Self>(|| {
            format!("persistent::PersistentList<{}>", crate::element::element_name::<T>())
        })
    }

    fn reads_type_name(name: &str) -> bool {
        name == Self::stored_type_name() || name == Self::TYPE_NAME
    }

    fn encode_state(&self, out: &mut Vec<u8>) -> Result<()> {
        encode_field(Self::TYPE_NAME, &self.0, out)
    }

    fn decode_state(bytes: &[u8]) -> Result<Self> {
        decode_value(Self::TYPE_NAME, bytes).map(ListState)
    }
}

/// The content of a list is its `Vec<T>`.
impl<T: Element> CollectionState for ListState<T> {
    type Content = Vec<T>;

    fn content(&self) -> &Vec<T> {
        &self.0
    }

    fn content_mut(&mut self) -> &mut Vec<T> {
        &mut self.0
    }
}
