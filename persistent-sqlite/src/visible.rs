//! Ghost loads in SQLite: the revision of an oid visible before a tid
//! (`Storage::load_visible`), and of many oids under one lock and one read view
//! (`Storage::load_visible_many`). The caller holds the connection inside a read view.
//!
//! Two ways to read, chosen by the shape of the request:
//! * a point lookup (`VISIBLE`), one statement step per oid, for an oid on its own;
//! * a range scan (`RANGE`) over `lo..=hi`, which reads the rows of a run of nearby oids in
//!   key order and keeps the first (newest visible) revision of each oid: it costs about
//!   0.17 µs per row against 0.40 µs per point lookup, because SQLite walks one leaf after
//!   another instead of descending the tree for each oid. Older revisions in the range are
//!   stepped over without copying their state.
//!
//! `load_visible_many` sorts the oids and scans each run of at least `MIN_RUN` oids whose
//! neighbours are at most `RUN_GAP` apart; the rest are looked up. `load_visible` reads
//! ahead (`persistent_core::storage::read_ahead`) only when loads walk the oids in order
//! (this oid is above the last loaded, at most `RUN_GAP` after it): a block of `SPAN` oids
//! for the price of about seven point lookups, which a random access pattern would waste. (An `IN` list of
//! oids per statement was measured slower than point lookups: SQLite sorts the list into a
//! temporary index first.)

use persistent_core::storage::read_ahead::{self, Block, ReadAhead};
use persistent_core::storage::sql_int::{oid_to_sql, tid_bound, tid_from_sql};
use persistent_core::storage::VisibleRecord;
use persistent_core::{Oid, Tid};
use rusqlite::{CachedStatement, Connection, OptionalExtension};

/// The newest revision of `?1` older than `?2`.
const VISIBLE: &str = "SELECT tid, state FROM object_state WHERE zoid = ?1 AND tid < ?2 \
                       ORDER BY tid DESC LIMIT 1";

/// Every revision of the oids `?1..=?2` older than `?3`, newest first per oid (the key
/// order, walked backwards: no sort).
const RANGE: &str = "SELECT zoid, tid, state FROM object_state \
                     WHERE zoid BETWEEN ?1 AND ?2 AND tid < ?3 ORDER BY zoid DESC, tid DESC";

/// Two requested oids at most this far apart are read by one range scan.
const RUN_GAP: i64 = 4;

/// Whether a load of `zoid` after one of `last` walks the oids in order: it is above
/// `last` and at most `RUN_GAP` after it (objects made together, maybe interleaved with a
/// few others).
pub(crate) fn walks_on(last: i64, zoid: i64) -> bool {
    zoid > last && zoid.checked_sub(last).is_some_and(|distance| distance <= RUN_GAP)
}

/// The fewest oids a run needs to be scanned rather than looked up one by one.
const MIN_RUN: usize = 4;

/// A record as loads return it: an empty state is an undone creation, an absent object.
pub(crate) fn visible(tid: i64, data: Vec<u8>) -> Option<VisibleRecord> {
    Some(VisibleRecord::new(data, tid_from_sql(tid))).filter(|record| !record.data.is_empty())
}

/// One point lookup with the prepared `VISIBLE` statement.
fn read_visible(
    stmt: &mut CachedStatement<'_>,
    zoid: i64,
    bound: i64,
) -> rusqlite::Result<Option<VisibleRecord>> {
    let found = stmt
        .query_row((zoid, bound), |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?)))
        .optional()?;
    Ok(found.and_then(|(tid, data)| visible(tid, data)))
}

