//! Speed of the database layer against the Python reference (`persistent`/ZODB), on objects
//! of the reference's shape (an int, a string, a float) and on both storages: the in-memory
//! `MemoryStorage` and the embedded SQLite file (`SqliteStorage`, WAL, `synchronous=FULL`).
//! Also 10,000 durable transactions by 4 threads at once (group commit).
//!
//! Workloads: loading 100,000 ghosts by access, committing 100,000 new objects in one
//! transaction, 10,000 transactions of one changed object, loading a mapping of 100,000
//! entries and reading every value; getting 100,000 objects by oid whose records are in the
//! reader's own shape, in an older version read through an upgrade function, and in an older
//! shape read by field name (docs/spec.md §7); plus the raw cost of one fsync on this disk, to
//! compare the durable transactions with. Databases are built outside the timed part. Run:
//! `cargo bench -p persistent-tests --bench database`.

#![allow(
    clippy::cast_possible_wrap,
    clippy::cast_precision_loss,
    reason = "bench code: small test values"
)]

use std::fs::File;
use std::os::unix::fs::FileExt;

use divan::counter::ItemsCount;
use divan::{black_box, Bencher};
use persistent::prelude::*;
use persistent::{Database, Oid, Persistent};
use persistent::{MapState, PersistentList, PersistentMapping};
use persistent_tests::{Backend, RowV1, RowV2, TempDir};

/// Objects in the load and bulk-commit workloads, entries in the mapping.
const OBJECTS: usize = 100_000;

/// Transactions in the one-object-per-transaction workloads.
const TRANSACTIONS: usize = 10_000;

fn main() {
    divan::main();
}

/// The reference's object: an int, a string, a float.
#[derive(persistent::Persistent, Default, Clone)]
struct Row {
    n: i64,
    name: String,
    value: f64,
}

impl Row {
    fn numbered(n: usize) -> Row {
        Row { n: n as i64, name: format!("row-{n}"), value: n as f64 * 0.5 }
    }
}

/// The root of the row workloads: the list of rows (a list is its own persistent object).
#[derive(persistent::Persistent, Default)]
struct Root {
    rows: PersistentList<P<Row>>,
}

/// The storage kind a workload runs on.
#[derive(Clone, Copy)]
enum Kind {
    Memory,
    Sqlite,
}

impl Kind {
    /// A new empty backend of this kind.
    fn backend(self) -> Backend {
        match self {
            Kind::Memory => Backend::memory(),
            Kind::Sqlite => Backend::sqlite(),
        }
    }
}

/// The list of rows under the root of a connection.
fn root_list(conn: &Connection) -> PersistentList<P<Row>> {
    let root = conn.root::<Root>().expect("the root");
    // Not the generated getter: cloning a `PersistentList` copies it into a new list.
    let handle = root.with(|root| root.rows.handle().clone()).expect("the root's list");
    PersistentList::from_handle(handle)
}

/// A backend whose root is a list of `OBJECTS` committed rows.
fn rows_database(kind: Kind) -> Backend {
    let backend = kind.backend();
    let db = backend.open();
    let conn = db.connect().expect("connect");
    root_list(&conn).extend((0..OBJECTS).map(|n| P::new(Row::numbered(n)))).expect("extend");
    conn.commit().expect("commit the rows");
    conn.close().expect("close");
    backend
}

/// A fresh database and connection over `backend`, and the rows of its root list, all
/// ghosts (the root list itself is loaded). With `room`, the cache holds every row, so that
/// the workload measures loads only; without, it has the default limit (10,000 objects) and
/// loading sweeps as it goes (docs/spec.md §3.2).
fn ghost_rows(backend: &Backend, room: bool) -> (Vec<P<Row>>, Connection, Database) {
    let db = if room {
        let cache = persistent::CacheLimits::default().with_cache_size(2 * OBJECTS);
        backend.open_with(persistent::DatabaseConfig::default().with_cache(cache))
    } else {
        backend.open()
    };
    let conn = db.connect().expect("connect");
    let rows = root_list(&conn).to_vec().expect("read the root list");
    assert_eq!(rows.len(), OBJECTS);
    assert!(rows.iter().all(|p| p.p_state() == PState::Ghost));
    (rows, conn, db)
}

