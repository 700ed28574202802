//! `Storage::pack` for PostgreSQL (docs/spec.md §10), in SQL on a session of its own, so the
//! other sessions keep serving loads and commits meanwhile.
//!
//! 1. Mark, in one statement: a recursive CTE from the roots (`Oid::ROOT`, `Oid::SCHEMAS`,
//!    every object with a revision from `before` on) over the `object_ref` rows of kept
//!    revisions, into the session's temporary table `pack_reach`.
//! 2. Sweep in oid order, one transaction per `BATCH` objects: lock the batch's
//!    `current_object` rows (in oid order, as commits do) and then the `tid_clock` row (the
//!    commit lock, so no commit slips in), mark what commits made since the last look
//!    reach, delete the batch's unreachable objects (and those whose current record is
//!    empty), then the revisions older than the one current at `before`.
//! 3. Delete transactions left with no revision, in batches, never the newest.
//! 4. `VACUUM` the tables so their freed space is reused (PostgreSQL does not shrink files
//!    without `VACUUM FULL`, which locks everything; run it offline if needed).
//!
//! Every batch commits on its own: a pack killed halfway leaves a whole database, and packing
//! again finishes the work. The bound is recorded in `schema_info` before anything is removed.

use persistent_core::storage::{pack_horizon, PackPhase, PackProgress, PackReport};
use persistent_core::{Oid, Result, Tid};
use postgres::Client;

use crate::storage::PostgresStorage;
use persistent_core::storage::sql_int::{oid_to_sql, tid_bound, tid_from_sql};

/// Objects examined per sweep transaction.
const BATCH: i64 = 1_000;
/// Transactions examined per transaction-table batch.
const TXN_BATCH: i64 = 20_000;

/// Whether the revision `r` (an `object_ref` row) is kept by a pack to `$1`: it is the
/// newest of its object older than `$1`, or not older than `$1`.
const KEPT_REF: &str = "NOT EXISTS (SELECT 1 FROM object_state n \
     WHERE n.zoid = r.zoid AND n.tid > r.tid AND n.tid < $1)";

/// Marks into `pack_reach` the oids reachable from the seeds (a SELECT of `zoid`; `$1` is
/// the bound), following the edges of kept revisions into unmarked oids.
fn mark_sql(seeds: &str) -> String {
    format!(
        "WITH RECURSIVE seed(zoid) AS ({seeds}), \
         reach(zoid) AS (SELECT zoid FROM seed \
           UNION SELECT r.to_zoid FROM reach JOIN object_ref r ON r.zoid = reach.zoid \
           WHERE {KEPT_REF} AND NOT EXISTS (SELECT 1 FROM pack_reach p WHERE p.zoid = r.to_zoid)) \
         INSERT INTO pack_reach (zoid) SELECT zoid FROM reach ON CONFLICT DO NOTHING"
    )
}

/// Counts removed rows and bytes of a `DELETE ... RETURNING length(state) AS n`.
fn count_removed(delete: &str) -> String {
    format!("WITH d AS ({delete}) SELECT count(*), coalesce(sum(n), 0)::int8 FROM d")
}

