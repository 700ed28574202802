//! `info`: a summary of a storage (size, counts, tid range, record formats).

use std::process::ExitCode;

use persistent::codec::record_info;
use persistent::storage::Storage;
use persistent::{Oid, TimeStamp};
use serde_json::json;

use super::{tid_hex, PAGE};
use crate::url::open;
use crate::{print_json, CliError};

/// Runs `info URL`.
pub fn run(url: &str, json: bool) -> Result<ExitCode, CliError> {
    let opened = open(url)?;
    let storage = &opened.storage;
    let mut size = std::fs::metadata(&opened.path)?.len();
    let mut wal = opened.path.clone().into_os_string();
    wal.push("-wal");
    if let Ok(meta) = std::fs::metadata(&wal) {
        size += meta.len();
    }

    let (mut objects, mut format1, mut format2, mut unreadable) = (0u64, 0u64, 0u64, 0u64);
    let mut after: Option<Oid> = None;
    loop {
        let page = storage.list_oids(after, PAGE)?;
        let Some(&last) = page.last() else { break };
        for &oid in &page {
            objects += 1;
            match storage.load(oid).map(|rev| record_info(oid, &rev.data)) {
                Ok(Ok(info)) if info.format == 1 => format1 += 1,
                Ok(Ok(_)) => format2 += 1,
                _ => unreadable += 1,
            }
        }
        after = Some(last);
    }

    let mut transactions = 0u64;
    let mut first: Option<TimeStamp> = None;
    let mut before = TimeStamp::MAX;
    loop {
        let page = storage.transactions(before, PAGE)?;
        let Some(oldest) = page.last() else { break };
        transactions += page.len() as u64;
        first = Some(oldest.tid);
        before = oldest.tid;
    }
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
        println!("size:         {size} bytes (database + WAL)");
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
