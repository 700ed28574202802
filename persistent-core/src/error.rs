//! `Error`: every recoverable failure of the runtime, with messages that say what went wrong
//! and what to do about it; `StorageErrorKind` classifies storage failures so that a caller
//! can tell a busy database from a damaged one, and the driver's own error is kept as the
//! `source()`. Nothing in this crate panics for a condition a caller can cause.

use crate::oid::Oid;
use crate::timestamp::{Tid, TimeStamp};

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The underlying error of a storage driver or a user hook, kept as [`Error`]'s `source()`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in the persistence runtime.
///
/// Classify with [`is_conflict`](Error::is_conflict) (retry the transaction),
/// [`is_transient`](Error::is_transient) (retrying later may succeed) and
/// [`storage_kind`](Error::storage_kind); the driver's error, if any, is `source()`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The jar of an object that is in a cache was set to another value or cleared.
    #[error("can not change the jar of a cached object")]
    CachedJarChange,
    /// The oid of an object that is in a cache was set to another value or cleared.
    #[error("can not change the oid of a cached object")]
    CachedOidChange,
    /// `p_set_sticky` was called on a ghost.
    #[error("can't set sticky flag on a ghost")]
    StickyGhost,
    /// The object's data is borrowed (a read or write guard is alive), so its state cannot be
    /// dropped now.
    #[error("can not {operation}: the object's data is borrowed; drop the guard first")]
    Borrowed {
        /// What was attempted.
        operation: &'static str,
    },
    /// The object is already borrowed in a way that conflicts with this access (for example
    /// a write while a read guard is alive). Nothing was changed.
    #[error("the object's data is already borrowed; drop the other guard first")]
    AlreadyBorrowed,
    /// Another transaction changed this object while its data is borrowed here (a guard is
    /// alive), so the connection cannot move to a newer snapshot without mixing old and new
    /// states: it keeps reading its old snapshot. Drop the guard and commit or abort again.
    #[error(
        "object {oid} changed in the database while its data is borrowed here; drop the guard, \
         then commit or abort again (the connection keeps its old snapshot until then)"
    )]
    SnapshotBlocked {
        /// The borrowed object that must be invalidated.
        oid: Oid,
    },
    /// The data manager's `setstate` returned without giving the object a state.
    #[error("the data manager loaded no state for {}", describe(*.oid))]
    NoStateLoaded {
        /// The object that stayed empty.
        oid: Option<Oid>,
    },
    /// Bytes that do not decode as the state of the expected type.
    #[error("bytes do not decode as the state of {type_name}: {message}")]
    Decode {
        /// The type whose state was being decoded.
        type_name: String,
        /// What the decoder said.
        message: String,
    },
    /// A stored field whose shape differs from the field of the same name in the reading
    /// type, in a way that no exact conversion covers (docs/spec.md §7.3): the stored value is
    /// not guessed at. Give the type a version and an upgrade function, or rename the field.
    #[error(
        "field {field:?} of {type_name} is stored as `{stored}` but the program reads it as \
         `{expected}`: {message}"
    )]
    SchemaMismatch {
        /// The type being read.
        type_name: String,
        /// The field (its stored name).
        field: String,
        /// The stored shape.
        stored: String,
        /// The shape the program expects.
        expected: String,
        /// Why the stored value does not fit.
        message: String,
    },
    /// A field of the reading type that the stored record does not hold, and that has no
    /// default: derive or implement `Default` for its type, or give it
    /// `#[persistent(default = "path")]`.
    #[error(
        "the stored {type_name} has no field {field:?} and the field has no default; give it \
         #[persistent(default = \"...\")] or a type that implements Default"
    )]
    MissingField {
        /// The type being read.
        type_name: String,
        /// The field the record lacks.
        field: String,
    },
    /// A state that could not be encoded.
    #[error("could not encode the state of {type_name}: {message}")]
    Encode {
        /// The type whose state was being encoded.
        type_name: String,
        /// What the encoder said.
        message: String,
    },
    /// A calendar field given to `TimeStamp` is out of range.
    #[error("invalid timestamp: {field} {value} is out of range")]
    InvalidTimeStamp {
        /// The field that is wrong: "year", "month", "day", "hour", "minute", "second", or
        /// "raw" for a byte string that is not 8 bytes long.
        field: &'static str,
        /// The value that was given, as text.
        value: String,
    },
    /// The cache refused an insertion or a new ghost.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// No record exists for this oid (at the snapshot that was read).
    #[error("no object with oid {0} in the database")]
    NotFound(Oid),
    /// A reference leads to an object that has no record at the snapshot read (never stored,
    /// or its creation was undone): the reference dangles. `referrer` is an object of this
    /// connection whose record references it, when one is known.
    #[error(
        "object {oid} has no record in this snapshot, but {} references it (a dangling \
         reference)", match .referrer {
            Some(referrer) => format!("object {referrer}"),
            None => "another object".to_owned(),
        }
    )]
    Dangling {
        /// The object that does not exist.
        oid: Oid,
        /// An object whose record references it, if known.
        referrer: Option<Oid>,
    },
    /// The connection is historical (`Database::connect_at`): it reads the database as of a
    /// past tid and never writes. Nothing was changed or marked.
    #[error("can not {operation}: the connection is historical (read-only)")]
    ReadOnly {
        /// What was attempted.
        operation: &'static str,
    },
    /// `Database::undo` was refused, nothing written: transaction `tid` wrote `oid`, but a
    /// later transaction `current` changed it since, so restoring the revision before `tid`
    /// would throw that change away. Undo the later transaction first.
    #[error(
        "can not undo transaction {tid:?}: object {oid} was changed since by transaction \
         {current:?}; undo that one first"
    )]
    UndoConflict {
        /// The transaction to undo.
        tid: Tid,
        /// The object changed since.
        oid: Oid,
        /// The serial of its current revision.
        current: Tid,
    },
    /// A transaction older than the newest pack's bound: the revisions it replaced are gone,
    /// so it cannot be undone.
    #[error("transaction {tid:?} is older than the last pack (bound {packed_before:?}): its earlier revisions are gone")]
    UndoPacked {
        /// The transaction asked for.
        tid: Tid,
        /// The bound of the newest pack.
        packed_before: Tid,
    },
    /// No committed transaction has this tid.
    #[error("no transaction with tid {0:?} in the database")]
    UnknownTransaction(Tid),
    /// Another transaction wrote this object after this connection read it.
    #[error(
        "conflict on object {oid}: read at serial {expected:?}, but {actual:?} was committed \
         since; abort and retry the transaction"
    )]
    Conflict {
        /// The object written by both.
        oid: Oid,
        /// The serial this connection read.
        expected: TimeStamp,
        /// The serial stored now.
        actual: TimeStamp,
    },
    /// A stored record names another type than the one asked for.
    #[error("object {oid} is stored as type {found:?}, not the expected {expected:?}")]
    TypeMismatch {
        /// The object.
        oid: Oid,
        /// The type the caller asked for.
        expected: String,
        /// The type name stored in the record.
        found: String,
    },
    /// Two Rust types of this program are stored under the same type name, so each would
    /// read the other's records: give one of them `#[persistent(name = "...")]`.
    #[error(
        "two types are stored under the name {name:?}: {first} and {second}; give one of them \
         #[persistent(name = \"...\")]"
    )]
    TypeNameClash {
        /// The stored type name.
        name: String,
        /// The Rust type that claimed it first.
        first: String,
        /// The Rust type that claimed it second.
        second: String,
    },
    /// A record whose envelope is not understood (wrong format version, truncated header).
    #[error("the record of object {oid} is corrupt: {message}")]
    CorruptRecord {
        /// The object.
        oid: Oid,
        /// What is wrong with it.
        message: String,
    },
    /// The connection was closed; open a new one from the database.
    #[error("the connection is closed; open a new one from the database")]
    ConnectionClosed,
    /// The object belongs to another connection (or none) and cannot be used here.
    #[error("{} belongs to another connection", describe(*.oid))]
    ForeignObject {
        /// The object's oid, if it has one.
        oid: Option<Oid>,
    },
    /// A persistent reference was encoded or decoded outside a connection's commit or load.
    #[error(
        "a persistent reference can only be encoded or decoded by a connection (commit or load)"
    )]
    NoCodecContext,
    /// A weak reference was to be stored whose target was never stored and no longer
    /// exists in memory: there is no oid to store, and nothing it could ever find
    /// (docs/spec.md §12). Drop the weak reference, or keep its target alive until commit.
    #[error("a weak reference cannot be stored: its target was never stored and no longer exists")]
    DeadWeakReference,
    /// The storage backend failed. Build it with [`Error::storage`]; `kind` says what sort
    /// of failure it is, `source()` gives the driver's own error when there is one.
    #[error("storage error ({kind}): {message}")]
    #[non_exhaustive]
    Storage {
        /// What sort of failure.
        kind: StorageErrorKind,
        /// What was being done, and on which storage.
        message: String,
        /// The driver's error.
        #[source]
        source: Option<BoxError>,
    },
    /// The transaction failed earlier (a conflict, a failed commit) and must be aborted.
    #[error("the transaction failed earlier and must be aborted before going on")]
    TransactionDoomed,
    /// The savepoint can no longer be rolled back to: its transaction ended (commit or
    /// abort), a rollback to an earlier savepoint discarded it, or it belongs to another
    /// connection (docs/spec.md §13). Nothing was changed.
    #[error("the savepoint is no longer valid (its transaction ended, or a rollback to an earlier savepoint discarded it)")]
    InvalidSavepoint,
    /// An operation failed, and the abort that followed it failed too. `error` is the first
    /// failure (also the `source()`); the transaction state was left as the abort left it.
    #[error("{error}; aborting the transaction afterwards also failed: {abort}")]
    AbortFailed {
        /// The failure that made the transaction abort.
        #[source]
        error: Box<Error>,
        /// Why the abort failed.
        abort: Box<Error>,
    },
    /// An index past the end of a collection (`len` is its length at the time); nothing was
    /// changed or marked.
    #[error("index {index} is out of range for a collection of length {len}")]
    IndexOutOfRange {
        /// The index given.
        index: usize,
        /// The collection's length.
        len: usize,
    },
    /// A range that is reversed or reaches past the end of a collection; nothing was changed
    /// or marked.
    #[error("range {start}..{end} is out of range for a collection of length {len}")]
    RangeOutOfRange {
        /// The first index of the range.
        start: usize,
        /// One past the last index of the range.
        end: usize,
        /// The collection's length.
        len: usize,
    },
    /// Entries given as sorted (a bulk build) whose key at `position` is not greater than
    /// the one before it; nothing was built.
    #[error("the entries are not in strictly increasing key order at position {position}")]
    NotSorted {
        /// The position of the first key out of order.
        position: usize,
    },
    /// A change to a number whose result does not fit its type (for example adding past
    /// `i64::MAX`); nothing was changed or marked.
    #[error("{operation} overflows the {type_name}")]
    Overflow {
        /// The type holding the number.
        type_name: String,
        /// What was asked, with the values.
        operation: String,
    },
    /// An error raised by a user-supplied data manager or hook.
    #[error("{0}")]
    Custom(String),
}

