//! Weak references (docs/spec.md §12), on `MemoryStorage` and `SqliteStorage`: a `WeakRef`
//! field round-trips and gets its target; the record lists strong references but not weak
//! ones; equality and hashing follow the target; a weak reference made before its target
//! has an oid takes it at commit; `WeakP` does not keep an object in memory; a target whose
//! record is gone gives `None`; a weakly keyed mapping drops such entries when it loads and
//! marks itself changed on every mutation. "Collected" is simulated by copying every record
//! but the target's into a second storage (pack is not used here).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use persistent::codec::record_info;
use persistent::prelude::*;
use persistent::storage::Storage;
use persistent::{Error, PersistentWeakKeyMapping, WeakP};
use persistent_tests::{for_each_backend, write_raw, Backend};

for_each_backend!(
    a_weak_field_round_trips_and_gets_its_target,
    the_record_lists_strong_references_but_not_weak_ones,
    equality_and_hash_follow_the_target,
    a_weak_reference_made_before_the_commit_takes_the_oid,
    a_weak_handle_does_not_keep_the_object_in_memory,
    a_target_whose_record_is_gone_gives_none,
    a_dead_unsaved_target_cannot_be_stored,
    the_weak_keyed_mapping_drops_entries_whose_key_is_gone,
    the_weak_keyed_mapping_marks_every_mutation,
    pack_collects_a_target_referenced_only_weakly,
);

/// With real garbage collection (docs/spec.md §10, §12): a target only a weak reference
/// points to is removed by pack, and the weak reference then gets nothing; a strongly
/// referenced one stays. (The weak-keyed mapping's dropping of such an entry is checked
/// above with the record removed by hand.)
fn pack_collects_a_target_referenced_only_weakly(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let (weakly, strongly) = (target("weakly"), target("strongly"));
    let root = conn.root::<Holder>().unwrap();
    root.set_weak(Some(WeakRef::new(&weakly))).unwrap();
    root.set_strong(Some(strongly.clone())).unwrap();
    conn.commit().unwrap();
    let (weak_oid, strong_oid) = (weakly.p_oid().unwrap(), strongly.p_oid().unwrap());
    drop((weakly, strongly, root, conn));

    let report = db.pack(persistent::TimeStamp::MAX, &mut |_| {}).unwrap();
    assert_eq!(report.objects_removed, 1, "{report:?}");
    let conn = db.connect().unwrap();
    let weak = weak_of(&conn.root::<Holder>().unwrap());
    assert_eq!(weak.oid(), Some(weak_oid));
    assert!(weak.get().unwrap().is_none(), "the weakly referenced target was collected");
    assert!(matches!(conn.get::<Target>(weak_oid), Err(Error::NotFound(_))));
    assert_eq!(*conn.get::<Target>(strong_oid).unwrap().name().unwrap(), "strongly");
}

#[derive(Persistent, Default, Debug)]
struct Target {
    name: String,
}

#[derive(Persistent, Default)]
struct Holder {
    strong: Option<P<Target>>,
    weak: Option<WeakRef<Target>>,
}

#[derive(Persistent, Default)]
struct Registry {
    notes: PersistentWeakKeyMapping<Target, String>,
    kept: Vec<P<Target>>,
}

fn target(name: &str) -> P<Target> {
    P::new(Target { name: name.into() })
}

fn hash_of<T: Hash>(value: &T) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// The root's weak reference, read through the field guard.
fn weak_of(root: &P<Holder>) -> WeakRef<Target> {
    root.weak().unwrap().clone().expect("the weak field is set")
}

/// A fresh storage holding the current record of each of `oids` from `from` (so every
/// other object of `from` is absent there, as if collected).
fn copy_records(from: &dyn Storage, oids: &[Oid]) -> Backend {
    let copy = match from.name() {
        name if name.to_lowercase().contains("sqlite") => Backend::sqlite(),
        _ => Backend::memory(),
    };
    let storage = copy.storage();
    for &oid in oids {
        write_raw(&*storage, oid, from.load(oid).unwrap().data);
    }
    copy
}

fn a_weak_field_round_trips_and_gets_its_target(backend: &Backend) {
    let conn = backend.open().connect().unwrap();
    let root = conn.root::<Holder>().unwrap();
    let kept = target("kept");
    root.set_strong(Some(kept.clone())).unwrap();
    root.set_weak(Some(WeakRef::new(&kept))).unwrap();
    conn.commit().unwrap();

    let other = backend.open().connect().unwrap();
    let root = other.root::<Holder>().unwrap();
    let weak = weak_of(&root);
    assert_eq!(weak.oid(), kept.p_oid());
    let found = weak.get().unwrap().expect("the target exists");
    assert_eq!(*found.name().unwrap(), "kept");
    let strong = root.strong().unwrap().expect("the strong field is set");
    assert!(P::ptr_eq(&found, &strong), "one object per oid in a connection");
    assert!(P::ptr_eq(&weak.get().unwrap().unwrap(), &found), "got from memory again");
}

