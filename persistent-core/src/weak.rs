//! Weak references (docs/spec.md §12): `WeakP<T>`, the in-memory weak handle of a `P<T>`
//! (what `rc::Weak` is to `Rc`), and `WeakRef<T>`, the persistent weak reference (the
//! reference's `persistent.wref.WeakRef`): stored as its target's oid like a `P<T>`, but
//! left out of the record's reference list, so it does not keep the target reachable for
//! garbage collection, and followed with `get()`, which gives `None` once the target is gone.
//! What does not live here: the reference context that encodes and decodes oids
//! (`codec::reference`), and the mapping keyed by weak references (the collections crate).

use std::cell::RefCell;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::rc::Weak;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::codec::reference::{current, stash, OidVisitor};
use crate::codec::shape::WEAK_REFERENCE;
use crate::error::{Error, Result};
use crate::jar::{Home, Jar};
use crate::oid::Oid;
use crate::persistent::Persistent;
use crate::P;

/// An in-memory weak handle to a persistent object (`P::downgrade`): it does not keep the
/// object alive, and [`upgrade`](Self::upgrade) gives the object back only while something
/// else (a `P<T>`, or the cache, which holds loaded objects) still holds it. Nothing of it
/// is stored; the persistent weak reference is [`WeakRef`].
pub struct WeakP<T: Persistent>(pub(crate) Weak<T::Object>);

impl<T: Persistent> WeakP<T> {
    /// A weak handle that never upgrades (like `rc::Weak::new`).
    #[must_use]
    pub fn new() -> WeakP<T> {
        WeakP(Weak::new())
    }

    /// The object, if it is still in memory.
    #[must_use]
    pub fn upgrade(&self) -> Option<P<T>> {
        self.0.upgrade().map(P::from_rc)
    }

    /// Whether both point to the same object (or both were made by `new`).
    #[must_use]
    pub fn ptr_eq(a: &WeakP<T>, b: &WeakP<T>) -> bool {
        Weak::ptr_eq(&a.0, &b.0)
    }

    /// The address of the object's allocation (stable while any weak handle lives).
    fn address(&self) -> usize {
        self.0.as_ptr().cast::<u8>() as usize
    }
}

impl<T: Persistent> Default for WeakP<T> {
    fn default() -> WeakP<T> {
        WeakP::new()
    }
}

impl<T: Persistent> Clone for WeakP<T> {
    fn clone(&self) -> WeakP<T> {
        WeakP(self.0.clone())
    }
}

/// `WeakP(alive)` or `WeakP(dropped)`; never loads.
impl<T: Persistent> fmt::Debug for WeakP<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.0.strong_count() > 0 { "alive" } else { "dropped" };
        write!(f, "WeakP({state})")
    }
}

/// Where a weak reference's target is stored, once that is known.
#[derive(Clone)]
struct Stored {
    oid: Oid,
    /// The jar it loads through: the target's own, or the connection that decoded the
    /// reference. `None` when decoded by a context without a jar.
    jar: Option<Jar>,
}

/// What equality and hashing compare.
#[derive(PartialEq, Eq, Hash)]
enum Identity {
    /// A stored (or added) target: its oid where it lives.
    Stored(Option<Home>, Oid),
    /// A target without an oid: the object itself.
    Unsaved(usize),
}

/// A persistent weak reference to a `T` object (docs/spec.md §12; the reference's
/// `persistent.wref.WeakRef`): a field or element that names an object without keeping it
/// alive, neither in memory nor in the database.
///
/// * Stored as the target's oid (to serde, a newtype named `persistent::WeakReference`), but
///   the oid is not added to the record's reference list, so garbage collection (pack) may
///   remove a target that nothing references strongly.
/// * [`get`](Self::get) gives the target: the object in memory if there is one, else loaded
///   through the connection that loaded the reference; `Ok(None)` once the target's record
///   is gone (collected), or when the target was never stored and is no longer in memory.
/// * Equality and hashing follow the target: the same oid in the same database (whichever
///   connection), or, while the target has no oid, the same object. A reference made to a
///   new object takes the oid the object gets when it is added or committed, so its hash
///   changes then: do not keep such a reference as a hash key across that commit.
/// * Storing a reference whose target is new adds the target to the transaction, as a
///   `P<T>` would (it is stored by the same commit, but not listed as referenced). Storing a
///   reference whose target was never stored and no longer exists is
///   `Error::DeadWeakReference`.
pub struct WeakRef<T: Persistent> {
    /// The target in memory, never keeping it alive.
    target: RefCell<WeakP<T>>,
    /// Where the target is stored, once known (kept when the target leaves memory).
    stored: RefCell<Option<Stored>>,
}

