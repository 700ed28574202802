//! `verify`: checks a storage's records, references, reachability and SQLite file, and
//! exits 1 on any finding. Memory: the set of reachable oids is a `HashSet<Oid>` held in
//! memory for the whole run; records are read one at a time.

use std::collections::HashSet;
use std::process::ExitCode;

use persistent::codec::record_info;
use persistent::storage::Storage;
use persistent::{Error, Oid, TimeStamp};
use serde_json::json;

use super::PAGE;
use crate::url::open;
use crate::{print_json, CliError};

/// One problem found.
struct Finding {
    kind: &'static str,
    oid: Option<Oid>,
    message: String,
}

/// What one record says, or the finding that it is unreadable.
enum Read {
    Missing,
    Corrupt(String),
    Refs(Vec<Oid>),
}

fn read(storage: &dyn Storage, oid: Oid) -> Result<Read, CliError> {
    match storage.load(oid) {
        Err(Error::NotFound(_)) => Ok(Read::Missing),
        Err(error) => Err(error.into()),
        Ok(revision) => Ok(match record_info(oid, &revision.data) {
            Ok(info) => Read::Refs(info.references),
            Err(error) => Read::Corrupt(error.to_string()),
        }),
    }
}

/// Runs `verify URL`.
pub fn run(url: &str, json: bool) -> Result<ExitCode, CliError> {
    let opened = open(url)?;
    let storage: &dyn Storage = &opened.storage;
    let mut findings = Vec::new();

    // 1. Walk from the roots, checking each reached record and its references.
    let mut reachable: HashSet<Oid> = HashSet::new();
    let mut frontier: Vec<(Oid, Option<Oid>)> = vec![(Oid::ROOT, None), (Oid::SCHEMAS, None)];
    reachable.extend([Oid::ROOT, Oid::SCHEMAS]);
    while let Some((oid, from)) = frontier.pop() {
        match read(storage, oid)? {
            Read::Missing => {
                if let Some(from) = from {
                    findings.push(Finding {
                        kind: "dangling-reference",
                        oid: Some(from),
                        message: format!(
                            "object {} references {}, which has no record",
                            from.0, oid.0
                        ),
                    });
                }
            }
            Read::Corrupt(message) => {
                findings.push(Finding { kind: "corrupt-record", oid: Some(oid), message });
            }
            Read::Refs(references) => {
                for target in references {
                    if reachable.insert(target) {
                        frontier.push((target, Some(oid)));
                    }
                }
            }
        }
    }

    // 2. Every stored object: the unreachable ones, checked on their own.
    let mut objects = 0u64;
    let mut after = None;
    loop {
        let page = storage.list_oids(after, PAGE)?;
        let Some(&last) = page.last() else { break };
        for &oid in &page {
            objects += 1;
            if reachable.contains(&oid) {
                continue;
            }
            findings.push(Finding {
                kind: "unreachable",
                oid: Some(oid),
                message: format!("object {} is not reachable from the roots", oid.0),
            });
            match read(storage, oid)? {
                Read::Missing => {}
                Read::Corrupt(message) => {
                    findings.push(Finding { kind: "corrupt-record", oid: Some(oid), message });
                }
                Read::Refs(references) => {
                    for target in references {
                        if storage.load_visible(target, TimeStamp::MAX)?.is_none() {
                            findings.push(Finding {
                                kind: "dangling-reference",
                                oid: Some(oid),
                                message: format!(
                                    "object {} references {}, which has no record",
                                    oid.0, target.0
                                ),
                            });
                        }
                    }
                }
            }
        }
        after = Some(last);
    }

    // 3. SQLite's own check of the file.
    let sqlite_ok = opened.storage.integrity_check()?;
    if !sqlite_ok {
        findings.push(Finding {
            kind: "sqlite-integrity",
            oid: None,
            message: "PRAGMA integrity_check reports the file damaged".to_string(),
        });
    }

    let unreachable = findings.iter().filter(|f| f.kind == "unreachable").count() as u64;
    report(&storage.name(), objects, objects - unreachable, sqlite_ok, &findings, json);
    Ok(if findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Prints the findings.
fn report(
    name: &str,
    objects: u64,
    reachable: u64,
    sqlite_ok: bool,
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
            "sqlite_integrity_ok": sqlite_ok,
            "clean": findings.is_empty(),
            "findings": list,
        }));
    } else {
        println!("storage:  {name}");
        println!("objects:  {objects}");
        println!("sqlite integrity check: {}", if sqlite_ok { "ok" } else { "FAILED" });
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
