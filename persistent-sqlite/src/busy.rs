//! The busy handler of a `SqliteStorage` connection: how a connection waits while another
//! connection (possibly in another process) holds the write lock.
//!
//! SQLite's default handler sleeps 1, 2, 5, 10 ... up to 100 ms between tries, so a writer
//! that starts waiting keeps losing the lock to one that commits in a loop. This one polls
//! briefly and often at first, then every 2 ms, and gives up after about 30 seconds.

use std::time::Duration;

/// Tries made with the short, growing sleeps before switching to the steady one.
const QUICK_TRIES: i32 = 100;
/// The sleep between tries after the quick ones.
const STEADY_SLEEP: Duration = Duration::from_millis(2);
/// About 30 s of steady tries after the quick ones (which take about 55 ms in all).
const MAX_TRIES: i32 = QUICK_TRIES + 15_000;

/// Called by SQLite with the number of earlier tries for this lock; sleeps and returns
/// `true` to try again, or `false` to give up (the call then fails with `SQLITE_BUSY`).
#[allow(clippy::cast_sign_loss, reason = "SQLite counts earlier tries from 0")]
pub(crate) fn wait_for_lock(tries: i32) -> bool {
    if tries >= MAX_TRIES {
        return false;
    }
    let sleep = if tries < QUICK_TRIES {
        // 100 µs, growing by 100 µs every 10 tries: 100 µs .. 1 ms.
        Duration::from_micros(100 * (1 + tries as u64 / 10))
    } else {
        STEADY_SLEEP
    };
    std::thread::sleep(sleep);
    true
}

#[cfg(test)]
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "small test constants")]
mod tests {
    use super::*;

    #[test]
    fn waits_about_thirty_seconds_in_all() {
        let quick: u64 = (0..QUICK_TRIES as u64).map(|t| 100 * (1 + t / 10)).sum();
        let steady = (MAX_TRIES - QUICK_TRIES) as u64 * STEADY_SLEEP.as_micros() as u64;
        let total = Duration::from_micros(quick + steady);
        assert!(total >= Duration::from_secs(30) && total < Duration::from_secs(31));
        assert!(!wait_for_lock(MAX_TRIES));
    }
}
