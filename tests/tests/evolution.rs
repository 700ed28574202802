//! Changing a struct whose records are stored (docs/spec.md §7): each change a user makes to
//! `Person` between two releases, written with the first release's type to a SQLite file and
//! read back with the changed type from a freshly opened database. Fields are matched by
//! name; a changed field converts exactly or is a typed error naming the type, the field and
//! both shapes; an older version goes through its upgrade function and is written back in
//! the new shape at the next commit.
//!
//! One process may not hold two types stored under one name, so each changed type here is
//! stored under a name of its own and reads the first release's records through
//! `alias = "Person"` (the test with another process reads them under the very same name).
#![allow(clippy::struct_field_names, reason = "the fields of a person: first and last name")]

use persistent::prelude::*;
use persistent::{Error, Oid};
use persistent_tests::Backend;

/// The first release.
mod v1 {
    use persistent::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
    pub struct Address {
        pub street: String,
        pub city: String,
    }

    #[derive(Persistent)]
    #[persistent(name = "Person")]
    pub struct Person {
        pub first: String,
        pub last: String,
        pub age: i32,
        pub addr: Address,
    }

    #[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
    pub enum Status {
        Open,
        Closed { reason: String },
    }

    #[derive(Persistent)]
    #[persistent(name = "Ticket")]
    pub struct Ticket {
        pub status: Status,
        pub priority: u8,
    }
}

fn ada(age: i32) -> v1::Person {
    v1::Person {
        first: "Ada".into(),
        last: "Lovelace".into(),
        age,
        addr: v1::Address { street: "St James's Square".into(), city: "London".into() },
    }
}

/// A SQLite file holding one first-release `Person`; its oid.
fn stored(person: v1::Person) -> (Backend, Oid) {
    let backend = Backend::sqlite();
    let db = backend.open();
    let conn = db.connect().unwrap();
    let oid = conn.add(&P::new(person)).unwrap();
    conn.commit().unwrap();
    (backend, oid)
}

