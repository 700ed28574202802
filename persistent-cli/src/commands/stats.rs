//! `stats`: what a storage holds: objects and bytes by stored type (from each current
//! record's envelope), the largest records, a histogram of revisions per object, and the
//! bytes a pack at the newest tid would free (docs/spec.md §10: every revision older than an
//! object's current one, and every revision of the objects not reachable from the roots or
//! whose current record is empty), computed read-only. One pass: the shared walk
//! (`scan::walk`) plus each object's `Storage::history`. What does not live here: the walk,
//! and packing (`pack.rs`).
//!
//! A damaged record's references cannot be read, so objects only it references count as
//! unreachable here while a pack (which keeps reference lists beside the records) keeps
//! them; `verify` reports such a record.

use std::collections::BTreeMap;
use std::process::ExitCode;

use persistent::storage::Storage;
use persistent::{Error, Oid};
use serde_json::json;

use crate::progress::bar;
use crate::scan::{walk, Record, Visit};
use crate::url::{open, Mode};
use crate::{print_json, CliError};

/// How many of the largest records are listed.
const LARGEST: usize = 10;

/// The type name counted for a record that cannot be read.
const DAMAGED: &str = "(damaged record)";

/// Objects and current-record bytes of one stored type.
#[derive(Default)]
struct TypeStats {
    objects: u64,
    bytes: u64,
}

/// What a pack at the newest tid would remove (the fields of `PackReport` that a read can
/// know ahead).
#[derive(Default)]
struct Reclaimable {
    revisions: u64,
    objects: u64,
    bytes: u64,
}

#[derive(Default)]
struct Stats {
    types: BTreeMap<String, TypeStats>,
    /// The largest current records: (size, oid, type), at most `2 * LARGEST` between trims.
    largest: Vec<(u64, Oid, String)>,
    /// Objects by revision-count bucket: bucket `b` holds counts in `(2^(b-1), 2^b]`.
    histogram: BTreeMap<u32, u64>,
    revisions: u64,
    history_bytes: u64,
    current_bytes: u64,
    reclaimable: Reclaimable,
}

/// The histogram bucket of `revisions` (at least 1): 0 for 1, 1 for 2, 2 for 3-4, ...
fn bucket(revisions: u64) -> u32 {
    revisions.max(1).next_power_of_two().trailing_zeros()
}

/// The smallest and largest revision count of bucket `b`.
fn bucket_range(b: u32) -> (u64, u64) {
    match b {
        0 => (1, 1),
        _ => ((1u64 << (b - 1)) + 1, 1u64 << b),
    }
}

impl Stats {
    fn note_largest(&mut self, size: u64, oid: Oid, type_name: &str) {
        self.largest.push((size, oid, type_name.to_string()));
        if self.largest.len() >= 2 * LARGEST {
            self.trim_largest();
        }
    }

    /// Keeps the `LARGEST` largest, largest first, lower oid first among equals.
    fn trim_largest(&mut self) {
        self.largest.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        self.largest.truncate(LARGEST);
    }

    fn visit(&mut self, storage: &dyn Storage, seen: &Visit) -> Result<(), CliError> {
        let sizes: Vec<u64> = match storage.history(seen.oid, usize::MAX) {
            // An oid referenced but never stored: nothing to count.
            Err(Error::NotFound(_)) => return Ok(()),
            Err(error) => return Err(error.into()),
            Ok(revisions) => revisions.iter().map(|r| r.size as u64).collect(),
        };
        let count = sizes.len() as u64;
        self.revisions += count;
        self.history_bytes += sizes.iter().sum::<u64>();
        *self.histogram.entry(bucket(count)).or_default() += 1;

        match &seen.record {
            Record::Read { revision, info } => {
                let size = revision.data.len() as u64;
                let entry = self.types.entry(info.type_name.clone()).or_default();
                entry.objects += 1;
                entry.bytes += size;
                self.current_bytes += size;
                self.note_largest(size, seen.oid, &info.type_name);
            }
            Record::Corrupt(_) => {
                let size = sizes.first().copied().unwrap_or(0);
                let entry = self.types.entry(DAMAGED.to_string()).or_default();
                entry.objects += 1;
                entry.bytes += size;
                self.current_bytes += size;
            }
            Record::Absent => {}
        }

        // Removed with every revision: unreachable objects and those whose current record
        // is empty. Otherwise every revision but the current one.
        let removed = if !seen.reachable || matches!(seen.record, Record::Absent) {
            self.reclaimable.objects += 1;
            &sizes[..]
        } else {
            sizes.get(1..).unwrap_or_default()
        };
        self.reclaimable.revisions += removed.len() as u64;
        self.reclaimable.bytes += removed.iter().sum::<u64>();
        Ok(())
    }
}

