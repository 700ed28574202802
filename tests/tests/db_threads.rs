//! Connections in several threads (each thread opens its own connection from a shared
//! `Database`), on `MemoryStorage` and `SqliteStorage`: write conflicts and their retry,
//! disjoint writers, snapshot isolation of a reader, and `transact` under contention.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    reason = "test code: small test values"
)]

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Barrier;
use std::thread;

use persistent::prelude::*;
use persistent::{DatabaseConfig, Error};
use persistent_tests::{for_each_backend, Backend, Node};

for_each_backend!(
    second_writer_of_one_object_conflicts_then_retries,
    writers_of_disjoint_objects_both_commit,
    a_reader_keeps_its_snapshot_until_the_next_transaction,
    transact_retries_until_every_increment_lands,
    transact_gives_up_after_max_attempts,
);

/// Stores a root whose children are `count` nodes with value 0; returns their oids.
fn setup(db: &Database, count: usize) -> Vec<Oid> {
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    let children: Vec<P<Node>> =
        (0..count).map(|i| P::new(Node::new(&format!("child {i}"), 0))).collect();
    root.update(|r| r.children.clone_from(&children)).unwrap();
    conn.commit().unwrap();
    children.iter().map(|c| c.p_oid().unwrap()).collect()
}

/// The value of node `oid`, read through a new connection.
fn value_of(db: &Database, oid: Oid) -> i64 {
    let conn = db.connect().unwrap();
    let node = conn.get::<Node>(oid).unwrap();
    node.with(|n| n.value).unwrap()
}

fn second_writer_of_one_object_conflicts_then_retries(backend: &Backend) {
    let db = backend.open();
    let counter = setup(&db, 1)[0];
    let both_read = Barrier::new(2);
    let first_committed = Barrier::new(2);
    thread::scope(|scope| {
        scope.spawn(|| {
            let conn = db.connect().unwrap();
            let node = conn.get::<Node>(counter).unwrap();
            assert_eq!(node.with(|n| n.value).unwrap(), 0);
            both_read.wait();
            node.update(|n| n.value += 1).unwrap();
            conn.commit().unwrap();
            first_committed.wait();
        });
        scope.spawn(|| {
            let conn = db.connect().unwrap();
            let node = conn.get::<Node>(counter).unwrap();
            assert_eq!(node.with(|n| n.value).unwrap(), 0);
            both_read.wait();
            node.update(|n| n.value += 1).unwrap();
            first_committed.wait();
            let error = conn.commit().unwrap_err();
            match &error {
                Error::Conflict { oid, .. } => assert_eq!(*oid, counter),
                other => panic!("expected a conflict, got {other:?}"),
            }
            let message = error.to_string();
            assert!(message.contains(&counter.to_string()), "{message}");
            assert!(matches!(conn.commit(), Err(Error::TransactionDoomed)));
            conn.abort().unwrap();
            assert_eq!(node.with(|n| n.value).unwrap(), 1, "sees the first commit");
            node.update(|n| n.value += 1).unwrap();
            conn.commit().unwrap();
        });
    });
    assert_eq!(value_of(&backend.open(), counter), 2, "both increments stored");
}

fn writers_of_disjoint_objects_both_commit(backend: &Backend) {
    let db = backend.open();
    let oids = setup(&db, 2);
    let both_changed = Barrier::new(2);
    thread::scope(|scope| {
        for (index, &oid) in oids.iter().enumerate() {
            let (db, both_changed) = (&db, &both_changed);
            scope.spawn(move || {
                let conn = db.connect().unwrap();
                let node = conn.get::<Node>(oid).unwrap();
                node.update(|n| n.value = 10 + index as i64).unwrap();
                both_changed.wait();
                conn.commit().expect("disjoint writes do not conflict");
            });
        }
    });
    let db = backend.open();
    assert_eq!(value_of(&db, oids[0]), 10);
    assert_eq!(value_of(&db, oids[1]), 11);
}

