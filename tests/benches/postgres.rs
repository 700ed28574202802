//! Speed of `PostgresStorage` through the database layer, on a PostgreSQL cluster the bench
//! starts for itself (`PgServer`: loopback TCP, `fsync = on`, `synchronous_commit = on`), and
//! the same cluster's `pgbench` as the yardstick for durable transactions.
//!
//! Workloads: 1,000 durable transactions of one changed object from one client, and from 4
//! clients (threads, each with its own connection and object, sharing the storage's pool);
//! committing 100,000 new objects in one transaction; loading 100,000 ghosts by access from
//! a fresh connection. After divan's table, `pgbench -N` (simple update) runs for 10 s with 1
//! and 4 clients against the same cluster, and, when `PERSISTENT_BENCH_PYTHON` names a
//! Python with RelStorage and psycopg2 installed, `tests/benches/relstorage_pg.py` runs the
//! bulk-commit and ghost-load workloads with RelStorage's PostgreSQL adapter. Run:
//! `cargo bench -p persistent-tests --bench postgres` (see docs/benchmarks.md).

#![allow(
    clippy::cast_possible_wrap,
    clippy::cast_precision_loss,
    reason = "bench code: small test values"
)]

use std::process::Command;
use std::sync::Arc;

use divan::counter::ItemsCount;
use divan::{black_box, Bencher};
use persistent::prelude::*;
use persistent::{CacheLimits, DatabaseConfig, PersistentList, PostgresOptions, PostgresStorage};
use persistent_testkit::PgServer;

/// Objects in the load and bulk-commit workloads.
const OBJECTS: usize = 100_000;
/// Transactions in the one-object workloads.
const TRANSACTIONS: usize = 1_000;
/// Clients of the concurrent workload.
const CLIENTS: usize = 4;

fn main() {
    let Some(server) = PgServer::shared("postgres bench") else { return };
    divan::main();
    pgbench(server);
    relstorage(server);
}

/// The reference's object: an int, a string, a float.
#[derive(persistent::Persistent, Default, Clone)]
struct Row {
    n: i64,
    name: String,
    value: f64,
}

impl Row {
    fn numbered(n: usize) -> Row {
        Row { n: n as i64, name: format!("row-{n}"), value: n as f64 * 0.5 }
    }
}

/// The root of the row workloads.
#[derive(persistent::Persistent, Default)]
struct Root {
    rows: PersistentList<P<Row>>,
}

fn server() -> &'static PgServer {
    PgServer::shared("postgres bench").expect("the bench's cluster")
}

/// A database over a new PostgreSQL database of the cluster, with room for every row.
fn open(url: &str) -> Database {
    open_with(url, PostgresOptions::default())
}

fn open_with(url: &str, options: PostgresOptions) -> Database {
    let storage = PostgresStorage::open_with(url, options).expect("open the storage");
    let cache = CacheLimits::default().with_cache_size(2 * OBJECTS);
    Database::open_with(Arc::new(storage), DatabaseConfig::default().with_cache(cache))
        .expect("open the database")
}

fn root_list(conn: &Connection) -> PersistentList<P<Row>> {
    let root = conn.root::<Root>().expect("the root");
    let handle = root.with(|root| root.rows.handle().clone()).expect("the root's list");
    PersistentList::from_handle(handle)
}

/// `TRANSACTIONS` durable commits of one changed row, one client.
#[divan::bench(sample_size = 1, sample_count = 5)]
fn transactions_1k_1_client(bencher: Bencher) {
    one_client_transactions(bencher, &open(&server().fresh_database()));
}

/// `TRANSACTIONS` commits of the root row through one connection to `db`.
fn one_client_transactions(bencher: Bencher, db: &Database) {
    let conn = db.connect().expect("connect");
    let row = conn.root::<Row>().expect("the root row");
    conn.commit().expect("store the root row");
    bencher.counter(ItemsCount::new(TRANSACTIONS)).bench_local(|| {
        for n in 0..TRANSACTIONS {
            row.set_n(n as i64).expect("change the row");
            conn.commit().expect("commit");
        }
    });
}

/// `TRANSACTIONS` durable commits in all, from `CLIENTS` threads each changing its own row
/// through its own connection (no conflicts, like `pgbench -N` on distinct accounts).
fn concurrent_transactions(bencher: Bencher, options: PostgresOptions) {
    let db = open_with(&server().fresh_database(), options);
    {
        let conn = db.connect().expect("connect");
        root_list(&conn).extend((0..CLIENTS).map(|n| P::new(Row::numbered(n)))).expect("rows");
        conn.commit().expect("store the rows");
    }
    bencher.counter(ItemsCount::new(TRANSACTIONS)).bench_local(|| {
        std::thread::scope(|scope| {
            for client in 0..CLIENTS {
                let db = db.clone();
                scope.spawn(move || {
                    let conn = db.connect().expect("connect");
                    let row = root_list(&conn).get(client).expect("read").expect("a row");
                    for n in 0..TRANSACTIONS / CLIENTS {
                        row.set_n(n as i64).expect("change the row");
                        conn.commit().expect("commit");
                    }
                });
            }
        });
    });
}

