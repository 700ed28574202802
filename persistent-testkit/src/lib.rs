//! Test support for the `persistent` crates and for third-party storages: the storage
//! conformance suite ([`conformance`]), a stub data manager that counts and fails on demand
//! ([`StubDm`]), a storage wrapper that fails a chosen call ([`FlakyStorage`]), and a
//! temporary directory removed on drop ([`TempDir`]), and with the feature `postgres-server`
//! a throwaway PostgreSQL cluster (`PgServer`). Nothing in the runtime depends on this crate.

pub mod conformance;
mod flaky;
#[cfg(feature = "postgres-server")]
pub mod pg_server;
mod stub;
mod tempdir;

pub use flaky::{Call, FlakyStorage};
#[cfg(feature = "postgres-server")]
pub use pg_server::PgServer;
pub use stub::StubDm;
pub use tempdir::TempDir;
