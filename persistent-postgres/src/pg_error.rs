//! Turning driver errors into `persistent_core::Error::Storage`: the kind from the SQLSTATE
//! (or, without one, from the failure: a lost connection, a refused certificate), a message
//! naming the storage by its redacted URL, what was being done and what to do, and the
//! driver's error as the `source()`. Passwords never reach a message: the URL is shown
//! redacted and the server's own messages do not carry them.

use persistent_core::{Error, StorageErrorKind};
use postgres::error::SqlState;

/// `Error::Storage` for a failed call made while doing `what` on the storage `name` (a
/// redacted URL).
pub(crate) fn pg_error(name: &str, what: &str, error: postgres::Error) -> Error {
    let (kind, hint) = classify(&error);
    let detail = match error.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => error.to_string(),
    };
    Error::storage_with_source(kind, format!("{name}: {what} failed: {detail}{hint}"), error)
}

/// The kind of `error` and a hint saying what to do (empty when there is nothing to say).
fn classify(error: &postgres::Error) -> (StorageErrorKind, &'static str) {
    use StorageErrorKind::{Busy, Corrupt, Denied, Io, NotAStorage, Other, Unavailable};
    let Some(code) = error.code() else {
        if certificate_refused(error) {
            return (
                Denied,
                "; the server's certificate is not trusted: give the CA that signed it \
                 (sslrootcert or PostgresOptions::with_ca_file) and connect by the name it carries",
            );
        }
        // No SQLSTATE: the connection failed or was lost (refused, reset, timed out).
        return (Unavailable, "; check that the server runs and is reachable, then retry");
    };
    let class = &code.code()[..2];
    if *code == SqlState::INVALID_PASSWORD || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
    {
        (Denied, "; check the user name and password in the URL")
    } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
        (
            Denied,
            "; the role needs CREATE on the database's schema to create the tables, and \
             SELECT, INSERT, UPDATE, DELETE on them (the owner has all)",
        )
    } else if *code == SqlState::INVALID_CATALOG_NAME {
        (NotAStorage, "; create the database first (createdb -O USER NAME)")
    } else if *code == SqlState::LOCK_NOT_AVAILABLE
        || *code == SqlState::QUERY_CANCELED
        || *code == SqlState::T_R_DEADLOCK_DETECTED
        || *code == SqlState::T_R_SERIALIZATION_FAILURE
    {
        (Busy, "; another session held a lock too long or the statement ran too long: retry")
    } else if class == "08"
        || *code == SqlState::ADMIN_SHUTDOWN
        || *code == SqlState::CRASH_SHUTDOWN
        || *code == SqlState::CANNOT_CONNECT_NOW
        || *code == SqlState::TOO_MANY_CONNECTIONS
    {
        (Unavailable, "; the server is restarting or unreachable: retry")
    } else if class == "53" || class == "58" {
        (Io, "; the server is out of a resource (disk, memory)")
    } else if *code == SqlState::DATA_CORRUPTED || *code == SqlState::INDEX_CORRUPTED {
        (Corrupt, "")
    } else {
        (Other, "")
    }
}

/// Whether the TLS handshake failed because the server's certificate was refused.
fn certificate_refused(error: &postgres::Error) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = next {
        let inner = current
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .map(|inner| inner as &(dyn std::error::Error + 'static));
        for candidate in [Some(current), inner].into_iter().flatten() {
            if let Some(rustls::Error::InvalidCertificate(_)) = candidate.downcast_ref() {
                return true;
            }
        }
        next = current.source();
    }
    false
}

/// Whether `error` means the connection is no longer usable (it must be replaced).
pub(crate) fn connection_lost(error: &postgres::Error) -> bool {
    error.is_closed() || classify(error).0 == StorageErrorKind::Unavailable
}
