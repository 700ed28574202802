//! `FlakyStorage`: a storage wrapper that fails a chosen call on demand, to test what the
//! runtime does when the storage fails at a given point. Every other call goes through.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use persistent_core::storage::{
    Changes, CommitOutcome, PackProgress, PackReport, Revision, RevisionInfo, Storage,
    StoredTransaction, TransactionData, TransactionInfo, VisibleRecord,
};
use persistent_core::{Error, Oid, Result, StorageErrorKind, Tid};

/// The storage calls a [`FlakyStorage`] can fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Call {
    /// `load_visible` and `load_visible_many`.
    LoadVisible,
    /// `commit`.
    Commit,
    /// `changes_since`.
    ChangesSince,
    /// `new_oids`.
    NewOids,
    /// `restore`.
    Restore,
}

const CALLS: usize = 5;

/// Wraps a storage; `fail(call, n)` makes the next `n` calls of that kind fail with an
/// `Error::Storage` of kind `Io` (after doing nothing); `fail_after(call, k, n)` lets `k`
/// calls through first.
pub struct FlakyStorage {
    inner: Arc<dyn Storage>,
    passes: [AtomicUsize; CALLS],
    failures: [AtomicUsize; CALLS],
}

impl FlakyStorage {
    /// A wrapper around `inner` that fails nothing yet.
    pub fn new(inner: Arc<dyn Storage>) -> FlakyStorage {
        FlakyStorage { inner, passes: Default::default(), failures: Default::default() }
    }

    /// Makes the next `times` calls of `call` fail.
    pub fn fail(&self, call: Call, times: usize) {
        self.fail_after(call, 0, times);
    }

    /// Lets the next `passes` calls of `call` through, then makes `times` calls fail.
    pub fn fail_after(&self, call: Call, passes: usize, times: usize) {
        self.passes[call as usize].store(passes, Ordering::SeqCst);
        self.failures[call as usize].store(times, Ordering::SeqCst);
    }

    fn check(&self, call: Call) -> Result<()> {
        let passed = self.passes[call as usize]
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1))
            .is_ok();
        if passed {
            return Ok(());
        }
        let slot = &self.failures[call as usize];
        let failed = slot
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1))
            .is_ok();
        if failed {
            Err(Error::storage(StorageErrorKind::Io, format!("injected failure of {call:?}")))
        } else {
            Ok(())
        }
    }
}

impl Storage for FlakyStorage {
    fn name(&self) -> String {
        format!("flaky({})", self.inner.name())
    }

    fn load_visible(&self, oid: Oid, before: Tid) -> Result<Option<VisibleRecord>> {
        self.check(Call::LoadVisible)?;
        self.inner.load_visible(oid, before)
    }

    /// Fails as a `LoadVisible` call (once for the whole batch).
    fn load_visible_many(&self, oids: &[Oid], before: Tid) -> Result<Vec<Option<VisibleRecord>>> {
        self.check(Call::LoadVisible)?;
        self.inner.load_visible_many(oids, before)
    }

    fn load_before(&self, oid: Oid, before: Tid) -> Result<Option<Revision>> {
        self.inner.load_before(oid, before)
    }

    fn load_serial(&self, oid: Oid, serial: Tid) -> Result<Vec<u8>> {
        self.inner.load_serial(oid, serial)
    }

    fn new_oids(&self, count: usize) -> Result<Vec<Oid>> {
        self.check(Call::NewOids)?;
        self.inner.new_oids(count)
    }

    fn last_transaction(&self) -> Result<Tid> {
        self.inner.last_transaction()
    }

    fn commit(&self, txn: &TransactionData) -> Result<CommitOutcome> {
        self.check(Call::Commit)?;
        self.inner.commit(txn)
    }

    fn changes_since(&self, after: Tid) -> Result<Changes> {
        self.check(Call::ChangesSince)?;
        self.inner.changes_since(after)
    }

    fn history(&self, oid: Oid, limit: usize) -> Result<Vec<RevisionInfo>> {
        self.inner.history(oid, limit)
    }

    fn transactions(&self, before: Tid, limit: usize) -> Result<Vec<TransactionInfo>> {
        self.inner.transactions(before, limit)
    }
    fn list_oids(&self, after: Option<Oid>, limit: usize) -> Result<Vec<Oid>> {
        self.inner.list_oids(after, limit)
    }

    fn pack(&self, before: Tid, progress: &mut dyn FnMut(&PackProgress)) -> Result<PackReport> {
        self.inner.pack(before, progress)
    }

    fn packed_before(&self) -> Result<Tid> {
        self.inner.packed_before()
    }

    fn transactions_after(&self, after: Tid, limit: usize) -> Result<Vec<StoredTransaction>> {
        self.inner.transactions_after(after, limit)
    }

    fn restore(&self, batch: &[StoredTransaction]) -> Result<()> {
        self.check(Call::Restore)?;
        self.inner.restore(batch)
    }
}
