//! `Connection`: one thread's view of the database and the data manager of its objects.
//! This file holds the public API and the connection's state; loading lives in `loader`,
//! commit and abort in `commit`.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::{Rc, Weak};

use super::database::Database;
use super::savepoint::Spill;
use super::schemas::ReadPlans;
use super::stats::{bump, ConnectionStats, Counters};
use crate::any_object::ObjectRef;
use crate::cache::Cache;
use crate::error::{Error, Result, StorageErrorKind};
use crate::jar::Jar;
use crate::oid::hash::BuildOidHasher;
use crate::oid::Oid;
use crate::persistent::Persistent;
use crate::state::PState;
use crate::storage::RevisionInfo;
use crate::timestamp::Tid;
use crate::P;

/// User and description recorded with the next commit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransactionNote {
    /// Who commits.
    pub user: String,
    /// What the transaction does.
    pub description: String,
}

/// A connection to a database: the data manager of the objects it loads, with its own cache
/// and its own transaction. Not `Send`: one connection per thread, as in ZODB.
///
/// Rules kept: reads within a transaction see the database as of the transaction's start;
/// `commit` stores every changed object and every new object reachable from them in one
/// storage transaction, or nothing; other connections' commits become visible at the next
/// transaction start (`commit`, `abort`, `sync`), when their oids are invalidated here.
pub struct Connection {
    pub(crate) inner: Rc<ConnectionInner>,
}

pub(crate) struct ConnectionInner {
    pub(crate) db: Database,
    pub(crate) jar: Jar,
    pub(crate) cache: Cache,
    pub(crate) this: Weak<ConnectionInner>,
    pub(crate) closed: Cell<bool>,
    pub(crate) txn: RefCell<TransactionState>,
    /// The oids met while encoding the current record's state (its reference list).
    pub(crate) references: RefCell<Vec<Oid>>,
    /// The database's number for each `&'static Schema` of a type met (keyed by address).
    pub(crate) schema_ids: RefCell<HashMap<usize, u64>>,
    /// How records are read, for each reader schema (by address) and stored schema number.
    pub(crate) read_plans: RefCell<ReadPlans>,
    /// What this connection did (docs/spec.md §6.1); the evictions are its cache's.
    pub(crate) counters: Counters,
    /// Set for a historical connection (docs/spec.md §11): its snapshot never moves and it
    /// refuses every write with `Error::ReadOnly`.
    pub(crate) historical: bool,
}

/// What the current transaction has done so far.
#[derive(Default)]
pub(crate) struct TransactionState {
    /// The tid this transaction reads at (the newest tid when it began).
    pub(crate) snapshot: Tid,
    /// Objects registered as changed, in registration order.
    pub(crate) registered: Vec<ObjectRef>,
    /// Objects added (explicitly or by reachability) and never stored.
    pub(crate) added: Vec<ObjectRef>,
    /// Oids of `added`, to tell new objects from stored ones.
    pub(crate) added_oids: HashSet<Oid, BuildOidHasher>,
    /// Oids reserved from the storage and not yet used.
    pub(crate) spare_oids: Vec<Oid>,
    /// Objects loaded through an upgrade function, stored again at the next commit.
    pub(crate) upgraded: Vec<Oid>,
    /// Set when a commit failed: only `abort` is allowed then.
    pub(crate) doomed: bool,
    /// The objects `Connection::read_current` asked to stay current, with the serial read.
    pub(crate) read_current: Vec<(Oid, Tid)>,
    pub(crate) note: TransactionNote,
    /// The savepoints and the states they spilled (docs/spec.md §13).
    pub(crate) spill: Spill,
    /// Records read ahead at the snapshot by `Connection::prefetch`, each taken by its
    /// object's load; dropped when the snapshot moves.
    pub(crate) prefetched: super::prefetch::Prefetched,
    /// The id of the newest savepoint taken by this connection (never reset, so an old
    /// savepoint's id is never reused).
    pub(crate) next_savepoint: u64,
}

