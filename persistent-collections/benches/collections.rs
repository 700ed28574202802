//! Per-call cost of the change-marking write path: 1,000,000 pushes onto a
//! `PersistentList<u64>` attached to a data manager (the first push registers, the rest take
//! the already-Changed path) next to a plain `Vec<u64>`, and 1,000,000 inserts into a
//! `PersistentMapping<u64, u64>` next to a plain `BTreeMap`. The `_cached` variants also put
//! the collection in a cache, so every write touches the LRU ring.
//!
//! Run: `cargo bench -p persistent-collections --bench collections`.

use std::collections::BTreeMap;
use std::rc::Rc;

use divan::{black_box, Bencher};
use persistent_collections::{PersistentList, PersistentMapping};
use persistent_core::prelude::*;
use persistent_core::Cache;
use persistent_testkit::StubDm;

const N: u64 = 1_000_000;

/// What keeps an attached collection's data manager (and cache) alive. The data manager is
/// the testkit's `StubDm`: it accepts every registration (the first write's only) and is never
/// asked to load here, so it adds nothing to the measured loop.
struct Attached(#[allow(dead_code)] Rc<StubDm>, #[allow(dead_code)] Option<Cache>);

fn attach<S: Persistent>(handle: &P<S>, cached: bool) -> Attached {
    let dm = StubDm::new(Vec::new());
    let jar = Jar::new(&dm);
    handle.as_object().p_set_oid(Some(Oid(1))).unwrap();
    handle.as_object().p_set_jar(Some(jar.clone())).unwrap();
    let cache = cached.then(|| {
        let cache = Cache::new(&jar).unwrap();
        cache.insert(Oid(1), handle.erase()).unwrap();
        cache
    });
    Attached(dm, cache)
}

fn main() {
    divan::main();
}

#[divan::bench_group(sample_count = 100, sample_size = 1)]
mod push_1m {
    use super::{attach, black_box, Bencher, PersistentList, N};

    #[divan::bench]
    fn vec(bencher: Bencher) {
        bencher.bench_local(|| {
            let mut v = Vec::new();
            for i in 0..N {
                v.push(black_box(i));
            }
            v
        });
    }

    fn persistent(bencher: Bencher, cached: bool) {
        bencher
            .with_inputs(|| {
                let list = PersistentList::<u64>::new();
                let attached = attach(list.handle(), cached);
                (list, attached)
            })
            .bench_local_values(|(list, attached)| {
                for i in 0..N {
                    list.push(black_box(i)).unwrap();
                }
                (list, attached)
            });
    }

    #[divan::bench]
    fn persistent_list(bencher: Bencher) {
        persistent(bencher, false);
    }

    #[divan::bench]
    fn persistent_list_cached(bencher: Bencher) {
        persistent(bencher, true);
    }
}

#[divan::bench_group(sample_count = 20, sample_size = 1)]
mod insert_1m {
    use super::{attach, black_box, BTreeMap, Bencher, PersistentMapping, N};

    #[divan::bench]
    fn btree_map(bencher: Bencher) {
        bencher.bench_local(|| {
            let mut m = BTreeMap::new();
            for i in 0..N {
                m.insert(black_box(i), i);
            }
            m
        });
    }

    fn persistent(bencher: Bencher, cached: bool) {
        bencher
            .with_inputs(|| {
                let map = PersistentMapping::<u64, u64>::new();
                let attached = attach(map.handle(), cached);
                (map, attached)
            })
            .bench_local_values(|(map, attached)| {
                for i in 0..N {
                    map.insert(black_box(i), i).unwrap();
                }
                (map, attached)
            });
    }

    #[divan::bench]
    fn persistent_mapping(bencher: Bencher) {
        persistent(bencher, false);
    }

    #[divan::bench]
    fn persistent_mapping_cached(bencher: Bencher) {
        persistent(bencher, true);
    }
}
