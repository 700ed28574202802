//! `Storage::pack` for SQLite (docs/spec.md §10), on a connection of its own so that the
//! storage's connection stays free for loads and commits meanwhile.
//!
//! 1. Mark, in one read transaction: the oids reachable from the roots (`Oid::ROOT`,
//!    `Oid::SCHEMAS`, and every object with a revision from `before` on) through the
//!    reference lists (`object_ref`) of the revisions kept, into the temporary table
//!    `pack_reach` (SQLite keeps temporary tables in a file, `temp_store = FILE`; only its
//!    page cache is in RAM).
//! 2. Sweep, in short write transactions of `BATCH` objects each, in oid order: first mark
//!    whatever commits made since the last look made reachable (their revisions are roots),
//!    then remove the unreachable objects of the batch and the old revisions of the others.
//!    The re-mark and the removal share the write lock, so no commit slips between them.
//! 3. Remove transactions left with no revision, in batches.
//! 4. Shrink: `PRAGMA incremental_vacuum` in steps (files made with `auto_vacuum =
//!    INCREMENTAL`, every file created since schema version 2), then a WAL checkpoint that
//!    truncates the file.
//!
//! Every step commits whole batches: a kill leaves a sound database, and packing again
//! finishes.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::time::{Duration, Instant};

use persistent_core::storage::{pack_horizon, PackPhase, PackProgress, PackReport};
use persistent_core::{Oid, Result, Tid};
use rusqlite::OptionalExtension;
use rusqlite::{Connection, TransactionBehavior};

use crate::busy::wait_for_lock;
use crate::sql_error::sql_error;
use crate::storage::last_tid;
use persistent_core::storage::sql_int::{oid_from_sql, oid_to_sql, tid_bound};

/// Objects examined per sweep transaction.
const BATCH: i64 = 500;
/// The longest pause between two sweep batches.
const MAX_PAUSE: Duration = Duration::from_millis(50);
/// Transactions examined per transaction-table batch.
const TXN_BATCH: i64 = 20_000;
/// Pages freed per `incremental_vacuum` step.
const VACUUM_STEP: i64 = 4_096;

/// Whether the revision `r` (an `object_ref` row) is kept by a pack to `?b`: it is the
/// newest of its object older than `?b`, or not older than `?b`.
const KEPT_REF: &str = "NOT EXISTS (SELECT 1 FROM object_state n \
     WHERE n.zoid = r.zoid AND n.tid > r.tid AND n.tid < :b)";

/// Marks into `pack_reach` the oids reachable from the seeds (a SELECT of `zoid` bound to
/// `:b` and maybe `:after`), following the edges of kept revisions into unmarked oids.
fn mark_sql(seeds: &str) -> String {
    format!(
        "WITH RECURSIVE seed(zoid) AS ({seeds}), \
         reach(zoid) AS (SELECT zoid FROM seed \
           UNION SELECT r.to_zoid FROM reach JOIN object_ref r ON r.zoid = reach.zoid \
           WHERE {KEPT_REF} AND r.to_zoid NOT IN (SELECT zoid FROM temp.pack_reach)) \
         INSERT OR IGNORE INTO temp.pack_reach (zoid) SELECT zoid FROM reach"
    )
}

