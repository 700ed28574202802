//! `Error`: every recoverable failure of the runtime, with messages that say what went wrong
//! and what to do about it. Nothing in this crate panics for a condition a caller can cause.

use std::fmt;

use crate::oid::Oid;
use crate::timestamp::TimeStamp;

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the persistence runtime.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The jar of an object that is in a cache was set to another value or cleared.
    CachedJarChange,
    /// The oid of an object that is in a cache was set to another value or cleared.
    CachedOidChange,
    /// `p_set_sticky(true)` was called on a ghost.
    StickyGhost,
    /// The object's data is borrowed (a read or write guard is alive), so its state cannot be
    /// dropped now.
    Borrowed {
        /// What was attempted.
        operation: &'static str,
    },
    /// The object is already borrowed in a way that conflicts with this access (for example
    /// a write while a read guard is alive).
    AlreadyBorrowed,
    /// The data manager's `setstate` returned without giving the object a state.
    NoStateLoaded {
        /// The object that stayed empty.
        oid: Option<Oid>,
    },
    /// Bytes that do not decode as the state of the expected type.
    Decode {
        /// The type whose state was being decoded.
        type_name: String,
        /// What the decoder said.
        message: String,
    },
    /// A state that could not be encoded.
    Encode {
        /// The type whose state was being encoded.
        type_name: String,
        /// What the encoder said.
        message: String,
    },
    /// A calendar field given to `TimeStamp` is out of range.
    InvalidTimeStamp {
        /// The field that is wrong: "year", "month", "day", "hour", "minute", "second", or
        /// "raw" for a byte string that is not 8 bytes long.
        field: &'static str,
        /// The value that was given, as text.
        value: String,
    },
    /// The cache refused an insertion or a new ghost.
    Cache(CacheError),
    /// No record exists for this oid (at the snapshot that was read).
    NotFound(Oid),
    /// Another transaction wrote this object after this connection read it.
    Conflict {
        /// The object written by both.
        oid: Oid,
        /// The serial this connection read.
        expected: TimeStamp,
        /// The serial stored now.
        actual: TimeStamp,
    },
    /// A stored record names another type than the one asked for.
    TypeMismatch {
        /// The object.
        oid: Oid,
        /// The type the caller asked for.
        expected: String,
        /// The type name stored in the record.
        found: String,
    },
    /// A record whose envelope is not understood (wrong format version, truncated header).
    CorruptRecord {
        /// The object.
        oid: Oid,
        /// What is wrong with it.
        message: String,
    },
    /// The connection was closed; open a new one from the database.
    ConnectionClosed,
    /// The object belongs to another connection (or none) and cannot be used here.
    ForeignObject {
        /// The object's oid, if it has one.
        oid: Option<Oid>,
    },
    /// A persistent reference was encoded or decoded outside a connection's commit or load.
    NoCodecContext,
    /// The storage backend failed (I/O, SQL, a file that is not a database).
    Storage {
        /// What the backend said.
        message: String,
    },
    /// The transaction failed earlier (a conflict, a failed commit) and must be aborted.
    TransactionDoomed,
    /// An index past the end of a collection (`len` is its length at the time); nothing was
    /// changed or marked.
    IndexOutOfRange {
        /// The index given.
        index: usize,
        /// The collection's length.
        len: usize,
    },
    /// A range that is reversed or reaches past the end of a collection; nothing was changed
    /// or marked.
    RangeOutOfRange {
        /// The first index of the range.
        start: usize,
        /// One past the last index of the range.
        end: usize,
        /// The collection's length.
        len: usize,
    },
    /// An error raised by a user-supplied data manager or hook.
    Custom(String),
}