/// Reads a field of each ghost row: every access loads one object from the storage.
fn load_ghosts(bencher: Bencher, kind: Kind, room: bool) {
    let backend = rows_database(kind);
    bencher
        .counter(ItemsCount::new(OBJECTS))
        .with_inputs(|| ghost_rows(&backend, room))
        .bench_local_refs(|(rows, _conn, _db)| {
            let mut sum = 0i64;
            for p in rows.iter() {
                sum += p.n().expect("load a row");
            }
            black_box(sum)
        });
}

/// Loads 100,000 ghosts by access from a `MemoryStorage` (per object).
#[divan::bench(sample_size = 1, sample_count = 10)]
fn load_ghosts_memory(bencher: Bencher) {
    load_ghosts(bencher, Kind::Memory, true);
}

/// The same scan with the default cache limit (10,000 objects): loading sweeps as it goes.
#[divan::bench(sample_size = 1, sample_count = 10)]
fn scan_100k_default_cache_memory(bencher: Bencher) {
    load_ghosts(bencher, Kind::Memory, false);
}

/// Loads 100,000 ghosts by access from a `SqliteStorage` file (per object).
#[divan::bench(sample_size = 1, sample_count = 10)]
fn load_ghosts_sqlite(bencher: Bencher) {
    load_ghosts(bencher, Kind::Sqlite, true);
}

/// Like `load_ghosts`, reading the rows' records ahead first (`Connection::prefetch`, in
/// calls of 512 oids), inside the timed part.
fn load_ghosts_prefetched(bencher: Bencher, kind: Kind) {
    let backend = rows_database(kind);
    bencher
        .counter(ItemsCount::new(OBJECTS))
        .with_inputs(|| ghost_rows(&backend, true))
        .bench_local_refs(|(rows, conn, _db)| {
            conn.prefetch(rows.iter().filter_map(|p| p.p_oid())).expect("prefetch the rows");
            let mut sum = 0i64;
            for p in rows.iter() {
                sum += p.n().expect("load a row");
            }
            black_box(sum)
        });
}

/// Loads 100,000 ghosts from a `MemoryStorage`, prefetched (per object).
#[divan::bench(sample_size = 1, sample_count = 10)]
fn load_ghosts_prefetched_memory(bencher: Bencher) {
    load_ghosts_prefetched(bencher, Kind::Memory);
}

/// Loads 100,000 ghosts from a `SqliteStorage` file, prefetched (per object).
#[divan::bench(sample_size = 1, sample_count = 10)]
fn load_ghosts_prefetched_sqlite(bencher: Bencher) {
    load_ghosts_prefetched(bencher, Kind::Sqlite);
}

/// How `storage_reads` asks for the records.
#[derive(Clone, Copy)]
enum Reads {
    /// One `load_visible` per oid, in oid order (SQLite reads ahead).
    InOrder,
    /// One `load_visible` per oid, in a fixed shuffled order (no read-ahead).
    Shuffled,
    /// `load_visible_many` calls of 512 oids.
    Many,
}

/// The storage alone: the 100,000 rows' records read at the newest snapshot as `reads`
/// says (no decoding).
fn storage_reads(bencher: Bencher, reads: Reads) {
    let (backend, mut oids) = first_release_rows(Kind::Sqlite);
    if let Reads::Shuffled = reads {
        // A fixed permutation: index i goes to i * 7919 mod n (7919 is prime, n is not a
        // multiple of it).
        let n = oids.len();
        oids = (0..n).map(|i| oids[i * 7919 % n]).collect();
    }
    bencher.counter(ItemsCount::new(OBJECTS)).with_inputs(|| backend.storage()).bench_local_refs(
        |storage| {
            // What a connection asks for: just after its snapshot, the newest tid.
            let before = TimeStamp::from_u64(storage.last_transaction().unwrap().as_u64() + 1);
            let mut bytes = 0;
            if let Reads::Many = reads {
                for chunk in oids.chunks(512) {
                    let records = storage.load_visible_many(chunk, before).unwrap();
                    bytes += records.iter().flatten().map(|r| r.data.len()).sum::<usize>();
                }
            } else {
                for oid in &oids {
                    bytes += storage.load_visible(*oid, before).unwrap().unwrap().data.len();
                }
            }
            black_box(bytes)
        },
    );
}

