//! `Storage::commit` for PostgreSQL: four round trips whatever the number of objects.
//!
//! 1. `BEGIN`.
//! 2. Lock and check (skipped when nothing is expected to exist): the `current_object` rows
//!    of every written and read-current oid are locked `FOR UPDATE` in oid order (so two
//!    commits never wait on each other in a cycle), and one statement returns the oids whose
//!    current serial is not the one expected (`NULL` expected: the object must not exist).
//!    Any row is a conflict: roll back, report the first in the transaction's order.
//! 3. Write, one statement: update the `tid_clock` row (the commit lock, held until commit:
//!    tids are handed out and become visible in order) to `greatest(now, last + 1)`, and, with
//!    that tid, insert the transaction, the revisions and their reference lists (arrays
//!    passed whole, `unnest`ed by the server), move the current serials, and insert the new
//!    objects' `current_object` rows: a new oid that another commit created meanwhile
//!    violates the key (the insert waits for that commit first), which is a conflict too.
//! 4. `COMMIT`. With `PostgresOptions::visible_before_durable`, step 3 also sets
//!    `synchronous_commit = off` for this transaction, so `COMMIT` releases the lock without
//!    waiting for the disk, and a fifth round trip (a tiny transaction that writes a log
//!    record and commits durably) waits for the disk outside the lock, where concurrent
//!    commits share one flush.
//!
//! A session whose connection is lost before `COMMIT` was sent wrote nothing: the commit is
//! tried once more on a fresh session. If it is lost during `COMMIT`, a fresh session looks
//! for the transaction's tid to tell whether it committed; when even that fails the error
//! says the outcome is unknown.

use persistent_core::storage::{CommitOutcome, TransactionData};
use persistent_core::{Error, Oid, Result, StorageErrorKind, Tid, TimeStamp};

use postgres::error::SqlState;

use crate::pg_error::connection_lost;
use crate::pool::Session;
use crate::storage::PostgresStorage;
use persistent_core::storage::sql_int::{oid_to_sql, tid_bound, tid_from_sql, tid_to_sql};

/// Step 2: locks the rows and returns those whose serial is not the expected one.
const CHECK: &str = "WITH locked AS MATERIALIZED ( \
       SELECT c.zoid, c.tid FROM current_object c WHERE c.zoid = ANY($1::int8[]) \
       ORDER BY c.zoid FOR UPDATE) \
     SELECT w.zoid, l.tid FROM unnest($1::int8[], $2::int8[]) AS w(zoid, expected) \
       LEFT JOIN locked l ON l.zoid = w.zoid WHERE l.tid IS DISTINCT FROM w.expected";

/// Step 3: takes the clock (the commit lock) and writes everything under the new tid.
const WRITE: &str = r#"WITH clock AS (
       UPDATE tid_clock SET previous = tid, tid = greatest($1::int8, tid + 1) WHERE id = 0
       RETURNING tid, previous),
     txn AS (INSERT INTO "transaction" (tid, username, description, extension)
       SELECT tid, $2, $3, $4 FROM clock),
     states AS (INSERT INTO object_state (zoid, tid, state)
       SELECT u.zoid, clock.tid, u.state FROM clock, unnest($5::int8[], $6::bytea[]) AS u(zoid, state)),
     moved AS (UPDATE current_object c SET tid = clock.tid FROM clock
       WHERE c.zoid = ANY($7::int8[])),
     created AS (INSERT INTO current_object (zoid, tid)
       SELECT z, clock.tid FROM clock, unnest($8::int8[]) AS z),
     refs AS (INSERT INTO object_ref (zoid, tid, to_zoid)
       SELECT r.zoid, clock.tid, r.to_zoid FROM clock, unnest($9::int8[], $10::int8[]) AS r(zoid, to_zoid))
     SELECT clock.tid, clock.previous,
       CASE WHEN $11 THEN set_config('synchronous_commit', 'off', true) END FROM clock"#;

/// The transaction as the arrays the statements take.
struct Arrays<'a> {
    /// Oids to check (writes, then read-current) and the serial each must have.
    check_oids: Vec<i64>,
    check_serials: Vec<Option<i64>>,
    zoids: Vec<i64>,
    states: Vec<&'a [u8]>,
    moved: Vec<i64>,
    created: Vec<i64>,
    ref_from: Vec<i64>,
    ref_to: Vec<i64>,
}

