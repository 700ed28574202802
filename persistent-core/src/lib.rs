//! Transparent persistent objects for Rust: the protocol, the object cache, connections and
//! storages. See the workspace README and `docs/guide.md`.

pub mod error;
pub mod oid;
mod size;
pub mod state;
pub mod storage;
pub mod timestamp;

pub use error::{CacheError, Error, Result};
pub use oid::Oid;
pub use state::PState;
pub use timestamp::{Tid, TimeStamp};
