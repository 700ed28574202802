//! `Connection::prefetch` (ZODB's `prefetch`): reading the records of many objects at the
//! transaction's snapshot in a few storage calls, ahead of their loads. The records wait in
//! the transaction state (`Prefetched`, in the order read); `setstate` (loader.rs) takes an
//! object's record from there instead of calling the storage. Nothing here decodes a
//! record.

use std::collections::HashMap;

use super::connection::{Connection, ConnectionInner};
use crate::error::Result;
use crate::oid::hash::BuildOidHasher;
use crate::oid::Oid;
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
        // Loaded objects are ring members (their states are not ghosts); the check reads the
        // cache's entry only, not the object.
        let wanted: Vec<Oid> =
            oids.into_iter().filter(|oid| !inner.cache.holds_loaded(*oid)).collect();
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

/// The records read ahead and not yet loaded, in the order they were read. Loads usually
/// come in that order, so the next one expected is checked first (no hashing); a load out
/// of order builds an index of the positions once and looks up there. A record serves one
/// load and is dropped with the transaction's snapshot.
#[derive(Debug, Default)]
pub(crate) struct Prefetched {
    /// Each record with its oid, in the order read; a taken record leaves `None`.
    records: Vec<(Oid, Option<VisibleRecord>)>,
    /// Where the next load is expected: just after the record taken last.
    next: usize,
    /// The position of each oid's last record, built at the first load out of order.
    positions: Option<HashMap<Oid, usize, BuildOidHasher>>,
    /// How many records are not taken yet.
    waiting: usize,
}

impl Prefetched {
    /// Adds records read ahead (an oid read again gets its new record, at the same
    /// snapshot: the same bytes).
    fn extend(&mut self, read: Vec<(Oid, VisibleRecord)>) {
        self.records.reserve(read.len());
        for (oid, record) in read {
            if let Some(positions) = &mut self.positions {
                positions.insert(oid, self.records.len());
            }
            self.records.push((oid, Some(record)));
            self.waiting += 1;
        }
    }

    /// Takes the record read ahead for `oid`, if one waits.
    fn take(&mut self, oid: Oid) -> Option<VisibleRecord> {
        if self.waiting == 0 {
            return None;
        }
        let at = match self.records.get(self.next) {
            Some((expected, Some(_))) if *expected == oid => self.next,
            _ => {
                let records = &self.records;
                let positions = self.positions.get_or_insert_with(|| {
                    let mut positions = HashMap::default();
                    for (at, (oid, record)) in records.iter().enumerate() {
                        if record.is_some() {
                            positions.insert(*oid, at);
                        }
                    }
                    positions
                });
                positions.remove(&oid)?
            }
        };
        let record = self.records[at].1.take()?;
        self.next = at + 1;
        self.waiting -= 1;
        Some(record)
    }
}

impl ConnectionInner {
    /// The record read ahead for `oid`, taken (a record serves one load); `None` at once
    /// when none waits, so a load without `prefetch` does not look.
    pub(crate) fn take_prefetched(&self, oid: Oid) -> Option<VisibleRecord> {
        self.txn.borrow_mut().prefetched.take(oid)
    }
}

#[cfg(test)]
mod tests {
    use super::Prefetched;
    use crate::oid::Oid;
    use crate::storage::VisibleRecord;
    use crate::timestamp::TimeStamp;

    fn record(byte: u8) -> VisibleRecord {
        VisibleRecord::new(vec![byte], TimeStamp::from_u64(7))
    }

    fn read(oids: &[u64]) -> Vec<(Oid, VisibleRecord)> {
        oids.iter().map(|oid| (Oid(*oid), record(u8::try_from(*oid).unwrap()))).collect()
    }

    fn taken(prefetched: &mut Prefetched, oid: u64) -> Option<u8> {
        prefetched.take(Oid(oid)).map(|record| record.data[0])
    }

    #[test]
    fn each_record_serves_one_load_in_any_order() {
        let mut prefetched = Prefetched::default();
        assert_eq!(taken(&mut prefetched, 1), None);
        prefetched.extend(read(&[1, 2, 3, 4, 5]));
        assert_eq!(taken(&mut prefetched, 1), Some(1));
        assert_eq!(taken(&mut prefetched, 2), Some(2));
        // Out of order, then in order again from there.
        assert_eq!(taken(&mut prefetched, 4), Some(4));
        assert_eq!(taken(&mut prefetched, 5), Some(5));
        assert_eq!(taken(&mut prefetched, 3), Some(3));
        // Taken already, or never read.
        assert_eq!(taken(&mut prefetched, 1), None);
        assert_eq!(taken(&mut prefetched, 4), None);
        assert_eq!(taken(&mut prefetched, 9), None);
        assert_eq!(prefetched.waiting, 0);
    }

    #[test]
    fn records_read_after_an_out_of_order_load_are_found() {
        let mut prefetched = Prefetched::default();
        prefetched.extend(read(&[1, 2, 3]));
        assert_eq!(taken(&mut prefetched, 9), None);
        // The index exists now; later records join it.
        prefetched.extend(read(&[10, 11]));
        assert_eq!(taken(&mut prefetched, 11), Some(11));
        assert_eq!(taken(&mut prefetched, 2), Some(2));
        assert_eq!(taken(&mut prefetched, 3), Some(3));
        assert_eq!(taken(&mut prefetched, 10), Some(10));
        assert_eq!(taken(&mut prefetched, 1), Some(1));
        assert_eq!(prefetched.waiting, 0);
    }

    #[test]
    fn an_oid_read_twice_serves_two_loads() {
        let mut prefetched = Prefetched::default();
        prefetched.extend(read(&[1, 2]));
        prefetched.extend(read(&[1]));
        assert_eq!(taken(&mut prefetched, 1), Some(1));
        assert_eq!(taken(&mut prefetched, 2), Some(2));
        assert_eq!(taken(&mut prefetched, 1), Some(1));
        assert_eq!(taken(&mut prefetched, 1), None);
    }
}
