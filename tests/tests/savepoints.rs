//! Savepoints (docs/spec.md §13), on `MemoryStorage` and `SqliteStorage`: a model-based
//! property test of changes, new objects, savepoints, rollbacks, commits and aborts; the
//! typed error of an invalidated savepoint; new objects forgotten by a rollback; and the
//! memory rule (a big transaction with savepoints keeps its cache within its limits).

use persistent::prelude::*;
use persistent::{CacheLimits, Database, DatabaseConfig, Error, Savepoint};
use persistent_tests::{for_each_backend, Backend, Item, Node};
use proptest::prelude::*;

for_each_backend!(
    invalidated_savepoints_are_a_typed_error,
    objects_added_after_a_savepoint_lose_their_oid,
    rollback_restores_spilled_and_evicted_states,
    commit_after_rollback_stores_the_savepoint_state,
);

/// A database whose connections keep at most `size` non-ghost objects after a sweep.
fn open_small(backend: &Backend, size: usize) -> Database {
    backend.open_with(
        DatabaseConfig::default().with_cache(CacheLimits::default().with_cache_size(size)),
    )
}

/// The root's value followed by its children's values, read through the root.
fn values(conn: &Connection) -> Vec<i64> {
    let root = conn.root::<Node>().unwrap();
    let (value, children) = root.with(|r| (r.value, r.children.clone())).unwrap();
    let mut out = vec![value];
    for child in children {
        out.push(child.with(|n| n.value).unwrap());
    }
    out
}

fn invalidated_savepoints_are_a_typed_error(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    conn.commit().unwrap();

    let first = conn.savepoint().unwrap();
    root.update(|r| r.value = 1).unwrap();
    let second = conn.savepoint().unwrap();
    root.update(|r| r.value = 2).unwrap();
    first.rollback().unwrap();
    assert!(matches!(second.rollback(), Err(Error::InvalidSavepoint)), "a later savepoint");
    assert!(!second.is_valid());
    assert!(first.is_valid(), "the savepoint rolled back to stays valid");
    first.rollback().unwrap();

    let after_commit = conn.savepoint().unwrap();
    conn.commit().unwrap();
    assert!(matches!(after_commit.rollback(), Err(Error::InvalidSavepoint)), "after commit");
    assert!(matches!(first.rollback(), Err(Error::InvalidSavepoint)));

    let after_abort = conn.savepoint().unwrap();
    conn.abort().unwrap();
    assert!(matches!(conn.rollback(&after_abort), Err(Error::InvalidSavepoint)), "after abort");

    let other = db.connect().unwrap();
    let foreign = other.savepoint().unwrap();
    assert!(matches!(conn.rollback(&foreign), Err(Error::InvalidSavepoint)), "another conn");
}

fn objects_added_after_a_savepoint_lose_their_oid(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    let kept = P::new(Node::new("kept", 1));
    root.update(|r| r.children.push(kept.clone())).unwrap();
    let sp = conn.savepoint().unwrap();
    assert!(kept.p_oid().is_some(), "reachable at the savepoint: added");
    let explicit = P::new(Node::new("explicit", 2));
    conn.add(&explicit).unwrap();
    let reached = P::new(Node::new("reached", 3));
    root.update(|r| r.children.push(reached.clone())).unwrap();
    conn.savepoint().unwrap();
    assert!(reached.p_oid().is_some());
    sp.rollback().unwrap();
    for gone in [&explicit, &reached] {
        assert_eq!(gone.p_oid(), None);
        assert!(gone.p_jar().is_none());
        assert_eq!(gone.p_status(), "unsaved");
    }
    assert!(kept.p_oid().is_some(), "added before the savepoint: kept");
    assert_eq!(values(&conn), vec![0, 1]);
    conn.commit().unwrap();
    let fresh = backend.open().connect().unwrap();
    assert_eq!(values(&fresh), vec![0, 1]);
}

fn rollback_restores_spilled_and_evicted_states(backend: &Backend) {
    let db = open_small(backend, 2);
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    let children: Vec<P<Node>> = (0..10).map(|i| P::new(Node::new("c", i))).collect();
    root.update(|r| r.children.clone_from(&children)).unwrap();
    conn.commit().unwrap();
    let oids: Vec<Oid> = children.iter().map(|c| c.p_oid().unwrap()).collect();
    drop((root, children));

    for oid in &oids {
        conn.get::<Node>(*oid).unwrap().update(|n| n.value += 100).unwrap();
    }
    let sp = conn.savepoint().unwrap();
    assert!(conn.cache().non_ghost_count() <= 4, "spilled objects were evicted");
    for oid in &oids {
        conn.get::<Node>(*oid).unwrap().update(|n| n.value += 1000).unwrap();
    }
    assert_eq!(values(&conn)[1..], (1100..1110).collect::<Vec<_>>()[..]);
    sp.rollback().unwrap();
    assert_eq!(values(&conn)[1..], (100..110).collect::<Vec<_>>()[..]);
    sp.rollback().unwrap();
    assert_eq!(values(&conn)[1..], (100..110).collect::<Vec<_>>()[..]);
    conn.commit().unwrap();
    let fresh = backend.open().connect().unwrap();
    assert_eq!(values(&fresh)[1..], (100..110).collect::<Vec<_>>()[..]);
}

fn commit_after_rollback_stores_the_savepoint_state(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    root.update(|r| r.value = 1).unwrap();
    let sp = conn.savepoint().unwrap();
    root.update(|r| r.value = 2).unwrap();
    conn.savepoint().unwrap();
    root.update(|r| r.value = 3).unwrap();
    sp.rollback().unwrap();
    assert_eq!(root.with(|r| r.value).unwrap(), 1);
    assert!(conn.has_changes());
    conn.commit().unwrap();
    assert_eq!(root.with(|r| r.value).unwrap(), 1);
    let fresh = backend.open().connect().unwrap();
    assert_eq!(values(&fresh), vec![1]);
}

