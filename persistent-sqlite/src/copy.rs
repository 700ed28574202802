//! The SQLite side of copying a database between storages: reading whole transactions with
//! their revisions and reference lists (`Storage::transactions_after`) and writing one under
//! its own tid (`Storage::restore`, a batch per write transaction). Callers hold the connection; the oid reservations of
//! the storage value are `storage.rs`'s business.

use persistent_core::storage::{check_restorable, StoredRevision, StoredTransaction};
use persistent_core::{Oid, Tid};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::storage::last_tid;
use persistent_core::storage::sql_int::{
    oid_from_sql, oid_to_sql, tid_bound, tid_from_sql, tid_to_sql,
};

/// Why a copy call failed: an SQLite error while doing the named step, or a rule of
/// `restore` the transaction breaks.
pub(crate) enum CopyError {
    /// An SQLite call failed while doing the step named.
    Sql(&'static str, rusqlite::Error),
    /// The transaction cannot be restored here.
    Refused(persistent_core::Error),
}

/// Attaches the step to an SQLite error.
fn step(what: &'static str) -> impl Fn(rusqlite::Error) -> CopyError {
    move |error| CopyError::Sql(what, error)
}

/// The transactions with tid > `after`, oldest first, at most `limit`, read in one view.
pub(crate) fn transactions_after(
    conn: &mut Connection,
    after: Tid,
    limit: usize,
) -> Result<Vec<StoredTransaction>, CopyError> {
    let tx = conn.transaction().map_err(step("starting a read"))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let heads = tx
        .prepare_cached(
            r#"SELECT tid, username, description, extension, oids FROM "transaction"
               WHERE tid > ?1 ORDER BY tid LIMIT ?2"#,
        )
        .and_then(|mut stmt| {
            stmt.query_map((tid_bound(after), limit), |row| {
                Ok((tid_from_sql(row.get(0)?), row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
            })?
            .collect::<rusqlite::Result<Vec<(Tid, String, String, Vec<u8>, Vec<u8>)>>>()
        })
        .map_err(step("listing transactions"))?;
    // A transaction's revisions are found through its oid list (`oid_list.rs`); those a
    // pack removed are skipped.
    let mut revision = tx
        .prepare_cached("SELECT state FROM object_state WHERE zoid = ?1 AND tid = ?2")
        .map_err(step("reading a transaction's revisions"))?;
    let mut references = tx
        .prepare_cached(
            "SELECT to_zoid FROM object_ref WHERE zoid = ?1 AND tid = ?2 ORDER BY to_zoid",
        )
        .map_err(step("reading a revision's references"))?;
    let mut transactions = Vec::with_capacity(heads.len());
    for (tid, user, description, extension, oids) in heads {
        let tid_sql = tid_bound(tid);
        let oids = crate::oid_list::decode(&oids).map_err(CopyError::Refused)?;
        let mut stored = Vec::with_capacity(oids.len());
        for oid in oids {
            let zoid = oid_to_sql(oid);
            let Some(data) = revision
                .query_row((zoid, tid_sql), |row| row.get::<_, Vec<u8>>(0))
                .optional()
                .map_err(step("reading a transaction's revisions"))?
            else {
                continue;
            };
            let refs = references
                .query_map((zoid, tid_sql), |row| Ok(oid_from_sql(row.get(0)?)))
                .and_then(Iterator::collect::<rusqlite::Result<Vec<Oid>>>)
                .map_err(step("reading a revision's references"))?;
            stored.push(StoredRevision::new(oid_from_sql(zoid), data, refs));
        }
        transactions.push(StoredTransaction::new(tid, user, description, extension, stored));
    }
    Ok(transactions)
}

/// Writes the transactions of `batch` in one write transaction, each under its own tid,
/// moves each object's current revision, and raises the oid allocator above every oid
/// written.
pub(crate) fn restore(conn: &mut Connection, batch: &[StoredTransaction]) -> Result<(), CopyError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(step("starting a restore"))?;
    let last = last_tid(&tx).map_err(step("reading the last transaction"))?;
    check_restorable(batch, last).map_err(CopyError::Refused)?;
    let mut record = tx
        .prepare_cached(
            r#"INSERT INTO "transaction" (tid, username, description, extension, oids)
               VALUES (?1, ?2, ?3, ?4, ?5)"#,
        )
        .map_err(step("preparing a restore"))?;
    let mut current = tx
        .prepare_cached(
            "INSERT INTO current_object (zoid, tid) VALUES (?1, ?2) \
             ON CONFLICT (zoid) DO UPDATE SET tid = excluded.tid",
        )
        .map_err(step("preparing a restore"))?;
    let mut state = tx
        .prepare_cached("INSERT INTO object_state (zoid, tid, state) VALUES (?1, ?2, ?3)")
        .map_err(step("preparing a restore"))?;
    let mut reference = tx
        .prepare_cached("INSERT OR IGNORE INTO object_ref (zoid, tid, to_zoid) VALUES (?1, ?2, ?3)")
        .map_err(step("preparing a restore"))?;
    let mut highest = None;
    for txn in batch {
        let tid = tid_to_sql(txn.tid).map_err(CopyError::Refused)?;
        let oids = crate::oid_list::encode(txn.revisions.iter().map(|rev| rev.oid));
        record
            .execute((tid, &txn.user, &txn.description, &txn.extension, oids))
            .map_err(step("recording the transaction"))?;
        for rev in &txn.revisions {
            let zoid = oid_to_sql(rev.oid);
            current.execute((zoid, tid)).map_err(step("moving an object's current revision"))?;
            state.execute((zoid, tid, &rev.data)).map_err(step("writing an object"))?;
            for to in &rev.references {
                reference
                    .execute((zoid, tid, oid_to_sql(*to)))
                    .map_err(step("writing an object's references"))?;
            }
        }
        highest = highest.max(txn.highest_allocatable_oid());
    }
    drop((record, current, state, reference));
    if let Some(highest) = highest {
        tx.prepare_cached("UPDATE oid_allocator SET last_oid = MAX(last_oid, ?1) WHERE id = 0")
            .and_then(|mut stmt| stmt.execute([oid_to_sql(highest)]))
            .map_err(step("raising the oid allocator"))?;
    }
    tx.commit().map_err(step("committing a restore"))
}
