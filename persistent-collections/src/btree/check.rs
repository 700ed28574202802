//! The invariants of a tree (docs/spec.md §9), checked by walking all of it: keys strictly
//! increasing in every bucket and across buckets, no empty bucket, sizes within bounds,
//! every separator bounding its children, every leaf at one depth, and the bucket links
//! visiting exactly the leaves in order. For tests and integrity checks; it loads every
//! node.

use persistent_core::{Error, Result, P};

use super::node::{Bucket, Child, Key, TreeValue};
use super::PersistentBTreeMap;

/// What [`PersistentBTreeMap::check`] counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TreeStats {
    /// Entries.
    pub entries: usize,
    /// Buckets.
    pub buckets: usize,
    /// Inner nodes.
    pub inner_nodes: usize,
    /// Levels from the top node to the buckets (1: the top is a bucket; 0: empty).
    pub depth: usize,
}

impl<K: Key, V: TreeValue> PersistentBTreeMap<K, V> {
    /// Walks the whole tree and checks its invariants.
    ///
    /// # Errors
    /// `Error::Custom` naming the first broken invariant; a load failure.
    pub fn check(&self) -> Result<TreeStats> {
        let (top, sizes) = self.0.as_object().with(|t| (t.top.clone(), t.sizes))?;
        let mut walk = Walk { sizes, stats: TreeStats::default(), leaves: Vec::new(), depth: None };
        if let Some(top) = &top {
            walk.node(top, None, None, 1)?;
        }
        // The links visit exactly the leaves, in order.
        let mut linked = Vec::new();
        let mut next = walk.leaves.first().cloned();
        while let Some(bucket) = next {
            if linked.len() > walk.leaves.len() {
                return broken("the bucket links loop or reach buckets outside the tree");
            }
            next = bucket.as_object().with(|b| b.next.clone())?;
            linked.push(bucket);
        }
        let same = linked.len() == walk.leaves.len()
            && linked.iter().zip(&walk.leaves).all(|(a, b)| P::ptr_eq(a, b));
        if !same {
            return broken("the bucket links do not visit the leaves in order");
        }
        walk.stats.depth = walk.depth.unwrap_or(0);
        Ok(walk.stats)
    }
}

struct Walk<K: Key, V: TreeValue> {
    sizes: super::Sizes,
    stats: TreeStats,
    leaves: Vec<P<Bucket<K, V>>>,
    depth: Option<usize>,
}

impl<K: Key, V: TreeValue> Walk<K, V> {
    /// Checks `child`, whose keys must lie in `[low, high)`.
    fn node(
        &mut self,
        child: &Child<K, V>,
        low: Option<&K>,
        high: Option<&K>,
        depth: usize,
    ) -> Result<()> {
        let within =
            |key: &K| low.is_none_or(|low| key >= low) && high.is_none_or(|high| key < high);
        match child {
            Child::Bucket(bucket) => {
                let ok = bucket.as_object().with(|b| {
                    !b.keys.is_empty()
                        && b.keys.len() <= usize::from(self.sizes.bucket)
                        && b.keys.len() == b.values.len()
                        && b.keys.windows(2).all(|pair| pair[0] < pair[1])
                        && b.keys.iter().all(within)
                })?;
                if !ok {
                    return broken("a bucket is empty, too full, unsorted or outside its bounds");
                }
                if *self.depth.get_or_insert(depth) != depth {
                    return broken("leaves at different depths");
                }
                self.stats.entries += bucket.as_object().with(|b| b.keys.len())?;
                self.stats.buckets += 1;
                if let Some(last) = self.leaves.last() {
                    let (before, first) = (
                        last.as_object().with(|b| b.keys[b.keys.len() - 1].clone())?,
                        bucket.as_object().with(|b| b.keys[0].clone())?,
                    );
                    if before >= first {
                        return broken("keys do not increase from one bucket to the next");
                    }
                }
                self.leaves.push(bucket.clone());
            }
            Child::Inner(inner) => {
                let (keys, children) =
                    inner.as_object().with(|n| (n.keys.clone(), n.children.clone()))?;
                let ok = !children.is_empty()
                    && children.len() == keys.len() + 1
                    && children.len() <= usize::from(self.sizes.node)
                    && keys.windows(2).all(|pair| pair[0] < pair[1])
                    && keys.iter().all(within);
                if !ok {
                    return broken("an inner node is empty, too full or has bad separators");
                }
                self.stats.inner_nodes += 1;
                for (index, child) in children.iter().enumerate() {
                    let low = if index == 0 { low } else { Some(&keys[index - 1]) };
                    let high = if index == keys.len() { high } else { Some(&keys[index]) };
                    self.node(child, low, high, depth + 1)?;
                }
            }
        }
        Ok(())
    }
}

fn broken<T>(what: &str) -> Result<T> {
    Err(Error::Custom(format!("B-tree invariant broken: {what}")))
}
