//! `Database`: a storage plus connection settings, shared between threads. Each thread
//! opens its own `Connection`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::config::DatabaseConfig;
use super::connection::Connection;
use super::schemas::SchemaRegistry;
use super::stats::{DatabaseStats, Totals};
use crate::error::Result;
use crate::storage::Storage;

/// A database over a storage. Cheap to clone (shared), `Send + Sync`.
#[derive(Clone)]
pub struct Database {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) config: DatabaseConfig,
    /// The record schemas of this database known so far.
    pub(crate) schemas: Arc<SchemaRegistry>,
    /// Unique in the process, shared by clones: what weak references compare besides the
    /// oid (docs/spec.md §12).
    pub(crate) id: u64,
    /// What its connections did (docs/spec.md §6.1), shared by clones.
    pub(crate) totals: Arc<Totals>,
}

/// The source of `Database::id`.
static NEXT_DATABASE_ID: AtomicU64 = AtomicU64::new(1);

impl Database {
    /// A database over `storage` with the default settings.
    ///
    /// # Errors
    ///
    /// As [`open_with`](Self::open_with).
    pub fn open(storage: impl Storage) -> Result<Database> {
        Database::open_with(Arc::new(storage), DatabaseConfig::default())
    }

    /// A database over a shared storage with the given settings. Checks that the storage
    /// answers (reads its last transaction).
    ///
    /// # Errors
    ///
    /// The storage's error when it cannot read its last transaction.
    pub fn open_with(storage: Arc<dyn Storage>, config: DatabaseConfig) -> Result<Database> {
        storage.last_transaction()?;
        let id = NEXT_DATABASE_ID.fetch_add(1, Ordering::Relaxed);
        Ok(Database { storage, config, schemas: Arc::default(), id, totals: Arc::default() })
    }

    /// The storage.
    #[must_use]
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// The settings new connections get.
    #[must_use]
    pub fn config(&self) -> DatabaseConfig {
        self.config
    }

    /// What the connections of this database (and of its clones) did since it was opened:
    /// loads, stores, cache hits and misses, evictions, conflicts, retries, commits and
    /// their time (docs/spec.md §6.1). Each connection adds its counts at every transaction
    /// boundary, at `close` and when dropped, so a transaction still running is not in it.
    #[must_use]
    pub fn stats(&self) -> DatabaseStats {
        self.totals.snapshot()
    }

    /// Opens a connection (a data manager with its own cache) in a new transaction that
    /// sees the database as of now.
    ///
    /// # Errors
    ///
    /// The storage's error when it cannot read its last transaction.
    pub fn connect(&self) -> Result<Connection> {
        Connection::open(self.clone())
    }

    /// Runs `work` in a new connection and commits; on `Error::Conflict` aborts and runs it
    /// again, up to `config.max_attempts` times. Any other error aborts and is returned.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect) and [`Connection::transact`].
    pub fn transact<R>(&self, work: impl FnMut(&Connection) -> Result<R>) -> Result<R> {
        self.connect()?.transact(work)
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Database({})", self.storage.name())
    }
}
