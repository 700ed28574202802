//! The database's schema registry (the record at `Oid::SCHEMAS`, docs/spec.md §7.2) as the
//! tool reads it: every schema in number order, decoded by persistent-core's
//! `decode_schema_registry`. What does not live here: reading a state by its schema
//! (`Schema::read_fields`, in persistent-core).

use persistent::codec::{decode_schema_registry, Schema};
use persistent::storage::Storage;
use persistent::{Oid, TimeStamp};

use crate::CliError;

/// The schemas of the database's registry, in number order (none if it has no registry).
///
/// # Errors
/// The storage's error; a damaged registry record.
pub fn stored_schemas(storage: &dyn Storage) -> Result<Vec<Schema>, CliError> {
    match storage.load_visible(Oid::SCHEMAS, TimeStamp::MAX)? {
        Some(record) => Ok(decode_schema_registry(&record.data)?),
        None => Ok(Vec::new()),
    }
}

/// Schema number `number` (from 1) of `schemas`.
pub fn schema_numbered(schemas: &[Schema], number: u64) -> Option<&Schema> {
    let index = usize::try_from(number).ok()?.checked_sub(1)?;
    schemas.get(index)
}
