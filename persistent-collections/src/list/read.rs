//! Reading a `PersistentList`: the `ListRef` guard (a `Vec<T>` view) and convenience reads.
//! Every read loads a ghost and touches the cache first; no read marks the list changed.
//! What does not live here: the private `inspect` helper they use (`crate::handle`).

use std::cell::Ref;
use std::fmt;
use std::ops::Deref;

use persistent_core::Result;

use super::PersistentList;
use crate::element::Element;
use crate::handle::CollectionState;

/// A read guard on the elements of a `PersistentList`; it dereferences to `Vec<T>` (and so to
/// `[T]`), and `&guard` iterates. While it lives the list is sticky (the cache will not
/// ghostify it) and writes to the list fail with `Error::AlreadyBorrowed`, marking nothing.
pub struct ListRef<'a, T>(Ref<'a, Vec<T>>);

impl<T> Deref for ListRef<'_, T> {
    type Target = Vec<T>;

    fn deref(&self) -> &Vec<T> {
        &self.0
    }
}

/// Iterates the elements in order, by reference.
impl<'g, T> IntoIterator for &'g ListRef<'_, T> {
    type Item = &'g T;
    type IntoIter = std::slice::Iter<'g, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Prints like the `Vec<T>`.
impl<T: fmt::Debug> fmt::Debug for ListRef<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: Element> PersistentList<T> {
    /// A read guard on the elements (loads a ghost, touches; never marks). Iterate with
    /// `for x in &list.read()?` or `list.read()?.iter()`.
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see
    /// [`PObject::p_activate`](persistent_core::PObject::p_activate)), or the list is being
    /// written (`Error::AlreadyBorrowed`).
    pub fn read(&self) -> Result<ListRef<'_, T>> {
        let state = self.object().read()?;
        Ok(ListRef(Ref::map(state, |state| state.content())))
    }

    /// The number of elements.
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see
    /// [`PObject::p_activate`](persistent_core::PObject::p_activate)), or the list is being
    /// written (`Error::AlreadyBorrowed`).
    pub fn len(&self) -> Result<usize> {
        self.inspect(Vec::len)
    }

    /// Whether the list has no elements.
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see
    /// [`PObject::p_activate`](persistent_core::PObject::p_activate)), or the list is being
    /// written (`Error::AlreadyBorrowed`).
    pub fn is_empty(&self) -> Result<bool> {
        self.inspect(Vec::is_empty)
    }

    /// A clone of the element at `index`, `None` past the end.
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see
    /// [`PObject::p_activate`](persistent_core::PObject::p_activate)), or the list is being
    /// written (`Error::AlreadyBorrowed`).
    pub fn get(&self, index: usize) -> Result<Option<T>>
    where
        T: Clone,
    {
        self.inspect(|items| items.get(index).cloned())
    }

    /// Whether some element equals `value`.
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see
    /// [`PObject::p_activate`](persistent_core::PObject::p_activate)), or the list is being
    /// written (`Error::AlreadyBorrowed`).
    pub fn contains(&self, value: &T) -> Result<bool>
    where
        T: PartialEq,
    {
        self.inspect(|items| items.contains(value))
    }

    /// A plain `Vec` with clones of the elements.
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see
    /// [`PObject::p_activate`](persistent_core::PObject::p_activate)), or the list is being
    /// written (`Error::AlreadyBorrowed`).
    pub fn to_vec(&self) -> Result<Vec<T>>
    where
        T: Clone,
    {
        self.inspect(Vec::clone)
    }

    /// A new unsaved list (no jar, no oid) with clones of the elements; the original is not
    /// marked. This is how a list is copied: there is no `Clone`, because a ghost that
    /// cannot load makes the copy an error. To share identity instead, use `share()`.
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see
    /// [`PObject::p_activate`](persistent_core::PObject::p_activate)), or the list is being
    /// written (`Error::AlreadyBorrowed`).
    pub fn try_clone(&self) -> Result<Self>
    where
        T: Clone,
    {
        self.to_vec().map(Self::from_vec)
    }
}
