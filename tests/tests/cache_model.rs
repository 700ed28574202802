//! Property test of the cache (docs/spec.md §3) against a simple model: random sequences
//! of insert, `new_ghost`, read, write, deactivate, invalidate, remove, incrgc, `full_sweep`,
//! borrow-and-hold and dropping handles. After every step: the non-ghost count equals the
//! ring length; the ring is exactly the model's non-ghosts in LRU order; every object's
//! state is the model's (so no Changed, Sticky or borrowed object was ever ghostified); the
//! byte total is the sum over the ring; identity holds while a handle is held.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::too_many_lines,
    reason = "test code: small test values; one long model test"
)]

use std::cell::Ref;

use persistent::prelude::*;
use persistent::{Cache, CacheLimits};
use persistent_tests::{attach, ring_oids, Item, StubDm};
use proptest::prelude::*;

const SLOTS: u64 = 8;

#[derive(Clone, Debug)]
enum Op {
    Insert(u64),
    NewGhost(u64),
    Read(u64),
    Write(u64),
    Deactivate(u64),
    Invalidate(u64),
    Remove(u64),
    Sticky(u64),
    Saved(u64),
    Incrgc(usize),
    FullSweep,
    BorrowThenSweep(u64),
    Drop(u64),
    Resize(u64, u64),
}

fn op() -> impl Strategy<Value = Op> {
    let slot = 1..=SLOTS;
    prop_oneof![
        slot.clone().prop_map(Op::Insert),
        slot.clone().prop_map(Op::NewGhost),
        slot.clone().prop_map(Op::Read),
        slot.clone().prop_map(Op::Write),
        slot.clone().prop_map(Op::Deactivate),
        slot.clone().prop_map(Op::Invalidate),
        slot.clone().prop_map(Op::Remove),
        slot.clone().prop_map(Op::Sticky),
        slot.clone().prop_map(Op::Saved),
        (0usize..6).prop_map(Op::Incrgc),
        Just(Op::FullSweep),
        slot.clone().prop_map(Op::BorrowThenSweep),
        slot.clone().prop_map(Op::Drop),
        (slot, 0u64..500).prop_map(|(s, b)| Op::Resize(s, b)),
    ]
}

/// What the model knows of one cached oid.
#[derive(Clone, Debug)]
struct Entry {
    state: PState,
    held: bool,
    /// The size the cache accounts while the object is in the ring.
    size: u64,
    /// The object's own estimated size (accounted again when it joins the ring).
    own: u64,
}

/// The model: entries by oid and the ring (LRU first).
#[derive(Default)]
struct Model {
    entries: std::collections::BTreeMap<u64, Entry>,
    ring: Vec<u64>,
}

impl Model {
    fn touch(&mut self, oid: u64) {
        if let Some(pos) = self.ring.iter().position(|&o| o == oid) {
            self.ring.remove(pos);
            self.ring.push(oid);
        }
    }

    fn ghostify(&mut self, oid: u64) {
        self.ring.retain(|&o| o != oid);
        let entry = self.entries.get_mut(&oid).unwrap();
        entry.state = PState::Ghost;
        if !entry.held {
            self.entries.remove(&oid);
        }
    }

    fn load(&mut self, oid: u64) {
        let entry = self.entries.get_mut(&oid).unwrap();
        if entry.state == PState::Ghost {
            entry.state = PState::UpToDate;
            entry.size = entry.own;
            self.ring.push(oid);
        } else {
            self.touch(oid);
        }
    }

    fn total(&self) -> u64 {
        self.ring.iter().map(|o| self.entries[o].size).sum()
    }

    /// docs/spec.md §3.2, on the model.
    fn sweep(&mut self, target: i64, target_bytes: u64, borrowed: Option<u64>) {
        let members = self.ring.clone();
        for oid in members {
            let n = self.ring.len() as i64;
            let met = (target != 0 || target_bytes != 0)
                && (target == 0 || n <= target)
                && (target_bytes == 0 || self.total() <= target_bytes);
            if met {
                break;
            }
            if self.entries[&oid].state == PState::UpToDate && Some(oid) != borrowed {
                self.ghostify(oid);
            }
        }
    }
}

fn size_of(bytes: u64) -> u64 {
    (bytes / 64 + 1) * 64
}

struct World {
    _dm: std::rc::Rc<StubDm>,
    cache: Cache,
    handles: Vec<Option<P<Item>>>,
    model: Model,
}

impl World {
    fn new() -> World {
        let (dm, _jar, cache) = StubDm::with_cache(&Item::numbered(42));
        World { _dm: dm, cache, handles: vec![None; SLOTS as usize + 1], model: Model::default() }
    }