impl Connection {
    pub(crate) fn open(db: Database) -> Result<Connection> {
        let snapshot = db.storage.last_transaction()?;
        Ok(Connection::open_inner(db, snapshot, false))
    }

    /// A historical connection reading at `at`, or at the newest tid if that is older (a
    /// snapshot past the newest tid would see later commits appear).
    pub(crate) fn open_at(db: Database, at: Tid) -> Result<Connection> {
        let snapshot = db.storage.last_transaction()?.min(at);
        Ok(Connection::open_inner(db, snapshot, true))
    }

    fn open_inner(db: Database, snapshot: Tid, historical: bool) -> Connection {
        db.totals.connections.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let limits = db.config.cache;
        let inner = Rc::new_cyclic(|this: &Weak<ConnectionInner>| {
            let jar = Jar(Rc::new(crate::jar::JarInner {
                dm: this.clone(),
                cache: std::cell::OnceCell::new(),
                database: Some(db.id),
            }));
            let cache = Cache::with_limits(&jar, limits).expect("a new jar has no cache");
            ConnectionInner {
                db,
                jar,
                cache,
                this: this.clone(),
                closed: Cell::new(false),
                txn: RefCell::new(TransactionState { snapshot, ..TransactionState::default() }),
                references: RefCell::new(Vec::new()),
                schema_ids: RefCell::default(),
                read_plans: RefCell::default(),
                counters: Counters::default(),
                historical,
            }
        });
        Connection { inner }
    }

    /// Whether this connection is historical (`Database::connect_at`): it reads at a fixed
    /// past snapshot and refuses every write with `Error::ReadOnly`.
    #[must_use]
    pub fn is_historical(&self) -> bool {
        self.inner.historical
    }

    /// Asks the next commit to fail with `Error::Conflict` naming `obj` if another
    /// transaction changed `obj` after this one read it, even though this transaction does
    /// not write it (ZODB's `readCurrent`; docs/spec.md §11): for a decision that rests on
    /// `obj`'s value, so that two transactions cannot each write based on what the other
    /// changes (write skew). Loads `obj` if it is a ghost. An object added in this
    /// transaction needs no check. A commit with nothing to write checks nothing.
    ///
    /// # Errors
    ///
    /// `Error::ConnectionClosed` after `close`; `Error::ForeignObject` for an object of
    /// another connection or none; the load's error for a ghost.
    pub fn read_current<T: Persistent>(&self, obj: &P<T>) -> Result<()> {
        self.inner.check_open()?;
        let object = obj.as_object();
        let oid = match (object.p_jar(), object.p_oid()) {
            (Some(jar), Some(oid)) if jar.ptr_eq(&self.inner.jar) => oid,
            (_, oid) => return Err(Error::ForeignObject { oid }),
        };
        if self.inner.txn.borrow().added_oids.contains(&oid) {
            return Ok(());
        }
        object.p_activate()?;
        self.inner.txn.borrow_mut().read_current.push((oid, object.p_serial()));
        Ok(())
    }

    /// The database this connection belongs to.
    #[must_use]
    pub fn database(&self) -> &Database {
        &self.inner.db
    }

    /// The jar of this connection's objects.
    #[must_use]
    pub fn jar(&self) -> &Jar {
        &self.inner.jar
    }

    /// This connection's object cache.
    #[must_use]
    pub fn cache(&self) -> &Cache {
        &self.inner.cache
    }

    /// The tid this transaction reads at.
    #[must_use]
    pub fn snapshot(&self) -> Tid {
        self.inner.txn.borrow().snapshot
    }

