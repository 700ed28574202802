//! `SqliteStorage`: opening a database file (WAL, `synchronous=FULL`, a busy handler) and the
//! `Storage` implementation on top of the tables of `schema.rs`. Commits run inside
//! `BEGIN IMMEDIATE`, which serializes writers across connections and processes, and pick
//! their tid there, so tids strictly increase across every process sharing the file;
//! concurrent commits through one storage share that write transaction (`group.rs`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::group::{CommitCounts, CommitQueue, OpenGroup};

use persistent_core::storage::read_ahead::{Known, ReadAhead};
use persistent_core::storage::{
    Changes, CommitOutcome, PackProgress, PackReport, Revision, RevisionInfo, Storage,
    StoredTransaction, TransactionData, TransactionInfo, VisibleRecord,
};
use persistent_core::{Error, Oid, Result, StorageErrorKind, Tid, TimeStamp};
use rusqlite::{Connection, OptionalExtension};

use crate::busy::wait_for_lock;
use crate::copy::{self, CopyError};
use crate::held_read::{self, end_read, HeldRead};
use crate::options::{create_private, SqliteOptions};
use crate::schema::ensure_schema;
use crate::sql_error::sql_error;
use persistent_core::storage::sql_int::{
    oid_from_sql, oid_to_sql, tid_bound, tid_from_sql, tid_to_sql,
};

/// How many oids one trip to the allocator table reserves for this connection.
const OID_BLOCK: i64 = 32;

/// A history-preserving storage in one SQLite file (WAL mode, durable commits).
///
/// Several `SqliteStorage` values, in one process or several on the same machine, may open
/// the same file: writers take turns (waiting up to 30 s for the lock), each commit is
/// atomic and durable when `commit` returns, and tids increase strictly across all of them.
/// Each value holds two connections, each behind a mutex, so it is `Send + Sync`: one for
/// reads (loads, change lists, history), whose calls run one at a time, and one for writes
/// (commits, oid allocation), on which concurrent commits are grouped (`group.rs`). So
/// reads never wait for a commit's fsync.
pub struct SqliteStorage {
    path: PathBuf,
    /// The read side: its connection and the read transaction it may hold.
    inner: Arc<Mutex<Inner>>,
    /// The write side: its connection, the open commit group, the reserved oids.
    writer: Mutex<Writer>,
    /// Threads inside `commit` now: a pack running meanwhile pauses longer between its
    /// batches, so that they get the write lock.
    committing: Arc<AtomicUsize>,
    /// Concurrent commits share one write transaction (group commit).
    queue: CommitQueue,
    /// Records of the oids after the last ones loaded, read ahead (`visible.rs`).
    read_ahead: ReadAhead,
}

/// Counts a thread inside `commit` while it lives.
struct Committing<'a>(&'a AtomicUsize);

impl<'a> Committing<'a> {
    fn enter(count: &'a AtomicUsize) -> Committing<'a> {
        count.fetch_add(1, Ordering::Relaxed);
        Committing(count)
    }
}

impl Drop for Committing<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The read connection and the read transaction it may hold between loads.
pub(crate) struct Inner {
    pub(crate) conn: Connection,
    /// Set while loads keep a read transaction open (see `held_read.rs`).
    pub(crate) held_read: Option<HeldRead>,
    /// Whether a reaper thread watches the held read (see `held_read.rs`).
    pub(crate) reaper_running: bool,
    /// The oid of the last `load_visible`, as an SQL integer: a load of one shortly after
    /// it walks the oids in order, and reads ahead (`visible.rs`).
    last_load: i64,
}

/// The write connection, the commit group open on it, and the oids reserved for this
/// storage but not handed out yet. Outside a group it holds no transaction open.
pub(crate) struct Writer {
    pub(crate) conn: Connection,
    /// The commit group whose write transaction is open (see `group.rs`).
    pub(crate) group: Option<OpenGroup>,
    /// The next oid to hand out from the reserved block.
    next_oid: i64,
    /// The last oid of the reserved block (`next_oid > reserved_end`: block used up).
    reserved_end: i64,
}

impl SqliteStorage {
    /// Opens (creating if absent) the storage file at `path`, switches it to WAL mode with
    /// `synchronous=FULL`, and creates or checks the schema.
    ///
    /// # Errors
    ///
    /// `Error::Storage` with a message naming the path: the file cannot be
    /// opened, is not an SQLite database, holds another schema or another schema version.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStorage> {
        SqliteStorage::open_with(path, SqliteOptions::default())
    }

