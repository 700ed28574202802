//! Misuse of the safe API and failures at awkward moments never lose or mix data: an abort
//! refused by a live guard keeps the change registered (and the transaction doomed), a panic
//! inside `transact` aborts, a commit that landed is reported as landed even when starting
//! the next transaction fails, and a guard held across a transaction boundary never gives a
//! mixed snapshot.

#![allow(clippy::manual_assert, reason = "test code: a simulated failure reads as a panic")]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use persistent::prelude::*;
use persistent::storage::MemoryStorage;
use persistent::{DatabaseConfig, Error};
use persistent_testkit::{Call, FlakyStorage};

#[derive(Persistent, Default, Debug)]
struct Account {
    balance: i64,
}

#[derive(Persistent, Default)]
struct Bank {
    a: Option<P<Account>>,
    b: Option<P<Account>>,
}

/// A database whose root bank holds two accounts of 100 each.
fn bank(storage: Arc<dyn persistent::storage::Storage>) -> Database {
    let db = Database::open_with(storage, DatabaseConfig::default()).unwrap();
    db.transact(|conn| {
        let bank = conn.root::<Bank>()?;
        bank.set_a(Some(P::new(Account { balance: 100 })))?;
        bank.set_b(Some(P::new(Account { balance: 100 })))
    })
    .unwrap();
    db
}

fn accounts(conn: &Connection) -> (P<Account>, P<Account>) {
    let bank = conn.root::<Bank>().unwrap();
    let a = bank.a().unwrap().clone().unwrap();
    let b = bank.b().unwrap().clone().unwrap();
    (a, b)
}

fn balances(db: &Database) -> (i64, i64) {
    let conn = db.connect().unwrap();
    let (a, b) = accounts(&conn);
    (a.balance().unwrap(), b.balance().unwrap())
}

#[test]
fn an_abort_refused_by_a_guard_keeps_the_change_registered_and_later_writes_are_stored() {
    let db = bank(Arc::new(MemoryStorage::new()));
    let conn = db.connect().unwrap();
    let (a, _) = accounts(&conn);
    a.set_balance(7).unwrap();
    let guard = a.read().unwrap();
    assert!(matches!(conn.abort(), Err(Error::Borrowed { .. })));
    assert!(
        matches!(conn.commit(), Err(Error::TransactionDoomed)),
        "the change the abort could not drop can never be committed"
    );
    drop(guard);
    conn.abort().unwrap();
    assert_eq!(a.balance().unwrap(), 100, "the abort dropped the change once it could");
    a.set_balance(42).unwrap();
    conn.commit().unwrap();
    assert_eq!(balances(&db), (42, 100), "a later write is stored");
}

#[test]
fn a_panic_inside_transact_aborts_its_changes() {
    let db = bank(Arc::new(MemoryStorage::new()));
    let conn = db.connect().unwrap();
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        conn.transact(|conn| {
            let (a, b) = accounts(conn);
            a.set_balance(50)?;
            if a.balance()? == 50 {
                panic!("user code fails between the two writes");
            }
            b.set_balance(150)
        })
    }));
    assert!(panicked.is_err());
    assert!(!conn.has_changes(), "the panic aborted the transaction");
    conn.transact(|conn| conn.root::<Bank>().map(|_| ())).unwrap();
    assert_eq!(balances(&db), (100, 100), "nothing of the panicked transaction was stored");

    let panicked = catch_unwind(AssertUnwindSafe(|| {
        db.transact(|conn| -> persistent::Result<()> {
            accounts(conn).0.set_balance(1)?;
            panic!("again, through Database::transact");
        })
    }));
    assert!(panicked.is_err());
    assert_eq!(balances(&db), (100, 100));
}

#[test]
fn a_commit_that_landed_is_ok_even_if_starting_the_next_transaction_fails() {
    let flaky = Arc::new(FlakyStorage::new(Arc::new(MemoryStorage::new())));
    let db = bank(flaky.clone());
    let conn = db.connect().unwrap();
    let (a, _) = accounts(&conn);
    // Another connection commits, so this connection's commit must list changes after it.
    db.transact(|other| accounts(other).1.set_balance(99)).unwrap();
    a.set_balance(10).unwrap();
    flaky.fail(Call::ChangesSince, 1);
    conn.commit().expect("the commit is durable, so it is reported as done");
    assert_eq!(balances(&db), (10, 99), "stored exactly once");
    // The connection goes on: its next transaction sees everything.
    conn.abort().unwrap();
    assert_eq!(accounts(&conn).1.balance().unwrap(), 99);
}

#[test]
fn a_guard_held_across_a_transaction_boundary_never_mixes_snapshots() {
    let db = bank(Arc::new(MemoryStorage::new()));
    let conn = db.connect().unwrap();
    let (a, b) = accounts(&conn);
    assert_eq!((a.balance().unwrap(), b.balance().unwrap()), (100, 100));
    // Another connection moves 70 from a to b.
    db.transact(|other| {
        let (a, b) = accounts(other);
        a.set_balance(30)?;
        b.set_balance(170)
    })
    .unwrap();
    b.p_invalidate().unwrap(); // b would load fresh; a is held
    let guard = a.read().unwrap();
    let error = conn.abort().unwrap_err();
    assert!(matches!(error, Error::SnapshotBlocked { oid } if Some(oid) == a.p_oid()), "{error}");
    assert_eq!(guard.balance + b.balance().unwrap(), 200, "still the old snapshot: no mix");
    drop(guard);
    conn.abort().unwrap();
    assert_eq!((a.balance().unwrap(), b.balance().unwrap()), (30, 170));
}

