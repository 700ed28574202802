//! The `Storage` trait, after ZODB's `IStorage`: versioned records of opaque bytes keyed by
//! oid and transaction id. Implementations: [`MemoryStorage`] here, SQLite in
//! `persistent-sqlite`. What lives in a record (the envelope) is the connection's business.
//! Copying between storages (`copy_transactions`) lives in `copy.rs`, pack's reports in
//! `pack.rs`; for SQL backends, oids and tids as SQL integers in `sql_int.rs` and the
//! read-ahead of ghost loads (what may be kept, and for how long) in `read_ahead.rs`.

mod copy;
mod memory;
mod pack;
pub mod read_ahead;
pub mod sql_int;

pub use copy::{
    check_restorable, copy_transactions, CopyProgress, StoredRevision, StoredTransaction,
};
pub use memory::MemoryStorage;
pub use pack::{pack_horizon, PackPhase, PackProgress, PackReport};

use crate::error::{Error, Result, StorageErrorKind};
use crate::oid::Oid;
use crate::timestamp::{Tid, TimeStamp};

/// One object write inside a transaction. Build it with [`ObjectWrite::new`] and
/// [`with_references`](ObjectWrite::with_references).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectWrite {
    /// The object written.
    pub oid: Oid,
    /// The serial the writer read: the tid of the current revision it replaces, or `None` for
    /// an object that has never been stored. A mismatch with the stored current serial is a
    /// conflict.
    pub expected_serial: Option<Tid>,
    /// The new record.
    pub data: Vec<u8>,
    /// The oids the record references (the reference list of its envelope, docs/spec.md
    /// §7.1), which `pack` follows to find the objects still reachable. The connection fills
    /// it; a storage keeps it beside the record.
    pub references: Vec<Oid>,
}

impl ObjectWrite {
    /// A write of `data` to `oid` that expects the current serial `expected_serial` (`None`
    /// for a new object), referencing nothing.
    #[must_use]
    pub fn new(oid: Oid, expected_serial: Option<Tid>, data: Vec<u8>) -> ObjectWrite {
        ObjectWrite { oid, expected_serial, data, references: Vec::new() }
    }

    /// This write, its record referencing `references`.
    #[must_use]
    pub fn with_references(mut self, references: Vec<Oid>) -> ObjectWrite {
        self.references = references;
        self
    }
}

/// Everything one transaction writes; committed all or nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransactionData {
    /// Who committed it.
    pub user: String,
    /// What it did.
    pub description: String,
    /// Free-form extension bytes.
    pub extension: Vec<u8>,
    /// The objects written.
    pub writes: Vec<ObjectWrite>,
    /// Serial checks without a write (`Connection::read_current`, docs/spec.md §11): each
    /// `(oid, serial)` says the transaction read `oid` at `serial` and relies on it staying
    /// current. `commit` checks them with the writes, atomically, and writes nothing but
    /// returns `Error::Conflict` naming the oid when one is no longer current.
    pub read_current: Vec<(Oid, Tid)>,
}

impl TransactionData {
    /// Refuses a transaction that writes the same oid twice, which no storage can apply as
    /// one revision per object.
    ///
    /// # Errors
    /// `Error::Storage` of kind `Invalid` naming the oid.
    pub fn check_distinct_oids(&self) -> Result<()> {
        let mut seen: std::collections::HashSet<Oid, crate::oid::hash::BuildOidHasher> =
            std::collections::HashSet::with_capacity_and_hasher(
                self.writes.len(),
                crate::oid::hash::BuildOidHasher::default(),
            );
        match self.writes.iter().find(|write| !seen.insert(write.oid)) {
            Some(write) => Err(Error::storage(
                StorageErrorKind::Invalid,
                format!("object {} is written twice in one transaction; write it once", write.oid),
            )),
            None => Ok(()),
        }
    }
}

/// A revision of an object as loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    /// The record bytes.
    pub data: Vec<u8>,
    /// The tid of the transaction that wrote it.
    pub serial: Tid,
    /// The tid of the next revision of the same object, if one exists (ZODB's `end_tid`).
    pub next_serial: Option<Tid>,
}

/// What `history` reports about one revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevisionInfo {
    /// The tid of the transaction that wrote the revision.
    pub tid: Tid,
    /// The transaction's user.
    pub user: String,
    /// The transaction's description.
    pub description: String,
    /// Length of the record in bytes.
    pub size: usize,
}

/// What [`Storage::transactions`] reports about one committed transaction (an entry of the
/// undo log).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransactionInfo {
    /// The transaction's tid, which is also the time it committed.
    pub tid: Tid,
    /// Who committed it.
    pub user: String,
    /// What it did.
    pub description: String,
    /// The oids it wrote, ascending.
    pub oids: Vec<Oid>,
}

