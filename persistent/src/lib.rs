//! Transparent persistent objects for Rust: put `#[derive(Persistent)]` on a plain struct
//! and its objects load lazily from a database as *ghosts*, record their own changes, are
//! evicted by an LRU cache to bound memory, and commit atomically with optimistic conflict
//! detection between connections.
//!
//! This crate is the front door: it re-exports the whole user API of the `persistent-*`
//! crates, so `persistent = "0.1"` in `Cargo.toml` and `use persistent::prelude::*;` are all
//! a program needs.
//!
//! ```
//! use persistent::prelude::*;
//!
//! #[derive(Persistent, Default)]
//! struct Counter {
//!     hits: u64,
//! }
//!
//! let db = Database::open(persistent::storage::MemoryStorage::new())?;
//! let conn = db.connect()?;
//! let counter = conn.root::<Counter>()?;
//! counter.set_hits(counter.hits()? + 1)?;
//! conn.commit()?;
//! # Ok::<(), persistent::Error>(())
//! ```
//!
//! Features: `sqlite` (on by default) adds [`SqliteStorage`]; `collections` (on by default)
//! adds [`PersistentList`], [`PersistentMapping`], [`PersistentWeakKeyMapping`] (keyed by
//! weak references) and [`Length`] (a counter whose concurrent changes merge); `postgres`
//! (off by default) adds `PostgresStorage`, for several processes on several machines. The guide is `docs/guide.md` in the repository; the rules the library
//! keeps are `docs/spec.md`.

pub use persistent_core::{
    AnyObject, BoxError, Cache, CacheEntryInfo, CacheError, CacheLimits, Connection,
    ConnectionStats, DataManager, Database, DatabaseConfig, DatabaseStats, Error, FieldGuard, Jar,
    MigrationProgress, ObjectCell, ObjectRef, Oid, PObject, PState, Persistent, Result, Savepoint,
    SharedHandle, StorageErrorKind, Tid, TimeStamp, TransactionNote, WeakP, WeakRef, P,
};
/// `#[derive(Persistent)]`: see the guide; `#[persistent(crate = "...")]` names this crate
/// when it is reached under another name.
pub use persistent_derive::Persistent;

/// The field and reference codecs, for hand-written `Persistent` impls.
pub use persistent_core::codec;
/// The `Storage` trait, its records, and `MemoryStorage`.
pub use persistent_core::storage;

#[cfg(feature = "collections")]
pub use persistent_collections::{
    btree, CollectionState, Element, Length, LengthObject, ListRef, ListState, MapRef, MapState,
    PersistentBTreeMap, PersistentBTreeSet, PersistentCollection, PersistentList,
    PersistentMapping, PersistentWeakKeyMapping, WeakKeyState,
};
/// Copies every transaction of one storage into another (`storage::copy_transactions`):
/// how a database moves, for example, from SQLite to PostgreSQL.
pub use persistent_core::storage::copy_transactions;
#[cfg(feature = "postgres")]
pub use persistent_postgres::{PostgresOptions, PostgresStorage, SslMode};
#[cfg(feature = "sqlite")]
pub use persistent_sqlite::{SqliteOptions, SqliteStorage};

/// What most programs import: `use persistent::prelude::*;` (the derive, `P`, `Database`,
/// `Connection`, the collections and `Length`, and `SqliteStorage` when their features are on).
pub mod prelude {
    pub use persistent_core::prelude::*;
    pub use persistent_derive::Persistent;

    #[cfg(feature = "collections")]
    pub use persistent_collections::{
        Length, PersistentBTreeMap, PersistentBTreeSet, PersistentList, PersistentMapping,
        PersistentWeakKeyMapping,
    };
    #[cfg(feature = "postgres")]
    pub use persistent_postgres::PostgresStorage;
    #[cfg(feature = "sqlite")]
    pub use persistent_sqlite::SqliteStorage;
}

/// Used by code that `#[derive(Persistent)]` generates; not a public API.
#[doc(hidden)]
pub use persistent_core::__private;