/// Scans the oids `lo..=hi` below `bound`, calling `each(zoid, tid, state)` with the newest
/// visible revision of each oid that has one, in descending oid order.
fn scan(
    conn: &Connection,
    lo: i64,
    hi: i64,
    bound: i64,
    mut each: impl FnMut(i64, i64, &[u8]),
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(RANGE)?;
    let mut rows = stmt.query((lo, hi, bound))?;
    let mut previous = None;
    while let Some(row) = rows.next()? {
        let zoid: i64 = row.get(0)?;
        if previous == Some(zoid) {
            continue;
        }
        previous = Some(zoid);
        each(zoid, row.get(1)?, row.get_ref(2)?.as_blob()?);
    }
    Ok(())
}

/// The record of `oid` visible before `before`. With `walk_newest` (the loads walk the
/// oids in order; the newest committed tid of the read view), the next oids are read in the
/// same scan and kept in `ahead` if the rule of `read_ahead` allows.
pub(crate) fn load_visible(
    conn: &Connection,
    ahead: &ReadAhead,
    oid: Oid,
    before: Tid,
    walk_newest: Option<Tid>,
) -> rusqlite::Result<Option<VisibleRecord>> {
    let (zoid, bound) = (oid_to_sql(oid), tid_bound(before));
    let Some(newest) = walk_newest else {
        return read_visible(&mut conn.prepare_cached(VISIBLE)?, zoid, bound);
    };
    let hi = zoid.saturating_add(read_ahead::SPAN - 1);
    let mut rows = Vec::new();
    let mut found = None;
    scan(conn, zoid, hi, bound, |at, tid, state| {
        if at == zoid {
            found = Some((tid, state.to_vec()));
        }
        let kept = (state.len() <= read_ahead::MAX_KEPT as usize).then(|| state.to_vec());
        rows.push((at, tid, kept));
    })?;
    rows.reverse();
    ahead.keep(Block { before: bound, lo: zoid, hi, rows }, tid_bound(newest));
    Ok(found.and_then(|(tid, data)| visible(tid, data)))
}

/// The record visible before `before` of each oid, in the order of `oids`.
pub(crate) fn load_visible_many(
    conn: &Connection,
    oids: &[Oid],
    before: Tid,
) -> rusqlite::Result<Vec<Option<VisibleRecord>>> {
    let bound = tid_bound(before);
    let mut found: Vec<Option<VisibleRecord>> = vec![None; oids.len()];
    // (zoid, position asked), in key order.
    let mut order: Vec<(i64, usize)> =
        oids.iter().enumerate().map(|(at, oid)| (oid_to_sql(*oid), at)).collect();
    order.sort_unstable();
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        let mut distinct = 1;
        while end < order.len() && order[end].0.saturating_sub(order[end - 1].0) <= RUN_GAP {
            distinct += usize::from(order[end].0 != order[end - 1].0);
            end += 1;
        }
        let run = &order[start..end];
        if distinct >= MIN_RUN {
            // Rows come newest oid first: match them against the run from its end.
            let mut open = run.len();
            scan(conn, run[0].0, run[run.len() - 1].0, bound, |zoid, tid, state| {
                while open > 0 && run[open - 1].0 > zoid {
                    open -= 1;
                }
                while open > 0 && run[open - 1].0 == zoid {
                    found[run[open - 1].1] = visible(tid, state.to_vec());
                    open -= 1;
                }
            })?;
        } else {
            let mut stmt = conn.prepare_cached(VISIBLE)?;
            for &(zoid, at) in run {
                found[at] = read_visible(&mut stmt, zoid, bound)?;
            }
        }
        start = end;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::walks_on;

    #[test]
    fn a_walk_is_a_load_shortly_after_the_last() {
        assert!(walks_on(10, 11));
        assert!(walks_on(10, 14));
        assert!(!walks_on(10, 15));
        assert!(!walks_on(10, 10));
        assert!(!walks_on(10, 9));
        // No overflow at the ends of the range.
        assert!(!walks_on(i64::MIN, i64::MAX));
        assert!(walks_on(i64::MIN, i64::MIN + 1));
        assert!(!walks_on(i64::MAX, i64::MIN));
    }
}
