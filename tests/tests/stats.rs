//! Statistics (docs/spec.md §6.1), on `MemoryStorage` and `SqliteStorage`: a connection
//! counts its loads, stores, cache hits and misses, evictions and commits as the spec
//! defines them; conflicts seen and resolved and `transact` retries are counted; the
//! database sums its connections at their transaction boundaries, dropped ones included.

use std::time::Duration;

use persistent::prelude::*;
use persistent::{CacheLimits, ConnectionStats, DatabaseConfig};
use persistent_tests::{for_each_backend, Backend, Item};

for_each_backend!(
    a_connection_counts_what_it_did,
    the_database_sums_its_connections_at_boundaries,
    conflicts_seen_and_resolved_are_counted,
    transact_retries_are_counted,
);

#[derive(Persistent, Default)]
struct Root {
    items: PersistentList<P<Item>>,
}

const ITEMS: u64 = 100;

/// A database with a cache of 10 objects whose root lists `ITEMS` items; the oids of the
/// items.
fn database(backend: &Backend) -> (Database, Vec<Oid>) {
    let config = DatabaseConfig::default().with_cache(CacheLimits::default().with_cache_size(10));
    let db = backend.open_with(config);
    let conn = db.connect().unwrap();
    let items = conn.root::<Root>().unwrap().items().unwrap();
    items.extend((0..ITEMS).map(|n| P::new(Item::numbered(n.cast_signed())))).unwrap();
    conn.commit().unwrap();
    let oids = items.to_vec().unwrap().iter().map(|p| p.p_oid().unwrap()).collect();
    (db, oids)
}

fn a_connection_counts_what_it_did(backend: &Backend) {
    let (db, oids) = database(backend);
    let conn = db.connect().unwrap();
    assert_eq!(conn.stats(), ConnectionStats::default(), "a new connection has counted nothing");

    // The root: a miss and a load; the list: a miss (decoded reference), then a load when
    // read; each item: a miss (decoded from the list) and a load on access.
    let items = conn.root::<Root>().unwrap().items().unwrap().to_vec().unwrap();
    let mut sum = 0;
    for item in &items {
        sum += item.with(|item| item.n).unwrap();
    }
    assert_eq!(sum, (0..ITEMS.cast_signed()).sum::<i64>());
    let stats = conn.stats();
    assert_eq!(stats.cache_misses, 2 + ITEMS, "{stats:?}");
    assert_eq!(stats.cache_hits, 0, "{stats:?}");
    assert_eq!(stats.loads, 2 + ITEMS, "{stats:?}");
    // Loading sweeps past twice the limit of 10: most items were made ghosts again.
    assert!(stats.evictions >= ITEMS - 30, "{stats:?}");
    assert_eq!(stats.evictions, conn.cache().evictions());

    // Asking for a cached object by oid is a hit, loaded or not; reading an evicted item
    // loads it again.
    let first = conn.get::<Item>(oids[0]).unwrap();
    assert_eq!(first.p_state(), PState::Ghost, "the first item was evicted by now");
    assert_eq!(conn.stats().cache_hits, 1);
    first.with(|item| item.n).unwrap();
    assert_eq!(conn.stats().loads, stats.loads + 1);

    // A commit with nothing to write is not a commit; one that writes counts its records.
    conn.commit().unwrap();
    assert_eq!(conn.stats().commits, 0);
    first.update(|item| item.n += 1).unwrap();
    items[1].update(|item| item.n += 1).unwrap();
    let started = std::time::Instant::now();
    conn.commit().unwrap();
    let took = started.elapsed();
    let stats = conn.stats();
    assert_eq!((stats.commits, stats.stores), (1, 2), "{stats:?}");
    assert!(stats.commit_time > Duration::ZERO && stats.commit_time <= took, "{stats:?}");
    assert_eq!((stats.conflicts, stats.conflicts_resolved, stats.retries), (0, 0, 0));
}

fn the_database_sums_its_connections_at_boundaries(backend: &Backend) {
    let (db, oids) = database(backend);
    let after_setup = db.stats();
    assert_eq!(after_setup.connections, 1);
    assert_eq!(after_setup.commits, 1);
    assert_eq!(after_setup.stores, 2 + ITEMS, "root, list and items: {after_setup:?}");

    let conn = db.connect().unwrap();
    for oid in &oids[..5] {
        conn.get::<Item>(*oid).unwrap();
    }
    assert_eq!(conn.stats().loads, 5);
    assert_eq!(db.stats().loads, after_setup.loads, "not added before a boundary");
    conn.abort().unwrap();
    assert_eq!(db.stats().loads, after_setup.loads + 5, "added at the boundary");

    // A dropped connection adds what it did since its last boundary.
    conn.get::<Item>(oids[6]).unwrap();
    drop(conn);
    let closed = db.connect().unwrap();
    closed.get::<Item>(oids[7]).unwrap();
    closed.close().unwrap();
    let stats = db.stats();
    assert_eq!(stats.loads, after_setup.loads + 7, "{stats:?}");
    assert_eq!(stats.connections, 3);
    assert_eq!(stats.cache_misses, after_setup.cache_misses + 7);
    // The clones of a database share its totals.
    assert_eq!(db.clone().stats(), stats);
}

fn conflicts_seen_and_resolved_are_counted(backend: &Backend) {
    let db = backend.open();
    let setup = db.connect().unwrap();
    let length = setup.add(&P::new(Length::new(0))).unwrap();
    let item = setup.add(&P::new(Item::numbered(1))).unwrap();
    setup.commit().unwrap();

    // A Length merges: one conflict seen, one resolved.
    let (a, b) = (db.connect().unwrap(), db.connect().unwrap());
    a.get::<Length>(length).unwrap().add(1).unwrap();
    b.get::<Length>(length).unwrap().add(2).unwrap();
    a.commit().unwrap();
    b.commit().unwrap();
    let stats = b.stats();
    assert_eq!((stats.conflicts, stats.conflicts_resolved, stats.commits), (1, 1, 1));
    assert_eq!(b.conflicts_resolved(), 1);

    // An item does not: the conflict is seen, not resolved, and no commit is counted.
    a.get::<Item>(item).unwrap().update(|item| item.n += 1).unwrap();
    b.get::<Item>(item).unwrap().update(|item| item.n += 2).unwrap();
    a.commit().unwrap();
    assert!(b.commit().unwrap_err().is_conflict());
    b.abort().unwrap();
    let stats = b.stats();
    assert_eq!((stats.conflicts, stats.conflicts_resolved, stats.commits), (2, 1, 1));
    drop((a, b));
    let totals = db.stats();
    assert_eq!((totals.conflicts, totals.conflicts_resolved), (2, 1));
}

fn transact_retries_are_counted(backend: &Backend) {
    let db = backend.open();
    let setup = db.connect().unwrap();
    let oid = setup.add(&P::new(Item::numbered(0))).unwrap();
    setup.commit().unwrap();

    let conn = db.connect().unwrap();
    let mut attempts = 0;
    conn.transact(|conn| {
        attempts += 1;
        conn.get::<Item>(oid)?.update(|item| item.n += 1)?;
        if attempts == 1 {
            // Another writer gets in first: this attempt's commit conflicts.
            setup.get::<Item>(oid)?.update(|item| item.n += 10)?;
            setup.commit()?;
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(attempts, 2);
    let stats = conn.stats();
    assert_eq!((stats.retries, stats.conflicts, stats.commits), (1, 1, 1), "{stats:?}");
    assert_eq!(db.stats().retries, 1);
}