    fn handle(&self, oid: u64) -> Option<&P<Item>> {
        self.handles[oid as usize].as_ref()
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Insert(oid) => {
                if self.model.entries.contains_key(&oid) || self.handle(oid).is_some() {
                    return;
                }
                let p = P::new(Item::numbered(oid as i64));
                attach(&p, oid, self.cache.jar());
                p.p_set_estimated_size(oid * 10);
                self.cache.insert(Oid(oid), &p).unwrap();
                self.handles[oid as usize] = Some(p);
                let size = size_of(oid * 10);
                let entry = Entry { state: PState::UpToDate, held: true, size, own: size };
                self.model.entries.insert(oid, entry);
                self.model.ring.push(oid);
            }
            Op::NewGhost(oid) => {
                if self.model.entries.contains_key(&oid) || self.handle(oid).is_some() {
                    return;
                }
                let p = P::<Item>::uninitialized();
                self.cache.new_ghost(Oid(oid), &p).unwrap();
                self.handles[oid as usize] = Some(p);
                let entry = Entry { state: PState::Ghost, held: true, size: 0, own: 0 };
                self.model.entries.insert(oid, entry);
            }
            Op::Read(oid) => {
                let Some(p) = self.handle(oid) else { return };
                p.with(|i| i.n).unwrap();
                self.model.load(oid);
            }
            Op::Write(oid) => {
                let Some(p) = self.handle(oid) else { return };
                p.update(|i| i.n += 1).unwrap();
                self.model.load(oid);
                self.model.entries.get_mut(&oid).unwrap().state = PState::Changed;
            }
            Op::Deactivate(oid) => {
                let Some(p) = self.handle(oid) else { return };
                p.p_deactivate();
                if self.model.entries[&oid].state == PState::UpToDate {
                    self.model.ghostify(oid);
                }
            }
            Op::Invalidate(oid) => {
                self.cache.invalidate(&[Oid(oid)]).unwrap();
                if self.model.entries.get(&oid).is_some_and(|e| e.state != PState::Ghost) {
                    self.model.ghostify(oid);
                }
            }
            Op::Remove(oid) => {
                let removed = self.cache.remove(Oid(oid));
                assert_eq!(removed.is_some(), self.model.entries.contains_key(&oid));
                self.model.entries.remove(&oid);
                self.model.ring.retain(|&o| o != oid);
                self.handles[oid as usize] = None;
            }
            Op::Sticky(oid) => {
                let Some(p) = self.handle(oid) else { return };
                let state = self.model.entries[&oid].state;
                let result = p.p_set_sticky(true);
                if state == PState::Ghost {
                    assert!(result.is_err());
                } else {
                    result.unwrap();
                    self.model.entries.get_mut(&oid).unwrap().state = PState::Sticky;
                }
            }
            Op::Saved(oid) => {
                let Some(p) = self.handle(oid) else { return };
                p.p_set_changed(Some(false)).unwrap();
                let entry = self.model.entries.get_mut(&oid).unwrap();
                if entry.state != PState::Ghost {
                    entry.state = PState::UpToDate;
                }
            }
            Op::Incrgc(size) => {
                self.cache.set_cache_size(size);
                self.cache.incrgc();
                self.model.sweep(size as i64, 0, None);
            }
            Op::FullSweep => {
                self.cache.full_sweep();
                self.model.sweep(0, 0, None);
            }
            Op::BorrowThenSweep(oid) => {
                let Some(p) = self.handle(oid).cloned() else { return };
                let guard: Ref<'_, Item> = p.read().unwrap();
                self.model.load(oid);
                self.cache.full_sweep();
                assert!(self.cache.invalidate(&[Oid(oid)]).is_err(), "borrowed: refused");
                self.model.sweep(0, 0, Some(oid));
                assert!(guard.name.starts_with("item-"), "borrowed data intact");
                drop(guard);
                assert_ne!(p.p_state(), PState::Ghost, "a borrowed object was ghostified");
            }
            Op::Drop(oid) => {
                if self.handles[oid as usize].take().is_none() {
                    return;
                }
                if let Some(entry) = self.model.entries.get_mut(&oid) {
                    entry.held = false;
                    if entry.state == PState::Ghost {
                        self.model.entries.remove(&oid);
                    }
                }
            }
            Op::Resize(oid, bytes) => {
                self.cache.update_object_size_estimation(Oid(oid), bytes);
                // Only a ring member's accounted size changes, not the object's own.
                if let Some(entry) = self.model.entries.get_mut(&oid) {
                    if entry.state != PState::Ghost {
                        entry.size = size_of(bytes);
                    }
                }
            }
        }
    }

    fn check(&self) {
        assert_eq!(self.cache.non_ghost_count(), self.cache.ring_len());
        assert_eq!(ring_oids(&self.cache), self.model.ring, "ring in LRU order");
        assert_eq!(self.cache.len(), self.model.entries.len(), "identity map size");
        assert_eq!(self.cache.total_estimated_size(), self.model.total(), "byte total");
        for (oid, entry) in &self.model.entries {
            let obj = self.cache.get(Oid(*oid)).expect("model entry is cached");
            assert_eq!(obj.p_state(), entry.state, "state of oid {oid}");
        }
        for (oid, handle) in self.handles.iter().enumerate() {
            if let Some(p) = handle {
                let cached = self.cache.get(Oid(oid as u64)).expect("held object is cached");
                assert!(P::ptr_eq(p, &cached.downcast::<Item>().unwrap()), "identity of {oid}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn cache_matches_the_model(ops in proptest::collection::vec(op(), 1..80)) {
        let mut world = World::new();
        // Sizes only count for ring members; keep the default limits (0 = evict all clean).
        world.cache.set_limits(CacheLimits::default());
        for op in &ops {
            world.apply(op);
            world.check();
        }
    }
}
