//! Read-ahead for ghost loads (`load_visible`): a load of oid `x` below the bound `before`
//! also fetches, in the same statement, the records visible below `before` of the next
//! `SPAN - 1` oids. Objects made together get consecutive oids, so walking a collection
//! then costs one round trip per `SPAN` objects instead of one per object.
//!
//! The rule that makes a kept block correct: it holds, for each oid of its range, the newest
//! revision with tid < `before`, or says there is none, and it is kept only when `before` is
//! at most one past the newest committed tid of the statement's view (tids are handed out and
//! become visible in order, so no later commit can add a revision below such a bound; a
//! restore needs a tid above the newest too). Blocks are keyed by `before`, so each snapshot
//! reads its own; the last `KEEP` blocks are kept. Records over `MAX_KEPT` bytes are not kept
//! (they are fetched when asked for). Nothing here talks to the server.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

/// Oids fetched per read-ahead statement (the asked one and the ones after it).
pub(crate) const SPAN: i64 = 64;
/// Blocks kept.
const KEEP: usize = 16;
/// The largest record kept in a block, in bytes.
pub(crate) const MAX_KEPT: i32 = 8_192;

/// A revision as a block holds it: zoid, tid, state (`None`: too large to keep).
pub(crate) type Row = (i64, i64, Option<Vec<u8>>);

/// The visible revisions of the oids `lo..=hi` below `before`, sorted by zoid.
pub(crate) struct Block {
    pub(crate) before: i64,
    pub(crate) lo: i64,
    pub(crate) hi: i64,
    pub(crate) rows: Vec<Row>,
}

/// The kept blocks (see the module docs).
#[derive(Default)]
pub(crate) struct ReadAhead {
    blocks: Mutex<VecDeque<Block>>,
}

/// What a block knows of an oid.
pub(crate) enum Known {
    /// The newest visible revision: tid and state.
    Record(i64, Vec<u8>),
    /// No revision is visible.
    Absent,
}

impl ReadAhead {
    /// What a kept block says of `zoid` below `before`, if one covers it.
    pub(crate) fn lookup(&self, zoid: i64, before: i64) -> Option<Known> {
        let blocks = self.blocks.lock().unwrap_or_else(PoisonError::into_inner);
        let block = blocks.iter().find(|b| b.before == before && b.lo <= zoid && zoid <= b.hi)?;
        match block.rows.binary_search_by_key(&zoid, |row| row.0) {
            Ok(at) => match &block.rows[at] {
                (_, tid, Some(state)) => Some(Known::Record(*tid, state.clone())),
                (_, _, None) => None,
            },
            Err(_) => Some(Known::Absent),
        }
    }

    /// Keeps `block`, dropping the oldest beyond `KEEP`.
    pub(crate) fn keep(&self, block: Block) {
        let mut blocks = self.blocks.lock().unwrap_or_else(PoisonError::into_inner);
        if blocks.len() >= KEEP {
            blocks.pop_front();
        }
        blocks.push_back(block);
    }
}