/// What sort of failure an [`Error::Storage`] is, for callers that decide what to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum StorageErrorKind {
    /// Another process holds a lock longer than the storage waits: retrying later may work.
    #[error("busy")]
    Busy,
    /// The disk or file system failed (I/O error, disk full, permission refused).
    #[error("i/o")]
    Io,
    /// The stored data is damaged.
    #[error("corrupt")]
    Corrupt,
    /// The file or server is not a storage of this library, or has an unknown schema version.
    #[error("not a storage")]
    NotAStorage,
    /// The request cannot be carried out whatever the state of the storage (an oid written
    /// twice in one transaction, oids exhausted).
    #[error("invalid request")]
    Invalid,
    /// The server cannot be reached or the connection to it was lost (a server restarting, a
    /// network failure): retrying later, on a new connection, may work. A commit that fails
    /// this way wrote nothing unless its message says the outcome is unknown.
    #[error("unavailable")]
    Unavailable,
    /// The server refused access: a wrong password, a role without the privileges needed, a
    /// server certificate that the given CA does not vouch for. Retrying does not help; fix
    /// the credentials, the grants or the TLS settings.
    #[error("access denied")]
    Denied,
    /// Anything else the driver reported.
    #[error("other")]
    Other,
}

impl Error {
    /// An [`Error::Storage`] of `kind` with a message saying what was being done.
    pub fn storage(kind: StorageErrorKind, message: impl Into<String>) -> Error {
        Error::Storage { kind, message: message.into(), source: None }
    }

