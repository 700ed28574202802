//! The read transaction a storage keeps open between ghost loads, and the rule that bounds
//! it. Loads inside one read transaction skip the per-statement locking of the WAL index,
//! but an open read transaction also stops SQLite from recycling the WAL (other processes'
//! checkpoints cannot pass it), so it must not live long: it is reused only while it is
//! younger than `HELD_READ_LIMIT` and its view covers the snapshot asked for, every other
//! storage call ends it first, and a reaper thread ends it once it is older than the limit
//! even if the storage is never called again (an idle connection in the middle of a
//! transaction). What does not live here: the statements that load (`storage.rs`).

use std::sync::{Mutex, Weak};
use std::time::{Duration, Instant};

use persistent_core::Tid;

use crate::storage::{last_tid, Inner};

/// How long a held read transaction may be used, and about how long it may stay open when
/// nobody calls the storage (the reaper checks at this period).
pub(crate) const HELD_READ_LIMIT: Duration = Duration::from_millis(100);

/// A read transaction kept open between loads: the view of the file as of its start, in
/// which every revision up to `newest` is visible.
pub(crate) struct HeldRead {
    newest: Tid,
    since: Instant,
}

/// Makes sure a read transaction is open whose view holds every revision older than
/// `before`: the held one if it is recent enough (it began after the newest transaction
/// below `before` was committed, and less than `HELD_READ_LIMIT` ago), else a new one. A
/// reaper thread is started to end it if nobody else does.
pub(crate) fn read_view(
    inner: &mut Inner,
    before: Tid,
    shared: &std::sync::Arc<Mutex<Inner>>,
) -> rusqlite::Result<()> {
    if let Some(held) = &inner.held_read {
        let covers = held.newest.as_u64() >= before.as_u64().saturating_sub(1);
        if covers && held.since.elapsed() < HELD_READ_LIMIT {
            return Ok(());
        }
    }
    end_read(inner);
    inner.conn.execute_batch("BEGIN")?;
    match last_tid(&inner.conn) {
        Ok(newest) => {
            inner.held_read = Some(HeldRead { newest, since: Instant::now() });
            if !inner.reaper_running {
                // If no thread can be started, the read still ends at the next call.
                inner.reaper_running = start_reaper(std::sync::Arc::downgrade(shared));
            }
            Ok(())
        }
        Err(e) => {
            end_read(inner);
            Err(e)
        }
    }
}

/// The newest committed tid of the held read's view, if a read is held.
pub(crate) fn view_newest(inner: &Inner) -> Option<Tid> {
    inner.held_read.as_ref().map(|held| held.newest)
}

/// Ends any open transaction (the held read, or one a panic left open).
pub(crate) fn end_read(inner: &mut Inner) {
    inner.held_read = None;
    if !inner.conn.is_autocommit() && inner.conn.execute_batch("COMMIT").is_err() {
        let _ = inner.conn.execute_batch("ROLLBACK");
    }
}

/// Starts the thread that ends a held read older than the limit; it stops when no read is
/// held any more or the storage is gone. Returns false if no thread could be started.
fn start_reaper(storage: Weak<Mutex<Inner>>) -> bool {
    std::thread::Builder::new()
        .name("persistent-sqlite held read".into())
        .spawn(move || loop {
            std::thread::sleep(HELD_READ_LIMIT);
            let Some(shared) = storage.upgrade() else { return };
            let mut inner = shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if inner.held_read.as_ref().is_some_and(|held| held.since.elapsed() >= HELD_READ_LIMIT)
            {
                end_read(&mut inner);
            }
            if inner.held_read.is_none() {
                inner.reaper_running = false;
                return;
            }
        })
        .is_ok()
}
