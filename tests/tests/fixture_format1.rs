//! Records written by format 1 (the first release) still load: `tests/fixtures/format1.db`
//! was written by that release (see `tests/fixtures/README.md`) and is read here with the
//! same types.

use persistent::prelude::*;

#[derive(Persistent, Default)]
#[persistent(name = "fixture::Library")]
struct Library {
    name: String,
    books: PersistentList<P<Book>>,
    counts: PersistentMapping<String, u32>,
}

#[derive(Persistent, Default, Debug)]
#[persistent(name = "fixture::Book")]
struct Book {
    title: String,
    year: i32,
}

#[test]
fn a_database_written_in_format_1_still_loads() {
    let dir = persistent_tests::TempDir::new("format1");
    let path = dir.join("format1.db");
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/format1.db");
    std::fs::copy(&fixture, &path).unwrap();
    let db = Database::open(SqliteStorage::open(&path).unwrap()).unwrap();
    let conn = db.connect().unwrap();
    let library = conn.root::<Library>().unwrap();
    assert_eq!(library.name().unwrap(), "Alexandria");
    let books = library.books().unwrap().to_vec().unwrap();
    let titles: Vec<(String, i32)> =
        books.iter().map(|b| (b.title().unwrap().clone(), b.year().unwrap())).collect();
    assert_eq!(titles, [("Dune".into(), 1965), ("Emma".into(), 1815), ("Ulysses".into(), 1922)]);
    assert_eq!(library.counts().unwrap().get(&"loans".to_string()).unwrap(), Some(3));
    // A change is written in the current format, and both formats load side by side.
    books[0].set_year(1966).unwrap();
    conn.commit().unwrap();
    let other = db.connect().unwrap();
    let library = other.root::<Library>().unwrap();
    let first = library.books().unwrap().get(0).unwrap().unwrap();
    assert_eq!((first.title().unwrap().as_str(), first.year().unwrap()), ("Dune", 1966));
    let second = library.books().unwrap().get(1).unwrap().unwrap();
    assert_eq!(second.year().unwrap(), 1815);
}
