//! `migrate URL`: a report of what `Database::migrate::<T>()` would rewrite, per stored
//! type: the objects whose record is not in the type's newest registered schema (an older
//! schema number, no schema while the type has one, or record format 1). The tool cannot
//! rewrite them itself: rewriting reads each record through the program's Rust type (its
//! field defaults, aliases and upgrade functions are code), which the tool does not have;
//! the application calls `Database::migrate::<T>()` (docs/guide.md, "The command-line
//! tool"). Read-only. What does not live here: the migration itself (persistent-core).
//!
//! "Newest registered schema" is the highest-numbered schema of the registry with the
//! type's stored name: the one the newest program that wrote the type registered. A
//! program whose struct changed but that has not written an object of it yet has not
//! registered its schema, so its `migrate` would rewrite more than this report says.

use std::collections::BTreeMap;
use std::process::ExitCode;

use persistent::codec::Schema;
use serde_json::json;

use crate::progress::bar;
use crate::registry::stored_schemas;
use crate::scan::{each_record, Record};
use crate::url::{open, Mode};
use crate::{print_json, CliError};

/// The records of one stored type, by how they were written.
#[derive(Default)]
struct TypeRecords {
    objects: u64,
    /// Format-2 records by schema number (0: none).
    by_schema: BTreeMap<u64, u64>,
    /// Format-1 records.
    format1: u64,
}

/// One type's line of the report.
struct TypeReport {
    type_name: String,
    objects: u64,
    /// The newest registered schema's number and version (`None`: the type has none).
    newest: Option<(u64, u32)>,
    /// Objects to rewrite: (schema number or `None` for format 1, version, count).
    stale: Vec<(Option<u64>, Option<u32>, u64)>,
}

impl TypeReport {
    fn to_rewrite(&self) -> u64 {
        self.stale.iter().map(|(_, _, count)| count).sum()
    }
}

/// The newest schema number registered for each stored type name, with its version.
fn newest_schemas(schemas: &[Schema]) -> BTreeMap<&str, (u64, u32)> {
    let mut newest = BTreeMap::new();
    for (schema, number) in schemas.iter().zip(1u64..) {
        newest.insert(schema.type_name.as_str(), (number, schema.version));
    }
    newest
}

fn report_of(
    type_name: String,
    records: &TypeRecords,
    schemas: &[Schema],
    newest: Option<(u64, u32)>,
) -> TypeReport {
    let current = newest.map_or(0, |(number, _)| number);
    let mut stale = Vec::new();
    if records.format1 > 0 {
        stale.push((None, None, records.format1));
    }
    for (&number, &count) in &records.by_schema {
        if number != current {
            let version = crate::registry::schema_numbered(schemas, number).map(|s| s.version);
            stale.push((Some(number), version, count));
        }
    }
    TypeReport { type_name, objects: records.objects, newest, stale }
}

/// Runs `migrate URL`.
pub fn run(url: &str, json: bool) -> Result<ExitCode, CliError> {
    let opened = open(url, Mode::Existing)?;
    let storage = &*opened.storage;
    let schemas = stored_schemas(storage)?;
    let mut types: BTreeMap<String, TypeRecords> = BTreeMap::new();
    let progress = bar(json, "reading record headers", "objects");
    let scanned = each_record(storage, &progress, &mut |_, record| {
        if let Record::Read { info, .. } = record {
            let entry = types.entry(info.type_name).or_default();
            entry.objects += 1;
            if info.format == 1 {
                entry.format1 += 1;
            } else {
                *entry.by_schema.entry(info.schema).or_default() += 1;
            }
        }
        Ok(())
    })?;
    progress.finish_and_clear();

    let newest = newest_schemas(&schemas);
    let reports: Vec<TypeReport> = types
        .iter()
        .map(|(name, records)| {
            report_of(name.clone(), records, &schemas, newest.get(name.as_str()).copied())
        })
        .collect();
    let total: u64 = reports.iter().map(TypeReport::to_rewrite).sum();
    let advice = "this tool has no Rust types, so it cannot rewrite records: the application \
                  rewrites them by calling Database::migrate::<T>(batch, progress) for each \
                  type listed";
    if json {
        let list: Vec<_> = reports
            .iter()
            .map(|r| {
                json!({
                    "type": r.type_name,
                    "objects": r.objects,
                    "newest_schema": r.newest.map(|(number, version)| json!({"number": number, "version": version})),
                    "to_rewrite": r.to_rewrite(),
                    "stale": r.stale.iter().map(|(number, version, count)| json!({
                        "format": if number.is_some() { 2 } else { 1 },
                        "schema": number,
                        "version": version,
                        "objects": count,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        print_json(&json!({
            "objects_scanned": scanned,
            "to_rewrite": total,
            "types": list,
            "note": advice,
        }));
        return Ok(ExitCode::SUCCESS);
    }
    println!("{scanned} objects scanned; {total} to rewrite");
    for r in &reports {
        let newest = match r.newest {
            Some((number, version)) => format!("newest schema {number}, version {version}"),
            None => "no schema".to_string(),
        };
        println!(
            "{}: {} objects ({newest}), {} to rewrite",
            r.type_name,
            r.objects,
            r.to_rewrite()
        );
        for (number, version, count) in &r.stale {
            let label = match (number, version) {
                (None, _) => "record format 1".to_string(),
                (Some(0), _) => "no schema".to_string(),
                (Some(n), Some(v)) => format!("schema {n} (version {v})"),
                (Some(n), None) => format!("schema {n} (not in the registry)"),
            };
            println!("  {label}: {count}");
        }
    }
    if total > 0 {
        println!("note: {advice}.");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::{newest_schemas, report_of, TypeRecords};
    use persistent::codec::{Schema, Shape};

    #[test]
    fn stale_records_are_those_not_in_the_newest_schema() {
        let schemas = vec![
            Schema::new("a::T", 1, vec![("x".into(), Shape::Bool)]),
            Schema::new("a::U", 1, vec![]),
            Schema::new("a::T", 2, vec![("y".into(), Shape::Bool)]),
        ];
        let newest = newest_schemas(&schemas);
        assert_eq!(newest.get("a::T"), Some(&(3, 2)));
        let records = TypeRecords {
            objects: 7,
            by_schema: [(1, 2), (3, 4)].into_iter().collect(),
            format1: 1,
        };
        let report = report_of("a::T".into(), &records, &schemas, newest.get("a::T").copied());
        assert_eq!(report.to_rewrite(), 3);
        assert_eq!(report.stale, [(None, None, 1), (Some(1), Some(1), 2)]);
        // A type without a schema: only format-1 records are stale.
        let plain =
            TypeRecords { objects: 5, by_schema: [(0, 4)].into_iter().collect(), format1: 1 };
        assert_eq!(report_of("c::L".into(), &plain, &schemas, None).to_rewrite(), 1);
    }
}
