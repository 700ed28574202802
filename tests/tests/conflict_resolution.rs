//! Conflict resolution (docs/spec.md §8), on `MemoryStorage` and `SqliteStorage`: a `Length`
//! changed by two connections at once merges; a type that refuses (or has no resolver)
//! still conflicts and dooms the transaction; the merged object is invalidated and reloads
//! the merged state; concurrent `transact` increments all land; a merge that is itself
//! conflicted by a third committer is merged again; an overflowing merge is refused, and so
//! is the merge of an object whose data is borrowed;
//! references in the states compare by oid and the merged record lists its references;
//! states written under another schema are not resolved.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::Duration;

use persistent::codec::{
    decode_field, encode_field, finish_decode, references_of, Schema, StoredFields,
};
use persistent::prelude::*;
use persistent::storage::{
    Changes, CommitOutcome, PackProgress, PackReport, Revision, RevisionInfo, Storage,
    StoredTransaction, TransactionData, TransactionInfo, VisibleRecord,
};
use persistent::{DatabaseConfig, Error, PObject, Result, Tid};
use persistent_tests::{for_each_backend, Backend, Node};

for_each_backend!(
    two_connections_adding_to_one_length_both_commit,
    the_merged_object_is_invalidated_and_reloads_the_merge,
    a_type_that_refuses_still_conflicts,
    a_type_without_a_resolver_still_conflicts,
    an_unresolvable_write_beside_a_resolvable_one_writes_nothing,
    four_threads_of_transact_increments_all_land,
    a_merge_conflicted_again_by_a_third_committer_is_merged_again,
    an_overflowing_merge_is_refused,
    an_object_borrowed_during_the_commit_is_not_merged,
    references_in_merged_states_compare_by_oid,
    states_written_under_another_schema_are_not_resolved,
);

/// Stores a new `Length` holding `value`; its oid.
fn new_length(db: &Database, value: i64) -> Oid {
    let conn = db.connect().unwrap();
    let oid = conn.add(&P::new(Length::new(value))).unwrap();
    conn.commit().unwrap();
    oid
}

/// The value of the `Length` at `oid`, read through a new connection.
fn length_of(db: &Database, oid: Oid) -> i64 {
    db.connect().unwrap().get::<Length>(oid).unwrap().value().unwrap()
}

fn two_connections_adding_to_one_length_both_commit(backend: &Backend) {
    let db = backend.open();
    let oid = new_length(&db, 10);
    let (a, b) = (db.connect().unwrap(), db.connect().unwrap());
    a.get::<Length>(oid).unwrap().add(1).unwrap();
    b.get::<Length>(oid).unwrap().add(2).unwrap();
    a.commit().unwrap();
    b.commit().expect("the conflict on a Length merges");
    assert_eq!(a.conflicts_resolved(), 0);
    assert_eq!(b.conflicts_resolved(), 1);
    assert_eq!(length_of(&backend.open(), oid), 13, "both additions stored");
}

/// After the merge, the second connection's object does not keep its own state (11): it is
/// a ghost, and loads the merged one (12) with the commit's serial.
fn the_merged_object_is_invalidated_and_reloads_the_merge(backend: &Backend) {
    let db = backend.open();
    let oid = new_length(&db, 10);
    let (a, b) = (db.connect().unwrap(), db.connect().unwrap());
    let mine = b.get::<Length>(oid).unwrap();
    a.get::<Length>(oid).unwrap().add(1).unwrap();
    mine.add(1).unwrap();
    a.commit().unwrap();
    let tid = b.commit().unwrap();
    assert_eq!(mine.p_state(), PState::Ghost, "invalidated by the merge");
    assert_eq!(mine.value().unwrap(), 12, "the merged state, not this transaction's 11");
    assert_eq!(mine.p_serial(), tid);
    assert_eq!(mine.p_state(), PState::UpToDate);
    // And the object goes on as usual: a later change is stored on top of the merge.
    mine.add(5).unwrap();
    b.commit().unwrap();
    assert_eq!(length_of(&db, oid), 17);
}

