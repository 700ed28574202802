//! Moving a database from one storage to another (ZODB's `copyTransactionsFrom`): the
//! records a storage hands out for it ([`StoredTransaction`], [`StoredRevision`]) and
//! [`copy_transactions`], which replays every transaction of one storage into another with
//! its own tid, user, description and revisions. Nothing here reads what a record contains.

use crate::error::{Error, Result, StorageErrorKind};
use crate::oid::Oid;
use crate::timestamp::{Tid, TimeStamp};

use super::Storage;

/// The most transactions one call to [`Storage::transactions_after`] asks for.
const MAX_TRANSACTIONS_PER_BATCH: usize = 64;

/// The revisions a batch should stay under: the number of transactions asked for doubles
/// (from 1, up to [`MAX_TRANSACTIONS_PER_BATCH`]) while batches stay under it, and halves
/// when one goes over, so that a copy holds about this many revisions at a time (or one
/// transaction, when a single one is larger).
const REVISIONS_PER_BATCH: usize = 50_000;

/// One revision as a storage keeps it: what [`Storage::transactions_after`] reads and
/// [`Storage::restore`] writes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredRevision {
    /// The object.
    pub oid: Oid,
    /// The record bytes (empty: the object does not exist at this revision).
    pub data: Vec<u8>,
    /// The oids the record references (its reference list), ascending, each once.
    pub references: Vec<Oid>,
}

impl StoredRevision {
    /// The revision of `oid` holding `data`, which references `references` (sorted and
    /// deduplicated here).
    #[must_use]
    pub fn new(oid: Oid, data: Vec<u8>, mut references: Vec<Oid>) -> StoredRevision {
        references.sort_unstable();
        references.dedup();
        StoredRevision { oid, data, references }
    }
}

/// One committed transaction with every revision of it the storage still holds (a pack may
/// have removed some).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredTransaction {
    /// Its tid.
    pub tid: Tid,
    /// Who committed it.
    pub user: String,
    /// What it did.
    pub description: String,
    /// Its extension bytes.
    pub extension: Vec<u8>,
    /// Its revisions, by ascending oid.
    pub revisions: Vec<StoredRevision>,
}

impl StoredTransaction {
    /// The transaction `tid` with its metadata and `revisions` (sorted here by oid).
    #[must_use]
    pub fn new(
        tid: Tid,
        user: String,
        description: String,
        extension: Vec<u8>,
        mut revisions: Vec<StoredRevision>,
    ) -> StoredTransaction {
        revisions.sort_by_key(|revision| revision.oid);
        StoredTransaction { tid, user, description, extension, revisions }
    }

    /// A tid greater than `last`, and each oid written once.
    fn check_restorable(&self, last: Tid) -> Result<()> {
        if self.tid <= last {
            return Err(Error::storage(
                StorageErrorKind::Invalid,
                format!(
                    "cannot restore transaction {:?}: the storage already holds {last:?}, \
                     and tids must increase; restore into a storage with older transactions",
                    self.tid
                ),
            ));
        }
        let mut sorted: Vec<Oid> = self.revisions.iter().map(|rev| rev.oid).collect();
        sorted.sort_unstable();
        match sorted.windows(2).find(|pair| pair[0] == pair[1]) {
            Some(pair) => Err(Error::storage(
                StorageErrorKind::Invalid,
                format!("object {} is written twice in one transaction; write it once", pair[0]),
            )),
            None => Ok(()),
        }
    }

    /// The largest oid this transaction writes below the reserved `Oid::SCHEMAS`, which a
    /// storage's oid allocator must not hand out again after `restore`.
    #[must_use]
    pub fn highest_allocatable_oid(&self) -> Option<Oid> {
        self.revisions.iter().map(|rev| rev.oid).filter(|oid| *oid < Oid::SCHEMAS).max()
    }
}

/// Checks what `Storage::restore` requires before writing anything: tids that increase from
/// above the target's newest `last`, and each oid written once per transaction.
///
/// # Errors
/// `Error::Storage` of kind `Invalid` saying which rule is broken.
pub fn check_restorable(batch: &[StoredTransaction], mut last: Tid) -> Result<()> {
    for txn in batch {
        txn.check_restorable(last)?;
        last = txn.tid;
    }
    Ok(())
}

