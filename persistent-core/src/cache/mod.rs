//! The object cache of one data manager (docs/spec.md §3): identity map from oid to
//! object plus the LRU ring of non-ghosts (`ring`), the sweeps (`sweep`), and the `Cache`
//! handle with its introspection. Objects reach their cache through their jar.
//!
//! Borrowing rule: the table (`CacheShared::table`) is borrowed only by code that runs no
//! user code while it holds it (no state is dropped, no data manager is called). Sweeps
//! keep to it too: they release the table before dropping each evicted state (see `sweep`).
//! So a state's `Drop`, a data manager or any other user code may call every cache method
//! and every object method at any time, sweeps included, and gets the truth. Because a
//! conflicting borrow cannot happen, operations that could only have skipped their work or
//! answered 0 / empty / `None` on one (touch, join and leave the ring, resize, the
//! introspection methods) panic instead, naming the bug; `insert` and `new_ghost` return
//! `Error::AlreadyBorrowed`; and an object dropped meanwhile (its `Drop` must not panic)
//! is queued and forgotten at the next operation.

mod index;
mod limits;
pub(crate) mod recent;
mod ring;
mod slab;
mod sweep;
#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::rc::Rc;

pub use limits::CacheLimits;
use ring::{Holder, Table};
pub(crate) use slab::CacheKey;

use crate::any_object::ObjectRef;
use crate::any_object::Strong;
use crate::error::{CacheError, Error, Result};
use crate::jar::Jar;
use crate::oid::Oid;
use crate::size::{size_to_units, units_to_size};
use crate::state::PState;

/// The shared cache state, reached by objects through their jar.
pub(crate) struct CacheShared {
    pub(crate) table: RefCell<Table>,
    pub(crate) limits: std::cell::Cell<CacheLimits>,
    pub(crate) sweeping: std::cell::Cell<bool>,
    /// Objects made ghosts by this cache's sweeps so far (`Cache::evictions`).
    pub(crate) evictions: std::cell::Cell<u64>,
    /// Objects dropped while the table was borrowed, removed at the next operation. (No user
    /// code runs while the table is borrowed, so this stays empty; it is the safe answer for
    /// a `Drop`, which must not panic.)
    pub(crate) dropped: RefCell<Vec<(Oid, CacheKey)>>,
}

/// The panic message of a borrow conflict on the table (see the module comment: it cannot
/// happen unless this module runs user code while it holds the table, which is a bug).
const TABLE_BORROWED: &str =
    "persistent-core bug: the cache table is borrowed while user code runs (cache/mod.rs)";