/// A hand-written counter whose resolver always refuses.
#[derive(Debug, Default)]
struct Stubborn {
    count: i64,
}

impl Persistent for Stubborn {
    type Object = PObject<Stubborn>;
    const TYPE_NAME: &'static str = "conflict_resolution::Stubborn";
    const RESOLVES_CONFLICTS: bool = true;

    fn encode_state(&self, out: &mut Vec<u8>) -> Result<()> {
        encode_field(Self::TYPE_NAME, &self.count, out)
    }

    fn decode_state(bytes: &[u8]) -> Result<Self> {
        let mut input = bytes;
        let count = decode_field(Self::TYPE_NAME, &mut input)?;
        finish_decode(Self::TYPE_NAME, input)?;
        Ok(Stubborn { count })
    }

    fn resolve_conflict(_old: &Self, _committed: &Self, _mine: &Self) -> Option<Self> {
        None
    }
}

/// Checks the refused commit: `Error::Conflict` naming `oid`, then a doomed transaction
/// until `abort`, after which the work can be redone and committed.
fn assert_conflict_dooms(conn: &Connection, oid: Oid, redo: impl Fn()) {
    match conn.commit() {
        Err(Error::Conflict { oid: found, .. }) => assert_eq!(found, oid),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(matches!(conn.commit(), Err(Error::TransactionDoomed)));
    assert!(matches!(conn.commit(), Err(Error::TransactionDoomed)), "still doomed");
    assert_eq!(conn.conflicts_resolved(), 0);
    conn.abort().unwrap();
    redo();
    conn.commit().expect("after the abort the redone work commits");
}

fn a_type_that_refuses_still_conflicts(backend: &Backend) {
    let db = backend.open();
    let oid = {
        let conn = db.connect().unwrap();
        let oid = conn.add(&P::new(Stubborn { count: 1 })).unwrap();
        conn.commit().unwrap();
        oid
    };
    let (a, b) = (db.connect().unwrap(), db.connect().unwrap());
    a.get::<Stubborn>(oid).unwrap().update(|s| s.count += 1).unwrap();
    let mine = b.get::<Stubborn>(oid).unwrap();
    mine.update(|s| s.count += 10).unwrap();
    a.commit().unwrap();
    assert_conflict_dooms(&b, oid, || mine.update(|s| s.count += 10).unwrap());
    let check = db.connect().unwrap();
    assert_eq!(check.get::<Stubborn>(oid).unwrap().with(|s| s.count).unwrap(), 12);
}

fn a_type_without_a_resolver_still_conflicts(backend: &Backend) {
    let db = backend.open();
    let oid = {
        let conn = db.connect().unwrap();
        let oid = conn.add(&P::new(Node::new("counter", 0))).unwrap();
        conn.commit().unwrap();
        oid
    };
    let (a, b) = (db.connect().unwrap(), db.connect().unwrap());
    a.get::<Node>(oid).unwrap().update(|n| n.value += 1).unwrap();
    let mine = b.get::<Node>(oid).unwrap();
    mine.update(|n| n.value += 1).unwrap();
    a.commit().unwrap();
    assert_conflict_dooms(&b, oid, || mine.update(|n| n.value += 1).unwrap());
}

/// A transaction writing a `Length` and a `Node`, both conflicting: the `Length` merges, the
/// `Node` does not, so the commit is a conflict on the node and nothing is written.
fn an_unresolvable_write_beside_a_resolvable_one_writes_nothing(backend: &Backend) {
    let db = backend.open();
    let length = new_length(&db, 0);
    let node = {
        let conn = db.connect().unwrap();
        let oid = conn.add(&P::new(Node::new("n", 0))).unwrap();
        conn.commit().unwrap();
        oid
    };
    let (a, b) = (db.connect().unwrap(), db.connect().unwrap());
    a.get::<Length>(length).unwrap().add(1).unwrap();
    a.get::<Node>(node).unwrap().update(|n| n.value = 1).unwrap();
    b.get::<Length>(length).unwrap().add(2).unwrap();
    b.get::<Node>(node).unwrap().update(|n| n.value = 2).unwrap();
    let committed = a.commit().unwrap();
    match b.commit() {
        Err(Error::Conflict { oid, .. }) => assert_eq!(oid, node),
        other => panic!("expected a conflict on the node, got {other:?}"),
    }
    assert_eq!(b.conflicts_resolved(), 0, "counted only when the commit lands");
    b.abort().unwrap();
    let check = backend.open();
    assert_eq!(length_of(&check, length), 1, "the merge of the Length was not written");
    assert_eq!(check.storage().last_transaction().unwrap(), committed);
}

fn four_threads_of_transact_increments_all_land(backend: &Backend) {
    const THREADS: usize = 4;
    const INCREMENTS: u64 = 50;
    let db = backend.open();
    let oid = new_length(&db, 0);
    let start = Barrier::new(THREADS);
    let (resolved, runs) = (AtomicU64::new(0), AtomicU64::new(0));
    thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                let conn = db.connect().unwrap();
                start.wait();
                for _ in 0..INCREMENTS {
                    conn.transact(|conn| {
                        runs.fetch_add(1, Ordering::Relaxed);
                        conn.get::<Length>(oid)?.add(1)?;
                        // Widen the window between the read and the commit.
                        thread::sleep(Duration::from_micros(200));
                        Ok(())
                    })
                    .expect("every increment lands");
                }
                resolved.fetch_add(conn.conflicts_resolved(), Ordering::Relaxed);
            });
        }
    });
    let (resolved, runs) = (resolved.into_inner(), runs.into_inner());
    let total = INCREMENTS * THREADS as u64;
    println!(
        "{}: {total} increments, {runs} runs of the closure, {resolved} conflicts resolved",
        backend.name(),
    );
    assert_eq!(length_of(&backend.open(), oid), total.cast_signed());
    assert!(resolved > 0, "concurrent increments met conflicts and merged them");
}

