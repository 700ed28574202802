//! Stored type names: the default is the struct's name alone, so a record survives the
//! struct moving to another module (or crate, or binary); `alias` reads records stored under
//! older names; two types claiming one stored name are a typed error, never a silent pick.

use persistent::prelude::*;
use persistent::storage::MemoryStorage;
use persistent::Error;
use persistent_tests::{format1_record, write_raw};

/// Version 1 of a program. (Its `Ledger`, stored as "Ledger" from another module, is written
/// below as raw bytes: one process cannot hold two types claiming one name.)
mod v1 {
    use persistent::prelude::*;

    #[derive(Persistent, Default)]
    #[persistent(name = "accounts::Account")]
    pub struct Account {
        pub balance: i64,
    }
}

/// Version 2: `Ledger` moved to another module; `Account` was renamed and reads its old
/// records through an alias.
mod v2 {
    use persistent::prelude::*;

    pub mod books {
        use persistent::prelude::*;

        #[derive(Persistent, Default)]
        pub struct Ledger {
            pub total: i64,
        }
    }

    #[derive(Persistent, Default)]
    #[persistent(name = "accounts::Wallet", alias = "accounts::Account")]
    pub struct Wallet {
        pub balance: i64,
    }
}

#[test]
fn a_moved_struct_and_a_renamed_one_with_an_alias_still_load() {
    let db = Database::open(MemoryStorage::new()).unwrap();
    let conn = db.connect().unwrap();
    let account = P::new(v1::Account { balance: 3 });
    let account_oid = conn.add(&account).unwrap();
    conn.commit().unwrap();
    // The record version 1 wrote for its `Ledger { total: 7 }`, and one stored under the first
    // release's default name (module path and name) for the struct where it is now.
    let mut state = Vec::new();
    persistent::codec::encode_field("Ledger", &7i64, &mut state).unwrap();
    let ledger_oid = db.storage().new_oid().unwrap();
    write_raw(&**db.storage(), ledger_oid, format1_record("Ledger", &state));
    let legacy_oid = db.storage().new_oid().unwrap();
    write_raw(&**db.storage(), legacy_oid, format1_record("type_names::v2::books::Ledger", &state));

    let other = db.connect().unwrap();
    assert_eq!(other.get::<v2::books::Ledger>(ledger_oid).unwrap().total().unwrap(), 7);
    assert_eq!(other.get::<v2::books::Ledger>(legacy_oid).unwrap().total().unwrap(), 7);
    let wallet = other.get::<v2::Wallet>(account_oid).unwrap();
    assert_eq!(wallet.balance().unwrap(), 3);
    // Written again, it is stored under its new name.
    wallet.set_balance(4).unwrap();
    other.commit().unwrap();
    let third = db.connect().unwrap();
    assert_eq!(third.get::<v2::Wallet>(account_oid).unwrap().balance().unwrap(), 4);
    assert!(matches!(third.get::<v2::books::Ledger>(account_oid), Err(Error::TypeMismatch { .. })));
}

/// Two structs of one program with the same default name (`Note` here and in `clash`).
mod clash {
    use persistent::prelude::*;

    #[derive(Persistent, Default)]
    pub struct Note {
        pub text: String,
    }
}

#[derive(Persistent, Default)]
struct Note {
    words: u32,
}

#[test]
fn two_types_claiming_one_stored_name_are_a_typed_error() {
    let db = Database::open(MemoryStorage::new()).unwrap();
    let conn = db.connect().unwrap();
    conn.add(&P::new(Note { words: 2 })).unwrap();
    conn.commit().unwrap();
    let before = db.storage().last_transaction().unwrap();
    conn.add(&P::new(clash::Note { text: "hi".into() })).unwrap();
    let error = conn.commit().unwrap_err();
    match &error {
        Error::TypeNameClash { name, first, second } => {
            assert_eq!(name, "Note");
            assert!(first.ends_with("::Note") && second.ends_with("::Note") && first != second);
        }
        other => panic!("expected TypeNameClash, got {other:?}"),
    }
    assert!(error.to_string().contains("#[persistent(name"), "{error}");
    assert_eq!(db.storage().last_transaction().unwrap(), before, "nothing was written");
}
