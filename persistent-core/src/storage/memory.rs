//! `MemoryStorage`: a history-preserving storage kept in memory, for tests and demos, after
//! ZODB's `MappingStorage`. All state sits behind one mutex, so every call is atomic.
//! Nothing here is durable; nothing here knows what a record contains.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use super::{
    Changes, CommitOutcome, Revision, RevisionInfo, Storage, TransactionData, TransactionInfo,
    VisibleRecord,
};
use crate::error::{Error, Result, StorageErrorKind};
use crate::oid::Oid;
use crate::timestamp::{Tid, TimeStamp};

/// A history-preserving storage in memory. `Send + Sync`; share it through an `Arc`.
///
/// Keeps every revision of every object and the metadata of every transaction until it is
/// dropped. Accepts writes to any oid, allocated or not (the root, oid 0, is written without
/// allocation); `new_oids` counts up from 1.
#[derive(Default)]
pub struct MemoryStorage {
    state: Mutex<State>,
}

/// Everything the storage holds.
#[derive(Default)]
struct State {
    /// The revisions of each object, oldest first (tids ascending).
    objects: BTreeMap<Oid, Vec<(Tid, Vec<u8>)>>,
    /// Every committed transaction by tid.
    transactions: BTreeMap<Tid, TransactionRecord>,
    /// The newest committed tid (`TimeStamp::ZERO` before the first commit).
    last_tid: Tid,
    /// The highest oid handed out by `new_oid` (0 before the first call).
    last_oid: u64,
}

/// What is kept about one committed transaction (the extension bytes are not: no trait
/// method reads them back).
struct TransactionRecord {
    user: String,
    description: String,
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
        let visible = revs.partition_point(|(tid, _)| *tid < before);
        let (serial, data) = revs.get(visible.checked_sub(1)?)?;
        if data.is_empty() {
            return None;
        }
        Some(Revision {
            data: data.clone(),
            serial: *serial,
            next_serial: revs.get(visible).map(|(tid, _)| *tid),
        })
    }

    fn current_serial(&self, oid: Oid) -> Option<Tid> {
        self.objects.get(&oid).and_then(|revs| revs.last()).map(|(tid, _)| *tid)
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
            .and_then(|revs| revs.iter().find(|(tid, _)| *tid == serial))
            .map(|(_, data)| data.clone())
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
            state.objects.entry(write.oid).or_default().push((tid, write.data.clone()));
        }
        state.transactions.insert(
            tid,
            TransactionRecord {
                user: txn.user.clone(),
                description: txn.description.clone(),
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
            .map(|(tid, data)| {
                let record = &state.transactions[tid];
                RevisionInfo {
                    tid: *tid,
                    user: record.user.clone(),
                    description: record.description.clone(),
                    size: data.len(),
                }
            })
            .collect())
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