    /// An [`Error::Storage`] that keeps the driver's error as its `source()`.
    pub fn storage_with_source(
        kind: StorageErrorKind,
        message: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> Error {
        Error::Storage { kind, message: message.into(), source: Some(source.into()) }
    }

    /// Whether another transaction's write caused this (`Error::Conflict`): abort and run
    /// the transaction again. `Connection::transact` does exactly that.
    #[must_use]
    pub fn is_conflict(&self) -> bool {
        match self {
            Error::Conflict { .. } => true,
            Error::AbortFailed { error, .. } => error.is_conflict(),
            _ => false,
        }
    }

    /// Whether the same operation may succeed if tried again later without any change: a
    /// conflict, a storage that was busy, or a server that was unreachable.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        self.is_conflict()
            || matches!(
                self.storage_kind(),
                Some(StorageErrorKind::Busy | StorageErrorKind::Unavailable)
            )
    }

    /// The kind of a storage failure; `None` for any other error.
    #[must_use]
    pub fn storage_kind(&self) -> Option<StorageErrorKind> {
        match self {
            Error::Storage { kind, .. } => Some(*kind),
            Error::AbortFailed { error, .. } => error.storage_kind(),
            _ => None,
        }
    }

    /// Whether the error says an object does not exist (`Error::NotFound`, or
    /// `Error::Dangling` for a load through a reference).
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound(_) | Error::Dangling { .. })
    }
}

