//! `show`: one object's current record. The state is shown as hex bytes: showing its
//! fields by name needs the record's schema and is not done yet.

use std::fmt::Write as _;
use std::process::ExitCode;

use persistent::codec::record_info;
use persistent::storage::Storage;
use persistent::Oid;
use serde_json::json;

use super::tid_hex;
use crate::url::open;
use crate::{print_json, CliError};

/// How many state bytes are shown.
const SHOWN: usize = 256;

/// Runs `show URL OID`.
pub fn run(url: &str, oid: Oid, json: bool) -> Result<ExitCode, CliError> {
    let opened = open(url)?;
    let revision = opened.storage.load(oid)?;
    let info = record_info(oid, &revision.data)?;
    let data = &revision.data;
    // Format 2 ends with a 4-byte checksum after the state; format 1 ends with the state.
    let end = if info.format == 1 { data.len() } else { data.len().saturating_sub(4) };
    let state = &data[end.saturating_sub(info.state_len)..end];
    let shown = &state[..state.len().min(SHOWN)];
    let mut hex = String::with_capacity(shown.len() * 3);
    for (i, byte) in shown.iter().enumerate() {
        if i > 0 {
            hex.push(if i % 16 == 0 { '\n' } else { ' ' });
        }
        let _ = write!(hex, "{byte:02x}");
    }
    let references: Vec<u64> = info.references.iter().map(|r| r.0).collect();
    if json {
        print_json(&json!({
            "oid": oid.0,
            "type": info.type_name,
            "serial": tid_hex(revision.serial),
            "time": revision.serial.to_string(),
            "size": data.len(),
            "format": info.format,
            "schema": info.schema,
            "references": references,
            "state_len": info.state_len,
            "state_hex": shown.iter().fold(String::new(), |mut s, b| { let _ = write!(s, "{b:02x}"); s }),
            "state_truncated": state.len() > SHOWN,
        }));
    } else {
        println!("oid:        {}", oid.0);
        println!("type:       {}", info.type_name);
        println!("serial:     {} ({})", tid_hex(revision.serial), revision.serial);
        println!("size:       {} bytes", data.len());
        println!("format:     {}", info.format);
        println!("schema:     {}", info.schema);
        let refs: Vec<String> = references.iter().map(ToString::to_string).collect();
        println!("references: [{}]", refs.join(", "));
        println!(
            "state:      {} bytes{} (fields by name need the schema: not shown yet)",
            info.state_len,
            if state.len() > SHOWN { format!(", first {SHOWN} shown") } else { String::new() }
        );
        if !hex.is_empty() {
            println!("{hex}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