impl<T: Persistent> WeakRef<T> {
    /// A weak reference to `target`.
    #[must_use]
    pub fn new(target: &P<T>) -> WeakRef<T> {
        let weak = WeakRef { target: RefCell::new(target.downgrade()), stored: RefCell::new(None) };
        weak.bind(target);
        weak
    }

    /// The reference read from a record: only the oid, and the jar to load it through.
    fn from_stored(oid: Oid, jar: Option<Jar>) -> WeakRef<T> {
        WeakRef {
            target: RefCell::new(WeakP::new()),
            stored: RefCell::new(Some(Stored { oid, jar })),
        }
    }

    /// The target's oid, when it has one (it gets one when it is added or committed).
    #[must_use]
    pub fn oid(&self) -> Option<Oid> {
        self.refresh();
        self.stored.borrow().as_ref().map(|stored| stored.oid)
    }

    /// The target: the object in memory when there is one (it is not loaded then), else
    /// the object loaded through the connection that read this reference (`Connection::get`
    /// of its oid). `Ok(None)` when the target's record does not exist (it was collected, or
    /// never committed), or when the target was never stored and no longer exists.
    ///
    /// # Errors
    ///
    /// As `Connection::get`, except that a missing target record (`Error::NotFound`, or
    /// `Error::Dangling` when loaded through a reference) is `Ok(None)`:
    /// `Error::TypeMismatch` for a target of another type, `Error::ConnectionClosed` when the
    /// connection is closed, a load error. `Error::NoCodecContext` for a reference decoded
    /// outside a connection (one that has an oid but no connection to load it through).
    pub fn get(&self) -> Result<Option<P<T>>> {
        if let Some(target) = self.live() {
            return Ok(Some(target));
        }
        let Some(Stored { oid, jar }) = self.stored.borrow().clone() else {
            return Ok(None);
        };
        let found = load::<T>(&jar.ok_or(Error::NoCodecContext)?, oid)?;
        if let Some(target) = &found {
            *self.target.borrow_mut() = target.downgrade();
        }
        Ok(found)
    }

    /// The target, if it is in memory.
    fn live(&self) -> Option<P<T>> {
        self.target.borrow().upgrade()
    }

    /// Takes the oid and jar from the target while it is in memory: the object is the truth
    /// (an abort takes a new object's oid away again).
    fn refresh(&self) {
        if let Some(target) = self.live() {
            self.bind(&target);
        }
    }

    fn bind(&self, target: &P<T>) {
        let object = target.as_object();
        let stored =
            object.p_oid().zip(object.p_jar()).map(|(oid, jar)| Stored { oid, jar: Some(jar) });
        *self.stored.borrow_mut() = stored;
    }

    fn identity(&self) -> Identity {
        self.refresh();
        match &*self.stored.borrow() {
            Some(stored) => Identity::Stored(stored.jar.as_ref().map(Jar::home), stored.oid),
            None => Identity::Unsaved(self.target.borrow().address()),
        }
    }

    /// The oid to store, in the thread's reference context; `None` when the target was
    /// never stored and is gone.
    fn encode_oid(&self) -> Result<Option<Oid>> {
        let context = current()?;
        if let Some(target) = self.live() {
            let oid = context.encode_weak_reference(&target.erase())?;
            self.bind(&target);
            return Ok(Some(oid));
        }
        let Some(stored) = self.stored.borrow().clone() else {
            return Ok(None);
        };
        if let (Some(mine), Some(here)) = (&stored.jar, context.jar()) {
            if mine.home() != here.home() {
                return Err(Error::ForeignObject { oid: Some(stored.oid) });
            }
        }
        Ok(Some(stored.oid))
    }
}

