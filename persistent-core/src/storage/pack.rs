//! What a `Storage::pack` reports, while it runs and when it is done (docs/spec.md §10).

use crate::timestamp::{Tid, TimeStamp};

/// What a finished pack removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PackReport {
    /// Revisions removed: old revisions of kept objects and every revision of removed ones.
    pub revisions_removed: u64,
    /// Objects removed entirely (unreachable, or whose current revision says they do not
    /// exist).
    pub objects_removed: u64,
    /// The total length of the removed records, in bytes (what the storage itself frees
    /// may differ: indexes, reference lists, page slack).
    pub bytes_removed: u64,
    /// Transactions removed because none of their revisions is left.
    pub transactions_removed: u64,
}

/// The step a pack is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PackPhase {
    /// Finding the objects reachable from the roots.
    Marking,
    /// Removing old revisions and unreachable objects, a batch at a time.
    Sweeping,
    /// Removing transactions that no longer wrote anything kept.
    Transactions,
    /// Giving the freed space back to the file system.
    Shrinking,
}

/// Where a running pack is, passed to its progress callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PackProgress {
    /// The current step.
    pub phase: PackPhase,
    /// How much of the step is done: objects found reachable while marking, objects
    /// examined while sweeping, transactions examined, pages freed while shrinking.
    pub done: u64,
    /// What was removed so far.
    pub removed: PackReport,
}

impl PackProgress {
    /// Progress in `phase` with `done` units and `removed` so far.
    #[must_use]
    pub fn new(phase: PackPhase, done: u64, removed: PackReport) -> PackProgress {
        PackProgress { phase, done, removed }
    }
}

/// The bound a pack actually uses for `before`, given the newest committed tid `last`: a
/// `before` later than just after `last` becomes just after `last`, so that every commit
/// made while the pack runs (its tid is above `last`) counts as after `before`, and is a
/// root of reachability.
#[must_use]
pub fn pack_horizon(before: Tid, last: Tid) -> Tid {
    let after_last = TimeStamp::from_u64(last.as_u64().saturating_add(1));
    before.min(after_last)
}
