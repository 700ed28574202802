//! The single write path of the collections: apply a change to the state of a persistent
//! object, registering and marking it first, and doing nothing at all if that fails. Which
//! operations call it (and so mark) is decided by the collection methods, not here.

use persistent_core::{PObject, PState, Persistent, Result};

/// Applies `apply` to the state of `object` as a change (docs/spec.md §2.5): loads a ghost,
/// touches, registers the object with its data manager unless it is already Changed, then
/// applies. If the state cannot be borrowed mutably (a read guard is alive), the load fails
/// or registering fails, the error is returned, `apply` is not called and nothing is marked.
/// Without a jar it only applies.
#[inline]
pub(crate) fn change<S: Persistent, R>(
    object: &PObject<S>,
    apply: impl FnOnce(&mut S) -> R,
) -> Result<R> {
    // Already Changed (or unsaved): no registration is due, the write is all that is left.
    if object.p_state() == PState::Changed || object.p_jar().is_none() {
        return object.update_volatile(apply);
    }
    first_change(object, apply)
}

/// The path of the first change since the object was loaded: probe the borrow before
/// registering, so that a live read guard makes the write fail without marking.
#[inline(never)]
fn first_change<S: Persistent, R>(
    object: &PObject<S>,
    apply: impl FnOnce(&mut S) -> R,
) -> Result<R> {
    object.update_volatile(|_| ())?;
    object.p_mark_changed()?;
    object.update_volatile(apply)
}
