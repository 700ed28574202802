//! The persistent objects a B-tree is made of (docs/spec.md §9), each its own record: the
//! `Tree` (the root object a `PersistentBTreeMap` handle points to: the top node and the
//! sizes), `Inner` nodes (separator keys and children) and leaf `Bucket`s (sorted keys and
//! their values, linked to the next bucket in key order). How each is stored: one postcard
//! value in key order, so equal contents give equal bytes. What does not live here: the
//! algorithms (`write.rs`, `iter.rs`, `build.rs`) and bucket conflict resolution
//! (`merge.rs`).

use persistent_core::codec::{decode_value, encode_field};
use persistent_core::{interned_type_name, PObject, Persistent, Result, P};
use serde::{Deserialize, Serialize};

use crate::element::{element_name, Element};

/// A key a B-tree can hold: an ordered, cloneable `Element`.
pub trait Key: Element + Ord + Clone {}

impl<T: Element + Ord + Clone> Key for T {}

/// A value a B-tree can hold: a cloneable `Element` (a `P<T>` clones as a handle).
pub trait TreeValue: Element + Clone {}

impl<T: Element + Clone> TreeValue for T {}

/// A child of an inner node (or the tree's top node): a bucket or another inner node.
#[derive(Serialize, Deserialize)]
#[serde(bound = "K: Key, V: TreeValue")]
pub enum Child<K: Key, V: TreeValue> {
    /// A leaf.
    Bucket(P<Bucket<K, V>>),
    /// An inner node.
    Inner(P<Inner<K, V>>),
}

impl<K: Key, V: TreeValue> Clone for Child<K, V> {
    fn clone(&self) -> Self {
        match self {
            Child::Bucket(bucket) => Child::Bucket(bucket.clone()),
            Child::Inner(inner) => Child::Inner(inner.clone()),
        }
    }
}

/// A leaf: up to the tree's bucket size of entries, keys strictly increasing, never empty
/// (an emptied bucket is unlinked), linked to the next bucket in key order.
#[derive(Serialize, Deserialize)]
#[serde(bound = "K: Key, V: TreeValue")]
pub struct Bucket<K: Key, V: TreeValue> {
    pub(crate) keys: Vec<K>,
    pub(crate) values: Vec<V>,
    pub(crate) next: Option<P<Bucket<K, V>>>,
}

/// An inner node: `children.len() == keys.len() + 1`; child `i` holds the keys `k` with
/// `keys[i - 1] <= k < keys[i]`.
#[derive(Serialize, Deserialize)]
#[serde(bound = "K: Key, V: TreeValue")]
pub struct Inner<K: Key, V: TreeValue> {
    pub(crate) keys: Vec<K>,
    pub(crate) children: Vec<Child<K, V>>,
}

/// The root object of a tree: its top node (none while empty) and its sizes. Written only
/// when the top node changes (a split or collapse of the top), so ordinary inserts and
/// removes do not touch it.
#[derive(Serialize, Deserialize)]
#[serde(bound = "K: Key, V: TreeValue")]
pub struct Tree<K: Key, V: TreeValue> {
    pub(crate) top: Option<Child<K, V>>,
    pub(crate) sizes: Sizes,
}

/// How many entries a bucket and how many children an inner node hold at most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Sizes {
    /// Entries per bucket, at least 2.
    pub bucket: u16,
    /// Children per inner node, at least 3.
    pub node: u16,
}

impl Sizes {
    /// Buckets of `bucket` entries, inner nodes of `node` children (raised to at least 2 and
    /// 3).
    #[must_use]
    pub fn new(bucket: u16, node: u16) -> Sizes {
        Sizes { bucket: bucket.max(2), node: node.max(3) }
    }
}

/// The defaults, measured (docs/benchmarks.md, "B-trees", the `sizes_*` workloads of
/// `tests/benches/btree.rs`: a tree of 1,000,000 random `i64` keys in SQLite): 64 entries per
/// bucket, 256 children per inner node.
///
/// * Buckets of 32, 64 and 128 entries (over nodes of 64 to 256 children): 10,000 cold
///   lookups took 44 to 55 ms, 36 to 44 ms and 34 to 37 ms; a durable transaction of 10
///   random inserts wrote 2.5 to 3.2 KB, 3.9 to 4.3 KB and 7.0 to 7.2 KB of records and grew
///   the file by 4.4 to 5.9 KB, 6.6 to 7.5 KB and 11.6 to 12.0 KB (the Python reference's
///   `LOBTree`: 8.1 KB); 1,000 such transactions ran at 1,190 to 1,280, 1,050 to 1,090 and
///   880 to 930 per second. 64 keeps the writes under the reference's with lookups within
///   about 10 % of the 128-entry buckets'; 32 writes less but looks up 15 to 25 % slower.
/// * Inner nodes of 64, 128 and 256 children: 256 made the cold lookups 6 to 10 % faster
///   than 128 in each of five runs (fewer inner nodes to load), for 184 more bytes of file
///   growth per transaction (a split rewrites a larger parent).
/// * Inserting 1,000,000 keys in one transaction took 0.36 to 0.56 s with every pair tried,
///   differences within the run-to-run noise.
impl Default for Sizes {
    fn default() -> Sizes {
        Sizes::new(64, 256)
    }
}

/// One `Persistent` impl per node type: a stored name naming the key and value types, and
/// the whole state as one postcard value.
macro_rules! node_persistent {
    ($node:ident, $name:literal, resolves: $resolves:literal) => {
        impl<K: Key, V: TreeValue> Persistent for $node<K, V> {
            type Object = PObject<$node<K, V>>;
            const TYPE_NAME: &'static str = $name;
            const RESOLVES_CONFLICTS: bool = $resolves;

            fn stored_type_name() -> &'static str {
                interned_type_name::<Self>(|| {
                    format!("{}<{}, {}>", $name, element_name::<K>(), element_name::<V>())
                })
            }

            fn encode_state(&self, out: &mut Vec<u8>) -> Result<()> {
                encode_field(Self::TYPE_NAME, self, out)
            }

            fn decode_state(bytes: &[u8]) -> Result<Self> {
                decode_value(Self::TYPE_NAME, bytes)
            }

            fn resolve_conflict(old: &Self, committed: &Self, mine: &Self) -> Option<Self> {
                $node::merge(old, committed, mine)
            }
        }
    };
}

node_persistent!(Tree, "persistent::BTree", resolves: false);
node_persistent!(Inner, "persistent::BTreeNode", resolves: false);
node_persistent!(Bucket, "persistent::BTreeBucket", resolves: true);

impl<K: Key, V: TreeValue> Tree<K, V> {
    /// The tree's root object does not merge.
    #[allow(clippy::unnecessary_wraps, reason = "the shape of every node's merge")]
    fn merge(_old: &Self, _committed: &Self, _mine: &Self) -> Option<Self> {
        None
    }
}

impl<K: Key, V: TreeValue> Inner<K, V> {
    /// Inner nodes do not merge (docs/spec.md §9).
    #[allow(clippy::unnecessary_wraps, reason = "the shape of every node's merge")]
    fn merge(_old: &Self, _committed: &Self, _mine: &Self) -> Option<Self> {
        None
    }
}