/// What `Interleaving` runs before a commit.
type Hook = Box<dyn FnOnce() + Send>;

/// A storage that runs a hook just before a chosen later commit: another transaction that
/// commits between a merge and the commit storing it.
struct Interleaving {
    inner: Arc<dyn Storage>,
    /// The hook and how many commit calls to let through before it runs (0: the next).
    hook: Mutex<Option<(usize, Hook)>>,
}

impl Interleaving {
    fn arm(&self, skip: usize, hook: impl FnOnce() + Send + 'static) {
        *self.hook.lock().unwrap() = Some((skip, Box::new(hook)));
    }
}

impl Storage for Interleaving {
    fn name(&self) -> String {
        format!("interleaving {}", self.inner.name())
    }
    fn load_visible(&self, oid: Oid, before: Tid) -> Result<Option<VisibleRecord>> {
        self.inner.load_visible(oid, before)
    }
    fn load_before(&self, oid: Oid, before: Tid) -> Result<Option<Revision>> {
        self.inner.load_before(oid, before)
    }
    fn load_serial(&self, oid: Oid, serial: Tid) -> Result<Vec<u8>> {
        self.inner.load_serial(oid, serial)
    }
    fn new_oids(&self, count: usize) -> Result<Vec<Oid>> {
        self.inner.new_oids(count)
    }
    fn last_transaction(&self) -> Result<Tid> {
        self.inner.last_transaction()
    }
    fn commit(&self, txn: &TransactionData) -> Result<CommitOutcome> {
        let hook = {
            let mut slot = self.hook.lock().unwrap();
            match slot.take() {
                Some((0, hook)) => Some(hook),
                Some((skip, hook)) => {
                    *slot = Some((skip - 1, hook));
                    None
                }
                None => None,
            }
        };
        if let Some(hook) = hook {
            hook();
        }
        self.inner.commit(txn)
    }
    fn changes_since(&self, after: Tid) -> Result<Changes> {
        self.inner.changes_since(after)
    }
    fn history(&self, oid: Oid, limit: usize) -> Result<Vec<RevisionInfo>> {
        self.inner.history(oid, limit)
    }
    fn transactions(&self, before: Tid, limit: usize) -> Result<Vec<TransactionInfo>> {
        self.inner.transactions(before, limit)
    }
    fn list_oids(&self, after: Option<Oid>, limit: usize) -> Result<Vec<Oid>> {
        self.inner.list_oids(after, limit)
    }

