//! How a stored value read by its schema (`persistent::codec::Value`, from
//! `Schema::read_fields`) is shown: as Rust-like text (references as `-> oid N`) and as
//! JSON. What does not live here: reading the value (that is `persistent-core`'s, the one
//! decoder of stored bytes) and the rest of a record.

use std::fmt::Write as _;

use persistent::codec::{Value, VariantValue};
use serde_json::json;

/// How many items of a sequence or map are shown in text before "... N more".
const SHOWN_ITEMS: usize = 32;

/// Bytes as lowercase hex digits, without separators.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

/// `value` as Rust-like text: `Address { city: "Oslo" }`, `Some(3)`, `[1, 2]`,
/// `Kind::Big(7)`, a reference as `-> oid 12`.
pub fn to_text(value: &Value) -> String {
    let mut out = String::new();
    write_text(&mut out, value);
    out
}

fn write_text(out: &mut String, value: &Value) {
    match value {
        Value::Unit => out.push_str("()"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(n) => out.push_str(&n.to_string()),
        Value::UInt(n) => out.push_str(&n.to_string()),
        Value::F32(x) => {
            let _ = write!(out, "{x:?}");
        }
        Value::F64(x) => {
            let _ = write!(out, "{x:?}");
        }
        Value::Char(c) => {
            let _ = write!(out, "{c:?}");
        }
        Value::Str(s) => {
            let _ = write!(out, "{s:?}");
        }
        Value::Bytes(bytes) => {
            out.push_str("bytes 0x");
            out.push_str(&hex(bytes));
        }
        Value::Option(None) => out.push_str("None"),
        Value::Option(Some(inner)) => {
            out.push_str("Some(");
            write_text(out, inner);
            out.push(')');
        }
        Value::Seq(items) => write_items(out, "[", items.iter(), items.len(), "]"),
        Value::Tuple(items) => write_items(out, "(", items.iter(), items.len(), ")"),
        Value::Map(entries) => {
            out.push('{');
            for (index, (key, value)) in entries.iter().take(SHOWN_ITEMS).enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_text(out, key);
                out.push_str(": ");
                write_text(out, value);
            }
            more(out, entries.len());
            out.push('}');
        }
        Value::Struct { name, fields } => {
            out.push_str(name);
            write_fields(out, fields);
        }
        Value::TupleStruct { name, fields } => {
            out.push_str(name);
            write_items(out, "(", fields.iter(), fields.len(), ")");
        }
        Value::UnitStruct { name } => out.push_str(name),
        Value::Newtype { name, inner } => {
            out.push_str(name);
            out.push('(');
            write_text(out, inner);
            out.push(')');
        }
        Value::Variant { name, variant, content, .. } => {
            let _ = write!(out, "{name}::{variant}");
            match content {
                VariantValue::Newtype(inner) => {
                    out.push('(');
                    write_text(out, inner);
                    out.push(')');
                }
                VariantValue::Tuple(items) => {
                    write_items(out, "(", items.iter(), items.len(), ")");
                }
                VariantValue::Struct(fields) => write_fields(out, fields),
                _ => {}
            }
        }
        Value::Reference(oid) => {
            let _ = write!(out, "-> oid {oid}");
        }
        other => {
            let _ = write!(out, "{other:?}");
        }
    }
}

fn write_items<'v>(
    out: &mut String,
    open: &str,
    items: impl Iterator<Item = &'v Value>,
    len: usize,
    close: &str,
) {
    out.push_str(open);
    for (index, item) in items.take(SHOWN_ITEMS).enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        write_text(out, item);
    }
    more(out, len);
    out.push_str(close);
}

fn write_fields(out: &mut String, fields: &[(String, Value)]) {
    out.push_str(" { ");
    for (index, (name, value)) in fields.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{name}: ");
        write_text(out, value);
    }
    out.push_str(" }");
}

/// ", ... N more" when `len` items are more than were shown.
fn more(out: &mut String, len: usize) {
    if len > SHOWN_ITEMS {
        let _ = write!(out, ", ... {} more", len - SHOWN_ITEMS);
    }
}

/// `value` as JSON: numbers as numbers (as strings past 64 bits), structs as objects by
/// field name, sequences and tuples as arrays, maps as arrays of `[key, value]` pairs (keys
/// need not be strings), `None` and `()` as null, an enum variant as `"Variant"` or
/// `{"Variant": content}`, bytes as `{"bytes": "<hex>"}`, a reference as `{"oid": N}`.
pub fn to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Unit | Value::Option(None) => serde_json::Value::Null,
        Value::Bool(b) => json!(b),
        Value::Int(n) => i64::try_from(*n).map_or_else(|_| json!(n.to_string()), |n| json!(n)),
        Value::UInt(n) => u64::try_from(*n).map_or_else(|_| json!(n.to_string()), |n| json!(n)),
        Value::F32(x) => json!(x),
        Value::F64(x) => json!(x),
        Value::Char(c) => json!(c.to_string()),
        Value::Str(s) => json!(s),
        Value::Bytes(bytes) => json!({"bytes": hex(bytes)}),
        Value::Option(Some(inner)) | Value::Newtype { inner, .. } => to_json(inner),
        Value::Seq(items) | Value::Tuple(items) | Value::TupleStruct { fields: items, .. } => {
            array(items)
        }
        Value::Map(entries) => serde_json::Value::Array(
            entries.iter().map(|(key, value)| json!([to_json(key), to_json(value)])).collect(),
        ),
        Value::Struct { fields, .. } => object(fields),
        Value::UnitStruct { name } => json!(name),
        Value::Variant { variant, content, .. } => match content {
            VariantValue::Newtype(inner) => json!({ variant.clone(): to_json(inner) }),
            VariantValue::Tuple(items) => json!({ variant.clone(): array(items) }),
            VariantValue::Struct(fields) => json!({ variant.clone(): object(fields) }),
            _ => json!(variant),
        },
        Value::Reference(oid) => json!({"oid": oid}),
        other => json!(format!("{other:?}")),
    }
}

fn array(items: &[Value]) -> serde_json::Value {
    serde_json::Value::Array(items.iter().map(to_json).collect())
}

fn object(fields: &[(String, Value)]) -> serde_json::Value {
    serde_json::Value::Object(
        fields.iter().map(|(name, value)| (name.clone(), to_json(value))).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::{to_json, to_text};
    use persistent::codec::Value;
    use serde_json::json;

    #[test]
    fn references_show_as_oids() {
        let value = Value::Seq(vec![Value::Reference(3), Value::Option(None)]);
        assert_eq!(to_text(&value), "[-> oid 3, None]");
        assert_eq!(to_json(&value), json!([{"oid": 3}, null]));
    }

    #[test]
    fn wide_numbers_stay_exact_in_json() {
        assert_eq!(to_json(&Value::UInt(u128::from(u64::MAX) + 1)), json!("18446744073709551616"));
        assert_eq!(to_json(&Value::Int(-5)), json!(-5));
    }

    #[test]
    fn long_sequences_are_cut_in_text() {
        let value = Value::Seq((0..40).map(Value::UInt).collect());
        assert!(to_text(&value).ends_with("31, ... 8 more]"), "{}", to_text(&value));
    }
}
