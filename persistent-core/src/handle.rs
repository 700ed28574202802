//! `P<T>`: the shared handle to a persistent object. Cloning shares identity (like `Rc`);
//! equality and hashing are by identity. It dereferences to the object type, so the
//! protocol (`p_*`) and the derive's field accessors are called right on the handle.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::rc::Rc;

use crate::any_object::ObjectRef;
use crate::object::PObject;
use crate::persistent::{ObjectCell, Persistent};
use crate::state::PState;
use crate::weak::WeakP;

/// A handle to a persistent object whose state is a `T`.
pub struct P<T: Persistent>(Rc<T::Object>);

impl<T: Persistent> P<T> {
    /// A new unsaved object holding `value` (no jar, no oid).
    pub fn new(value: T) -> P<T> {
        P(Rc::new(T::Object::from_object(PObject::new(value))))
    }

    /// An object without state, for `Cache::new_ghost` (Python's `C.__new__(C)`).
    #[must_use]
    pub fn uninitialized() -> P<T> {
        P(Rc::new(T::Object::from_object(PObject::uninitialized())))
    }

    pub(crate) fn from_rc(rc: Rc<T::Object>) -> P<T> {
        P(rc)
    }

    /// The persistent object behind the handle (the protocol without field accessors).
    #[must_use]
    pub fn as_object(&self) -> &PObject<T> {
        self.0.object()
    }

    /// A type-erased handle to the same object.
    #[must_use]
    pub fn erase(&self) -> ObjectRef {
        ObjectRef(self.0.clone())
    }

    /// An in-memory weak handle to this object (like `Rc::downgrade`): it does not keep the
    /// object alive; `WeakP::upgrade` gives it back while something else holds it. For a
    /// weak reference that is stored, see [`WeakRef`](crate::WeakRef).
    #[must_use]
    pub fn downgrade(&self) -> WeakP<T> {
        WeakP(Rc::downgrade(&self.0))
    }

    /// Whether both handles point to the same object.
    #[must_use]
    pub fn ptr_eq(a: &P<T>, b: &P<T>) -> bool {
        Rc::ptr_eq(&a.0, &b.0)
    }
}

impl<T: Persistent> Deref for P<T> {
    type Target = T::Object;

    #[inline]
    fn deref(&self) -> &T::Object {
        &self.0
    }
}

impl<T: Persistent> Clone for P<T> {
    fn clone(&self) -> P<T> {
        P(self.0.clone())
    }
}

/// Identity: two handles are equal when they point to the same object.
impl<T: Persistent> PartialEq for P<T> {
    fn eq(&self, other: &P<T>) -> bool {
        P::ptr_eq(self, other)
    }
}

impl<T: Persistent> Eq for P<T> {}

/// Hashes the object's address, consistent with identity equality.
impl<T: Persistent> Hash for P<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (Rc::as_ptr(&self.0).cast::<u8>() as usize).hash(state);
    }
}

/// `P { oid: 0x01, state: Account { .. } }`: the oid (or `None`) and the state with the
/// type's own `Debug` when it is loaded; a ghost shows `<ghost>` and an object whose state
/// is being written shows `<borrowed>`. Never loads anything. The persistence protocol's
/// representation (docs/spec.md §2.9) is the `Debug` of [`P::as_object`].
impl<T: Persistent + fmt::Debug> fmt::Debug for P<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let object = self.as_object();
        let mut out = f.debug_struct("P");
        match object.p_oid() {
            Some(oid) => out.field("oid", &format_args!("{oid}")),
            None => out.field("oid", &format_args!("None")),
        };
        match object.peek() {
            Some(state) => out.field("state", &*state),
            None if object.p_state() == PState::Ghost => {
                out.field("state", &format_args!("<ghost>"))
            }
            None => out.field("state", &format_args!("<borrowed>")),
        };
        out.finish()
    }
}

impl<T: Persistent> From<&P<T>> for ObjectRef {
    fn from(p: &P<T>) -> ObjectRef {
        p.erase()
    }
}

impl<T: Persistent> From<P<T>> for ObjectRef {
    fn from(p: P<T>) -> ObjectRef {
        ObjectRef(p.0)
    }
}