    fn pack(&self, before: Tid, progress: &mut dyn FnMut(&PackProgress)) -> Result<PackReport> {
        self.inner.pack(before, progress)
    }

    fn packed_before(&self) -> Result<Tid> {
        self.inner.packed_before()
    }

    fn transactions_after(&self, after: Tid, limit: usize) -> Result<Vec<StoredTransaction>> {
        self.inner.transactions_after(after, limit)
    }

    fn restore(&self, batch: &[StoredTransaction]) -> Result<()> {
        self.inner.restore(batch)
    }
}

/// `b`'s first commit conflicts with `a`'s; the merge is committed, but a third connection
/// commits just before it, so it conflicts again and is merged again: all three additions
/// are stored, and `b` counts two resolutions.
fn a_merge_conflicted_again_by_a_third_committer_is_merged_again(backend: &Backend) {
    let inner = backend.storage();
    let storage = Arc::new(Interleaving { inner: inner.clone(), hook: Mutex::new(None) });
    let db = Database::open_with(storage.clone(), DatabaseConfig::default()).unwrap();
    let oid = new_length(&db, 0);
    let (a, b) = (db.connect().unwrap(), db.connect().unwrap());
    a.get::<Length>(oid).unwrap().add(1).unwrap();
    let mine = b.get::<Length>(oid).unwrap();
    mine.add(2).unwrap();
    a.commit().unwrap();
    let third = Arc::new(Mutex::new(None));
    let third_tid = third.clone();
    // Let b's first commit through (it conflicts with a's), run before the second (the merge).
    storage.arm(1, move || {
        let db = Database::open_with(inner, DatabaseConfig::default()).unwrap();
        let conn = db.connect().unwrap();
        conn.get::<Length>(oid).unwrap().add(10).unwrap();
        *third_tid.lock().unwrap() = Some(conn.commit().unwrap());
    });
    let tid = b.commit().expect("merged twice");
    let third = third.lock().unwrap().expect("the third connection committed in between");
    assert!(tid > third);
    assert_eq!(b.conflicts_resolved(), 2);
    assert_eq!(mine.value().unwrap(), 13);
    assert_eq!(length_of(&backend.open(), oid), 13);
}