    /// `open` with options: a new file is created with `options.file_mode` (by default
    /// `0o600`, owner only; the `-wal` and `-shm` files follow it).
    ///
    /// # Errors
    /// As `open`; also `Error::Storage` of kind `Io` if the new file cannot be created.
    pub fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<SqliteStorage> {
        let path = path.as_ref().to_path_buf();
        create_private(&path, options).map_err(|error| {
            Error::storage_with_source(
                StorageErrorKind::Io,
                format!("could not create the database file {}", path.display()),
                error,
            )
        })?;
        let err = |what: &'static str| {
            let path = path.clone();
            move |e| sql_error(&path, what, e)
        };
        let mut conn = Connection::open(&path).map_err(err("opening the file"))?;
        conn.busy_handler(Some(wait_for_lock)).map_err(err("setting the busy handler"))?;
        // Before the first table exists, so that a new file frees pages `pack` empties
        // (`PRAGMA incremental_vacuum`); a no-op on an existing file.
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")
            .map_err(err("setting auto_vacuum"))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(err("switching to WAL mode"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::storage(
                StorageErrorKind::Io,
                format!(
                    "{} could not be switched to WAL mode (journal mode is {mode}); \
                     use a file on a local file system",
                    path.display()
                ),
            ));
        }
        conn.pragma_update(None, "synchronous", "FULL").map_err(err("setting synchronous=FULL"))?;
        ensure_schema(&mut conn, &path)?;
        // The read side: WAL lets it read while the write side commits.
        let reader = Connection::open(&path).map_err(err("opening the file"))?;
        reader.busy_handler(Some(wait_for_lock)).map_err(err("setting the busy handler"))?;
        Ok(SqliteStorage {
            committing: Arc::default(),
            queue: CommitQueue::default(),
            path,
            inner: Arc::new(Mutex::new(Inner {
                conn: reader,
                held_read: None,
                reaper_running: false,
                last_load: i64::MIN,
            })),
            read_ahead: ReadAhead::default(),
            writer: Mutex::new(Writer { conn, group: None, next_oid: 1, reserved_end: 0 }),
        })
    }

    /// The path of the database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many transactions this value has committed since it was opened, and in how many
    /// groups: concurrent commits through one `SqliteStorage` share one SQLite commit (one
    /// `fsync`), so with several committing threads `groups` is below `transactions`.
    #[must_use]
    pub fn commit_counts(&self) -> CommitCounts {
        self.queue.counts()
    }

    /// Runs `PRAGMA integrity_check`: `true` if SQLite finds the file sound.
    ///
    /// # Errors
    ///
    /// `Error::Storage` when SQLite cannot run the check.
    pub fn integrity_check(&self) -> Result<bool> {
        let inner = self.lock();
        let mut stmt = inner
            .conn
            .prepare("PRAGMA integrity_check")
            .map_err(|e| self.err("integrity check", e))?;
        let rows = stmt
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(|e| self.err("integrity check", e))?
            .collect::<Result<Vec<String>, _>>()
            .map_err(|e| self.err("integrity check", e))?;
        Ok(rows == ["ok"])
    }

    /// The read connection with no transaction open: a read transaction `load_before` held
    /// is ended first, so that what follows sees the newest commits. A poisoned lock is
    /// still usable: whatever transaction a panic left open is ended here.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        let mut inner = self.lock_keeping_read();
        end_read(&mut inner);
        inner
    }

    /// The read connection as it is, possibly inside the read transaction `load_before`
    /// holds.
    fn lock_keeping_read(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The write connection with no commit group open (waits for an open group to end).
    fn lock_writer(&self) -> MutexGuard<'_, Writer> {
        self.queue.outside_groups(&self.writer)
    }

    /// Makes sure a read transaction is open whose view holds every revision older than
    /// `before` (see `held_read::read_view`).
    fn read_view(&self, inner: &mut Inner, before: Tid) -> Result<()> {
        held_read::read_view(inner, before, &self.inner).map_err(|e| self.err("starting a read", e))
    }

    fn err(&self, what: &str, error: rusqlite::Error) -> Error {
        sql_error(&self.path, what, error)
    }

    fn copy_err(&self, error: CopyError) -> Error {
        match error {
            CopyError::Sql(what, error) => self.err(what, error),
            CopyError::Refused(error) => error,
        }
    }
}

