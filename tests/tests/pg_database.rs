//! PostgreSQL through the facade (`persistent` with the `postgres` feature): derived objects
//! committed and read back as ghosts after a reopen; four OS processes (this test binary
//! started again, each with its own `Database`) incrementing shared and private counters
//! with `transact`; a client SIGKILLed in the middle of a large commit; a damaged record.
//! Each test gets a fresh database of the binary's test cluster (`PgServer`); without
//! PostgreSQL they print SKIP and pass (fail under `PERSISTENT_REQUIRE_PG=1`).

use std::sync::Arc;
use std::time::Duration;

use persistent::prelude::*;
use persistent::{DatabaseConfig, Error, PostgresOptions, PostgresStorage};
use persistent_testkit::PgServer;
use persistent_tests::{wait_for_line, KillOnDrop, Rng};

/// The child processes read their database URL from here; they do nothing without it.
const URL_ENV: &str = "PERSISTENT_TESTS_PG_CHILD_URL";
/// The child's index among the counting processes.
const INDEX_ENV: &str = "PERSISTENT_TESTS_PG_CHILD_INDEX";
/// Counting processes, and transactions each.
const PROCESSES: usize = 4;
const PER_PROCESS: i64 = 25;

#[derive(Persistent, Default)]
struct Registry {
    name: String,
    counters: Vec<P<Counter>>,
}

#[derive(Persistent, Default)]
struct Counter {
    value: i64,
}

fn open(url: &str) -> Database {
    let storage = PostgresStorage::open(url).expect("open the database");
    let config = DatabaseConfig::default().with_max_attempts(10_000);
    Database::open_with(Arc::new(storage), config).expect("open the Database")
}

/// The root's counters.
fn counters(conn: &Connection) -> Result<Vec<P<Counter>>, Error> {
    Ok(conn.root::<Registry>()?.counters()?.clone())
}

#[test]
fn objects_commit_reopen_and_load_as_ghosts() {
    let Some(server) = PgServer::shared("objects_commit_reopen_and_load_as_ghosts") else {
        return;
    };
    let url = server.fresh_database();
    {
        let db = open(&url);
        let conn = db.connect().unwrap();
        let root = conn.root::<Registry>().unwrap();
        root.set_name("smoke".to_owned()).unwrap();
        let made: Vec<P<Counter>> = (0..200).map(|value| P::new(Counter { value })).collect();
        root.set_counters(made).unwrap();
        conn.commit().unwrap();
        let first = root.counters().unwrap()[0].clone();
        first.set_value(1000).unwrap();
        conn.commit().unwrap();
    }
    let db = open(&url);
    let conn = db.connect().unwrap();
    let root = conn.root::<Registry>().unwrap();
    assert_eq!(*root.name().unwrap(), "smoke");
    let loaded = root.counters().unwrap().clone();
    assert_eq!(loaded.len(), 200);
    assert!(loaded.iter().all(|c| c.p_status() == "ghost"), "references come back as ghosts");
    assert_eq!(loaded[0].value().unwrap(), 1000);
    assert_eq!(loaded[199].value().unwrap(), 199);
    assert_eq!(loaded[199].p_status(), "saved", "a ghost loads on access");
    let history = db.storage().history(loaded[0].p_oid().unwrap(), 10).unwrap();
    assert_eq!(history.len(), 2, "both revisions of the first counter are kept");
}

/// One counting process: `PER_PROCESS` transactions, each bumping the shared counter and
/// this process's own one. Runs only when started by `four_processes_count_exactly`.
#[test]
fn pg_counting_child() {
    let (Ok(url), Ok(index)) = (std::env::var(URL_ENV), std::env::var(INDEX_ENV)) else {
        return;
    };
    let index: usize = index.parse().unwrap();
    let db = open(&url);
    let conn = db.connect().unwrap();
    println!("READY");
    for i in 0..PER_PROCESS {
        conn.transact(|conn| {
            let counters = counters(conn)?;
            counters[0].set_value(counters[0].value()? + 1)?;
            counters[1 + index].set_value(counters[1 + index].value()? + 1)?;
            Ok(())
        })
        .unwrap_or_else(|e| panic!("process {index}: transaction {i} failed: {e}"));
    }
    println!("DONE");
}

#[test]
fn four_processes_count_exactly() {
    let Some(server) = PgServer::shared("four_processes_count_exactly") else {
        return;
    };
    let url = server.fresh_database();
    let db = open(&url);
    let watcher = db.connect().unwrap();
    {
        let root = watcher.root::<Registry>().unwrap();
        root.set_counters((0..=PROCESSES).map(|_| P::new(Counter::default())).collect()).unwrap();
        watcher.commit().unwrap();
    }
    let shared = counters(&watcher).unwrap()[0].clone();
    assert_eq!(shared.value().unwrap(), 0);
    let mut children: Vec<KillOnDrop> = (0..PROCESSES)
        .map(|index| {
            KillOnDrop::run_test(
                "pg_counting_child",
                &[(URL_ENV, &url), (INDEX_ENV, &index.to_string())],
            )
        })
        .collect();
    for (index, child) in children.iter_mut().enumerate() {
        let (lines, _reader) = child.lines();
        let mut seen = Vec::new();
        assert!(
            wait_for_line(&lines, "DONE", Duration::from_mins(2), &mut seen),
            "process {index} did not finish: {seen:?}"
        );
        assert!(child.0.wait().unwrap().success(), "process {index} failed");
    }
    // The watcher's transaction still reads its snapshot; the next one sees every commit.
    assert_eq!(shared.value().unwrap(), 0, "a running transaction keeps its snapshot");
    watcher.abort().unwrap();
    let total = i64::try_from(PROCESSES).unwrap() * PER_PROCESS;
    assert_eq!(shared.value().unwrap(), total, "no increment of the shared counter is lost");
    for (index, counter) in counters(&watcher).unwrap()[1..].iter().enumerate() {
        assert_eq!(counter.value().unwrap(), PER_PROCESS, "process {index}'s own counter");
    }
}