pub(crate) fn pack(
    path: &Path,
    committing: &AtomicUsize,
    before: Tid,
    progress: &mut dyn FnMut(&PackProgress),
) -> Result<PackReport> {
    let err = |what: &'static str| move |e| sql_error(path, what, e);
    let mut conn = Connection::open(path).map_err(err("opening the file to pack"))?;
    conn.busy_handler(Some(wait_for_lock)).map_err(err("setting the busy handler"))?;
    // A pack batch lost in a crash is simply redone by the next pack, so its commits need
    // not wait for the disk (WAL with `NORMAL` stays consistent; only durability is given up).
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(err("setting synchronous=NORMAL"))?;
    conn.execute_batch(
        "PRAGMA temp_store = FILE;
         CREATE TEMP TABLE pack_reach (zoid INTEGER PRIMARY KEY);
         CREATE TEMP TABLE pack_doomed (zoid INTEGER PRIMARY KEY);
         CREATE TEMP TABLE pack_seed (zoid INTEGER PRIMARY KEY);",
    )
    .map_err(err("creating the pack's tables"))?;
    let mut report = PackReport::default();

    // 1. Mark, in one read view.
    let tx = conn.transaction().map_err(err("starting the mark"))?;
    let last = last_tid(&tx).map_err(err("reading the last transaction"))?;
    let b = tid_bound(pack_horizon(before, last));
    let marked = tx
        .execute(
            &mark_sql(
                "SELECT :root UNION SELECT :schemas \
                 UNION SELECT zoid FROM current_object WHERE tid >= :b",
            ),
            rusqlite::named_params! {
                ":root": oid_to_sql(Oid::ROOT), ":schemas": oid_to_sql(Oid::SCHEMAS), ":b": b,
            },
        )
        .map_err(err("marking the reachable objects"))?;
    tx.commit().map_err(err("ending the mark"))?;
    progress(&PackProgress::new(PackPhase::Marking, marked as u64, report));

    // The bound is recorded before anything is removed: from now on an undo of a
    // transaction below it is refused, even if this pack is killed halfway.
    conn.execute(
        "INSERT INTO schema_info (key, value) VALUES ('packed_before', ?1) \
         ON CONFLICT (key) DO UPDATE SET value = max(CAST(value AS INTEGER), excluded.value)",
        [b],
    )
    .map_err(err("recording the pack's bound"))?;

    // 2. Sweep, a batch of objects per write transaction.
    sweep(&mut conn, path, committing, b, tid_bound(last), &mut report, progress)?;

    // 3. Transactions left with no revision.
    forget_transactions(&mut conn, path, b, &mut report, progress)?;

    // 4. Shrink the file.
    shrink(&conn, &mut |pages| {
        progress(&PackProgress::new(PackPhase::Shrinking, pages, report));
    })
    .map_err(err("shrinking the file"))?;
    Ok(report)
}

/// Removes unreachable objects and old revisions, `BATCH` objects per write transaction,
/// marking first what commits made after `checked` reach.
fn sweep(
    conn: &mut Connection,
    path: &Path,
    committing: &AtomicUsize,
    b: i64,
    mut checked: i64,
    report: &mut PackReport,
    progress: &mut dyn FnMut(&PackProgress),
) -> Result<()> {
    let err = |what: &'static str| move |e| sql_error(path, what, e);
    let mut from = i64::MIN;
    let mut examined = 0u64;
    loop {
        let batch_started = Instant::now();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err("starting a sweep batch"))?;
        let now = tid_bound(last_tid(&tx).map_err(err("reading the last transaction"))?);
        if now > checked {
            seed_written_after(&tx, path, checked)?;
            tx.execute(
                &mark_sql("SELECT zoid FROM temp.pack_seed"),
                rusqlite::named_params! { ":b": b },
            )
            .map_err(err("marking what new commits reach"))?;
            tx.execute("DELETE FROM temp.pack_seed", [])
                .map_err(err("marking what new commits reach"))?;
            checked = now;
        }
        let (count, hi): (i64, Option<i64>) = tx
            .query_row(
                "SELECT COUNT(*), MAX(zoid) FROM \
                 (SELECT zoid FROM current_object WHERE zoid >= ?1 ORDER BY zoid LIMIT ?2)",
                (from, BATCH),
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(err("reading a sweep batch"))?;
        let Some(hi) = hi else { break };
        let doomed = tx
            .execute(
                "INSERT INTO temp.pack_doomed (zoid) SELECT c.zoid FROM current_object c \
                 WHERE c.zoid BETWEEN ?1 AND ?2 AND c.tid < ?3 \
                 AND (c.zoid NOT IN (SELECT zoid FROM temp.pack_reach) \
                      OR EXISTS (SELECT 1 FROM object_state s \
                                 WHERE s.zoid = c.zoid AND s.tid = c.tid AND length(s.state) = 0))",
                (from, hi, b),
            )
            .map_err(err("choosing unreachable objects"))?;
        report.objects_removed += doomed as u64;
        let (revisions, bytes) = removed_lengths(
            &tx,
            "DELETE FROM object_state WHERE zoid IN (SELECT zoid FROM temp.pack_doomed) \
             RETURNING length(state)",
            (),
        )
        .map_err(err("removing unreachable objects"))?;
        report.revisions_removed += revisions;
        report.bytes_removed += bytes;
        tx.execute_batch(
            "DELETE FROM object_ref WHERE zoid IN (SELECT zoid FROM temp.pack_doomed);
             DELETE FROM current_object WHERE zoid IN (SELECT zoid FROM temp.pack_doomed);
             DELETE FROM temp.pack_doomed;",
        )
        .map_err(err("removing unreachable objects"))?;
        tx.execute(
            &format!(
                "DELETE FROM object_ref AS r WHERE r.zoid BETWEEN ?1 AND ?2 AND r.tid < :b \
                 AND NOT ({KEPT_REF})"
            )
            .replace(":b", "?3"),
            (from, hi, b),
        )
        .map_err(err("removing old reference lists"))?;
        let (revisions, bytes) = removed_lengths(
            &tx,
            "DELETE FROM object_state AS o WHERE o.zoid BETWEEN ?1 AND ?2 AND o.tid < ?3 \
             AND EXISTS (SELECT 1 FROM object_state n \
                         WHERE n.zoid = o.zoid AND n.tid > o.tid AND n.tid < ?3) \
             RETURNING length(state)",
            (from, hi, b),
        )
        .map_err(err("removing old revisions"))?;
        report.revisions_removed += revisions;
        report.bytes_removed += bytes;
        tx.commit().map_err(err("committing a sweep batch"))?;
        // Writers waiting for the lock poll for it: leave it free as long as the batch held
        // it while this storage has commits waiting, a sixteenth of that otherwise (writers
        // of other processes are not seen, but get a window), so that writers keep most of
        // their rate.
        let held = batch_started.elapsed().min(MAX_PAUSE);
        let waiting = committing.load(AtomicOrdering::Relaxed) > 0;
        std::thread::sleep(if waiting { held } else { held / 16 });
        examined += count.unsigned_abs();
        progress(&PackProgress::new(PackPhase::Sweeping, examined, *report));
        match hi.checked_add(1) {
            Some(next) => from = next,
            None => break,
        }
    }
    Ok(())
}