impl TransactionInfo {
    /// The transaction `tid` by `user`, described as `description`, that wrote `oids`
    /// (sorted here).
    #[must_use]
    pub fn new(tid: Tid, user: String, description: String, mut oids: Vec<Oid>) -> Self {
        oids.sort_unstable();
        TransactionInfo { tid, user, description, oids }
    }

    /// When it committed (its tid read as a time).
    #[must_use]
    pub fn time(&self) -> TimeStamp {
        self.tid
    }
}

/// What a successful [`Storage::commit`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommitOutcome {
    /// The new transaction's tid, strictly greater than every earlier tid.
    pub tid: Tid,
    /// The tid that was the newest just before this commit (`TimeStamp::ZERO` for the first
    /// commit). A connection whose snapshot is this tid knows nobody else committed since.
    pub previous: Tid,
}

impl CommitOutcome {
    /// The outcome of a commit that wrote `tid` right after `previous`.
    #[must_use]
    pub fn new(tid: Tid, previous: Tid) -> CommitOutcome {
        CommitOutcome { tid, previous }
    }
}

/// What changed after a tid, read in one consistent view of the storage.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Changes {
    /// The newest tid in the storage when the changes were read.
    pub newest: Tid,
    /// Each oid written by a transaction with a greater tid than asked for, once, with the
    /// tid of its newest revision up to `newest`. The order is unspecified.
    pub changed: Vec<(Oid, Tid)>,
}

impl Changes {
    /// The changes up to `newest`.
    #[must_use]
    pub fn new(newest: Tid, changed: Vec<(Oid, Tid)>) -> Changes {
        Changes { newest, changed }
    }
}

/// The record a connection loads for a ghost: its bytes and the tid that wrote them.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VisibleRecord {
    /// The record bytes.
    pub data: Vec<u8>,
    /// The tid of the transaction that wrote the revision.
    pub serial: Tid,
}

impl VisibleRecord {
    /// A record written by `serial`.
    #[must_use]
    pub fn new(data: Vec<u8>, serial: Tid) -> VisibleRecord {
        VisibleRecord { data, serial }
    }
}

