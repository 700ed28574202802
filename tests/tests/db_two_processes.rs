//! Two processes commit interleaved transactions to one SQLite file through `Database` and
//! `Connection`: the test binary starts itself again to run only `writer_child`, and both
//! processes run `transact` 100 times, each appending a new `Item` to a shared list node
//! and incrementing a shared counter node. Afterwards every transaction of both is there.

#![allow(clippy::cast_possible_wrap, reason = "test code: small test values")]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use persistent::prelude::*;
use persistent::DatabaseConfig;
use persistent::SqliteStorage;
use persistent_tests::{Item, KillOnDrop, Node, TempDir};

/// Set in the child to the database path; `writer_child` does nothing without it.
const CHILD_ENV: &str = "PERSISTENT_TESTS_TWO_PROCESSES_DB";
/// Transactions per process.
const PER_PROCESS: i64 = 100;

fn open(path: &std::path::Path) -> Database {
    let storage = SqliteStorage::open(path).expect("open the shared file");
    let config = DatabaseConfig::default().with_max_attempts(10_000);
    Database::open_with(Arc::new(storage), config).unwrap()
}

/// `PER_PROCESS` transactions, each appending `who-i` to the list and bumping the counter.
fn run_writer(db: &Database, who: &str) {
    let conn = db.connect().unwrap();
    let mut attempts = 0;
    for i in 0..PER_PROCESS {
        conn.transact(|conn| {
            attempts += 1;
            let root = conn.root::<Node>()?;
            let (counter, list) = root.with(|r| (r.children[0].clone(), r.children[1].clone()))?;
            counter.update(|c| c.value += 1)?;
            let item = P::new(Item { name: format!("{who}-{i}"), ..Item::numbered(i) });
            list.update(|l| l.items.push(item))?;
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{who}: transaction {i} failed: {e}"));
        // A breath between transactions lets the other process take the write lock, so
        // the two streams interleave instead of running one after the other.
        std::thread::sleep(Duration::from_micros(300));
    }
    eprintln!("{who}: {PER_PROCESS} transactions in {attempts} attempts");
}

/// The child's side; runs only when started by the parent.
#[test]
fn writer_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let db = open(path.as_ref());
    println!("\nREADY");
    run_writer(&db, "child");
    println!("DONE");
}

#[test]
fn two_processes_commit_interleaved_transactions() {
    let dir = TempDir::new("twoproc");
    let path = dir.join("shared.db");
    let db = open(&path);
    {
        let conn = db.connect().unwrap();
        let root = conn.root::<Node>().unwrap();
        let counter = P::new(Node::new("counter", 0));
        let list = P::new(Node::new("list", 0));
        root.update(|r| r.children = vec![counter, list]).unwrap();
        conn.commit().unwrap();
    }
    let path_text = path.to_str().unwrap().to_string();
    let mut child = KillOnDrop::run_test("writer_child", &[(CHILD_ENV, &path_text)]);
    let (lines, reader) = child.lines();
    let ready = Duration::from_secs(30);
    assert!(
        std::iter::from_fn(|| lines.recv_timeout(ready).ok()).any(|line| line == "READY"),
        "the child never got ready"
    );
    run_writer(&db, "parent");
    let status = child.0.wait().unwrap();
    reader.join().unwrap();
    assert!(status.success(), "the child failed: {status}");
    assert!(lines.try_iter().any(|line| line == "DONE"), "child finished");

    let db = open(&path);
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    let (counter, list) = root.with(|r| (r.children[0].clone(), r.children[1].clone())).unwrap();
    assert_eq!(counter.with(|c| c.value).unwrap(), 2 * PER_PROCESS);
    let items = list.with(|l| l.items.clone()).unwrap();
    assert_eq!(items.len() as i64, 2 * PER_PROCESS);
    let oids: BTreeSet<Oid> = items.iter().map(|i| i.p_oid().unwrap()).collect();
    assert_eq!(oids.len(), items.len(), "distinct objects");
    let mut names = Vec::new();
    for item in &items {
        assert_eq!(item.p_state(), PState::Ghost);
        names.push(item.with(|i| i.name.clone()).unwrap());
    }
    for who in ["parent", "child"] {
        let mine: Vec<&String> = names.iter().filter(|n| n.starts_with(who)).collect();
        let expected: Vec<String> = (0..PER_PROCESS).map(|i| format!("{who}-{i}")).collect();
        assert_eq!(mine, expected.iter().collect::<Vec<_>>(), "{who}'s items in order");
    }
    let switches = names
        .windows(2)
        .filter(|w| w[0].starts_with("parent") != w[1].starts_with("parent"))
        .count();
    eprintln!("writers alternated {switches} times in the list");
    let history = conn.history(&counter, 1000).unwrap();
    assert_eq!(history.len() as i64, 2 * PER_PROCESS + 1, "one revision each");
    let storage = SqliteStorage::open(&path).unwrap();
    assert!(storage.integrity_check().unwrap());
}
