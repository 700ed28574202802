//! Deeply nested states. A hostile or corrupt record that nests a recursive field type
//! hundreds of thousands of levels deep is `Error::Decode` (the nesting limit,
//! `persistent::codec::MAX_DEPTH`), not a stack overflow that aborts the process; values
//! nested up to the limit still round-trip. Encoding counts levels the same way: a state
//! nested deeper is `Error::Encode` and is never stored (it could not be loaded), and what
//! encodes decodes. And a long chain of loaded persistent objects is freed without
//! recursion when its connection goes. The deep cases run on threads with a 2 MiB stack,
//! the size a spawned thread gets by default.

#![allow(
    clippy::cast_possible_truncation,
    clippy::large_stack_arrays,
    clippy::too_many_lines,
    clippy::option_option,
    clippy::redundant_closure_for_method_calls,
    reason = "test inputs: small counts, a hostile record built in place, one table of nesting shapes"
)]

use persistent::codec::{decode_value, encode_value, MAX_DEPTH};
use persistent::prelude::*;
use persistent::storage::{MemoryStorage, Storage};
use persistent::{CacheLimits, DatabaseConfig, Error, Oid};
use persistent_tests::{format1_record, write_raw};
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

/// The encoding of a value that holds a marker value once, with `inner` (the encoding of
/// another value) in place of the marker's encoding `marker`: postcard writes a nested
/// value's bytes as they are, between the bytes of what holds it, so this is the encoding of
/// the same value holding the other one instead. It builds the bytes of values too deep to
/// encode.
fn splice(wrapped_marker: &[u8], marker: &[u8], inner: &[u8]) -> Vec<u8> {
    let found: Vec<usize> = (0..=wrapped_marker.len() - marker.len())
        .filter(|&at| wrapped_marker[at..].starts_with(marker))
        .collect();
    assert_eq!(found.len(), 1, "the marker's bytes appear once in {wrapped_marker:?}");
    let at = found[0];
    [&wrapped_marker[..at], inner, &wrapped_marker[at + marker.len()..]].concat()
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
    is_limit_error(error, Chain::TYPE_NAME, false);
}

/// Checks that `error` is the nesting limit's encode error for `Chain`.
fn is_encode_depth_error(error: &Error) {
    is_limit_error(error, Chain::TYPE_NAME, true);
}

/// Checks that `error` is the nesting limit's error for `expected_type`, from encoding
/// (`Error::Encode`) or decoding (`Error::Decode`).
fn is_limit_error(error: &Error, expected_type: &str, encoding: bool) {
    match (error, encoding) {
        (Error::Decode { type_name, message }, false)
        | (Error::Encode { type_name, message }, true) => {
            assert_eq!(type_name, expected_type);
            assert!(message.contains("nesting limit"), "{message}");
            assert!(message.contains(&MAX_DEPTH.to_string()), "{message}");
        }
        (other, _) => panic!(
            "expected the nesting limit's Error::{}, got {other:?}",
            if encoding { "Encode" } else { "Decode" }
        ),
    }
    let shown = error.to_string();
    assert!(shown.contains(expected_type) && shown.contains("limit exceeded"), "{shown}");
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
        write_raw(&*storage, oid, format1_record(Chain::TYPE_NAME, &chain_state(200_000)));
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
/// `MAX_DEPTH / 2` links fit and one more does not: it is refused by encoding as well as by
/// decoding, so it can never be stored.
#[test]
fn a_chain_nested_up_to_the_limit_round_trips_and_one_more_link_neither_encodes_nor_decodes() {
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
        is_encode_depth_error(&Chain::with_links(links + 1).encode_state(&mut deeper).unwrap_err());
        is_depth_error(&Chain::decode_state(&chain_state(links + 1)).unwrap_err());
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
        assert_eq!(loaded.with(|chain| chain.links()).unwrap(), MAX_DEPTH / 2);
    });
}

