//! `PostgresStorage`: a history-preserving storage in PostgreSQL, for several processes on
//! several machines. Layout after RelStorage's history-preserving schema; every storage
//! operation is a fixed number of round trips whatever the number of objects.
//!
//! * `storage.rs`: the `PostgresStorage` type, opening, and the reads of its `Storage`
//!   implementation.
//! * `commit.rs`: `Storage::commit` (row locks in oid order, conflicts found by one
//!   statement, the tid clock as commit lock).
//! * `pack.rs`: `Storage::pack` in SQL (a recursive CTE marks, batches sweep).
//! * `copy.rs`: `transactions_after` and `restore`, for copying between storages.
//! * `schema.rs`: the tables, their creation, and the check of an existing database.
//! * `pool.rs`: the small connection pool and its prepared statements.
//! * `url.rs`: connection strings: TLS settings taken out, passwords redacted.
//! * `tls.rs`: rustls set up after libpq's `sslmode`.
//! * `options.rs`: `PostgresOptions`.
//! * `pg_error.rs`: driver errors as `persistent_core::Error::Storage` with a kind.

mod commit;
mod copy;
mod options;
mod pack;
mod pg_error;
mod pool;
mod schema;
mod storage;
mod tls;
mod url;

pub use options::PostgresOptions;
pub use schema::SCHEMA_VERSION;
pub use storage::PostgresStorage;
pub use url::SslMode;
