//! Group commit: threads committing through one `SqliteStorage` at the same time share one
//! SQLite write transaction, so one `fsync` makes all of them durable.
//!
//! The rules kept:
//! * A committer announces itself (`queued`), then takes the connection. If no group is
//!   open it opens one (`BEGIN IMMEDIATE`); otherwise it joins the open one. It writes its
//!   own transaction there with its own tid (strictly above the group's newest, which is
//!   above every committed tid), inside a `SAVEPOINT` unless it is the group's first member.
//! * A member whose serial check fails, or whose statements fail, is rolled back to its
//!   savepoint and gets its own error at once; the other members are not affected. (The
//!   first member has no savepoint: it rolls back the whole write transaction, which then
//!   holds nothing else, and the group closes.) If SQLite itself ended the write transaction
//!   (an I/O error, a full disk), the group fails: every member gets that error.
//! * After its turn, a member closes the group if no other committer is queued and either
//!   as many members joined as the last group had, or the group has been open `GATHER`
//!   (or it has `MAX_MEMBERS` members): it runs `COMMIT`, the one `fsync`, sets the group's
//!   outcome and wakes everyone. Otherwise it leaves the group open and waits for the
//!   outcome, with a timeout: a queued committer joins next, and a member that wakes past
//!   the deadline with nobody queued closes the group itself. So an open group always ends,
//!   and a thread whose commit returns `Ok` is durable; if `COMMIT` fails, nothing of the
//!   group was written and every member gets the error. Waiting for the last group's size
//!   matters: while a group's `fsync` runs, its members cannot queue for the next one (they
//!   are waiting for their outcome), so without the wait the groups alternate between the
//!   threads of the last group and the others.
//! * Groups live on the storage's write connection. Reads use the other connection, which
//!   sees only committed data (WAL), so they never wait for a group and nobody reads a
//!   member's writes before the group is durable; other writes on the write connection
//!   (oid allocation, restores) wait until no group is open.
//!
//! A lone committer opens a group, finds nobody queued and commits at once: the same
//! statements as without groups, plus two atomic counter updates.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use persistent_core::storage::{CommitOutcome, TransactionData};
use persistent_core::{Error, Result, StorageErrorKind, Tid, TimeStamp};

use crate::commit::{write_transaction, WriteError};
use crate::sql_error::sql_error;
use crate::storage::{last_tid, Writer};
use persistent_core::storage::sql_int::tid_to_sql;

/// The most transactions one group commits: a bound on how long the first member waits.
const MAX_MEMBERS: usize = 64;

/// How long an open group waits for the committers of the last group to join it again,
/// counted from its opening: about an `fsync` on a quiet disk. A lone committer (the last
/// group had one member) never waits.
const GATHER: Duration = Duration::from_micros(150);

/// How a group ended, once it has: `Ok`, or the kind and message of the error every member
/// gets (`Error` is not `Clone`; each member gets an error of its own).
type Outcome = std::result::Result<(), (StorageErrorKind, String)>;

/// The write transaction shared by the members of a group, while it is open.
pub(crate) struct OpenGroup {
    /// The newest tid inside the write transaction: committed before it, or a member's.
    newest: Tid,
    /// How many members wrote their transaction into it (failed ones do not count).
    members: usize,
    /// Set once when the group ends; the members wait for it.
    outcome: Arc<OnceLock<Outcome>>,
    /// When it was opened (it waits at most `GATHER` from then for more members).
    opened: Instant,
}

/// How many transactions a storage committed, and in how many groups (each group one
/// SQLite commit, one `fsync`), since it was opened: see
/// [`SqliteStorage::commit_counts`](crate::SqliteStorage::commit_counts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommitCounts {
    /// Transactions committed (durable), conflicts and failures not counted.
    pub transactions: u64,
    /// SQLite commits that made them durable; `transactions / groups` is the mean group.
    pub groups: u64,
}