/// "object 0x01", or "the object" when there is no oid.
fn describe(oid: Option<Oid>) -> String {
    match oid {
        Some(oid) => format!("object {oid}"),
        None => "the object".to_owned(),
    }
}

/// Why a cache refused an operation; the cache is unchanged after any of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// Inserting under an oid that is not the object's oid.
    #[error("cache key {key} {}", match .object {
        Some(oid) => format!("does not match the object's oid {oid}"),
        None => "given for an object without an oid".to_owned(),
    })]
    OidMismatch {
        /// The key given to the cache.
        key: Oid,
        /// The object's own oid (None: it has none).
        object: Option<Oid>,
    },
    /// Inserting an object that has no jar.
    #[error("cached object must have a jar")]
    NoJar,
    /// Inserting an object whose jar is not this cache's jar (or that sits in another cache).
    #[error("cache and object have different jars")]
    OtherJar,
    /// Inserting a second object for an oid that is already cached.
    #[error("the cache already holds another object for oid {0}")]
    Duplicate(Oid),
    /// `new_ghost` with an object that already has an oid.
    #[error("new_ghost needs an object without an oid")]
    HasOid,
    /// `new_ghost` with an object that already has a jar.
    #[error("new_ghost needs an object without a jar")]
    HasJar,
    /// A second cache was created for a jar that already has one.
    #[error("this jar already has a cache")]
    JarHasCache,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn storage_errors_keep_their_source_and_kind() {
        let io = std::io::Error::other("disk on fire");
        let error = Error::storage_with_source(StorageErrorKind::Io, "writing file x", io);
        assert_eq!(error.storage_kind(), Some(StorageErrorKind::Io));
        assert!(!error.is_transient());
        assert_eq!(error.source().map(ToString::to_string).as_deref(), Some("disk on fire"));
        assert_eq!(error.to_string(), "storage error (i/o): writing file x");
    }

    #[test]
    fn busy_and_conflict_are_transient() {
        assert!(Error::storage(StorageErrorKind::Busy, "locked").is_transient());
        assert!(Error::storage(StorageErrorKind::Unavailable, "server restarting").is_transient());
        assert!(!Error::storage(StorageErrorKind::Denied, "wrong password").is_transient());
        let conflict =
            Error::Conflict { oid: Oid(1), expected: TimeStamp::ZERO, actual: TimeStamp::ZERO };
        assert!(conflict.is_conflict() && conflict.is_transient());
        assert!(!Error::NotFound(Oid(1)).is_transient());
    }

    #[test]
    fn a_failed_abort_keeps_the_first_error() {
        let error = Error::AbortFailed {
            error: Box::new(Error::NotFound(Oid(7))),
            abort: Box::new(Error::storage(StorageErrorKind::Io, "disk gone")),
        };
        assert!(error.to_string().starts_with("no object with oid 0x07"));
        assert_eq!(
            error.source().map(ToString::to_string),
            Some(Error::NotFound(Oid(7)).to_string())
        );
    }

    #[test]
    fn cache_errors_are_std_errors() {
        let error: Box<dyn std::error::Error> = Box::new(CacheError::Duplicate(Oid(2)));
        assert_eq!(error.to_string(), "the cache already holds another object for oid 0x02");
    }
}
