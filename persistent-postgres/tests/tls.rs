//! TLS: `require` encrypts (the server's `pg_stat_ssl` says so for the storage's own
//! sessions); `verify-full` refuses a server whose certificate the given CA did not sign, and
//! without any CA, and connects with the right CA (from the options or the URL's
//! `sslrootcert`); `disable` does not encrypt.

use persistent_core::storage::Storage;
use persistent_core::StorageErrorKind;
use persistent_postgres::{PostgresOptions, PostgresStorage};
use persistent_testkit::PgServer;

/// Whether every session named `app` is encrypted, and how many there are.
fn encrypted(server: &PgServer, app: &str) -> (bool, usize) {
    let out = server
        .admin_sql(
            "postgres",
            &format!(
                "SELECT coalesce(bool_and(s.ssl), false), count(*) FROM pg_stat_ssl s \
                 JOIN pg_stat_activity a USING (pid) WHERE a.application_name = '{app}'"
            ),
        )
        .unwrap();
    let (ssl, count) = out.split_once('|').unwrap();
    (ssl == "t", count.parse().unwrap())
}

fn own_server(test: &str) -> Option<&'static PgServer> {
    PgServer::shared(test).filter(|server| server.is_own())
}

#[test]
fn require_encrypts_and_disable_does_not() {
    let Some(server) = own_server("require_encrypts_and_disable_does_not") else { return };
    let db = server.fresh_database_name();
    let storage = PostgresStorage::open_with(
        &server.url(&db, "sslmode=require"),
        PostgresOptions::default().with_application_name("tls-require"),
    )
    .unwrap();
    storage.last_transaction().unwrap();
    assert_eq!(encrypted(server, "tls-require"), (true, 1), "the session uses TLS");
    let plain = PostgresStorage::open_with(
        &server.url(&db, "sslmode=disable"),
        PostgresOptions::default().with_application_name("tls-disable"),
    )
    .unwrap();
    plain.last_transaction().unwrap();
    assert_eq!(encrypted(server, "tls-disable"), (false, 1), "disable means no TLS");
}

#[test]
fn verify_full_needs_the_right_ca() {
    let Some(server) = own_server("verify_full_needs_the_right_ca") else { return };
    let ca = server.ca_file().unwrap().to_path_buf();
    let db = server.fresh_database_name();
    let url = server.url(&db, "sslmode=verify-full");

    let error = PostgresStorage::open(&url).unwrap_err();
    assert_eq!(error.storage_kind(), Some(StorageErrorKind::Invalid), "{error}");
    assert!(error.to_string().contains("sslrootcert"), "says how to give the CA: {error}");

    // A CA that did not sign the server's certificate (the server's own certificate, which
    // is no CA) is refused during the handshake.
    let wrong = ca.with_file_name("server.crt");
    let error = PostgresStorage::open_with(&url, PostgresOptions::default().with_ca_file(&wrong))
        .unwrap_err();
    assert_eq!(error.storage_kind(), Some(StorageErrorKind::Denied), "{error}");
    assert!(error.to_string().contains("certificate"), "{error}");

    let storage = PostgresStorage::open_with(
        &url,
        PostgresOptions::default().with_ca_file(&ca).with_application_name("tls-verify-full"),
    )
    .unwrap();
    storage.last_transaction().unwrap();
    assert_eq!(encrypted(server, "tls-verify-full"), (true, 1));

    let from_url = format!("{url}&sslrootcert={}&application_name=tls-rootcert", ca.display());
    let storage = PostgresStorage::open(&from_url).unwrap();
    storage.last_transaction().unwrap();
    assert_eq!(encrypted(server, "tls-rootcert"), (true, 1), "sslrootcert in the URL is used");
}

#[test]
fn verify_full_checks_the_host_name_and_verify_ca_does_not() {
    let Some(server) = own_server("verify_full_checks_the_host_name_and_verify_ca_does_not") else {
        return;
    };
    let ca = server.ca_file().unwrap().to_path_buf();
    let db = server.fresh_database_name();
    // `hostaddr` connects to the server while the name checked is one the certificate
    // does not carry.
    let url = format!(
        "host=not-the-server.example hostaddr=127.0.0.1 port={} user=app password={} dbname={db}",
        server.port(),
        persistent_testkit::pg_server::APP_PASSWORD
    );
    let options = PostgresOptions::default().with_ca_file(&ca);
    let error = PostgresStorage::open_with(&format!("{url} sslmode=verify-full"), options.clone())
        .unwrap_err();
    assert_eq!(error.storage_kind(), Some(StorageErrorKind::Denied), "{error}");
    assert!(!error.to_string().contains(persistent_testkit::pg_server::APP_PASSWORD));
    PostgresStorage::open_with(&format!("{url} sslmode=verify-ca"), options)
        .expect("verify-ca accepts a certificate of another name signed by the CA");
}