fn an_overflowing_merge_is_refused(backend: &Backend) {
    let db = backend.open();
    let oid = new_length(&db, i64::MAX - 1);
    let (a, b) = (db.connect().unwrap(), db.connect().unwrap());
    a.get::<Length>(oid).unwrap().add(1).unwrap();
    let mine = b.get::<Length>(oid).unwrap();
    mine.add(1).unwrap();
    a.commit().unwrap();
    // i64::MAX + 1 does not fit: the merge is refused.
    match b.commit() {
        Err(Error::Conflict { oid: found, .. }) => assert_eq!(found, oid),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(matches!(b.commit(), Err(Error::TransactionDoomed)));
    assert_eq!(b.conflicts_resolved(), 0);
    b.abort().unwrap();
    // An addition past the end is refused at once, and marks nothing.
    assert_eq!(mine.value().unwrap(), i64::MAX);
    assert!(matches!(mine.add(1), Err(Error::Overflow { .. })));
    assert_eq!(mine.p_state(), PState::UpToDate);
    mine.add(-5).unwrap();
    b.commit().unwrap();
    assert_eq!(length_of(&db, oid), i64::MAX - 5);
}

/// The merged state could not replace the state of an object whose data is borrowed (a
/// guard alive across the commit), so such an object is not merged: the conflict stands.
fn an_object_borrowed_during_the_commit_is_not_merged(backend: &Backend) {
    let db = backend.open();
    let oid = new_length(&db, 0);
    let (a, b) = (db.connect().unwrap(), db.connect().unwrap());
    a.get::<Length>(oid).unwrap().add(1).unwrap();
    let mine = b.get::<Length>(oid).unwrap();
    mine.add(2).unwrap();
    a.commit().unwrap();
    let guard = mine.read().unwrap();
    assert!(matches!(b.commit(), Err(Error::Conflict { .. })));
    assert_eq!(guard.get(), 2, "the borrowed state is untouched");
    drop(guard);
    b.abort().unwrap();
    mine.add(2).unwrap();
    b.commit().unwrap();
    assert_eq!(length_of(&db, oid), 3);
}

/// A tally of a node: the counts merge; the node merges as a three-way choice (whichever
/// side changed it), comparing references by oid.
#[derive(Debug)]
struct Tally {
    node: P<Node>,
    count: i64,
}

impl Persistent for Tally {
    type Object = PObject<Tally>;
    const TYPE_NAME: &'static str = "conflict_resolution::Tally";
    const RESOLVES_CONFLICTS: bool = true;

    fn encode_state(&self, out: &mut Vec<u8>) -> Result<()> {
        encode_field(Self::TYPE_NAME, &self.node, out)?;
        encode_field(Self::TYPE_NAME, &self.count, out)
    }

    fn decode_state(bytes: &[u8]) -> Result<Self> {
        let mut input = bytes;
        let node = decode_field(Self::TYPE_NAME, &mut input)?;
        let count = decode_field(Self::TYPE_NAME, &mut input)?;
        finish_decode(Self::TYPE_NAME, input)?;
        Ok(Tally { node, count })
    }

    fn resolve_conflict(old: &Self, committed: &Self, mine: &Self) -> Option<Self> {
        let oid = |tally: &Tally| tally.node.p_oid();
        let node = if oid(mine) == oid(old) {
            committed.node.clone()
        } else if oid(committed) == oid(old) || oid(committed) == oid(mine) {
            mine.node.clone()
        } else {
            return None;
        };
        Some(Tally { node, count: committed.count + (mine.count - old.count) })
    }
}

fn references_in_merged_states_compare_by_oid(backend: &Backend) {
    let db = backend.open();
    let (tally, first, second, third) = {
        let conn = db.connect().unwrap();
        let nodes: Vec<P<Node>> = ["first", "second", "third"]
            .into_iter()
            .map(|label| P::new(Node::new(label, 0)))
            .collect();
        for node in &nodes {
            conn.add(node).unwrap();
        }
        let tally = conn.add(&P::new(Tally { node: nodes[0].clone(), count: 0 })).unwrap();
        conn.commit().unwrap();
        (tally, nodes[0].p_oid().unwrap(), nodes[1].p_oid().unwrap(), nodes[2].p_oid().unwrap())
    };
    // a points the tally at the second node; b counts: the merge keeps both.
    let (a, b) = (db.connect().unwrap(), db.connect().unwrap());
    let second_in_a = a.get::<Node>(second).unwrap();
    a.get::<Tally>(tally).unwrap().update(|t| t.node = second_in_a).unwrap();
    let mine = b.get::<Tally>(tally).unwrap();
    mine.update(|t| t.count += 1).unwrap();
    a.commit().unwrap();
    b.commit().expect("a node change and a count change merge");
    assert_eq!(b.conflicts_resolved(), 1);
    let second_in_b = b.get::<Node>(second).unwrap();
    assert!(P::ptr_eq(&mine.with(|t| t.node.clone()).unwrap(), &second_in_b));
    assert_eq!(mine.with(|t| t.count).unwrap(), 1);
    let record = db.storage().load(tally).unwrap().data;
    assert_eq!(references_of(tally, &record).unwrap(), vec![second], "the merge's references");
    // Both point it at different nodes: refused.
    let (a, b) = (db.connect().unwrap(), db.connect().unwrap());
    let first_in_a = a.get::<Node>(first).unwrap();
    a.get::<Tally>(tally).unwrap().update(|t| t.node = first_in_a).unwrap();
    let third_in_b = b.get::<Node>(third).unwrap();
    b.get::<Tally>(tally).unwrap().update(|t| t.node = third_in_b).unwrap();
    a.commit().unwrap();
    assert!(matches!(b.commit(), Err(Error::Conflict { oid, .. }) if oid == tally));
    b.abort().unwrap();
}

/// Two shapes of one stored type: the first release, and the current one, whose fields are
/// in another order, reading the first's records by field name. (Read by position, a
/// record of the first would swap the two numbers.)
mod shapes {
    use persistent::prelude::*;

    #[derive(Persistent)]
    #[persistent(name = "conflict_resolution::Score/1")]
    pub struct ScoreV1 {
        pub points: i64,
        pub bonus: i64,
    }

    #[derive(Persistent)]
    #[persistent(name = "conflict_resolution::Score", alias = "conflict_resolution::Score/1")]
    pub struct ScoreV2 {
        pub bonus: i64,
        pub points: i64,
    }
}

/// The current shape with a resolver: every record rule is `ScoreV2`'s; the points merge.
struct Score(shapes::ScoreV2);

impl Persistent for Score {
    type Object = PObject<Score>;
    const TYPE_NAME: &'static str = "conflict_resolution::Score";
    const RESOLVES_CONFLICTS: bool = true;

    fn reads_type_name(name: &str) -> bool {
        shapes::ScoreV2::reads_type_name(name)
    }

    fn encode_state(&self, out: &mut Vec<u8>) -> Result<()> {
        self.0.encode_state(out)
    }

    fn decode_state(bytes: &[u8]) -> Result<Self> {
        shapes::ScoreV2::decode_state(bytes).map(Score)
    }

    fn schema() -> Option<&'static Schema> {
        shapes::ScoreV2::schema()
    }

    fn decode_evolved(stored: StoredFields<'_>) -> Result<Self> {
        shapes::ScoreV2::decode_evolved(stored).map(Score)
    }

    fn resolve_conflict(old: &Self, committed: &Self, mine: &Self) -> Option<Self> {
        Some(Score(shapes::ScoreV2 {
            points: committed.0.points + (mine.0.points - old.0.points),
            bonus: mine.0.bonus,
        }))
    }
}