/// The commit queue of one `SqliteStorage`.
#[derive(Default)]
pub(crate) struct CommitQueue {
    /// Committers that announced themselves and have not yet taken the connection.
    queued: AtomicUsize,
    /// The size of the last group committed: about how many threads commit together.
    last_size: AtomicUsize,
    /// What `CommitCounts` reports: transactions, then groups.
    committed: [std::sync::atomic::AtomicU64; 2],
    /// Signalled when a group ends (its outcome is set, the connection is free).
    ended: Condvar,
}

impl CommitQueue {
    /// The write connection with no group open, for writes other than commits: waits for
    /// an open group to end first.
    pub(crate) fn outside_groups<'a>(&self, shared: &'a Mutex<Writer>) -> MutexGuard<'a, Writer> {
        let mut inner = shared.lock().unwrap_or_else(PoisonError::into_inner);
        while inner.group.is_some() {
            inner = self.ended.wait(inner).unwrap_or_else(PoisonError::into_inner);
        }
        inner
    }

    /// The transactions committed and the groups they were committed in.
    pub(crate) fn counts(&self) -> CommitCounts {
        CommitCounts {
            transactions: self.committed[0].load(Ordering::Relaxed),
            groups: self.committed[1].load(Ordering::Relaxed),
        }
    }

    /// Commits `txn` as a member of a group (see the module comment).
    pub(crate) fn commit(
        &self,
        shared: &Mutex<Writer>,
        path: &Path,
        txn: &TransactionData,
    ) -> Result<CommitOutcome> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut inner = shared.lock().unwrap_or_else(PoisonError::into_inner);
        self.queued.fetch_sub(1, Ordering::SeqCst);
        let first = inner.group.is_none();
        if first {
            open_group(&mut inner, path)?;
        }
        let written = write_member(&mut inner, path, txn, first);
        let Some(group) = inner.group.as_ref() else {
            // The group ended inside this member's turn (it failed); others were woken.
            self.ended.notify_all();
            return written;
        };
        let outcome = Arc::clone(&group.outcome);
        let deadline = group.opened + GATHER;
        if self.may_close(group) {
            self.close(&mut inner, path);
        }
        let done = written?;
        while outcome.get().is_none() {
            let wait = deadline.saturating_duration_since(Instant::now()).max(GATHER / 4);
            inner = self.ended.wait_timeout(inner, wait).unwrap_or_else(PoisonError::into_inner).0;
            // Still open past its deadline with nobody queued: this member closes it.
            let open = inner.group.as_ref().is_some_and(|g| Arc::ptr_eq(&g.outcome, &outcome));
            if open && Instant::now() >= deadline && self.queued.load(Ordering::SeqCst) == 0 {
                self.close(&mut inner, path);
            }
        }
        match outcome.get() {
            Some(Err((kind, message))) => Err(Error::storage(*kind, message.clone())),
            _ => Ok(done),
        }
    }
}

impl CommitQueue {
    /// Whether the member that just wrote may close `group`: it is full, or nobody is
    /// queued and either as many members joined as the last group had (the threads that
    /// commit together came back) or the group has waited `GATHER` for them.
    fn may_close(&self, group: &OpenGroup) -> bool {
        group.members >= MAX_MEMBERS
            || (self.queued.load(Ordering::SeqCst) == 0
                && (group.members >= self.last_size.load(Ordering::Relaxed)
                    || group.opened.elapsed() >= GATHER))
    }

    /// Commits the open group (see `end_group`), counts it and wakes everyone waiting.
    fn close(&self, inner: &mut Writer, path: &Path) {
        let members = inner.group.as_ref().map_or(0, |group| group.members);
        if end_group(inner, path) && members > 0 {
            self.committed[0].fetch_add(members as u64, Ordering::Relaxed);
            self.committed[1].fetch_add(1, Ordering::Relaxed);
            self.last_size.store(members, Ordering::Relaxed);
        }
        self.ended.notify_all();
    }
}

