//! The registry of record schemas, one per database (docs/spec.md §7.2): every schema a
//! record was written under, stored once in the storage at the reserved oid
//! [`Oid::SCHEMAS`] and numbered from 1 in the order it was registered; each record names
//! its schema by that number. The registry only grows, so the newest revision of its
//! record knows every schema a visible record names. A writer registers a schema the
//! database lacks in a small transaction of its own, before its commit, retried on a
//! conflict with another registering writer. What does not live here: what a schema holds
//! and how a record is read under another one (`codec/schema.rs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::connection::ConnectionInner;
use crate::codec::envelope::{decode_record, encode_record};
use crate::codec::schema::Schema;
use crate::codec::{decode_value, encode_value};
use crate::error::{Error, Result};
use crate::oid::hash::BuildOidHasher;
use crate::oid::Oid;
use crate::storage::{ObjectWrite, Storage, TransactionData};
use crate::timestamp::{Tid, TimeStamp};

/// The stored type name of the registry's record.
const REGISTRY_TYPE: &str = "persistent::SchemaRegistry";

/// How many times registering a schema is retried when other writers register at once.
const REGISTER_ATTEMPTS: usize = 50;

/// The schemas of one database known to this process.
#[derive(Default)]
pub(crate) struct SchemaRegistry {
    known: Mutex<Known>,
}

#[derive(Default)]
struct Known {
    /// Schema `n` is `by_id[n - 1]`.
    by_id: Vec<Arc<Schema>>,
    ids: HashMap<Arc<Schema>, u64>,
    /// The serial of the registry record read last (`None`: none stored yet).
    serial: Option<Tid>,
}

/// The read plans a connection decided, by reader schema (address) and stored schema
/// number, with the last one used in front (loads come in runs of one type).
#[derive(Default)]
pub(crate) struct ReadPlans {
    last: Option<((usize, u64), ReadPlan)>,
    all: HashMap<(usize, u64), ReadPlan, BuildOidHasher>,
}

/// How a record is read.
#[derive(Clone)]
pub(crate) enum ReadPlan {
    /// Positionally, with `decode_state`: the record was written under the reader's own
    /// schema, or has none.
    Positional,
    /// By field name, under the stored schema.
    Evolved(Arc<Schema>),
}

impl SchemaRegistry {
    fn known(&self) -> MutexGuard<'_, Known> {
        // A panic while the lock was held cannot leave `Known` half-updated (each update is
        // one assignment of a fully built state), so a poisoned lock is still good.
        self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The number of `schema` in this database, registering it first if it has none.
    pub(crate) fn id_of(&self, storage: &dyn Storage, schema: &Schema) -> Result<u64> {
        let mut known = self.known();
        if let Some(&id) = known.ids.get(schema) {
            return Ok(id);
        }
        let mut last_error = None;
        for _ in 0..REGISTER_ATTEMPTS {
            known.reload(storage)?;
            if let Some(&id) = known.ids.get(schema) {
                return Ok(id);
            }
            let mut schemas: Vec<Schema> =
                known.by_id.iter().map(|schema| Schema::clone(schema)).collect();
            schemas.push(schema.clone());
            let state = encode_value(REGISTRY_TYPE, &schemas)?;
            let txn = TransactionData {
                description: format!(
                    "register the record schema of {} (version {})",
                    schema.type_name, schema.version
                ),
                writes: vec![ObjectWrite::new(
                    Oid::SCHEMAS,
                    known.serial,
                    encode_record(REGISTRY_TYPE, 0, &[], &state),
                )],
                ..TransactionData::default()
            };
            match storage.commit(&txn) {
                Ok(_) => {}
                Err(error) if error.is_conflict() => last_error = Some(error),
                Err(error) => return Err(error),
            }
        }
        Err(last_error.unwrap_or_else(|| Error::Custom("schema registration failed".into())))
    }