impl<'a> Arrays<'a> {
    fn of(txn: &'a TransactionData) -> Arrays<'a> {
        let n = txn.writes.len();
        let mut arrays = Arrays {
            check_oids: Vec::with_capacity(n + txn.read_current.len()),
            check_serials: Vec::with_capacity(n + txn.read_current.len()),
            zoids: Vec::with_capacity(n),
            states: Vec::with_capacity(n),
            moved: Vec::new(),
            created: Vec::new(),
            ref_from: Vec::new(),
            ref_to: Vec::new(),
        };
        let mut references = Vec::new();
        for write in &txn.writes {
            let zoid = oid_to_sql(write.oid);
            arrays.zoids.push(zoid);
            arrays.states.push(&write.data);
            match write.expected_serial {
                Some(serial) => {
                    arrays.check_oids.push(zoid);
                    arrays.check_serials.push(Some(tid_bound(serial)));
                    arrays.moved.push(zoid);
                }
                None => arrays.created.push(zoid),
            }
            references.clear();
            references.extend(write.references.iter().map(|to| oid_to_sql(*to)));
            references.sort_unstable();
            references.dedup();
            arrays.ref_from.extend(std::iter::repeat_n(zoid, references.len()));
            arrays.ref_to.extend_from_slice(&references);
        }
        for &(oid, serial) in &txn.read_current {
            arrays.check_oids.push(oid_to_sql(oid));
            arrays.check_serials.push(Some(tid_bound(serial)));
        }
        arrays
    }
}

/// How one attempt ended when it did not return a result.
enum Failed {
    /// The connection was lost before `COMMIT` was sent: nothing was written.
    BeforeCommit(postgres::Error),
    /// The connection was lost while `COMMIT` was under way, for the transaction `tid`.
    DuringCommit(postgres::Error, Tid, Tid),
}

pub(crate) fn commit(storage: &PostgresStorage, txn: &TransactionData) -> Result<CommitOutcome> {
    txn.check_distinct_oids()?;
    let arrays = Arrays::of(txn);
    let mut retried = false;
    loop {
        let mut session = storage.pool.get()?;
        match attempt(storage, &mut session, txn, &arrays) {
            Ok(outcome) => return outcome,
            Err(Failed::BeforeCommit(error)) => {
                session.discard();
                if retried {
                    return Err(storage.err("committing", error));
                }
                retried = true;
            }
            Err(Failed::DuringCommit(error, tid, previous)) => {
                session.discard();
                return settle(storage, error, tid, previous);
            }
        }
    }
}

/// One try on `session`: `Ok` with the commit's result (a conflict or a storage error
/// included), `Err` when the connection was lost.
fn attempt(
    storage: &PostgresStorage,
    session: &mut Session,
    txn: &TransactionData,
    arrays: &Arrays<'_>,
) -> Result<Result<CommitOutcome>, Failed> {
    let lost = |error: postgres::Error| -> Result<Result<CommitOutcome>, Failed> {
        if connection_lost(&error) {
            Err(Failed::BeforeCommit(error))
        } else {
            Ok(Err(storage.err("committing", error)))
        }
    };
    let (check, write) = match (session.prepare(CHECK), session.prepare(WRITE)) {
        (Ok(check), Ok(write)) => (check, write),
        (Err(error), _) | (_, Err(error)) => return lost(error),
    };
    let now = match tid_to_sql(TimeStamp::now()) {
        Ok(now) => now,
        Err(error) => return Ok(Err(error)),
    };
    let mut tx = match session.client.transaction() {
        Ok(tx) => tx,
        Err(error) => return lost(error),
    };
    if !arrays.check_oids.is_empty() {
        let stale = match tx.query(&check, &[&arrays.check_oids, &arrays.check_serials]) {
            Ok(rows) => rows,
            Err(error) => return lost(error),
        };
        if !stale.is_empty() {
            let actual: Vec<(i64, Option<i64>)> =
                stale.iter().map(|row| (row.get(0), row.get(1))).collect();
            return Ok(Err(first_conflict(txn, &actual)));
        }
    }
    let row = match tx.query_one(
        &write,
        &[
            &now,
            &txn.user,
            &txn.description,
            &txn.extension,
            &arrays.zoids,
            &arrays.states,
            &arrays.moved,
            &arrays.created,
            &arrays.ref_from,
            &arrays.ref_to,
            &storage.options.visible_before_durable,
        ],
    ) {
        Ok(row) => row,
        Err(error) if error.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            // Another commit created one of our new oids meanwhile (two first writes of the
            // root): a conflict. Roll back, then read which one and its serial.
            drop(tx);
            let taken = session.client.query_opt(
                "SELECT zoid, tid FROM current_object WHERE zoid = ANY($1) ORDER BY zoid LIMIT 1",
                &[&arrays.created],
            );
            return match taken {
                Ok(Some(row)) => Ok(Err(Error::Conflict {
                    oid: persistent_core::storage::sql_int::oid_from_sql(row.get(0)),
                    expected: TimeStamp::ZERO,
                    actual: tid_from_sql(row.get(1)),
                })),
                Ok(None) => Ok(Err(storage.err("committing", error))),
                Err(error) => lost(error),
            };
        }
        Err(error) => return lost(error),
    };
    let (tid, previous) = (tid_from_sql(row.get(0)), tid_from_sql(row.get(1)));
    let committed = tx.commit().and_then(|()| {
        if storage.options.visible_before_durable {
            // The session's own setting is `synchronous_commit = on`, and this transaction
            // has an xid and writes to the log (a transactional logical message), so its
            // commit waits for the flush of its commit record, which follows ours in the
            // log: once it returns, ours is on disk too. (An xid alone writes nothing, and
            // PostgreSQL then commits without waiting.)
            session.client.batch_execute(
                "BEGIN; SELECT txid_current(), pg_logical_emit_message(true, 'persistent', ''); \
                 COMMIT",
            )
        } else {
            Ok(())
        }
    });
    match committed {
        Ok(()) => Ok(Ok(CommitOutcome::new(tid, previous))),
        Err(error) if connection_lost(&error) => Err(Failed::DuringCommit(error, tid, previous)),
        Err(error) => Ok(Err(storage.err("committing", error))),
    }
}

