//! `PersistentBTreeMap` against `std::collections::BTreeMap` as the model (docs/spec.md §9):
//! random sequences of insert, remove, get, range, pop, commit, abort and reopen (a new
//! database over the same stored data), on memory and SQLite, with tiny buckets and nodes so
//! that splits, unlinks and collapses happen often. After every step the tree's contents
//! equal the model's and its invariants hold (`PersistentBTreeMap::check`: sorted, sizes
//! within bounds, no empty bucket, one depth, links visiting the leaves in order).

use std::collections::BTreeMap;

use persistent::btree::Sizes;
use persistent::prelude::*;
use persistent_tests::Backend;
use proptest::prelude::*;

#[derive(Persistent, Default)]
struct Root {
    tree: PersistentBTreeMap<i16, u32>,
}

#[derive(Clone, Debug)]
enum Op {
    Insert(i16, u32),
    Remove(i16),
    Get(i16),
    Range(i16, i16),
    PopFirst,
    PopLast,
    Commit,
    Abort,
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    let key = -40i16..40;
    prop_oneof![
        8 => (key.clone(), any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
        4 => key.clone().prop_map(Op::Remove),
        2 => key.clone().prop_map(Op::Get),
        1 => (key.clone(), key).prop_map(|(a, b)| Op::Range(a.min(b), a.max(b))),
        1 => Just(Op::PopFirst),
        1 => Just(Op::PopLast),
        2 => Just(Op::Commit),
        1 => Just(Op::Abort),
        1 => Just(Op::Reopen),
    ]
}

/// The tree under the root of a new connection to `backend`.
fn open(backend: &Backend) -> (Connection, PersistentBTreeMap<i16, u32>) {
    let conn = backend.open().connect().unwrap();
    let tree = conn.root::<Root>().unwrap().tree().unwrap();
    (conn, tree)
}

fn run(backend: &Backend, ops: &[Op]) {
    {
        let conn = backend.open().connect().unwrap();
        let root = conn.root::<Root>().unwrap();
        root.set_tree(PersistentBTreeMap::with_sizes(Sizes::new(4, 4))).unwrap();
        conn.commit().unwrap();
    }
    let (mut conn, mut tree) = open(backend);
    let mut committed: BTreeMap<i16, u32> = BTreeMap::new();
    let mut model = committed.clone();
    for (step, op) in ops.iter().enumerate() {
        match op {
            Op::Insert(key, value) => {
                assert_eq!(tree.insert(*key, *value).unwrap(), model.insert(*key, *value));
            }
            Op::Remove(key) => assert_eq!(tree.remove(key).unwrap(), model.remove(key)),
            Op::Get(key) => assert_eq!(tree.get(key).unwrap(), model.get(key).copied()),
            Op::Range(low, high) => {
                let got: Vec<(i16, u32)> =
                    tree.range(*low..*high).unwrap().collect::<Result<_, _>>().unwrap();
                let want: Vec<(i16, u32)> =
                    model.range(*low..*high).map(|(k, v)| (*k, *v)).collect();
                assert_eq!(got, want);
            }
            Op::PopFirst => assert_eq!(tree.pop_first().unwrap(), model.pop_first()),
            Op::PopLast => assert_eq!(tree.pop_last().unwrap(), model.pop_last()),
            Op::Commit => {
                conn.commit().unwrap();
                committed = model.clone();
            }
            Op::Abort => {
                conn.abort().unwrap();
                model = committed.clone();
            }
            Op::Reopen => {
                drop((tree, conn));
                (conn, tree) = open(backend);
                model = committed.clone();
            }
        }
        let stats = tree.check().unwrap_or_else(|e| panic!("step {step} {op:?}: {e}"));
        assert_eq!(stats.entries, model.len(), "step {step} {op:?}");
        let all: Vec<(i16, u32)> = tree.iter().unwrap().collect::<Result<_, _>>().unwrap();
        let want: Vec<(i16, u32)> = model.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(all, want, "step {step} {op:?}");
        assert_eq!(tree.len().unwrap(), model.len());
        assert_eq!(tree.first().unwrap(), model.first_key_value().map(|(k, v)| (*k, *v)));
        assert_eq!(tree.last().unwrap(), model.last_key_value().map(|(k, v)| (*k, *v)));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn a_tree_in_memory_behaves_as_btreemap(ops in prop::collection::vec(op(), 1..120)) {
        run(&Backend::memory(), &ops);
    }

    #[test]
    fn a_tree_in_sqlite_behaves_as_btreemap(ops in prop::collection::vec(op(), 1..120)) {
        run(&Backend::sqlite(), &ops);
    }
}

#[test]
fn a_bulk_built_tree_holds_its_entries_and_refuses_unsorted_input() {
    let backend = Backend::memory();
    let conn = backend.open().connect().unwrap();
    let entries = (0..10_000i32).map(|n| (n * 2, n));
    let tree = PersistentBTreeMap::from_sorted(entries, Sizes::new(16, 8)).unwrap();
    let stats = tree.check().unwrap();
    assert_eq!(stats.entries, 10_000);
    assert!(stats.depth >= 3, "{stats:?}");
    assert_eq!(tree.get(&1998).unwrap(), Some(999));
    assert_eq!(tree.get(&1999).unwrap(), None);
    let root = conn.root::<BulkRoot>().unwrap();
    root.set_tree(tree).unwrap();
    conn.commit().unwrap();
    let other = backend.open().connect().unwrap();
    let tree = other.root::<BulkRoot>().unwrap().tree().unwrap();
    assert_eq!(tree.check().unwrap().entries, 10_000);
    let middle: Vec<i32> = tree.range(100..110).unwrap().map(|entry| entry.unwrap().1).collect();
    assert_eq!(middle, vec![50, 51, 52, 53, 54]);

    let unsorted = [(1, 1), (3, 3), (2, 2)];
    assert!(matches!(
        PersistentBTreeMap::from_sorted(unsorted, Sizes::default()),
        Err(persistent::Error::NotSorted { position: 2 })
    ));
}

#[derive(Persistent, Default)]
struct BulkRoot {
    tree: PersistentBTreeMap<i32, i32>,
}
