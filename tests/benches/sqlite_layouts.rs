//! What a durable one-object commit costs in SQLite with other table layouts, in plain SQL
//! (no library code): the question behind `SqliteStorage`'s layout for issue 15's durable
//! commits. Each workload runs 10,000 transactions, each changing one of 1,000 stored
//! objects' 40-byte record, in WAL mode with `synchronous=FULL` (one fsync per commit):
//!
//! * `plain_update`: one rowid table updated in place, autocommit (plain rusqlite's shape);
//! * `history_preserving`: what `SqliteStorage` writes (schema version 3): a
//!   `"transaction"` row, the serial check that moves `current_object`, a new `object_state`
//!   revision, all in `BEGIN IMMEDIATE .. COMMIT`;
//! * `history_without_current_move`: the same, the serial read from `object_state` instead of
//!   moving `current_object`;
//! * `history_free`: the `"transaction"` row and the object's one revision replaced in place.
//!
//! Before timing, each layout's WAL frames per commit are counted over 1,000 commits (WAL
//! checkpoints off) and printed. Run: `cargo bench -p persistent-tests --bench sqlite_layouts`;
//! `PERSISTENT_BENCH_PAGE_SIZE=1024` (or another power of two) sets the files' page size
//! (SQLite's default is 4,096).

use divan::counter::ItemsCount;
use divan::Bencher;
use persistent_tests::TempDir;
use rusqlite::{Connection, OptionalExtension};

/// Transactions per timed sample.
const TRANSACTIONS: i64 = 10_000;

/// Objects stored before the timed part; the workloads change object `CHANGED`.
const OBJECTS: i64 = 1_000;
const CHANGED: i64 = 500;

