//! Undo and time travel at the database level (docs/spec.md §11): `Database::undo` (a new
//! transaction restoring, for each object a transaction wrote, the revision before it),
//! the undo log, and historical connections. Only storage methods are used: records stay
//! opaque bytes here.

use std::time::SystemTime;

use super::connection::Connection;
use super::database::Database;
use crate::codec::references_of;
use crate::error::{Error, Result};
use crate::oid::Oid;
use crate::storage::{ObjectWrite, TransactionData, TransactionInfo};
use crate::timestamp::{Tid, TimeStamp};

impl Database {
    /// Undoes transaction `tid` in a new transaction and returns its tid: each object `tid`
    /// wrote gets back the revision it had before `tid` (refused if a later transaction
    /// changed it, unless that one stored exactly the bytes `tid` wrote); an object `tid` created becomes
    /// absent (an empty revision: loading it is `Error::NotFound`). The schema registry is
    /// left as it is (it only grows, and records still name its schemas). Connections see
    /// the undo at their next transaction start, like any commit. Undoing an undo redoes.
    ///
    /// # Errors
    ///
    /// `Error::UnknownTransaction` when no transaction has this tid; `Error::UndoPacked` for a
    /// transaction below the newest pack's bound (its earlier revisions are gone);
    /// `Error::UndoConflict`
    /// naming the first object a later transaction changed since (also when one commits
    /// while the undo is prepared); a storage error. Nothing is written on any error.
    pub fn undo(&self, tid: Tid) -> Result<Tid> {
        let info = self.transaction_info(tid)?;
        let packed_before = self.storage.packed_before()?;
        if tid < packed_before {
            return Err(Error::UndoPacked { tid, packed_before });
        }
        let mut writes = Vec::with_capacity(info.oids.len());
        for oid in info.oids.into_iter().filter(|oid| *oid != Oid::SCHEMAS) {
            let current = self.storage.history(oid, 1)?.first().map_or(tid, |rev| rev.tid);
            // A later transaction that stored exactly the bytes `tid` wrote (an undo of an
            // undo, say) changed nothing that restoring would lose.
            if current != tid
                && self.storage.load_serial(oid, current)? != self.storage.load_serial(oid, tid)?
            {
                return Err(Error::UndoConflict { tid, oid, current });
            }
            let before = self.storage.load_before(oid, tid)?;
            let data = before.map(|revision| revision.data).unwrap_or_default();
            let references = if data.is_empty() { Vec::new() } else { references_of(oid, &data)? };
            writes.push(ObjectWrite::new(oid, Some(current), data).with_references(references));
        }
        let txn = TransactionData {
            user: String::new(),
            description: format!("undo {tid}"),
            extension: Vec::new(),
            writes,
            read_current: Vec::new(),
        };
        match self.storage.commit(&txn) {
            Ok(outcome) => Ok(outcome.tid),
            Err(Error::Conflict { oid, actual, .. }) => {
                Err(Error::UndoConflict { tid, oid, current: actual })
            }
            Err(error) => Err(error),
        }
    }

    /// The undo log: committed transactions with tid < `before` (`TimeStamp::MAX` for the
    /// newest), newest first, at most `limit`, each with its time, user, description and
    /// the oids it wrote. The next page starts before the last tid of this one.
    ///
    /// # Errors
    ///
    /// A storage error.
    pub fn undo_log(&self, before: Tid, limit: usize) -> Result<Vec<TransactionInfo>> {
        self.storage.transactions(before, limit)
    }

    /// Opens a historical connection: every load sees the database as transaction `tid`
    /// left it (a `tid` past the newest is the newest), for as long as the connection
    /// lives; commits and aborts do not move it. It never writes: changing an object,
    /// adding one, creating the root or committing changes is `Error::ReadOnly`.
    ///
    /// # Errors
    ///
    /// The storage's error when it cannot read its last transaction.
    pub fn connect_at(&self, tid: Tid) -> Result<Connection> {
        Connection::open_at(self.clone(), tid)
    }

    /// [`connect_at`](Self::connect_at) the database as it was at `time`: the newest
    /// transaction committed at or before it (tids are commit times).
    ///
    /// # Errors
    ///
    /// As `connect_at`.
    pub fn connect_at_time(&self, time: SystemTime) -> Result<Connection> {
        self.connect_at(TimeStamp::from_system_time(time))
    }

    /// The log entry of transaction `tid`.
    fn transaction_info(&self, tid: Tid) -> Result<TransactionInfo> {
        let after = TimeStamp::from_u64(tid.as_u64().saturating_add(1));
        self.storage
            .transactions(after, 1)?
            .into_iter()
            .find(|info| info.tid == tid)
            .ok_or(Error::UnknownTransaction(tid))
    }
}
