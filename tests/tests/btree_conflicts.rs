//! Concurrent writers of one B-tree (docs/spec.md §8, §9): changes to different keys of one
//! bucket merge; the same key, or a split on one side, stays a conflict; many threads, and
//! two processes, inserting disjoint keys into one tree end with every key present, most
//! conflicts resolved rather than retried.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use persistent::btree::Sizes;
use persistent::prelude::*;
use persistent::Error;
use persistent_tests::{for_each_backend, wait_for_line, Backend, KillOnDrop, TempDir};

#[derive(Persistent, Default)]
struct Root {
    tree: PersistentBTreeMap<u32, u32>,
}

/// A backend whose root holds a tree of the keys 0, 10, 20, ... 90 with buckets of `bucket`
/// entries (one bucket for 16).
fn stored_tree(backend: &Backend, bucket: u16) {
    let conn = backend.open().connect().unwrap();
    let tree = PersistentBTreeMap::with_sizes(Sizes::new(bucket, 16));
    tree.extend((0..10).map(|n| (n * 10, n))).unwrap();
    conn.root::<Root>().unwrap().set_tree(tree).unwrap();
    conn.commit().unwrap();
}

fn tree_of(conn: &Connection) -> PersistentBTreeMap<u32, u32> {
    conn.root::<Root>().unwrap().tree().unwrap()
}

fn different_keys_of_one_bucket_merge(backend: &Backend) {
    stored_tree(backend, 16);
    let (a, b) = (backend.open().connect().unwrap(), backend.open().connect().unwrap());
    let (tree_a, tree_b) = (tree_of(&a), tree_of(&b));
    tree_a.insert(15, 1).unwrap();
    tree_a.insert(30, 33).unwrap();
    tree_b.insert(45, 2).unwrap();
    tree_b.remove(&90).unwrap();
    a.commit().unwrap();
    b.commit().unwrap();
    assert_eq!(b.conflicts_resolved(), 1);
    let c = backend.open().connect().unwrap();
    let all: Vec<(u32, u32)> = tree_of(&c).iter().unwrap().map(Result::unwrap).collect();
    let want = [(0, 0), (10, 1), (15, 1), (20, 2), (30, 33), (40, 4), (45, 2), (50, 5)];
    assert_eq!(&all[..8], &want);
    assert_eq!(all.last(), Some(&(80, 8)));
    tree_of(&c).check().unwrap();
}

fn the_same_key_on_both_sides_is_a_conflict(backend: &Backend) {
    stored_tree(backend, 16);
    for (first, second) in [(Some(1), Some(1)), (Some(1), Some(2)), (None, Some(2)), (None, None)] {
        let (a, b) = (backend.open().connect().unwrap(), backend.open().connect().unwrap());
        let change = |tree: &PersistentBTreeMap<u32, u32>, value: Option<u32>| match value {
            Some(value) => drop(tree.insert(50, value).unwrap()),
            None => drop(tree.remove(&50).unwrap()),
        };
        // Put 50 back first, so that each round starts from the same tree.
        let reset = backend.open().connect().unwrap();
        tree_of(&reset).insert(50, 5).unwrap();
        reset.commit().unwrap();
        a.abort().unwrap();
        b.abort().unwrap();
        change(&tree_of(&a), first);
        change(&tree_of(&b), second);
        a.commit().unwrap();
        let error = b.commit().expect_err("both changed key 50");
        assert!(matches!(error, Error::Conflict { .. }), "{first:?}/{second:?}: {error:?}");
        b.abort().unwrap();
    }
}

fn a_split_on_one_side_is_a_conflict(backend: &Backend) {
    stored_tree(backend, 12);
    let (a, b) = (backend.open().connect().unwrap(), backend.open().connect().unwrap());
    // Three more keys split the bucket of ten (over 12) on one side.
    for key in [1, 2, 3] {
        tree_of(&a).insert(key, key).unwrap();
    }
    tree_of(&b).insert(95, 9).unwrap();
    a.commit().unwrap();
    let error = b.commit().expect_err("a split on the other side");
    assert!(matches!(error, Error::Conflict { .. }), "{error:?}");
}

fn four_threads_inserting_disjoint_keys_end_with_every_key(backend: &Backend) {
    stored_tree(backend, 64);
    let db = backend.open();
    let (resolved, runs) = (AtomicU64::new(0), AtomicU64::new(0));
    std::thread::scope(|scope| {
        for thread in 0..4u32 {
            let (db, resolved, runs) = (db.clone(), &resolved, &runs);
            scope.spawn(move || {
                let conn = db.connect().unwrap();
                for n in 0..40u32 {
                    let key = 1000 + thread + 4 * n;
                    conn.transact(|conn| {
                        runs.fetch_add(1, Ordering::Relaxed);
                        tree_of(conn).insert(key, thread).map(drop)
                    })
                    .unwrap();
                }
                resolved.fetch_add(conn.conflicts_resolved(), Ordering::Relaxed);
            });
        }
    });
    let conn = db.connect().unwrap();
    let tree = tree_of(&conn);
    for key in 1000..1160 {
        assert_eq!(tree.get(&key).unwrap(), Some((key - 1000) % 4), "key {key}");
    }
    tree.check().unwrap();
    let retried = runs.load(Ordering::Relaxed) - 160;
    println!(
        "{}: {} conflicts resolved, {retried} transactions run again",
        backend.name(),
        resolved.load(Ordering::Relaxed)
    );
}

for_each_backend!(
    different_keys_of_one_bucket_merge,
    the_same_key_on_both_sides_is_a_conflict,
    a_split_on_one_side_is_a_conflict,
    four_threads_inserting_disjoint_keys_end_with_every_key,
);

const CHILD_ENV: &str = "PERSISTENT_TESTS_BTREE_WRITER";

/// Inserts 100 keys of its own, `first + 2 * n`, into the file's tree, one per transaction.
fn insert_keys(path: &str, first: u32) -> u64 {
    let db = Database::open(SqliteStorage::open(path).unwrap()).unwrap();
    let conn = db.connect().unwrap();
    for n in 0..100u32 {
        conn.transact(|conn| tree_of(conn).insert(first + 2 * n, first).map(drop)).unwrap();
    }
    conn.conflicts_resolved()
}

/// The child process: the odd keys.
#[test]
fn btree_writer_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    println!("\nREADY");
    let resolved = insert_keys(&path, 2001);
    println!("RESOLVED {resolved}");
}

#[test]
fn two_processes_inserting_disjoint_keys_end_with_every_key() {
    let dir = TempDir::new("btree-processes");
    let path = dir.join("data.db");
    let backend = Backend::Sqlite { dir: TempDir::new("unused"), path: path.clone() };
    stored_tree(&backend, 64);
    let path_text = path.to_str().unwrap().to_string();
    let mut child = KillOnDrop::run_test("btree_writer_child", &[(CHILD_ENV, &path_text)]);
    let (lines, reader) = child.lines();
    let mut seen = Vec::new();
    assert!(wait_for_line(&lines, "READY", Duration::from_mins(1), &mut seen), "{seen:?}");
    let resolved_here = insert_keys(&path_text, 2000);
    assert!(child.0.wait().unwrap().success(), "the child failed");
    reader.join().unwrap();
    seen.extend(lines.try_iter());
    let conn = backend.open().connect().unwrap();
    let tree = tree_of(&conn);
    for key in 2000..2200 {
        assert_eq!(tree.get(&key).unwrap(), Some(2000 + key % 2), "key {key}");
    }
    tree.check().unwrap();
    println!("two processes: {resolved_here} resolved here; child said {seen:?}");
}
