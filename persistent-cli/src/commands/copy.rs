//! `copy SRC DST`: replays every transaction of SRC into DST with its tid, user,
//! description and revisions (`storage::copy_transactions`, ZODB's
//! `copyTransactionsFrom`), with a progress bar over SRC's transactions and a summary of
//! the `CopyProgress` it returns. DST is created if it does not exist; a copy that stopped
//! is finished by running it again (DST must hold a prefix of SRC's transactions). What does
//! not live here: the copy itself (persistent-core).

use std::process::ExitCode;

use persistent::storage::{copy_transactions, CopyProgress};
use persistent::TimeStamp;
use serde_json::json;

use super::tid_hex;
use crate::progress::{bar, set_total};
use crate::scan::count_transactions;
use crate::url::{open, Mode};
use crate::{print_json, CliError};

/// Runs `copy SRC DST`.
pub fn run(source: &str, target: &str, json: bool) -> Result<ExitCode, CliError> {
    let from = open(source, Mode::Existing)?;
    let to = open(target, Mode::Create)?;
    if let (Some(a), Some(b)) = (&from.file, &to.file) {
        if std::fs::canonicalize(a)? == std::fs::canonicalize(b)? {
            return Err(CliError::usage(format!(
                "{source} and {target} are the same database: copy into another one"
            )));
        }
    }
    let progress = bar(json, "copying", "transactions");
    if !progress.is_hidden() {
        set_total(&progress, count_transactions(&*from.storage)?.0, "transactions");
    }
    let report = copy_transactions(&*from.storage, &*to.storage, &mut |p: &CopyProgress| {
        progress.set_position(p.skipped + p.transactions);
    })?;
    progress.finish_and_clear();
    let last = (report.last_tid != TimeStamp::ZERO).then_some(report.last_tid);
    if json {
        print_json(&json!({
            "transactions": report.transactions,
            "revisions": report.revisions,
            "bytes": report.bytes,
            "skipped": report.skipped,
            "last": last.map(|t| json!({"tid": tid_hex(t), "time": t.to_string()})),
        }));
    } else {
        println!(
            "copied {} transactions ({} revisions, {} record bytes)",
            report.transactions, report.revisions, report.bytes
        );
        if report.skipped > 0 {
            println!("skipped {} transactions the target already held", report.skipped);
        }
        match last {
            Some(t) => println!("target's newest tid: {} ({t})", tid_hex(t)),
            None => println!("the source holds no transactions"),
        }
    }
    Ok(ExitCode::SUCCESS)
}