/// 100,000 `SqliteStorage::load_visible` calls in oid order (per record).
#[divan::bench(sample_size = 1, sample_count = 10)]
fn storage_load_visible_sqlite(bencher: Bencher) {
    storage_reads(bencher, Reads::InOrder);
}

/// The same calls in a shuffled order, where reading ahead would not pay (per record).
#[divan::bench(sample_size = 1, sample_count = 10)]
fn storage_load_visible_shuffled_sqlite(bencher: Bencher) {
    storage_reads(bencher, Reads::Shuffled);
}

/// The same records through `SqliteStorage::load_visible_many`, 512 oids a call.
#[divan::bench(sample_size = 1, sample_count = 10)]
fn storage_load_visible_many_sqlite(bencher: Bencher) {
    storage_reads(bencher, Reads::Many);
}

/// 5,000 records of 9,000 bytes (over what a read-ahead block keeps), stored straight
/// through a `SqliteStorage`, read back one `load_visible` each in oid order: a walk, so
/// the storage reads ahead, and reads each large record alone (per record).
#[divan::bench(sample_size = 1, sample_count = 10)]
fn storage_load_visible_large_sqlite(bencher: Bencher) {
    const LARGE: usize = 5_000;
    let backend = Kind::Sqlite.backend();
    let storage = backend.storage();
    let oids = storage.new_oids(LARGE).expect("oids");
    let writes = oids
        .iter()
        .map(|oid| persistent::storage::ObjectWrite::new(*oid, None, vec![7u8; 9_000]))
        .collect();
    let txn = persistent::storage::TransactionData { writes, ..Default::default() };
    storage.commit(&txn).expect("store the records");
    drop(storage);
    bencher.counter(ItemsCount::new(LARGE)).with_inputs(|| backend.storage()).bench_local_refs(
        |storage| {
            let before = TimeStamp::from_u64(storage.last_transaction().unwrap().as_u64() + 1);
            let mut bytes = 0;
            for oid in &oids {
                bytes += storage.load_visible(*oid, before).unwrap().unwrap().data.len();
            }
            black_box(bytes)
        },
    );
}

/// Commits 100,000 new rows (referenced from the new root list) in one transaction.
fn commit_new_objects(bencher: Bencher, kind: Kind) {
    bencher
        .counter(ItemsCount::new(OBJECTS))
        .with_inputs(|| {
            let backend = kind.backend();
            let db = backend.open();
            let conn = db.connect().expect("connect");
            root_list(&conn)
                .extend((0..OBJECTS).map(|n| P::new(Row::numbered(n))))
                .expect("extend");
            (conn, db, backend)
        })
        .bench_local_refs(|(conn, _db, _backend)| conn.commit().expect("commit"));
}

/// 100,000 new objects in one transaction, `MemoryStorage` (objects per second).
#[divan::bench(sample_size = 1, sample_count = 10)]
fn commit_100k_new_memory(bencher: Bencher) {
    commit_new_objects(bencher, Kind::Memory);
}

/// 100,000 new objects in one transaction, `SqliteStorage` (objects per second).
#[divan::bench(sample_size = 1, sample_count = 10)]
fn commit_100k_new_sqlite(bencher: Bencher) {
    commit_new_objects(bencher, Kind::Sqlite);
}

/// `TRANSACTIONS` commits, each changing one field of the root row.
fn one_object_transactions(bencher: Bencher, kind: Kind) {
    bencher
        .counter(ItemsCount::new(TRANSACTIONS))
        .with_inputs(|| {
            let backend = kind.backend();
            let db = backend.open();
            let conn = db.connect().expect("connect");
            let row = conn.root::<Row>().expect("the root row");
            conn.commit().expect("store the root row");
            (row, conn, db, backend)
        })
        .bench_local_refs(|(row, conn, _db, _backend)| {
            for n in 0..TRANSACTIONS {
                row.set_n(n as i64).expect("change the row");
                conn.commit().expect("commit");
            }
        });
}