    /// The root object (oid 0) as an `R`, created with `R::default()` on first use (stored
    /// by the next commit). A stored root of another type is `Error::TypeMismatch`.
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get), except that a missing root is created rather than
    /// `Error::NotFound`; `Error::ConnectionClosed` after `close`.
    pub fn root<R: Persistent + Default>(&self) -> Result<P<R>> {
        self.inner.check_open()?;
        match self.get::<R>(Oid::ROOT) {
            Err(Error::NotFound(_)) => {
                let root = P::new(R::default());
                self.inner.add_with_oid(&root.erase(), Oid::ROOT)?;
                Ok(root)
            }
            other => other,
        }
    }

    /// The object stored under `oid`, typed. Gives the cached object when there is one (an
    /// object of another type is `Error::TypeMismatch`); otherwise reads the record at this
    /// transaction's snapshot: `Error::NotFound` if there is none, `Error::TypeMismatch` if
    /// it holds another type.
    ///
    /// # Errors
    ///
    /// `Error::ConnectionClosed` after `close`; `Error::TypeMismatch` and `Error::NotFound` as
    /// above; loading errors (`Error::Decode`, `Error::CorruptRecord`, a storage error).
    pub fn get<T: Persistent>(&self, oid: Oid) -> Result<P<T>> {
        self.inner.check_open()?;
        if let Some(obj) = self.inner.cache.get(oid) {
            bump(&self.inner.counters.cache_hits);
            return obj.downcast::<T>().ok_or_else(|| Error::TypeMismatch {
                oid,
                expected: T::stored_type_name().to_string(),
                found: obj.type_name().to_string(),
            });
        }
        bump(&self.inner.counters.cache_misses);
        let ghost = P::<T>::uninitialized();
        self.inner.cache.new_ghost(oid, &ghost)?;
        match ghost.as_object().p_activate() {
            Ok(()) => Ok(ghost),
            Err(error) => {
                self.inner.cache.remove(oid);
                // Asked for by oid, not reached through a reference: plainly not found.
                Err(match error {
                    Error::Dangling { oid: missing, .. } if missing == oid => Error::NotFound(oid),
                    other => other,
                })
            }
        }
    }

    /// Adds a new object: it gets an oid and this connection as jar and is stored by the
    /// next commit. Adding an object of this connection again returns its oid; an object of
    /// another connection is `Error::ForeignObject`.
    ///
    /// # Errors
    ///
    /// `Error::ConnectionClosed` after `close`; `Error::ForeignObject` for an object of another
    /// connection; a storage error when no oid can be allocated; `Error::Cache` if the cache
    /// refuses it.
    pub fn add<T: Persistent>(&self, obj: &P<T>) -> Result<Oid> {
        self.inner.check_open()?;
        self.inner.add(&obj.erase())
    }

    /// Sets the user and description recorded with the next commit.
    pub fn set_note(&self, note: TransactionNote) {
        self.inner.txn.borrow_mut().note = note;
    }

    /// The stored revisions of an object, newest first, at most `limit`.
    ///
    /// # Errors
    ///
    /// `Error::ConnectionClosed` after `close`; `Error::ForeignObject { oid: None }` for an
    /// object without an oid; the storage's error.
    pub fn history<T: Persistent>(&self, obj: &P<T>, limit: usize) -> Result<Vec<RevisionInfo>> {
        self.inner.check_open()?;
        let oid = obj.as_object().p_oid().ok_or(Error::ForeignObject { oid: None })?;
        self.inner.db.storage.history(oid, limit)
    }

    /// The value of `obj` as transaction `tid` wrote it (history), decoded without
    /// touching the object itself.
    ///
    /// # Errors
    ///
    /// `Error::ConnectionClosed` after `close`; `Error::ForeignObject { oid: None }` for an
    /// object without an oid; `Error::NotFound` when `tid` wrote no revision of it;
    /// `Error::TypeMismatch`, `Error::CorruptRecord` or `Error::Decode` for a record that does
    /// not decode as a `T`; a storage error.
    pub fn old_value<T: Persistent>(&self, obj: &P<T>, tid: Tid) -> Result<T> {
        self.inner.check_open()?;
        let oid = obj.as_object().p_oid().ok_or(Error::ForeignObject { oid: None })?;
        let state = self.inner.old_state::<T>(oid, tid)?;
        self.inner.decode_with_references(|| T::decode_state(&state))
    }

    /// How many write conflicts this connection's commits resolved (docs/spec.md §8): each
    /// time a commit found an object written by another transaction since it was read, and
    /// the object's type merged the two states (`Persistent::resolve_conflict`), the merge
    /// was stored instead of failing with `Error::Conflict`. Counted once the commit lands;
    /// an object merged twice in one commit (yet another transaction wrote it in between)
    /// counts twice. A statistic, not an error.
    #[must_use]
    pub fn conflicts_resolved(&self) -> u64 {
        self.inner.counters.conflicts_resolved.get()
    }

    /// What this connection did since it was opened: loads, stores, cache hits and misses,
    /// evictions, conflicts seen and resolved, `transact` retries, commits and their total
    /// time (docs/spec.md §6.1, where each count's rule is). The counts are kept always and
    /// cost a cell increment where they happen, never on a field access. The database's
    /// totals ([`Database::stats`]) receive them at each transaction boundary.
    #[must_use]
    pub fn stats(&self) -> ConnectionStats {
        self.inner.stats()
    }

    /// Whether the transaction has changes to commit.
    #[must_use]
    pub fn has_changes(&self) -> bool {
        let txn = self.inner.txn.borrow();
        !txn.registered.is_empty() || !txn.added.is_empty() || !txn.spill.is_empty()
    }

    /// Runs `work` and commits; on a conflict aborts, waits a short random pause that grows
    /// with each attempt (so that competing writers stop colliding), and runs it again, up
    /// to the database's `max_attempts`. Any other error aborts and is returned; if that
    /// abort fails too, the result is `Error::AbortFailed` holding both errors. If `work`
    /// panics, the transaction is aborted before the panic goes on, so none of its changes
    /// can reach a later commit.
    ///
    /// # Errors
    ///
    /// The first error of `work` or `commit` that is not a conflict, the last `Error::Conflict`
    /// once `max_attempts` are used up, or `Error::AbortFailed` when the abort after a failure
    /// fails too.
    pub fn transact<R>(&self, mut work: impl FnMut(&Connection) -> Result<R>) -> Result<R> {
        let attempts = self.inner.db.config.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = {
                let guard = AbortOnUnwind(self);
                let outcome = work(self).and_then(|value| self.commit().map(|_| value));
                std::mem::forget(guard);
                outcome
            };
            match outcome {
                Ok(value) => return Ok(value),
                Err(error) => {
                    let retry = error.is_conflict() && attempt < attempts;
                    if retry {
                        // Pause first: the abort then starts the retry at a fresh snapshot.
                        let pause = retry_pause(attempt);
                        bump(&self.inner.counters.retries);
                        tracing::info!(
                            target: crate::trace::TARGET,
                            attempt,
                            pause_us = crate::trace::micros(pause),
                            error = %error,
                            "retry"
                        );
                        std::thread::sleep(pause);
                    }
                    if let Err(abort) = self.abort() {
                        return Err(Error::AbortFailed {
                            error: Box::new(error),
                            abort: Box::new(abort),
                        });
                    }
                    if !retry {
                        return Err(error);
                    }
                }
            }
        }
    }

    /// Aborts what is pending and closes the connection: its objects can no longer load
    /// (`Error::ConnectionClosed`), and every call on it fails the same way.
    ///
    /// # Errors
    ///
    /// As [`abort`](Self::abort); the connection then stays open.
    pub fn close(&self) -> Result<()> {
        if self.inner.closed.get() {
            return Ok(());
        }
        self.abort()?;
        self.inner.closed.set(true);
        Ok(())
    }

    /// Whether `close` was called.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.inner.closed.get()
    }
}

