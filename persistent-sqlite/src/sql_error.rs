//! Turning rusqlite errors into `persistent_core::Error::Storage` with a message that names
//! the database file and what was being done.

use std::path::Path;

use persistent_core::Error;
use rusqlite::ErrorCode;

/// `Error::Storage` for a failed SQLite call made while doing `what` on the file at `path`.
/// A file that is not a database (or is damaged) gets a message saying so.
pub(crate) fn sql_error(path: &Path, what: &str, error: rusqlite::Error) -> Error {
    let message = match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => format!(
            "{} is not an SQLite database ({what} failed: {error}); check the path",
            path.display()
        ),
        Some(ErrorCode::DatabaseCorrupt) => {
            format!("the SQLite database {} is damaged ({what} failed: {error})", path.display())
        }
        _ => format!("sqlite storage {}: {what} failed: {error}", path.display()),
    };
    Error::Storage { message }
}