/// A value whose `Deserialize` panics on 13: user code that fails while an object loads.
#[derive(Debug, Default, Clone, Copy, PartialEq, serde::Serialize)]
struct Touchy(u32);

impl<'de> serde::Deserialize<'de> for Touchy {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = u32::deserialize(deserializer)?;
        assert_ne!(value, 13, "Touchy refuses 13");
        Ok(Touchy(value))
    }
}

#[derive(Persistent, Default)]
struct Holder {
    #[persistent(copy)]
    touchy: Touchy,
}

#[derive(Persistent, Default)]
struct Shelf {
    holder: Option<P<Holder>>,
}

#[test]
fn a_panic_while_an_object_loads_leaves_a_ghost_and_the_connection_usable() {
    let db = Database::open(MemoryStorage::new()).unwrap();
    db.transact(|conn| {
        conn.root::<Shelf>()?.set_holder(Some(P::new(Holder { touchy: Touchy(13) })))
    })
    .unwrap();
    let conn = db.connect().unwrap();
    let holder = conn.root::<Shelf>().unwrap().holder().unwrap().clone().unwrap();
    assert_eq!(holder.p_state(), PState::Ghost);
    let panicked = catch_unwind(AssertUnwindSafe(|| holder.touchy()));
    assert!(panicked.is_err(), "the user's Deserialize panicked");
    assert_eq!(holder.p_state(), PState::Ghost, "back to a ghost, not Changed without state");
    assert_eq!(conn.cache().non_ghost_count(), 1, "only the root is loaded");
    // Loading it again runs the user's code again (and panics again), never a stateless
    // object; the connection goes on.
    assert!(catch_unwind(AssertUnwindSafe(|| holder.touchy())).is_err());
    conn.abort().unwrap();
    holder.p_invalidate().unwrap();
    let shelf = conn.root::<Shelf>().unwrap();
    shelf.set_holder(Some(P::new(Holder { touchy: Touchy(7) }))).unwrap();
    conn.commit().unwrap();
    let other = db.connect().unwrap();
    let fresh = other.root::<Shelf>().unwrap().holder().unwrap().clone().unwrap();
    assert_eq!(fresh.touchy().unwrap(), Touchy(7));
}

#[test]
fn transact_keeps_the_first_error_when_its_abort_fails_too() {
    let flaky = Arc::new(FlakyStorage::new(Arc::new(MemoryStorage::new())));
    let db = bank(flaky.clone());
    let conn = db.connect().unwrap();
    let error = conn
        .transact(|conn| {
            accounts(conn).0.set_balance(1)?;
            flaky.fail(Call::ChangesSince, 1); // the abort's next transaction start fails
            Err::<(), _>(Error::Custom("the user's own failure".into()))
        })
        .unwrap_err();
    match &error {
        Error::AbortFailed { error, abort } => {
            assert!(matches!(**error, Error::Custom(ref m) if m == "the user's own failure"));
            assert_eq!(abort.storage_kind(), Some(persistent::StorageErrorKind::Io));
        }
        other => panic!("expected AbortFailed, got {other:?}"),
    }
    assert!(error.to_string().starts_with("the user's own failure"), "{error}");
    assert_eq!(balances(&db), (100, 100), "nothing was committed");
}

#[test]
fn storage_failures_at_load_commit_and_oid_allocation_are_typed_and_lose_nothing() {
    let flaky = Arc::new(FlakyStorage::new(Arc::new(MemoryStorage::new())));
    let db = bank(flaky.clone());
    let conn = db.connect().unwrap();
    let bank_root = conn.root::<Bank>().unwrap();
    let a = bank_root.a().unwrap().unwrap();

    // A load that fails leaves a ghost that loads on the next access.
    flaky.fail(Call::LoadVisible, 1);
    let error = a.balance().unwrap_err();
    assert_eq!(error.storage_kind(), Some(persistent::StorageErrorKind::Io), "{error}");
    assert_eq!(a.p_state(), PState::Ghost);
    assert_eq!(a.balance().unwrap(), 100);

    // Oids cannot be reserved: adding fails, the transaction goes on.
    flaky.fail(Call::NewOids, 1);
    let extra = P::new(Account { balance: 1 });
    assert!(conn.add(&extra).is_err());
    assert_eq!(extra.p_oid(), None, "the refused object is unchanged");

    // A commit the storage refuses writes nothing and dooms the transaction.
    a.set_balance(60).unwrap();
    let before = db.storage().last_transaction().unwrap();
    flaky.fail(Call::Commit, 1);
    assert!(conn.commit().unwrap_err().storage_kind().is_some());
    assert_eq!(db.storage().last_transaction().unwrap(), before);
    assert!(matches!(conn.commit(), Err(Error::TransactionDoomed)));
    conn.abort().unwrap();
    assert_eq!(balances(&db), (100, 100));
    a.set_balance(60).unwrap();
    conn.commit().unwrap();
    assert_eq!(balances(&db), (60, 100));
}
