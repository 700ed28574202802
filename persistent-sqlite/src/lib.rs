//! `SqliteStorage`: the embedded default storage, one SQLite file in WAL mode that several
//! processes on one machine may share. Layout after RelStorage's history-preserving schema.
//!
//! * `storage.rs`: the `SqliteStorage` type, opening, and its `Storage` implementation.
//! * `group.rs`: group commit (concurrent committers share one write transaction and fsync).
//! * `commit.rs`: the statements that write one transaction (the one write path of objects).
//! * `oid_list.rs`: the list of oids each `"transaction"` row keeps (schema version 3).
//! * `schema.rs`: the tables, their creation, and the check that a file holds our schema.
//! * `copy.rs`: reading whole transactions and restoring them (copying between storages).
//! * `pack.rs`: `Storage::pack` (marking in a temporary table, sweeping in batches).
//! * `options.rs`: `SqliteOptions` (permissions of a new file).
//! * `visible.rs`: ghost loads: one record (reading ahead when loads walk the oids in order),
//!   or many under one lock and read view (range scans over runs of nearby oids).
//! * `held_read.rs`: the read transaction kept open between loads, and what bounds it.
//! * `busy.rs`: how a connection waits (up to about 30 s) for another one's write lock.
//! * `sql_error.rs`: turning rusqlite errors into `persistent_core::Error::Storage`.

mod busy;
mod commit;
mod copy;
mod group;
mod held_read;
mod oid_list;
mod options;
mod pack;
mod schema;
mod sql_error;
mod storage;
mod visible;

pub use group::CommitCounts;
pub use options::SqliteOptions;
pub use schema::SCHEMA_VERSION;
pub use storage::SqliteStorage;
