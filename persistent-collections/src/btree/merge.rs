//! Bucket conflict resolution (docs/spec.md §9, after the reference's `bucket_merge`): two
//! transactions that changed different keys of one bucket both commit, merged. Everything
//! else stays a conflict: the same key touched by both sides (even with equal values), a
//! delete on one side of a value the other side changed, a bucket whose next-bucket link
//! differs on either side (a split), either side emptied, or a merge that leaves the
//! bucket empty. Values compare by their stored bytes (references by oid).

use std::cmp::Ordering;
use std::rc::Rc;

use persistent_core::codec::{encode_value, with_context, ReferenceContext};
use persistent_core::{Error, ObjectRef, Oid, Result, P};

use super::node::{Bucket, Key, TreeValue};

impl<K: Key, V: TreeValue> Bucket<K, V> {
    /// The merged bucket, or `None` for a conflict.
    pub(crate) fn merge(old: &Self, committed: &Self, mine: &Self) -> Option<Self> {
        if link(old.next.as_ref()) != link(committed.next.as_ref())
            || link(old.next.as_ref()) != link(mine.next.as_ref())
            || committed.keys.is_empty()
            || mine.keys.is_empty()
        {
            return None;
        }
        let mut merged = Bucket { keys: Vec::new(), values: Vec::new(), next: mine.next.clone() };
        let (mut o, mut c, mut m) = (0, 0, 0);
        loop {
            let key = [old.keys.get(o), committed.keys.get(c), mine.keys.get(m)]
                .into_iter()
                .flatten()
                .min()?
                .clone();
            let at = |bucket: &Self, index: usize| {
                bucket.keys.get(index).is_some_and(|k| k.cmp(&key) == Ordering::Equal)
            };
            let (in_old, in_committed, in_mine) = (at(old, o), at(committed, c), at(mine, m));
            let value = match (in_old, in_committed, in_mine) {
                // Unchanged, or changed on one side only.
                (true, true, true) => {
                    let (was, theirs, ours) =
                        (&old.values[o], &committed.values[c], &mine.values[m]);
                    if same(was, theirs)? {
                        Some(ours.clone())
                    } else if same(was, ours)? {
                        Some(theirs.clone())
                    } else {
                        return None;
                    }
                }
                // Deleted on one side, unchanged on the other: deleted.
                (true, true, false) => {
                    same(&old.values[o], &committed.values[c])?.then_some(None)?
                }
                (true, false, true) => same(&old.values[o], &mine.values[m])?.then_some(None)?,
                // Inserted on one side only.
                (false, true, false) => Some(committed.values[c].clone()),
                (false, false, true) => Some(mine.values[m].clone()),
                // Deleted by both, or inserted by both.
                _ => return None,
            };
            if let Some(value) = value {
                merged.keys.push(key);
                merged.values.push(value);
            }
            o += usize::from(in_old);
            c += usize::from(in_committed);
            m += usize::from(in_mine);
            if o == old.keys.len() && c == committed.keys.len() && m == mine.keys.len() {
                break;
            }
        }
        (!merged.keys.is_empty()).then_some(merged)
    }
}

/// The oid a next-bucket link names (the states being merged were decoded from records,
/// so every bucket they link to has one).
fn link<K: Key, V: TreeValue>(next: Option<&P<Bucket<K, V>>>) -> Option<Oid> {
    next.and_then(|bucket| bucket.as_object().p_oid())
}

/// Whether two values have the same stored bytes; `None` if either does not encode (then
/// the merge is refused). References encode as their oid, without joining any transaction.
fn same<V: TreeValue>(a: &V, b: &V) -> Option<bool> {
    let bytes = |value: &V| {
        with_context(Rc::new(OidsOnly), || encode_value("persistent::BTreeBucket", value)).ok()
    };
    Some(bytes(a)? == bytes(b)?)
}

/// A reference context that writes an object's oid as it is, and refuses an object without
/// one (so comparing values never adds an object to a transaction).
struct OidsOnly;

impl ReferenceContext for OidsOnly {
    fn encode_reference(&self, obj: &ObjectRef) -> Result<Oid> {
        obj.p_oid().ok_or(Error::NoCodecContext)
    }

    fn lookup(&self, _oid: Oid) -> Option<ObjectRef> {
        None
    }

    fn adopt_ghost(&self, _oid: Oid, _obj: &ObjectRef) -> Result<()> {
        Err(Error::NoCodecContext)
    }
}
