//! `DatabaseConfig`: settings every connection of a database starts with.

use crate::cache::CacheLimits;

/// Settings of a database's connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DatabaseConfig {
    /// The cache limits of each new connection. Default: 10,000 objects, no byte limit, no
    /// drain resistance.
    pub cache: CacheLimits,
    /// How many times `transact` runs its closure when commits conflict. Default: 50.
    pub max_attempts: usize,
    /// How many oids a connection reserves from the storage at a time, at least (a
    /// transaction that adds many objects reserves more at once). Default: 256.
    pub oid_batch: usize,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            cache: CacheLimits { cache_size: 10_000, cache_size_bytes: 0, drain_resistance: 0 },
            max_attempts: 50,
            oid_batch: 256,
        }
    }
}