/// The conflict to report: the first checked oid, in the transaction's order (writes, then
/// read-current checks), among the `stale` rows (oid, current serial).
fn first_conflict(txn: &TransactionData, stale: &[(i64, Option<i64>)]) -> Error {
    let actual_of =
        |oid: Oid| stale.iter().find(|(zoid, _)| *zoid == oid_to_sql(oid)).map(|(_, tid)| *tid);
    let checks = txn
        .writes
        .iter()
        .map(|w| (w.oid, w.expected_serial))
        .chain(txn.read_current.iter().map(|&(oid, serial)| (oid, Some(serial))));
    for (oid, expected) in checks {
        if let Some(actual) = actual_of(oid) {
            return Error::Conflict {
                oid,
                expected: expected.unwrap_or(TimeStamp::ZERO),
                actual: actual.map_or(TimeStamp::ZERO, tid_from_sql),
            };
        }
    }
    Error::storage(StorageErrorKind::Other, "a conflict was reported for an oid not written")
}

/// After the connection was lost during `COMMIT`: looks on a fresh session whether the
/// transaction `tid` is there.
fn settle(
    storage: &PostgresStorage,
    error: postgres::Error,
    tid: Tid,
    previous: Tid,
) -> Result<CommitOutcome> {
    let tid_sql = tid_bound(tid);
    let found = storage.pool.get().and_then(|mut session| {
        session
            .client
            .query_opt(r#"SELECT 1 FROM "transaction" WHERE tid = $1"#, &[&tid_sql])
            .map_err(|e| storage.err("checking whether a commit happened", e))
    });
    match found {
        Ok(Some(_)) => Ok(CommitOutcome::new(tid, previous)),
        Ok(None) => Err(storage.err("committing (nothing was written)", error)),
        Err(_) => Err(Error::storage_with_source(
            StorageErrorKind::Unavailable,
            format!(
                "{}: the connection was lost while committing, and the server cannot be \
                 asked whether transaction {tid:?} committed: the outcome is unknown; check \
                 before retrying a change that must not be made twice",
                storage.name
            ),
            error,
        )),
    }
}
