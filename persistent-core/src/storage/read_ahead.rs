//! Read-ahead for ghost loads, shared by the SQL storages: a load of oid `x` below the bound
//! `before` may also fetch the records visible below `before` of the next oids, in one
//! statement. Objects made together get consecutive oids, so walking a collection then
//! costs one statement per [`SPAN`] objects instead of one per object. When to read ahead
//! is each storage's choice (PostgreSQL on every ghost load, to save round trips; SQLite
//! when loads walk the oids in order); what is kept, and for how long, is decided here.
//!
//! The rule that makes a kept block correct: it holds, for each oid of its range, the newest
//! revision with tid < `before`, or says there is none, and it is kept only when `before` is
//! at most one past the newest committed tid of the statement's view (tids are handed out and
//! become visible in order, so no later commit can add a revision below such a bound; a
//! restore needs a tid above the newest too). Blocks are keyed by `before`, so each snapshot
//! reads its own; the last `KEEP` blocks are kept. Records over [`MAX_KEPT`] bytes are not
//! kept (they are fetched when asked for). Nothing here talks to a database.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

/// Oids fetched per read-ahead statement (the asked one and the ones after it).
pub const SPAN: i64 = 64;
/// Blocks kept.
const KEEP: usize = 16;
/// The largest record kept in a block, in bytes.
pub const MAX_KEPT: i32 = 8_192;

/// A revision as a block holds it: zoid, tid, state (`None`: too large to keep).
pub type Row = (i64, i64, Option<Vec<u8>>);

/// The visible revisions of the oids `lo..=hi` below `before` (SQL integers, see
/// [`sql_int`](super::sql_int)), sorted by zoid, one row per oid that has one.
#[derive(Debug)]
pub struct Block {
    /// The exclusive tid bound the rows were read below.
    pub before: i64,
    /// The first oid of the range.
    pub lo: i64,
    /// The last oid of the range.
    pub hi: i64,
    /// The newest visible revision of each oid of the range that has one, sorted by zoid.
    pub rows: Vec<Row>,
}

impl Block {
    /// Keeps `block` only if `newest`, the newest committed tid of the view it was read in,
    /// proves that no later commit can add a revision below its bound.
    #[must_use]
    pub fn keepable(&self, newest: i64) -> bool {
        self.before <= newest.saturating_add(1)
    }
}

/// The kept blocks of one storage (see the module docs).
#[derive(Debug, Default)]
pub struct ReadAhead {
    blocks: Mutex<VecDeque<Block>>,
}

/// What a kept block knows of an oid.
#[derive(Debug, PartialEq, Eq)]
pub enum Known {
    /// The newest visible revision: tid and state.
    Record(i64, Vec<u8>),
    /// No revision is visible.
    Absent,
    /// A block covers the oid but did not keep its record (over [`MAX_KEPT`] bytes): read
    /// that one record alone rather than reading ahead again.
    NotKept,
}

impl ReadAhead {
    /// What a kept block says of `zoid` below `before`, if one covers it.
    pub fn lookup(&self, zoid: i64, before: i64) -> Option<Known> {
        let blocks = self.blocks.lock().unwrap_or_else(PoisonError::into_inner);
        let block = blocks.iter().find(|b| b.before == before && b.lo <= zoid && zoid <= b.hi)?;
        match block.rows.binary_search_by_key(&zoid, |row| row.0) {
            Ok(at) => match &block.rows[at] {
                (_, tid, Some(state)) => Some(Known::Record(*tid, state.clone())),
                (_, _, None) => Some(Known::NotKept),
            },
            Err(_) => Some(Known::Absent),
        }
    }

    /// Keeps `block` if it is keepable in a view whose newest committed tid is `newest`
    /// ([`Block::keepable`]), dropping the oldest beyond `KEEP`.
    pub fn keep(&self, block: Block, newest: i64) {
        if !block.keepable(newest) {
            return;
        }
        let mut blocks = self.blocks.lock().unwrap_or_else(PoisonError::into_inner);
        if blocks.len() >= KEEP {
            blocks.pop_front();
        }
        blocks.push_back(block);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(before: i64, lo: i64, hi: i64, rows: Vec<Row>) -> Block {
        Block { before, lo, hi, rows }
    }

    #[test]
    fn a_kept_block_answers_for_its_range_and_bound_only() {
        let ahead = ReadAhead::default();
        ahead.keep(block(10, 1, 4, vec![(1, 5, Some(vec![1])), (3, 7, None)]), 9);
        assert_eq!(ahead.lookup(1, 10), Some(Known::Record(5, vec![1])));
        assert_eq!(ahead.lookup(2, 10), Some(Known::Absent));
        // Too large to keep: the caller fetches it alone.
        assert_eq!(ahead.lookup(3, 10), Some(Known::NotKept));
        // Outside the range, or another snapshot.
        assert_eq!(ahead.lookup(5, 10), None);
        assert_eq!(ahead.lookup(1, 11), None);
    }

    #[test]
    fn a_block_whose_bound_a_later_commit_could_reach_is_not_kept() {
        let ahead = ReadAhead::default();
        // Bound 20 with the view's newest at 9: a commit at tid 10..19 may come.
        ahead.keep(block(20, 1, 4, vec![(1, 5, Some(vec![1]))]), 9);
        assert_eq!(ahead.lookup(1, 20), None);
    }

    #[test]
    fn only_the_last_blocks_are_kept() {
        let ahead = ReadAhead::default();
        for i in 0..=i64::try_from(KEEP).unwrap() {
            ahead.keep(block(10, i * 10, i * 10 + 9, vec![]), 9);
        }
        assert_eq!(ahead.lookup(0, 10), None);
        assert_eq!(ahead.lookup(10, 10), Some(Known::Absent));
    }
}
