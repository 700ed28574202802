//! The std traits of `PersistentList`: construction (`From`, `FromIterator`),
//! content clone and content equality. What does not live here: `Default` and `Debug`
//! (shared with the mapping, in `crate::handle`).

use persistent_core::P;

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

/// A NEW unsaved list (no jar, no oid) with clones of the elements; the original is not
/// marked. To share identity, clone the handle (`list.handle().clone()`) instead.
///
/// # Panics
/// If the list is a ghost that cannot load; use [`PersistentList::try_clone`] to get the
/// error instead.
impl<T: Element + Clone> Clone for PersistentList<T> {
    fn clone(&self) -> Self {
        match self.try_clone() {
            Ok(copy) => copy,
            Err(error) => panic!("cannot clone {:?}: {error}", self.object()),
        }
    }
}

/// Content equality. The same object always equals itself; otherwise both are read (loading
/// ghosts), and a list that cannot be read compares unequal.
impl<T: Element + PartialEq> PartialEq for PersistentList<T> {
    fn eq(&self, other: &Self) -> bool {
        if P::ptr_eq(self.handle(), other.handle()) {
            return true;
        }
        match (self.read(), other.read()) {
            (Ok(a), Ok(b)) => *a == *b,
            _ => false,
        }
    }
}

/// Content equality with a plain slice; a list that cannot be read compares unequal.
impl<T: Element + PartialEq> PartialEq<[T]> for PersistentList<T> {
    fn eq(&self, other: &[T]) -> bool {
        self.inspect(|items| items.as_slice() == other).unwrap_or(false)
    }
}

/// Content equality with a plain `Vec`; a list that cannot be read compares unequal.
impl<T: Element + PartialEq> PartialEq<Vec<T>> for PersistentList<T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        *self == **other
    }
}

/// Content equality with an array; a list that cannot be read compares unequal.
impl<T: Element + PartialEq, const N: usize> PartialEq<[T; N]> for PersistentList<T> {
    fn eq(&self, other: &[T; N]) -> bool {
        *self == other[..]
    }
}

/// Content equality, plain `Vec` on the left.
impl<T: Element + PartialEq> PartialEq<PersistentList<T>> for Vec<T> {
    fn eq(&self, other: &PersistentList<T>) -> bool {
        *other == *self
    }
}