fn a_reader_keeps_its_snapshot_until_the_next_transaction(backend: &Backend) {
    let db = backend.open();
    let oids = setup(&db, 2);
    let (a_oid, b_oid) = (oids[0], oids[1]);
    {
        let conn = db.connect().unwrap();
        for (oid, value) in [(a_oid, 1), (b_oid, 1)] {
            conn.get::<Node>(oid).unwrap().update(|n| n.value = value).unwrap();
        }
        conn.commit().unwrap();
    }
    let reader = db.connect().unwrap();
    let a = reader.get::<Node>(a_oid).unwrap();
    assert_eq!(a.with(|n| n.value).unwrap(), 1);
    let writer_tid = thread::scope(|scope| {
        scope
            .spawn(|| {
                let conn = db.connect().unwrap();
                for oid in [a_oid, b_oid] {
                    conn.get::<Node>(oid).unwrap().update(|n| n.value = 2).unwrap();
                }
                conn.commit().unwrap()
            })
            .join()
            .unwrap()
    });
    assert!(writer_tid > reader.snapshot());
    assert_eq!(a.with(|n| n.value).unwrap(), 1, "cached A unchanged");
    assert_eq!(a.p_state(), PState::UpToDate);
    let b = reader.get::<Node>(b_oid).unwrap();
    assert_eq!(b.with(|n| n.value).unwrap(), 1, "B loads at the snapshot");
    assert!(b.p_serial() < writer_tid);
    reader.abort().unwrap();
    assert_eq!(reader.snapshot(), writer_tid);
    assert_eq!(a.p_state(), PState::Ghost, "invalidated at the boundary");
    assert_eq!(a.with(|n| n.value).unwrap(), 2);
    assert_eq!(b.with(|n| n.value).unwrap(), 2);
    assert_eq!(b.p_serial(), writer_tid);
}

/// Optimistic retries are not fair, but `transact` pauses a growing random time between
/// attempts, so competing writers stop colliding within the default attempt limit.
fn transact_retries_until_every_increment_lands(backend: &Backend) {
    const THREADS: i64 = 4;
    const INCREMENTS: i64 = 50;
    let db = backend.open_with(DatabaseConfig::default());
    let counter = setup(&db, 1)[0];
    let start = Barrier::new(THREADS as usize);
    let attempts = AtomicI64::new(0);
    let most = AtomicI64::new(0);
    thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                start.wait();
                for _ in 0..INCREMENTS {
                    let mut tries = 0;
                    db.transact(|conn| {
                        tries += 1;
                        let node = conn.get::<Node>(counter)?;
                        node.update(|n| n.value += 1)?;
                        thread::yield_now();
                        Ok(())
                    })
                    .expect("transact gives up only after max_attempts conflicts");
                    attempts.fetch_add(tries, Ordering::Relaxed);
                    most.fetch_max(tries, Ordering::Relaxed);
                }
            });
        }
    });
    let attempts = attempts.into_inner();
    eprintln!(
        "{} increments took {attempts} attempts, at most {} for one",
        THREADS * INCREMENTS,
        most.into_inner()
    );
    assert!(attempts >= THREADS * INCREMENTS);
    assert_eq!(value_of(&backend.open(), counter), THREADS * INCREMENTS);
}

/// A closure that always loses the race (another connection commits the counter while it
/// runs) is run exactly `max_attempts` times; the conflict is returned and nothing of it
/// is stored.
fn transact_gives_up_after_max_attempts(backend: &Backend) {
    let db = backend.open_with(DatabaseConfig::default().with_max_attempts(3));
    let counter = setup(&db, 1)[0];
    let rival = db.connect().unwrap();
    let mut runs = 0;
    let outcome = db.transact(|conn| {
        runs += 1;
        let node = conn.get::<Node>(counter)?;
        node.update(|n| n.value += 100)?;
        rival.get::<Node>(counter)?.update(|n| n.value += 1)?;
        rival.commit()?;
        Ok(())
    });
    assert!(matches!(outcome, Err(Error::Conflict { oid, .. }) if oid == counter), "{outcome:?}");
    assert_eq!(runs, 3);
    assert_eq!(value_of(&backend.open(), counter), 3, "only the rival's commits");
}
