//! Opening what is not a usable storage gives a typed `Error::Storage` whose message says
//! what to do and never shows the password: an unreachable server, a wrong password, a
//! missing database, a role without rights, another schema version, another program's
//! tables. Also: a lock held too long is a typed, transient error; several processes
//! creating the schema at once all succeed.

use std::time::Duration;

use persistent_core::storage::{ObjectWrite, Storage, TransactionData};
use persistent_core::{Error, Oid, StorageErrorKind};
use persistent_postgres::{PostgresOptions, PostgresStorage};
use persistent_testkit::pg_server::APP_PASSWORD;
use persistent_testkit::PgServer;

/// The error of an open that must fail.
fn open_error(url: &str, options: PostgresOptions) -> Error {
    match PostgresStorage::open_with(url, options) {
        Ok(storage) => panic!("opening {} must fail", storage.name()),
        Err(error) => error,
    }
}

/// Asserts `error` is `Error::Storage` of `kind` and that neither its text nor its source
/// chain contains `secret`.
fn assert_kind_without(error: &Error, kind: StorageErrorKind, secret: &str) {
    assert_eq!(error.storage_kind(), Some(kind), "wrong kind: {error}");
    let mut next: Option<&dyn std::error::Error> = Some(error);
    while let Some(current) = next {
        let text = format!("{current} {current:?}");
        assert!(!text.contains(secret), "the password shows in {text}");
        next = current.source();
    }
}

fn write_root(data: &[u8]) -> TransactionData {
    TransactionData {
        user: "test".into(),
        writes: vec![ObjectWrite::new(Oid::ROOT, None, data.to_vec())],
        ..TransactionData::default()
    }
}

#[test]
fn an_unreachable_server_is_unavailable() {
    // A port nobody listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgres://app:hunter2-pw@127.0.0.1:{port}/db?sslmode=disable");
    let error = open_error(&url, PostgresOptions::default());
    assert_kind_without(&error, StorageErrorKind::Unavailable, "hunter2-pw");
    assert!(error.is_transient(), "an unreachable server may come back: {error}");
    assert!(error.to_string().contains("app:***@127.0.0.1"), "names the redacted URL: {error}");
}

#[test]
fn a_malformed_url_is_invalid() {
    let error = open_error("postgres://app:pw@host:notaport/db", PostgresOptions::default());
    assert_kind_without(&error, StorageErrorKind::Invalid, ":pw@");
    let error = open_error("postgres://h/db?sslmode=sometimes", PostgresOptions::default());
    assert_eq!(error.storage_kind(), Some(StorageErrorKind::Invalid), "{error}");
}

#[test]
fn a_wrong_password_is_denied_and_never_shown() {
    let Some(server) = PgServer::shared("a_wrong_password_is_denied_and_never_shown") else {
        return;
    };
    if !server.is_own() {
        return;
    }
    let name = server.fresh_database_name();
    let url = server.url_as("app", "Wrong-Secret-77", &name, "sslmode=disable");
    let error = open_error(&url, PostgresOptions::default());
    assert_kind_without(&error, StorageErrorKind::Denied, "Wrong-Secret-77");
    assert!(error.to_string().contains("password"), "says what to check: {error}");
    // The storage that opens never shows its password either.
    let storage = PostgresStorage::open(&server.url(&name, "sslmode=disable")).unwrap();
    for shown in [storage.name(), format!("{storage:?}")] {
        assert!(!shown.contains(APP_PASSWORD), "{shown}");
        assert!(shown.contains("app:***@"), "{shown}");
    }
}

#[test]
fn a_missing_database_is_not_a_storage() {
    let Some(server) = PgServer::shared("a_missing_database_is_not_a_storage") else {
        return;
    };
    let url = server.url("no_such_database_here", "sslmode=disable");
    let error = open_error(&url, PostgresOptions::default());
    assert_kind_without(&error, StorageErrorKind::NotAStorage, APP_PASSWORD);
    assert!(error.to_string().contains("createdb"), "says what to do: {error}");
}

