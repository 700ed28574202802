//! The code `#[derive(Persistent)]` generates is warning-free under strict lints (in the
//! manner of thiserror's `tests/test_lints.rs`): this file denies every warning, the missing
//! documentation lints, clippy's `all` and `pedantic` groups and a set of allow-by-default
//! rustc lints, then derives structs covering every attribute and field shape the derive
//! accepts: public and private structs and fields, volatile fields (`_v_` and
//! `#[persistent(volatile)]`), `no_getter`, `copy`, `name = ...`, `repr = ...`,
//! `Option<P<T>>`, a `PersistentList` field and raw identifiers. The file compiles with
//! zero warnings under `cargo clippy -p persistent-tests --all-targets -- -D warnings` and
//! `cargo test`; the tests below also call the generated accessors so that none is unused.
//!
//! What this checks is what a user sees: rustc and clippy leave most lints unreported inside
//! the expansion of another crate's proc macro. The one lint the file allows is on a field
//! declaration the user writes, not on generated code (see `Account::_v_hits`).

#![deny(
    warnings,
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unused_qualifications,
    unreachable_pub,
    unused_lifetimes,
    single_use_lifetimes,
    trivial_casts,
    trivial_numeric_casts,
    unused_import_braces,
    future_incompatible,
    nonstandard_style,
    clippy::all,
    clippy::pedantic,
    clippy::missing_docs_in_private_items
)]

use std::cell::RefCell;

use persistent::prelude::*;
use persistent::storage::MemoryStorage;
use persistent::PObject;
use serde::{Deserialize, Serialize};

/// A user-defined `Copy` value stored in a field marked `#[persistent(copy)]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    /// Horizontal.
    pub x: i32,
    /// Vertical.
    pub y: i32,
}

/// A public struct with every kind of field: public, crate-visible and private ones,
/// volatile ones, one without a getter, one returned by copy, raw identifiers, a reference
/// to another persistent object and a persistent list.
#[derive(Debug, Default, Persistent)]
pub struct Account {
    /// A public field (its getter returns a guard).
    pub owner: String,
    /// A public `Copy` field (its getter returns a copy).
    pub balance: i64,
    /// A crate-visible field.
    pub(crate) history: Vec<i64>,
    /// A private field: its accessors are private too.
    note: String,
    /// Volatile by its `_v_` prefix. A public field named `_...` trips
    /// `clippy::pub_underscore_fields` (pedantic) on this declaration, which the user writes:
    /// not generated code, but the price of the `_v_` convention (report item 1).
    #[allow(clippy::pub_underscore_fields)]
    pub _v_hits: u64,
    /// Volatile by attribute.
    #[persistent(volatile)]
    pub scratch: Vec<u8>,
    /// A field without a getter.
    #[persistent(no_getter)]
    pub cell: RefCell<i64>,
    /// A user `Copy` type returned by copy.
    #[persistent(copy)]
    pub corner: Point,
    /// A raw identifier with a `Copy` type.
    pub r#type: u8,
    /// A raw identifier with a non-`Copy` type.
    pub r#loop: String,
    /// An optional reference to another persistent object.
    pub owner_record: Option<P<Owner>>,
    /// A persistent list.
    pub entries: PersistentList<u32>,
}

/// The object an `Account` refers to, with a stable stored name and a custom representation.
#[derive(Debug, Default, Persistent)]
#[persistent(name = "lints::Owner", repr = show_owner)]
pub struct Owner {
    /// The owner's name.
    pub name: String,
}

/// The representation hook of `Owner`.
fn show_owner(object: &PObject<Owner>) -> Result<String, String> {
    object.with(|owner| format!("<Owner {}>", owner.name)).map_err(|error| error.to_string())
}

/// A private struct with private fields, a volatile one among them, and a representation
/// hook named by a string path.
#[derive(Debug, Default, Persistent)]
#[persistent(repr = "hooks::show_hidden")]
struct Hidden {
    /// A private field.
    count: u32,
    /// A private volatile field.
    _v_seen: bool,
}

/// Representation hooks reached by a path.
mod hooks {
    use persistent::PObject;

