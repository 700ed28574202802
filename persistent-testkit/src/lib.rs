//! Test support for the `persistent` crates and for third-party storages: the storage
//! conformance suite ([`conformance`]), a stub data manager that counts and fails on demand
//! ([`StubDm`]), a storage wrapper that fails a chosen call ([`FlakyStorage`]), and a
//! temporary directory removed on drop ([`TempDir`]). Nothing in the
//! runtime depends on this crate.

pub mod conformance;
mod flaky;
mod stub;
mod tempdir;

pub use flaky::{Call, FlakyStorage};
pub use stub::StubDm;
pub use tempdir::TempDir;
