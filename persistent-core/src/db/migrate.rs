//! `Database::migrate`: the explicit pass that rewrites every stored object of a type in its
//! current shape (docs/spec.md §7.4), in batches of one transaction each, so that memory stays
//! within the cache's limits and a pass killed at any point is finished by running it again
//! (objects already rewritten are skipped). What does not live here: how an old record is
//! read (`codec/schema.rs`, through an ordinary load).

use super::connection::{Connection, ConnectionInner};
use super::database::Database;
use crate::codec::envelope::{decode_record, FORMAT_VERSION};
use crate::error::Result;
use crate::oid::Oid;
use crate::persistent::Persistent;
use crate::timestamp::TimeStamp;

/// How far a [`Database::migrate`] pass has come.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationProgress {
    /// Stored objects looked at so far (of any type).
    pub scanned: u64,
    /// Objects of the type rewritten so far.
    pub rewritten: u64,
    /// The highest oid looked at so far.
    pub last_oid: Option<Oid>,
}

impl Database {
    /// Rewrites every stored object of type `T` whose record is not in `T`'s current shape
    /// (an older schema or version, another stored name read through an alias, or the first
    /// record format) by loading it (through its upgrade function, if it has one) and storing
    /// it again. Objects are looked at in oid order, `batch` per transaction; `progress` is
    /// called after each batch. Concurrent writers are fine: a batch that conflicts is
    /// retried (as [`Connection::transact`]). If the pass stops (an error, a crash), run it
    /// again: rewritten objects are skipped.
    ///
    /// # Errors
    ///
    /// The storage's error; the error of an object that does not load as a `T` (for example
    /// `Error::SchemaMismatch`); the batches before it stay committed.
    pub fn migrate<T: Persistent>(
        &self,
        batch: usize,
        mut progress: impl FnMut(&MigrationProgress),
    ) -> Result<MigrationProgress> {
        let conn = self.connect()?;
        let mut done = MigrationProgress::default();
        loop {
            let oids = self.storage.list_oids(done.last_oid, batch.max(1))?;
            let Some(&last) = oids.last() else { return Ok(done) };
            let rewritten = conn.transact(|conn| {
                let mut rewritten = 0;
                for &oid in &oids {
                    if conn.inner.rewrite_if_stale::<T>(conn, oid)? {
                        rewritten += 1;
                    }
                }
                Ok(rewritten)
            })?;
            done.scanned += oids.len() as u64;
            done.rewritten += rewritten;
            done.last_oid = Some(last);
            progress(&done);
        }
    }
}

impl ConnectionInner {
    /// Marks the object `oid` changed if its record holds a `T` not in `T`'s current shape;
    /// whether it did.
    fn rewrite_if_stale<T: Persistent>(&self, conn: &Connection, oid: Oid) -> Result<bool> {
        let snapshot = self.txn.borrow().snapshot;
        let before = TimeStamp::from_u64(snapshot.as_u64().saturating_add(1));
        let Some(visible) = self.db.storage.load_visible(oid, before)? else {
            return Ok(false);
        };
        let record = decode_record(oid, &visible.data)?;
        if !T::reads_type_name(record.type_name) {
            return Ok(false);
        }
        let current = self.schema_id(T::schema())?;
        if record.format == FORMAT_VERSION
            && record.type_name == T::stored_type_name()
            && record.schema == current
        {
            return Ok(false);
        }
        let obj = conn.get::<T>(oid)?;
        obj.as_object().p_set_changed(Some(true))?;
        Ok(true)
    }
}
