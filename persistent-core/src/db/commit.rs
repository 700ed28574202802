//! Transaction boundaries of a connection: `commit` (store every changed and new reachable
//! object in one storage transaction, or nothing), `abort` (drop changes, forget new
//! objects) and the start of the next transaction (invalidations, then `incrgc`).

use std::collections::HashSet;

use super::connection::{Connection, ConnectionInner};
use crate::any_object::ObjectRef;
use crate::cache::hash::BuildOidHasher;
use crate::codec::envelope::begin_record;
use crate::error::{Error, Result};
use crate::oid::Oid;
use crate::state::PState;
use crate::storage::{ObjectWrite, TransactionData};
use crate::timestamp::Tid;

impl Connection {
    /// Commits the transaction: every registered object and every new object reachable from
    /// them is stored, new objects get oids, all under one new tid; then they are UpToDate
    /// with that serial and a new transaction begins. Returns the new tid (or the snapshot
    /// when there was nothing to store).
    ///
    /// # Errors
    /// A refusal found before the storage is reached (`Error::AlreadyBorrowed` while a
    /// guard is alive, an encoding failure, `Error::ForeignObject`) writes nothing and leaves
    /// the transaction usable: fix the cause and commit again. `Error::Conflict` or a storage
    /// failure writes nothing and dooms the transaction: only `abort` is accepted then. Once
    /// the storage has made the commit durable, `commit` returns `Ok`.
    pub fn commit(&self) -> Result<Tid> {
        self.inner.commit()
    }

    /// Aborts the transaction: changed objects become ghosts (reloaded on next access), new
    /// objects lose their oid and jar, objects only read stay cached; then a new transaction
    /// begins, seeing other connections' commits.
    pub fn abort(&self) -> Result<()> {
        self.inner.abort()
    }
}

/// One object to store, with the record length for its estimated size.
struct Pending {
    obj: ObjectRef,
    size: usize,
}

impl ConnectionInner {
    fn commit(&self) -> Result<Tid> {
        self.check_open()?;
        if self.txn.borrow().doomed {
            return Err(Error::TransactionDoomed);
        }
        // A failure here (a borrowed object, a state that does not encode, a foreign
        // reference) happens before anything reaches the storage: the transaction stays
        // usable, and the caller may fix the cause and commit again.
        let (writes, pending) = self.collect_writes()?;
        if writes.is_empty() {
            self.clear_transaction();
            self.begin(None)?;
            return Ok(self.txn.borrow().snapshot);
        }
        let note = self.txn.borrow().note.clone();
        let data = TransactionData {
            user: note.user,
            description: note.description,
            extension: Vec::new(),
            writes,
        };
        let snapshot = self.txn.borrow().snapshot;
        let outcome = match self.db.storage.commit(&data) {
            Ok(outcome) => outcome,
            Err(error) => {
                self.txn.borrow_mut().doomed = true;
                return Err(error);
            }
        };
        // From here on the commit is durable: nothing below may report it as failed.
        let tid = outcome.tid;
        let mut written: HashSet<Oid, BuildOidHasher> = HashSet::default();
        for Pending { obj, size } in pending {
            obj.p_set_serial(tid);
            if obj.header().state.get() == PState::Changed {
                obj.header().state.set(PState::UpToDate);
            }
            obj.p_set_estimated_size(size as u64);
            written.extend(obj.p_oid());
        }
        self.clear_transaction();
        if outcome.previous == snapshot {
            // Nobody committed between this transaction's snapshot and its own commit, so
            // the only changes up to `tid` are this connection's: the next transaction can
            // start at `tid` with nothing to invalidate (later commits are seen next time).
            self.start_at(tid, []);
        } else if self.begin(Some((tid, written))).is_err() {
            // Listing the changes failed: the next transaction goes on reading at the old
            // snapshot (plus this commit's own objects), which is a consistent view, and the
            // next boundary (`commit`, `abort`, `sync`) lists the changes again and reports
            // the failure if it persists. Reporting it here would make a caller retry a
            // commit that landed.
        }
        Ok(tid)
    }

