//! `show OID --referrers`: the objects whose current record references OID, found by
//! reading every current record's reference list (the envelope's, read without decoding
//! states), in oid order. Works for an oid that has no record (who holds a dangling
//! reference?). What does not live here: showing the record itself (`show.rs`).

use std::process::ExitCode;

use persistent::Oid;
use serde_json::json;

use crate::progress::bar;
use crate::scan::{each_record, Record};
use crate::url::{open, Mode};
use crate::{print_json, CliError};

/// Runs `show URL OID --referrers`.
pub fn run(url: &str, oid: Oid, json: bool) -> Result<ExitCode, CliError> {
    let opened = open(url, Mode::Existing)?;
    let mut referrers: Vec<(Oid, String)> = Vec::new();
    let mut unreadable = 0u64;
    let progress = bar(json, "reading reference lists", "objects");
    let scanned = each_record(&*opened.storage, &progress, &mut |from, record| {
        match record {
            Record::Read { info, .. } if info.references.contains(&oid) => {
                referrers.push((from, info.type_name));
            }
            Record::Corrupt(_) => unreadable += 1,
            _ => {}
        }
        Ok(())
    })?;
    progress.finish_and_clear();
    if json {
        let list: Vec<_> = referrers
            .iter()
            .map(|(from, type_name)| json!({"oid": from.0, "type": type_name}))
            .collect();
        print_json(&json!({
            "oid": oid.0,
            "referrers": list,
            "objects_scanned": scanned,
            "unreadable_records": unreadable,
        }));
    } else {
        println!("objects referencing {} ({} objects scanned):", oid.0, scanned);
        for (from, type_name) in &referrers {
            println!("  {}  {type_name}", from.0);
        }
        if referrers.is_empty() {
            println!("  (none)");
        }
        if unreadable > 0 {
            println!("{unreadable} damaged record(s) could not be read (see `verify`)");
        }
    }
    Ok(ExitCode::SUCCESS)
}
