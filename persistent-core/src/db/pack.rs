//! `Database::pack`: removing old history and unreachable objects (docs/spec.md §10). The
//! work is the storage's (`Storage::pack`); the database only picks the bound and reports
//! the pack as a `pack` span with progress events (docs/spec.md §6.2).

use std::time::Duration;

use super::database::Database;
use crate::error::{Error, Result};
use crate::storage::{PackProgress, PackReport};
use crate::timestamp::{Tid, TimeStamp};

impl Database {
    /// Packs the storage to `before` (docs/spec.md §10): removes every revision older than
    /// the one current at `before`, and every object unreachable from the root whose newest
    /// revision is older than `before`. Runs while other connections read and commit;
    /// `progress` is called now and then.
    ///
    /// A connection whose snapshot is older than `before` may then fail to load an object
    /// with `Error::NotFound` (the revision it needed is gone); its next transaction sees
    /// the packed database. Pack to a time older than any transaction still running.
    ///
    /// # Errors
    /// The storage's error; whatever was removed before it stays removed, and packing again
    /// finishes the work.
    pub fn pack(&self, before: Tid, progress: &mut dyn FnMut(&PackProgress)) -> Result<PackReport> {
        let span = tracing::info_span!(target: crate::trace::TARGET, "pack", before = %before);
        let _entered = span.enter();
        let started = std::time::Instant::now();
        let mut report_progress = |now: &PackProgress| {
            tracing::debug!(
                target: crate::trace::TARGET,
                phase = ?now.phase,
                done = now.done,
                objects_removed = now.removed.objects_removed,
                revisions_removed = now.removed.revisions_removed,
                "pack progress"
            );
            progress(now);
        };
        let result = self.storage.pack(before, &mut report_progress);
        let duration_us = crate::trace::micros(started.elapsed());
        match &result {
            Ok(report) => tracing::info!(
                target: crate::trace::TARGET,
                objects_removed = report.objects_removed,
                revisions_removed = report.revisions_removed,
                bytes_removed = report.bytes_removed,
                transactions_removed = report.transactions_removed,
                duration_us,
                "pack"
            ),
            Err(error) => tracing::warn!(
                target: crate::trace::TARGET,
                error = %error,
                duration_us,
                "pack failed"
            ),
        }
        result
    }

    /// Packs to `age` before now ([`pack`](Self::pack) with that bound): keeps the history
    /// of the last `age`.
    ///
    /// # Errors
    /// As `pack`; `Error::InvalidTimeStamp` when now minus `age` is not representable.
    pub fn pack_older_than(
        &self,
        age: Duration,
        progress: &mut dyn FnMut(&PackProgress),
    ) -> Result<PackReport> {
        self.pack(time_before_now(age)?, progress)
    }
}

/// The timestamp `age` before now.
fn time_before_now(age: Duration) -> Result<Tid> {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_sub(age);
    let invalid = || Error::InvalidTimeStamp { field: "year", value: format!("{age:?} ago") };
    let secs = i64::try_from(since_epoch.as_secs()).map_err(|_| invalid())?;
    TimeStamp::from_unix(secs, since_epoch.subsec_nanos()).ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_hour_ago_is_an_hour_before_now() {
        let now = TimeStamp::now().time_time();
        let then = time_before_now(Duration::from_hours(1)).unwrap().time_time();
        assert!((now - 3600.0 - then).abs() < 2.0, "{now} {then}");
    }
}
