//! A server crash under load (`pg_ctl restart -m immediate`, in a test binary of its own
//! because it restarts the binary's cluster): the calls in flight fail with a typed,
//! transient error (`Unavailable`), the storage's sessions recover on the next calls without
//! reopening, and no acknowledged commit is lost (each counter holds at least every
//! acknowledged increment, and at most those plus the commits whose outcome was reported
//! unknown), also in the group-commit mode (`visible_before_durable`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use persistent_core::storage::{ObjectWrite, Storage, TransactionData};
use persistent_core::{Oid, StorageErrorKind};
use persistent_postgres::PostgresStorage;
use persistent_testkit::PgServer;

/// What one worker saw.
#[derive(Default, Debug)]
struct Tally {
    acknowledged: u64,
    unknown: u64,
    failures: u64,
    acknowledged_after_restart: u64,
}

fn counter_value(storage: &PostgresStorage, oid: Oid) -> (u64, persistent_core::Tid) {
    let revision = storage.load(oid).unwrap();
    (u64::from_be_bytes(revision.data.try_into().unwrap()), revision.serial)
}

fn commit(storage: &PostgresStorage, writes: Vec<ObjectWrite>) -> persistent_core::Result<()> {
    storage
        .commit(&TransactionData { user: "restart".into(), writes, ..TransactionData::default() })
        .map(|_| ())
}

#[test]
fn a_server_restart_fails_calls_typed_and_sessions_recover() {
    let Some(server) = PgServer::shared("a_server_restart_fails_calls_typed_and_sessions_recover")
        .filter(|server| server.is_own())
    else {
        return;
    };
    let url = server.fresh_database();
    let storage = Arc::new(PostgresStorage::open(&url).unwrap());
    // Half the workers commit through a storage in the group-commit mode, whose commits
    // are visible before they are durable: it too must lose no acknowledged commit.
    let grouped = Arc::new(
        PostgresStorage::open_with(
            &url,
            persistent_postgres::PostgresOptions::default().with_visible_before_durable(true),
        )
        .unwrap(),
    );
    let oids = storage.new_oids(4).unwrap();
    commit(
        &storage,
        oids.iter().map(|&oid| ObjectWrite::new(oid, None, 0u64.to_be_bytes().to_vec())).collect(),
    )
    .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let restarted = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = oids
        .iter()
        .enumerate()
        .map(|(i, &oid)| {
            let storage = if i % 2 == 0 { storage.clone() } else { grouped.clone() };
            let (stop, restarted) = (stop.clone(), restarted.clone());
            std::thread::spawn(move || {
                let mut tally = Tally::default();
                while !stop.load(Ordering::Relaxed) {
                    let outcome = storage.load(oid).and_then(|revision| {
                        let value = u64::from_be_bytes(revision.data.try_into().unwrap());
                        let bump = (value + 1).to_be_bytes().to_vec();
                        commit(&storage, vec![ObjectWrite::new(oid, Some(revision.serial), bump)])
                    });
                    match outcome {
                        Ok(()) => {
                            tally.acknowledged += 1;
                            if restarted.load(Ordering::Relaxed) {
                                tally.acknowledged_after_restart += 1;
                            }
                        }
                        Err(error) => {
                            assert!(error.is_transient(), "a typed, retryable error: {error}");
                            assert_eq!(
                                error.storage_kind(),
                                Some(StorageErrorKind::Unavailable),
                                "{error}"
                            );
                            if error.to_string().contains("outcome is unknown") {
                                tally.unknown += 1;
                            }
                            tally.failures += 1;
                            std::thread::sleep(Duration::from_millis(50));
                        }
                    }
                }
                tally
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    server.restart_immediate().expect("pg_ctl restart -m immediate");
    restarted.store(true, Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(20);
    std::thread::sleep(Duration::from_millis(700));
    while Instant::now() < deadline && storage.last_transaction().is_err() {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let tallies: Vec<Tally> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    eprintln!("{tallies:?}");
    assert!(tallies.iter().any(|t| t.failures > 0), "the crash failed some call in flight");
    for (tally, &oid) in tallies.iter().zip(&oids) {
        let (value, _) = counter_value(&storage, oid);
        assert!(
            value >= tally.acknowledged && value <= tally.acknowledged + tally.unknown,
            "counter {oid}: {value} after {tally:?}"
        );
        assert!(tally.acknowledged_after_restart > 0, "the sessions recovered: {tally:?}");
    }
}
