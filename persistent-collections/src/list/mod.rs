//! `PersistentList<T>`: the alias of the shared collection handle for a list, with its
//! documentation and the list-only constructor (`from_vec`). What does not live here: the
//! handle itself and what both collections share (`crate::handle`); reads are in `read`,
//! writes in `write`, the list's std traits in `traits`, the stored state in `state`.

mod read;
mod state;
mod traits;
mod write;

use crate::element::Element;
use crate::handle::PersistentCollection;

pub use read::ListRef;
pub use state::ListState;

/// A persistent `Vec<T>`: a persistent object with its own oid and record that marks itself
/// changed when its content changes (docs/spec.md §4, list table). `T` must be an
/// [`Element`].
///
/// * Reads: `read()` gives a guard that dereferences to `Vec<T>`; reads never mark the list
///   changed.
/// * Writes: methods named as in `Vec` (`push`, `insert`, `sort`, ...), each returning a
///   `persistent_core::Result`; they mark the list changed (registering it once with its
///   data manager) exactly when the table says so, and an operation that fails marks nothing.
/// * Identity: the list is a handle. `share()` gives another handle to the same list and
///   `handle()` the `P` handle, whose `clone()` shares identity; `try_clone()` makes a new
///   unsaved list with a copy of the content. The `p_*` protocol is reached through `Deref`
///   to the `P` handle.
/// * Comparison: there is no content `PartialEq` on the list itself (a read can fail);
///   compare through the read guard: `*list.read()? == vec![1, 2]`.
/// * As a field of another persistent object, or an element of a collection, it is stored as
///   a reference (its oid), like any `P<T>`.
///
/// Shared with the other collection (written once, on the crate's private generic handle, so
/// rustdoc does not list them on this page): `new()` (empty, unsaved), `from_handle(P<_>)`
/// (the list of an existing handle, e.g. a ghost), `share()`, `handle() -> &P<_>`,
/// `into_handle() -> P<_>`, `erase() -> ObjectRef`, and the impls of `Default`, `Debug`
/// (the content when in memory, else the persistent representation; it never loads),
/// `Deref<Target = P<_>>`, `Serialize`/`Deserialize` (as a reference) and
/// `From<PersistentList<..>>` / `From<&PersistentList<..>>` for `ObjectRef`.
pub type PersistentList<T> = PersistentCollection<ListState<T>>;

impl<T: Element> PersistentList<T> {
    /// A new unsaved list holding `items`.
    #[must_use]
    pub fn from_vec(items: Vec<T>) -> Self {
        Self::from_content(items)
    }
}
