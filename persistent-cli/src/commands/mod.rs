//! The subcommands, one per file, each with a `run` that prints its output and returns the
//! exit code.

pub mod copy;
pub mod history;
pub mod info;
pub mod log;
pub mod migrate;
pub mod pack;
pub mod referrers;
pub mod show;
pub mod stats;
pub mod verify;

use persistent::Tid;

/// A tid as 16 hex digits (its raw bytes), the form `log` and `history` show.
pub fn tid_hex(tid: Tid) -> String {
    format!("0x{:016x}", tid.as_u64())
}

/// How many oids or transactions to ask a storage for per page.
pub const PAGE: usize = 1000;
