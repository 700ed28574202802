//! `pack URL --before WHEN`: removes the history older than WHEN and the objects nobody can
//! reach (`Storage::pack`, docs/spec.md §10), with a progress bar (phase and units done)
//! and a summary of the `PackReport`. The only command besides `copy` that writes. What
//! does not live here: parsing WHEN (`when.rs`) and the pack itself (the storage's).

use std::process::ExitCode;

use persistent::storage::{PackPhase, PackProgress};
use persistent::Tid;
use serde_json::json;

use super::tid_hex;
use crate::progress::bar;
use crate::url::{open, Mode};
use crate::{print_json, CliError};

/// What a phase is called in the progress bar.
fn phase_name(phase: PackPhase) -> &'static str {
    match phase {
        PackPhase::Marking => "marking reachable objects",
        PackPhase::Sweeping => "sweeping",
        PackPhase::Transactions => "removing empty transactions",
        PackPhase::Shrinking => "shrinking the file",
        _ => "packing",
    }
}

/// Runs `pack URL --before WHEN` with WHEN already parsed into `before`.
pub fn run(url: &str, before: Tid, json: bool) -> Result<ExitCode, CliError> {
    let opened = open(url, Mode::Existing)?;
    let size_before = opened.size_on_disk()?;
    let progress = bar(json, "packing", "units");
    let mut phase = None;
    let report = opened.storage.pack(before, &mut |p: &PackProgress| {
        if phase != Some(p.phase) {
            phase = Some(p.phase);
            progress.set_message(phase_name(p.phase));
        }
        progress.set_position(p.done);
    })?;
    progress.finish_and_clear();
    let size_after = opened.size_on_disk()?;
    if json {
        print_json(&json!({
            "before": {"tid": tid_hex(before), "time": before.to_string()},
            "revisions_removed": report.revisions_removed,
            "objects_removed": report.objects_removed,
            "bytes_removed": report.bytes_removed,
            "transactions_removed": report.transactions_removed,
            "file_bytes_before": size_before,
            "file_bytes_after": size_after,
        }));
    } else {
        println!("packed to {} ({before})", tid_hex(before));
        println!("revisions removed:    {}", report.revisions_removed);
        println!("objects removed:      {}", report.objects_removed);
        println!("record bytes removed: {}", report.bytes_removed);
        println!("transactions removed: {}", report.transactions_removed);
        if let (Some(old), Some(new)) = (size_before, size_after) {
            println!("file size:            {old} -> {new} bytes (database + WAL)");
        }
    }
    Ok(ExitCode::SUCCESS)
}