/// 4 clients, the default mode (a commit is visible once durable).
#[divan::bench(sample_size = 1, sample_count = 5)]
fn transactions_1k_4_clients(bencher: Bencher) {
    concurrent_transactions(bencher, PostgresOptions::default());
}

/// 4 clients, `visible_before_durable`: commits share disk flushes.
#[divan::bench(sample_size = 1, sample_count = 5)]
fn transactions_1k_4_clients_group_commit(bencher: Bencher) {
    concurrent_transactions(bencher, PostgresOptions::default().with_visible_before_durable(true));
}

/// 1 client, `visible_before_durable` (one more round trip per commit).
#[divan::bench(sample_size = 1, sample_count = 5)]
fn transactions_1k_1_client_group_commit(bencher: Bencher) {
    let db = open_with(
        &server().fresh_database(),
        PostgresOptions::default().with_visible_before_durable(true),
    );
    one_client_transactions(bencher, &db);
}

/// 100,000 new rows (referenced from the root list) committed in one transaction.
#[divan::bench(sample_size = 1, sample_count = 5)]
fn commit_100k_new(bencher: Bencher) {
    bencher
        .counter(ItemsCount::new(OBJECTS))
        .with_inputs(|| {
            let db = open(&server().fresh_database());
            let conn = db.connect().expect("connect");
            root_list(&conn)
                .extend((0..OBJECTS).map(|n| P::new(Row::numbered(n))))
                .expect("extend");
            (conn, db)
        })
        .bench_local_refs(|(conn, _db)| conn.commit().expect("commit"));
}

/// Loads 100,000 ghosts by access, each through a fresh database and connection (a new
/// storage, so a new session pool) over a committed database.
#[divan::bench(sample_size = 1, sample_count = 5)]
fn load_ghosts_100k_fresh_connection(bencher: Bencher) {
    let url = server().fresh_database();
    {
        let db = open(&url);
        let conn = db.connect().expect("connect");
        root_list(&conn).extend((0..OBJECTS).map(|n| P::new(Row::numbered(n)))).expect("extend");
        conn.commit().expect("commit the rows");
    }
    bencher
        .counter(ItemsCount::new(OBJECTS))
        .with_inputs(|| {
            let db = open(&url);
            let conn = db.connect().expect("connect");
            let rows = root_list(&conn).to_vec().expect("read the root list");
            assert!(rows.iter().all(|p| p.p_state() == PState::Ghost));
            (rows, conn, db)
        })
        .bench_local_refs(|(rows, _conn, _db)| {
            let mut sum = 0i64;
            for p in rows.iter() {
                sum += p.n().expect("load a row");
            }
            black_box(sum)
        });
}

/// `pgbench -N` ("simple update": per transaction an UPDATE of one account, a SELECT of its
/// balance and an INSERT into the history, then the commit) for 10 s with 1 and 4 clients,
/// printing its tps.
fn pgbench(server: &PgServer) {
    let db = server.fresh_database_name();
    let url = server.url(&db, "sslmode=disable");
    let program = server.bindir().join("pgbench");
    let run = |args: &[&str]| {
        Command::new(&program).args(args).arg(&url).output().map(|out| {
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr)
        })
    };
    if let Err(error) = run(&["-i", "-q", "-s", "4"]) {
        eprintln!("pgbench is not available ({error}); no comparison");
        return;
    }
    for clients in ["1", "4"] {
        let output =
            run(&["-N", "-n", "-T", "10", "-c", clients, "-j", clients]).unwrap_or_default();
        let tps = output.lines().find(|line| line.starts_with("tps")).unwrap_or("no tps line");
        println!("pgbench -N -c {clients} -j {clients} -T 10 (same cluster): {tps}");
    }
}

/// The RelStorage script, when `PERSISTENT_BENCH_PYTHON` names a Python with RelStorage.
fn relstorage(server: &PgServer) {
    let Ok(python) = std::env::var("PERSISTENT_BENCH_PYTHON") else {
        println!("RelStorage: set PERSISTENT_BENCH_PYTHON to a Python with RelStorage to compare");
        return;
    };
    let db = server.fresh_database_name();
    let dsn = format!(
        "dbname={db} user=app password={} host=127.0.0.1 port={} sslmode=disable",
        persistent_testkit::pg_server::APP_PASSWORD,
        server.port()
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/relstorage_pg.py");
    match Command::new(python).arg(script).arg(&dsn).arg(OBJECTS.to_string()).status() {
        Ok(status) if status.success() => {}
        other => eprintln!("the RelStorage script failed: {other:?}"),
    }
}
