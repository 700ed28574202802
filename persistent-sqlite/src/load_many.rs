//! `Storage::load_visible_many` for SQLite: the revisions of many oids visible before a tid,
//! under one lock and one read view, stepping the cached statement of `load_visible` once
//! per oid. (An `IN` list of 256 oids per statement, sorted per oid or grouped with `MAX`,
//! measured slower than these point lookups: SQLite sorts the list into a temporary index
//! first.) The caller holds the connection inside a read view.

use persistent_core::storage::VisibleRecord;
use persistent_core::{Oid, Tid};
use rusqlite::{Connection, OptionalExtension};

use persistent_core::storage::sql_int::{oid_to_sql, tid_bound, tid_from_sql};

/// The statement of one lookup: the newest revision of `?1` older than `?2`.
pub(crate) const VISIBLE: &str =
    "SELECT tid, state FROM object_state WHERE zoid = ?1 AND tid < ?2 \
                                  ORDER BY tid DESC LIMIT 1";

/// The record visible before `before` of each oid, in the order of `oids` (`None` for an
/// oid with none, or whose visible revision is empty: an absent object).
pub(crate) fn load_visible_many(
    conn: &Connection,
    oids: &[Oid],
    before: Tid,
) -> rusqlite::Result<Vec<Option<VisibleRecord>>> {
    let mut stmt = conn.prepare_cached(VISIBLE)?;
    let bound = tid_bound(before);
    oids.iter()
        .map(|oid| {
            let found = stmt
                .query_row((oid_to_sql(*oid), bound), |row| {
                    Ok(VisibleRecord::new(row.get(1)?, tid_from_sql(row.get(0)?)))
                })
                .optional()?;
            Ok(found.filter(|record| !record.data.is_empty()))
        })
        .collect()
}