impl CacheShared {
    /// The table, for an operation that runs no user code while it holds it. Nothing holds
    /// the table while user code runs (sweeps release it before dropping states), so this
    /// never fails; if it did, that is a bug reported by a panic, never a wrong answer or a
    /// skipped update.
    fn borrow_table(&self) -> std::cell::RefMut<'_, Table> {
        self.table.try_borrow_mut().expect(TABLE_BORROWED)
    }

    /// Moves a ring member to the MRU end, O(1), and notes it as the thread's most recently
    /// touched object (`recent`), so its next touch skips the cache.
    pub(crate) fn touch(&self, key: CacheKey, header_address: usize) {
        let mut table = self.borrow_table();
        table.touch(key);
        if table.tail == Some(key) {
            recent::note(header_address);
        }
    }

    /// A ghost starts loading: it joins the ring (held strongly), accounting its estimated
    /// size.
    pub(crate) fn join_ring(&self, key: CacheKey) {
        let mut table = self.borrow_table();
        match table.ghost_object(key) {
            Some(strong) => table.join(key, strong),
            None => table.touch(key),
        }
    }

    /// A member becomes a ghost: it leaves the ring. The returned strong handle must be
    /// dropped by the caller after this returns.
    #[must_use]
    pub(crate) fn leave_ring(&self, key: CacheKey) -> Option<Strong> {
        self.borrow_table().leave(key)
    }

    /// A ring member's own estimated size changed from `old_units` (64-byte units): it
    /// accounts for the new one.
    pub(crate) fn size_changed(&self, key: CacheKey, old_units: u32) {
        self.borrow_table().header_size_changed(key, old_units);
    }

    /// An object of this cache was dropped (only ghosts can be): forget its entry, at once
    /// when the table is free (always, see `borrow_table`), else at the next operation.
    pub(crate) fn forget_dropped(&self, oid: Oid, key: CacheKey) {
        match self.table.try_borrow_mut() {
            Ok(mut table) => {
                if table.is_dead_ghost(key) {
                    table.remove(key, oid);
                }
            }
            Err(_) => self.dropped.borrow_mut().push((oid, key)),
        }
    }

    /// Removes entries of objects dropped while the table was borrowed.
    fn purge_dropped(&self, table: &mut Table) {
        let mut dropped = self.dropped.borrow_mut();
        if dropped.is_empty() {
            return;
        }
        for (oid, key) in dropped.drain(..) {
            if table.is_dead_ghost(key) {
                table.remove(key, oid);
            }
        }
    }

    /// The table with pending removals applied, for an operation that reads it.
    fn table(&self) -> std::cell::RefMut<'_, Table> {
        let mut table = self.borrow_table();
        self.purge_dropped(&mut table);
        table
    }

    /// `table`, for an operation that can report a conflict as an error.
    fn try_table(&self) -> Result<std::cell::RefMut<'_, Table>> {
        let mut table = self.table.try_borrow_mut().map_err(|_| Error::AlreadyBorrowed)?;
        self.purge_dropped(&mut table);
        Ok(table)
    }

    /// `Cache::get`, reached from a jar.
    pub(crate) fn get(&self, oid: Oid) -> Option<ObjectRef> {
        let table = self.table();
        let key = table.key_of(oid)?;
        table.object(key)
    }

    /// Whether the object cached under `oid` is a ring member (loaded, not a ghost), read
    /// from the cache's own entry without touching the object.
    pub(crate) fn holds_loaded(&self, oid: Oid) -> bool {
        let table = self.table();
        table.key_of(oid).is_some_and(|key| table.is_member(key))
    }

    /// `Cache::new_ghost` for the cache of `jar` (reached from a jar, without the owner).
    pub(crate) fn new_ghost(&self, jar: &Jar, oid: Oid, obj: &ObjectRef) -> Result<()> {
        let header = obj.header();
        if header.oid().is_some() {
            return Err(CacheError::HasOid.into());
        }
        if header.has_jar() {
            return Err(CacheError::HasJar.into());
        }
        if obj.is_borrowed() {
            return Err(Error::Borrowed { operation: "make the object a ghost" });
        }
        let mut table = self.try_table()?;
        if let Some(key) = table.key_of(oid) {
            if table.object(key).is_some() {
                return Err(CacheError::Duplicate(oid).into());
            }
            table.remove(key, oid);
        }
        header.state.set(PState::Ghost);
        header.set_oid(Some(oid));
        drop(header.replace_jar(Some(jar.clone())));
        let key = table.add(oid, Holder::Ghost(obj.downgrade()));
        header.cache_key.set(Some(key));
        Ok(())
    }

    /// `Cache::remove`, reached from a jar.
    pub(crate) fn remove(&self, oid: Oid) -> Option<ObjectRef> {
        let mut table = self.table();
        let key = table.key_of(oid)?;
        let obj = table.object(key);
        table.remove(key, oid);
        drop(table);
        if let Some(obj) = &obj {
            obj.header().cache_key.set(None);
        }
        obj
    }
}

/// One entry of `Cache::debug_info`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheEntryInfo {
    /// The object's oid.
    pub oid: Oid,
    /// Strong handles to the object (the cache's own, for a non-ghost, included).
    pub strong_count: usize,
    /// The object's stable type name.
    pub type_name: &'static str,
    /// The object's state.
    pub state: PState,
}

