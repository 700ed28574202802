//! `info`: a summary of a storage (size, counts, tid range, record formats).

use std::process::ExitCode;

use persistent::TimeStamp;
use serde_json::json;

use super::tid_hex;
use crate::progress::bar;
use crate::scan::{count_transactions, each_record, Record};
use crate::url::{open, Mode};
use crate::{print_json, CliError};

/// Runs `info URL`.
pub fn run(url: &str, json: bool) -> Result<ExitCode, CliError> {
    let opened = open(url, Mode::Existing)?;
    let storage = &*opened.storage;
    let size = opened.size_on_disk()?;

    let (mut format1, mut format2, mut unreadable) = (0u64, 0u64, 0u64);
    let progress = bar(json, "reading records", "objects");
    let objects = each_record(storage, &progress, &mut |_, record| {
        match record {
            Record::Read { info, .. } if info.format == 1 => format1 += 1,
            Record::Read { .. } => format2 += 1,
            Record::Absent | Record::Corrupt(_) => unreadable += 1,
        }
        Ok(())
    })?;
    progress.finish_and_clear();

    let (transactions, first) = count_transactions(storage)?;
    let last = storage.last_transaction()?;
    let last = (last != TimeStamp::ZERO).then_some(last);

    let tid_json =
        |tid: Option<TimeStamp>| tid.map(|t| json!({"tid": tid_hex(t), "time": t.to_string()}));
    if json {
        print_json(&json!({
            "name": storage.name(),
            "size_bytes": size,
            "objects": objects,
            "transactions": transactions,
            "first": tid_json(first),
            "last": tid_json(last),
            "formats": {"1": format1, "2": format2, "unreadable": unreadable},
        }));
    } else {
        let tid_text = |tid: Option<TimeStamp>| {
            tid.map_or("-".to_string(), |t| format!("{} ({t})", tid_hex(t)))
        };
        println!("storage:      {}", storage.name());
        if let Some(size) = size {
            println!("size:         {size} bytes (database + WAL)");
        }
        println!("objects:      {objects}");
        println!("transactions: {transactions}");
        println!("first tid:    {}", tid_text(first));
        println!("last tid:     {}", tid_text(last));
        println!(
            "formats:      format 1: {format1}, format 2: {format2}, unreadable: {unreadable}"
        );
    }
    Ok(ExitCode::SUCCESS)
}