/// How far a running copy is, passed to its progress callback after each transaction and
/// returned at the end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CopyProgress {
    /// Transactions copied by this call.
    pub transactions: u64,
    /// Revisions copied by this call.
    pub revisions: u64,
    /// Record bytes copied by this call.
    pub bytes: u64,
    /// The tid of the last transaction copied (the target's newest), `TimeStamp::ZERO` if
    /// none is.
    pub last_tid: Tid,
    /// Transactions the target already held when the call began (an earlier, interrupted
    /// copy), skipped.
    pub skipped: u64,
}

/// Copies every transaction of `from` that `to` does not hold yet into `to`, oldest first,
/// each with its tid, user, description, extension and revisions (with their reference
/// lists), through [`Storage::restore`] (one batch of up to 64 transactions per call); then, when `from` was packed, packs `to` at the same
/// bound so that both refuse the same undos. `progress` is called after each transaction.
///
/// Restartable: `to` must be empty or hold a prefix of `from`'s transactions (what an
/// interrupted copy left): the copy goes on after `to`'s newest tid. Copying into a storage
/// that already holds other transactions is refused, and so is a source written meanwhile
/// under a tid the target already passed.
///
/// Memory: one batch of transactions at a time, each held whole; the batch size adapts so
/// that a batch holds about 50,000 revisions (one transaction when a single one holds more).
/// Each batch is written atomically, so an interrupted copy leaves a prefix of whole
/// transactions.
///
/// # Errors
/// `Error::Storage` of kind `Invalid` when `to` holds a transaction `from` does not have;
/// any error of either storage (what was copied before it stays copied; calling again goes
/// on from there).
pub fn copy_transactions(
    from: &dyn Storage,
    to: &dyn Storage,
    progress: &mut dyn FnMut(&CopyProgress),
) -> Result<CopyProgress> {
    let mut done = CopyProgress { last_tid: to.last_transaction()?, ..CopyProgress::default() };
    if done.last_tid != TimeStamp::ZERO {
        check_prefix(from, to, done.last_tid)?;
        done.skipped = count_transactions_up_to(from, done.last_tid)?;
    }
    let mut limit = 1;
    loop {
        let batch = from.transactions_after(done.last_tid, limit)?;
        let Some(last) = batch.last() else { break };
        debug_assert!(last.tid > done.last_tid, "transactions_after gave an old transaction");
        to.restore(&batch)?;
        for txn in &batch {
            done.transactions += 1;
            done.revisions += txn.revisions.len() as u64;
            done.bytes += txn.revisions.iter().map(|rev| rev.data.len() as u64).sum::<u64>();
            done.last_tid = txn.tid;
            progress(&done);
        }
        let revisions: usize = batch.iter().map(|txn| txn.revisions.len()).sum();
        limit = if revisions > REVISIONS_PER_BATCH {
            (limit / 2).max(1)
        } else {
            (limit * 2).min(MAX_TRANSACTIONS_PER_BATCH)
        };
    }
    let packed = from.packed_before()?;
    if packed > to.packed_before()? {
        to.pack(packed, &mut |_| {})?;
    }
    Ok(done)
}

/// Checks that `from` has a transaction with tid `target_last` and the same user and
/// description as `to`'s newest one.
fn check_prefix(from: &dyn Storage, to: &dyn Storage, target_last: Tid) -> Result<()> {
    let after = TimeStamp::from_u64(target_last.as_u64().saturating_add(1));
    let theirs = from.transactions(after, 1)?;
    let ours = to.transactions(after, 1)?;
    let same = match (theirs.first(), ours.first()) {
        (Some(a), Some(b)) => {
            a.tid == target_last && a.user == b.user && a.description == b.description
        }
        _ => false,
    };
    if same {
        Ok(())
    } else {
        Err(Error::storage(
            StorageErrorKind::Invalid,
            format!(
                "cannot copy {} into {}: the target holds transaction {target_last:?}, \
                 which the source does not have; copy into an empty storage",
                from.name(),
                to.name()
            ),
        ))
    }
}

/// How many transactions `from` holds with tid ≤ `last` (newest-first pages of the log).
fn count_transactions_up_to(from: &dyn Storage, last: Tid) -> Result<u64> {
    let mut before = TimeStamp::from_u64(last.as_u64().saturating_add(1));
    let mut count = 0;
    loop {
        let page = from.transactions(before, 1024)?;
        let Some(oldest) = page.last() else { return Ok(count) };
        count += page.len() as u64;
        before = oldest.tid;
    }
}