/// A versioned object store (history-preserving), shared by all connections of a database.
///
/// The required methods are exactly what the runtime calls; each is one round trip for a
/// remote storage. The provided methods are derived from them.
///
/// Rules every implementation keeps (checked by the conformance suite of the
/// `persistent-testkit` crate):
/// * `commit` checks every write's `expected_serial`, and every `read_current` serial,
///   against the current serial and, if all match, writes all of them under one new tid
///   strictly greater than every earlier tid; if one does not match it writes nothing and
///   returns `Error::Conflict` naming that oid.
/// * A revision with empty data says the object does not exist at that revision (an undone
///   creation): `load_visible`, `load_before` and `load` report it as absent, while
///   `history`, `changes_since` and `transactions` still list it.
/// * A commit is durable when it returns (for on-disk storages) and atomic: no reader ever
///   sees part of a transaction.
/// * Each read (`load_*`, `changes_since`) answers from one consistent view: never part of
///   a transaction.
/// * `new_oids` never returns the same oid twice, and never `Oid::ROOT`.
/// * `pack` removes only what docs/spec.md §10 allows, while other calls go on.
pub trait Storage: Send + Sync + 'static {
    /// A short name for messages (`"memory"`, `"sqlite:/path/file.db"`); never contains a
    /// password.
    fn name(&self) -> String;

    /// The data and serial of the newest revision of `oid` written by a transaction with
    /// tid strictly less than `before`, or `None` if there is none: what a connection needs
    /// to load a ghost at its snapshot.
    ///
    /// # Errors
    /// A storage failure (`Error::Storage`).
    fn load_visible(&self, oid: Oid, before: Tid) -> Result<Option<VisibleRecord>>;

    /// Like `load_visible`, also telling the tid of the next revision (ZODB's
    /// `loadBefore`): for time travel and history.
    ///
    /// # Errors
    /// A storage failure (`Error::Storage`).
    fn load_before(&self, oid: Oid, before: Tid) -> Result<Option<Revision>>;

    /// The revision of `oid` written exactly by transaction `serial` (ZODB's `loadSerial`).
    ///
    /// # Errors
    /// `Error::NotFound` if that transaction did not write `oid`; a storage failure.
    fn load_serial(&self, oid: Oid, serial: Tid) -> Result<Vec<u8>>;

    /// `count` fresh oids, never returned before by this storage, in one round trip.
    ///
    /// # Errors
    /// A storage failure; `StorageErrorKind::Invalid` when the oid space is exhausted.
    fn new_oids(&self, count: usize) -> Result<Vec<Oid>>;

    /// The tid of the newest committed transaction (`TimeStamp::ZERO` for an empty storage).
    ///
    /// # Errors
    /// A storage failure.
    fn last_transaction(&self) -> Result<Tid>;

    /// Commits `txn` atomically (see the trait rules).
    ///
    /// # Errors
    /// `Error::Conflict` (nothing written) when a serial does not match; a storage failure
    /// (nothing written).
    fn commit(&self, txn: &TransactionData) -> Result<CommitOutcome>;

    /// The oids written by transactions with tid > `after`, each with the tid of its newest
    /// revision, and the newest tid, all read in one view.
    ///
    /// # Errors
    /// A storage failure.
    fn changes_since(&self, after: Tid) -> Result<Changes>;

    /// The revisions of `oid`, newest first, at most `limit` of them.
    ///
    /// # Errors
    /// `Error::NotFound` if `oid` was never stored; a storage failure.
    fn history(&self, oid: Oid, limit: usize) -> Result<Vec<RevisionInfo>>;

    /// The oids that have a stored revision, ascending, those greater than `after` (all when
    /// `None`), at most `limit`: for passes over a whole database (`Database::migrate`).
    ///
    /// # Errors
    /// A storage failure.
    fn list_oids(&self, after: Option<Oid>, limit: usize) -> Result<Vec<Oid>>;

    /// The committed transactions with tid < `before`, newest first, at most `limit`, each
    /// with the oids it wrote: the undo log (pass `TimeStamp::MAX` for the newest, then the
    /// oldest tid of a page for the next page).
    ///
    /// # Errors
    /// A storage failure.
    fn transactions(&self, before: Tid, limit: usize) -> Result<Vec<TransactionInfo>>;

    /// Removes history older than `before` and the objects no longer reachable
    /// (docs/spec.md §10): every revision older than the one current at `before`; every
    /// object unreachable from `Oid::ROOT` and `Oid::SCHEMAS` whose newest revision is older
    /// than `before` (reachability follows the reference lists of the revisions current at
    /// `before` and of every later one). A `before` later than the newest transaction counts
    /// as just after it. Calls `progress` now and then. Other calls may run meanwhile.
    ///
    /// # Errors
    /// A storage failure; what was removed before it stays removed, and packing again
    /// finishes the work.
    fn pack(&self, before: Tid, progress: &mut dyn FnMut(&PackProgress)) -> Result<PackReport>;

    /// The `before` of the newest pack (`TimeStamp::ZERO` if none): the revisions that
    /// transactions below it replaced may be gone, so they cannot be undone.
    ///
    /// # Errors
    /// A storage failure.
    fn packed_before(&self) -> Result<Tid>;

    /// The committed transactions with tid > `after`, oldest first, at most `limit`, each
    /// with its user, description, extension and every revision of it still stored (data
    /// and reference list, by ascending oid): what `copy_transactions` reads.
    ///
    /// # Errors
    /// A storage failure.
    fn transactions_after(&self, after: Tid, limit: usize) -> Result<Vec<StoredTransaction>>;

    /// Writes the transactions of `batch` as they are, in order, each under its own tid
    /// (ZODB's `restore`): no serial checks; each revision becomes its object's current one.
    /// The whole batch is atomic and durable as one `commit` (one round trip, one sync).
    /// Afterwards `new_oids` never returns an oid the batch wrote.
    ///
    /// # Errors
    /// `Error::Storage` of kind `Invalid` (nothing written) when the tids do not increase
    /// from above `last_transaction()` (see [`check_restorable`]), or a transaction writes an
    /// oid twice; a storage failure (nothing written).
    fn restore(&self, batch: &[StoredTransaction]) -> Result<()>;

    /// What `load_visible` gives for each of `oids`, in the same order, in as few round trips
    /// as the storage can (ZODB's `prefetch`): `Connection::prefetch` reads many ghosts'
    /// records at once. Provided: one `load_visible` per oid.
    ///
    /// # Errors
    /// A storage failure.
    fn load_visible_many(&self, oids: &[Oid], before: Tid) -> Result<Vec<Option<VisibleRecord>>> {
        oids.iter().map(|oid| self.load_visible(*oid, before)).collect()
    }

    /// The current revision of `oid`.
    ///
    /// # Errors
    /// `Error::NotFound` if it was never stored; a storage failure.
    fn load(&self, oid: Oid) -> Result<Revision> {
        self.load_before(oid, TimeStamp::MAX)?.ok_or(Error::NotFound(oid))
    }

    /// One fresh oid (`new_oids(1)`).
    ///
    /// # Errors
    /// As `new_oids`.
    fn new_oid(&self) -> Result<Oid> {
        self.new_oids(1)?.first().copied().ok_or_else(|| {
            Error::storage(StorageErrorKind::Invalid, format!("{} allocated no oid", self.name()))
        })
    }
}