// ----- the model ----------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Step {
    /// Sets the value at an index of the model (0 the root, then the children).
    Set(usize, i64),
    /// Adds a child reachable from the root.
    AddChild(i64),
    Savepoint,
    /// Rolls back to the valid savepoint at this index (modulo their count).
    Rollback(usize),
    /// Rolls back to an invalidated savepoint: a typed error, nothing changes.
    RollbackInvalid(usize),
    Commit,
    Abort,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (any::<usize>(), -1000..1000i64).prop_map(|(i, v)| Step::Set(i, v)),
        2 => (-1000..1000i64).prop_map(Step::AddChild),
        2 => Just(Step::Savepoint),
        2 => any::<usize>().prop_map(Step::Rollback),
        1 => any::<usize>().prop_map(Step::RollbackInvalid),
        1 => Just(Step::Commit),
        1 => Just(Step::Abort),
    ]
}

fn run_model(backend: &Backend, steps: &[Step]) {
    let db = open_small(backend, 3);
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    root.update(|r| r.children.extend((1..=3).map(|v| P::new(Node::new("c", v))))).unwrap();
    conn.commit().unwrap();
    drop(root);
    let mut committed = vec![0, 1, 2, 3];
    let mut current = committed.clone();
    let mut savepoints: Vec<(Savepoint, Vec<i64>)> = Vec::new();
    let mut invalid: Vec<Savepoint> = Vec::new();
    for step in steps {
        match step {
            Step::Set(index, value) => {
                let index = index % current.len();
                let root = conn.root::<Node>().unwrap();
                if index == 0 {
                    root.update(|r| r.value = *value).unwrap();
                } else {
                    let child = root.with(|r| r.children[index - 1].clone()).unwrap();
                    child.update(|n| n.value = *value).unwrap();
                }
                current[index] = *value;
            }
            Step::AddChild(value) => {
                let root = conn.root::<Node>().unwrap();
                root.update(|r| r.children.push(P::new(Node::new("n", *value)))).unwrap();
                current.push(*value);
            }
            Step::Savepoint => savepoints.push((conn.savepoint().unwrap(), current.clone())),
            Step::Rollback(index) => {
                if savepoints.is_empty() {
                    continue;
                }
                let index = index % savepoints.len();
                savepoints[index].0.rollback().unwrap();
                invalid.extend(savepoints.drain(index + 1..).map(|(sp, _)| sp));
                current.clone_from(&savepoints[index].1);
            }
            Step::RollbackInvalid(index) => {
                if invalid.is_empty() {
                    continue;
                }
                let sp = &invalid[index % invalid.len()];
                assert!(matches!(sp.rollback(), Err(Error::InvalidSavepoint)));
            }
            Step::Commit => {
                conn.commit().unwrap();
                committed.clone_from(&current);
                invalid.extend(savepoints.drain(..).map(|(sp, _)| sp));
                let fresh = backend.open().connect().unwrap();
                assert_eq!(values(&fresh), committed, "a fresh connection sees the commit");
            }
            Step::Abort => {
                conn.abort().unwrap();
                current.clone_from(&committed);
                invalid.extend(savepoints.drain(..).map(|(sp, _)| sp));
            }
        }
        assert_eq!(values(&conn), current, "after {step:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn model_memory(steps in proptest::collection::vec(step(), 1..40)) {
        run_model(&Backend::memory(), &steps);
    }

    #[test]
    fn model_sqlite(steps in proptest::collection::vec(step(), 1..40)) {
        run_model(&Backend::sqlite(), &steps);
    }
}

/// The memory rule: 200,000 small objects changed in one transaction with a savepoint every
/// 10,000 keep at most about `cache_size` of them in memory, and all of them are committed.
#[test]
fn a_big_transaction_stays_within_the_cache_limit() {
    const COUNT: usize = 200_000;
    const EVERY: usize = 10_000;
    const CACHE: usize = 1_000;
    let backend = Backend::memory();
    let db = open_small(&backend, CACHE);
    let conn = db.connect().unwrap();
    let oids: Vec<Oid> = (0..COUNT)
        .map(|i| {
            let item = P::new(Item { n: i64::try_from(i).unwrap(), ..Item::default() });
            conn.add(&item).unwrap()
        })
        .collect();
    conn.commit().unwrap();
    conn.cache().minimize();

    let mut peak = 0;
    for (i, oid) in oids.iter().enumerate() {
        conn.get::<Item>(*oid).unwrap().update(|item| item.n += 1_000_000).unwrap();
        if (i + 1) % EVERY == 0 {
            peak = peak.max(conn.cache().non_ghost_count());
            conn.savepoint().unwrap();
            let after = conn.cache().non_ghost_count();
            assert!(after <= CACHE + 1, "after a savepoint {after} objects stay in memory");
        }
    }
    assert!(peak <= EVERY + CACHE + 1, "peak {peak}");
    assert!(conn.cache().len() <= EVERY + CACHE + 1, "ghosts are dropped too");
    assert_eq!(conn.spilled().0, COUNT);
    conn.commit().unwrap();

    let fresh = backend.open().connect().unwrap();
    for (i, oid) in oids.iter().enumerate() {
        let n = fresh.get::<Item>(*oid).unwrap().with(|item| item.n).unwrap();
        assert_eq!(n, i64::try_from(i).unwrap() + 1_000_000);
        if i % 1000 == 0 {
            fresh.cache().incrgc();
        }
    }
}
