//! The PostgreSQL side of copying a database between storages: reading whole transactions
//! with their revisions and reference lists (`Storage::transactions_after`, one statement)
//! and writing one under its own tid (`Storage::restore`: the commit lock, one statement
//! for everything, the oid sequence raised past every oid written).

use persistent_core::storage::{StoredRevision, StoredTransaction};
use persistent_core::{Error, Result, Tid};

use crate::convert::{oid_from_sql, oid_to_sql, tid_bound, tid_from_sql, tid_to_sql};
use crate::storage::PostgresStorage;

/// The transactions after `$1`, at most `$2`, each row one revision (or none) with its
/// reference list: one statement, so one view.
const READ: &str = r#"WITH h AS (SELECT tid, username, description, extension
       FROM "transaction" WHERE tid > $1 ORDER BY tid LIMIT $2)
     SELECT h.tid, h.username, h.description, h.extension, s.zoid, s.state,
       array(SELECT r.to_zoid FROM object_ref r WHERE r.zoid = s.zoid AND r.tid = s.tid
             ORDER BY r.to_zoid)
     FROM h LEFT JOIN object_state s ON s.tid = h.tid ORDER BY h.tid, s.zoid"#;

/// Writes a restored transaction under its tid `$1` (the clock row is locked already).
const WRITE: &str = r#"WITH clock AS (UPDATE tid_clock SET previous = tid, tid = $1 WHERE id = 0),
     txn AS (INSERT INTO "transaction" (tid, username, description, extension)
       VALUES ($1, $2, $3, $4)),
     states AS (INSERT INTO object_state (zoid, tid, state)
       SELECT u.zoid, $1, u.state FROM unnest($5::int8[], $6::bytea[]) AS u(zoid, state)),
     cur AS (INSERT INTO current_object (zoid, tid) SELECT z, $1 FROM unnest($5::int8[]) AS z
       ON CONFLICT (zoid) DO UPDATE SET tid = excluded.tid),
     refs AS (INSERT INTO object_ref (zoid, tid, to_zoid)
       SELECT r.zoid, $1, r.to_zoid FROM unnest($7::int8[], $8::int8[]) AS r(zoid, to_zoid))
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

pub(crate) fn restore(storage: &PostgresStorage, txn: &StoredTransaction) -> Result<()> {
    let tid = tid_to_sql(txn.tid)?;
    let zoids: Vec<i64> = txn.revisions.iter().map(|rev| oid_to_sql(rev.oid)).collect();
    let states: Vec<&[u8]> = txn.revisions.iter().map(|rev| rev.data.as_slice()).collect();
    let (mut ref_from, mut ref_to) = (Vec::new(), Vec::new());
    for rev in &txn.revisions {
        for to in &rev.references {
            ref_from.push(oid_to_sql(rev.oid));
            ref_to.push(oid_to_sql(*to));
        }
    }
    let highest = txn.highest_allocatable_oid().map(oid_to_sql).filter(|oid| *oid > 0);
    let mut session = storage.pool.get()?;
    let err = |what: &'static str| move |e| storage.err(what, e);
    let write = session.prepare(WRITE).map_err(err("preparing a restore"))?;
    let mut tx = session.client.transaction().map_err(err("starting a restore"))?;
    let last: i64 = tx
        .query_one("SELECT tid FROM tid_clock WHERE id = 0 FOR UPDATE", &[])
        .map_err(err("taking the commit lock"))?
        .get(0);
    txn.check_restorable(tid_from_sql(last))?;
    tx.query_one(
        &write,
        &[&tid, &txn.user, &txn.description, &txn.extension, &zoids, &states, &ref_from, &ref_to],
    )
    .map_err(err("writing a restored transaction"))?;
    if let Some(highest) = highest {
        tx.query_one(RAISE_OIDS, &[&highest]).map_err(err("raising the oid sequence"))?;
    }
    tx.commit().map_err(err("committing a restore"))?;
    Ok::<(), Error>(())
}
