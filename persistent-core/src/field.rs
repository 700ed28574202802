//! What generated getters return. A field that is a handle to a persistent object (`P<T>`,
//! a persistent collection, or an `Option` of one) comes back as another handle to the same
//! object (`SharedHandle`): no borrow is kept, and writes through it reach the stored
//! object. Any other field that is not a plain `Copy` value comes back as `FieldGuard`, a
//! read guard on the field inside the loaded state. Writing through it does not
//! compile (so `note.meta()?.revisions += 1`, which would change a copy, cannot be written
//! by accident), and while it lives the object counts as borrowed (sticky: not evicted, not
//! invalidated). `Copy` fields are returned by value instead; the derive decides which.

use std::cell::Ref;
use std::fmt;
use std::ops::Deref;

use crate::error::Result;
use crate::handle::P;
use crate::object::PObject;
use crate::persistent::Persistent;

/// A value that is a handle to a persistent object of its own (`P<T>`, the persistent
/// collections): the generated getter of such a field returns `share()`, another handle to
/// the same object, so the parent object is not kept borrowed and writes through the handle
/// reach the stored object.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a persistent handle",
    note = "the getter of a field whose type is named `P`, `PersistentList`, `PersistentMapping` \
            or `PersistentCollection` (or an `Option` of one) returns a shared handle; for \
            another type of that name, mark the field `#[persistent(guard)]`"
)]
pub trait SharedHandle {
    /// Another handle to the same persistent object (identity shared, nothing copied).
    #[must_use]
    fn share(&self) -> Self;
}

impl<T: Persistent> SharedHandle for P<T> {
    #[inline]
    fn share(&self) -> Self {
        self.clone()
    }
}

/// A read guard on one field of a persistent object's state, returned by the generated
/// getter of every field that is not a plain `Copy` value. Dereferences to the field.
///
/// Keep it short-lived: while it lives the object's state is borrowed, so a write to the
/// same object returns `Error::AlreadyBorrowed` and the cache will not evict the object.
/// Clone the value (`(*guard).clone()`, `guard.to_owned()`) to keep it longer.
pub struct FieldGuard<'a, F: ?Sized>(Ref<'a, F>);

impl<F: ?Sized> Deref for FieldGuard<'_, F> {
    type Target = F;

    #[inline]
    fn deref(&self) -> &F {
        &self.0
    }
}

impl<F: ?Sized + fmt::Debug> fmt::Debug for FieldGuard<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl<F: ?Sized + fmt::Display> fmt::Display for FieldGuard<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

/// Compares the field with any value the field's type compares with
/// (`assert_eq!(person.name()?, "Ada")`).
impl<F: ?Sized + PartialEq<U>, U> PartialEq<U> for FieldGuard<'_, F> {
    fn eq(&self, other: &U) -> bool {
        *self.0 == *other
    }
}

/// Loads the object if it is a ghost, touches it, and borrows the field `project` picks.
///
/// # Errors
/// A failed load, or `Error::AlreadyBorrowed` while a write guard is alive.
#[inline]
pub fn field_guard<S: Persistent, F: ?Sized>(
    object: &PObject<S>,
    project: impl FnOnce(&S) -> &F,
) -> Result<FieldGuard<'_, F>> {
    object.read().map(|state| FieldGuard(Ref::map(state, project)))
}
