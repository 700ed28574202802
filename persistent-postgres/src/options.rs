//! `PostgresOptions`: how `PostgresStorage::open_with` connects (pool size, timeouts, the CA
//! certificate for TLS). The connection string itself (host, user, password, database,
//! `sslmode`) is the URL given to `open`.

use std::path::PathBuf;
use std::time::Duration;

/// Options for [`PostgresStorage::open_with`](crate::PostgresStorage::open_with).
///
/// ```
/// # use persistent_postgres::PostgresOptions;
/// # use std::time::Duration;
/// let options = PostgresOptions::default()
///     .with_pool_size(4)
///     .with_lock_timeout(Duration::from_secs(5))
///     .with_ca_file("/etc/ssl/my-ca.pem");
/// assert_eq!(options.pool_size, 4);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostgresOptions {
    /// The most connections the storage keeps open at once (default 8). Calls from more
    /// threads than this wait for a free connection.
    pub pool_size: usize,
    /// How long opening a connection may take (default 10 s); longer is
    /// `StorageErrorKind::Unavailable`.
    pub connect_timeout: Duration,
    /// How long a statement waits for a lock another session holds (default 30 s, like the
    /// SQLite storage's busy wait); longer is `StorageErrorKind::Busy`. Zero waits forever.
    pub lock_timeout: Duration,
    /// How long one statement may run (default zero: no limit); longer is
    /// `StorageErrorKind::Busy`. `pack` runs without it.
    pub statement_timeout: Duration,
    /// A PEM file of CA certificates that the server's certificate must chain to, for
    /// `sslmode=verify-ca`, `verify-full` (and `require`, which then checks the chain like
    /// `verify-ca`, as libpq does). The URL's `sslrootcert` is used when this is `None`, then
    /// `~/.postgresql/root.crt`.
    pub ca_file: Option<PathBuf>,
    /// The `application_name` the sessions report in `pg_stat_activity` (default
    /// `"persistent"`).
    pub application_name: String,
    /// Off by default. When on, a commit releases the commit lock as soon as the server
    /// holds its commit record, before the record is on disk, and waits for the disk after
    /// (one more round trip), outside the lock: concurrent commits then share disk flushes
    /// (PostgreSQL's group commit), several times the throughput with several writers.
    /// `commit` still returns only once the transaction is durable, but other clients may
    /// read it a few milliseconds before, and a server crash in that window loses it (its
    /// own `commit` never returned `Ok`).
    pub visible_before_durable: bool,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            pool_size: 8,
            connect_timeout: Duration::from_secs(10),
            lock_timeout: Duration::from_secs(30),
            statement_timeout: Duration::ZERO,
            ca_file: None,
            application_name: "persistent".to_owned(),
            visible_before_durable: false,
        }
    }
}

impl PostgresOptions {
    /// These options with at most `size` connections (at least one).
    #[must_use]
    pub fn with_pool_size(mut self, size: usize) -> PostgresOptions {
        self.pool_size = size.max(1);
        self
    }

    /// These options with connections given up after `timeout`.
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> PostgresOptions {
        self.connect_timeout = timeout;
        self
    }

    /// These options with lock waits given up after `timeout` (zero: wait forever).
    #[must_use]
    pub fn with_lock_timeout(mut self, timeout: Duration) -> PostgresOptions {
        self.lock_timeout = timeout;
        self
    }

    /// These options with statements cancelled after `timeout` (zero: no limit).
    #[must_use]
    pub fn with_statement_timeout(mut self, timeout: Duration) -> PostgresOptions {
        self.statement_timeout = timeout;
        self
    }

    /// These options trusting the CA certificates in the PEM file at `path`.
    #[must_use]
    pub fn with_ca_file(mut self, path: impl Into<PathBuf>) -> PostgresOptions {
        self.ca_file = Some(path.into());
        self
    }

    /// These options with commits visible before they are durable (see
    /// [`visible_before_durable`](PostgresOptions::visible_before_durable)).
    #[must_use]
    pub fn with_visible_before_durable(mut self, on: bool) -> PostgresOptions {
        self.visible_before_durable = on;
        self
    }

    /// These options with sessions named `name` in `pg_stat_activity`.
    #[must_use]
    pub fn with_application_name(mut self, name: impl Into<String>) -> PostgresOptions {
        self.application_name = name.into();
        self
    }
}
