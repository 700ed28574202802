//! `MemoryStorage`: a history-preserving storage kept in memory, for tests and demos, after
//! ZODB's `MappingStorage`. All state sits behind one mutex, so every call is atomic.
//! Nothing here is durable; nothing here knows what a record contains.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};

use super::{
    check_restorable, pack_horizon, Changes, CommitOutcome, PackPhase, PackProgress, PackReport,
    Revision, RevisionInfo, Storage, StoredRevision, StoredTransaction, TransactionData,
    TransactionInfo, VisibleRecord,
};
use crate::error::{Error, Result, StorageErrorKind};
use crate::oid::Oid;
use crate::timestamp::{Tid, TimeStamp};

/// A history-preserving storage in memory. `Send + Sync`; share it through an `Arc`.
///
/// Keeps every revision of every object (with its reference list) and the metadata of every
/// transaction until `pack` removes them. `pack` runs under the one mutex, so it is atomic
/// and other calls wait for it. Accepts writes to any oid, allocated or not (the root, oid 0, is written without
/// allocation); `new_oids` counts up from 1.
#[derive(Default)]
pub struct MemoryStorage {
    state: Mutex<State>,
}

/// Everything the storage holds.
#[derive(Default)]
struct State {
    /// The revisions of each object, oldest first (tids ascending).
    objects: BTreeMap<Oid, Vec<Stored>>,
    /// Every committed transaction by tid.
    transactions: BTreeMap<Tid, TransactionRecord>,
    /// The newest committed tid (`TimeStamp::ZERO` before the first commit).
    last_tid: Tid,
    /// The highest oid handed out by `new_oid` (0 before the first call).
    last_oid: u64,
    /// The `before` of the newest pack.
    packed_before: Tid,
}

/// One stored revision: its tid, record, and the oids the record references.
struct Stored {
    tid: Tid,
    data: Vec<u8>,
    references: Vec<Oid>,
}

/// What is kept about one committed transaction.
struct TransactionRecord {
    user: String,
    description: String,
    extension: Vec<u8>,
    /// The oids it wrote, in write order.
    oids: Vec<Oid>,
}

impl MemoryStorage {
    /// An empty storage.
    #[must_use]
    pub fn new() -> MemoryStorage {
        MemoryStorage::default()
    }

    /// The state; a panic in another thread cannot leave it half-changed (commit checks
    /// everything before changing anything), so a poisoned lock is still usable.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl State {
    /// The newest revision of `oid` written before `before`, with the tid of the revision
    /// after it; `None` when there is none or it is empty (an undone creation). Revisions
    /// are sorted by tid, so the ones before `before` form a prefix.
    fn visible(&self, oid: Oid, before: Tid) -> Option<Revision> {
        let revs = self.objects.get(&oid)?;
        let visible = revs.partition_point(|rev| rev.tid < before);
        let rev = revs.get(visible.checked_sub(1)?)?;
        if rev.data.is_empty() {
            return None;
        }
        Some(Revision {
            data: rev.data.clone(),
            serial: rev.tid,
            next_serial: revs.get(visible).map(|next| next.tid),
        })
    }

    /// Writes one checked transaction under its own tid (`Storage::restore`).
    fn restore(&mut self, txn: &StoredTransaction) {
        for rev in &txn.revisions {
            self.objects.entry(rev.oid).or_default().push(Stored {
                tid: txn.tid,
                data: rev.data.clone(),
                references: rev.references.clone(),
            });
        }
        self.transactions.insert(
            txn.tid,
            TransactionRecord {
                user: txn.user.clone(),
                description: txn.description.clone(),
                extension: txn.extension.clone(),
                oids: txn.revisions.iter().map(|rev| rev.oid).collect(),
            },
        );
        self.last_tid = txn.tid;
        if let Some(highest) = txn.highest_allocatable_oid() {
            self.last_oid = self.last_oid.max(highest.0);
        }
    }

    fn current_serial(&self, oid: Oid) -> Option<Tid> {
        self.objects.get(&oid).and_then(|revs| revs.last()).map(|rev| rev.tid)
    }

    /// Checks every write against the current serials; the first mismatch is the error.
    fn check_writes(&self, txn: &TransactionData) -> Result<()> {
        txn.check_distinct_oids()?;
        for write in &txn.writes {
            let actual = self.current_serial(write.oid);
            if actual != write.expected_serial {
                return Err(Error::Conflict {
                    oid: write.oid,
                    expected: write.expected_serial.unwrap_or(TimeStamp::ZERO),
                    actual: actual.unwrap_or(TimeStamp::ZERO),
                });
            }
        }
        self.check_read_current(txn)
    }

