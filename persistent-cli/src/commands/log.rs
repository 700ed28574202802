//! `log`: the transactions, newest first.

use std::process::ExitCode;

use persistent::TimeStamp;
use serde_json::json;

use super::tid_hex;
use crate::url::{open, Mode};
use crate::{print_json, CliError};

/// Runs `log URL --limit N`.
pub fn run(url: &str, limit: usize, json: bool) -> Result<ExitCode, CliError> {
    let opened = open(url, Mode::Existing)?;
    let transactions = opened.storage.transactions(TimeStamp::MAX, limit)?;
    if json {
        let list: Vec<_> = transactions
            .iter()
            .map(|t| {
                json!({
                    "tid": tid_hex(t.tid),
                    "time": t.time().to_string(),
                    "user": t.user,
                    "description": t.description,
                    "objects": t.oids.len(),
                })
            })
            .collect();
        print_json(&json!({"transactions": list}));
    } else {
        for t in &transactions {
            println!(
                "{}  {}  user={:?}  objects={}  {:?}",
                tid_hex(t.tid),
                t.time(),
                t.user,
                t.oids.len(),
                t.description
            );
        }
        if transactions.is_empty() {
            println!("(no transactions)");
        }
    }
    Ok(ExitCode::SUCCESS)
}