    /// Schema number `id`, reading the registry again if this process does not know it yet.
    /// `None` if the database has no such schema.
    pub(crate) fn get(&self, storage: &dyn Storage, id: u64) -> Result<Option<Arc<Schema>>> {
        let index = usize::try_from(id).ok().and_then(|id| id.checked_sub(1));
        let Some(index) = index else { return Ok(None) };
        let mut known = self.known();
        if index >= known.by_id.len() {
            known.reload(storage)?;
        }
        Ok(known.by_id.get(index).cloned())
    }
}

/// The schemas a record of the registry (the object at [`Oid::SCHEMAS`]) holds, in
/// registration order: schema number `n` is at index `n - 1`. For tools that read records
/// without the program's types (the `persistent` command-line tool); a database reads its
/// registry through this function too.
///
/// # Errors
/// `Error::CorruptRecord` for a damaged record, `Error::TypeMismatch` for a record that is
/// not a registry, `Error::Decode` for a registry state that does not decode.
pub fn decode_schema_registry(record: &[u8]) -> Result<Vec<Schema>> {
    let record = decode_record(Oid::SCHEMAS, record)?;
    if record.type_name != REGISTRY_TYPE {
        return Err(Error::TypeMismatch {
            oid: Oid::SCHEMAS,
            expected: REGISTRY_TYPE.to_string(),
            found: record.type_name.to_string(),
        });
    }
    decode_value(REGISTRY_TYPE, record.state)
}

impl Known {
    /// Reads the newest registry record.
    fn reload(&mut self, storage: &dyn Storage) -> Result<()> {
        let Some(visible) = storage.load_visible(Oid::SCHEMAS, TimeStamp::MAX)? else {
            return Ok(());
        };
        let schemas = decode_schema_registry(&visible.data)?;
        let by_id: Vec<Arc<Schema>> = schemas.into_iter().map(Arc::new).collect();
        self.ids = by_id.iter().zip(1..).map(|(schema, id)| (Arc::clone(schema), id)).collect();
        self.by_id = by_id;
        self.serial = Some(visible.serial);
        Ok(())
    }
}

impl ConnectionInner {
    /// The schema number to write in a record of a type whose schema is `schema`.
    pub(crate) fn schema_id(&self, schema: Option<&'static Schema>) -> Result<u64> {
        let Some(schema) = schema else { return Ok(0) };
        let key = std::ptr::from_ref(schema) as usize;
        if let Some(&id) = self.schema_ids.borrow().get(&key) {
            return Ok(id);
        }
        let id = self.db.schemas.id_of(&*self.db.storage, schema)?;
        self.schema_ids.borrow_mut().insert(key, id);
        Ok(id)
    }

    /// How to read the record of `oid` written under schema number `stored` by a type whose
    /// schema is `reader`. Decided once per connection for each pair, then one map lookup.
    pub(crate) fn read_plan(
        &self,
        oid: Oid,
        stored: u64,
        reader: Option<&'static Schema>,
    ) -> Result<ReadPlan> {
        let Some(reader) = reader else { return Ok(ReadPlan::Positional) };
        if stored == 0 {
            return Ok(ReadPlan::Positional);
        }
        let key = (std::ptr::from_ref(reader) as usize, stored);
        let plans = self.read_plans.borrow();
        if let Some((last, plan)) = &plans.last {
            if *last == key {
                return Ok(plan.clone());
            }
        }
        if let Some(plan) = plans.all.get(&key) {
            let plan = plan.clone();
            drop(plans);
            self.read_plans.borrow_mut().last = Some((key, plan.clone()));
            return Ok(plan);
        }
        drop(plans);
        let schema = self.db.schemas.get(&*self.db.storage, stored)?.ok_or_else(|| {
            Error::CorruptRecord {
                oid,
                message: format!("the record names schema {stored}, which the database lacks"),
            }
        })?;
        let plan =
            if *schema == *reader { ReadPlan::Positional } else { ReadPlan::Evolved(schema) };
        let mut plans = self.read_plans.borrow_mut();
        plans.all.insert(key, plan.clone());
        plans.last = Some((key, plan.clone()));
        Ok(plan)
    }
}