    /// Checks that every object the transaction read as current still is.
    fn check_read_current(&self, txn: &TransactionData) -> Result<()> {
        for &(oid, serial) in &txn.read_current {
            let actual = self.current_serial(oid);
            if actual != Some(serial) {
                return Err(Error::Conflict {
                    oid,
                    expected: serial,
                    actual: actual.unwrap_or(TimeStamp::ZERO),
                });
            }
        }
        Ok(())
    }
}

/// The index of the first revision a pack to `before` keeps: the one current at `before`
/// (the newest older than `before`), or the first one if none is.
fn first_kept(revs: &[Stored], before: Tid) -> usize {
    revs.partition_point(|rev| rev.tid < before).saturating_sub(1)
}

impl State {
    /// The oids reachable from the roots through the revisions a pack to `before` keeps.
    fn mark(&self, before: Tid) -> BTreeSet<Oid> {
        let mut marked = BTreeSet::new();
        let mut stack = vec![Oid::ROOT, Oid::SCHEMAS];
        while let Some(oid) = stack.pop() {
            if !marked.insert(oid) {
                continue;
            }
            let Some(revs) = self.objects.get(&oid) else { continue };
            for rev in &revs[first_kept(revs, before)..] {
                stack.extend(rev.references.iter().filter(|to| !marked.contains(to)));
            }
        }
        marked
    }

    /// Removes the revisions older than the one current at `before`, and the objects not in
    /// `marked` (or whose current revision is empty: they do not exist) that have no
    /// revision from `before` on.
    fn sweep(&mut self, before: Tid, marked: &BTreeSet<Oid>) -> PackReport {
        let mut report = PackReport::default();
        self.objects.retain(|oid, revs| {
            let newest = revs.last().expect("an object has a revision");
            if newest.tid < before && (newest.data.is_empty() || !marked.contains(oid)) {
                report.objects_removed += 1;
                report.revisions_removed += revs.len() as u64;
                report.bytes_removed += revs.iter().map(|rev| rev.data.len() as u64).sum::<u64>();
                return false;
            }
            let first = first_kept(revs, before);
            report.revisions_removed += first as u64;
            report.bytes_removed +=
                revs[..first].iter().map(|rev| rev.data.len() as u64).sum::<u64>();
            revs.drain(..first);
            true
        });
        report
    }

    /// Drops, from the transactions older than `before`, the oids whose revision is gone,
    /// and the transactions left with none (never the newest one). Returns how many went.
    fn forget_transactions(&mut self, before: Tid) -> u64 {
        let last = self.last_tid;
        let objects = &self.objects;
        let mut removed = 0;
        self.transactions.retain(|tid, record| {
            if *tid >= before {
                return true;
            }
            record.oids.retain(|oid| {
                objects.get(oid).is_some_and(|revs| revs.iter().any(|rev| rev.tid == *tid))
            });
            let keep = !record.oids.is_empty() || *tid == last;
            removed += u64::from(!keep);
            keep
        });
        removed
    }
}

impl Storage for MemoryStorage {
    fn name(&self) -> String {
        "memory".to_string()
    }

    fn load_visible(&self, oid: Oid, before: Tid) -> Result<Option<VisibleRecord>> {
        Ok(self.state().visible(oid, before).map(|rev| VisibleRecord::new(rev.data, rev.serial)))
    }

    fn load_before(&self, oid: Oid, before: Tid) -> Result<Option<Revision>> {
        Ok(self.state().visible(oid, before))
    }

    fn load_serial(&self, oid: Oid, serial: Tid) -> Result<Vec<u8>> {
        let state = self.state();
        state
            .objects
            .get(&oid)
            .and_then(|revs| revs.iter().find(|rev| rev.tid == serial))
            .map(|rev| rev.data.clone())
            .ok_or(Error::NotFound(oid))
    }

    fn new_oids(&self, count: usize) -> Result<Vec<Oid>> {
        let mut state = self.state();
        let first = state.last_oid;
        let last = first.checked_add(count as u64).ok_or_else(|| {
            Error::storage(StorageErrorKind::Invalid, "memory storage ran out of oids")
        })?;
        state.last_oid = last;
        Ok((first + 1..=last).map(Oid).collect())
    }

    fn last_transaction(&self) -> Result<Tid> {
        Ok(self.state().last_tid)
    }