/// The largest oid batch a growing transaction reserves at once.
const MAX_OID_BATCH: usize = 65_536;

impl ConnectionInner {
    /// The counts so far (`Connection::stats`).
    pub(crate) fn stats(&self) -> ConnectionStats {
        self.counters.snapshot(self.cache.evictions())
    }

    /// Adds what was counted since the last flush to the database's totals: at every
    /// transaction boundary, at `close` and when the connection is dropped.
    pub(crate) fn flush_stats(&self) {
        self.counters.flush(self.stats(), &self.db.totals);
    }

    /// `Error::ReadOnly` naming `operation` on a historical connection.
    pub(crate) fn check_writable(&self, operation: &'static str) -> Result<()> {
        if self.historical {
            Err(Error::ReadOnly { operation })
        } else {
            Ok(())
        }
    }

    pub(crate) fn check_open(&self) -> Result<()> {
        if self.closed.get() {
            Err(Error::ConnectionClosed)
        } else {
            Ok(())
        }
    }

    /// A fresh oid from the reserved batch, reserving a new batch when it runs out. A
    /// transaction that adds many objects reserves larger batches (as many as it has added
    /// so far, up to `MAX_OID_BATCH`): each reservation may be a durable storage write.
    pub(crate) fn next_oid(&self) -> Result<Oid> {
        let added = {
            let mut txn = self.txn.borrow_mut();
            if let Some(oid) = txn.spare_oids.pop() {
                return Ok(oid);
            }
            txn.added.len()
        };
        let count = self.db.config.oid_batch.max(1).max(added.min(MAX_OID_BATCH));
        let mut batch = self.db.storage.new_oids(count)?;
        batch.reverse();
        let oid = batch.pop().ok_or_else(|| {
            Error::storage(
                StorageErrorKind::Invalid,
                format!("{} allocated no oid", self.db.storage.name()),
            )
        })?;
        self.txn.borrow_mut().spare_oids = batch;
        Ok(oid)
    }

