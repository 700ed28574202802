//! Ghost loads in SQLite: the revision of an oid visible before a tid (`Storage::load_visible`)
//! and of many oids under one lock and one read view (`Storage::load_visible_many`), both
//! through one cached statement stepped once per oid. (An `IN` list of 256 oids per
//! statement, sorted per oid or grouped with `MAX`, measured slower than these point
//! lookups: SQLite sorts the list into a temporary index first.) The caller holds the
//! connection inside a read view.

use persistent_core::storage::sql_int::{oid_to_sql, tid_bound, tid_from_sql};
use persistent_core::storage::VisibleRecord;
use persistent_core::{Oid, Tid};
use rusqlite::{CachedStatement, Connection, OptionalExtension};

/// The statement of one lookup: the newest revision of `?1` older than `?2`.
const VISIBLE: &str = "SELECT tid, state FROM object_state WHERE zoid = ?1 AND tid < ?2 \
                       ORDER BY tid DESC LIMIT 1";

/// One lookup with the prepared `VISIBLE` statement (`None` for an oid with no revision
/// before `bound`, or whose visible revision is empty: an absent object).
fn read_visible(
    stmt: &mut CachedStatement<'_>,
    oid: Oid,
    bound: i64,
) -> rusqlite::Result<Option<VisibleRecord>> {
    let found = stmt
        .query_row((oid_to_sql(oid), bound), |row| {
            Ok(VisibleRecord::new(row.get(1)?, tid_from_sql(row.get(0)?)))
        })
        .optional()?;
    Ok(found.filter(|record| !record.data.is_empty()))
}

/// The record of `oid` visible before `before`.
pub(crate) fn load_visible(
    conn: &Connection,
    oid: Oid,
    before: Tid,
) -> rusqlite::Result<Option<VisibleRecord>> {
    read_visible(&mut conn.prepare_cached(VISIBLE)?, oid, tid_bound(before))
}

/// The record visible before `before` of each oid, in the order of `oids`.
pub(crate) fn load_visible_many(
    conn: &Connection,
    oids: &[Oid],
    before: Tid,
) -> rusqlite::Result<Vec<Option<VisibleRecord>>> {
    let mut stmt = conn.prepare_cached(VISIBLE)?;
    let bound = tid_bound(before);
    oids.iter().map(|oid| read_visible(&mut stmt, *oid, bound)).collect()
}
