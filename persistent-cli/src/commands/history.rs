//! `history`: the revisions of one object, newest first.

use std::process::ExitCode;

use persistent::Oid;
use serde_json::json;

use super::tid_hex;
use crate::url::{open, Mode};
use crate::{print_json, CliError};

/// Runs `history URL OID --limit N`.
pub fn run(url: &str, oid: Oid, limit: usize, json: bool) -> Result<ExitCode, CliError> {
    let opened = open(url, Mode::Existing)?;
    let revisions = opened.storage.history(oid, limit)?;
    if json {
        let list: Vec<_> = revisions
            .iter()
            .map(|r| {
                json!({
                    "tid": tid_hex(r.tid),
                    "time": r.tid.to_string(),
                    "size": r.size,
                    "user": r.user,
                    "description": r.description,
                })
            })
            .collect();
        print_json(&json!({"oid": oid.0, "revisions": list}));
    } else {
        println!("object {}:", oid.0);
        for r in &revisions {
            println!(
                "{}  {}  {} bytes  user={:?}  {:?}",
                tid_hex(r.tid),
                r.tid,
                r.size,
                r.user,
                r.description
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
