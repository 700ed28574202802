//! Writing a `PersistentList`: `Vec`-named mutations, each marking the list changed exactly
//! as docs/spec.md §4 (list table) says. The rule every method keeps: decide from a read
//! whether the operation changes anything; only then go through `change`, which registers and
//! marks before writing. A failing operation (bad index, load or register error, live read
//! guard) changes and marks nothing. What does not live here: `change` itself
//! (`crate::handle`, over core's `PObject::update`).

use std::cmp::Ordering;
use std::ops::RangeBounds;

use persistent_core::{Error, Result};

use super::PersistentList;
use crate::element::Element;
use crate::range::{checked_index, checked_range};

impl<T: Element> PersistentList<T> {
    /// Replaces the element at `index`, returning the old one. Marks. Out of range:
    /// `Error::IndexOutOfRange`, no mark.
    ///
    /// # Errors
    ///
    /// `Error::IndexOutOfRange` as above; or loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the list is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn set(&self, index: usize, value: T) -> Result<T> {
        self.inspect(|items| checked_index(index, items.len()))??;
        self.change(|items| std::mem::replace(&mut items[index], value))
    }

    /// Replaces the elements in `range` by `replace_with`, returning the removed ones (Python's
    /// slice assignment). Marks, even when nothing is removed or added. A reversed range or
    /// one past the end: `Error::RangeOutOfRange`, no mark.
    ///
    /// # Errors
    ///
    /// `Error::RangeOutOfRange` as above; or loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the list is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn splice(
        &self,
        range: impl RangeBounds<usize>,
        replace_with: impl IntoIterator<Item = T>,
    ) -> Result<Vec<T>> {
        let range = self.inspect(|items| checked_range(range, items.len()))??;
        self.change(|items| items.splice(range, replace_with).collect())
    }

    /// Appends `value` (Python's `append`). Marks.
    ///
    /// # Errors
    ///
    /// Loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the list is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    #[inline]
    pub fn push(&self, value: T) -> Result<()> {
        self.change(|items| items.push(value))
    }

    /// Inserts `value` before `index` (`index == len` appends). Marks. `index > len`:
    /// `Error::IndexOutOfRange`, no mark.
    ///
    /// # Errors
    ///
    /// `Error::IndexOutOfRange` as above; or loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the list is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn insert(&self, index: usize, value: T) -> Result<()> {
        let len = self.len()?;
        if index > len {
            return Err(Error::IndexOutOfRange { index, len });
        }
        self.change(|items| items.insert(index, value))
    }

    /// Appends every value of `values`. Marks, even when `values` is empty (as the reference).
    ///
    /// # Errors
    ///
    /// Loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the list is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn extend(&self, values: impl IntoIterator<Item = T>) -> Result<()> {
        self.change(|items| items.extend(values))
    }

    /// Moves every element of `other` to the end of the list, leaving `other` empty. Marks,
    /// even when `other` is empty.
    ///
    /// # Errors
    ///
    /// Loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the list is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn append(&self, other: &mut Vec<T>) -> Result<()> {
        self.change(|items| items.append(other))
    }

    /// Keeps the first `len` elements. Marks only if the length changed.
    ///
    /// # Errors
    ///
    /// Loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the list is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn truncate(&self, len: usize) -> Result<()> {
        if self.len()? <= len {
            return Ok(());
        }
        self.change(|items| items.truncate(len))
    }

    /// Removes the elements in `range` and returns them. Marks only if the range is not
    /// empty. A reversed range or one past the end: `Error::RangeOutOfRange`, no mark.
    ///
    /// # Errors
    ///
    /// `Error::RangeOutOfRange` as above; or loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the list is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn drain(&self, range: impl RangeBounds<usize>) -> Result<Vec<T>> {
        let range = self.inspect(|items| checked_range(range, items.len()))??;
        if range.is_empty() {
            return Ok(Vec::new());
        }
        self.change(|items| items.drain(range).collect())
    }

    /// Removes the elements in `range` (Python's `del l[a:b]`). Marks only if the range is
    /// not empty. A reversed range or one past the end: `Error::RangeOutOfRange`, no mark.
    ///
    /// # Errors
    ///
    /// `Error::RangeOutOfRange` as above; or loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the list is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn remove_range(&self, range: impl RangeBounds<usize>) -> Result<()> {
        self.drain(range).map(drop)
    }

    /// Keeps the elements for which `keep` is true, in order. Marks only if the length
    /// changed (something was removed). `keep` is called once per element, in order, before
    /// anything is changed; it sees `&T` so that it cannot change elements unmarked.
    ///
    /// # Errors
    ///
    /// Loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the list is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn retain(&self, mut keep: impl FnMut(&T) -> bool) -> Result<()> {
        let verdicts: Vec<bool> = self.inspect(|items| items.iter().map(&mut keep).collect())?;
        if verdicts.iter().all(|&k| k) {
            return Ok(());
        }
        let mut verdicts = verdicts.into_iter();
        self.change(|items| items.retain(|_| verdicts.next().unwrap_or(true)))
    }

    /// Removes and returns the last element. Marks only when there was one (`None` on an
    /// empty list, no mark).
    ///
    /// # Errors
    ///
    /// Loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the list is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn pop(&self) -> Result<Option<T>> {
        if self.is_empty()? {
            return Ok(None);
        }
        self.change(Vec::pop)
    }

    /// Removes and returns the element at `index`, shifting the rest left. Marks on success;
    /// out of range: `Error::IndexOutOfRange`, no mark.
    ///
    /// # Errors
    ///
    /// `Error::IndexOutOfRange` as above; or loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the list is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn remove(&self, index: usize) -> Result<T> {
        self.inspect(|items| checked_index(index, items.len()))??;
        self.change(|items| items.remove(index))
    }

    /// Removes every element. Marks only if the list was non-empty.
    ///
    /// # Errors
    ///
    /// Loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the list is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn clear(&self) -> Result<()> {
        if self.is_empty()? {
            return Ok(());
        }
        self.change(Vec::clear)
    }

    /// Sorts the elements (stable). Marks, whatever the length or order.
    ///
    /// # Errors
    ///
    /// Loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the list is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn sort(&self) -> Result<()>
    where
        T: Ord,
    {
        self.change(|items| items.sort())
    }

    /// Sorts the elements with `compare` (stable). Marks, whatever the length or order.
    ///
    /// # Errors
    ///
    /// Loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the list is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn sort_by(&self, compare: impl FnMut(&T, &T) -> Ordering) -> Result<()> {
        self.change(|items| items.sort_by(compare))
    }

    /// Sorts the elements by `key` (stable). Marks, whatever the length or order.
    ///
    /// # Errors
    ///
    /// Loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the list is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn sort_by_key<K: Ord>(&self, key: impl FnMut(&T) -> K) -> Result<()> {
        self.change(|items| items.sort_by_key(key))
    }

    /// Reverses the order of the elements. Marks, whatever the length.
    ///
    /// # Errors
    ///
    /// Loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the list is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn reverse(&self) -> Result<()> {
        self.change(|items| items.reverse())
    }

    /// Swaps the elements at `a` and `b`. Marks (also when `a == b`); an index out of
    /// range: `Error::IndexOutOfRange`, no mark.
    ///
    /// # Errors
    ///
    /// `Error::IndexOutOfRange` as above; or loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the list is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn swap(&self, a: usize, b: usize) -> Result<()> {
        self.inspect(|items| checked_index(a, items.len()).and(checked_index(b, items.len())))??;
        self.change(|items| items.swap(a, b))
    }

    /// Removes consecutive equal elements. Marks only if the length changed.
    ///
    /// # Errors
    ///
    /// Loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the list is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn dedup(&self) -> Result<()>
    where
        T: PartialEq,
    {
        if !self.inspect(|items| items.windows(2).any(|pair| pair[0] == pair[1]))? {
            return Ok(());
        }
        self.change(Vec::dedup)
    }
}