/// A state nested deeper than the limit could be stored but never loaded, so encoding
/// refuses it: the commit is `Error::Encode`, writes nothing, and leaves the transaction
/// usable. Without an abort, the same transaction commits once the chain is shortened.
#[test]
fn a_chain_of_200_links_fails_to_commit_and_writes_nothing() {
    on_small_stack(|| {
        let db = Database::open(MemoryStorage::new()).unwrap();
        let conn = db.connect().unwrap();
        let root = conn.root::<Chain>().unwrap();
        root.update(|chain| chain.value = 1).unwrap();
        conn.commit().unwrap();
        let before = db.storage().last_transaction().unwrap();

        root.update(|chain| *chain = Chain::with_links(200)).unwrap();
        is_encode_depth_error(&conn.commit().unwrap_err());
        assert_eq!(db.storage().last_transaction().unwrap(), before, "nothing was written");
        // The change is still pending (neither lost nor half stored): committing again
        // fails the same way, and other connections still see the old state.
        is_encode_depth_error(&conn.commit().unwrap_err());
        assert_eq!(db.storage().last_transaction().unwrap(), before, "nothing was written");
        let other = db.connect().unwrap();
        let seen = other.root::<Chain>().unwrap().with(|chain| (chain.links(), chain.value));
        assert_eq!(seen.unwrap(), (0, 1));
        assert_eq!(root.with(|chain| chain.links()).unwrap(), 200, "the object keeps its data");

        root.update(|chain| *chain = Chain::with_links(10)).unwrap();
        conn.commit().unwrap();
        assert_ne!(db.storage().last_transaction().unwrap(), before);
        let fresh = db.connect().unwrap();
        let loaded = fresh.root::<Chain>().unwrap();
        assert_eq!(loaded.with(|chain| (chain.links(), chain.value)).unwrap(), (10, 10));
    });
}

/// A root holding a separate persistent `Chain`.
#[derive(Persistent, Default)]
struct Holder {
    chain: Option<P<Chain>>,
    n: u32,
}

/// A new object too deep to encode fails the commit of the whole transaction, including the
/// changed object that references it; with the new object shortened, both are stored.
#[test]
fn a_new_object_too_deep_to_encode_fails_the_whole_commit_until_it_is_shortened() {
    on_small_stack(|| {
        let db = Database::open(MemoryStorage::new()).unwrap();
        let conn = db.connect().unwrap();
        let root = conn.root::<Holder>().unwrap();
        conn.commit().unwrap();
        let before = db.storage().last_transaction().unwrap();

        let chain = P::new(Chain::with_links(200));
        root.update(|holder| {
            holder.chain = Some(chain.clone());
            holder.n = 1;
        })
        .unwrap();
        is_encode_depth_error(&conn.commit().unwrap_err());
        assert_eq!(db.storage().last_transaction().unwrap(), before, "nothing was written");
        let other = db.connect().unwrap();
        let seen =
            other.root::<Holder>().unwrap().with(|holder| (holder.chain.is_none(), holder.n));
        assert_eq!(seen.unwrap(), (true, 0));

        chain.update(|chain| *chain = Chain::with_links(MAX_DEPTH / 2)).unwrap();
        conn.commit().unwrap();
        let fresh = db.connect().unwrap();
        let holder = fresh.root::<Holder>().unwrap();
        assert_eq!(holder.with(|holder| holder.n).unwrap(), 1);
        let stored = holder.with(|holder| holder.chain.clone()).unwrap().expect("the chain");
        assert_eq!(stored.with(|chain| chain.links()).unwrap(), MAX_DEPTH / 2);
    });
}

