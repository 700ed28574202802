//! docs/spec.md §3.1 and §3.2 when a sweep runs user code: the `Drop` of an evicted state may
//! read, load, resize, remove or sweep objects of the same cache, and may ask the cache what
//! it holds. The rules still hold: the non-ghost count equals the ring length, an object
//! touched or loaded during a sweep is not evicted by that sweep (and a later sweep can
//! evict it), and the cache's answers are the truth.

#![allow(
    clippy::cast_possible_wrap,
    clippy::items_after_statements,
    clippy::manual_assert,
    reason = "test code: small values; helper items beside their use; simulated failures panic"
)]

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use persistent::codec::{decode_field, encode_field, finish_decode};
use persistent::prelude::*;
use persistent::{Cache, PObject, Result};
use persistent_tests::{attach, ring_oids, StubDm};

/// A state whose `Drop` runs the thread's hook (if one is set) with its number.
#[derive(Debug, Default)]
struct Hooked {
    n: i64,
}

type Hook = Box<dyn FnMut(i64)>;

thread_local! {
    static HOOK: RefCell<Option<Hook>> = const { RefCell::new(None) };
}

impl Drop for Hooked {
    fn drop(&mut self) {
        // Taken out while it runs: states it drops in turn do not run it again.
        let hook = HOOK.with(|hook| hook.borrow_mut().take());
        if let Some(mut hook) = hook {
            hook(self.n);
            HOOK.with(|slot| {
                slot.borrow_mut().get_or_insert(hook);
            });
        }
    }
}

impl Persistent for Hooked {
    type Object = PObject<Hooked>;
    const TYPE_NAME: &'static str = "cache_reentrant::Hooked";

    fn encode_state(&self, out: &mut Vec<u8>) -> Result<()> {
        encode_field(Self::TYPE_NAME, &self.n, out)
    }

    fn decode_state(bytes: &[u8]) -> Result<Self> {
        let mut input = bytes;
        let n = decode_field(Self::TYPE_NAME, &mut input)?;
        finish_decode(Self::TYPE_NAME, input)?;
        Ok(Hooked { n })
    }
}

/// Sets the hook for this test (the thread's hook is cleared when the guard drops).
struct HookGuard;

fn set_hook(hook: impl FnMut(i64) + 'static) -> HookGuard {
    HOOK.with(|slot| *slot.borrow_mut() = Some(Box::new(hook)));
    HookGuard
}

impl Drop for HookGuard {
    fn drop(&mut self) {
        HOOK.with(|slot| slot.borrow_mut().take());
    }
}

/// A cache (in an `Rc`, so hooks can reach it) holding clean objects with oids `1..=count`,
/// each state numbered as its oid, and their handles.
fn cache_of(count: u64) -> (Rc<StubDm>, Rc<Cache>, Vec<P<Hooked>>) {
    let (dm, _jar, cache) = StubDm::with_cache(&Hooked { n: 0 });
    let items = (1..=count)
        .map(|n| {
            let p = P::new(Hooked { n: n as i64 });
            attach(&p, n, cache.jar());
            cache.insert(Oid(n), &p).unwrap();
            p
        })
        .collect();
    (dm, Rc::new(cache), items)
}

/// The rule "non-ghost count == ring length", counted from the objects themselves.
fn assert_counts_agree(cache: &Cache) {
    let non_ghosts = cache.items().iter().filter(|(_, obj)| obj.p_state() != PState::Ghost).count();
    assert_eq!(non_ghosts, cache.ring_len(), "non-ghost objects == ring length");
    assert_eq!(cache.non_ghost_count(), cache.ring_len());
}

#[test]
fn an_object_read_by_a_drop_during_a_sweep_is_not_evicted_by_that_sweep() {
    let (_dm, cache, items) = cache_of(3);
    let third = items[2].clone();
    let _hook = set_hook(move |n| {
        if n == 1 {
            assert_eq!(third.with(|h| h.n).unwrap(), 3);
        }
    });
    cache.full_sweep();
    assert_eq!(items[0].p_state(), PState::Ghost);
    assert_eq!(items[1].p_state(), PState::Ghost);
    assert_eq!(items[2].p_state(), PState::UpToDate, "touched during the sweep: kept");
    assert_eq!(ring_oids(&cache), vec![3]);
    assert_counts_agree(&cache);
}

#[test]
fn a_ghost_loaded_by_a_drop_during_a_sweep_joins_the_ring() {
    let (dm, cache, items) = cache_of(3);
    let ghost = P::<Hooked>::uninitialized();
    cache.new_ghost(Oid(4), &ghost).unwrap();
    let loaded = ghost.clone();
    let hook_guard = set_hook(move |n| {
        if n == 1 {
            assert_eq!(loaded.with(|h| h.n).unwrap(), 0, "loaded from the data manager");
        }
    });
    cache.full_sweep();
    assert_eq!(dm.loads.get(), 1);
    assert_eq!(ghost.p_state(), PState::UpToDate, "loaded during the sweep: kept");
    assert_eq!(ring_oids(&cache), vec![4], "the loaded object is in the ring");
    assert_counts_agree(&cache);
    drop(hook_guard);
    // A later sweep can evict it.
    cache.full_sweep();
    assert_eq!(ghost.p_state(), PState::Ghost);
    assert_eq!(cache.ring_len(), 0);
    assert_counts_agree(&cache);
    drop(items);
}