fn main() {
    divan::main();
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Layout {
    PlainUpdate,
    HistoryPreserving,
    HistoryWithoutCurrentMove,
    HistoryFree,
}

const TABLES: &str = r#"
CREATE TABLE object_state (zoid INTEGER NOT NULL, tid INTEGER NOT NULL, state BLOB NOT NULL,
    PRIMARY KEY (zoid, tid)) WITHOUT ROWID;
CREATE TABLE current_object (zoid INTEGER PRIMARY KEY, tid INTEGER NOT NULL);
CREATE TABLE "transaction" (tid INTEGER PRIMARY KEY, username TEXT NOT NULL,
    description TEXT NOT NULL, extension BLOB NOT NULL, oids BLOB NOT NULL DEFAULT x'');
CREATE TABLE rows (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
"#;

/// A new file with `OBJECTS` objects stored at tid 1, opened as `SqliteStorage` opens its
/// files (WAL, `synchronous=FULL`).
fn database(dir: &TempDir) -> Connection {
    let conn = Connection::open(dir.join("layouts.db")).expect("open");
    conn.pragma_update(None, "auto_vacuum", "INCREMENTAL").expect("auto_vacuum");
    if let Ok(size) = std::env::var("PERSISTENT_BENCH_PAGE_SIZE") {
        let size: i64 = size.parse().expect("PERSISTENT_BENCH_PAGE_SIZE is a number");
        conn.pragma_update(None, "page_size", size).expect("page_size");
    }
    let mode: String =
        conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)).expect("WAL");
    assert_eq!(mode, "wal");
    conn.pragma_update(None, "synchronous", "FULL").expect("synchronous");
    conn.execute_batch(TABLES).expect("tables");
    conn.execute_batch("BEGIN").expect("begin");
    for zoid in 0..OBJECTS {
        let data = record(zoid);
        conn.execute("INSERT INTO object_state VALUES (?1, 1, ?2)", (zoid, &data)).expect("row");
        conn.execute("INSERT INTO current_object VALUES (?1, 1)", [zoid]).expect("row");
        conn.execute("INSERT INTO rows VALUES (?1, ?2)", (zoid, &data)).expect("row");
    }
    conn.execute(r#"INSERT INTO "transaction" VALUES (1, '', '', x'', x'')"#, []).expect("row");
    conn.execute_batch("COMMIT").expect("commit");
    conn
}

/// A 40-byte record that differs from one transaction to the next (SQLite skips writing a
/// row whose bytes do not change).
fn record(n: i64) -> Vec<u8> {
    vec![u8::try_from(n % 251).expect("below 251"); 40]
}

/// Commits transaction number `n` (its tid is `n + 2`) in `layout`.
fn commit(conn: &Connection, layout: Layout, n: i64) {
    let data = record(n);
    if layout == Layout::PlainUpdate {
        let changed = conn
            .prepare_cached("UPDATE rows SET data = ?2 WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute((CHANGED, &data)))
            .expect("update");
        assert_eq!(changed, 1);
        return;
    }
    let (previous, tid) = (n + 1, n + 2);
    conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
    let newest: i64 = conn
        .prepare_cached(r#"SELECT MAX(tid) FROM "transaction""#)
        .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
        .expect("newest tid");
    assert_eq!(newest, previous);
    conn.prepare_cached(
        r#"INSERT INTO "transaction" (tid, username, description, extension, oids)
           VALUES (?1, '', '', x'', x'01')"#,
    )
    .and_then(|mut stmt| stmt.execute([tid]))
    .expect("transaction row");
    let insert_revision = || {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO object_state (zoid, tid, state) VALUES (?1, ?2, ?3)",
        )
        .and_then(|mut stmt| stmt.execute((CHANGED, tid, &data)))
        .expect("revision")
    };
    match layout {
        Layout::HistoryPreserving => {
            let moved = conn
                .prepare_cached("UPDATE current_object SET tid = ?2 WHERE zoid = ?1 AND tid = ?3")
                .and_then(|mut stmt| stmt.execute((CHANGED, tid, previous)))
                .expect("serial check");
            assert_eq!(moved, 1);
            insert_revision();
        }
        Layout::HistoryWithoutCurrentMove => {
            let serial: Option<i64> = conn
                .prepare_cached("SELECT MAX(tid) FROM object_state WHERE zoid = ?1")
                .and_then(|mut stmt| stmt.query_row([CHANGED], |row| row.get(0)).optional())
                .expect("serial check")
                .flatten();
            assert!(serial.is_some());
            insert_revision();
        }
        Layout::HistoryFree => {
            let replaced = conn
                .prepare_cached(
                    "UPDATE object_state SET tid = ?2, state = ?3 WHERE zoid = ?1 AND tid < ?2",
                )
                .and_then(|mut stmt| stmt.execute((CHANGED, tid, &data)))
                .expect("replace");
            assert_eq!(replaced, 1);
        }
        Layout::PlainUpdate => unreachable!("handled above"),
    }
    conn.execute_batch("COMMIT").expect("commit");
}

/// WAL frames per commit over 1,000 commits, with automatic checkpoints off.
fn frames_per_commit(layout: Layout) -> f64 {
    let dir = TempDir::new("layout-frames");
    let conn = database(&dir);
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").expect("checkpoint");
    conn.pragma_update(None, "wal_autocheckpoint", 0).expect("no checkpoints");
    for n in 0..1_000 {
        commit(&conn, layout, n);
    }
    let frames: i64 =
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1)).expect("frames");
    #[allow(clippy::cast_precision_loss, reason = "a count of frames")]
    let per = frames as f64 / 1_000.0;
    per
}

fn transactions(bencher: Bencher, layout: Layout) {
    eprintln!("  {layout:?}: {:.2} WAL frames per commit", frames_per_commit(layout));
    bencher
        .counter(ItemsCount::new(usize::try_from(TRANSACTIONS).expect("small")))
        .with_inputs(|| {
            let dir = TempDir::new("layout");
            let conn = database(&dir);
            (conn, dir)
        })
        .bench_local_refs(|(conn, _dir)| {
            for n in 0..TRANSACTIONS {
                commit(conn, layout, n);
            }
        });
}

/// 10,000 autocommit updates of one row of a rowid table.
#[divan::bench(sample_size = 1, sample_count = 3)]
fn plain_update(bencher: Bencher) {
    transactions(bencher, Layout::PlainUpdate);
}

/// 10,000 commits as `SqliteStorage` writes them.
#[divan::bench(sample_size = 1, sample_count = 3)]
fn history_preserving(bencher: Bencher) {
    transactions(bencher, Layout::HistoryPreserving);
}

/// The same without moving `current_object`.
#[divan::bench(sample_size = 1, sample_count = 3)]
fn history_without_current_move(bencher: Bencher) {
    transactions(bencher, Layout::HistoryWithoutCurrentMove);
}

/// One revision per object, replaced in place, and the transaction row.
#[divan::bench(sample_size = 1, sample_count = 3)]
fn history_free(bencher: Bencher) {
    transactions(bencher, Layout::HistoryFree);
}