/// Fills `temp.pack_seed` with the oids written by transactions after `after` (from the
/// transactions' oid lists).
fn seed_written_after(conn: &Connection, path: &Path, after: i64) -> Result<()> {
    let err = |what: &'static str| move |e| sql_error(path, what, e);
    let lists = conn
        .prepare(r#"SELECT oids FROM "transaction" WHERE tid > ?1"#)
        .and_then(|mut stmt| {
            stmt.query_map([after], |row| row.get::<_, Vec<u8>>(0))?
                .collect::<rusqlite::Result<Vec<Vec<u8>>>>()
        })
        .map_err(err("reading what new commits wrote"))?;
    let mut insert = conn
        .prepare_cached("INSERT OR IGNORE INTO temp.pack_seed (zoid) VALUES (?1)")
        .map_err(err("reading what new commits wrote"))?;
    for oids in lists {
        for oid in crate::oid_list::decode(&oids)? {
            insert.execute([oid_to_sql(oid)]).map_err(err("reading what new commits wrote"))?;
        }
    }
    Ok(())
}

/// Removes the transactions older than the bound `b` with no revision left (never the
/// newest one, whose tid the next commit must exceed), and shortens the oid lists of the
/// others to the oids whose revision is left (so `changes_since` and the undo log name no
/// removed object), in batches. What is left is collected first, in one pass over what the
/// sweep left (no commit adds a revision below `b`).
fn forget_transactions(
    conn: &mut Connection,
    path: &Path,
    b: i64,
    report: &mut PackReport,
    progress: &mut dyn FnMut(&PackProgress),
) -> Result<()> {
    let err = |what: &'static str| move |e| sql_error(path, what, e);
    collect_live_lists(conn, b).map_err(err("listing the revisions left"))?;
    let mut after = i64::MIN;
    let mut examined = 0u64;
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err("starting a transaction batch"))?;
        let (count, hi): (i64, Option<i64>) = tx
            .query_row(
                r#"SELECT COUNT(*), MAX(tid) FROM (SELECT tid FROM "transaction"
                   WHERE tid > ?1 AND tid < ?2 ORDER BY tid LIMIT ?3)"#,
                (after, b, TXN_BATCH),
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(err("reading a transaction batch"))?;
        let Some(hi) = hi else { break };
        let removed = tx
            .execute(
                r#"DELETE FROM "transaction" AS t WHERE t.tid > ?1 AND t.tid <= ?2
                   AND t.tid < (SELECT MAX(tid) FROM "transaction")
                   AND t.tid NOT IN (SELECT tid FROM temp.pack_live)"#,
                (after, hi),
            )
            .map_err(err("removing empty transactions"))?;
        tx.execute(
            r#"UPDATE "transaction" AS t SET oids = l.oids FROM temp.pack_live AS l
               WHERE l.tid = t.tid AND t.tid > ?1 AND t.tid <= ?2 AND t.oids != l.oids"#,
            (after, hi),
        )
        .map_err(err("shortening the transactions' oid lists"))?;
        tx.commit().map_err(err("committing a transaction batch"))?;
        report.transactions_removed += removed as u64;
        examined += count.unsigned_abs();
        after = hi;
        progress(&PackProgress::new(PackPhase::Transactions, examined, *report));
    }
    Ok(())
}