/// Every shape of nesting, alone or alternating with another, around every kind of
/// innermost value: the deepest value that encodes decodes to itself, one wrapping more
/// fails to encode with the nesting limit's `Error::Encode`, and its bytes (spliced by hand)
/// fail to decode with the limit's `Error::Decode`. So encoding and decoding count the same
/// levels. The depth found is also checked against the rule the codec documents: each
/// wrapping puts the value it holds `cost` levels deeper, and the innermost value needs
/// `need` levels from its own (counting it) to be within `MAX_DEPTH`.
#[test]
fn encoding_and_decoding_agree_on_the_limit_for_every_kind_of_nesting() {
    use std::collections::BTreeMap;

    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
    enum Shape {
        Unit,
        Number(u8),
        Text(String),
        Blank {},
        Boxed(Box<Shape>),
        Opt(Option<Box<Shape>>),
        Deep(Option<Option<Box<Shape>>>),
        Seq(Vec<Shape>),
        Tuple(u8, Box<Shape>),
        Fields { inner: Box<Shape>, n: u8 },
        Newtype(Newtype),
        Values(BTreeMap<u8, Shape>),
        Keys(BTreeMap<Shape, u8>),
        Pair((u8, Box<Shape>)),
        Array([Box<Shape>; 1]),
        Plain(Plain),
        PlainTuple(PlainTuple),
        Empty(Empty),
    }
    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
    struct Newtype(Box<Shape>);
    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
    struct Plain {
        inner: Box<Shape>,
        n: u8,
    }
    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
    struct PlainTuple(u8, Box<Shape>);
    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
    struct Empty;

    type Wrap = fn(Shape) -> Shape;
    // (wrapping, how many levels deeper the value it holds is than the wrapping enum)
    let wrappings: [(Wrap, usize); 14] = [
        (|s| Shape::Boxed(Box::new(s)), 1),
        (|s| Shape::Opt(Some(Box::new(s))), 2),
        (|s| Shape::Deep(Some(Some(Box::new(s)))), 3),
        (|s| Shape::Seq(vec![Shape::Unit, s]), 2),
        (|s| Shape::Tuple(1, Box::new(s)), 2),
        (|s| Shape::Fields { inner: Box::new(s), n: 2 }, 2),
        (|s| Shape::Newtype(Newtype(Box::new(s))), 2),
        (|s| Shape::Values([(3, s)].into()), 2),
        (|s| Shape::Keys([(s, 4)].into()), 2),
        (|s| Shape::Pair((5, Box::new(s))), 2),
        (|s| Shape::Array([Box::new(s)]), 2),
        (|s| Shape::Plain(Plain { inner: Box::new(s), n: 6 }), 2),
        (|s| Shape::PlainTuple(PlainTuple(7, Box::new(s))), 2),
        (|s| Shape::Opt(Some(Box::new(Shape::Boxed(Box::new(s))))), 3),
    ];
    // (innermost value, how many levels it needs, its own counted)
    let innermost: [(Shape, usize); 9] = [
        (Shape::Unit, 1),
        (Shape::Number(8), 1),
        (Shape::Text("text".into()), 1),
        (Shape::Opt(None), 1),
        (Shape::Empty(Empty), 1),
        (Shape::Blank {}, 2),
        (Shape::Seq(Vec::new()), 2),
        (Shape::Values(BTreeMap::new()), 2),
        (Shape::Seq(vec![Shape::Unit]), 3),
    ];
    let marker = Shape::Text("\u{1}marker\u{1}".into());
    let marker_bytes = encode_value("shape", &marker).unwrap();

    // Nests `leaf` in the wrappings of `pattern` (innermost first, repeating) as deep as it
    // encodes, checks the boundary and returns how many wrappings fit.
    let boundary = move |pattern: &[usize], leaf: &Shape, need: usize| -> usize {
        let mut value = leaf.clone();
        let mut bytes = encode_value("shape", &value).unwrap();
        let mut fits = 0;
        loop {
            assert_eq!(decode_value::<Shape>("shape", &bytes).unwrap(), value);
            let (wrap, _) = wrappings[pattern[fits % pattern.len()]];
            value = wrap(value);
            match encode_value("shape", &value) {
                Ok(deeper) => {
                    bytes = deeper;
                    fits += 1;
                    assert!(fits <= MAX_DEPTH, "the limit holds");
                }
                Err(error) => {
                    is_limit_error(&error, "shape", true);
                    let wrapped_marker = encode_value("shape", &wrap(marker.clone())).unwrap();
                    let deeper = splice(&wrapped_marker, &marker_bytes, &bytes);
                    let error = decode_value::<Shape>("shape", &deeper).unwrap_err();
                    is_limit_error(&error, "shape", false);
                    break;
                }
            }
        }
        // The rule: the innermost value lies at the sum of the costs of the wrappings
        // around it, and fits while that plus its need is at most `MAX_DEPTH`.
        let mut level = 0;
        let mut expected = 0;
        loop {
            let cost = wrappings[pattern[expected % pattern.len()]].1;
            if level + cost + need > MAX_DEPTH {
                break;
            }
            level += cost;
            expected += 1;
        }
        assert_eq!(fits, expected, "pattern {pattern:?} around {leaf:?}");
        fits
    };

    on_small_stack(move || {
        let mut cases = 0;
        for (leaf, need) in &innermost {
            for first in 0..wrappings.len() {
                boundary(&[first], leaf, *need);
                cases += 1;
            }
        }
        for first in 0..wrappings.len() {
            for second in 0..wrappings.len() {
                let (leaf, need) = &innermost[(first + second) % innermost.len()];
                boundary(&[first, second], leaf, *need);
                cases += 1;
            }
        }
        assert_eq!(cases, (innermost.len() + wrappings.len()) * wrappings.len());
        // One cost-1 wrapping around a leaf needing 1: exactly `MAX_DEPTH - 1` fit.
        assert_eq!(boundary(&[0], &Shape::Unit, 1), MAX_DEPTH - 1);
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
            let bytes = encode_value("tree", &tree).unwrap();
            let back: Tree = decode_value("tree", &bytes).unwrap();
            assert_eq!(back, tree);

            // One more wrapping is refused by encoding, and its bytes (the deepest value's
            // spliced into one more wrapping) by decoding.
            let error = encode_value("tree", &nest(fits + 1, wrap)).unwrap_err();
            is_limit_error(&error, "tree", true);
            let marker = encode_value("tree", &Tree::Leaf(0xab)).unwrap();
            let wrapped_marker = encode_value("tree", &wrap(Tree::Leaf(0xab))).unwrap();
            let deeper = splice(&wrapped_marker, &marker, &bytes);
            is_limit_error(&decode_value::<Tree>("tree", &deeper).unwrap_err(), "tree", false);
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