/// Why a cache refused an operation; the cache is unchanged after any of them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheError {
    /// Inserting under an oid that is not the object's oid.
    OidMismatch {
        /// The key given to the cache.
        key: Oid,
        /// The object's own oid (None: it has none).
        object: Option<Oid>,
    },
    /// Inserting an object that has no jar.
    NoJar,
    /// Inserting an object whose jar is not this cache's jar (or that sits in another cache).
    OtherJar,
    /// Inserting a second object for an oid that is already cached.
    Duplicate(Oid),
    /// `new_ghost` with an object that already has an oid.
    HasOid,
    /// `new_ghost` with an object that already has a jar.
    HasJar,
    /// A second cache was created for a jar that already has one.
    JarHasCache,
}

impl fmt::Display for CacheError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CacheError::OidMismatch { key, object: Some(oid) } => {
                write!(f, "cache key {key} does not match the object's oid {oid}")
            }
            CacheError::OidMismatch { key, object: None } => {
                write!(f, "cache key {key} given for an object without an oid")
            }
            CacheError::NoJar => write!(f, "cached object must have a jar"),
            CacheError::OtherJar => write!(f, "cache and object have different jars"),
            CacheError::Duplicate(oid) => {
                write!(f, "the cache already holds another object for oid {oid}")
            }
            CacheError::HasOid => write!(f, "new_ghost needs an object without an oid"),
            CacheError::HasJar => write!(f, "new_ghost needs an object without a jar"),
            CacheError::JarHasCache => write!(f, "this jar already has a cache"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::CachedJarChange => write!(f, "can not change the jar of a cached object"),
            Error::CachedOidChange => write!(f, "can not change the oid of a cached object"),
            Error::StickyGhost => write!(f, "can't set sticky flag on a ghost"),
            Error::Borrowed { operation } => write!(
                f,
                "can not {operation}: the object's data is borrowed; drop the guard first"
            ),
            Error::AlreadyBorrowed => {
                write!(f, "the object's data is already borrowed; drop the other guard first")
            }
            Error::NoStateLoaded { oid: Some(oid) } => {
                write!(f, "the data manager loaded no state for object {oid}")
            }
            Error::NoStateLoaded { oid: None } => {
                write!(f, "the data manager loaded no state for the object")
            }
            Error::Decode { type_name, message } => {
                write!(f, "bytes do not decode as the state of {type_name}: {message}")
            }
            Error::Encode { type_name, message } => {
                write!(f, "could not encode the state of {type_name}: {message}")
            }
            Error::InvalidTimeStamp { field, value } => {
                write!(f, "invalid timestamp: {field} {value} is out of range")
            }
            Error::Cache(e) => write!(f, "{e}"),
            Error::NotFound(oid) => write!(f, "no object with oid {oid} in the database"),
            Error::Conflict { oid, expected, actual } => write!(
                f,
                "conflict on object {oid}: read at serial {expected:?}, but {actual:?} was \
                 committed since; abort and retry the transaction"
            ),
            Error::TypeMismatch { oid, expected, found } => {
                write!(f, "object {oid} is stored as type {found:?}, not the expected {expected:?}")
            }
            Error::CorruptRecord { oid, message } => {
                write!(f, "the record of object {oid} is corrupt: {message}")
            }
            Error::ConnectionClosed => {
                write!(f, "the connection is closed; open a new one from the database")
            }
            Error::ForeignObject { oid: Some(oid) } => {
                write!(f, "object {oid} belongs to another connection")
            }
            Error::ForeignObject { oid: None } => {
                write!(f, "the object belongs to another connection")
            }
            Error::NoCodecContext => write!(
                f,
                "a persistent reference can only be encoded or decoded by a connection \
                 (commit or load)"
            ),
            Error::Storage { message } => write!(f, "storage error: {message}"),
            Error::TransactionDoomed => {
                write!(f, "the transaction failed earlier and must be aborted before going on")
            }
            Error::IndexOutOfRange { index, len } => {
                write!(f, "index {index} is out of range for a collection of length {len}")
            }
            Error::RangeOutOfRange { start, end, len } => {
                write!(f, "range {start}..{end} is out of range for a collection of length {len}")
            }
            Error::Custom(message) => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<CacheError> for Error {
    fn from(e: CacheError) -> Self {
        Error::Cache(e)
    }
}