fn the_record_lists_strong_references_but_not_weak_ones(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let root = conn.root::<Holder>().unwrap();
    let (strong, weak_only) = (target("strong"), target("weak"));
    root.set_strong(Some(strong.clone())).unwrap();
    root.set_weak(Some(WeakRef::new(&weak_only))).unwrap();
    conn.commit().unwrap();

    let (strong_oid, weak_oid) = (strong.p_oid().unwrap(), weak_only.p_oid().unwrap());
    let info = record_info(Oid::ROOT, &db.storage().load(Oid::ROOT).unwrap().data).unwrap();
    assert_eq!(info.references, vec![strong_oid], "only the strong reference is listed");
    // The new target was stored by the same commit, as a strong reference would have it.
    let stored = record_info(weak_oid, &db.storage().load(weak_oid).unwrap().data).unwrap();
    assert_eq!(stored.type_name, "Target");
}

fn equality_and_hash_follow_the_target(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let (a, b) = (target("a"), target("b"));
    // Unsaved: by object.
    assert_eq!(WeakRef::new(&a), WeakRef::new(&a));
    assert_eq!(hash_of(&WeakRef::new(&a)), hash_of(&WeakRef::new(&a)));
    assert_ne!(WeakRef::new(&a), WeakRef::new(&b));
    let root = conn.root::<Holder>().unwrap();
    root.set_strong(Some(a.clone())).unwrap();
    root.set_weak(Some(WeakRef::new(&a))).unwrap();
    conn.commit().unwrap();

    // Stored: by oid and database, whichever connection read the reference.
    let (one, two) = (db.connect().unwrap(), db.connect().unwrap());
    let (from_one, from_two) =
        (weak_of(&one.root::<Holder>().unwrap()), weak_of(&two.root::<Holder>().unwrap()));
    assert_eq!(from_one, from_two);
    assert_eq!(hash_of(&from_one), hash_of(&from_two));
    assert_eq!(from_one, WeakRef::new(&a), "the same as one made from the object");
    let loaded = one.get::<Target>(a.p_oid().unwrap()).unwrap();
    assert_eq!(WeakRef::new(&loaded), from_two);
    assert_ne!(from_one, WeakRef::new(&b));

    // Another database: the same oid is another object.
    let elsewhere = Backend::memory().open().connect().unwrap();
    let ours = one.root::<Holder>().unwrap();
    let theirs = elsewhere.root::<Holder>().unwrap();
    elsewhere.commit().unwrap();
    assert_eq!(ours.p_oid(), theirs.p_oid());
    assert_ne!(WeakRef::new(&ours), WeakRef::new(&theirs));
}

fn a_weak_reference_made_before_the_commit_takes_the_oid(backend: &Backend) {
    let conn = backend.open().connect().unwrap();
    let root = conn.root::<Holder>().unwrap();
    let early = target("early");
    let weak = WeakRef::new(&early);
    assert_eq!(weak.oid(), None);
    root.set_strong(Some(early.clone())).unwrap();
    conn.commit().unwrap();
    let oid = early.p_oid().expect("committed");
    assert_eq!(weak.oid(), Some(oid), "taken from the target at commit");

    // The oid stays when the target leaves memory, and the target loads through its jar.
    root.set_strong(None).unwrap();
    root.set_weak(Some(weak.clone())).unwrap();
    conn.commit().unwrap();
    drop(early);
    conn.cache().minimize();
    let found = weak.get().unwrap().expect("still stored");
    assert_eq!(found.p_oid(), Some(oid));
    assert_eq!(*found.name().unwrap(), "early");
}

fn a_weak_handle_does_not_keep_the_object_in_memory(backend: &Backend) {
    let unsaved = target("unsaved");
    let weak: WeakP<Target> = unsaved.downgrade();
    assert!(P::ptr_eq(&weak.upgrade().unwrap(), &unsaved));
    drop(unsaved);
    assert!(weak.upgrade().is_none());

    let conn = backend.open().connect().unwrap();
    let stored = target("stored");
    let oid = conn.add(&stored).unwrap();
    conn.commit().unwrap();
    drop(stored);
    let other = backend.open().connect().unwrap();
    let loaded = other.get::<Target>(oid).unwrap();
    let weak = loaded.downgrade();
    drop(loaded);
    assert!(weak.upgrade().is_some(), "the cache holds a loaded object");
    other.cache().minimize();
    assert!(weak.upgrade().is_none(), "a ghost nobody holds is dropped");
}

fn a_target_whose_record_is_gone_gives_none(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let root = conn.root::<Holder>().unwrap();
    let doomed = target("doomed");
    root.set_weak(Some(WeakRef::new(&doomed))).unwrap();
    conn.commit().unwrap();
    let oid = doomed.p_oid().unwrap();
    assert!(db.connect().unwrap().get::<Target>(oid).is_ok(), "stored, for now");

    let collected = copy_records(&**db.storage(), &[Oid::ROOT, Oid::SCHEMAS]);
    let conn = collected.open().connect().unwrap();
    let weak = weak_of(&conn.root::<Holder>().unwrap());
    assert_eq!(weak.oid(), Some(oid));
    assert!(weak.get().unwrap().is_none(), "the record is gone");
    assert!(matches!(conn.get::<Target>(oid), Err(Error::NotFound(_))));
    assert!(weak.get().unwrap().is_none(), "and stays gone");
}

