//! Changing a tree: insert (splitting a full bucket, and a full inner node, upward; a new
//! top node when the top splits), remove (unlinking an emptied bucket from its predecessor
//! and its parent, collapsing a top node left with one child) and change in place. Only
//! the objects that change are written: the bucket, plus parents on a split or an unlink,
//! plus the tree's root object when its top node changes. What does not live here: finding
//! and reading (`mod.rs`, `iter.rs`).

use persistent_core::{Result, P};

use super::node::{Bucket, Child, Inner, Key, Sizes, Tree, TreeValue};

/// A node split off to the right of a node that overflowed: the first key it holds and
/// the new node.
type Split<K, V> = Option<(K, Child<K, V>)>;

/// Inserts `key` with `value` under `child`; returns the old value and the split, if any.
pub(crate) fn insert<K: Key, V: TreeValue>(
    child: &Child<K, V>,
    key: K,
    value: V,
    sizes: Sizes,
) -> Result<(Option<V>, Split<K, V>)> {
    match child {
        Child::Bucket(bucket) => {
            let at = bucket.as_object().with(|b| b.keys.binary_search(&key))?;
            match at {
                Ok(index) => {
                    let old = bucket
                        .as_object()
                        .update(|b| std::mem::replace(&mut b.values[index], value))?;
                    Ok((Some(old), None))
                }
                Err(index) => {
                    let split = bucket.as_object().update(|b| {
                        b.keys.insert(index, key);
                        b.values.insert(index, value);
                        split_bucket(b, sizes)
                    })?;
                    Ok((None, split))
                }
            }
        }
        Child::Inner(inner) => {
            let (index, below) = inner.as_object().with(|n| {
                let index = n.keys.partition_point(|k| *k <= key);
                (index, n.children[index].clone())
            })?;
            let (old, split) = insert(&below, key, value, sizes)?;
            let Some((separator, right)) = split else { return Ok((old, None)) };
            let up = inner.as_object().update(|n| {
                n.keys.insert(index, separator);
                n.children.insert(index + 1, right);
                split_inner(n, sizes)
            })?;
            Ok((old, up))
        }
    }
}

/// Splits a bucket over its size in two halves, linking the new right half after it.
fn split_bucket<K: Key, V: TreeValue>(bucket: &mut Bucket<K, V>, sizes: Sizes) -> Split<K, V> {
    if bucket.keys.len() <= usize::from(sizes.bucket) {
        return None;
    }
    let middle = bucket.keys.len() / 2;
    // Room for a full bucket and the insert that splits it, so that the new half never
    // reallocates (`split_off` would allocate its exact length, doubled at the next insert).
    let room = usize::from(sizes.bucket) + 1;
    let mut keys = Vec::with_capacity(room);
    keys.extend(bucket.keys.drain(middle..));
    let mut values = Vec::with_capacity(room);
    values.extend(bucket.values.drain(middle..));
    let separator = keys[0].clone();
    let right = P::new(Bucket { keys, values, next: bucket.next.take() });
    bucket.next = Some(right.clone());
    Some((separator, Child::Bucket(right)))
}

/// Splits an inner node over its size in two, the middle separator moving up.
fn split_inner<K: Key, V: TreeValue>(inner: &mut Inner<K, V>, sizes: Sizes) -> Split<K, V> {
    if inner.children.len() <= usize::from(sizes.node) {
        return None;
    }
    let middle = inner.keys.len() / 2;
    // Room for a full node and the insert that splits it (as for buckets).
    let room = usize::from(sizes.node) + 1;
    let mut keys = Vec::with_capacity(room);
    keys.extend(inner.keys.drain(middle + 1..));
    let separator = inner.keys.pop()?;
    let mut children = Vec::with_capacity(room);
    children.extend(inner.children.drain(middle + 1..));
    Some((separator, Child::Inner(P::new(Inner { keys, children }))))
}

/// What removing under a child did.
pub(crate) struct Removed<V> {
    /// The value removed, if the key was there.
    pub(crate) value: Option<V>,
    /// The child is now empty: its parent drops it.
    pub(crate) emptied: bool,
}

/// Removes `key` under `child`. `left` is the subtree just left of `child` (its rightmost
/// bucket is the bucket before `child`'s first), `None` at the tree's left edge.
pub(crate) fn remove<K: Key, V: TreeValue>(
    child: &Child<K, V>,
    key: &K,
    left: Option<&Child<K, V>>,
) -> Result<Removed<V>> {
    match child {
        Child::Bucket(bucket) => {
            let Ok(index) = bucket.as_object().with(|b| b.keys.binary_search(key))? else {
                return Ok(Removed { value: None, emptied: false });
            };
            let (value, next) = bucket.as_object().update(|b| {
                b.keys.remove(index);
                let value = b.values.remove(index);
                let next = if b.keys.is_empty() { Some(b.next.take()) } else { None };
                (value, next)
            })?;
            let emptied = next.is_some();
            if let (Some(next), Some(left)) = (next, left) {
                let before = last_bucket(left)?;
                before.as_object().update(|b| b.next = next)?;
            }
            Ok(Removed { value: Some(value), emptied })
        }
        Child::Inner(inner) => {
            let (index, below, beside) = inner.as_object().with(|n| {
                let index = n.keys.partition_point(|k| k <= key);
                let beside = index.checked_sub(1).map(|i| n.children[i].clone());
                (index, n.children[index].clone(), beside)
            })?;
            let removed = remove(&below, key, beside.as_ref().or(left))?;
            if !removed.emptied {
                return Ok(removed);
            }
            let emptied = inner.as_object().update(|n| {
                n.children.remove(index);
                if !n.keys.is_empty() {
                    n.keys.remove(index.saturating_sub(1));
                }
                n.children.is_empty()
            })?;
            Ok(Removed { value: removed.value, emptied })
        }
    }
}

/// The first bucket under `child` (its leftmost).
pub(crate) fn first_bucket<K: Key, V: TreeValue>(child: &Child<K, V>) -> Result<P<Bucket<K, V>>> {
    let mut node = child.clone();
    loop {
        node = match node {
            Child::Bucket(bucket) => return Ok(bucket),
            Child::Inner(inner) => inner.as_object().with(|n| n.children[0].clone())?,
        };
    }
}

/// The last bucket under `child` (its rightmost).
pub(crate) fn last_bucket<K: Key, V: TreeValue>(child: &Child<K, V>) -> Result<P<Bucket<K, V>>> {
    let mut node = child.clone();
    loop {
        node = match node {
            Child::Bucket(bucket) => return Ok(bucket),
            Child::Inner(inner) => {
                inner.as_object().with(|n| n.children[n.children.len() - 1].clone())?
            }
        };
    }
}

/// After a change under the top node: a new top over the split, or the top's only child
/// as the new top, or no top for an emptied tree (each a write of the tree's root object).
pub(crate) fn fix_top<K: Key, V: TreeValue>(
    tree: &P<Tree<K, V>>,
    top: Child<K, V>,
    split: Split<K, V>,
    emptied: bool,
) -> Result<()> {
    if emptied {
        return tree.as_object().update(|t| t.top = None);
    }
    if let Some((separator, right)) = split {
        let inner = P::new(Inner { keys: vec![separator], children: vec![top, right] });
        return tree.as_object().update(|t| t.top = Some(Child::Inner(inner)));
    }
    if let Child::Inner(inner) = &top {
        let only =
            inner.as_object().with(|n| (n.children.len() == 1).then(|| n.children[0].clone()))?;
        if let Some(only) = only {
            tree.as_object().update(|t| t.top = Some(only))?;
        }
    }
    Ok(())
}