/// 10,000 transactions of one changed object, `MemoryStorage` (transactions per second).
#[divan::bench(sample_size = 1, sample_count = 10)]
fn transactions_10k_memory(bencher: Bencher) {
    one_object_transactions(bencher, Kind::Memory);
}

/// 10,000 durable transactions of one changed object, `SqliteStorage` (transactions per
/// second; each commit waits for the disk).
#[divan::bench(sample_size = 1, sample_count = 3)]
fn transactions_10k_sqlite(bencher: Bencher) {
    one_object_transactions(bencher, Kind::Sqlite);
}

/// Threads of the concurrent durable workload, each committing its own row.
const THREADS: usize = 4;

/// `TRANSACTIONS` durable commits in all by `THREADS` threads, each with its own connection
/// to one database (one `SqliteStorage`) and changing its own row: the storage groups
/// concurrent commits, so they share fsyncs. Prints the mean group size.
#[divan::bench(sample_size = 1, sample_count = 3)]
fn transactions_10k_4_threads_sqlite(bencher: Bencher) {
    bencher
        .counter(ItemsCount::new(TRANSACTIONS))
        .with_inputs(|| {
            let dir = TempDir::new("threads");
            let storage = std::sync::Arc::new(
                persistent::SqliteStorage::open(dir.join("data.db")).expect("open the file"),
            );
            let db = Database::open_with(storage.clone(), persistent::DatabaseConfig::default())
                .expect("open");
            let conn = db.connect().expect("connect");
            root_list(&conn).extend((0..THREADS).map(|n| P::new(Row::numbered(n)))).expect("rows");
            conn.commit().expect("store the rows");
            (db, storage, dir)
        })
        .bench_local_refs(|(db, storage, _dir)| {
            let before = storage.commit_counts();
            std::thread::scope(|scope| {
                for thread in 0..THREADS {
                    let db = db.clone();
                    scope.spawn(move || {
                        let conn = db.connect().expect("connect");
                        let row = root_list(&conn).get(thread).expect("read").expect("a row");
                        for n in 0..TRANSACTIONS / THREADS {
                            row.set_n(n as i64).expect("change the row");
                            conn.commit().expect("commit");
                        }
                    });
                }
            });
            let after = storage.commit_counts();
            eprintln!(
                "  {} transactions in {} SQLite commits",
                after.transactions - before.transactions,
                after.groups - before.groups
            );
        });
}

/// A backend whose root is a mapping of `OBJECTS` entries `n -> n / 2`.
fn mapping_database(kind: Kind) -> Backend {
    let backend = kind.backend();
    let db = backend.open();
    let conn = db.connect().expect("connect");
    let map = PersistentMapping::from_handle(conn.root::<MapState<u64, f64>>().expect("root"));
    map.extend((0..OBJECTS as u64).map(|n| (n, n as f64 * 0.5))).expect("fill");
    conn.commit().expect("commit the mapping");
    conn.close().expect("close");
    backend
}

/// In a fresh connection, loads the root mapping and sums every value.
fn load_mapping(bencher: Bencher, kind: Kind) {
    let backend = mapping_database(kind);
    bencher
        .with_inputs(|| {
            let db = backend.open();
            let conn = db.connect().expect("connect");
            (conn, db)
        })
        .bench_local_refs(|(conn, _db)| {
            let map =
                PersistentMapping::from_handle(conn.root::<MapState<u64, f64>>().expect("root"));
            let entries = map.read().expect("load the mapping");
            assert_eq!(entries.len(), OBJECTS);
            black_box(entries.values().sum::<f64>())
        });
}

/// Loads a mapping of 100,000 entries and reads every value, `MemoryStorage`.
#[divan::bench(sample_size = 1, sample_count = 20)]
fn load_mapping_100k_memory(bencher: Bencher) {
    load_mapping(bencher, Kind::Memory);
}

