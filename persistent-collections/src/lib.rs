//! `PersistentList` and `PersistentMapping`: persistent objects in their own right (their own
//! oid and record) that record their own mutation, following the change-marking tables of
//! docs/spec.md §4; `PersistentWeakKeyMapping`, keyed by weak references (docs/spec.md
//! §12); and `Length`, a counter whose concurrent changes merge instead of
//! conflicting (docs/spec.md §8).
//!
//! Reads go through guards that dereference to the plain collection (`Vec<T>`, `BTreeMap`),
//! so every read method of those types is available; writes go through methods named as in
//! `Vec` and `BTreeMap` that mark the collection changed exactly when the content changes
//! (for example `clear()` on an empty list marks nothing). The guide with examples is
//! `docs/collections.md`. What does not live here: the object model (`persistent-core`) and
//! any connection or storage.

pub mod btree;
mod element;
mod handle;
mod length;
mod list;
mod mapping;
mod range;
mod weak_key;

pub use btree::{PersistentBTreeMap, PersistentBTreeSet};
pub use element::Element;
pub use handle::{CollectionState, PersistentCollection};
pub use length::{Length, LengthObject};
pub use list::{ListRef, ListState, PersistentList};
pub use mapping::{MapRef, MapState, PersistentMapping};
pub use weak_key::{PersistentWeakKeyMapping, WeakKeyState};

/// The examples of `docs/collections.md`, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/collections.md")]
pub struct CollectionsGuide;
