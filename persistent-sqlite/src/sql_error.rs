//! Turning rusqlite errors into `persistent_core::Error::Storage`: the message names the
//! database file and what was being done, the kind classifies the failure (busy, damaged,
//! not a database, disk), and the rusqlite error stays attached as the `source()`.

use std::path::Path;

use persistent_core::{Error, StorageErrorKind};
use rusqlite::ErrorCode;

/// `Error::Storage` for a failed SQLite call made while doing `what` on the file at `path`.
pub(crate) fn sql_error(path: &Path, what: &str, error: rusqlite::Error) -> Error {
    let path = path.display();
    let (kind, message) = match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => (
            StorageErrorKind::NotAStorage,
            format!("{path} is not an SQLite database ({what} failed); check the path"),
        ),
        Some(ErrorCode::DatabaseCorrupt) => (
            StorageErrorKind::Corrupt,
            format!("the SQLite database {path} is damaged ({what} failed)"),
        ),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => (
            StorageErrorKind::Busy,
            format!("sqlite storage {path}: {what} failed: another process holds the lock"),
        ),
        Some(
            ErrorCode::SystemIoFailure
            | ErrorCode::DiskFull
            | ErrorCode::CannotOpen
            | ErrorCode::PermissionDenied
            | ErrorCode::ReadOnly
            | ErrorCode::OutOfMemory,
        ) => (StorageErrorKind::Io, format!("sqlite storage {path}: {what} failed")),
        _ => (StorageErrorKind::Other, format!("sqlite storage {path}: {what} failed")),
    };
    Error::storage_with_source(kind, format!("{message}: {error}"), error)
}
