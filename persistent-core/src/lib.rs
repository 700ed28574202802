//! Transparent persistent objects for Rust: the protocol, the object cache, connections and
//! storages. See the workspace README and `docs/guide.md`.
//!
//! A type gets `#[derive(Persistent)]`; `P<T>` is a handle to a persistent object holding a
//! `T`. The object loads lazily through its data manager (a `Connection`, or your own
//! `DataManager`), records its own changes, and is evicted by its cache.

mod any_object;
mod cache;
pub mod codec;
mod db;
mod error;
mod field;
mod handle;
mod header;
mod jar;
mod object;
mod oid;
mod persistent;
mod repr;
mod size;
mod state;
pub mod storage;
mod timestamp;
mod trace;
mod weak;

pub use any_object::{AnyObject, ObjectRef};
pub use cache::{Cache, CacheEntryInfo, CacheLimits};
pub use db::{
    Connection, ConnectionStats, Database, DatabaseConfig, DatabaseStats, MigrationProgress,
    Savepoint, TransactionNote,
};
pub use error::{BoxError, CacheError, Error, Result, StorageErrorKind};
pub use field::{FieldGuard, SharedHandle};
pub use handle::P;
pub use jar::{DataManager, Jar};
pub use object::PObject;
pub use oid::Oid;
pub use persistent::{interned_type_name, ObjectCell, Persistent};
pub use state::PState;
pub use timestamp::{Tid, TimeStamp};
pub use weak::{WeakP, WeakRef};

/// What most users import: `use persistent_core::prelude::*;` (the `persistent` crate's
/// prelude adds the derive and the collections).
pub mod prelude {
    pub use crate::{
        Connection, DataManager, Database, Jar, Oid, PState, Persistent, TimeStamp, WeakRef, P,
    };
}

/// Used by code that `#[derive(Persistent)]` generates; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::codec::fields::VolatileField;
    pub use crate::codec::schema::{
        shape_of, Missing, MissingByDefault, MissingIsError, Schema, StoredFields,
    };
    pub use crate::codec::{decode_field, encode_field, finish_decode};
    pub use crate::error::Result;
    pub use crate::field::{field_guard, FieldGuard, SharedHandle};
    pub use crate::object::PObject;
    pub use crate::persistent::{claim_type_name, type_name_clash, ObjectCell, Persistent};
}