/// Runs `stats URL`.
pub fn run(url: &str, json: bool) -> Result<ExitCode, CliError> {
    let opened = open(url, Mode::Existing)?;
    let storage = &*opened.storage;
    let mut stats = Stats::default();
    let progress = bar(json, "reading records and histories", "objects");
    let walked = walk(storage, &progress, &mut |seen| stats.visit(storage, seen))?;
    progress.finish_and_clear();
    stats.trim_largest();

    let mut types: Vec<(&String, &TypeStats)> = stats.types.iter().collect();
    types.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then(a.0.cmp(b.0)));
    let histogram: Vec<((u64, u64), u64)> =
        stats.histogram.iter().map(|(&b, &objects)| (bucket_range(b), objects)).collect();
    let reclaim = &stats.reclaimable;

    if json {
        print_json(&json!({
            "name": storage.name(),
            "objects": walked.objects,
            "reachable": walked.reachable,
            "current_bytes": stats.current_bytes,
            "revisions": stats.revisions,
            "history_bytes": stats.history_bytes,
            "types": types.iter().map(|(name, t)| json!({
                "type": name, "objects": t.objects, "bytes": t.bytes,
            })).collect::<Vec<_>>(),
            "largest": stats.largest.iter().map(|(size, oid, name)| json!({
                "oid": oid.0, "type": name, "size": size,
            })).collect::<Vec<_>>(),
            "revisions_per_object": histogram.iter().map(|((low, high), objects)| json!({
                "min": low, "max": high, "objects": objects,
            })).collect::<Vec<_>>(),
            "reclaimable": {
                "revisions": reclaim.revisions,
                "objects": reclaim.objects,
                "bytes": reclaim.bytes,
            },
        }));
        return Ok(ExitCode::SUCCESS);
    }
    println!("storage:   {}", storage.name());
    println!("objects:   {} ({} reachable from the roots)", walked.objects, walked.reachable);
    println!("records:   {} bytes in current records", stats.current_bytes);
    println!("history:   {} revisions, {} bytes", stats.revisions, stats.history_bytes);
    println!();
    println!("by type (current records):");
    let width = types.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    for (name, t) in &types {
        println!("  {name:width$}  {:>9} objects  {:>12} bytes", t.objects, t.bytes);
    }
    println!();
    println!("largest records:");
    let oid_width = stats.largest.iter().map(|(_, oid, _)| oid.0.to_string().len()).max();
    for (size, oid, name) in &stats.largest {
        let oid_width = oid_width.unwrap_or(0);
        println!("  oid {:<oid_width$}  {size:>9} bytes  {name}", oid.0);
    }
    println!();
    println!("revisions per object:");
    for ((low, high), objects) in &histogram {
        let label = if low == high { low.to_string() } else { format!("{low}-{high}") };
        println!("  {label:>11}  {objects:>9} objects");
    }
    println!();
    println!(
        "reclaimable by a pack at the newest tid: {} bytes in {} revisions ({} objects removed)",
        reclaim.bytes, reclaim.revisions, reclaim.objects
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::{bucket, bucket_range};

    #[test]
    fn buckets_are_powers_of_two() {
        assert_eq!([1, 2, 3, 4, 5, 8, 9].map(bucket), [0, 1, 2, 2, 3, 3, 4]);
        assert_eq!([0, 1, 2, 3].map(bucket_range), [(1, 1), (2, 2), (3, 4), (5, 8)]);
        for n in 1..100u64 {
            let (low, high) = bucket_range(bucket(n));
            assert!((low..=high).contains(&n), "{n}");
        }
    }
}
