//! Two releases of the benchmarks' row (an int, a string, a float): `RowV1`, and `RowV2`,
//! version 2, whose upgrade function renames `name` to `label`. The evolution benchmarks
//! store first-release rows and read or migrate them with the second release.

use persistent::codec::OldFields;
use persistent::Persistent;

/// The first release of the row.
#[derive(Persistent)]
#[persistent(name = "RowV1")]
pub struct RowV1 {
    /// An integer.
    pub n: i64,
    /// A string.
    pub name: String,
    /// A float.
    pub value: f64,
}

impl RowV1 {
    /// The row numbered `n`: `n`, `"row-n"`, `n / 2`.
    #[must_use]
    #[allow(clippy::cast_possible_wrap, clippy::cast_precision_loss, reason = "bench sizes")]
    pub fn numbered(n: usize) -> RowV1 {
        RowV1 { n: n as i64, name: format!("row-{n}"), value: n as f64 * 0.5 }
    }
}

/// The second release, version 2: `name` renamed `label` through an upgrade function.
#[derive(Persistent)]
#[persistent(name = "RowV2", alias = "RowV1", version = 2, upgrade = upgrade_row)]
pub struct RowV2 {
    /// An integer.
    pub n: i64,
    /// The first release's `name`.
    pub label: String,
    /// A float.
    pub value: f64,
}

fn upgrade_row(old: &OldFields) -> persistent::Result<RowV2> {
    Ok(RowV2 { n: old.get("n")?, label: old.get("name")?, value: old.get("value")? })
}