/// The newest committed tid, `TimeStamp::ZERO` if none.
pub(crate) fn last_tid(conn: &Connection) -> rusqlite::Result<Tid> {
    conn.prepare_cached(r#"SELECT MAX(tid) FROM "transaction""#)?
        .query_row([], |row| row.get::<_, Option<i64>>(0))
        .map(|tid| tid.map_or(TimeStamp::ZERO, tid_from_sql))
}

impl Storage for SqliteStorage {
    fn name(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }

    fn load(&self, oid: Oid) -> Result<Revision> {
        let inner = self.lock();
        let found = inner
            .conn
            .prepare_cached(
                "SELECT o.tid, o.state FROM current_object c \
                 JOIN object_state o ON o.zoid = c.zoid AND o.tid = c.tid WHERE c.zoid = ?1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([oid_to_sql(oid)], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
                })
                .optional()
            })
            .map_err(|e| self.err("loading an object", e))?;
        // An empty revision is an undone creation: the object does not exist.
        let (tid, data) = found.filter(|(_, data)| !data.is_empty()).ok_or(Error::NotFound(oid))?;
        Ok(Revision { data, serial: tid_from_sql(tid), next_serial: None })
    }

    fn load_before(&self, oid: Oid, before: Tid) -> Result<Option<Revision>> {
        // One statement (the revision and its successor's tid through a subquery), inside
        // the held read transaction when its view is recent enough (`read_view`).
        let mut inner = self.lock_keeping_read();
        self.read_view(&mut inner, before)?;
        let found = inner
            .conn
            .prepare_cached(
                "SELECT o.tid, o.state, \
                   (SELECT MIN(n.tid) FROM object_state n WHERE n.zoid = o.zoid AND n.tid > o.tid) \
                 FROM object_state o WHERE o.zoid = ?1 AND o.tid < ?2 \
                 ORDER BY o.tid DESC LIMIT 1",
            )
            .and_then(|mut stmt| {
                stmt.query_row((oid_to_sql(oid), tid_bound(before)), |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, Vec<u8>>(1)?,
                        row.get::<_, Option<i64>>(2)?,
                    ))
                })
                .optional()
            })
            .map_err(|e| self.err("loading a revision before a tid", e))?;
        Ok(found.filter(|(_, data, _)| !data.is_empty()).map(|(tid, data, next)| Revision {
            data,
            serial: tid_from_sql(tid),
            next_serial: next.map(tid_from_sql),
        }))
    }

    fn load_visible(&self, oid: Oid, before: Tid) -> Result<Option<VisibleRecord>> {
        // `load_before` without the successor subquery (half the cost of a ghost load),
        // reading ahead when the loads walk the oids in order (`visible.rs`).
        let mut inner = self.lock_keeping_read();
        let zoid = oid_to_sql(oid);
        let mut walking = crate::visible::walks_on(inner.last_load, zoid);
        inner.last_load = zoid;
        match self.read_ahead.lookup(zoid, tid_bound(before)) {
            Some(Known::Record(tid, data)) => return Ok(crate::visible::visible(tid, data)),
            Some(Known::Absent) => return Ok(None),
            // A record too large to keep: read it alone, not the next oids again.
            Some(Known::NotKept) => walking = false,
            None => {}
        }
        self.read_view(&mut inner, before)?;
        let walk_newest = if walking { held_read::view_newest(&inner) } else { None };
        crate::visible::load_visible(&inner.conn, &self.read_ahead, oid, before, walk_newest)
            .map_err(|e| self.err("loading a revision before a tid", e))
    }

    fn load_visible_many(&self, oids: &[Oid], before: Tid) -> Result<Vec<Option<VisibleRecord>>> {
        let mut inner = self.lock_keeping_read();
        self.read_view(&mut inner, before)?;
        crate::visible::load_visible_many(&inner.conn, oids, before)
            .map_err(|e| self.err("loading revisions before a tid", e))
    }

    fn load_serial(&self, oid: Oid, serial: Tid) -> Result<Vec<u8>> {
        let Ok(tid) = tid_to_sql(serial) else {
            return Err(Error::NotFound(oid));
        };
        let inner = self.lock();
        inner
            .conn
            .prepare_cached("SELECT state FROM object_state WHERE zoid = ?1 AND tid = ?2")
            .and_then(|mut stmt| {
                stmt.query_row((oid_to_sql(oid), tid), |row| row.get::<_, Vec<u8>>(0)).optional()
            })
            .map_err(|e| self.err("loading a revision", e))?
            .ok_or(Error::NotFound(oid))
    }

    fn new_oids(&self, count: usize) -> Result<Vec<Oid>> {
        let mut inner = self.lock_writer();
        let mut oids = Vec::with_capacity(count);
        while oids.len() < count && inner.next_oid <= inner.reserved_end {
            oids.push(oid_from_sql(inner.next_oid));
            inner.next_oid += 1;
        }
        #[allow(
            clippy::cast_possible_wrap,
            reason = "a count of oids asked for at once is far below 2^63"
        )]
        let missing = (count - oids.len()) as i64;
        if missing > 0 {
            // Reserve at least a block, so that single allocations rarely write to disk;
            // what is not handed out now stays reserved for the next calls.
            let reserve = missing.max(OID_BLOCK);
            let end: i64 = inner
                .conn
                .prepare_cached(
                    "UPDATE oid_allocator SET last_oid = last_oid + ?1 WHERE id = 0 \
                     RETURNING last_oid",
                )
                .and_then(|mut stmt| stmt.query_row([reserve], |row| row.get(0)))
                .map_err(|e| self.err("allocating oids", e))?;
            let first = end - reserve + 1;
            oids.extend((first..first + missing).map(oid_from_sql));
            inner.next_oid = first + missing;
            inner.reserved_end = end;
        }
        Ok(oids)
    }

    fn last_transaction(&self) -> Result<Tid> {
        let inner = self.lock();
        last_tid(&inner.conn).map_err(|e| self.err("reading the last transaction", e))
    }

    fn commit(&self, txn: &TransactionData) -> Result<CommitOutcome> {
        txn.check_distinct_oids()?;
        let _committing = Committing::enter(&self.committing);
        self.queue.commit(&self.writer, &self.path, txn)
    }

    fn changes_since(&self, after: Tid) -> Result<Changes> {
        let mut inner = self.lock();
        let tx = inner.conn.transaction().map_err(|e| self.err("starting a read", e))?;
        let newest = last_tid(&tx).map_err(|e| self.err("reading the last transaction", e))?;
        // Each transaction's row lists its oids; later transactions override earlier ones.
        let mut changed: std::collections::HashMap<Oid, Tid> = std::collections::HashMap::new();
        let lists = tx
            .prepare_cached(r#"SELECT tid, oids FROM "transaction" WHERE tid > ?1 ORDER BY tid"#)
            .and_then(|mut stmt| {
                stmt.query_map([tid_bound(after)], |row| {
                    Ok((tid_from_sql(row.get(0)?), row.get::<_, Vec<u8>>(1)?))
                })?
                .collect::<rusqlite::Result<Vec<(Tid, Vec<u8>)>>>()
            })
            .map_err(|e| self.err("listing changed objects", e))?;
        for (tid, oids) in lists {
            for oid in crate::oid_list::decode(&oids)? {
                changed.insert(oid, tid);
            }
        }
        let mut changed: Vec<(Oid, Tid)> = changed.into_iter().collect();
        changed.sort_unstable();
        Ok(Changes::new(newest, changed))
    }

    fn transactions(&self, before: Tid, limit: usize) -> Result<Vec<TransactionInfo>> {
        let inner = self.lock();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = inner
            .conn
            .prepare_cached(
                r#"SELECT tid, username, description, oids FROM "transaction"
                   WHERE tid < ?1 ORDER BY tid DESC LIMIT ?2"#,
            )
            .and_then(|mut stmt| {
                stmt.query_map((tid_bound(before), limit), |row| {
                    Ok((
                        tid_from_sql(row.get(0)?),
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, Vec<u8>>(3)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.err("listing transactions", e))?;
        rows.into_iter()
            .map(|(tid, user, description, oids)| {
                Ok(TransactionInfo::new(tid, user, description, crate::oid_list::decode(&oids)?))
            })
            .collect()
    }

    fn list_oids(&self, after: Option<Oid>, limit: usize) -> Result<Vec<Oid>> {
        let inner = self.lock();
        let after = after.map_or(i64::MIN, oid_to_sql);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        inner
            .conn
            .prepare_cached(
                "SELECT zoid FROM current_object WHERE zoid > ?1 ORDER BY zoid LIMIT ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_map((after, limit), |row| Ok(oid_from_sql(row.get(0)?)))?
                    .collect::<rusqlite::Result<Vec<Oid>>>()
            })
            .map_err(|e| self.err("listing the objects", e))
    }

    fn pack(&self, before: Tid, progress: &mut dyn FnMut(&PackProgress)) -> Result<PackReport> {
        crate::pack::pack(&self.path, &self.committing, before, progress)
    }

    fn transactions_after(&self, after: Tid, limit: usize) -> Result<Vec<StoredTransaction>> {
        let mut inner = self.lock();
        copy::transactions_after(&mut inner.conn, after, limit).map_err(|e| self.copy_err(e))
    }

    fn restore(&self, batch: &[StoredTransaction]) -> Result<()> {
        let mut inner = self.lock_writer();
        copy::restore(&mut inner.conn, batch).map_err(|e| self.copy_err(e))?;
        // The allocator now starts above every restored oid; a block reserved before may
        // hold some of them, so it is given up.
        inner.next_oid = 1;
        inner.reserved_end = 0;
        Ok(())
    }

    fn packed_before(&self) -> Result<Tid> {
        let inner = self.lock();
        crate::pack::packed_before(&inner.conn).map_err(|e| self.err("reading the pack's bound", e))
    }

    fn history(&self, oid: Oid, limit: usize) -> Result<Vec<RevisionInfo>> {
        // One statement (one read, no explicit transaction): an object has revisions exactly
        // while it is stored, so none means never stored (or removed by a pack). The limit is
        // applied while stepping, not as `LIMIT ?`: SQLite re-prepares a statement whose
        // bound `LIMIT` changes, at every call (this one runs once per object in `stats`).
        let inner = self.lock();
        if limit == 0 {
            let stored = crate::commit::current_serial(&inner.conn, oid)
                .map_err(|e| self.err("checking an object", e))?;
            return stored.map(|_| Vec::new()).ok_or(Error::NotFound(oid));
        }
        let revisions = inner
            .conn
            .prepare_cached(
                r#"SELECT o.tid, t.username, t.description, length(o.state)
                   FROM object_state o JOIN "transaction" t ON t.tid = o.tid
                   WHERE o.zoid = ?1 ORDER BY o.tid DESC"#,
            )
            .and_then(|mut stmt| {
                stmt.query_map([oid_to_sql(oid)], |row| {
                    Ok(RevisionInfo {
                        tid: tid_from_sql(row.get(0)?),
                        user: row.get(1)?,
                        description: row.get(2)?,
                        #[allow(
                            clippy::cast_possible_truncation,
                            clippy::cast_sign_loss,
                            reason = "sizes are stored from `usize` lengths"
                        )]
                        size: row.get::<_, i64>(3)? as usize,
                    })
                })?
                .take(limit)
                .collect::<rusqlite::Result<Vec<RevisionInfo>>>()
            })
            .map_err(|e| self.err("reading the history", e))?;
        if revisions.is_empty() {
            return Err(Error::NotFound(oid));
        }
        Ok(revisions)
    }
}
