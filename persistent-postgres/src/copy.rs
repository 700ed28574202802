//! The PostgreSQL side of copying a database between storages: reading whole transactions
//! with their revisions and reference lists (`Storage::transactions_after`, one statement)
//! and writing a batch of them under their own tids (`Storage::restore`: the commit lock,
//! one statement for everything, the oid sequence raised past every oid written).

use persistent_core::storage::{check_restorable, StoredRevision, StoredTransaction};
use persistent_core::{Error, Result, Tid};

use crate::storage::PostgresStorage;
use persistent_core::storage::sql_int::{
    oid_from_sql, oid_to_sql, tid_bound, tid_from_sql, tid_to_sql,
};

/// The transactions after `$1`, at most `$2`, each row one revision (or none) with its
/// reference list: one statement, so one view.
const READ: &str = r#"WITH h AS (SELECT tid, username, description, extension
       FROM "transaction" WHERE tid > $1 ORDER BY tid LIMIT $2)
     SELECT h.tid, h.username, h.description, h.extension, s.zoid, s.state,
       array(SELECT r.to_zoid FROM object_ref r WHERE r.zoid = s.zoid AND r.tid = s.tid
             ORDER BY r.to_zoid)
     FROM h LEFT JOIN object_state s ON s.tid = h.tid ORDER BY h.tid, s.zoid"#;

/// Writes a batch of restored transactions (the clock row is locked already): `$1` the
/// newest tid, `$2` the one before it; one row per transaction, revision, object and
/// reference in the arrays.
const WRITE: &str = r#"WITH clock AS (UPDATE tid_clock SET previous = $2, tid = $1 WHERE id = 0),
     txn AS (INSERT INTO "transaction" (tid, username, description, extension)
       SELECT * FROM unnest($3::int8[], $4::text[], $5::text[], $6::bytea[])),
     states AS (INSERT INTO object_state (zoid, tid, state)
       SELECT * FROM unnest($7::int8[], $8::int8[], $9::bytea[])),
     cur AS (INSERT INTO current_object (zoid, tid) SELECT * FROM unnest($10::int8[], $11::int8[])
       ON CONFLICT (zoid) DO UPDATE SET tid = excluded.tid),
     refs AS (INSERT INTO object_ref (zoid, tid, to_zoid)
       SELECT * FROM unnest($12::int8[], $13::int8[], $14::int8[]))
     SELECT 1"#;

/// Raises the oid sequence so that it never hands out `$1` or below.
const RAISE_OIDS: &str =
    "SELECT setval('oid_seq', greatest((SELECT last_value FROM oid_seq), $1::int8))";

pub(crate) fn transactions_after(
    storage: &PostgresStorage,
    after: Tid,
    limit: usize,
) -> Result<Vec<StoredTransaction>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = storage.read("reading transactions to copy", |s| {
        let statement = s.prepare(READ)?;
        s.client.query(&statement, &[&tid_bound(after), &limit])
    })?;
    let mut transactions: Vec<StoredTransaction> = Vec::new();
    for row in &rows {
        let tid = tid_from_sql(row.get(0));
        if transactions.last().is_none_or(|txn| txn.tid != tid) {
            transactions.push(StoredTransaction::new(
                tid,
                row.get(1),
                row.get(2),
                row.get(3),
                Vec::new(),
            ));
        }
        // Rows come by ascending oid within a transaction, so the revisions stay sorted.
        if let (Some(zoid), Some(txn)) = (row.get::<_, Option<i64>>(4), transactions.last_mut()) {
            let references: Vec<i64> = row.get(6);
            txn.revisions.push(StoredRevision::new(
                oid_from_sql(zoid),
                row.get(5),
                references.into_iter().map(oid_from_sql).collect(),
            ));
        }
    }
    Ok(transactions)
}

/// A batch of transactions as the columns `WRITE` takes.
#[derive(Default)]
struct Columns<'a> {
    tids: Vec<i64>,
    users: Vec<&'a str>,
    descriptions: Vec<&'a str>,
    extensions: Vec<&'a [u8]>,
    state_zoids: Vec<i64>,
    state_tids: Vec<i64>,
    states: Vec<&'a [u8]>,
    /// Each object written once, with its newest tid in the batch.
    current: std::collections::BTreeMap<i64, i64>,
    ref_zoids: Vec<i64>,
    ref_tids: Vec<i64>,
    ref_to: Vec<i64>,
}

pub(crate) fn restore(storage: &PostgresStorage, batch: &[StoredTransaction]) -> Result<()> {
    let Some(newest) = batch.last() else { return Ok(()) };
    let mut columns = Columns::default();
    for txn in batch {
        let tid = tid_to_sql(txn.tid)?;
        columns.tids.push(tid);
        columns.users.push(&txn.user);
        columns.descriptions.push(&txn.description);
        columns.extensions.push(&txn.extension);
        for rev in &txn.revisions {
            let zoid = oid_to_sql(rev.oid);
            columns.state_zoids.push(zoid);
            columns.state_tids.push(tid);
            columns.states.push(&rev.data);
            columns.current.insert(zoid, tid);
            for to in &rev.references {
                columns.ref_zoids.push(zoid);
                columns.ref_tids.push(tid);
                columns.ref_to.push(oid_to_sql(*to));
            }
        }
    }
    let (current_zoids, current_tids): (Vec<i64>, Vec<i64>) = columns.current.into_iter().unzip();
    let highest = batch
        .iter()
        .filter_map(StoredTransaction::highest_allocatable_oid)
        .max()
        .map(oid_to_sql)
        .filter(|oid| *oid > 0);
    let newest_tid = tid_to_sql(newest.tid)?;
    let mut session = storage.pool.get()?;
    let err = |what: &'static str| move |e| storage.err(what, e);
    let write = session.prepare(WRITE).map_err(err("preparing a restore"))?;
    let mut tx = session.client.transaction().map_err(err("starting a restore"))?;
    let last: i64 = tx
        .query_one("SELECT tid FROM tid_clock WHERE id = 0 FOR UPDATE", &[])
        .map_err(err("taking the commit lock"))?
        .get(0);
    check_restorable(batch, tid_from_sql(last))?;
    let previous = columns.tids.len().checked_sub(2).map_or(last, |at| columns.tids[at]);
    tx.query_one(
        &write,
        &[
            &newest_tid,
            &previous,
            &columns.tids,
            &columns.users,
            &columns.descriptions,
            &columns.extensions,
            &columns.state_zoids,
            &columns.state_tids,
            &columns.states,
            &current_zoids,
            &current_tids,
            &columns.ref_zoids,
            &columns.ref_tids,
            &columns.ref_to,
        ],
    )
    .map_err(err("writing restored transactions"))?;
    if let Some(highest) = highest {
        tx.query_one(RAISE_OIDS, &[&highest]).map_err(err("raising the oid sequence"))?;
    }
    tx.commit().map_err(err("committing a restore"))?;
    Ok::<(), Error>(())
}
