//! Two releases of one program, as two processes: the first (a child process running
//! `first_release_child`) writes `Person` records to a SQLite file; the second (this test)
//! reads them with its changed `Person`, stored under the very same default name, and writes
//! them back. The child and the parent each hold only their own `Person`, as two binaries do.

use persistent::prelude::*;
use persistent::Oid;
use persistent_tests::{KillOnDrop, TempDir};

const CHILD_ENV: &str = "PERSISTENT_TESTS_FIRST_RELEASE";

mod first_release {
    use persistent::prelude::*;

    /// No `name = ...`: stored under its default name, "Person".
    #[derive(Persistent)]
    pub struct Person {
        pub first: String,
        pub last: String,
        pub age: i32,
    }
}

mod second_release {
    use persistent::prelude::*;

    /// Also "Person": a field removed, one widened, one added, the order changed.
    #[derive(Persistent)]
    pub struct Person {
        pub age: u64,
        pub first: String,
        pub email: Option<String>,
    }
}

/// The child: the first release, writing two people and printing their oids.
#[test]
fn first_release_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let db = Database::open(SqliteStorage::open(&path).expect("open the file")).unwrap();
    let conn = db.connect().unwrap();
    for (first, last, age) in [("Ada", "Lovelace", 36), ("Alan", "Turing", 41)] {
        let person = first_release::Person { first: first.into(), last: last.into(), age };
        let oid = conn.add(&P::new(person)).unwrap();
        println!("\nOID {}", oid.0);
    }
    conn.commit().unwrap();
}

#[test]
fn records_of_the_first_release_load_in_the_second_under_the_same_default_name() {
    let dir = TempDir::new("releases");
    let path = dir.join("data.db");
    let mut child =
        KillOnDrop::run_test("first_release_child", &[(CHILD_ENV, path.to_str().unwrap())]);
    let (lines, reader) = child.lines();
    assert!(child.0.wait().unwrap().success(), "the first release failed");
    reader.join().unwrap();
    let oids: Vec<Oid> = lines
        .try_iter()
        .filter_map(|line| line.strip_prefix("OID ").map(|oid| Oid(oid.parse().unwrap())))
        .collect();
    assert_eq!(oids.len(), 2);

    let db = Database::open(SqliteStorage::open(&path).unwrap()).unwrap();
    let conn = db.connect().unwrap();
    let ada = conn.get::<second_release::Person>(oids[0]).unwrap();
    let alan = conn.get::<second_release::Person>(oids[1]).unwrap();
    assert_eq!((ada.first().unwrap().clone(), ada.age().unwrap()), ("Ada".to_string(), 36));
    assert_eq!((alan.first().unwrap().clone(), alan.age().unwrap()), ("Alan".to_string(), 41));
    assert_eq!(*ada.email().unwrap(), None);

    ada.set_email(Some("ada@example.org".into())).unwrap();
    conn.commit().unwrap();
    let again = Database::open(SqliteStorage::open(&path).unwrap()).unwrap().connect().unwrap();
    let ada = again.get::<second_release::Person>(oids[0]).unwrap();
    assert_eq!(ada.email().unwrap().as_deref(), Some("ada@example.org"));
    assert_eq!(ada.age().unwrap(), 36);
}
