//! Walking a tree in key order: [`Range`], an iterator over the entries within bounds that
//! loads one bucket at a time as it advances (following the bucket links), and the
//! descent that finds the bucket a key belongs in. What does not live here: changes
//! (`write.rs`).

use std::collections::VecDeque;
use std::ops::{Bound, RangeBounds};

use persistent_core::{Result, P};

use super::node::{Bucket, Child, Key, TreeValue};

/// The bucket under `child` where `key` is or would be.
pub(crate) fn bucket_for<K: Key, V: TreeValue>(
    child: &Child<K, V>,
    key: &K,
) -> Result<P<Bucket<K, V>>> {
    let mut node = child.clone();
    loop {
        node = match node {
            Child::Bucket(bucket) => return Ok(bucket),
            Child::Inner(inner) => inner.as_object().with(|n| {
                let index = n.keys.partition_point(|k| k <= key);
                n.children[index].clone()
            })?,
        };
    }
}

/// An iterator over the entries of a tree within bounds, in key order, each a
/// `Result<(K, V)>` (loading a bucket can fail; after an error the iterator ends). It holds
/// one bucket's entries at a time, copied out, so the tree may be changed while it runs
/// (it then sees the buckets as they are when it reaches them).
pub struct Range<K: Key, V: TreeValue> {
    /// The next bucket to read, and the bound its first entry must pass.
    next: Option<P<Bucket<K, V>>>,
    start: Bound<K>,
    end: Bound<K>,
    ready: VecDeque<(K, V)>,
    failed: bool,
}

impl<K: Key, V: TreeValue> Range<K, V> {
    /// A range starting in `first` (the bucket where the start bound falls).
    pub(crate) fn new(first: Option<P<Bucket<K, V>>>, bounds: impl RangeBounds<K>) -> Self {
        Range {
            next: first,
            start: bounds.start_bound().cloned(),
            end: bounds.end_bound().cloned(),
            ready: VecDeque::new(),
            failed: false,
        }
    }

    /// An empty range.
    pub(crate) fn empty() -> Self {
        Range::new(None, ..)
    }

    /// Reads the next bucket's entries within bounds; false at the end.
    fn fill(&mut self) -> Result<bool> {
        while self.ready.is_empty() {
            let Some(bucket) = self.next.take() else { return Ok(false) };
            let (start, end) = (&self.start, &self.end);
            let (entries, next, past_end) = bucket.as_object().with(|b| {
                let from = match start {
                    Bound::Included(k) => b.keys.partition_point(|x| x < k),
                    Bound::Excluded(k) => b.keys.partition_point(|x| x <= k),
                    Bound::Unbounded => 0,
                };
                let to = match end {
                    Bound::Included(k) => b.keys.partition_point(|x| x <= k),
                    Bound::Excluded(k) => b.keys.partition_point(|x| x < k),
                    Bound::Unbounded => b.keys.len(),
                };
                let entries: Vec<(K, V)> = (from..to.max(from))
                    .map(|i| (b.keys[i].clone(), b.values[i].clone()))
                    .collect();
                (entries, b.next.clone(), to < b.keys.len())
            })?;
            self.ready.extend(entries);
            self.next = if past_end { None } else { next };
        }
        Ok(true)
    }
}

impl<K: Key, V: TreeValue> Iterator for Range<K, V> {
    type Item = Result<(K, V)>;

    fn next(&mut self) -> Option<Result<(K, V)>> {
        if self.failed {
            return None;
        }
        match self.fill() {
            Ok(true) => self.ready.pop_front().map(Ok),
            Ok(false) => None,
            Err(error) => {
                self.failed = true;
                Some(Err(error))
            }
        }
    }
}
