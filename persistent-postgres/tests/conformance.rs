//! The storage conformance suite of `persistent-testkit`, unchanged, against PostgreSQL: each
//! check on a fresh database of the test cluster (`PgServer`).

use persistent_core::storage::Storage;
use persistent_postgres::PostgresStorage;
use persistent_testkit::PgServer;

#[test]
fn postgres_storage_passes_the_conformance_suite() {
    let Some(server) = PgServer::shared("postgres_storage_passes_the_conformance_suite") else {
        return;
    };
    persistent_testkit::conformance::run_all(&|| {
        let url = server.fresh_database();
        Box::new(PostgresStorage::open(&url).expect("open a fresh database")) as Box<dyn Storage>
    });
}

#[test]
fn the_group_commit_mode_passes_the_conformance_suite() {
    let Some(server) = PgServer::shared("the_group_commit_mode_passes_the_conformance_suite")
    else {
        return;
    };
    let options = persistent_postgres::PostgresOptions::default().with_visible_before_durable(true);
    persistent_testkit::conformance::run_all(&|| {
        let url = server.fresh_database();
        Box::new(PostgresStorage::open_with(&url, options.clone()).expect("open"))
            as Box<dyn Storage>
    });
}
