//! Deeply nested states. A hostile or corrupt record that nests a recursive field type
//! hundreds of thousands of levels deep is `Error::Decode` (the nesting limit,
//! `persistent::codec::MAX_DEPTH`), not a stack overflow that aborts the process; values
//! nested up to the limit still round-trip. And a long chain of loaded persistent objects
//! is freed without recursion when its connection goes. The deep cases run on threads with
//! a 2 MiB stack, the size a spawned thread gets by default.

#![allow(
    clippy::cast_possible_truncation,
    clippy::large_stack_arrays,
    reason = "test inputs: small counts, and a hostile record built in place"
)]

use persistent::codec::MAX_DEPTH;
use persistent::prelude::*;
use persistent::storage::{MemoryStorage, Storage};
use persistent::{CacheLimits, DatabaseConfig, Error, Oid};
use persistent_tests::write_raw;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A recursive field type: each link holds the next one inline.
#[derive(Persistent, Serialize, Deserialize, Debug, Default, Clone, PartialEq)]
struct Chain {
    next: Option<Box<Chain>>,
    value: u8,
}

impl Chain {
    /// A chain with `links` values nested below the top one.
    fn with_links(links: usize) -> Chain {
        let mut chain = Chain { next: None, value: 0 };
        for n in 1..=links {
            chain = Chain { next: Some(Box::new(chain)), value: n as u8 };
        }
        chain
    }

    /// How many values are nested below this one.
    fn links(&self) -> usize {
        let mut links = 0;
        let mut at = self;
        while let Some(next) = &at.next {
            links += 1;
            at = next;
        }
        links
    }
}

/// The state of a `Chain` with `links` nested values, written byte by byte: postcard stores
/// `Some(x)` as 1 then `x`, `None` as 0, a struct as its fields in order. So: a 1 per link,
/// the innermost `None`, then every link's `value` from the inside out, and the top's.
fn chain_state(links: usize) -> Vec<u8> {
    let mut state = vec![1u8; links];
    state.push(0);
    state.resize(state.len() + links + 1, 7);
    state
}

/// A record envelope (format 1, type name, state) for `conn.get` to load.
fn record(type_name: &str, state: &[u8]) -> Vec<u8> {
    assert!(type_name.len() < 128, "one varint byte is enough for the test names");
    let mut out = vec![1, type_name.len() as u8];
    out.extend_from_slice(type_name.as_bytes());
    out.extend_from_slice(state);
    out
}

/// Runs `f` on a new thread with a 2 MiB stack and returns its result.
fn on_small_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .name("2 MiB stack".into())
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("the thread finished")
}

/// Checks that `error` is the nesting limit's decode error for `Chain`.
fn is_depth_error(error: &Error) {
    match error {
        Error::Decode { type_name, message } => {
            assert_eq!(type_name, Chain::TYPE_NAME);
            assert!(message.contains("nesting limit"), "{message}");
            assert!(message.contains(&MAX_DEPTH.to_string()), "{message}");
        }
        other => panic!("expected the nesting limit's Error::Decode, got {other:?}"),
    }
    let shown = error.to_string();
    assert!(shown.contains(Chain::TYPE_NAME) && shown.contains("limit exceeded"), "{shown}");
}

/// The chosen limit is in the documented range.
#[test]
fn the_limit_is_in_the_documented_range() {
    assert!((128..=512).contains(&MAX_DEPTH), "{MAX_DEPTH}");
}

#[test]
fn a_hostile_state_nested_200k_deep_is_a_decode_error() {
    let error = on_small_stack(|| Chain::decode_state(&chain_state(200_000)).unwrap_err());
    is_depth_error(&error);
}

#[test]
fn a_hostile_state_cut_short_is_still_the_depth_error() {
    // The ones alone: the limit is hit long before the missing end is noticed.
    let error = on_small_stack(|| Chain::decode_state(&[1u8; 200_000]).unwrap_err());
    is_depth_error(&error);
}

#[test]
fn a_hostile_record_loads_as_a_decode_error_and_the_connection_keeps_working() {
    on_small_stack(|| {
        let storage = Arc::new(MemoryStorage::new());
        let db = Database::open_with(storage.clone(), DatabaseConfig::default()).unwrap();
        let conn = db.connect().unwrap();
        let root = conn.root::<Chain>().unwrap();
        root.update(|chain| chain.value = 1).unwrap();
        conn.commit().unwrap();

        let oid: Oid = storage.new_oid().unwrap();
        write_raw(&*storage, oid, record(Chain::TYPE_NAME, &chain_state(200_000)));
        conn.abort().unwrap();
        let error = conn.get::<Chain>(oid).unwrap_err();
        is_depth_error(&error);
        assert!(!conn.cache().contains(oid), "no ghost left behind");
        // Asking again gives the same error, not a crash or a half-loaded object.
        is_depth_error(&conn.get::<Chain>(oid).unwrap_err());

        conn.abort().unwrap();
        root.update(|chain| chain.value = 2).unwrap();
        conn.commit().unwrap();
        let fresh = db.connect().unwrap();
        assert_eq!(fresh.root::<Chain>().unwrap().value().unwrap(), 2);
    });
}

