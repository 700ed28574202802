//! `PObject<T>`: one persistent object, a header of persistence metadata plus the boxed state cell
//! (empty while the object is a ghost, except a ghost made by `Cache::new_ghost` from an
//! object that had data: it keeps that data until it is loaded), and the whole `p_*` protocol of docs/spec.md §2.
//! The cache side (ring, counters) lives in `cache`; representation in `repr`.

use std::cell::{Ref, RefCell, RefMut};

use crate::codec::schema::{Schema, StoredFields};
use crate::error::{Error, Result};
use crate::header::Header;
use crate::jar::Jar;
use crate::oid::Oid;
use crate::persistent::Persistent;
use crate::size::{size_to_units, units_to_size};
use crate::state::PState;
use crate::timestamp::TimeStamp;

/// A persistent object: persistence metadata and a state of type `T` that is loaded on
/// first access and dropped when the object becomes a ghost.
///
/// Reach it through a [`P<T>`](crate::P) handle. Methods named `p_*` are the persistence
/// protocol; `with`/`read` read the state (loading a ghost, touching the cache), and
/// `update`/`write` change it (registering the object with its data manager once).
pub struct PObject<T> {
    pub(crate) header: Header,
    /// The state, boxed so that a ghost keeps one pointer (and the borrow flag) rather
    /// than room for a whole `T`.
    pub(crate) data: RefCell<Option<Box<T>>>,
}

impl<T: Persistent> PObject<T> {
    /// A new unsaved object holding `value`: no jar, no oid, serial zero, size 0.
    pub fn new(value: T) -> PObject<T> {
        PObject { header: Header::new(PState::UpToDate), data: RefCell::new(Some(Box::new(value))) }
    }

    /// An object shell without state, to be made a ghost by `Cache::new_ghost`.
    #[must_use]
    pub fn uninitialized() -> PObject<T> {
        PObject { header: Header::new(PState::Ghost), data: RefCell::new(None) }
    }

    // ----- metadata -------------------------------------------------------------------

    /// The object id, if one was assigned.
    pub fn p_oid(&self) -> Option<Oid> {
        self.header.oid()
    }

    /// Sets the oid. In a cache, only the same value is accepted (a no-op);
    /// anything else is `Error::CachedOidChange`.
    ///
    /// # Errors
    ///
    /// `Error::CachedOidChange` when the object is in a cache and `oid` is not its oid.
    pub fn p_set_oid(&self, oid: Option<Oid>) -> Result<()> {
        if self.header.cache_key.get().is_some() && self.header.oid() != oid {
            return Err(Error::CachedOidChange);
        }
        self.header.set_oid(oid);
        Ok(())
    }

    /// The object's data manager link, if any.
    pub fn p_jar(&self) -> Option<Jar> {
        self.header.jar()
    }

    /// Sets the jar. In a cache, only the same jar is accepted (a no-op); anything else is
    /// `Error::CachedJarChange`. Outside a cache it may be set, changed and cleared.
    ///
    /// # Errors
    ///
    /// `Error::CachedJarChange` when the object is in a cache and `jar` is not its jar.
    pub fn p_set_jar(&self, jar: Option<Jar>) -> Result<()> {
        let same = self.header.with_jar(|current| match (current, &jar) {
            (Some(a), Some(b)) => a.ptr_eq(b),
            (None, None) => true,
            _ => false,
        });
        if same {
            return Ok(());
        }
        if self.header.cache_key.get().is_some() {
            return Err(Error::CachedJarChange);
        }
        if jar.is_none() && self.header.state.get() != PState::Ghost {
            // Without a jar nothing can be Changed or Sticky: it is simply unsaved.
            self.header.state.set(PState::UpToDate);
        }
        drop(self.header.replace_jar(jar));
        Ok(())
    }