    /// Adds a jar-less object under a new oid (see `Connection::add`).
    pub(crate) fn add(&self, obj: &ObjectRef) -> Result<Oid> {
        match obj.p_jar() {
            Some(jar) if jar.ptr_eq(&self.jar) => {
                obj.p_oid().ok_or(Error::ForeignObject { oid: None })
            }
            Some(_) => Err(Error::ForeignObject { oid: obj.p_oid() }),
            None => {
                self.check_writable("add an object")?;
                let oid = self.next_oid()?;
                self.add_with_oid(obj, oid)?;
                Ok(oid)
            }
        }
    }

    /// Gives `obj` the oid and this jar, caches it, and marks it new and Changed (so no
    /// sweep drops it before it is stored).
    pub(crate) fn add_with_oid(&self, obj: &ObjectRef, oid: Oid) -> Result<()> {
        self.check_writable("add an object")?;
        let header = obj.header();
        if header.jar().is_some() {
            return Err(Error::ForeignObject { oid: obj.p_oid() });
        }
        header.set_oid(Some(oid));
        drop(header.replace_jar(Some(self.jar.clone())));
        if let Err(error) = self.cache.insert(oid, obj.clone()) {
            header.set_oid(None);
            drop(header.replace_jar(None));
            return Err(error);
        }
        if header.state.get() != PState::Ghost {
            header.state.set(PState::Changed);
        }
        let mut txn = self.txn.borrow_mut();
        txn.added.push(obj.clone());
        txn.added_oids.insert(oid);
        Ok(())
    }
}

/// A dropped connection's counts reach its database's totals.
impl Drop for ConnectionInner {
    fn drop(&mut self) {
        self.flush_stats();
    }
}

/// The pause before retry `attempt` (1-based): random in [0, min(2^attempt * 50 us, 20 ms)).
fn retry_pause(attempt: usize) -> std::time::Duration {
    use std::hash::{BuildHasher, Hasher};
    let ceiling_us = (50u64 << attempt.min(20)).min(20_000);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_usize(attempt);
    std::time::Duration::from_micros(hasher.finish() % ceiling_us)
}

/// Aborts the connection's transaction when dropped; `transact` forgets it on the normal
/// path, so it only runs while a panic unwinds out of the user's closure (or the commit).
struct AbortOnUnwind<'a>(&'a Connection);

impl Drop for AbortOnUnwind<'_> {
    fn drop(&mut self) {
        // Unwinding already: an abort failure cannot be reported, and the panic goes on.
        let _ = self.0.abort();
    }
}
