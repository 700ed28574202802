//! The database layer (docs/spec.md §6): `Database` (shared, `Send + Sync`) over a
//! `Storage`, and `Connection`, the data manager that loads ghosts, tracks changed objects
//! and commits them atomically with optimistic conflict detection, merging the conflicts
//! of types that resolve them (`resolve`).

mod commit;
mod config;
mod connection;
mod database;
mod loader;
mod migrate;
mod pack;
mod prefetch;
mod resolve;
mod savepoint;
pub(crate) mod schemas;
mod stats;
mod undo;

pub use config::DatabaseConfig;
pub use connection::{Connection, TransactionNote};
pub use database::Database;
pub use migrate::MigrationProgress;
pub use savepoint::Savepoint;
pub use stats::{ConnectionStats, DatabaseStats};