/// A state read from a record of the first release (read by name) is not resolved: the
/// conflict stands. Once both sides read records of the current shape, the same type merges.
fn states_written_under_another_schema_are_not_resolved(backend: &Backend) {
    let db = backend.open();
    let oid = {
        let conn = db.connect().unwrap();
        let oid = conn.add(&P::new(shapes::ScoreV1 { points: 1, bonus: 1000 })).unwrap();
        conn.commit().unwrap();
        oid
    };
    let (a, b) = (db.connect().unwrap(), db.connect().unwrap());
    let theirs = a.get::<Score>(oid).unwrap();
    let mine = b.get::<Score>(oid).unwrap();
    theirs.update(|s| s.0.points += 1).unwrap();
    mine.update(|s| s.0.points += 10).unwrap();
    a.commit().unwrap();
    match b.commit() {
        Err(Error::Conflict { oid: found, .. }) => assert_eq!(found, oid),
        other => panic!("a state of another schema is not resolved, got {other:?}"),
    }
    b.abort().unwrap();
    assert_eq!(mine.with(|s| (s.0.points, s.0.bonus)).unwrap(), (2, 1000));
    // Now both read the current shape: the same change merges.
    mine.update(|s| s.0.points += 10).unwrap();
    theirs.update(|s| s.0.points += 100).unwrap();
    a.commit().unwrap();
    b.commit().expect("states of the reader's own schema merge");
    assert_eq!(b.conflicts_resolved(), 1);
    assert_eq!(mine.with(|s| (s.0.points, s.0.bonus)).unwrap(), (112, 1000));
}
