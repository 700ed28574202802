//! Damaged records are found, never read as wrong values: every record carries a checksum,
//! so flipping any byte of a stored record (after the version byte) makes its load
//! `Error::CorruptRecord` naming the oid; and every record lists the oids its state
//! references, readable without decoding the state.

use persistent::codec::references_of;
use persistent::prelude::*;
use persistent::storage::MemoryStorage;
use persistent::Error;
use persistent_tests::write_raw;

#[derive(Persistent, Default, Debug)]
struct Person {
    first: String,
    last: String,
    age: i32,
    friend: Option<P<Person>>,
}

#[test]
fn every_flipped_byte_of_a_stored_record_is_a_corrupt_record() {
    let db = Database::open(MemoryStorage::new()).unwrap();
    db.transact(|conn| {
        let ada =
            P::new(Person { first: "Ada".into(), last: "Lovelace".into(), age: 36, friend: None });
        let root = conn.root::<Person>()?;
        root.set_first("Charles".into())?;
        root.set_friend(Some(ada))
    })
    .unwrap();
    let conn = db.connect().unwrap();
    let ada_oid =
        conn.root::<Person>().unwrap().friend().unwrap().as_ref().unwrap().p_oid().unwrap();
    drop(conn);
    let original = db.storage().load(ada_oid).unwrap().data;
    let mut flips = 0;
    for at in 1..original.len() {
        for flip in [0x01u8, 0x10, 0xff] {
            let mut damaged = original.clone();
            damaged[at] ^= flip;
            write_raw(&**db.storage(), ada_oid, damaged);
            let conn = db.connect().unwrap();
            let error = conn.get::<Person>(ada_oid).unwrap_err();
            assert!(
                matches!(error, Error::CorruptRecord { oid, .. } if oid == ada_oid),
                "byte {at} ^ {flip:#x}: {error:?}"
            );
            flips += 1;
        }
    }
    assert!(flips > 50, "{flips} flips");
    // The intact record loads again.
    write_raw(&**db.storage(), ada_oid, original);
    let conn = db.connect().unwrap();
    assert_eq!(conn.get::<Person>(ada_oid).unwrap().age().unwrap(), 36);
}

#[test]
fn a_record_lists_the_oids_its_state_references() {
    let db = Database::open(MemoryStorage::new()).unwrap();
    db.transact(|conn| {
        let a = P::new(Person { first: "a".into(), ..Person::default() });
        let b = P::new(Person { first: "b".into(), friend: Some(a.clone()), ..Person::default() });
        let root = conn.root::<Person>()?;
        root.set_friend(Some(b))
    })
    .unwrap();
    let conn = db.connect().unwrap();
    let root = conn.root::<Person>().unwrap();
    let b = root.friend().unwrap().clone().unwrap();
    let a = b.friend().unwrap().clone().unwrap();
    let record = |oid| db.storage().load(oid).unwrap().data;
    let root_oid = Oid::ROOT;
    assert_eq!(references_of(root_oid, &record(root_oid)).unwrap(), [b.p_oid().unwrap()]);
    let b_oid = b.p_oid().unwrap();
    assert_eq!(references_of(b_oid, &record(b_oid)).unwrap(), [a.p_oid().unwrap()]);
    let a_oid = a.p_oid().unwrap();
    assert!(references_of(a_oid, &record(a_oid)).unwrap().is_empty());
}
