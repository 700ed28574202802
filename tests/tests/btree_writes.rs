//! What a change to a large tree writes (docs/spec.md §9): one insert into a 1,000,000-key
//! tree stores the bucket it falls in, plus the new bucket and the parents when the bucket
//! splits; never the whole tree, nor its root object unless the top node splits.

use persistent::btree::Sizes;
use persistent::prelude::*;
use persistent::storage::MemoryStorage;

#[derive(Persistent, Default)]
struct Root {
    tree: PersistentBTreeMap<i64, i64>,
}

#[test]
fn one_insert_into_a_million_key_tree_writes_the_bucket_plus_the_parents_of_a_split() {
    let db = Database::open(MemoryStorage::new()).unwrap();
    let conn = db.connect().unwrap();
    let entries = (0..1_000_000i64).map(|n| (n * 10, n));
    let tree = PersistentBTreeMap::from_sorted(entries, Sizes::default()).unwrap();
    let stats = tree.check().unwrap();
    conn.root::<Root>().unwrap().set_tree(tree).unwrap();
    conn.commit().unwrap();
    let tree = conn.root::<Root>().unwrap().tree().unwrap();

    let mut splits = 0;
    for round in 0..180i64 {
        // New keys between existing ones (which are multiples of 10), 30 in a row in each of
        // six places of the tree: a bucket of the bulk build has room for 16 more, so each
        // place splits.
        let key = (round / 30) * 1_500_000 + (round % 30) * 10 + 1;
        let before = db.storage().last_transaction().unwrap();
        assert_eq!(tree.insert(key, -1).unwrap(), None);
        conn.commit().unwrap();
        let written = db.storage().changes_since(before).unwrap().changed.len();
        assert!(written >= 1, "round {round}: nothing written");
        if written > 1 {
            splits += 1;
        }
        // A split writes the old and the new bucket and at most every inner node above.
        assert!(written <= 2 + stats.depth, "round {round}: {written} records written");
    }
    assert!(splits > 0, "no insert split a bucket");
    assert!(splits < 30, "{splits} of 180 inserts wrote more than their bucket");
    assert_eq!(tree.check().unwrap().entries, 1_000_180);
}
