//! Shared support for the workspace's integration tests: a hand-implemented persistent type
//! (`Item`: an int, a string and a float, the benchmark shape) and `StubDm`, a data manager
//! whose `setstate` applies a fixed state and which counts `setstate` and `register` calls
//! and can be told to fail. More support lives in submodules: persistent types holding
//! references (`graph`), storage backends for database tests (`backend`), temp dirs
//! (`tempdir`) and child processes (`process`).

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_precision_loss,
    clippy::missing_panics_doc,
    clippy::must_use_candidate,
    reason = "test code: small test values; helpers panic on failure by design; helpers called for effect too"
)]

pub mod backend;
pub mod graph;
pub mod process;
pub mod releases;
pub mod rss;

pub use backend::{format1_record, write_raw, Backend};

/// The examples of `docs/guide.md`, compiled and run as doctests.
#[doc = include_str!("../../docs/guide.md")]
#[cfg(doctest)]
pub struct GuideDoctests;

pub use graph::{Node, Other};
pub use persistent_testkit::{StubDm, TempDir};
pub use process::{soak_rounds, wait_for_line, KillOnDrop, Rng};
pub use releases::{RowV1, RowV2};
pub use rss::{peak_rss_kib, reset_peak_rss};

use persistent::codec::{decode_field, encode_field, finish_decode};
use persistent::prelude::*;
use persistent::{Cache, PObject, Result};

/// Three fields, like the Python reference's benchmark objects.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Item {
    /// An integer.
    pub n: i64,
    /// A string.
    pub name: String,
    /// A float.
    pub value: f64,
}

impl Persistent for Item {
    type Object = PObject<Item>;
    const TYPE_NAME: &'static str = "persistent_tests::Item";

    fn encode_state(&self, out: &mut Vec<u8>) -> Result<()> {
        encode_field(Self::TYPE_NAME, &self.n, out)?;
        encode_field(Self::TYPE_NAME, &self.name, out)?;
        encode_field(Self::TYPE_NAME, &self.value, out)
    }

    fn decode_state(bytes: &[u8]) -> Result<Self> {
        let mut input = bytes;
        let n = decode_field(Self::TYPE_NAME, &mut input)?;
        let name = decode_field(Self::TYPE_NAME, &mut input)?;
        let value = decode_field(Self::TYPE_NAME, &mut input)?;
        finish_decode(Self::TYPE_NAME, input)?;
        Ok(Item { n, name, value })
    }
}

impl Item {
    /// An item numbered `n`.
    #[must_use]
    pub fn numbered(n: i64) -> Item {
        Item { n, name: format!("item-{n}"), value: n as f64 * 0.5 }
    }
}

/// Gives `p` an oid and a jar (outside any cache).
pub fn attach<T: Persistent>(p: &P<T>, oid: u64, jar: &Jar) {
    p.as_object().p_set_oid(Some(Oid(oid))).expect("not cached");
    p.as_object().p_set_jar(Some(jar.clone())).expect("not cached");
}

/// A new `UpToDate` item numbered `n` with oid `n`, inserted into `cache`.
pub fn cached_item(cache: &Cache, n: u64) -> P<Item> {
    let p = P::new(Item::numbered(n as i64));
    attach(&p, n, cache.jar());
    cache.insert(Oid(n), &p).expect("insert");
    p
}

/// The oids of the ring, LRU first.
#[must_use]
pub fn ring_oids(cache: &Cache) -> Vec<u64> {
    cache.lru_items().into_iter().map(|(oid, _)| oid.0).collect()
}

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