/// The object cache of a data manager: an identity map (oid to object) and the ring of
/// non-ghost objects in LRU order. This handle owns the cache: dropping it empties the
/// cache (objects still held elsewhere keep their data but are no longer cached).
///
/// Rules kept: at most one object per oid; every object in it has this cache's jar and its
/// own oid as key; the non-ghost count always equals the ring length; the total estimated
/// size is the sum over the ring; ghosts are held weakly and leave the map when nothing else
/// holds them; a failed operation leaves the cache unchanged.
pub struct Cache {
    pub(crate) shared: Rc<CacheShared>,
    jar: Jar,
}

impl Cache {
    /// The cache of `jar`, with no limits set (`cache_size` 0 and `cache_size_bytes` 0:
    /// every sweep evicts every clean object). A jar has at most one cache.
    ///
    /// # Errors
    ///
    /// `CacheError::JarHasCache` (as `Error::Cache`) when `jar` already has a cache.
    pub fn new(jar: &Jar) -> Result<Cache> {
        Cache::with_limits(jar, CacheLimits::default())
    }

    /// The cache of `jar` with the given limits.
    ///
    /// # Errors
    ///
    /// `CacheError::JarHasCache` (as `Error::Cache`) when `jar` already has a cache.
    pub fn with_limits(jar: &Jar, limits: CacheLimits) -> Result<Cache> {
        let shared = Rc::new(CacheShared {
            table: RefCell::new(Table::default()),
            limits: std::cell::Cell::new(limits),
            sweeping: std::cell::Cell::new(false),
            evictions: std::cell::Cell::new(0),
            dropped: RefCell::new(Vec::new()),
        });
        jar.0.cache.set(shared.clone()).map_err(|_| CacheError::JarHasCache)?;
        Ok(Cache { shared, jar: jar.clone() })
    }

    /// The jar whose objects this cache holds.
    #[must_use]
    pub fn jar(&self) -> &Jar {
        &self.jar
    }

    /// The object cached under `oid`, ghost or not. Never loads, never touches.
    #[must_use]
    pub fn get(&self, oid: Oid) -> Option<ObjectRef> {
        self.shared.get(oid)
    }

    /// Whether the object cached under `oid` is loaded (a ring member), without touching
    /// the object.
    pub(crate) fn holds_loaded(&self, oid: Oid) -> bool {
        self.shared.holds_loaded(oid)
    }

    /// Whether an object is cached under `oid`.
    #[must_use]
    pub fn contains(&self, oid: Oid) -> bool {
        self.get(oid).is_some()
    }

    /// Adds `obj` under `oid`. Errors (the cache unchanged): `oid` is not the object's oid,
    /// the object has no jar or another jar, or another object is cached under `oid`.
    /// Adding the same object again does nothing. A non-ghost joins the ring as most
    /// recently used, with its estimated size.
    ///
    /// # Errors
    ///
    /// `Error::Cache` with `CacheError::OidMismatch`, `NoJar`, `OtherJar` or `Duplicate`, as
    /// listed above.
    pub fn insert(&self, oid: Oid, obj: impl Into<ObjectRef>) -> Result<()> {
        let obj: ObjectRef = obj.into();
        let header = obj.header();
        if header.oid() != Some(oid) {
            return Err(CacheError::OidMismatch { key: oid, object: header.oid() }.into());
        }
        match header.jar() {
            None => return Err(CacheError::NoJar.into()),
            Some(jar) if !jar.ptr_eq(&self.jar) => return Err(CacheError::OtherJar.into()),
            Some(_) => {}
        }
        let mut table = self.shared.try_table()?;
        if let Some(key) = table.key_of(oid) {
            return match table.object(key) {
                Some(existing) if existing.ptr_eq(&obj) => Ok(()),
                Some(_) => Err(CacheError::Duplicate(oid).into()),
                None => {
                    // A dead ghost whose drop notice is pending: replace it.
                    table.remove(key, oid);
                    drop(table);
                    self.insert(oid, obj)
                }
            };
        }
        if header.cache_key.get().is_some() {
            return Err(CacheError::OtherJar.into());
        }
        let holder = if header.state.get() == PState::Ghost {
            Holder::Ghost(obj.downgrade())
        } else {
            Holder::InRing(obj.0.clone())
        };
        let key = table.add(oid, holder);
        header.cache_key.set(Some(key));
        Ok(())
    }

