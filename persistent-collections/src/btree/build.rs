//! Building a tree in bulk from entries in increasing key order: buckets are filled
//! directly (to three quarters of their size, leaving room for later inserts), linked in
//! order, and inner levels are built over them, with no search per entry. What does not
//! live here: inserting one entry (`write.rs`).

use persistent_core::{Error, Result, P};

use super::node::{Bucket, Child, Inner, Key, Sizes, Tree, TreeValue};
use super::PersistentBTreeMap;

impl<K: Key, V: TreeValue> PersistentBTreeMap<K, V> {
    /// A new unsaved tree of `entries`, whose keys must be strictly increasing, built in bulk
    /// (buckets filled to three quarters of `sizes.bucket`).
    ///
    /// # Errors
    /// `Error::NotSorted` naming the position of the first key that is not greater than the
    /// one before it; nothing is built.
    pub fn from_sorted(entries: impl IntoIterator<Item = (K, V)>, sizes: Sizes) -> Result<Self> {
        let entries: Vec<(K, V)> = entries.into_iter().collect();
        if let Some(position) = entries.windows(2).position(|pair| pair[0].0 >= pair[1].0) {
            return Err(Error::NotSorted { position: position + 1 });
        }
        Ok(unsaved(entries.into_iter(), sizes))
    }
}

/// A new unsaved tree of `entries`, keys strictly increasing (checked by the caller).
pub(crate) fn unsaved<K: Key, V: TreeValue>(
    entries: impl Iterator<Item = (K, V)>,
    sizes: Sizes,
) -> PersistentBTreeMap<K, V> {
    let fill = (usize::from(sizes.bucket) * 3 / 4).max(1);
    let mut level: Vec<(K, Child<K, V>)> = Vec::new();
    let mut keys = Vec::with_capacity(fill);
    let mut values = Vec::with_capacity(fill);
    let mut buckets = Vec::new();
    for (key, value) in entries {
        keys.push(key);
        values.push(value);
        if keys.len() == fill {
            buckets.push((std::mem::take(&mut keys), std::mem::take(&mut values)));
        }
    }
    if !keys.is_empty() {
        buckets.push((keys, values));
    }
    // Linked from the last bucket back, so that each is made with its next link.
    let mut next: Option<P<Bucket<K, V>>> = None;
    for (keys, values) in buckets.into_iter().rev() {
        let first = keys[0].clone();
        let bucket = P::new(Bucket { keys, values, next: next.take() });
        next = Some(bucket.clone());
        level.push((first, Child::Bucket(bucket)));
    }
    level.reverse();
    let node_fill = (usize::from(sizes.node) * 3 / 4).max(2);
    while level.len() > 1 {
        let mut above = Vec::with_capacity(level.len() / node_fill + 1);
        let mut rest = level.into_iter().peekable();
        while rest.peek().is_some() {
            let group: Vec<(K, Child<K, V>)> = rest.by_ref().take(node_fill).collect();
            let first = group[0].0.clone();
            let keys = group.iter().skip(1).map(|(key, _)| key.clone()).collect();
            let children = group.into_iter().map(|(_, child)| child).collect();
            above.push((first, Child::Inner(P::new(Inner { keys, children }))));
        }
        level = above;
    }
    let top = level.pop().map(|(_, child)| child);
    PersistentBTreeMap(P::new(Tree { top, sizes }))
}