    /// The representation hook of `Hidden`.
    pub(crate) fn show_hidden(object: &PObject<super::Hidden>) -> Result<String, String> {
        object
            .with(|hidden| format!("<Hidden {}>", hidden.count))
            .map_err(|error| error.to_string())
    }
}

/// A struct whose fields are all volatile: its stored state is empty.
#[derive(Debug, Default, Persistent)]
pub struct Scratch {
    /// Volatile by prefix (private: see `Account::_v_hits` for a public one).
    _v_a: u8,
    /// Volatile by attribute, without a getter.
    #[persistent(volatile, no_getter)]
    pub b: Vec<u8>,
}

/// Every generated accessor of `Account` reads and writes its field.
#[test]
fn the_accessors_of_every_field_kind() {
    let account = P::new(Account::default());
    account.set_owner("ann".into()).unwrap();
    account.set_balance(5).unwrap();
    account.set_history(vec![1, 2]).unwrap();
    account.set_note("private".into()).unwrap();
    account.set__v_hits(3).unwrap();
    account.set_scratch(vec![9]).unwrap();
    account.set_cell(RefCell::new(4)).unwrap();
    account.set_corner(Point { x: 1, y: 2 }).unwrap();
    account.set_type(7).unwrap();
    account.set_loop("again".into()).unwrap();
    account.set_owner_record(Some(P::new(Owner { name: "ann".into() }))).unwrap();
    account.entries().unwrap().push(11).unwrap();

    assert_eq!(*account.owner().unwrap(), "ann");
    assert_eq!(account.balance().unwrap(), 5);
    assert_eq!(*account.history().unwrap(), [1, 2]);
    assert_eq!(*account.note().unwrap(), "private");
    assert_eq!(account._v_hits().unwrap(), 3);
    assert_eq!(*account.scratch().unwrap(), [9]);
    assert_eq!(account.with(|state| *state.cell.borrow()).unwrap(), 4);
    assert_eq!(account.corner().unwrap(), Point { x: 1, y: 2 });
    assert_eq!(account.r#type().unwrap(), 7);
    assert_eq!(*account.r#loop().unwrap(), "again");
    let owner = account.owner_record().unwrap().clone().unwrap();
    assert_eq!(*owner.name().unwrap(), "ann");
    assert_eq!(account.entries().unwrap().to_vec().unwrap(), [11]);
}

/// The stored names and the representation hooks.
#[test]
fn names_and_representations() {
    assert_eq!(Owner::TYPE_NAME, "lints::Owner");
    assert_eq!(Hidden::TYPE_NAME, "Hidden");
    let owner = P::new(Owner { name: "bo".into() });
    owner.set_name("cy".into()).unwrap();
    assert_eq!(format!("{:?}", owner.as_object()), "<Owner cy>");
    let hidden = P::new(Hidden::default());
    hidden.set_count(hidden.count().unwrap() + 1).unwrap();
    hidden.set__v_seen(true).unwrap();
    assert!(hidden._v_seen().unwrap());
    assert_eq!(format!("{:?}", hidden.as_object()), "<Hidden 1>");
}

/// A struct of volatile fields stores nothing, and the fields survive a round trip through
/// a database with their defaults.
#[test]
fn volatile_only_and_a_database_round_trip() {
    let scratch = P::new(Scratch::default());
    scratch.set__v_a(1).unwrap();
    scratch.set_b(vec![2]).unwrap();
    assert_eq!(scratch._v_a().unwrap(), 1);
    assert!(scratch.p_getstate().unwrap().is_empty());

    let db = Database::open(MemoryStorage::new()).unwrap();
    let conn = db.connect().unwrap();
    let account = conn.root::<Account>().unwrap();
    account.set_owner_record(Some(P::new(Owner { name: "di".into() }))).unwrap();
    account.set__v_hits(9).unwrap();
    account.entries().unwrap().push(1).unwrap();
    conn.commit().unwrap();

    let other = db.connect().unwrap();
    let account = other.root::<Account>().unwrap();
    let owner = account.owner_record().unwrap().clone().unwrap();
    assert_eq!(*owner.name().unwrap(), "di");
    assert_eq!(account._v_hits().unwrap(), 0, "volatile fields are not stored");
    assert_eq!(account.entries().unwrap().to_vec().unwrap(), [1]);
}
