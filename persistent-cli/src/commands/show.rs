//! `show`: one object's current record: type, serial, format, schema, references, and the
//! state as field names and values when the record names a schema of the database's
//! registry (read by `Schema::read_fields`, persistent-core's reader of stored values);
//! otherwise (format 1, no schema, an opaque field) the bytes not read as hex. What does
//! not live here: `show --referrers` (`referrers.rs`) and how values print (`value.rs`).

use std::process::ExitCode;

use persistent::codec::{record_info, state_of, ReadFields};
use persistent::storage::Storage;
use persistent::Oid;
use serde_json::json;

use super::tid_hex;
use crate::registry::{schema_numbered, stored_schemas};
use crate::url::{open, Mode};
use crate::value::{self, hex};
use crate::{print_json, CliError};

/// How many state bytes are shown as hex.
const SHOWN: usize = 256;

/// What the state shows as.
enum State {
    /// Read by the schema: the fields, and the bytes from the first opaque field on.
    Fields { schema_version: u32, read: ReadFields },
    /// Not read by name: why, and the bytes.
    Bytes { why: String, bytes: Vec<u8> },
}

/// Reads `state` by the record's schema `number`, or says why it is shown as bytes.
fn read_state(
    storage: &dyn Storage,
    format: u8,
    number: u64,
    state: &[u8],
) -> Result<State, CliError> {
    let bytes = |why: &str| Ok(State::Bytes { why: why.to_string(), bytes: state.to_vec() });
    if format == 1 {
        return bytes("a format-1 record names no schema");
    }
    if number == 0 {
        return bytes("the type has no schema (a collection or a hand-written Persistent impl)");
    }
    let schemas = stored_schemas(storage)?;
    let Some(schema) = schema_numbered(&schemas, number) else {
        return bytes(&format!("the registry has no schema {number}"));
    };
    match schema.read_fields(state) {
        Ok(read) => Ok(State::Fields { schema_version: schema.version, read }),
        Err(error) => bytes(&format!("the state does not read by its schema: {error}")),
    }
}

/// Up to `SHOWN` bytes as rows of 16 hex pairs, and whether some were left out.
fn hex_rows(bytes: &[u8]) -> (String, bool) {
    let shown = &bytes[..bytes.len().min(SHOWN)];
    let rows: Vec<String> = shown
        .chunks(16)
        .map(|row| row.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" "))
        .collect();
    (rows.join("\n"), bytes.len() > SHOWN)
}

/// Runs `show URL OID`.
pub fn run(url: &str, oid: Oid, json: bool) -> Result<ExitCode, CliError> {
    let opened = open(url, Mode::Existing)?;
    let storage = &*opened.storage;
    let revision = storage.load(oid)?;
    let data = &revision.data;
    let info = record_info(oid, data)?;
    let state = read_state(storage, info.format, info.schema, state_of(oid, data)?)?;
    let references: Vec<u64> = info.references.iter().map(|r| r.0).collect();
    if json {
        let mut out = json!({
            "oid": oid.0,
            "type": info.type_name,
            "serial": tid_hex(revision.serial),
            "time": revision.serial.to_string(),
            "size": data.len(),
            "format": info.format,
            "schema": info.schema,
            "references": references,
            "state_len": info.state_len,
        });
        match &state {
            State::Fields { schema_version, read } => {
                out["schema_version"] = json!(schema_version);
                let fields: Vec<_> = read
                    .fields
                    .iter()
                    .map(|(name, v)| json!({"name": name, "value": value::to_json(v)}))
                    .collect();
                out["fields"] = json!(fields);
                if let Some(unread) = &read.unread {
                    out["unread"] = json!({
                        "from_field": unread.field,
                        "shape": unread.shape.to_string(),
                        "hex": hex(&unread.bytes[..unread.bytes.len().min(SHOWN)]),
                        "truncated": unread.bytes.len() > SHOWN,
                    });
                }
            }
            State::Bytes { why, bytes } => {
                out["state_hex"] = json!(hex(&bytes[..bytes.len().min(SHOWN)]));
                out["state_truncated"] = json!(bytes.len() > SHOWN);
                out["state_not_read"] = json!(why);
            }
        }
        print_json(&out);
        return Ok(ExitCode::SUCCESS);
    }
    println!("oid:        {}", oid.0);
    println!("type:       {}", info.type_name);
    println!("serial:     {} ({})", tid_hex(revision.serial), revision.serial);
    println!("size:       {} bytes", data.len());
    println!("format:     {}", info.format);
    let refs: Vec<String> = references.iter().map(ToString::to_string).collect();
    match &state {
        State::Fields { schema_version, read } => {
            println!("schema:     {} (version {schema_version})", info.schema);
            println!("references: [{}]", refs.join(", "));
            println!("state:      {} bytes, fields:", info.state_len);
            let width = read.fields.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
            for (name, v) in &read.fields {
                println!("  {name:width$} = {}", value::to_text(v));
            }
            if let Some(unread) = &read.unread {
                let (rows, cut) = hex_rows(&unread.bytes);
                println!(
                    "  from field {:?} on, {} bytes not read (its shape, {}, is read only by \
                     its Rust type){}:",
                    unread.field,
                    unread.bytes.len(),
                    unread.shape,
                    if cut { format!(", first {SHOWN} shown") } else { String::new() }
                );
                if !rows.is_empty() {
                    println!("{rows}");
                }
            }
        }
        State::Bytes { why, bytes } => {
            println!("schema:     {}", info.schema);
            println!("references: [{}]", refs.join(", "));
            let (rows, cut) = hex_rows(bytes);
            println!(
                "state:      {} bytes{} ({why})",
                info.state_len,
                if cut { format!(", first {SHOWN} shown") } else { String::new() }
            );
            if !rows.is_empty() {
                println!("{rows}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
