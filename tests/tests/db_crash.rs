//! Crash safety through connections: a child process (this test binary again, running only
//! `committing_child`) commits transactions through a `Connection` to a SQLite file, each
//! setting three nodes to the same sequence number and appending a new item numbered alike
//! to a log node, and prints `COMMITTED <tid> <seq>` as soon as `commit` returns. The parent
//! SIGKILLs it after a random delay, reopens the file through a new `Database` and checks
//! that every reported transaction is there whole, the current state is consistent, and
//! SQLite's integrity check passes; several rounds on one file.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    reason = "sequence numbers and counts are small and non-negative"
)]

use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

use persistent::prelude::*;
use persistent::SqliteStorage;
use persistent::{DatabaseConfig, Tid};
use persistent_tests::{Item, KillOnDrop, Node, Rng, TempDir};

/// Set in the child to the database path; `committing_child` does nothing without it.
const CHILD_ENV: &str = "PERSISTENT_TESTS_CRASH_DB";
/// Kill-and-check rounds.
const ROUNDS: usize = 10;
/// A child that is never killed stops after this long.
const CHILD_LIFETIME: Duration = Duration::from_secs(30);
/// Root children: the three nodes kept in agreement, then the log.
const AGREEING: usize = 3;
const LOG: usize = 3;

fn open(path: &std::path::Path) -> Database {
    let storage = SqliteStorage::open(path).expect("open the file");
    Database::open_with(Arc::new(storage), DatabaseConfig::default()).unwrap()
}

/// The root's children: three agreeing nodes and the log.
fn nodes(conn: &Connection) -> Vec<P<Node>> {
    let root = conn.root::<Node>().unwrap();
    root.with(|r| r.children.clone()).unwrap()
}

/// The child: commit until killed, reporting each commit.
#[test]
fn committing_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let db = open(path.as_ref());
    let conn = db.connect().unwrap();
    let nodes = nodes(&conn);
    let mut seq = nodes[0].with(|n| n.value).unwrap();
    println!("\nREADY");
    let deadline = Instant::now() + CHILD_LIFETIME;
    while Instant::now() < deadline {
        seq += 1;
        for node in &nodes[..AGREEING] {
            node.update(|n| n.value = seq).unwrap();
        }
        let entry = P::new(Item::numbered(seq));
        nodes[LOG].update(|log| log.items.push(entry)).unwrap();
        let tid = conn.commit().unwrap();
        println!("COMMITTED {} {seq}", tid.as_u64());
    }
}

/// Everything the child reported before it died.
fn reported(lines: &Receiver<String>) -> Vec<(Tid, i64)> {
    lines
        .try_iter()
        .filter_map(|line| {
            let (tid, seq) = line.strip_prefix("COMMITTED ")?.split_once(' ')?;
            Some((TimeStamp::from_u64(tid.parse().ok()?), seq.parse().ok()?))
        })
        .collect()
}

/// Reopens the file and checks it; `checked` log entries were verified before. Returns the
/// current sequence number.
fn check(path: &std::path::Path, reported: &[(Tid, i64)], checked: usize) -> i64 {
    let db = open(path);
    let storage = SqliteStorage::open(path).unwrap();
    assert!(storage.integrity_check().unwrap(), "integrity check failed");
    let conn = db.connect().unwrap();
    let nodes = nodes(&conn);
    let values: Vec<i64> = nodes[..AGREEING].iter().map(|n| n.with(|n| n.value).unwrap()).collect();
    let seq = values[0];
    assert!(values.iter().all(|&v| v == seq), "partial transaction: {values:?}");
    let log = nodes[LOG].with(|l| l.items.clone()).unwrap();
    let serials: Vec<Tid> = nodes[..=LOG].iter().map(|n| n.p_serial()).collect();
    assert!(serials.windows(2).all(|w| w[0] == w[1]), "one tid: {serials:?}");
    assert_eq!(log.len() as i64, seq, "one log entry per transaction");
    for (index, entry) in log.iter().enumerate().skip(checked) {
        assert_eq!(entry.with(|i| i.n).unwrap(), index as i64 + 1);
    }
    for &(tid, reported_seq) in reported {
        assert!(reported_seq <= seq, "reported seq {reported_seq} lost");
        for node in &nodes[..AGREEING] {
            let old = conn.old_value(node, tid).expect("reported tid stored");
            assert_eq!(old.value, reported_seq, "{tid:?}");
        }
        let old_log = conn.old_value(&nodes[LOG], tid).unwrap();
        assert_eq!(old_log.items.len() as i64, reported_seq);
    }
    if let Some(&(last_tid, _)) = reported.last() {
        assert!(serials[0] >= last_tid);
    }
    seq
}

#[test]
fn killed_committer_leaves_whole_transactions() {
    let started = Instant::now();
    let dir = TempDir::new("crash");
    let path = dir.join("crash.db");
    {
        let conn = open(&path).connect().unwrap();
        let root = conn.root::<Node>().unwrap();
        let mut children: Vec<P<Node>> =
            (0..AGREEING).map(|i| P::new(Node::new(&format!("agreeing {i}"), 0))).collect();
        children.push(P::new(Node::new("log", 0)));
        root.update(|r| r.children = children).unwrap();
        conn.commit().unwrap();
    }
    let path_text = path.to_str().unwrap().to_string();
    let mut rng = Rng::from_clock();
    let (mut seq, mut total) = (0, 0);
    for round in 0..ROUNDS {
        let mut child = KillOnDrop::run_test("committing_child", &[(CHILD_ENV, &path_text)]);
        let (lines, reader) = child.lines();
        let wait = Duration::from_secs(20);
        assert!(
            std::iter::from_fn(|| lines.recv_timeout(wait).ok()).any(|l| l == "READY"),
            "round {round}: the child never got ready"
        );
        std::thread::sleep(Duration::from_millis(rng.range(5, 250)));
        child.0.kill().expect("SIGKILL the child");
        child.0.wait().unwrap();
        reader.join().unwrap();
        let reported = reported(&lines);
        if let Some(&(_, first)) = reported.first() {
            assert_eq!(first, seq + 1, "round {round}: the sequence continues");
        }
        let checked = seq as usize;
        seq = check(&path, &reported, checked);
        total += reported.len();
    }
    eprintln!(
        "{ROUNDS} kills, {total} commits reported, final seq {seq}, {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(total > 0, "the child never committed");
}