thread_local! {
    /// The connections `read_as` opened, kept open until the test's thread ends.
    static OPEN: std::cell::RefCell<Vec<persistent::Connection>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Reads the stored object `oid` as a `T` in a freshly opened database (whose connection
/// stays open for the rest of the test).
fn read_as<T: Persistent>(backend: &Backend, oid: Oid) -> persistent::Result<P<T>> {
    let conn = backend.open().connect().unwrap();
    let person = conn.get::<T>(oid);
    OPEN.with(|open| open.borrow_mut().push(conn));
    person
}

mod added {
    use super::v1;
    use persistent::prelude::*;

    pub fn unknown() -> String {
        "unknown".into()
    }

    #[derive(Persistent)]
    #[persistent(name = "PersonAdded", alias = "Person")]
    pub struct Person {
        pub first: String,
        pub last: String,
        pub age: i32,
        pub addr: v1::Address,
        pub email: String,
        #[persistent(default = unknown)]
        pub title: String,
    }
}

#[test]
fn a_field_added_at_the_end_loads_as_its_default_or_the_given_default() {
    let (backend, oid) = stored(ada(36));
    let person = read_as::<added::Person>(&backend, oid).unwrap();
    assert_eq!(*person.first().unwrap(), "Ada");
    assert_eq!(person.age().unwrap(), 36);
    assert_eq!(*person.email().unwrap(), "");
    assert_eq!(*person.title().unwrap(), "unknown");
}

mod nested {
    use persistent::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
    pub struct Address {
        pub street: String,
        pub city: String,
        #[serde(default)]
        pub zip: String,
    }

    #[derive(Persistent)]
    #[persistent(name = "PersonNested", alias = "Person")]
    pub struct Person {
        pub first: String,
        pub last: String,
        pub age: i32,
        pub addr: Address,
    }
}

#[test]
fn a_field_added_inside_a_nested_serde_struct_loads_by_name() {
    let (backend, oid) = stored(ada(36));
    let person = read_as::<nested::Person>(&backend, oid).unwrap();
    let addr = person.addr().unwrap().clone();
    assert_eq!(
        addr,
        nested::Address {
            street: "St James's Square".into(),
            city: "London".into(),
            zip: String::new()
        }
    );
}

mod removed {
    use super::v1;
    use persistent::prelude::*;

    #[derive(Persistent)]
    #[persistent(name = "PersonNoLast", alias = "Person")]
    pub struct Middle {
        pub first: String,
        pub age: i32,
        pub addr: v1::Address,
    }

    #[derive(Persistent)]
    #[persistent(name = "PersonNoAddr", alias = "Person")]
    pub struct Last {
        pub first: String,
        pub last: String,
        pub age: i32,
    }
}

#[test]
fn a_removed_middle_or_last_field_is_ignored_and_dropped_at_the_next_write() {
    let (backend, oid) = stored(ada(36));
    let middle = read_as::<removed::Middle>(&backend, oid).unwrap();
    assert_eq!((middle.first().unwrap().clone(), middle.age().unwrap()), ("Ada".into(), 36));
    assert_eq!(middle.addr().unwrap().city, "London");
    let last = read_as::<removed::Last>(&backend, oid).unwrap();
    assert_eq!((last.last().unwrap().clone(), last.age().unwrap()), ("Lovelace".into(), 36));

    // Written again, the record holds the new shape only.
    let db = backend.open();
    let conn = db.connect().unwrap();
    let last = conn.get::<removed::Last>(oid).unwrap();
    last.set_age(37).unwrap();
    conn.commit().unwrap();
    let again = read_as::<removed::Last>(&backend, oid).unwrap();
    assert_eq!(again.age().unwrap(), 37);
    // The address was dropped from the record.
    let stored = |backend: &Backend| {
        let record = backend.storage().load(oid).unwrap().data;
        persistent::codec::record_info(oid, &record).unwrap().state_len
    };
    assert_eq!(stored(&backend), "Ada".len() + "Lovelace".len() + 3);
}

mod swapped {
    use super::v1;
    use persistent::prelude::*;

    #[derive(Persistent)]
    #[persistent(name = "PersonSwapped", alias = "Person")]
    pub struct Person {
        pub last: String,
        pub first: String,
        pub addr: v1::Address,
        pub age: i32,
    }
}

#[test]
fn swapped_fields_of_one_type_keep_their_values() {
    let (backend, oid) = stored(ada(36));
    let person = read_as::<swapped::Person>(&backend, oid).unwrap();
    assert_eq!(*person.first().unwrap(), "Ada");
    assert_eq!(*person.last().unwrap(), "Lovelace");
    assert_eq!(person.age().unwrap(), 36);
}

mod widened {
    use super::v1;
    use persistent::prelude::*;

    #[derive(Persistent)]
    #[persistent(name = "PersonU64", alias = "Person")]
    pub struct Person {
        pub first: String,
        pub last: String,
        pub age: u64,
        pub addr: v1::Address,
    }

    #[derive(Persistent)]
    #[persistent(name = "PersonAgeText", alias = "Person")]
    pub struct AgeText {
        pub age: String,
    }
}

#[test]
fn an_integer_changed_to_another_width_converts_exactly_or_is_a_typed_error() {
    let (backend, oid) = stored(ada(36));
    assert_eq!(read_as::<widened::Person>(&backend, oid).unwrap().age().unwrap(), 36);

    let (backend, oid) = stored(ada(-1));
    let error = read_as::<widened::Person>(&backend, oid).err().expect("-1 is no u64");
    let Error::SchemaMismatch { type_name, field, stored, expected, .. } = &error else {
        panic!("expected a SchemaMismatch, got {error:?}");
    };
    assert_eq!((type_name.as_str(), field.as_str()), ("PersonU64", "age"));
    assert_eq!((stored.as_str(), expected.as_str()), ("i32", "u64"));
    assert!(error.to_string().contains("age"), "{error}");

    let error = read_as::<widened::AgeText>(&backend, oid).err().expect("i32 is no String");
    assert!(
        matches!(&error, Error::SchemaMismatch { field, stored, expected, .. }
            if field == "age" && stored == "i32" && expected == "str"),
        "{error:?}"
    );
}

mod renamed {
    use super::v1;
    use persistent::prelude::*;

    #[derive(Persistent)]
    #[persistent(name = "PersonRenamed", alias = "Person")]
    pub struct Person {
        #[persistent(alias = "first")]
        pub given: String,
        #[persistent(alias = "last")]
        pub family: String,
        pub age: i32,
        pub addr: v1::Address,
    }
}

#[test]
fn a_renamed_field_reads_its_old_name_through_an_alias() {
    let (backend, oid) = stored(ada(36));
    let person = read_as::<renamed::Person>(&backend, oid).unwrap();
    assert_eq!(
        (person.given().unwrap().clone(), person.family().unwrap().clone()),
        ("Ada".to_string(), "Lovelace".to_string())
    );
}

mod without_default {
    use persistent::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
    pub struct Born(pub u16);

    #[derive(Persistent)]
    #[persistent(name = "PersonBorn", alias = "Person")]
    pub struct Person {
        pub first: String,
        pub born: Born,
    }
}

#[test]
fn an_added_field_without_a_default_is_a_typed_error_naming_type_and_field() {
    let (backend, oid) = stored(ada(36));
    let error = read_as::<without_default::Person>(&backend, oid).err().expect("no default");
    assert!(
        matches!(&error, Error::MissingField { type_name, field }
            if type_name == "PersonBorn" && field == "born"),
        "{error:?}"
    );
}

mod upgraded {
    use persistent::codec::OldFields;
    use persistent::prelude::*;

    /// Version 2 keeps one name field and the age in months.
    #[derive(Persistent)]
    #[persistent(name = "PersonV2", alias = "Person", version = 2, upgrade = from_v1)]
    pub struct Person {
        pub name: String,
        pub months: u32,
    }

    fn from_v1(old: &OldFields) -> persistent::Result<Person> {
        assert_eq!(old.version(), 1);
        let first: String = old.get("first")?;
        let last: String = old.get("last")?;
        let age: u32 = old.get("age")?;
        Ok(Person { name: format!("{first} {last}"), months: age * 12 })
    }
}

#[test]
fn an_older_version_goes_through_the_upgrade_function_and_is_rewritten_at_the_next_commit() {
    let (backend, oid) = stored(ada(36));
    let db = backend.open();
    let conn = db.connect().unwrap();
    let person = conn.get::<upgraded::Person>(oid).unwrap();
    assert_eq!(*person.name().unwrap(), "Ada Lovelace");
    assert_eq!(person.months().unwrap(), 432);
    assert_eq!(conn.history(&person, 10).unwrap().len(), 1);
    // Nothing changed by the program, yet the commit stores the upgraded state.
    conn.commit().unwrap();
    assert_eq!(conn.history(&person, 10).unwrap().len(), 2);
    let again = read_as::<upgraded::Person>(&backend, oid).unwrap();
    assert_eq!(
        (again.name().unwrap().clone(), again.months().unwrap()),
        ("Ada Lovelace".to_string(), 432)
    );
}

mod enums {
    use persistent::prelude::*;
    use serde::{Deserialize, Serialize};

    /// A variant inserted in the middle: the stored variant index 1 (`Closed`) is now 2.
    #[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
    pub enum Status {
        Open,
        Waiting { on: String },
        Closed { reason: String },
    }

    #[derive(Persistent)]
    #[persistent(name = "TicketWaiting", alias = "Ticket")]
    pub struct Ticket {
        pub status: Status,
        pub priority: u8,
    }
}

#[test]
fn an_enum_variant_inserted_in_the_middle_reads_the_stored_variant_by_name() {
    let backend = Backend::sqlite();
    let conn = backend.open().connect().unwrap();
    let closed = v1::Status::Closed { reason: "fixed".into() };
    let oid = conn.add(&P::new(v1::Ticket { status: closed, priority: 2 })).unwrap();
    conn.commit().unwrap();
    let ticket = read_as::<enums::Ticket>(&backend, oid).unwrap();
    assert_eq!(*ticket.status().unwrap(), enums::Status::Closed { reason: "fixed".into() });
    assert_eq!(ticket.priority().unwrap(), 2);
}

#[test]
fn a_record_of_a_type_the_program_no_longer_has_names_the_type_and_the_oid() {
    let (backend, oid) = stored(ada(36));
    let error = read_as::<v1::Ticket>(&backend, oid).err().expect("a Person is no Ticket");
    assert!(
        matches!(&error, Error::TypeMismatch { oid: at, found, .. } if *at == oid && found == "Person"),
        "{error:?}"
    );
}

#[test]
fn an_unchanged_type_reads_its_records_and_writes_no_new_schema() {
    let (backend, oid) = stored(ada(36));
    let db = backend.open();
    let conn = db.connect().unwrap();
    let person = conn.get::<v1::Person>(oid).unwrap();
    assert_eq!(person.addr().unwrap().clone(), ada(36).addr);
    person.set_age(37).unwrap();
    let before = db.storage().last_transaction().unwrap();
    let tid = conn.commit().unwrap();
    // One transaction: the schema was registered by the first write, not again.
    assert!(tid > before);
    let log = db.storage().changes_since(before).unwrap();
    assert_eq!(log.changed.len(), 1, "{:?}", log.changed);
}

#[test]
fn migrate_rewrites_every_object_of_the_type_in_batches_and_a_second_pass_finds_none() {
    let backend = Backend::sqlite();
    let db = backend.open();
    let conn = db.connect().unwrap();
    let mut people = Vec::new();
    for age in 0..25 {
        people.push(conn.add(&P::new(ada(age))).unwrap());
        // Objects of another type are looked at and left alone.
        let status = v1::Status::Open;
        conn.add(&P::new(v1::Ticket { status, priority: 1 })).unwrap();
    }
    conn.commit().unwrap();

    let db = backend.open();
    let mut seen = Vec::new();
    let done = db.migrate::<added::Person>(10, |progress| seen.push(*progress)).unwrap();
    assert_eq!(done.rewritten, 25);
    assert!(done.scanned >= 50);
    assert_eq!(seen.len(), usize::try_from(done.scanned.div_ceil(10)).unwrap());
    assert!(seen.windows(2).all(|pair| pair[0].scanned < pair[1].scanned));
    for (age, oid) in (0..).zip(&people) {
        let record = db.storage().load(*oid).unwrap().data;
        let info = persistent::codec::record_info(*oid, &record).unwrap();
        assert_eq!((info.format, info.type_name.as_str()), (2, "PersonAdded"));
        let person = read_as::<added::Person>(&backend, *oid).unwrap();
        assert_eq!(
            (person.age().unwrap(), person.title().unwrap().clone()),
            (age, "unknown".to_string())
        );
    }
    let again = backend.open().migrate::<added::Person>(10, |_| {}).unwrap();
    assert_eq!(again.rewritten, 0);
}

#[test]
fn migrate_stops_at_an_object_that_does_not_convert_and_keeps_the_batches_before_it() {
    let backend = Backend::sqlite();
    let conn = backend.open().connect().unwrap();
    let good = conn.add(&P::new(ada(36))).unwrap();
    conn.commit().unwrap();
    let bad = conn.add(&P::new(ada(-5))).unwrap();
    conn.commit().unwrap();
    let error = backend.open().migrate::<widened::Person>(1, |_| {}).expect_err("-5 is no u64");
    assert!(matches!(error, Error::SchemaMismatch { .. }), "{error:?}");
    let storage = backend.storage();
    let info = |oid| persistent::codec::record_info(oid, &storage.load(oid).unwrap().data).unwrap();
    assert_eq!(info(good).type_name, "PersonU64");
    assert_eq!(info(bad).type_name, "Person");
}

mod holders {
    use super::v1;
    use persistent::prelude::*;

    #[derive(Persistent)]
    #[persistent(name = "Holder")]
    pub struct Holder {
        pub label: String,
        pub ticket: P<v1::Ticket>,
    }

    /// What the program has now instead of `Ticket`.
    #[derive(Persistent, Default)]
    #[persistent(name = "Replacement")]
    pub struct Replacement {
        pub x: u8,
    }

    #[derive(Persistent)]
    #[persistent(name = "HolderV2", alias = "Holder")]
    pub struct HolderV2 {
        pub label: String,
        pub ticket: P<Replacement>,
    }
}

#[test]
fn a_referrer_of_a_record_whose_type_is_gone_still_loads_and_the_reference_names_type_and_oid() {
    let backend = Backend::sqlite();
    let conn = backend.open().connect().unwrap();
    let ticket = P::new(v1::Ticket { status: v1::Status::Open, priority: 3 });
    let holder = P::new(holders::Holder { label: "desk".into(), ticket });
    let oid = conn.add(&holder).unwrap();
    conn.commit().unwrap();
    let ticket_oid = holder.ticket().unwrap().as_object().p_oid().unwrap();

    let holder = read_as::<holders::HolderV2>(&backend, oid).unwrap();
    assert_eq!(*holder.label().unwrap(), "desk");
    let error = holder.ticket().unwrap().x().expect_err("a Ticket is no Replacement");
    assert!(
        matches!(&error, Error::TypeMismatch { oid: at, found, .. }
            if *at == ticket_oid && found == "Ticket"),
        "{error:?}"
    );
}

#[test]
fn a_record_naming_a_schema_the_database_lacks_is_a_corrupt_record() {
    let (backend, oid) = stored(ada(36));
    let storage = backend.storage();
    let mut record = storage.load(oid).unwrap().data;
    // [2][6]["Person"][schema number] ... [CRC-32C]: name the schema 99, with a good checksum.
    assert_eq!((record[0], record[1], &record[2..8]), (2, 6, &b"Person"[..]));
    record[8] = 99;
    let body = record.len() - 4;
    let checksum = crc32c::crc32c(&record[..body]);
    record[body..].copy_from_slice(&checksum.to_le_bytes());
    persistent_tests::write_raw(&*storage, oid, record);
    let error = read_as::<added::Person>(&backend, oid).err().expect("no schema 99");
    assert!(
        matches!(&error, Error::CorruptRecord { oid: at, message } if *at == oid && message.contains("99")),
        "{error:?}"
    );
}
