//! Transparent persistent objects for Rust: the protocol, the object cache, connections and
//! storages. See the workspace README and `docs/guide.md`.
//!
//! A type gets `#[derive(Persistent)]`; `P<T>` is a handle to a persistent object holding a
//! `T`. The object loads lazily through its data manager (a `Connection`, or your own
//! `DataManager`), records its own changes, and is evicted by its cache.

mod any_object;
pub mod cache;
pub mod codec;
pub mod db;
pub mod error;
mod field;
mod handle;
pub mod jar;
mod object;
pub mod oid;
mod persistent;
mod repr;
mod size;
pub mod state;
pub mod storage;
pub mod timestamp;

pub use any_object::{AnyObject, ObjectRef};
pub use cache::{Cache, CacheEntryInfo, CacheLimits};
pub use db::{Connection, Database, DatabaseConfig, TransactionNote};
pub use error::{CacheError, Error, Result};
pub use field::SharedField;
pub use handle::P;
pub use jar::{DataManager, Jar};
pub use object::PObject;
pub use oid::Oid;
pub use persistent::{ObjectCell, Persistent};
#[cfg(feature = "derive")]
pub use persistent_derive::Persistent;
pub use state::PState;
pub use timestamp::{Tid, TimeStamp};

/// What most users import: `use persistent_core::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Connection, DataManager, Database, Jar, Oid, PState, Persistent, TimeStamp, P,
    };
}

/// Used by code that `#[derive(Persistent)]` generates; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::codec::fields::{decode_field, encode_field, finish_decode};
    pub use crate::error::Result;
    pub use crate::field::{FieldRef, GetCloned, GetShared};
    pub use crate::object::PObject;
    pub use crate::persistent::{ObjectCell, Persistent};
}
