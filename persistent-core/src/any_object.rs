//! Type-erased views of persistent objects: `AnyObject` (the protocol without the state
//! type, what a data manager sees) and `ObjectRef` (a shared handle of unknown type, what
//! the cache holds), `PObject`'s implementation of `AnyObject`, and `Strong`, the erased
//! strong handle the cache's ring keeps.

use std::any::Any;
use std::fmt;
use std::rc::{Rc, Weak};

use crate::codec::schema::Schema;
use crate::error::Result;
use crate::header::Header;
use crate::jar::Jar;
use crate::object::PObject;
use crate::oid::Oid;
use crate::persistent::{ObjectCell, Persistent};
use crate::state::PState;
use crate::timestamp::TimeStamp;
use crate::P;

/// The persistence protocol of an object whose state type is not known statically.
///
/// Each method keeps the rule of the `PObject` method of the same name.
pub trait AnyObject: 'static {
    /// See [`PObject::p_oid`].
    fn p_oid(&self) -> Option<Oid>;
    /// See [`PObject::p_jar`].
    fn p_jar(&self) -> Option<Jar>;
    /// See [`PObject::p_state`].
    fn p_state(&self) -> PState;
    /// See [`PObject::p_serial`].
    fn p_serial(&self) -> TimeStamp;
    /// See [`PObject::p_set_serial`].
    fn p_set_serial(&self, serial: TimeStamp);
    /// See [`PObject::p_estimated_size`].
    fn p_estimated_size(&self) -> u64;
    /// See [`PObject::p_set_estimated_size`].
    fn p_set_estimated_size(&self, size: u64);
    /// See [`PObject::p_set_changed`].
    ///
    /// # Errors
    ///
    /// As [`PObject::p_set_changed`].
    fn p_set_changed(&self, value: Option<bool>) -> Result<()>;
    /// See [`PObject::p_activate`].
    ///
    /// # Errors
    ///
    /// As [`PObject::p_activate`].
    fn p_activate(&self) -> Result<()>;
    /// See [`PObject::p_deactivate`].
    fn p_deactivate(&self);
    /// See [`PObject::p_invalidate`].
    ///
    /// # Errors
    ///
    /// As [`PObject::p_invalidate`].
    fn p_invalidate(&self) -> Result<()>;
    /// See [`PObject::p_getstate`].
    ///
    /// # Errors
    ///
    /// As [`PObject::p_getstate`].
    fn p_getstate(&self) -> Result<Vec<u8>>;
    /// See [`PObject::p_getstate_into`].
    ///
    /// # Errors
    ///
    /// As [`PObject::p_getstate_into`].
    fn p_getstate_into(&self, out: &mut Vec<u8>) -> Result<()>;
    /// See [`PObject::p_setstate`].
    ///
    /// # Errors
    ///
    /// As [`PObject::p_setstate`].
    fn p_setstate(&self, bytes: &[u8]) -> Result<()>;
    /// Replaces the state from `bytes` written under the schema `stored` (another schema of
    /// this type), read by field name (`Persistent::decode_evolved`).
    ///
    /// # Errors
    ///
    /// As `Persistent::decode_evolved`; `Error::AlreadyBorrowed`. The old state is kept.
    fn p_setstate_evolved(&self, bytes: &[u8], stored: &Schema) -> Result<()>;
    /// The schema of this object's type (`Persistent::schema`).
    fn schema(&self) -> Option<&'static Schema>;
    /// The type name records of this object are written under
    /// (`Persistent::stored_type_name`).
    fn type_name(&self) -> &'static str;
    /// Whether a record stored under `name` holds this object's type
    /// (`Persistent::reads_type_name`).
    fn reads_type_name(&self, name: &str) -> bool;
    /// See [`Persistent::claim_type_name`].
    ///
    /// # Errors
    /// `Error::TypeNameClash`.
    fn claim_type_name(&self) -> Result<()>;
    /// Whether this object's type merges write conflicts
    /// (`Persistent::RESOLVES_CONFLICTS`).
    fn resolves_conflicts(&self) -> bool;
    /// Merges a write conflict on states (docs/spec.md §8): decodes `old` (the state the
    /// transaction read), `committed` (the state committed since) and `mine` (the
    /// transaction's own) as this object's type, asks `Persistent::resolve_conflict`, and
    /// returns the merged state encoded. `None` when the type refuses, or does not resolve
    /// conflicts at all. References are decoded and encoded through the thread's reference
    /// context. The object itself is neither read nor changed.
    ///
    /// # Errors
    ///
    /// `Error::Decode` when a state does not decode, `Error::Encode` when the merged one does
    /// not encode, or an error of the reference context.
    fn p_resolve_conflict(
        &self,
        old: &[u8],
        committed: &[u8],
        mine: &[u8],
    ) -> Result<Option<Vec<u8>>>;
    /// The object as `Any`, to downcast to `PObject<T>`.
    fn as_any(&self) -> &dyn Any;
    #[doc(hidden)]
    fn header(&self) -> &Header;
    #[doc(hidden)]
    fn is_borrowed(&self) -> bool;
    /// Drops the state in place (the sweep's ghostify; the caller sets the state).
    #[doc(hidden)]
    fn drop_state(&self);
}

impl dyn AnyObject {
    /// The typed object, if its state type is `T`.
    pub fn downcast_ref<T: Persistent>(&self) -> Option<&PObject<T>> {
        self.as_any().downcast_ref::<PObject<T>>()
    }
}