#[test]
fn a_role_without_rights_is_denied() {
    let Some(server) = PgServer::shared("a_role_without_rights_is_denied") else {
        return;
    };
    if !server.is_own() {
        return;
    }
    // A database the role may connect to but not create tables in (PostgreSQL 15 gives
    // PUBLIC no CREATE on the public schema).
    let name = server.fresh_database_name();
    server.admin_sql("postgres", "CREATE ROLE reader LOGIN PASSWORD 'Reader-Pw-5'").ok();
    server.admin_sql(&name, "REVOKE CREATE ON SCHEMA public FROM PUBLIC").unwrap();
    server.admin_sql(&name, "ALTER SCHEMA public OWNER TO postgres").unwrap();
    let url = server.url_as("reader", "Reader-Pw-5", &name, "sslmode=disable");
    let error = open_error(&url, PostgresOptions::default());
    assert_kind_without(&error, StorageErrorKind::Denied, "Reader-Pw-5");
    assert!(error.to_string().contains("CREATE"), "says which right is missing: {error}");
}

#[test]
fn another_schema_version_or_foreign_tables_are_refused() {
    let Some(server) = PgServer::shared("another_schema_version_or_foreign_tables_are_refused")
    else {
        return;
    };
    if !server.is_own() {
        return;
    }
    let name = server.fresh_database_name();
    let url = server.url(&name, "sslmode=disable");
    drop(PostgresStorage::open(&url).unwrap());
    server.admin_sql(&name, "UPDATE schema_info SET value = '99' WHERE key = 'version'").unwrap();
    let error = open_error(&url, PostgresOptions::default());
    assert_eq!(error.storage_kind(), Some(StorageErrorKind::NotAStorage), "{error}");
    assert!(error.to_string().contains("version 99"), "{error}");

    let foreign = server.fresh_database_name();
    server
        .admin_sql(&foreign, "CREATE TABLE object_state (zoid int8, tid int8, state bytea)")
        .unwrap();
    let error = open_error(&server.url(&foreign, "sslmode=disable"), PostgresOptions::default());
    assert_eq!(error.storage_kind(), Some(StorageErrorKind::NotAStorage), "{error}");
}

#[test]
fn a_lock_held_too_long_is_a_typed_transient_error() {
    let Some(server) = PgServer::shared("a_lock_held_too_long_is_a_typed_transient_error") else {
        return;
    };
    let url = server.fresh_database();
    let options = PostgresOptions::default().with_lock_timeout(Duration::from_millis(300));
    let storage = PostgresStorage::open_with(&url, options).unwrap();
    let tid = storage.commit(&write_root(b"v1")).unwrap().tid;
    // Another session holds the root's row lock.
    let mut other = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut held = other.transaction().unwrap();
    held.execute("SELECT 1 FROM current_object WHERE zoid = 0 FOR UPDATE", &[]).unwrap();
    let mut update = write_root(b"v2");
    update.writes[0].expected_serial = Some(tid);
    let error = storage.commit(&update).unwrap_err();
    assert_eq!(error.storage_kind(), Some(StorageErrorKind::Busy), "{error}");
    assert!(error.is_transient(), "{error}");
    // A statement timeout (with lock waits unbounded) ends the same wait, as `Busy` too.
    let patient = PostgresStorage::open_with(
        &url,
        PostgresOptions::default()
            .with_lock_timeout(Duration::ZERO)
            .with_statement_timeout(Duration::from_millis(300)),
    )
    .unwrap();
    let error = patient.commit(&update).unwrap_err();
    assert_eq!(error.storage_kind(), Some(StorageErrorKind::Busy), "{error}");
    held.rollback().unwrap();
    storage.commit(&update).expect("the same commit goes through once the lock is free");
}

#[test]
fn processes_creating_the_schema_at_once_all_succeed() {
    let Some(server) = PgServer::shared("processes_creating_the_schema_at_once_all_succeed") else {
        return;
    };
    let url = server.fresh_database();
    let storages: Vec<PostgresStorage> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4).map(|_| scope.spawn(|| PostgresStorage::open(&url))).collect();
        handles.into_iter().map(|h| h.join().unwrap().expect("every open succeeds")).collect()
    });
    storages[0].commit(&write_root(b"one schema")).unwrap();
    assert_eq!(storages[3].load(Oid::ROOT).unwrap().data, b"one schema");
}
