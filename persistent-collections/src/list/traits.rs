//! The std traits particular to `PersistentList`: construction (`From`, `FromIterator`).
//! What does not live here: `Default` and `Debug` (shared with the mapping, in
//! `crate::handle`). There is deliberately no `Clone` (copying can fail: `try_clone`) and no
//! content `PartialEq` (reading can fail: compare through the guard, `*list.read()? == v`).

use super::PersistentList;
use crate::element::Element;

/// A new unsaved list holding the vector's elements.
impl<T: Element> From<Vec<T>> for PersistentList<T> {
    fn from(items: Vec<T>) -> Self {
        Self::from_vec(items)
    }
}

/// A new unsaved list holding the array's elements.
impl<T: Element, const N: usize> From<[T; N]> for PersistentList<T> {
    fn from(items: [T; N]) -> Self {
        Self::from_vec(items.into())
    }
}

/// A new unsaved list holding the iterator's elements.
impl<T: Element> FromIterator<T> for PersistentList<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self::from_vec(iter.into_iter().collect())
    }
}
