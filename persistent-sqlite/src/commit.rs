//! The statements of one transaction's commit, run inside a write transaction that the
//! caller (the commit group, `group.rs`) opened and will commit: the transaction row, then
//! per write the serial check that also moves the current revision, the revision and its
//! references; then the read-current checks. This is the one write path of objects.
//!
//! Rows are inserted several to a statement (`CHUNK`), the statement prepared once per
//! connection (`prepare_cached`), which halves SQLite's per-row work in a bulk commit. A
//! conflict is found by a statement that changes fewer rows than it was given; the caller
//! then rolls the transaction back (to its savepoint) and nothing of it stays.

use persistent_core::storage::TransactionData;
use persistent_core::{Error, Oid, Tid, TimeStamp};
use rusqlite::{Connection, OptionalExtension};

use persistent_core::storage::sql_int::{oid_to_sql, tid_bound, tid_from_sql};

/// Rows per multi-row `INSERT`: larger chunks gain little, and each size is one prepared
/// statement (this one, and the single-row one for the rest).
const CHUNK: usize = 64;

/// What makes a commit's statements fail: SQLite, or a serial that does not match.
pub(crate) enum WriteError {
    /// SQLite failed while `what` (an action, for the message).
    Sql(&'static str, rusqlite::Error),
    /// A serial did not match (`Error::Conflict`).
    Conflict(Error),
}

impl WriteError {
    fn sql(what: &'static str) -> impl Fn(rusqlite::Error) -> WriteError {
        move |error| WriteError::Sql(what, error)
    }
}

/// Writes `txn` under `tid` into the open write transaction of `conn`. On an error some of
/// its rows may be written: the caller rolls them back.
pub(crate) fn write_transaction(
    conn: &Connection,
    txn: &TransactionData,
    tid: i64,
) -> Result<(), WriteError> {
    let oids = crate::oid_list::encode(txn.writes.iter().map(|write| write.oid));
    conn.prepare_cached(
        r#"INSERT INTO "transaction" (tid, username, description, extension, oids)
           VALUES (?1, ?2, ?3, ?4, ?5)"#,
    )
    .and_then(|mut stmt| stmt.execute((tid, &txn.user, &txn.description, &txn.extension, oids)))
    .map_err(WriteError::sql("recording the transaction"))?;
    move_current_revisions(conn, txn, tid)?;
    // `OR IGNORE` spares SQLite a statement journal (a copy of every page a multi-row
    // statement changes, kept in case it aborts halfway); no row can be ignored here (the
    // tid is new and the oids distinct), and `insert_rows` counts the rows to be sure.
    let rows = txn.writes.len();
    insert_rows(
        conn,
        "OR IGNORE INTO object_state (zoid, tid, state)",
        rows,
        true,
        |stmt, i, at| {
            let write = &txn.writes[i];
            stmt.raw_bind_parameter(at, oid_to_sql(write.oid))?;
            stmt.raw_bind_parameter(at + 1, tid)?;
            stmt.raw_bind_parameter(at + 2, &write.data)
        },
    )
    .map_err(WriteError::sql("writing the objects"))?;
    let references: Vec<(Oid, Oid)> = txn
        .writes
        .iter()
        .flat_map(|write| write.references.iter().map(move |to| (write.oid, *to)))
        .collect();
    // A record may reference an oid twice: the second row is ignored.
    let rows = references.len();
    insert_rows(
        conn,
        "OR IGNORE INTO object_ref (zoid, tid, to_zoid)",
        rows,
        false,
        |stmt, i, at| {
            let (from, to) = references[i];
            stmt.raw_bind_parameter(at, oid_to_sql(from))?;
            stmt.raw_bind_parameter(at + 1, tid)?;
            stmt.raw_bind_parameter(at + 2, oid_to_sql(to))
        },
    )
    .map_err(WriteError::sql("writing the objects' references"))?;
    for &(oid, serial) in &txn.read_current {
        let actual =
            current_serial(conn, oid).map_err(WriteError::sql("checking an object's serial"))?;
        if actual != Some(serial) {
            return Err(conflict(oid, serial, actual));
        }
    }
    Ok(())
}

/// The serial check and the move of the current revision, one statement per changed
/// object (`UPDATE .. WHERE tid = expected`) and one multi-row `INSERT .. ON CONFLICT DO
/// NOTHING` per chunk of new ones: a row not changed is a conflict.
fn move_current_revisions(
    conn: &Connection,
    txn: &TransactionData,
    tid: i64,
) -> Result<(), WriteError> {
    let new: Vec<Oid> =
        txn.writes.iter().filter(|w| w.expected_serial.is_none()).map(|w| w.oid).collect();
    let mut start = 0;
    for changed in chunk_counts(new.len()) {
        let sql = multi_row_sql(
            "INTO current_object (zoid, tid)",
            2,
            changed,
            " ON CONFLICT (zoid) DO NOTHING",
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(WriteError::sql("preparing a commit"))?;
        for (i, oid) in new[start..start + changed].iter().enumerate() {
            stmt.raw_bind_parameter(2 * i + 1, oid_to_sql(*oid))
                .and_then(|()| stmt.raw_bind_parameter(2 * i + 2, tid))
                .map_err(WriteError::sql("preparing a commit"))?;
        }
        let inserted = stmt.raw_execute().map_err(WriteError::sql("recording new objects"))?;
        if inserted != changed {
            // Some object of the chunk exists already: name the first.
            for &oid in &new[start..start + changed] {
                let actual = current_serial(conn, oid)
                    .map_err(WriteError::sql("checking an object's serial"))?;
                if actual.is_some_and(|serial| serial.as_u64() != u64::try_from(tid).unwrap_or(0)) {
                    return Err(conflict(oid, TimeStamp::ZERO, actual));
                }
            }
        }
        start += changed;
    }
    let mut update = conn
        .prepare_cached("UPDATE current_object SET tid = ?2 WHERE zoid = ?1 AND tid = ?3")
        .map_err(WriteError::sql("preparing a commit"))?;
    for write in &txn.writes {
        let Some(expected) = write.expected_serial else { continue };
        let changed = update
            .execute((oid_to_sql(write.oid), tid, tid_bound(expected)))
            .map_err(WriteError::sql("updating an object's current revision"))?;
        if changed == 0 {
            let actual = current_serial(conn, write.oid)
                .map_err(WriteError::sql("checking an object's serial"))?;
            return Err(conflict(write.oid, expected, actual));
        }
    }
    Ok(())
}

/// Inserts `rows` rows of three values by `INSERT {into} VALUES ..` (`into`: `INTO table
/// (columns)`, maybe with `OR IGNORE` before it), `CHUNK` to a statement;
/// `bind(stmt, row, first_parameter)` binds one row's values. With `exact`, a row not
/// inserted is an error.
fn insert_rows(
    conn: &Connection,
    into: &str,
    rows: usize,
    exact: bool,
    mut bind: impl FnMut(&mut rusqlite::CachedStatement<'_>, usize, usize) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let mut start = 0;
    for count in chunk_counts(rows) {
        let sql = multi_row_sql(into, 3, count, "");
        let mut stmt = conn.prepare_cached(&sql)?;
        for row in 0..count {
            bind(&mut stmt, start + row, 3 * row + 1)?;
        }
        let inserted = stmt.raw_execute()?;
        if exact && inserted != count {
            return Err(rusqlite::Error::StatementChangedRows(inserted));
        }
        start += count;
    }
    Ok(())
}

/// The sizes of the statements that insert `rows` rows: full chunks, then single rows (so
/// that only two statements per table are ever prepared).
fn chunk_counts(rows: usize) -> impl Iterator<Item = usize> {
    let full = rows / CHUNK;
    std::iter::repeat_n(CHUNK, full).chain(std::iter::repeat_n(1, rows % CHUNK))
}

/// `INSERT {into} VALUES (?, ..), (?, ..) ..{tail}`: `rows` rows of `width` parameters.
fn multi_row_sql(into: &str, width: usize, rows: usize, tail: &str) -> String {
    let row = format!("({})", vec!["?"; width].join(", "));
    format!("INSERT {into} VALUES {}{tail}", vec![row; rows].join(", "))
}

/// The current serial of `oid`, if it was ever stored.
pub(crate) fn current_serial(conn: &Connection, oid: Oid) -> rusqlite::Result<Option<Tid>> {
    conn.prepare_cached("SELECT tid FROM current_object WHERE zoid = ?1")?
        .query_row([oid_to_sql(oid)], |row| row.get::<_, i64>(0))
        .optional()
        .map(|tid| tid.map(tid_from_sql))
}

fn conflict(oid: Oid, expected: Tid, actual: Option<Tid>) -> WriteError {
    WriteError::Conflict(Error::Conflict {
        oid,
        expected,
        actual: actual.unwrap_or(TimeStamp::ZERO),
    })
}