/// Commits 20,000 new counters and a bump of the first one in one transaction, announcing
/// "COMMITTING" just before; the parent kills it meanwhile.
#[test]
fn pg_big_commit_child() {
    let Ok(url) = std::env::var(URL_ENV) else {
        return;
    };
    let db = open(&url);
    let conn = db.connect().unwrap();
    let root = conn.root::<Registry>().unwrap();
    let mut all = root.counters().unwrap().clone();
    all[0].set_value(all[0].value().unwrap() + 1).unwrap();
    all.extend((0..20_000).map(|value| P::new(Counter { value })));
    root.set_counters(all).unwrap();
    println!("\nCOMMITTING");
    conn.commit().unwrap();
    println!("COMMITTED");
}

#[test]
fn a_client_killed_mid_commit_leaves_nothing_and_no_lock() {
    let Some(server) = PgServer::shared("a_client_killed_mid_commit_leaves_nothing_and_no_lock")
    else {
        return;
    };
    let url = server.fresh_database();
    let db = open(&url);
    let conn = db.connect().unwrap();
    conn.root::<Registry>().unwrap().set_counters(vec![P::new(Counter::default())]).unwrap();
    conn.commit().unwrap();
    // The root, the counter and the schema registry.
    let baseline = db.storage().list_oids(None, 100).unwrap().len();
    let mut rng = Rng::from_clock();
    let mut bumps = 0;
    for round in 0..3 {
        let mut child = KillOnDrop::run_test("pg_big_commit_child", &[(URL_ENV, &url)]);
        let (lines, _reader) = child.lines();
        let mut seen = Vec::new();
        assert!(
            wait_for_line(&lines, "COMMITTING", Duration::from_mins(1), &mut seen),
            "round {round}: the child never reached its commit: {seen:?}"
        );
        std::thread::sleep(Duration::from_millis(rng.range(0, 60)));
        child.kill();
        let committed = lines.try_iter().any(|line| line == "COMMITTED");
        // A new client sees all of the transaction or none of it ...
        let fresh = open(&url);
        let view = fresh.connect().unwrap();
        let all = counters(&view).unwrap();
        let objects = fresh.storage().list_oids(None, 1_000_000).unwrap().len();
        match all.len() {
            1 => assert_eq!(objects, baseline + 20_000 * bumps, "round {round}: no orphan objects"),
            n => {
                assert!(n > 1 && (n - 1) % 20_000 == 0, "round {round}: partial commit of {n}");
                bumps += 1;
            }
        }
        assert!(!committed || all.len() > 1, "an acknowledged commit is there");
        let value = all[0].value().unwrap();
        // ... and the killed session's row locks are gone: this commit does not wait.
        let quick = PostgresStorage::open_with(
            &url,
            PostgresOptions::default().with_lock_timeout(Duration::from_secs(10)),
        )
        .unwrap();
        let quick = Database::open(quick).unwrap();
        quick
            .transact(|conn| {
                let first = counters(conn)?[0].clone();
                first.set_value(first.value()? + 100)
            })
            .unwrap_or_else(|e| panic!("round {round}: the counter stayed locked: {e}"));
        view.abort().unwrap();
        assert_eq!(counters(&view).unwrap()[0].value().unwrap(), value + 100);
    }
}

#[test]
fn a_damaged_record_is_corrupt_not_misread() {
    let Some(server) = PgServer::shared("a_damaged_record_is_corrupt_not_misread") else {
        return;
    };
    if !server.is_own() {
        eprintln!("SKIP a_damaged_record_is_corrupt_not_misread: needs the test cluster");
        return;
    }
    let name = server.fresh_database_name();
    let url = server.url(&name, "sslmode=disable");
    let db = open(&url);
    let conn = db.connect().unwrap();
    conn.root::<Registry>().unwrap().set_name("intact".to_owned()).unwrap();
    conn.commit().unwrap();
    server
        .admin_sql(
            &name,
            "UPDATE object_state SET state = set_byte(state, length(state) - 2, \
             get_byte(state, length(state) - 2) # 255) WHERE zoid = 0",
        )
        .unwrap();
    let other = open(&url).connect().unwrap();
    match other.root::<Registry>() {
        Err(Error::CorruptRecord { oid, .. }) => assert_eq!(oid, Oid::ROOT),
        Err(other) => panic!("a damaged record must be CorruptRecord, got {other}"),
        Ok(_) => panic!("a damaged record must be CorruptRecord, but it loaded"),
    }
}