pub(crate) fn pack(
    storage: &PostgresStorage,
    before: Tid,
    progress: &mut dyn FnMut(&PackProgress),
) -> Result<PackReport> {
    let mut session = storage.pool.get()?;
    let client = &mut session.client;
    let err = |what: &'static str| move |e| storage.err(what, e);
    client
        .batch_execute(
            "SET statement_timeout = 0;
             CREATE TEMP TABLE IF NOT EXISTS pack_reach (zoid int8 PRIMARY KEY);
             CREATE TEMP TABLE IF NOT EXISTS pack_doomed (zoid int8 PRIMARY KEY);
             TRUNCATE pack_reach, pack_doomed;",
        )
        .map_err(err("creating the pack's tables"))?;
    let mut report = PackReport::default();

    // 1. Mark.
    let last = tid_from_sql(
        client
            .query_one("SELECT tid FROM tid_clock WHERE id = 0", &[])
            .map_err(err("reading the last transaction"))?
            .get(0),
    );
    let b = tid_bound(pack_horizon(before, last));
    let marked = client
        .execute(
            &mark_sql(
                "SELECT $2::int8 UNION SELECT $3::int8 \
                 UNION SELECT zoid FROM object_state WHERE tid >= $1",
            ),
            &[&b, &oid_to_sql(Oid::ROOT), &oid_to_sql(Oid::SCHEMAS)],
        )
        .map_err(err("marking the reachable objects"))?;
    progress(&PackProgress::new(PackPhase::Marking, marked, report));

    // The bound is recorded before anything is removed: from now on an undo of a
    // transaction below it is refused, even if this pack is killed halfway.
    client
        .execute(
            "INSERT INTO schema_info (key, value) VALUES ('packed_before', $1::int8::text) \
             ON CONFLICT (key) DO UPDATE \
             SET value = greatest(schema_info.value::int8, excluded.value::int8)::text",
            &[&b],
        )
        .map_err(err("recording the pack's bound"))?;

    // 2. Sweep.
    sweep(storage, client, b, tid_bound(last), &mut report, progress)?;
    // 3. Transactions left with no revision.
    forget_transactions(storage, client, b, &mut report, progress)?;
    // 4. Make the freed space reusable.
    // One statement per call: VACUUM refuses to run inside a multi-statement string.
    client
        .batch_execute("DROP TABLE IF EXISTS pack_reach, pack_doomed")
        .map_err(err("dropping the pack's tables"))?;
    client
        .batch_execute(r#"VACUUM object_state, object_ref, current_object, "transaction""#)
        .map_err(err("vacuuming after the pack"))?;
    progress(&PackProgress::new(PackPhase::Shrinking, 1, report));
    let _ = client.batch_execute("RESET statement_timeout");
    Ok(report)
}

/// Removes unreachable objects and old revisions, `BATCH` objects per transaction, marking
/// first what commits made after `checked` reach.
fn sweep(
    storage: &PostgresStorage,
    client: &mut Client,
    b: i64,
    mut checked: i64,
    report: &mut PackReport,
    progress: &mut dyn FnMut(&PackProgress),
) -> Result<()> {
    let err = |what: &'static str| move |e| storage.err(what, e);
    let remark = mark_sql("SELECT zoid FROM object_state WHERE tid > $2");
    let remove_doomed_states = count_removed(
        "DELETE FROM object_state WHERE zoid IN (SELECT zoid FROM pack_doomed) \
         RETURNING length(state) AS n",
    );
    let remove_old_states = count_removed(
        "DELETE FROM object_state o WHERE o.zoid BETWEEN $2 AND $3 AND o.tid < $1 \
         AND EXISTS (SELECT 1 FROM object_state n \
                     WHERE n.zoid = o.zoid AND n.tid > o.tid AND n.tid < $1) \
         RETURNING length(o.state) AS n",
    );
    let remove_old_refs = format!(
        "DELETE FROM object_ref r WHERE r.zoid BETWEEN $2 AND $3 AND r.tid < $1 \
         AND NOT ({KEPT_REF})"
    );
    let mut from = i64::MIN;
    let mut examined = 0u64;
    loop {
        let mut tx = client.transaction().map_err(err("starting a sweep batch"))?;
        let batch: Vec<i64> = tx
            .query(
                "SELECT zoid FROM current_object WHERE zoid >= $1 ORDER BY zoid LIMIT $2 \
                 FOR UPDATE",
                &[&from, &BATCH],
            )
            .map_err(err("reading a sweep batch"))?
            .iter()
            .map(|row| row.get(0))
            .collect();
        let Some(&hi) = batch.last() else { break };
        let now: i64 = tx
            .query_one("SELECT tid FROM tid_clock WHERE id = 0 FOR UPDATE", &[])
            .map_err(err("taking the commit lock"))?
            .get(0);
        if now > checked {
            tx.execute(&remark, &[&b, &checked]).map_err(err("marking what new commits reach"))?;
            checked = now;
        }
        let doomed = tx
            .execute(
                "INSERT INTO pack_doomed (zoid) SELECT c.zoid FROM current_object c \
                 WHERE c.zoid BETWEEN $1 AND $2 AND c.tid < $3 \
                 AND (NOT EXISTS (SELECT 1 FROM pack_reach p WHERE p.zoid = c.zoid) \
                      OR EXISTS (SELECT 1 FROM object_state s \
                                 WHERE s.zoid = c.zoid AND s.tid = c.tid AND length(s.state) = 0))",
                &[&from, &hi, &b],
            )
            .map_err(err("choosing unreachable objects"))?;
        report.objects_removed += doomed;
        let row = tx
            .query_one(&remove_doomed_states, &[])
            .map_err(err("removing unreachable objects"))?;
        report.revisions_removed += row.get::<_, i64>(0).unsigned_abs();
        report.bytes_removed += row.get::<_, i64>(1).unsigned_abs();
        tx.batch_execute(
            "DELETE FROM object_ref WHERE zoid IN (SELECT zoid FROM pack_doomed);
             DELETE FROM current_object WHERE zoid IN (SELECT zoid FROM pack_doomed);
             TRUNCATE pack_doomed;",
        )
        .map_err(err("removing unreachable objects"))?;
        tx.execute(&remove_old_refs, &[&b, &from, &hi])
            .map_err(err("removing old reference lists"))?;
        let row = tx
            .query_one(&remove_old_states, &[&b, &from, &hi])
            .map_err(err("removing old revisions"))?;
        report.revisions_removed += row.get::<_, i64>(0).unsigned_abs();
        report.bytes_removed += row.get::<_, i64>(1).unsigned_abs();
        tx.commit().map_err(err("committing a sweep batch"))?;
        examined += batch.len() as u64;
        progress(&PackProgress::new(PackPhase::Sweeping, examined, *report));
        match hi.checked_add(1) {
            Some(next) => from = next,
            None => break,
        }
    }
    Ok(())
}

/// Removes the transactions older than the bound `b` with no revision left (never the
/// newest one, whose tid the next commit must exceed), in batches.
fn forget_transactions(
    storage: &PostgresStorage,
    client: &mut Client,
    b: i64,
    report: &mut PackReport,
    progress: &mut dyn FnMut(&PackProgress),
) -> Result<()> {
    const SQL: &str = r#"WITH b AS (SELECT tid FROM "transaction"
           WHERE tid > $1 AND tid < $2 ORDER BY tid LIMIT $3),
         d AS (DELETE FROM "transaction" t USING b WHERE t.tid = b.tid
           AND t.tid < (SELECT max(tid) FROM "transaction")
           AND NOT EXISTS (SELECT 1 FROM object_state s WHERE s.tid = t.tid) RETURNING 1)
         SELECT (SELECT count(*) FROM b), (SELECT max(tid) FROM b), (SELECT count(*) FROM d)"#;
    let mut after = i64::MIN;
    let mut examined = 0u64;
    loop {
        let row = client
            .query_one(SQL, &[&after, &b, &TXN_BATCH])
            .map_err(|e| storage.err("removing empty transactions", e))?;
        let (count, hi, removed): (i64, Option<i64>, i64) = (row.get(0), row.get(1), row.get(2));
        let Some(hi) = hi else { break };
        report.transactions_removed += removed.unsigned_abs();
        examined += count.unsigned_abs();
        after = hi;
        progress(&PackProgress::new(PackPhase::Transactions, examined, *report));
    }
    Ok(())
}
