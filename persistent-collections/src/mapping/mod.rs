//! `PersistentMapping<K, V>`: the alias of the shared collection handle for a mapping, with
//! its documentation and the mapping-only constructor (`from_map`). What does not live here:
//! the handle itself and what both collections share (`crate::handle`); reads are in `read`,
//! writes in `write`, the mapping's std traits in `traits`, the stored state in `state`.

mod read;
mod state;
mod traits;
mod write;

use std::collections::BTreeMap;

use crate::element::Element;
use crate::handle::PersistentCollection;

pub use read::MapRef;
pub use state::MapState;

/// A persistent `BTreeMap<K, V>`: a persistent object with its own oid and record that marks
/// itself changed when its content changes (docs/spec.md §4, mapping table). `K` must be an
/// [`Element`] and `Ord`, `V` an [`Element`].
///
/// * Order: iteration is in key order, and two mappings with the same content encode to
///   identical bytes whatever the order of insertion (the record is the `BTreeMap`).
/// * Reads: `read()` gives a guard that dereferences to `BTreeMap<K, V>`; reads never mark
///   the mapping changed.
/// * Writes: methods named as in `BTreeMap` (`insert`, `remove`, `retain`, ...), each
///   returning a `persistent_core::Result`; they mark the mapping changed (registering it
///   once with its data manager) exactly when the table says so, and an operation that fails
///   marks nothing.
/// * Identity: the mapping is a handle. `share()` gives another handle to the same mapping
///   and `handle()` the `P` handle, whose `clone()` shares identity; `try_clone()` makes a
///   new unsaved mapping with a copy of the content. The `p_*` protocol is reached through
///   `Deref` to the `P` handle.
/// * Comparison: there is no content `PartialEq` on the mapping itself (a read can fail);
///   compare through the read guard: `*map.read()? == BTreeMap::from([(1, 2)])`.
/// * As a field of another persistent object, or an element of a collection, it is stored as
///   a reference (its oid), like any `P<T>`.
///
/// Shared with the other collection (written once, on the crate's private generic handle, so
/// rustdoc does not list them on this page): `new()` (empty, unsaved), `from_handle(P<_>)`
/// (the mapping of an existing handle, e.g. a ghost), `share()`, `handle() -> &P<_>`,
/// `into_handle() -> P<_>`, `erase() -> ObjectRef`, and the impls of `Default`, `Debug`
/// (the content when in memory, else the persistent representation; it never loads),
/// `Deref<Target = P<_>>`, `Serialize`/`Deserialize` (as a reference) and
/// `From<PersistentMapping<..>>` / `From<&PersistentMapping<..>>` for `ObjectRef`.
pub type PersistentMapping<K, V> = PersistentCollection<MapState<K, V>>;

impl<K: Element + Ord, V: Element> PersistentMapping<K, V> {
    /// A new unsaved mapping holding `entries`.
    #[must_use]
    pub fn from_map(entries: BTreeMap<K, V>) -> Self {
        Self::from_content(entries)
    }
}