#[test]
fn cache_methods_called_during_a_sweep_tell_the_truth() {
    let (_dm, cache, items) = cache_of(3);
    let seen = Rc::new(RefCell::new(Vec::new()));
    let (probe, log) = (Rc::downgrade(&cache), seen.clone());
    let hook_guard = set_hook(move |n| {
        let cache = probe.upgrade().unwrap();
        let non_ghosts =
            cache.items().iter().filter(|(_, obj)| obj.p_state() != PState::Ghost).count();
        log.borrow_mut().push((
            n,
            cache.len(),
            cache.ring_len(),
            non_ghosts,
            cache.total_estimated_size(),
            cache.get(Oid(3)).is_some(),
            cache.contains(Oid(1)),
            ring_oids(&cache),
            cache.debug_info().len(),
        ));
    });
    for p in &items {
        p.p_set_estimated_size(100); // accounted as 128 bytes
    }
    cache.full_sweep();
    drop(hook_guard);
    let seen = seen.borrow();
    // When the state of 1 drops, 1 is already a ghost out of the ring; 2 and 3 are still in.
    assert_eq!(seen[0], (1, 3, 2, 2, 256, true, true, vec![2, 3], 3));
    assert_eq!(seen[1], (2, 3, 1, 1, 128, true, true, vec![3], 3));
    assert_eq!(seen[2], (3, 3, 0, 0, 0, true, true, vec![], 3));
    assert_eq!(seen.len(), 3);
}

#[test]
fn touching_or_removing_the_next_and_the_last_members_during_a_sweep() {
    // Ring 1..=6. While 1's state drops: read 2 (the next one the sweep would visit) and 6
    // (the most recent when the sweep began). While 3's state drops: remove 4 from the cache.
    // The sweep goes on with what is left of its walk (5) and never visits 2 or 6 again.
    let (_dm, cache, items) = cache_of(6);
    let (second, sixth) = (items[1].clone(), items[5].clone());
    let probe = Rc::downgrade(&cache);
    let removed = Rc::new(Cell::new(false));
    let removed_flag = removed.clone();
    let _hook = set_hook(move |n| match n {
        1 => {
            second.with(|h| h.n).unwrap();
            sixth.with(|h| h.n).unwrap();
        }
        3 => {
            let cache = probe.upgrade().unwrap();
            removed_flag.set(cache.remove(Oid(4)).is_some());
        }
        _ => {}
    });
    cache.full_sweep();
    assert!(removed.get());
    let states: Vec<PState> = items.iter().map(|p| p.p_state()).collect();
    use PState::{Ghost, UpToDate};
    assert_eq!(states, vec![Ghost, UpToDate, Ghost, UpToDate, Ghost, UpToDate]);
    assert_eq!(ring_oids(&cache), vec![2, 6]);
    assert!(cache.get(Oid(4)).is_none(), "removed during the sweep");
    assert_counts_agree(&cache);
}

#[test]
fn sizes_changed_and_sweeps_started_by_a_drop_during_a_sweep() {
    let (_dm, cache, items) = cache_of(3);
    let third = items[2].clone();
    let probe = Rc::downgrade(&cache);
    let _hook = set_hook(move |n| {
        if n == 1 {
            third.p_set_estimated_size(1000);
            // A sweep started during a sweep returns at once.
            probe.upgrade().unwrap().full_sweep();
            assert_eq!(third.p_state(), PState::UpToDate);
        }
    });
    cache.set_cache_size_bytes(2000);
    cache.set_cache_size(1);
    cache.incrgc();
    assert_eq!(ring_oids(&cache), vec![3]);
    assert_eq!(cache.total_estimated_size(), 1024, "the resize during the sweep counted");
    assert_counts_agree(&cache);
}

#[test]
fn a_panic_in_a_drop_during_a_sweep_does_not_stop_later_sweeps() {
    let (_dm, cache, items) = cache_of(4);
    let hook = set_hook(|n| {
        if n == 2 {
            panic!("the state of 2 fails to drop");
        }
    });
    let swept = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cache.full_sweep()));
    assert!(swept.is_err(), "the panic reaches the caller");
    drop(hook);
    // 1 and 2 were evicted (2's state was out of the object when its Drop panicked).
    assert_eq!(items[0].p_state(), PState::Ghost);
    assert_eq!(items[1].p_state(), PState::Ghost);
    assert_eq!(ring_oids(&cache), vec![3, 4]);
    assert_counts_agree(&cache);
    // The cache still sweeps.
    cache.full_sweep();
    assert_eq!(cache.ring_len(), 0);
    assert!(items.iter().all(|p| p.p_state() == PState::Ghost));
    assert_counts_agree(&cache);
    // Reading the object whose state panicked loads it again.
    assert_eq!(items[1].with(|h| h.n).unwrap(), 0);
}
