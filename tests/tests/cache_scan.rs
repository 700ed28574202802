//! A long transaction that reads many objects stays within a small multiple of the cache
//! limit without the program sweeping (docs/spec.md §3.2): loading sweeps once more than
//! twice `cache_size` objects are loaded.

use persistent::btree::Sizes;
use persistent::prelude::*;
use persistent::storage::MemoryStorage;
use persistent::{CacheLimits, DatabaseConfig};
use persistent_tests::Item;

#[derive(Persistent, Default)]
struct Root {
    items: PersistentBTreeMap<u64, P<Item>>,
}

#[test]
fn a_scan_of_20000_objects_keeps_the_cache_near_its_limit() {
    let config = DatabaseConfig::default().with_cache(CacheLimits::default().with_cache_size(500));
    let db = Database::open_with(std::sync::Arc::new(MemoryStorage::new()), config).unwrap();
    let conn = db.connect().unwrap();
    let entries = (0..20_000u64).map(|n| (n, P::new(Item::numbered(n.cast_signed()))));
    let tree = PersistentBTreeMap::from_sorted(entries, Sizes::default()).unwrap();
    conn.root::<Root>().unwrap().set_items(tree).unwrap();
    conn.commit().unwrap();
    drop(conn);

    let conn = db.connect().unwrap();
    let items = conn.root::<Root>().unwrap().items().unwrap();
    let (mut total, mut most) = (0i64, 0);
    for entry in items.iter().unwrap() {
        let (_, item) = entry.unwrap();
        total += item.as_object().with(|item| item.n).unwrap();
        most = most.max(conn.cache().non_ghost_count());
    }
    assert_eq!(total, (0..20_000i64).sum::<i64>());
    assert!(most <= 2 * 500 + 1, "{most} objects loaded at most");
    assert!(most > 500, "the scan did load past the limit before sweeping: {most}");
}
