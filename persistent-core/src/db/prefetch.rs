//! `Connection::prefetch` (ZODB's `prefetch`): reading the records of many objects at the
//! transaction's snapshot in a few storage calls, ahead of their loads. The records wait in
//! the transaction state; `setstate` (loader.rs) takes an object's record from there instead
//! of calling the storage. Nothing here decodes a record.

use super::connection::{Connection, ConnectionInner};
use crate::error::Result;
use crate::oid::Oid;
use crate::state::PState;
use crate::storage::VisibleRecord;
use crate::timestamp::TimeStamp;

/// How many oids one `Storage::load_visible_many` call asks for.
const OIDS_PER_CALL: usize = 512;

impl Connection {
    /// Reads ahead the records of `oids` visible at this transaction's snapshot, in one
    /// storage call per 512 oids, so that loading their objects later in this transaction
    /// calls the storage no more (ZODB's `prefetch`). Worth it before touching many ghosts
    /// on a storage where each call costs (SQLite, a server): one call for many records.
    ///
    /// Skips oids whose object is already loaded here, and oids with no record at the
    /// snapshot (loading such an object reports its error then). A read-ahead record stays
    /// in memory until its object loads or the transaction ends (the snapshot moves): read
    /// ahead what you are about to load. Returns how many records were read.
    ///
    /// # Errors
    /// `Error::ConnectionClosed`; a storage failure (nothing is kept from the failed call).
    pub fn prefetch(&self, oids: impl IntoIterator<Item = Oid>) -> Result<usize> {
        let inner = &self.inner;
        inner.check_open()?;
        let wanted: Vec<Oid> = oids
            .into_iter()
            .filter(|oid| inner.cache.get(*oid).is_none_or(|obj| obj.p_state() == PState::Ghost))
            .collect();
        let before = TimeStamp::from_u64(inner.txn.borrow().snapshot.as_u64().saturating_add(1));
        let mut read = Vec::with_capacity(wanted.len());
        for chunk in wanted.chunks(OIDS_PER_CALL) {
            let records = inner.db.storage.load_visible_many(chunk, before)?;
            read.extend(
                chunk.iter().zip(records).filter_map(|(oid, record)| Some((*oid, record?))),
            );
        }
        let count = read.len();
        inner.txn.borrow_mut().prefetched.extend(read);
        Ok(count)
    }
}

impl ConnectionInner {
    /// The record read ahead for `oid`, taken (a record serves one load); `None` at once
    /// when nothing was read ahead, so a load without `prefetch` does not hash its oid.
    pub(crate) fn take_prefetched(&self, oid: Oid) -> Option<VisibleRecord> {
        let mut txn = self.txn.borrow_mut();
        if txn.prefetched.is_empty() {
            None
        } else {
            txn.prefetched.remove(&oid)
        }
    }
}
