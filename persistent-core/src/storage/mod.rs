//! The `Storage` trait, after ZODB's `IStorage`: versioned records of opaque bytes keyed by
//! oid and transaction id. Implementations: [`MemoryStorage`] here, SQLite in
//! `persistent-sqlite`. What lives in a record (the envelope) is the connection's business.

#[doc(hidden)]
pub mod conformance;
mod memory;

pub use memory::MemoryStorage;

use crate::error::Result;
use crate::oid::Oid;
use crate::timestamp::Tid;

/// One object write inside a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectWrite {
    /// The object written.
    pub oid: Oid,
    /// The serial the writer read: the tid of the current revision it replaces, or `None` for
    /// an object that has never been stored. A mismatch with the stored current serial is a
    /// conflict.
    pub expected_serial: Option<Tid>,
    /// The new record.
    pub data: Vec<u8>,
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
}

impl TransactionData {
    /// Refuses a transaction that writes the same oid twice (`Error::Storage`), which no
    /// storage can apply as one revision per object.
    pub fn check_distinct_oids(&self) -> Result<()> {
        let mut seen: std::collections::HashSet<Oid, crate::cache::hash::BuildOidHasher> =
            std::collections::HashSet::with_capacity_and_hasher(
                self.writes.len(),
                Default::default(),
            );
        match self.writes.iter().find(|write| !seen.insert(write.oid)) {
            Some(write) => Err(crate::error::Error::Storage {
                message: format!(
                    "object {} is written twice in one transaction; write it once",
                    write.oid
                ),
            }),
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

/// A versioned object store (history-preserving), shared by all connections of a database.
///
/// Rules every implementation keeps:
/// * `commit` checks every write's `expected_serial` against the current serial and, if all
///   match, writes all of them under one new tid strictly greater than every earlier tid; if
///   one does not match it writes nothing and returns `Error::Conflict` naming that oid.
/// * A commit is durable when it returns (for on-disk storages) and atomic: no reader ever
///   sees part of a transaction.
/// * `new_oid` never returns the same oid twice, and never `Oid::ROOT`.
pub trait Storage: Send + Sync + 'static {
    /// A short name for messages ("memory", "sqlite:/path/file.db").
    fn name(&self) -> String;

    /// The current revision of `oid`; `Error::NotFound` if it was never stored.
    fn load(&self, oid: Oid) -> Result<Revision>;

    /// The newest revision of `oid` written by a transaction with tid strictly less than
    /// `before`, or `None` if there is none (ZODB's `loadBefore`).
    fn load_before(&self, oid: Oid, before: Tid) -> Result<Option<Revision>>;

    /// The data and serial of the revision `load_before` would give, without looking up
    /// its successor: what a connection needs to load a ghost at its snapshot. The default
    /// calls `load_before`; storages where the successor costs a second lookup override it.
    fn load_visible(&self, oid: Oid, before: Tid) -> Result<Option<(Vec<u8>, Tid)>> {
        Ok(self.load_before(oid, before)?.map(|revision| (revision.data, revision.serial)))
    }

    /// The revision of `oid` written exactly by transaction `serial` (ZODB's `loadSerial`);
    /// `Error::NotFound` if that transaction did not write it.
    fn load_serial(&self, oid: Oid, serial: Tid) -> Result<Vec<u8>>;

    /// A fresh oid, never returned before by this storage.
    fn new_oid(&self) -> Result<Oid>;

    /// `count` fresh oids (connections reserve them in batches). The default calls
    /// `new_oid` `count` times; storages override it with one round trip.
    fn new_oids(&self, count: usize) -> Result<Vec<Oid>> {
        (0..count).map(|_| self.new_oid()).collect()
    }

    /// The tid of the newest committed transaction (`TimeStamp::ZERO` for an empty storage).
    fn last_transaction(&self) -> Result<Tid>;

    /// Commits `txn` atomically (see the trait rules) and returns its new tid.
    fn commit(&self, txn: &TransactionData) -> Result<Tid>;

    /// `commit`, also telling which tid was the newest just before this commit, when the
    /// storage knows it. A caller whose snapshot was that tid then knows nobody else
    /// committed in between. The default reports `None` (unknown).
    fn commit_after(&self, txn: &TransactionData) -> Result<(Tid, Option<Tid>)> {
        Ok((self.commit(txn)?, None))
    }

    /// The newest tid and the oids written by transactions with tid > `after`, each once.
    fn changes_since(&self, after: Tid) -> Result<(Tid, Vec<Oid>)>;

    /// Like `changes_since`, with the tid of the newest revision of each oid. The default
    /// reads each oid's current revision; storages override it with one query.
    fn latest_changes_since(&self, after: Tid) -> Result<(Tid, Vec<(Oid, Tid)>)> {
        let (last, oids) = self.changes_since(after)?;
        let mut changes = Vec::with_capacity(oids.len());
        for oid in oids {
            changes.push((oid, self.load(oid)?.serial));
        }
        Ok((last, changes))
    }

    /// The revisions of `oid`, newest first, at most `limit` of them; `Error::NotFound` if
    /// it was never stored.
    fn history(&self, oid: Oid, limit: usize) -> Result<Vec<RevisionInfo>>;
}