/// The oid a weak reference is stored as, in the thread's reference context (a connection
/// committing): what its `Serialize` writes, for a hand-written `Persistent` impl that
/// orders entries by it. A new target is added to the transaction, as when the reference is
/// encoded. `None` when the target was never stored and no longer exists (encoding the
/// reference then fails with `Error::DeadWeakReference`).
///
/// # Errors
///
/// `Error::NoCodecContext` outside a reference context; `Error::ForeignObject` for a target
/// of another connection (or database); as `Connection::add` for a new target.
pub fn weak_reference_oid<T: Persistent>(weak: &WeakRef<T>) -> Result<Option<Oid>> {
    weak.encode_oid()
}

/// `Connection::get` through a jar, with a missing record as `None`.
fn load<T: Persistent>(jar: &Jar, oid: Oid) -> Result<Option<P<T>>> {
    let cache = jar
        .cache()
        .ok_or_else(|| Error::Custom("the weak reference's data manager has no cache".into()))?;
    if let Some(obj) = cache.get(oid) {
        return match obj.downcast::<T>() {
            Some(target) => Ok(Some(target)),
            None => Err(Error::TypeMismatch {
                oid,
                expected: T::stored_type_name().to_string(),
                found: obj.type_name().to_string(),
            }),
        };
    }
    let ghost = P::<T>::uninitialized();
    cache.new_ghost(jar, oid, &ghost.erase())?;
    match ghost.as_object().p_activate() {
        Ok(()) => Ok(Some(ghost)),
        Err(error) => {
            cache.remove(oid);
            match error {
                Error::NotFound(missing) | Error::Dangling { oid: missing, .. }
                    if missing == oid =>
                {
                    Ok(None)
                }
                error => Err(error),
            }
        }
    }
}

impl<T: Persistent> Clone for WeakRef<T> {
    fn clone(&self) -> WeakRef<T> {
        WeakRef {
            target: RefCell::new(self.target.borrow().clone()),
            stored: RefCell::new(self.stored.borrow().clone()),
        }
    }
}

impl<T: Persistent> From<&P<T>> for WeakRef<T> {
    fn from(target: &P<T>) -> WeakRef<T> {
        WeakRef::new(target)
    }
}

/// By target: the same oid in the same database, or the same object while it has no oid.
impl<T: Persistent> PartialEq for WeakRef<T> {
    fn eq(&self, other: &WeakRef<T>) -> bool {
        self.identity() == other.identity()
    }
}

impl<T: Persistent> Eq for WeakRef<T> {}

/// Consistent with equality: the oid and database, or the object's address while unsaved.
impl<T: Persistent> Hash for WeakRef<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.identity().hash(state);
    }
}

/// `WeakRef(oid 0x01)`, `WeakRef(unsaved)` or `WeakRef(dead)` (never stored, gone); never
/// loads.
impl<T: Persistent> fmt::Debug for WeakRef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.oid(), self.live()) {
            (Some(oid), _) => write!(f, "WeakRef(oid {oid})"),
            (None, Some(_)) => f.write_str("WeakRef(unsaved)"),
            (None, None) => f.write_str("WeakRef(dead)"),
        }
    }
}

/// Stored as the target's oid, presented to serde as a newtype named
/// `persistent::WeakReference`; the connection does not list it as a reference.
impl<T: Persistent> Serialize for WeakRef<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.encode_oid().and_then(|oid| oid.ok_or(Error::DeadWeakReference)) {
            Ok(oid) => serializer.serialize_newtype_struct(WEAK_REFERENCE, &oid.0),
            Err(error) => Err(serde::ser::Error::custom(stash(error))),
        }
    }
}

/// Read back as the oid and the decoding connection's jar; nothing is loaded until `get`.
impl<'de, T: Persistent> Deserialize<'de> for WeakRef<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<WeakRef<T>, D::Error> {
        let oid = Oid(deserializer.deserialize_newtype_struct(WEAK_REFERENCE, OidVisitor)?);
        let context = current().map_err(|error| serde::de::Error::custom(stash(error)))?;
        Ok(WeakRef::from_stored(oid, context.jar()))
    }
}