/// Opens a group: a write transaction (`BEGIN IMMEDIATE`, which waits for other
/// connections' writes) and the newest committed tid.
fn open_group(inner: &mut Writer, path: &Path) -> Result<()> {
    inner
        .conn
        .execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| sql_error(path, "starting a commit", e))?;
    match last_tid(&inner.conn) {
        Ok(newest) => {
            let outcome = Arc::new(OnceLock::new());
            inner.group = Some(OpenGroup { newest, members: 0, outcome, opened: Instant::now() });
            Ok(())
        }
        Err(e) => {
            let _ = inner.conn.execute_batch("ROLLBACK");
            Err(sql_error(path, "reading the last transaction", e))
        }
    }
}

/// Writes `txn` into the open group under a new tid. On failure its rows are rolled back;
/// if that takes the whole write transaction with it (the first member, or SQLite ended
/// it), the group ends: failed, with this member's error, for the members before it.
fn write_member(
    inner: &mut Writer,
    path: &Path,
    txn: &TransactionData,
    first: bool,
) -> Result<CommitOutcome> {
    let Some(group) = inner.group.as_ref() else {
        return Err(Error::storage(StorageErrorKind::Other, "no commit group is open"));
    };
    let previous = group.newest;
    let tid = TimeStamp::now().later_than(previous);
    if tid <= previous {
        return Err(Error::storage(
            StorageErrorKind::Invalid,
            format!("no timestamp is left after the last tid {previous:?}"),
        ));
    }
    let tid_sql = tid_to_sql(tid)?;
    if !first {
        inner
            .conn
            .execute_batch("SAVEPOINT member")
            .map_err(|e| sql_error(path, "starting a commit", e))?;
    }
    let error = match write_transaction(&inner.conn, txn, tid_sql) {
        Ok(()) => {
            let released = if first { Ok(()) } else { inner.conn.execute_batch("RELEASE member") };
            match (released, inner.group.as_mut()) {
                (Ok(()), Some(group)) => {
                    group.newest = tid;
                    group.members += 1;
                    return Ok(CommitOutcome::new(tid, previous));
                }
                (Ok(()), None) => {
                    Error::storage(StorageErrorKind::Other, "the commit group ended early")
                }
                (Err(e), _) => sql_error(path, "finishing a commit", e),
            }
        }
        Err(WriteError::Conflict(conflict)) => conflict,
        Err(WriteError::Sql(what, e)) => sql_error(path, what, e),
    };
    let kept = !first
        && !inner.conn.is_autocommit()
        && inner.conn.execute_batch("ROLLBACK TO member; RELEASE member").is_ok();
    if !kept {
        fail_group(inner, &error);
    }
    Err(error)
}

/// Ends the open group with `COMMIT`, its outcome `Ok` (returns `true`); or, if the commit
/// fails, rolls it back and gives every member the error (`false`).
fn end_group(inner: &mut Writer, path: &Path) -> bool {
    match inner.conn.execute_batch("COMMIT") {
        Ok(()) => {
            if let Some(group) = inner.group.take() {
                let _ = group.outcome.set(Ok(()));
            }
            true
        }
        Err(e) => {
            fail_group(inner, &sql_error(path, "committing", e));
            false
        }
    }
}

/// Rolls back the open write transaction (if SQLite has not already) and ends the group
/// with `error`'s kind and message as every member's outcome.
fn fail_group(inner: &mut Writer, error: &Error) {
    if !inner.conn.is_autocommit() {
        let _ = inner.conn.execute_batch("ROLLBACK");
    }
    if let Some(group) = inner.group.take() {
        let kind = error.storage_kind().unwrap_or(StorageErrorKind::Other);
        let message = if group.members == 0 {
            error.to_string()
        } else {
            format!("the commit group this transaction was part of failed: {error}")
        };
        let _ = group.outcome.set(Err((kind, message)));
    }
}
