//! `verify`: checks a storage's records, references, reachability and (for SQLite) the
//! file, and exits 1 on any finding. The pass is the shared walk (`scan::walk`): the set of
//! reachable oids is held in memory for the whole run; records are read one at a time. What
//! does not live here: the walk itself and the output of other commands.

use std::process::ExitCode;

use persistent::storage::Storage;
use persistent::{Oid, TimeStamp};
use serde_json::json;

use crate::progress::bar;
use crate::scan::{walk, Record, Visit};
use crate::url::{open, Mode};
use crate::{print_json, CliError};

/// One problem found.
struct Finding {
    kind: &'static str,
    oid: Option<Oid>,
    message: String,
}

impl Finding {
    fn dangling(from: Oid, to: Oid) -> Finding {
        Finding {
            kind: "dangling-reference",
            oid: Some(from),
            message: format!("object {} references {}, which has no record", from.0, to.0),
        }
    }
}

/// The findings about one visited object.
fn check(storage: &dyn Storage, seen: &Visit, findings: &mut Vec<Finding>) -> Result<(), CliError> {
    if !seen.reachable {
        findings.push(Finding {
            kind: "unreachable",
            oid: Some(seen.oid),
            message: format!("object {} is not reachable from the roots", seen.oid.0),
        });
    }
    match &seen.record {
        Record::Absent => {
            if let Some(from) = seen.from {
                findings.push(Finding::dangling(from, seen.oid));
            }
        }
        Record::Corrupt(message) => findings.push(Finding {
            kind: "corrupt-record",
            oid: Some(seen.oid),
            message: message.clone(),
        }),
        Record::Read { info, .. } if !seen.reachable => {
            // The walk does not follow an unreachable object's references: check them here.
            for &target in &info.references {
                if storage.load_visible(target, TimeStamp::MAX)?.is_none() {
                    findings.push(Finding::dangling(seen.oid, target));
                }
            }
        }
        Record::Read { .. } => {}
    }
    Ok(())
}

/// Runs `verify URL`.
pub fn run(url: &str, json: bool) -> Result<ExitCode, CliError> {
    let opened = open(url, Mode::Existing)?;
    let storage = &*opened.storage;
    let mut findings = Vec::new();
    let progress = bar(json, "verifying", "objects");
    let walked = walk(storage, &progress, &mut |seen| check(storage, seen, &mut findings))?;
    progress.finish_and_clear();

    let integrity = opened.integrity_check()?;
    if integrity == Some(false) {
        findings.push(Finding {
            kind: "sqlite-integrity",
            oid: None,
            message: "PRAGMA integrity_check reports the file damaged".to_string(),
        });
    }
    report(&storage.name(), walked.objects, walked.reachable, integrity, &findings, json);
    Ok(if findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Prints the findings.
fn report(
    name: &str,
    objects: u64,
    reachable: u64,
    integrity: Option<bool>,
    findings: &[Finding],
    json: bool,
) {
    if json {
        let list: Vec<_> = findings
            .iter()
            .map(|f| json!({"kind": f.kind, "oid": f.oid.map(|o| o.0), "message": f.message}))
            .collect();
        print_json(&json!({
            "name": name,
            "objects": objects,
            "reachable": reachable,
            "sqlite_integrity_ok": integrity,
            "clean": findings.is_empty(),
            "findings": list,
        }));
    } else {
        println!("storage:  {name}");
        println!("objects:  {objects}");
        let integrity = match integrity {
            Some(true) => "ok",
            Some(false) => "FAILED",
            None => "not available for this storage",
        };
        println!("sqlite integrity check: {integrity}");
        for f in findings {
            println!("{}: {}", f.kind, f.message);
        }
        if findings.is_empty() {
            println!("clean: no findings");
        } else {
            println!("{} finding(s)", findings.len());
        }
    }
}