/// Loads a mapping of 100,000 entries and reads every value, `SqliteStorage`.
#[divan::bench(sample_size = 1, sample_count = 20)]
fn load_mapping_100k_sqlite(bencher: Bencher) {
    load_mapping(bencher, Kind::Sqlite);
}

/// The disk's floor for durable commits: overwrite 8 bytes of a file, then `fsync`.
#[divan::bench(sample_size = 1, sample_count = 1000)]
fn fsync_8_bytes_sync_all(bencher: Bencher) {
    let dir = TempDir::new("fsync");
    let file = File::create(dir.join("probe")).expect("create the probe file");
    let mut n = 0u64;
    bencher.bench_local(|| {
        n += 1;
        file.write_all_at(&n.to_le_bytes(), 0).expect("write");
        file.sync_all().expect("fsync");
    });
}

/// The same with `fdatasync` (what SQLite calls on Linux).
#[divan::bench(sample_size = 1, sample_count = 1000)]
fn fsync_8_bytes_sync_data(bencher: Bencher) {
    let dir = TempDir::new("fdatasync");
    let file = File::create(dir.join("probe")).expect("create the probe file");
    let mut n = 0u64;
    bencher.bench_local(|| {
        n += 1;
        file.write_all_at(&n.to_le_bytes(), 0).expect("write");
        file.sync_data().expect("fdatasync");
    });
}

/// A release that added a field: reads the first release's records by field name.
#[derive(persistent::Persistent)]
#[persistent(name = "RowAdded", alias = "RowV1")]
struct RowAdded {
    n: i64,
    name: String,
    value: f64,
    seen: u32,
}

/// A backend holding `OBJECTS` first-release rows, and their oids.
fn first_release_rows(kind: Kind) -> (Backend, Vec<Oid>) {
    let backend = kind.backend();
    let db = backend.open();
    let conn = db.connect().expect("connect");
    let oids = (0..OBJECTS)
        .map(|n| {
            let row = RowV1::numbered(n);
            conn.add(&P::new(row)).expect("add a row")
        })
        .collect();
    conn.commit().expect("commit the rows");
    (backend, oids)
}

/// Gets every row by oid as a `T` in a fresh connection: each `get` loads one record.
fn get_rows<T: Persistent>(bencher: Bencher, kind: Kind) {
    let (backend, oids) = first_release_rows(kind);
    bencher
        .counter(ItemsCount::new(OBJECTS))
        .with_inputs(|| {
            let db = backend.open();
            let conn = db.connect().expect("connect");
            (conn, db)
        })
        .bench_local_refs(|(conn, _db)| {
            for oid in &oids {
                black_box(conn.get::<T>(*oid).expect("load a row"));
            }
        });
}

/// 100,000 `get`s of records in the reader's own shape, memory (the plain load).
#[divan::bench(sample_size = 1, sample_count = 10)]
fn get_100k_same_shape_memory(bencher: Bencher) {
    get_rows::<RowV1>(bencher, Kind::Memory);
}

/// The same records read through an upgrade function (a lazy upgrade), memory.
#[divan::bench(sample_size = 1, sample_count = 10)]
fn get_100k_upgraded_memory(bencher: Bencher) {
    get_rows::<RowV2>(bencher, Kind::Memory);
}

/// The same records read by field name by a release that added a field, memory.
#[divan::bench(sample_size = 1, sample_count = 10)]
fn get_100k_added_field_memory(bencher: Bencher) {
    get_rows::<RowAdded>(bencher, Kind::Memory);
}

/// 100,000 `get`s of records in the reader's own shape, file.
#[divan::bench(sample_size = 1, sample_count = 10)]
fn get_100k_same_shape_sqlite(bencher: Bencher) {
    get_rows::<RowV1>(bencher, Kind::Sqlite);
}

/// The same records read through an upgrade function, file.
#[divan::bench(sample_size = 1, sample_count = 10)]
fn get_100k_upgraded_sqlite(bencher: Bencher) {
    get_rows::<RowV2>(bencher, Kind::Sqlite);
}
