//! Two processes commit interleaved transactions to one file: the test binary spawns itself
//! as a child (running only `child_entry`) and both write new objects and bump a shared
//! counter, retrying on conflict. Afterwards every transaction of both is present.

#![allow(clippy::cast_sign_loss, reason = "test code: small test values")]

mod common;

use persistent_testkit::TempDir;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};

use persistent_core::storage::{ObjectWrite, Storage, TransactionData};
use persistent_core::{Error, Oid};
use persistent_sqlite::SqliteStorage;

/// Set in the child to the database path; `child_entry` does nothing without it.
const CHILD_ENV: &str = "PERSISTENT_TWO_PROCESSES_DB";
/// Transactions each process commits.
const PER_PROCESS: u64 = 200;
/// The shared counter object.
const COUNTER: Oid = Oid::ROOT;

/// Commits `count` transactions, each writing a new object tagged `who`/i and bumping the
/// counter; returns the new oids in order.
fn run_writer(storage: &SqliteStorage, who: &str, count: u64) -> Vec<Oid> {
    let mut oids = Vec::new();
    let mut conflicts = 0u64;
    for i in 0..count {
        let oid = storage.new_oid().unwrap();
        loop {
            let counter = storage.load(COUNTER).unwrap();
            let value = u64::from_be_bytes(counter.data.as_slice().try_into().unwrap());
            let txn = TransactionData {
                user: who.to_string(),
                description: format!("{who} {i}"),
                extension: Vec::new(),
                read_current: Vec::new(),
                writes: vec![
                    ObjectWrite::new(oid, None, format!("{who} {i}").into_bytes()),
                    ObjectWrite::new(
                        COUNTER,
                        Some(counter.serial),
                        (value + 1).to_be_bytes().to_vec(),
                    ),
                ],
            };
            match storage.commit(&txn) {
                Ok(_) => break,
                Err(Error::Conflict { oid: conflicted, .. }) => {
                    assert_eq!(conflicted, COUNTER, "only the counter is shared");
                    conflicts += 1;
                }
                Err(e) => panic!("{who}: commit failed: {e}"),
            }
        }
        oids.push(oid);
    }
    eprintln!("{who}: {count} commits, {conflicts} conflicts retried");
    oids
}

/// The child's side: commit as "child" and print each new oid on stdout.
#[test]
fn child_entry() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let storage = SqliteStorage::open(&path).unwrap();
    // libtest may have printed "test child_entry ... " without a newline: start a new line.
    println!("\nREADY");
    std::io::stdout().flush().unwrap();
    let oids = run_writer(&storage, "child", PER_PROCESS);
    let mut out = std::io::stdout().lock();
    for oid in oids {
        writeln!(out, "OID {}", oid.0).unwrap();
    }
    out.flush().unwrap();
}

#[test]
fn two_processes_commit_to_one_file() {
    let dir = TempDir::new("sqlite");
    let path = dir.join("shared.db");
    let storage = SqliteStorage::open(&path).unwrap();
    storage
        .commit(&TransactionData {
            user: "parent".into(),
            description: "create counter".into(),
            extension: Vec::new(),
            read_current: Vec::new(),
            writes: vec![ObjectWrite::new(COUNTER, None, 0u64.to_be_bytes().to_vec())],
        })
        .unwrap();
    let path_text = path.to_str().unwrap().to_string();
    let mut child = common::spawn_self("child_entry", &[(CHILD_ENV, &path_text)]);
    let mut lines =
        BufReader::new(child.0.stdout.take().unwrap()).lines().map_while(std::result::Result::ok);
    // Start together once the child has the file open, so the commits interleave.
    assert!(lines.any(|line| line == "READY"), "child never got ready");
    let parent_oids = run_writer(&storage, "parent", PER_PROCESS);
    let child_oids: Vec<Oid> = lines
        .filter_map(|line| line.strip_prefix("OID ").map(|n| Oid(n.parse().unwrap())))
        .collect();
    let status = child.0.wait().unwrap();
    assert!(status.success(), "child failed: {status}");
    assert_eq!(child_oids.len() as u64, PER_PROCESS, "child reported every oid");

    let all: BTreeSet<Oid> = parent_oids.iter().chain(&child_oids).copied().collect();
    assert_eq!(all.len() as u64, 2 * PER_PROCESS, "oids unique across processes");
    for (who, oids) in [("parent", &parent_oids), ("child", &child_oids)] {
        for (i, oid) in oids.iter().enumerate() {
            let data = storage.load(*oid).unwrap().data;
            assert_eq!(data, format!("{who} {i}").into_bytes(), "object {oid}");
        }
    }
    let counter = storage.load(COUNTER).unwrap().data;
    let total = u64::from_be_bytes(counter.as_slice().try_into().unwrap());
    assert_eq!(total, 2 * PER_PROCESS, "no increment lost");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let rows: i64 =
        conn.query_row(r#"SELECT COUNT(*) FROM "transaction""#, [], |r| r.get(0)).unwrap();
    assert_eq!(rows as u64, 2 * PER_PROCESS + 1, "every transaction recorded");
    let history = storage.history(COUNTER, 10_000).unwrap();
    assert_eq!(history.len() as u64, 2 * PER_PROCESS + 1);
    let tids: Vec<_> = history.iter().map(|h| h.tid).collect();
    assert!(tids.windows(2).all(|w| w[0] > w[1]), "tids strictly ordered");
    let by_child = history.iter().filter(|h| h.user == "child").count();
    let interleaved = history.windows(2).filter(|w| w[0].user != w[1].user).count();
    eprintln!("child commits {by_child}, switches between writers {interleaved}");
    assert!(storage.integrity_check().unwrap());
}