/// Fills `temp.pack_live` with each tid below `b` that still has revisions and the list
/// of their oids, in one read of what is left.
fn collect_live_lists(conn: &mut Connection, b: i64) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute_batch("CREATE TEMP TABLE pack_live (tid INTEGER PRIMARY KEY, oids BLOB NOT NULL)")?;
    {
        let mut read =
            tx.prepare("SELECT tid, zoid FROM object_state WHERE tid < ?1 ORDER BY tid, zoid")?;
        let mut insert = tx.prepare("INSERT INTO temp.pack_live (tid, oids) VALUES (?1, ?2)")?;
        let mut rows = read.query([b])?;
        let mut open: Option<(i64, Vec<Oid>)> = None;
        while let Some(row) = rows.next()? {
            let (tid, zoid): (i64, i64) = (row.get(0)?, row.get(1)?);
            match &mut open {
                Some((at, oids)) if *at == tid => oids.push(oid_from_sql(zoid)),
                _ => {
                    if let Some((at, oids)) = open.replace((tid, vec![oid_from_sql(zoid)])) {
                        insert.execute((at, crate::oid_list::encode(oids)))?;
                    }
                }
            }
        }
        if let Some((at, oids)) = open {
            insert.execute((at, crate::oid_list::encode(oids)))?;
        }
    }
    tx.commit()
}

/// Runs a `DELETE ... RETURNING length(state)`; the rows removed and their total length.
fn removed_lengths(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<(u64, u64)> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query(params)?;
    let (mut count, mut bytes) = (0u64, 0u64);
    while let Some(row) = rows.next()? {
        count += 1;
        bytes += row.get::<_, i64>(0)?.unsigned_abs();
    }
    Ok((count, bytes))
}

/// Frees the empty pages of a file in `auto_vacuum = INCREMENTAL` mode a step at a time
/// (each step a short write transaction), then checkpoints the WAL so the file itself is
/// truncated. A file without incremental vacuum keeps its free pages for later writes.
fn shrink(conn: &Connection, progress: &mut dyn FnMut(u64)) -> rusqlite::Result<()> {
    let mode: i64 = conn.query_row("PRAGMA auto_vacuum", [], |row| row.get(0))?;
    if mode == 2 {
        let mut freed = 0u64;
        loop {
            let free: i64 = conn.query_row("PRAGMA freelist_count", [], |row| row.get(0))?;
            if free == 0 {
                break;
            }
            let mut stmt = conn.prepare(&format!("PRAGMA incremental_vacuum({VACUUM_STEP})"))?;
            let mut rows = stmt.query([])?;
            while rows.next()?.is_some() {}
            drop(rows);
            let left: i64 = conn.query_row("PRAGMA freelist_count", [], |row| row.get(0))?;
            if left >= free {
                break;
            }
            freed += (free - left).unsigned_abs();
            progress(freed);
        }
    }
    // A reader may keep the checkpoint from finishing; the file then shrinks at a later one.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// The `before` of the newest pack of the file at `conn` (`TimeStamp::ZERO` if none).
pub(crate) fn packed_before(conn: &Connection) -> rusqlite::Result<Tid> {
    let value: Option<i64> = conn
        .query_row(
            "SELECT CAST(value AS INTEGER) FROM schema_info WHERE key = 'packed_before'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    Ok(value
        .map_or(persistent_core::TimeStamp::ZERO, persistent_core::storage::sql_int::tid_from_sql))
}
