//! `DatabaseConfig`: settings every connection of a database starts with, with a builder.

use std::time::Duration;

use crate::cache::CacheLimits;

/// Settings of a database's connections.
///
/// Build with `DatabaseConfig::default()` and the `with_*` methods:
/// ```
/// # use persistent_core::{CacheLimits, DatabaseConfig};
/// let config = DatabaseConfig::default()
///     .with_cache(CacheLimits::default().with_cache_size(500))
///     .with_max_attempts(10);
/// assert_eq!(config.cache.cache_size, 500);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DatabaseConfig {
    /// The cache limits of each new connection. Default: 10,000 objects, no byte limit, no
    /// drain resistance.
    pub cache: CacheLimits,
    /// How many times `transact` runs its closure when commits conflict. Default: 50.
    pub max_attempts: usize,
    /// How many oids a connection reserves from the storage at a time, at least (a
    /// transaction that adds many objects reserves more at once). Default: 256.
    pub oid_batch: usize,
    /// A storage load that takes longer than this is reported as a `slow load` event at
    /// warn level, naming the oid and the time (docs/spec.md §6.2). Default: 100 ms.
    /// `Duration::MAX` reports none.
    pub slow_load_threshold: Duration,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            cache: CacheLimits::default().with_cache_size(10_000),
            max_attempts: 50,
            oid_batch: 256,
            slow_load_threshold: Duration::from_millis(100),
        }
    }
}

impl DatabaseConfig {
    /// This configuration with these cache limits for new connections.
    #[must_use]
    pub fn with_cache(mut self, cache: CacheLimits) -> DatabaseConfig {
        self.cache = cache;
        self
    }

    /// This configuration with `transact` running its closure at most `attempts` times
    /// (at least once).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: usize) -> DatabaseConfig {
        self.max_attempts = attempts;
        self
    }

    /// This configuration with storage loads slower than `threshold` reported as `slow load`
    /// events (`Duration::MAX`: never).
    #[must_use]
    pub fn with_slow_load_threshold(mut self, threshold: Duration) -> DatabaseConfig {
        self.slow_load_threshold = threshold;
        self
    }

    /// This configuration with connections reserving at least `batch` oids at a time.
    #[must_use]
    pub fn with_oid_batch(mut self, batch: usize) -> DatabaseConfig {
        self.oid_batch = batch;
        self
    }
}
