//! Conflict resolution (docs/spec.md §8): when the storage refuses a commit because another
//! transaction wrote an object since this one read it, and the object's type merges
//! conflicts (`Persistent::RESOLVES_CONFLICTS`), the connection reads the state this
//! transaction read and the one committed since, asks the type for a merge of those and its
//! own state, and replaces its write by the merged record, expected at the committed serial.
//! It lives in the connection, so every storage gets it. What does not live here: the commit
//! loop that retries the storage (`commit.rs`) and the merge of a type (its
//! `Persistent::resolve_conflict`).

use std::collections::HashMap;

use super::commit::Pending;
use super::connection::ConnectionInner;
use super::schemas::ReadPlan;
use crate::any_object::{AnyObject, ObjectRef};
use crate::codec::envelope::decode_record;
use crate::error::{Error, Result};
use crate::oid::hash::BuildOidHasher;
use crate::oid::Oid;
use crate::storage::{ObjectWrite, TransactionData};
use crate::timestamp::Tid;

/// How many times one commit merges the same object: each time means yet another
/// transaction wrote it while this one was merging. Past this, the conflict stands.
const MERGES_PER_OBJECT: u32 = 4;

/// How many merges one commit makes in all before the conflict stands.
const MERGES_PER_COMMIT: u64 = 1024;

/// The merges one commit made so far.
#[derive(Default)]
pub(super) struct Resolutions {
    per_object: HashMap<Oid, u32, BuildOidHasher>,
    total: u64,
}

impl Resolutions {
    /// How many conflicts were merged.
    pub(super) fn count(&self) -> u64 {
        self.total
    }
}

/// A merged record, its reference list, and the serial of the revision it merges with.
type Merged = (Vec<u8>, Vec<Oid>, Tid);

impl ConnectionInner {
    /// Merges the conflict `error` reports, if it can: the conflicting write in `data` is
    /// replaced by the merged record, expected at the serial it was merged with, and `true`
    /// is returned (commit again). `false` for any other error, a type that does not resolve
    /// or refuses, a state that is not resolvable (another schema, another type, a record
    /// that cannot be read), an object whose data is borrowed (its in-memory state could not
    /// be replaced afterwards), or when the bounds are reached: the conflict stands.
    pub(super) fn resolve(
        &self,
        error: &Error,
        data: &mut TransactionData,
        pending: &mut [Pending],
        resolutions: &mut Resolutions,
    ) -> bool {
        let Error::Conflict { oid, expected, .. } = *error else { return false };
        if resolutions.total >= MERGES_PER_COMMIT {
            return false;
        }
        // `collect_writes` pushes one pending object per write, in the same order.
        let Some(index) = data.writes.iter().position(|write| write.oid == oid) else {
            return false;
        };
        // Writes past `pending` are states spilled by savepoints (docs/spec.md §13): their
        // objects may not be in memory, so they are not merged.
        let Some(entry) = pending.get_mut(index) else { return false };
        let write = &data.writes[index];
        // A new object (no expected serial) has no state read to merge from.
        if write.expected_serial != Some(expected) {
            return false;
        }
        let obj = entry.obj.clone();
        if !obj.resolves_conflicts() || obj.is_borrowed() {
            return false;
        }
        let merges = resolutions.per_object.entry(oid).or_default();
        if *merges >= MERGES_PER_OBJECT {
            return false;
        }
        // Any failure while merging (a record that cannot be read, a state that does not
        // decode, a merge that does not encode) leaves the original conflict standing.
        let Ok(Some((record, references, committed))) =
            self.merge(oid, &obj, expected, &write.data)
        else {
            return false;
        };
        *merges += 1;
        resolutions.total += 1;
        tracing::info!(target: crate::trace::TARGET, oid = %oid, "conflict resolved");
        entry.size = record.len();
        entry.merged_from.get_or_insert(obj.p_serial());
        data.writes[index] =
            ObjectWrite::new(oid, Some(committed), record).with_references(references);
        true
    }

    /// The merged record of `obj`, its reference list, and the serial of the committed
    /// revision it merges with,
    /// or `None` when either stored state is not resolvable or the type refuses. `read` is the
    /// serial the transaction's write expected; `mine` its record.
    fn merge(&self, oid: Oid, obj: &ObjectRef, read: Tid, mine: &[u8]) -> Result<Option<Merged>> {
        let old_record = self.db.storage.load_serial(oid, read)?;
        // The newest revision: normally the one the conflict named, or a newer one if
        // another transaction committed since (then merging with it saves a round).
        let current = self.db.storage.load(oid)?;
        let Some(old) = self.resolvable_state(oid, &**obj, &old_record)? else {
            return Ok(None);
        };
        let Some(committed) = self.resolvable_state(oid, &**obj, &current.data)? else {
            return Ok(None);
        };
        let mine = decode_record(oid, mine)?.state;
        let added = self.txn.borrow().added.len();
        let mut refused = false;
        let mut state = Vec::new();
        let (record, references) = self.decode_with_references(|| {
            let record = self.encode_write(&**obj, &mut state, |out| {
                match obj.p_resolve_conflict(old, committed, mine)? {
                    Some(merged) => out.extend_from_slice(&merged),
                    None => refused = true,
                }
                Ok(())
            })?;
            Ok::<_, crate::error::Error>((record, self.references.borrow().clone()))
        })?;
        // A merged state referring to an object that was not stored yet would need that
        // object written too, and this commit's writes are already made: refuse. (The object
        // was added to the transaction, which the failed commit dooms; `abort` drops it.)
        if refused || self.txn.borrow().added.len() != added {
            return Ok(None);
        }
        Ok(Some((record, references, current.serial)))
    }

    /// The state inside `record` if it can take part in a merge of `obj`: a record of the
    /// object's type written under the reader's own schema or none. A record written under
    /// another schema would have to be read by name, and is not resolved.
    fn resolvable_state<'r>(
        &self,
        oid: Oid,
        obj: &dyn AnyObject,
        record: &'r [u8],
    ) -> Result<Option<&'r [u8]>> {
        let found = decode_record(oid, record)?;
        if !obj.reads_type_name(found.type_name) {
            return Ok(None);
        }
        Ok(match self.read_plan(oid, found.schema, obj.schema())? {
            ReadPlan::Positional => Some(found.state),
            ReadPlan::Evolved(_) => None,
        })
    }
}