    /// The state: `UpToDate` without a jar; Sticky while the data is borrowed.
    pub fn p_state(&self) -> PState {
        if !self.header.has_jar() {
            return PState::UpToDate;
        }
        match self.header.state.get() {
            PState::UpToDate if self.is_borrowed() => PState::Sticky,
            state => state,
        }
    }

    /// `None` for a ghost, `Some(true)` when Changed, else `Some(false)`.
    pub fn p_changed(&self) -> Option<bool> {
        match self.p_state() {
            PState::Ghost => None,
            PState::Changed => Some(true),
            PState::UpToDate | PState::Sticky => Some(false),
        }
    }

    /// "unsaved" without a jar, else "ghost", "saved", "changed" or "sticky".
    pub fn p_status(&self) -> &'static str {
        if !self.header.has_jar() {
            return "unsaved";
        }
        match self.p_state() {
            PState::Ghost => "ghost",
            PState::UpToDate => "saved",
            PState::Changed => "changed",
            PState::Sticky => "sticky",
        }
    }

    /// Whether the object is Sticky (borrowed data counts as sticky).
    pub fn p_sticky(&self) -> bool {
        self.p_state() == PState::Sticky
    }

    /// The serial: the tid of the revision this object holds (zero if never stored).
    pub fn p_serial(&self) -> TimeStamp {
        self.header.serial.get()
    }

    /// Sets the serial; never loads the object.
    pub fn p_set_serial(&self, serial: TimeStamp) {
        self.header.serial.set(serial);
    }

    /// The estimated size in bytes: 0 by default, else a multiple of 64 (see docs/spec.md §2.7).
    pub fn p_estimated_size(&self) -> u64 {
        match self.header.size_units() {
            0 => 0,
            units => units_to_size(units),
        }
    }

    /// Sets the estimated size, stored as 24 bits of 64-byte units; a cached non-ghost's
    /// accounted size follows.
    pub fn p_set_estimated_size(&self, size: u64) {
        let old_units = self.header.size_units();
        self.header.set_size_units(size_to_units(size));
        if self.header.state.get() != PState::Ghost {
            if let Some((cache, key)) = self.header.cache_link() {
                cache.size_changed(key, old_units);
            }
        }
    }

    /// The modification time (the serial's `time_time()`), `None` for a zero serial. Loads
    /// a ghost and touches the object.
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see [`p_activate`](Self::p_activate)).
    pub fn p_mtime(&self) -> Result<Option<f64>> {
        self.accessed()?;
        let serial = self.p_serial();
        Ok((serial != TimeStamp::ZERO).then(|| serial.time_time()))
    }

    // ----- state transitions ----------------------------------------------------------

    /// Python's assignment to `_p_changed` (docs/spec.md §2.2): `None` deactivates an `UpToDate`
    /// object; `Some(true)` loads a ghost if needed and registers (unless already Changed);
    /// `Some(false)` makes a Changed or Sticky object `UpToDate`, keeping its data.
    /// Without a jar it does nothing. A failing register leaves the state unchanged.
    ///
    /// # Errors
    ///
    /// Only for `Some(true)` on an object with a jar: loading a ghost fails (see
    /// [`p_activate`](Self::p_activate)), or the data manager's `register` fails
    /// (`Error::ConnectionClosed` once it is gone). The object is left as it was.
    pub fn p_set_changed(&self, value: Option<bool>) -> Result<()> {
        if !self.header.has_jar() {
            return Ok(());
        }
        match (value, self.header.state.get()) {
            (None, PState::UpToDate) => {
                self.p_deactivate();
                Ok(())
            }
            (None, _) | (Some(true), PState::Changed) => Ok(()),
            (Some(true), PState::Ghost) => {
                self.load()?;
                self.register_or_unload()
            }
            (Some(true), _) => self.register_and_mark(),
            (Some(false), PState::Changed | PState::Sticky) => {
                self.header.state.set(PState::UpToDate);
                Ok(())
            }
            (Some(false), _) => Ok(()),
        }
    }

    /// Loads a ghost that has a jar; does nothing (no load, no touch) for a non-ghost.
    ///
    /// # Errors
    ///
    /// When loading the ghost fails: the data manager's `setstate` error (for a `Connection`:
    /// `Error::NotFound`, `Error::TypeMismatch`, `Error::Decode`, a storage error, ...),
    /// `Error::ConnectionClosed` once the data manager is gone, or `Error::NoStateLoaded` when
    /// no state was set or the ghost has no jar. The object stays a ghost.
    pub fn p_activate(&self) -> Result<()> {
        if self.header.state.get() == PState::Ghost {
            self.load()
        } else {
            Ok(())
        }
    }

    /// Asks an `UpToDate` object with a jar to become a ghost, dropping its state (volatile
    /// fields included). Changed, Sticky, borrowed and unsaved objects ignore the request.
    pub fn p_deactivate(&self) {
        if self.header.state.get() == PState::UpToDate && self.header.has_jar() {
            let _ = self.ghostify();
        }
    }

    /// Drops the state whatever it is (modifications of a Changed object are lost, nothing is
    /// registered) and becomes a ghost. A no-op on a ghost or an unsaved object; an error
    /// (`Error::Borrowed`) while the data is borrowed.
    ///
    /// # Errors
    ///
    /// `Error::Borrowed` while a read or write guard on the data is alive.
    pub fn p_invalidate(&self) -> Result<()> {
        if self.header.state.get() == PState::Ghost || !self.header.has_jar() {
            return Ok(());
        }
        if self.is_borrowed() {
            return Err(Error::Borrowed { operation: "invalidate the object" });
        }
        self.ghostify();
        Ok(())
    }

    /// Sets or clears the sticky flag. On a ghost with a jar, setting or clearing it is
    /// `Error::StickyGhost` (the same error both ways, as the reference); without a jar it is
    /// ignored. Either way a Changed object stops being Changed.
    ///
    /// # Errors
    ///
    /// `Error::StickyGhost` on a ghost that has a jar.
    pub fn p_set_sticky(&self, sticky: bool) -> Result<()> {
        if !self.header.has_jar() {
            return Ok(());
        }
        match (self.header.state.get(), sticky) {
            (PState::Ghost, _) => Err(Error::StickyGhost),
            (_, true) => {
                self.header.state.set(PState::Sticky);
                Ok(())
            }
            (_, false) => {
                self.header.state.set(PState::UpToDate);
                Ok(())
            }
        }
    }

    // ----- state (pickling) -----------------------------------------------------------

    /// The encoded persistent fields (volatile fields excluded), loading a ghost first. An
    /// access: a loaded object is touched (moved to the most recently used end of its cache).
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see [`p_activate`](Self::p_activate)), a write guard is alive
    /// (`Error::AlreadyBorrowed`), the object has no state (`Error::NoStateLoaded`), or the
    /// state does not encode (`Error::Encode`).
    pub fn p_getstate(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.p_getstate_into(&mut out)?;
        Ok(out)
    }

    /// `p_getstate`, appending to `out` (on error `out` may hold a partial encoding).
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see [`p_activate`](Self::p_activate)), a write guard is alive
    /// (`Error::AlreadyBorrowed`), the object has no state (`Error::NoStateLoaded`), or the
    /// state does not encode (`Error::Encode`).
    pub fn p_getstate_into(&self, out: &mut Vec<u8>) -> Result<()> {
        self.accessed()?;
        let data = self.data.try_borrow().map_err(|_| Error::AlreadyBorrowed)?;
        let value = data.as_deref().ok_or(Error::NoStateLoaded { oid: self.p_oid() })?;
        value.encode_state(out)
    }

    /// Replaces every persistent field from `bytes` and resets volatile fields to their
    /// `Default`; never changes the serial or the state. Bytes that do not decode are an
    /// `Error::Decode` and the object keeps its old state.
    ///
    /// # Errors
    ///
    /// `Error::Decode` when `bytes` do not decode as a `T`; `Error::AlreadyBorrowed` while a
    /// guard on the data is alive. Either way the old state is kept.
    pub fn p_setstate(&self, bytes: &[u8]) -> Result<()> {
        let value = T::decode_state(bytes)?;
        self.p_set_state_value(value)
    }

    /// Replaces every persistent field from `bytes` written under `stored`, another schema of
    /// `T`, read by field name (`Persistent::decode_evolved`); volatile fields are reset.
    ///
    /// # Errors
    ///
    /// As `Persistent::decode_evolved` (a type without a schema: `Error::Decode`);
    /// `Error::AlreadyBorrowed`. Either way the old state is kept.
    pub fn p_setstate_evolved(&self, bytes: &[u8], stored: &Schema) -> Result<()> {
        let Some(reader) = T::schema() else {
            return T::decode_evolved(StoredFields::new(stored, stored, bytes)).map(drop);
        };
        let value = T::decode_evolved(StoredFields::new(stored, reader, bytes))?;
        self.p_set_state_value(value)
    }

    /// Replaces the whole state with `value` (the typed form of `p_setstate`).
    ///
    /// # Errors
    ///
    /// `Error::AlreadyBorrowed` while a guard on the data is alive.
    pub fn p_set_state_value(&self, value: T) -> Result<()> {
        let mut data = self.data.try_borrow_mut().map_err(|_| Error::AlreadyBorrowed)?;
        let old = data.replace(Box::new(value));
        drop(data);
        drop(old);
        Ok(())
    }

    // ----- access ---------------------------------------------------------------------

    /// Reads the state through `f`: loads a ghost, touches the object, then calls `f`.
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see [`p_activate`](Self::p_activate)), a write guard is alive
    /// (`Error::AlreadyBorrowed`), or the object has no state (`Error::NoStateLoaded`).
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> Result<R> {
        self.accessed()?;
        let data = self.data.try_borrow().map_err(|_| Error::AlreadyBorrowed)?;
        match data.as_deref() {
            Some(value) => Ok(f(value)),
            None => Err(Error::NoStateLoaded { oid: self.p_oid() }),
        }
    }

    /// Changes the state through `f`: loads a ghost, touches, marks the object changed
    /// (registering it once), then calls `f`. If registering fails, `f` is not called.
    ///
    /// # Errors
    ///
    /// A guard on the data is alive (`Error::AlreadyBorrowed`; nothing is marked), or marking
    /// fails as in [`p_mark_changed`](Self::p_mark_changed), or the object has no state
    /// (`Error::NoStateLoaded`).
    #[inline]
    pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> Result<R> {
        if self.header.state.get() == PState::Changed {
            // Already Changed (so it has a jar and is loaded): nothing to register.
            self.header.touch();
            return self.modify(f);
        }
        self.update_unchanged(f)
    }

    /// `update` of an object that is not Changed yet: refuses before marking when the data
    /// is borrowed, then loads, touches and registers.
    fn update_unchanged<R>(&self, f: impl FnOnce(&mut T) -> R) -> Result<R> {
        if self.is_borrowed() {
            return Err(Error::AlreadyBorrowed);
        }
        self.p_mark_changed()?;
        self.modify(f)
    }

    /// Changes volatile data through `f`: loads a ghost and touches, never marks changed.
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see [`p_activate`](Self::p_activate)), a write guard is alive
    /// (`Error::AlreadyBorrowed`), or the object has no state (`Error::NoStateLoaded`).
    #[inline]
    pub fn update_volatile<R>(&self, f: impl FnOnce(&mut T) -> R) -> Result<R> {
        self.accessed()?;
        self.modify(f)
    }

    /// A read guard on the state (loads and touches first). While it lives the object is
    /// sticky: the cache will not ghostify it and invalidation reports an error.
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see [`p_activate`](Self::p_activate)), a write guard is alive
    /// (`Error::AlreadyBorrowed`), or the object has no state (`Error::NoStateLoaded`).
    pub fn read(&self) -> Result<Ref<'_, T>> {
        self.accessed()?;
        let data = self.data.try_borrow().map_err(|_| Error::AlreadyBorrowed)?;
        Ref::filter_map(data, Option::as_deref)
            .map_err(|_| Error::NoStateLoaded { oid: self.p_oid() })
    }

    /// The state if it is in memory, without loading or touching anything: `None` for a
    /// ghost and while a write guard is alive. For representations (`Debug`) that must have
    /// no side effect.
    #[must_use]
    pub fn peek(&self) -> Option<Ref<'_, T>> {
        if self.header.state.get() == PState::Ghost {
            return None;
        }
        Ref::filter_map(self.data.try_borrow().ok()?, Option::as_deref).ok()
    }

    /// A write guard on the state: loads, touches and marks the object changed when taken
    /// (whether or not the guard is then written through).
    ///
    /// # Errors
    ///
    /// A guard on the data is alive (`Error::AlreadyBorrowed`; nothing is marked), or marking
    /// fails as in [`p_mark_changed`](Self::p_mark_changed), or the object has no state
    /// (`Error::NoStateLoaded`).
    pub fn write(&self) -> Result<RefMut<'_, T>> {
        if self.is_borrowed() {
            return Err(Error::AlreadyBorrowed);
        }
        self.p_mark_changed()?;
        let data = self.data.try_borrow_mut().map_err(|_| Error::AlreadyBorrowed)?;
        RefMut::filter_map(data, Option::as_deref_mut)
            .map_err(|_| Error::NoStateLoaded { oid: self.p_oid() })
    }

    /// Building block for hand-written accessors (the reference's `_p_getattr`): loads a
    /// ghost and touches the object.
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see [`p_activate`](Self::p_activate)).
    #[inline]
    pub fn p_accessed(&self) -> Result<()> {
        self.accessed()
    }

    /// Building block for hand-written setters (the reference's `_p_setattr` plus
    /// `_p_changed = True`): loads, touches, and registers the object unless it is already
    /// Changed. Without a jar it only loads and touches.
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see [`p_activate`](Self::p_activate)), or the data manager's
    /// `register` fails (`Error::ConnectionClosed` once it is gone). The object is left as it
    /// was.
    #[inline]
    pub fn p_mark_changed(&self) -> Result<()> {
        if self.header.state.get() == PState::Ghost {
            self.load()?;
            if self.header.has_jar() {
                return self.register_or_unload();
            }
            return Ok(());
        }
        self.header.touch();
        if self.header.state.get() != PState::Changed && self.header.has_jar() {
            self.register_and_mark()?;
        }
        Ok(())
    }

    // ----- internals ------------------------------------------------------------------

    #[inline]
    fn accessed(&self) -> Result<()> {
        if self.header.is_recent() {
            // The MRU member of its ring: loaded, and already where a touch would put it.
            return Ok(());
        }
        if self.header.state.get() == PState::Ghost {
            self.load()
        } else {
            self.header.touch_not_recent();
            Ok(())
        }
    }

    #[inline]
    fn modify<R>(&self, f: impl FnOnce(&mut T) -> R) -> Result<R> {
        let mut data = self.data.try_borrow_mut().map_err(|_| Error::AlreadyBorrowed)?;
        match data.as_deref_mut() {
            Some(value) => Ok(f(value)),
            None => Err(Error::NoStateLoaded { oid: self.p_oid() }),
        }
    }

    /// Registers an object this call just loaded; if registering fails it becomes a ghost
    /// again, so the failed call leaves it exactly as it was.
    fn register_or_unload(&self) -> Result<()> {
        let registered = self.register_and_mark();
        if registered.is_err() {
            self.ghostify();
        }
        registered
    }

    fn register_and_mark(&self) -> Result<()> {
        let jar = self.header.jar().ok_or(Error::ConnectionClosed)?;
        jar.data_manager()?.register(self)?;
        self.header.state.set(PState::Changed);
        Ok(())
    }

    /// Loads a ghost (docs/spec.md §2.3). Counts as Changed while the data manager runs; joins the
    /// ring on entry and leaves it again if the load fails.
    fn load(&self) -> Result<()> {
        let Some(jar) = self.header.jar() else {
            return Err(Error::NoStateLoaded { oid: self.p_oid() });
        };
        let dm = jar.data_manager()?;
        // A ghost made by `Cache::new_ghost` may still hold the data it had: the data
        // manager's state replaces it, so it goes first (and a data manager that sets no
        // state is still `NoStateLoaded`, not a load of the old data).
        drop(self.take_state());
        self.header.state.set(PState::Changed);
        if let Some((cache, key)) = self.header.cache_link() {
            cache.join_ring(key);
        }
        // If the data manager panics (a field's `Deserialize` that panics, say), the guard
        // undoes the load while the panic unwinds: the object is a ghost again, never a
        // Changed object without state.
        let guard = UndoLoadOnUnwind(self);
        let loaded = dm.setstate(self).and_then(|()| match self.data.try_borrow() {
            Ok(data) if data.is_some() => Ok(()),
            _ => Err(Error::NoStateLoaded { oid: self.p_oid() }),
        });
        std::mem::forget(guard);
        match loaded {
            Ok(()) => {
                self.header.state.set(PState::UpToDate);
                Ok(())
            }
            Err(error) => {
                self.undo_load();
                Err(error)
            }
        }
    }

    /// Back to a ghost after a failed load: no state, out of the ring and the counters.
    fn undo_load(&self) {
        let old = self.take_state();
        self.header.state.set(PState::Ghost);
        // The slot is read again: a sweep run by the data manager may have rebuilt the table
        // (`shrink_if_sparse`), giving the object a new slot key.
        let held = self.header.cache_link().and_then(|(cache, key)| cache.leave_ring(key));
        drop(old);
        drop(held);
    }

    /// Drops the state and becomes a ghost, leaving the ring. Returns false (doing nothing)
    /// while the data is borrowed.
    fn ghostify(&self) -> bool {
        let Ok(mut data) = self.data.try_borrow_mut() else {
            return false;
        };
        let old = data.take();
        drop(data);
        self.header.state.set(PState::Ghost);
        let held = self.header.cache_link().and_then(|(cache, key)| cache.leave_ring(key));
        drop(old);
        drop(held);
        true
    }

    /// Takes the state out of the cell (`None` if there is none or it is borrowed); the
    /// caller decides when it is dropped (after any cache table borrow ends).
    pub(crate) fn take_state(&self) -> Option<Box<T>> {
        self.data.try_borrow_mut().ok().and_then(|mut data| data.take())
    }

    #[inline]
    pub(crate) fn is_borrowed(&self) -> bool {
        self.data.try_borrow_mut().is_err()
    }
}

/// A dropped object leaves its cache's identity map (ghosts are held weakly there).
impl<T> Drop for PObject<T> {
    fn drop(&mut self) {
        let (Some(key), Some(oid)) = (self.header.cache_key.get(), self.header.oid()) else {
            return;
        };
        if let Some(cache) = self.header.jar.get_mut().as_ref().and_then(Jar::cache) {
            cache.forget_dropped(oid, key);
        }
    }
}

/// Undoes a load when dropped; `load` forgets it on the normal path, so it only runs while
/// a panic in the data manager unwinds.
struct UndoLoadOnUnwind<'a, T: Persistent>(&'a PObject<T>);

impl<T: Persistent> Drop for UndoLoadOnUnwind<'_, T> {
    fn drop(&mut self) {
        self.0.undo_load();
    }
}