fn a_dead_unsaved_target_cannot_be_stored(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let root = conn.root::<Holder>().unwrap();
    conn.commit().unwrap();
    let weak = WeakRef::new(&target("gone"));
    assert!(weak.get().unwrap().is_none(), "never stored, and no longer in memory");
    root.set_weak(Some(weak)).unwrap();
    let before = db.storage().last_transaction().unwrap();
    let error = conn.commit().unwrap_err();
    assert!(matches!(error, Error::DeadWeakReference), "{error:?}");
    assert_eq!(db.storage().last_transaction().unwrap(), before, "nothing was written");
    root.set_weak(None).unwrap();
    conn.commit().expect("the transaction stays usable");
}

fn the_weak_keyed_mapping_drops_entries_whose_key_is_gone(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let registry = conn.root::<Registry>().unwrap();
    let (kept, dropped) = (target("kept"), target("dropped"));
    registry.update(|r| r.kept.push(kept.clone())).unwrap();
    let notes = registry.notes().unwrap();
    // Inserted in descending name order; stored in oid order.
    notes.insert(&dropped, "about dropped".into()).unwrap();
    notes.insert(&kept, "about kept".into()).unwrap();
    conn.commit().unwrap();
    let notes_oid = notes.p_oid().unwrap();
    let (kept_oid, dropped_oid) = (kept.p_oid().unwrap(), dropped.p_oid().unwrap());
    let info = record_info(notes_oid, &db.storage().load(notes_oid).unwrap().data).unwrap();
    assert!(info.references.is_empty(), "weak keys are not listed: {:?}", info.references);

    // Everything present: both entries load.
    let reader = db.connect().unwrap();
    let notes = reader.root::<Registry>().unwrap().notes().unwrap();
    assert_eq!(notes.len().unwrap(), 2);
    let keys: Vec<Oid> = notes.iter().unwrap().map(|(key, _)| key.p_oid().unwrap()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "loaded in oid order");

    // The dropped key's record is gone: its entry disappears on load.
    let collected = copy_records(&**db.storage(), &[Oid::ROOT, Oid::SCHEMAS, notes_oid, kept_oid]);
    let conn = collected.open().connect().unwrap();
    let registry = conn.root::<Registry>().unwrap();
    let notes = registry.notes().unwrap();
    assert_eq!(notes.len().unwrap(), 1);
    let kept = conn.get::<Target>(kept_oid).unwrap();
    assert_eq!(notes.get(&kept).unwrap().as_deref(), Some("about kept"));
    let items: Vec<(P<Target>, String)> = notes.iter().unwrap().collect();
    assert_eq!(items.len(), 1);
    assert!(P::ptr_eq(&items[0].0, &kept));
    assert!(matches!(conn.get::<Target>(dropped_oid), Err(Error::NotFound(_))));
    assert_eq!(notes.p_changed(), Some(false), "loading alone changes nothing");
}

fn the_weak_keyed_mapping_marks_every_mutation(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let registry = conn.root::<Registry>().unwrap();
    let (a, b) = (target("a"), target("b"));
    registry.update(|r| r.kept.extend([a.clone(), b.clone()])).unwrap();
    conn.commit().unwrap();

    let notes = registry.notes().unwrap();
    let changed_by = |what: &dyn Fn()| {
        conn.commit().unwrap();
        assert_eq!(notes.p_changed(), Some(false));
        what();
        let changed = notes.p_changed() == Some(true);
        conn.commit().unwrap();
        changed
    };
    assert!(changed_by(&|| assert_eq!(notes.insert(&a, "1".into()).unwrap(), None)));
    assert!(changed_by(&|| assert_eq!(
        notes.insert(&a, "1".into()).unwrap().as_deref(),
        Some("1")
    )));
    assert!(changed_by(&|| assert_eq!(notes.insert(&b, "2".into()).unwrap(), None)));
    assert!(!changed_by(&|| assert_eq!(notes.get(&a).unwrap().as_deref(), Some("1"))));
    assert!(!changed_by(&|| assert_eq!(notes.len().unwrap(), 2)));
    assert!(changed_by(&|| assert_eq!(notes.remove(&a).unwrap().as_deref(), Some("1"))));
    assert!(!changed_by(&|| assert_eq!(notes.remove(&a).unwrap(), None)));
    assert!(changed_by(&|| notes.clear().unwrap()));
    assert!(!changed_by(&|| notes.clear().unwrap()));

    // What was committed is what a new connection reads.
    notes.insert(&b, "again".into()).unwrap();
    conn.commit().unwrap();
    let reader = db.connect().unwrap();
    let notes = reader.root::<Registry>().unwrap().notes().unwrap();
    let b = reader.get::<Target>(b.p_oid().unwrap()).unwrap();
    assert_eq!(notes.get(&b).unwrap().as_deref(), Some("again"));
    assert!(!notes.contains_key(&reader.get::<Target>(a.p_oid().unwrap()).unwrap()).unwrap());
}