    /// Makes `obj` a ghost of this cache under `oid` (the reference's `new_ghost`): the
    /// object must have no oid and no jar, and `oid` must be free (errors otherwise, with no
    /// side effect; an object whose data is borrowed is refused too). It gets the oid and the
    /// cache's jar and becomes a Ghost without its existing data (if any) being touched, as
    /// in the reference: that data stays until the first access loads the object through
    /// the data manager, which replaces it. It does not join the ring.
    ///
    /// # Errors
    ///
    /// `Error::Cache` with `CacheError::HasOid`, `HasJar`, `OtherJar` or `Duplicate`;
    /// `Error::Borrowed` when the object's data is borrowed.
    pub fn new_ghost(&self, oid: Oid, obj: impl Into<ObjectRef>) -> Result<()> {
        self.shared.new_ghost(&self.jar, oid, &obj.into())
    }

    /// Removes the object cached under `oid` (leaving the ring and the counters if it was a
    /// non-ghost) and returns it; its jar and oid may be cleared afterwards.
    #[allow(
        clippy::must_use_candidate,
        reason = "called for its effect; the removed object is often not wanted"
    )]
    pub fn remove(&self, oid: Oid) -> Option<ObjectRef> {
        self.shared.remove(oid)
    }

    /// Number of entries (ghosts included).
    #[must_use]
    pub fn len(&self) -> usize {
        self.shared.table().slab.len()
    }

    /// Whether the cache holds no entry.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Length of the LRU ring.
    #[must_use]
    pub fn ring_len(&self) -> usize {
        self.shared.table().ring_len
    }

    /// Number of non-ghost objects (always equal to `ring_len`).
    #[must_use]
    pub fn non_ghost_count(&self) -> usize {
        self.ring_len()
    }

    /// How many objects this cache's sweeps (`incrgc`, `full_sweep`, `minimize`) made ghosts
    /// since the cache was created. Invalidations, `remove` and dropping the cache are not
    /// counted. A counter of the cache, not of its objects.
    #[must_use]
    pub fn evictions(&self) -> u64 {
        self.shared.evictions.get()
    }

    /// Sum of the accounted estimated sizes of the ring members, in bytes.
    #[must_use]
    pub fn total_estimated_size(&self) -> u64 {
        self.shared.table().total_size
    }

    /// Every cached object with its oid, ghosts included (in slot order).
    #[must_use]
    pub fn items(&self) -> Vec<(Oid, ObjectRef)> {
        let table = self.shared.table();
        table
            .slab
            .iter()
            .filter_map(|(key, _)| {
                let obj = table.object(key)?;
                Some((obj.header().oid()?, obj))
            })
            .collect()
    }

    /// The non-ghost objects with their oids, least recently used first.
    #[must_use]
    pub fn lru_items(&self) -> Vec<(Oid, ObjectRef)> {
        let table = self.shared.table();
        let mut out = Vec::with_capacity(table.ring_len);
        let mut cursor = table.head;
        while let Some(key) = cursor {
            let member = table.slab.member(key);
            if let Some(oid) = member.strong.header().oid() {
                out.push((oid, ObjectRef(member.strong.clone())));
            }
            cursor = member.next;
        }
        out
    }

    /// For each entry: oid, strong handle count, type name, state.
    #[must_use]
    pub fn debug_info(&self) -> Vec<CacheEntryInfo> {
        self.items()
            .into_iter()
            .map(|(oid, obj)| CacheEntryInfo {
                oid,
                // One handle is the `ObjectRef` made for this listing.
                strong_count: obj.strong_count() - 1,
                type_name: obj.type_name(),
                state: obj.p_state(),
            })
            .collect()
    }

    /// The limits in force.
    #[must_use]
    pub fn limits(&self) -> CacheLimits {
        self.shared.limits.get()
    }

    /// Replaces the limits.
    pub fn set_limits(&self, limits: CacheLimits) {
        self.shared.limits.set(limits);
    }

    /// Target number of non-ghosts (0: off).
    #[must_use]
    pub fn cache_size(&self) -> usize {
        self.limits().cache_size
    }

    /// Sets the target number of non-ghosts (0: off).
    pub fn set_cache_size(&self, size: usize) {
        self.set_limits(CacheLimits { cache_size: size, ..self.limits() });
    }

    /// Target total estimated size in bytes (0: off).
    #[must_use]
    pub fn cache_size_bytes(&self) -> u64 {
        self.limits().cache_size_bytes
    }

    /// Sets the target total estimated size in bytes (0: off).
    pub fn set_cache_size_bytes(&self, bytes: u64) {
        self.set_limits(CacheLimits { cache_size_bytes: bytes, ..self.limits() });
    }

    /// The drain resistance (0: off).
    #[must_use]
    pub fn drain_resistance(&self) -> usize {
        self.limits().drain_resistance
    }

    /// Sets the drain resistance (0: off).
    pub fn set_drain_resistance(&self, resistance: usize) {
        self.set_limits(CacheLimits { drain_resistance: resistance, ..self.limits() });
    }

    /// Invalidates each cached object among `oids` (Changed ones included); absent oids are
    /// ignored. Objects whose data is borrowed stay as they are and the first such refusal
    /// is returned after all others were invalidated.
    ///
    /// # Errors
    ///
    /// The first `Error::Borrowed` met (the other objects are still invalidated).
    pub fn invalidate<'a>(&self, oids: impl IntoIterator<Item = &'a Oid>) -> Result<()> {
        let objects: Vec<ObjectRef> = oids.into_iter().filter_map(|&oid| self.get(oid)).collect();
        let mut first_error = None;
        for obj in &objects {
            if let Err(error) = obj.p_invalidate() {
                first_error.get_or_insert(error);
            }
        }
        drop(objects);
        first_error.map_or(Ok(()), Err)
    }

    /// Sets the size the cache accounts for the ring member cached under `oid` (encoded as
    /// an estimated size is: 64-byte units, capped). The object's own `p_estimated_size` is
    /// not changed, as in the reference: when the object leaves the ring this accounted size
    /// is subtracted, and when it joins again its own estimate is accounted. Ghosts and
    /// unknown oids are ignored.
    pub fn update_object_size_estimation(&self, oid: Oid, size: u64) {
        let mut table = self.shared.table();
        if let Some(key) = table.key_of(oid) {
            table.set_accounted(key, units_to_size(size_to_units(size)));
        }
    }
}

/// Dropping the owner empties the cache: every entry is removed and its object no longer
/// counts as cached, which breaks the reference cycle jar, cache, cached objects. Every
/// live object that is not borrowed also becomes a ghost (its state is dropped), as the
/// reference does when a connection closes: states that refer to each other in a cycle
/// would otherwise keep each other alive forever. The states are dropped one object at a
/// time while every object is still held here, so a long chain of loaded objects is freed
/// without recursion.
impl Drop for Cache {
    fn drop(&mut self) {
        let Ok(mut table) = self.shared.table.try_borrow_mut() else { return };
        let old = std::mem::take(&mut *table);
        recent::clear();
        drop(table);
        let live: Vec<ObjectRef> = old.slab.iter().filter_map(|(key, _)| old.object(key)).collect();
        drop(old);
        for obj in &live {
            let header = obj.header();
            header.cache_key.set(None);
            if !obj.is_borrowed() {
                obj.drop_state();
                header.state.set(PState::Ghost);
            }
        }
        drop(live);
    }
}