    fn commit(&self, txn: &TransactionData) -> Result<CommitOutcome> {
        let mut state = self.state();
        state.check_writes(txn)?;
        let previous = state.last_tid;
        let tid = TimeStamp::now().later_than(state.last_tid);
        if tid <= state.last_tid {
            return Err(Error::storage(
                StorageErrorKind::Invalid,
                "memory storage has no timestamp left after the last one",
            ));
        }
        for write in &txn.writes {
            state.objects.entry(write.oid).or_default().push(Stored {
                tid,
                data: write.data.clone(),
                references: write.references.clone(),
            });
        }
        state.transactions.insert(
            tid,
            TransactionRecord {
                user: txn.user.clone(),
                description: txn.description.clone(),
                extension: txn.extension.clone(),
                oids: txn.writes.iter().map(|w| w.oid).collect(),
            },
        );
        state.last_tid = tid;
        Ok(CommitOutcome::new(tid, previous))
    }

    fn changes_since(&self, after: Tid) -> Result<Changes> {
        let state = self.state();
        let mut latest: BTreeMap<Oid, Tid> = BTreeMap::new();
        for (tid, record) in
            state.transactions.range((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded))
        {
            for oid in &record.oids {
                latest.insert(*oid, *tid);
            }
        }
        Ok(Changes::new(state.last_tid, latest.into_iter().collect()))
    }

    fn transactions(&self, before: Tid, limit: usize) -> Result<Vec<TransactionInfo>> {
        let state = self.state();
        Ok(state
            .transactions
            .range(..before)
            .rev()
            .take(limit)
            .map(|(tid, record)| {
                TransactionInfo::new(
                    *tid,
                    record.user.clone(),
                    record.description.clone(),
                    record.oids.clone(),
                )
            })
            .collect())
    }

    fn list_oids(&self, after: Option<Oid>, limit: usize) -> Result<Vec<Oid>> {
        let state = self.state();
        let range = match after {
            Some(after) => {
                state.objects.range((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded))
            }
            None => state.objects.range(..),
        };
        Ok(range.map(|(oid, _)| *oid).take(limit).collect())
    }

    fn history(&self, oid: Oid, limit: usize) -> Result<Vec<RevisionInfo>> {
        let state = self.state();
        let revs = state.objects.get(&oid).ok_or(Error::NotFound(oid))?;
        Ok(revs
            .iter()
            .rev()
            .take(limit)
            .map(|rev| {
                let record = &state.transactions[&rev.tid];
                RevisionInfo {
                    tid: rev.tid,
                    user: record.user.clone(),
                    description: record.description.clone(),
                    size: rev.data.len(),
                }
            })
            .collect())
    }

    fn packed_before(&self) -> Result<Tid> {
        Ok(self.state().packed_before)
    }

    fn transactions_after(&self, after: Tid, limit: usize) -> Result<Vec<StoredTransaction>> {
        let state = self.state();
        let range = (std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded);
        Ok(state
            .transactions
            .range(range)
            .take(limit)
            .map(|(tid, record)| {
                let revisions = record
                    .oids
                    .iter()
                    .filter_map(|oid| {
                        let revs = state.objects.get(oid)?;
                        let rev = revs.iter().find(|rev| rev.tid == *tid)?;
                        Some(StoredRevision::new(*oid, rev.data.clone(), rev.references.clone()))
                    })
                    .collect();
                StoredTransaction::new(
                    *tid,
                    record.user.clone(),
                    record.description.clone(),
                    record.extension.clone(),
                    revisions,
                )
            })
            .collect())
    }

    fn restore(&self, batch: &[StoredTransaction]) -> Result<()> {
        let mut state = self.state();
        check_restorable(batch, state.last_tid)?;
        for txn in batch {
            state.restore(txn);
        }
        Ok(())
    }

    fn pack(&self, before: Tid, progress: &mut dyn FnMut(&PackProgress)) -> Result<PackReport> {
        let mut state = self.state();
        let before = pack_horizon(before, state.last_tid);
        state.packed_before = state.packed_before.max(before);
        let marked = state.mark(before);
        progress(&PackProgress::new(
            PackPhase::Marking,
            marked.len() as u64,
            PackReport::default(),
        ));
        let mut report = state.sweep(before, &marked);
        progress(&PackProgress::new(PackPhase::Sweeping, state.objects.len() as u64, report));
        report.transactions_removed = state.forget_transactions(before);
        progress(&PackProgress::new(PackPhase::Transactions, report.transactions_removed, report));
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::MemoryStorage;

    #[test]
    fn memory_storage_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<MemoryStorage>();
    }
}