    /// Encodes every object to store, following references to new objects (which the
    /// reference codec adds to `added` as it meets them).
    fn collect_writes(&self) -> Result<(Vec<ObjectWrite>, Vec<Pending>)> {
        let mut seen: HashSet<Oid, BuildOidHasher> = HashSet::default();
        let mut writes = Vec::new();
        let mut pending = Vec::new();
        let (mut next_added, mut next_registered) = (0, 0);
        self.decode_with_references(|| loop {
            let next = {
                let txn = self.txn.borrow();
                if next_added < txn.added.len() {
                    next_added += 1;
                    txn.added[next_added - 1].clone()
                } else if next_registered < txn.registered.len() {
                    next_registered += 1;
                    txn.registered[next_registered - 1].clone()
                } else {
                    return Ok((writes, pending));
                }
            };
            let Some(oid) = next.p_oid() else { continue };
            let is_new = self.txn.borrow().added_oids.contains(&oid);
            let changed = next.header().state.get() == PState::Changed;
            if !(is_new || changed) || !seen.insert(oid) {
                continue;
            }
            let mut record = begin_record(next.type_name(), 64);
            next.p_getstate_into(&mut record)?;
            let expected_serial = if is_new { None } else { Some(next.p_serial()) };
            pending.push(Pending { obj: next, size: record.len() });
            writes.push(ObjectWrite { oid, expected_serial, data: record });
        })
    }

    fn abort(&self) -> Result<()> {
        let (registered, added) = {
            let mut txn = self.txn.borrow_mut();
            txn.doomed = false;
            txn.note = Default::default();
            txn.added_oids.clear();
            (std::mem::take(&mut txn.registered), std::mem::take(&mut txn.added))
        };
        for obj in &added {
            if let Some(oid) = obj.p_oid() {
                self.cache.remove(oid);
            }
            let header = obj.header();
            drop(header.replace_jar(None));
            header.oid.set(None);
            if header.state.get() != PState::Ghost {
                header.state.set(PState::UpToDate);
            }
        }
        let mut first_error = None;
        for obj in &registered {
            if obj.header().state.get() == PState::Changed {
                if let Err(error) = obj.p_invalidate() {
                    first_error.get_or_insert(error);
                }
            }
        }
        drop((registered, added));
        if self.closed.get() {
            return first_error.map_or(Ok(()), Err);
        }
        self.begin(None)?;
        first_error.map_or(Ok(()), Err)
    }

    fn clear_transaction(&self) {
        let mut txn = self.txn.borrow_mut();
        txn.registered.clear();
        txn.added.clear();
        txn.added_oids.clear();
        txn.note = Default::default();
    }

    /// Starts the next transaction: moves the snapshot to the newest tid, invalidates what
    /// others changed since (not what this connection's own commit `own` just wrote), then
    /// sweeps the cache down to its limits.
    fn begin(&self, own: Option<(Tid, HashSet<Oid, BuildOidHasher>)>) -> Result<()> {
        let previous = self.txn.borrow().snapshot;
        let changes = self.db.storage.changes_since(previous)?;
        let last = changes.newest;
        let theirs = changes.changed.into_iter().filter_map(|(oid, tid)| {
            let ours = matches!(&own, Some((own_tid, written)) if *own_tid == tid && written.contains(&oid));
            (!ours).then_some(oid)
        });
        self.start_at(last, theirs);
        Ok(())
    }

    /// Starts the next transaction at `snapshot`: invalidates the `stale` objects and those
    /// left pending (objects borrowed now stay pending), then sweeps the cache.
    fn start_at(&self, snapshot: Tid, stale: impl IntoIterator<Item = Oid>) {
        let mut stale_oids = std::mem::take(&mut self.txn.borrow_mut().pending_invalidations);
        stale_oids.extend(stale);
        let mut refused = Vec::new();
        for oid in stale_oids {
            if let Some(obj) = self.cache.get(oid) {
                if obj.p_invalidate().is_err() {
                    refused.push(oid);
                }
            }
        }
        {
            let mut txn = self.txn.borrow_mut();
            txn.snapshot = snapshot;
            txn.pending_invalidations = refused;
        }
        self.cache.incrgc();
    }
}
