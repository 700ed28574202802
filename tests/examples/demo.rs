//! The main demo, on the embedded default storage (one SQLite file):
//! `cargo run --release --example demo [path/to/file.db]`.
//!
//! It builds a small object graph of derived structs and both persistent collections,
//! commits it, opens the file again through a fresh database handle, and shows ghosts
//! loading on access and the cache evicting under a small limit. At the end it shows the
//! file through the `persistent` command-line tool (or prints the commands to run it).

use std::sync::Arc;

use persistent::prelude::*;
use persistent::SqliteStorage;
use persistent::{CacheLimits, DatabaseConfig, Result};
use persistent::{PersistentList, PersistentMapping};

/// The root: a library with its books, in order and by code.
#[derive(Persistent, Default)]
#[persistent(name = "demo::Library")]
struct Library {
    name: String,
    books: PersistentList<P<Book>>,
    by_code: PersistentMapping<String, P<Book>>,
    /// Volatile: never stored, back to 0 after every load.
    _v_visits: u32,
}

/// One book, a persistent object of its own.
#[derive(Persistent)]
#[persistent(name = "demo::Book")]
struct Book {
    title: String,
    year: u32,
    loans: u32,
}

const BOOKS: u32 = 2_000;

fn main() -> Result<()> {
    let path = std::env::args().nth(1).map_or_else(
        || std::env::temp_dir().join(format!("persistent-demo-{}.db", std::process::id())),
        std::path::PathBuf::from,
    );
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    println!("database file: {}", path.display());

    // 1. Build and commit a graph: a root, two collections, 2,000 books.
    {
        let db = Database::open(SqliteStorage::open(&path)?)?;
        let conn = db.connect()?;
        let library = conn.root::<Library>()?;
        library.set_name("City library".to_string())?;
        let (books, by_code) = (library.books()?, library.by_code()?);
        for n in 0..BOOKS {
            let book = P::new(Book { title: format!("Book {n}"), year: 1900 + n % 120, loans: 0 });
            books.push(book.clone())?;
            by_code.insert(format!("B{n:05}"), book)?;
        }
        let tid = conn.commit()?;
        println!("committed {BOOKS} books, a list and a mapping in transaction {tid}");
        let seventh = books.get(7)?.expect("a seventh book");
        println!("  stored by reachability, no add(): book 7 has oid {:?}", seventh.p_oid());
    }

    // 2. Open the file again from a fresh database handle, with a small cache.
    let config = DatabaseConfig::default().with_cache(CacheLimits::default().with_cache_size(100));
    let db = Database::open_with(Arc::new(SqliteStorage::open(&path)?), config)?;
    let conn = db.connect()?;
    let library = conn.root::<Library>()?;
    println!("reopened: '{}'", library.name()?);
    let books = library.books()?;
    let first = books.get(0)?.expect("a first book");
    println!(
        "book 0 right after loading the list: {} ({})",
        first.p_status(),
        first.p_state().value()
    );
    let title = first.title()?.clone(); // the getter's guard ends here
    println!("  reading its title loads it: {title:?} -> now {}", first.p_status());

    // 3. Touch every book: each ghost loads on access.
    let mut total_years = 0u64;
    for book in &books.read()? {
        total_years += u64::from(book.year()?);
    }
    println!(
        "read all {} books (sum of years {total_years}); non-ghosts in the cache: {}",
        books.len()?,
        conn.cache().non_ghost_count()
    );

    // 4. Change one book through the mapping; commit; the cache is swept to its limit.
    let book = library.by_code()?.get(&"B00042".to_string())?.expect("book B00042");
    book.set_loans(book.loans()? + 1)?;
    library.set__v_visits(1)?;
    println!("lent '{}': it is now {}", book.title()?, book.p_status());
    let tid = conn.commit()?;
    println!(
        "committed {tid}; after the sweep at the transaction boundary: {} non-ghosts (limit 100), \
         {} entries in the cache (ghosts the loaded list still refers to stay in the map)",
        conn.cache().non_ghost_count(),
        conn.cache().len()
    );
    println!(
        "  book 0 is a {} again; reading it reloads it: {:?}",
        first.p_status(),
        first.year()?
    );
    println!("  history of the lent book: {} revisions", conn.history(&book, 10)?.len());
    println!("done in one file: {}", path.display());
    drop((first, book, books, library, conn, db));
    show_the_tool(&path);
    Ok(())
}

/// Step 5, the command-line tool on the file just written: runs the `persistent` binary
/// if it has been built next to this example (`cargo build -p persistent-cli`), else prints
/// the commands. The demo never builds the tool itself.
fn show_the_tool(path: &std::path::Path) {
    let url = format!("sqlite:{}", path.display());
    let commands: [&[&str]; 3] = [&["info", &url], &["stats", &url], &["verify", &url]];
    // target/<profile>/examples/demo -> target/<profile>/persistent
    let tool = std::env::current_exe().ok().and_then(|exe| {
        let tool =
            exe.parent()?.parent()?.join(format!("persistent{}", std::env::consts::EXE_SUFFIX));
        tool.is_file().then_some(tool)
    });
    let Some(tool) = tool else {
        println!(
            "\nthe command-line tool shows this file (docs/guide.md, \"The command-line tool\"):"
        );
        for args in commands {
            println!("  cargo run -p persistent-cli -- {}", args.join(" "));
        }
        return;
    };
    println!("\nthe command-line tool on this file ({}):", tool.display());
    for args in commands {
        println!("$ persistent {}", args.join(" "));
        match std::process::Command::new(&tool).args(args).output() {
            Ok(output) => print!("{}", String::from_utf8_lossy(&output.stdout)),
            Err(error) => println!("  (could not run it: {error})"),
        }
    }
}
