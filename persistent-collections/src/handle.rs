//! `PersistentCollection<S>`: the one generic type behind both collections (`PersistentList<T>` is
//! `PersistentCollection<ListState<T>>`, `PersistentMapping<K, V>` is `PersistentCollection<MapState<K, V>>`), and
//! everything they share, written once: construction (`new`, `from_handle`, `Default`),
//! identity (`share`, `handle`, `into_handle`, `erase`), `Deref` to the `P` handle for the
//! `p_*` protocol, serde as a persistent reference, conversion to `ObjectRef`,
//! `Debug` (which never loads), and the two private helpers every read and write goes
//! through (`inspect`, `change`).
//! What does not live here: the methods, guards and std traits particular to one collection
//! (`list`, `mapping`) and how each state is stored (`list::state`, `mapping::state`). The
//! crate root re-exports `PersistentCollection` and `CollectionState` (its rustdoc page lists
//! what both collections share).

use std::fmt;
use std::ops::Deref;

use persistent_core::{ObjectRef, PObject, Persistent, Result, SharedHandle, P};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The state of a persistent collection: its plain content (`Vec<T>`, `BTreeMap<K, V>`)
/// wrapped as a `Persistent` type. Implemented by `ListState` and `MapState` only.
pub trait CollectionState: Persistent + From<Self::Content> {
    /// The plain collection the state holds.
    type Content: Default;

    /// The content, for reading.
    fn content(&self) -> &Self::Content;

    /// The content, for changing (only through `PersistentCollection::change`, which marks first).
    fn content_mut(&mut self) -> &mut Self::Content;
}

/// A persistent collection: a handle to one persistent object whose state is `S`. Public
/// through the aliases `PersistentList` and `PersistentMapping`, which document it.
pub struct PersistentCollection<S: CollectionState>(P<S>);

impl<S: CollectionState> PersistentCollection<S> {
    /// A new empty unsaved collection (no jar, no oid).
    #[must_use]
    pub fn new() -> Self {
        Self::from_content(S::Content::default())
    }

    /// A new unsaved collection holding `content`.
    pub(crate) fn from_content(content: S::Content) -> Self {
        PersistentCollection(P::new(S::from(content)))
    }

    /// The collection for an existing handle (for example a ghost a data manager made with
    /// `P::uninitialized()`); the collection and the handle are the same object.
    #[must_use]
    pub fn from_handle(handle: P<S>) -> Self {
        PersistentCollection(handle)
    }

    /// Another handle to this same collection (identity shared, nothing copied);
    /// `try_clone()`, by contrast, makes a new unsaved copy. (There is no `Clone`: a copy
    /// reads the content, which can fail.)
    #[must_use]
    pub fn share(&self) -> Self {
        Self::from_handle(self.0.clone())
    }

    /// The `P` handle of this collection; cloning it shares identity.
    #[must_use]
    pub fn handle(&self) -> &P<S> {
        &self.0
    }

    /// The `P` handle of this collection, consuming the collection.
    #[must_use]
    pub fn into_handle(self) -> P<S> {
        self.0
    }

    /// A type-erased handle to the same object, for a cache or a data manager.
    #[must_use]
    pub fn erase(&self) -> ObjectRef {
        self.0.erase()
    }

    /// The persistent object behind the handle.
    pub(crate) fn object(&self) -> &PObject<S> {
        self.0.as_object()
    }

    /// Reads the content through `f` (loads a ghost and touches; never marks).
    pub(crate) fn inspect<R>(&self, f: impl FnOnce(&S::Content) -> R) -> Result<R> {
        self.object().with(|state| f(state.content()))
    }

    /// Changes the content through `f`, marking the collection changed first:
    /// `PObject::update`, core's single write path (refuses under a live read guard and
    /// marks nothing if loading or registering fails).
    #[inline]
    pub(crate) fn change<R>(&self, f: impl FnOnce(&mut S::Content) -> R) -> Result<R> {
        self.object().update(|state| f(state.content_mut()))
    }
}

/// An empty unsaved collection.
impl<S: CollectionState> Default for PersistentCollection<S> {
    fn default() -> Self {
        Self::new()
    }
}

/// The persistence protocol (`p_oid`, `p_state`, `p_set_jar`, ...) is the handle's.
impl<S: CollectionState> Deref for PersistentCollection<S> {
    type Target = P<S>;

    fn deref(&self) -> &P<S> {
        &self.0
    }
}

/// Stored as a persistent reference (the oid), through the thread's reference context.
impl<S: CollectionState> Serialize for PersistentCollection<S> {
    fn serialize<Ser: Serializer>(
        &self,
        serializer: Ser,
    ) -> std::result::Result<Ser::Ok, Ser::Error> {
        self.0.serialize(serializer)
    }
}

/// A stored reference comes back as the known object or a ghost, without a storage read.
impl<'de, S: CollectionState> Deserialize<'de> for PersistentCollection<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        P::deserialize(deserializer).map(PersistentCollection)
    }
}

/// The type-erased handle of the same object.
impl<S: CollectionState> From<PersistentCollection<S>> for ObjectRef {
    fn from(collection: PersistentCollection<S>) -> ObjectRef {
        collection.0.into()
    }
}

/// The type-erased handle of the same object.
impl<S: CollectionState> From<&PersistentCollection<S>> for ObjectRef {
    fn from(collection: &PersistentCollection<S>) -> ObjectRef {
        collection.0.erase()
    }
}

/// A collection field's generated getter returns `share()`: the same collection.
impl<S: CollectionState> SharedHandle for PersistentCollection<S> {
    fn share(&self) -> Self {
        PersistentCollection::share(self)
    }
}

/// Prints the content like the plain collection (`[1, 2]`, `{"a": 1}`) when it is in memory:
/// not a ghost and not mutably borrowed (a write in progress). Otherwise it prints the
/// persistent representation, the `Debug` of the `PObject` (`<... object at 0x... oid ...>`).
/// It never loads a ghost, so it never reads storage, never fails and never panics; printing
/// the content does touch the object in its cache, as any read does.
impl<S: CollectionState> fmt::Debug for PersistentCollection<S>
where
    S::Content: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let object = self.object();
        // `peek`: the state only if it is in memory, with no load and no cache touch.
        match object.peek() {
            Some(state) => fmt::Debug::fmt(state.content(), f),
            None => fmt::Debug::fmt(object, f),
        }
    }
}
