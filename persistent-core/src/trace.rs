//! What the crate's `tracing` events share: their target (`persistent`, so that a
//! subscriber's filter `persistent=debug` selects them all) and the conversion of a duration
//! to the microseconds they report. The events themselves are emitted where they happen
//! (commit, abort, `transact`, conflict resolution, pack, sweeps, loads); docs/spec.md §6.2
//! lists them with their levels. Nothing is printed unless the application installs a
//! subscriber.

use std::time::Duration;

/// The target of every span and event of this crate.
pub(crate) const TARGET: &str = "persistent";

/// `duration` in whole microseconds, saturating (an event field).
pub(crate) fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}