/// What the cache stores: any object cell, erased.
#[doc(hidden)]
pub trait ErasedCell: 'static {
    fn erased(&self) -> &dyn AnyObject;
    /// The object's header (one dynamic call, for the cache's hot loops).
    fn header(&self) -> &Header;
    /// Whether the object's data is borrowed (one dynamic call).
    fn is_borrowed(&self) -> bool;
    fn into_any_rc(self: Rc<Self>) -> Rc<dyn Any>;
}

impl<O: ObjectCell> ErasedCell for O {
    fn erased(&self) -> &dyn AnyObject {
        self.object()
    }

    fn header(&self) -> &Header {
        &self.object().header
    }

    fn is_borrowed(&self) -> bool {
        self.object().is_borrowed()
    }

    fn into_any_rc(self: Rc<Self>) -> Rc<dyn Any> {
        self
    }
}

/// A shared handle to a persistent object of any type; cloning shares identity.
#[derive(Clone)]
pub struct ObjectRef(pub(crate) Rc<dyn ErasedCell>);

impl ObjectRef {
    /// The object's protocol.
    #[must_use]
    pub fn object(&self) -> &dyn AnyObject {
        self.0.erased()
    }

    /// The typed handle, if the object's state type is `T`.
    pub fn downcast<T: Persistent>(&self) -> Option<P<T>> {
        self.0.clone().into_any_rc().downcast::<T::Object>().ok().map(P::from_rc)
    }

    /// Whether both handles point to the same object.
    #[must_use]
    pub fn ptr_eq(&self, other: &ObjectRef) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    /// How many strong handles exist (the cache's included).
    #[must_use]
    pub fn strong_count(&self) -> usize {
        Rc::strong_count(&self.0)
    }

    pub(crate) fn downgrade(&self) -> Weak<dyn ErasedCell> {
        Rc::downgrade(&self.0)
    }
}

impl std::ops::Deref for ObjectRef {
    type Target = dyn AnyObject;

    fn deref(&self) -> &dyn AnyObject {
        self.0.erased()
    }
}

impl fmt::Debug for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectRef({} oid {:?})", self.type_name(), self.p_oid())
    }
}

impl<T: Persistent> AnyObject for PObject<T> {
    fn p_oid(&self) -> Option<Oid> {
        PObject::p_oid(self)
    }
    fn p_jar(&self) -> Option<Jar> {
        PObject::p_jar(self)
    }
    fn p_state(&self) -> PState {
        PObject::p_state(self)
    }
    fn p_serial(&self) -> TimeStamp {
        PObject::p_serial(self)
    }
    fn p_set_serial(&self, serial: TimeStamp) {
        PObject::p_set_serial(self, serial);
    }
    fn p_estimated_size(&self) -> u64 {
        PObject::p_estimated_size(self)
    }
    fn p_set_estimated_size(&self, size: u64) {
        PObject::p_set_estimated_size(self, size);
    }
    fn p_set_changed(&self, value: Option<bool>) -> Result<()> {
        PObject::p_set_changed(self, value)
    }
    fn p_activate(&self) -> Result<()> {
        PObject::p_activate(self)
    }
    fn p_deactivate(&self) {
        PObject::p_deactivate(self);
    }
    fn p_invalidate(&self) -> Result<()> {
        PObject::p_invalidate(self)
    }
    fn p_getstate(&self) -> Result<Vec<u8>> {
        PObject::p_getstate(self)
    }
    fn p_getstate_into(&self, out: &mut Vec<u8>) -> Result<()> {
        PObject::p_getstate_into(self, out)
    }
    fn p_setstate(&self, bytes: &[u8]) -> Result<()> {
        PObject::p_setstate(self, bytes)
    }
    fn p_setstate_evolved(&self, bytes: &[u8], stored: &Schema) -> Result<()> {
        PObject::p_setstate_evolved(self, bytes, stored)
    }
    fn schema(&self) -> Option<&'static Schema> {
        T::schema()
    }
    fn type_name(&self) -> &'static str {
        T::stored_type_name()
    }
    fn reads_type_name(&self, name: &str) -> bool {
        T::reads_type_name(name)
    }
    fn claim_type_name(&self) -> Result<()> {
        T::claim_type_name()
    }
    fn resolves_conflicts(&self) -> bool {
        T::RESOLVES_CONFLICTS
    }
    fn p_resolve_conflict(
        &self,
        old: &[u8],
        committed: &[u8],
        mine: &[u8],
    ) -> Result<Option<Vec<u8>>> {
        if !T::RESOLVES_CONFLICTS {
            return Ok(None);
        }
        let old = T::decode_state(old)?;
        let committed = T::decode_state(committed)?;
        let mine = T::decode_state(mine)?;
        let Some(merged) = T::resolve_conflict(&old, &committed, &mine) else {
            return Ok(None);
        };
        let mut out = Vec::new();
        merged.encode_state(&mut out)?;
        Ok(Some(out))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn header(&self) -> &Header {
        &self.header
    }
    fn is_borrowed(&self) -> bool {
        PObject::is_borrowed(self)
    }
    fn drop_state(&self) {
        drop(self.take_state());
    }
}

/// Used by the cache to hold an object strongly while it is in the ring.
pub(crate) type Strong = Rc<dyn ErasedCell>;