/// Each link of a `Chain` field nests two levels (the `Some`, then the struct's fields), so
/// `MAX_DEPTH / 2` links fit and one more does not.
#[test]
fn a_chain_nested_up_to_the_limit_round_trips_and_one_more_link_does_not() {
    on_small_stack(|| {
        let links = MAX_DEPTH / 2;
        let chain = Chain::with_links(links);
        let mut state = Vec::new();
        chain.encode_state(&mut state).unwrap();
        assert_eq!(state.len(), chain_state(links).len());
        let back = Chain::decode_state(&state).unwrap();
        assert_eq!(back.links(), links);
        assert_eq!(back, chain);

        let mut deeper = Vec::new();
        Chain::with_links(links + 1).encode_state(&mut deeper).unwrap();
        is_depth_error(&Chain::decode_state(&deeper).unwrap_err());
    });
}

#[test]
fn a_chain_nested_up_to_the_limit_loads_through_a_connection() {
    on_small_stack(|| {
        let db = Database::open(MemoryStorage::new()).unwrap();
        let conn = db.connect().unwrap();
        let root = conn.root::<Chain>().unwrap();
        root.update(|chain| *chain = Chain::with_links(MAX_DEPTH / 2)).unwrap();
        conn.commit().unwrap();
        let fresh = db.connect().unwrap();
        let loaded = fresh.root::<Chain>().unwrap();
        assert_eq!(loaded.with(Chain::links).unwrap(), MAX_DEPTH / 2);
    });
}

/// Other nestings count the same way: an enum's content is one level deeper, and so are a
/// sequence's elements, a map's values, a newtype's value and a struct variant's fields.
#[test]
fn sequences_maps_enums_and_newtypes_count_levels() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    enum Tree {
        Leaf(u8),
        Seq(Vec<Tree>),
        Map(std::collections::BTreeMap<u8, Tree>),
        Wrapped(Wrapper),
        Pair { left: Box<Tree>, right: Box<Tree> },
    }
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Wrapper(Box<Tree>);

    /// A leaf wrapped `times` times by `wrap`.
    fn nest(times: usize, wrap: fn(Tree) -> Tree) -> Tree {
        let mut tree = Tree::Leaf(1);
        for _ in 0..times {
            tree = wrap(tree);
        }
        tree
    }
    // Each wrapping is two levels (the variant's content, then what it holds); the leaf's
    // `u8` one more. So this many wrappings reach level `MAX_DEPTH - 1`, one more level
    // `MAX_DEPTH + 1`.
    let fits = (MAX_DEPTH - 1) / 2;
    let wrappers: [fn(Tree) -> Tree; 4] = [
        |t| Tree::Seq(vec![t]),
        |t| Tree::Map([(0, t)].into()),
        |t| Tree::Wrapped(Wrapper(Box::new(t))),
        |t| Tree::Pair { left: Box::new(t), right: Box::new(Tree::Leaf(2)) },
    ];
    on_small_stack(move || {
        for wrap in wrappers {
            let tree = nest(fits, wrap);
            let bytes = persistent::codec::encode_value("tree", &tree).unwrap();
            let back: Tree = persistent::codec::decode_value("tree", &bytes).unwrap();
            assert_eq!(back, tree);

            let bytes = persistent::codec::encode_value("tree", &nest(fits + 1, wrap)).unwrap();
            match persistent::codec::decode_value::<Tree>("tree", &bytes) {
                Err(Error::Decode { message, .. }) => {
                    assert!(message.contains("nesting limit"), "{message}");
                }
                other => panic!("expected the nesting limit's error, got {other:?}"),
            }
        }
    });
}

/// A persistent link: the chain is 300,000 separate objects.
#[derive(Persistent, Default)]
struct Link {
    next: Option<P<Link>>,
    n: u32,
}

const LINKS: u32 = 300_000;

/// A database whose root heads a chain of `LINKS` committed `Link` objects.
fn linked_database() -> Database {
    let config = DatabaseConfig::default()
        .with_cache(CacheLimits::default().with_cache_size(2 * LINKS as usize));
    let db = Database::open_with(Arc::new(MemoryStorage::new()), config).unwrap();
    let conn = db.connect().unwrap();
    let root = conn.root::<Link>().unwrap();
    let mut head = None;
    for n in (1..=LINKS).rev() {
        head = Some(P::new(Link { next: head, n }));
    }
    root.update(|link| link.next = head).unwrap();
    conn.commit().unwrap();
    conn.close().unwrap();
    // The connection first: its cache turns the objects into ghosts one by one.
    drop(conn);
    drop(root);
    db
}

/// Loads every link of the chain under the root of `conn`; returns the root.
fn load_chain(conn: &Connection) -> P<Link> {
    let root = conn.root::<Link>().unwrap();
    let mut at = root.clone();
    let mut count = 0;
    while let Some(next) = at.with(|link| link.next.clone()).unwrap() {
        at = next;
        count += 1;
    }
    assert_eq!(count, LINKS);
    assert_eq!(at.p_state(), PState::UpToDate);
    root
}

#[test]
fn a_loaded_chain_of_300k_objects_dropped_after_its_connection_does_not_overflow() {
    on_small_stack(|| {
        let db = linked_database();
        let conn = db.connect().unwrap();
        let root = load_chain(&conn);
        drop(conn);
        drop(root);
        drop(db);
    });
}
