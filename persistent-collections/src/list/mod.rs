//! `PersistentList<T>`: the handle type, its construction and its identity as a persistent
//! object (handle access, erasure, serde as a reference). Reads are in `read`, writes in
//! `write`, the std traits in `traits`, the stored state in `state`.

mod read;
mod state;
mod traits;
mod write;

use std::ops::Deref;

use persistent_core::{ObjectRef, PObject, P};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::element::Element;

pub use read::ListRef;
pub use state::ListState;

/// A persistent `Vec<T>`: a persistent object with its own oid and record that marks itself
/// changed when its content changes (docs/spec.md §4, list table).
///
/// * Reads: [`read`](Self::read) gives a guard that dereferences to `Vec<T>`; reads never
///   mark the list changed.
/// * Writes: methods named as in `Vec` (`push`, `insert`, `sort`, ...), each returning a
///   `persistent_core::Result`; they mark the list changed (registering it once with its
///   data manager) exactly when the table says so, and an operation that fails marks nothing.
/// * Identity: the list is a handle. [`handle`](Self::handle) gives the `P` handle, whose
///   `clone()` shares identity; `PersistentList::clone()` makes a new unsaved list with a
///   copy of the content. The `p_*` protocol is reached through `Deref` to the handle.
/// * As a field of another persistent object, or an element of a collection, it is stored as
///   a reference (its oid), like any `P<T>`.
pub struct PersistentList<T: Element>(P<ListState<T>>);

impl<T: Element> PersistentList<T> {
    /// A new empty unsaved list (no jar, no oid).
    pub fn new() -> Self {
        Self::from_vec(Vec::new())
    }

    /// A new unsaved list holding `items`.
    pub fn from_vec(items: Vec<T>) -> Self {
        PersistentList(P::new(ListState::from(items)))
    }

    /// The list for an existing handle (for example a ghost a data manager made with
    /// `P::uninitialized()`); the list and the handle are the same object.
    pub fn from_handle(handle: P<ListState<T>>) -> Self {
        PersistentList(handle)
    }

    /// Another handle to this same list (identity shared, nothing copied). `clone()`, by
    /// contrast, makes a new unsaved copy.
    pub fn share(&self) -> Self {
        Self::from_handle(self.0.clone())
    }

    /// The handle of this list; cloning it shares identity.
    pub fn handle(&self) -> &P<ListState<T>> {
        &self.0
    }

    /// The handle of this list, consuming the list.
    pub fn into_handle(self) -> P<ListState<T>> {
        self.0
    }

    /// A type-erased handle to the same object, for a cache or a data manager.
    pub fn erase(&self) -> ObjectRef {
        self.0.erase()
    }

    fn object(&self) -> &PObject<ListState<T>> {
        self.0.as_object()
    }

    /// Reads the content through `f` (loads a ghost and touches; never marks).
    fn inspect<R>(&self, f: impl FnOnce(&Vec<T>) -> R) -> persistent_core::Result<R> {
        self.object().with(|state| f(state.items()))
    }

    /// Changes the content through `f`, marking the list changed first: `PObject::update`,
    /// core's single write path (refuses under a live read guard and marks nothing if
    /// loading or registering fails).
    #[inline]
    fn change<R>(&self, f: impl FnOnce(&mut Vec<T>) -> R) -> persistent_core::Result<R> {
        self.object().update(|state| f(state.items_mut()))
    }
}

/// The persistence protocol (`p_oid`, `p_state`, `p_set_jar`, ...) is the handle's.
impl<T: Element> Deref for PersistentList<T> {
    type Target = P<ListState<T>>;

    fn deref(&self) -> &P<ListState<T>> {
        &self.0
    }
}

/// Stored as a persistent reference (the oid), through the thread's reference context.
impl<T: Element> Serialize for PersistentList<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// A stored reference comes back as the known object or a ghost, without a storage read.
impl<'de, T: Element> Deserialize<'de> for PersistentList<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        P::deserialize(deserializer).map(PersistentList)
    }
}

/// The type-erased handle of the same object.
impl<T: Element> From<PersistentList<T>> for ObjectRef {
    fn from(list: PersistentList<T>) -> ObjectRef {
        list.0.into()
    }
}

/// The type-erased handle of the same object.
impl<T: Element> From<&PersistentList<T>> for ObjectRef {
    fn from(list: &PersistentList<T>) -> ObjectRef {
        list.0.erase()
    }
}

/// A list field's generated getter returns the same list (`share`), not a copy.
impl<T: Element> persistent_core::SharedField for PersistentList<T> {
    fn share(&self) -> Self {
        PersistentList::share(self)
    }
}
