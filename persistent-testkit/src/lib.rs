//! Test support for the `persistent` crates and for third-party storages: the storage
//! conformance suite ([`conformance`]), a stub data manager that counts and fails on demand
//! ([`StubDm`]), and a temporary directory removed on drop ([`TempDir`]). Nothing in the
//! runtime depends on this crate.

pub mod conformance;
mod stub;
mod tempdir;

pub use stub::StubDm;
pub use tempdir::TempDir;
