//! How a connection loads: the `DataManager` duties (setstate at the transaction's
//! snapshot, register, oldstate) and the `ReferenceContext` that turns stored oids into
//! cached objects or ghosts and new reachable objects into added ones.

use std::rc::Rc;
use std::time::Instant;

use super::connection::ConnectionInner;
use super::schemas::ReadPlan;
use super::stats::bump;
use crate::any_object::{AnyObject, ObjectRef};
use crate::codec::envelope::decode_record;
use crate::codec::reference::{with_context, ReferenceContext};
use crate::error::{Error, Result};
use crate::jar::{DataManager, Jar};
use crate::oid::Oid;
use crate::persistent::Persistent;
use crate::timestamp::{Tid, TimeStamp};

impl ConnectionInner {
    /// A transaction that loads many objects sweeps as it goes (docs/spec.md §3.2): once the
    /// cache holds more than twice its object limit in loaded objects, `incrgc` brings it back
    /// to the limit. Any unchanged, unborrowed object may become a ghost at any time, since
    /// it reloads the same state at the transaction's snapshot; the object being loaded is
    /// not evicted (it counts as changed until its load ends).
    fn sweep_if_far_over(&self) {
        let limit = self.cache.cache_size();
        if limit > 0 && self.cache.ring_len() > limit.saturating_mul(2) {
            self.cache.incrgc();
        }
    }

    /// The storage's `load_visible`, timed while a subscriber listens to warnings of this
    /// crate: a load slower than the database's `slow_load_threshold` is then reported as a
    /// `slow load` event (docs/spec.md §6.2). Without such a subscriber the load is not
    /// timed (a pair of clock reads costs about 50 ns here, a quarter of a load from memory;
    /// docs/benchmarks.md), and the one cost added is tracing's check of its level filter.
    fn load_visible(&self, oid: Oid, before: Tid) -> Result<Option<crate::storage::VisibleRecord>> {
        if !tracing::enabled!(target: crate::trace::TARGET, tracing::Level::WARN) {
            return self.db.storage.load_visible(oid, before);
        }
        let started = Instant::now();
        let visible = self.db.storage.load_visible(oid, before);
        let took = started.elapsed();
        if took > self.db.config.slow_load_threshold {
            tracing::warn!(
                target: crate::trace::TARGET,
                oid = %oid,
                duration_us = crate::trace::micros(took),
                storage = %self.db.storage.name(),
                "slow load"
            );
        }
        visible
    }

    /// Runs `f` with this connection as the thread's reference context.
    pub(crate) fn decode_with_references<R>(&self, f: impl FnOnce() -> R) -> R {
        match self.this.upgrade() {
            Some(this) => with_context(this as Rc<dyn ReferenceContext>, f),
            None => f(),
        }
    }

    /// The state bytes transaction `tid` wrote for `oid`, checked to be a `T`.
    pub(crate) fn old_state<T: Persistent>(&self, oid: Oid, tid: Tid) -> Result<Vec<u8>> {
        self.old_record(oid, tid, T::stored_type_name(), T::reads_type_name)
    }

    /// The state bytes transaction `tid` wrote for `oid`, whose stored type name `reads`
    /// accepts (`expected` names the type in the error otherwise).
    fn old_record(
        &self,
        oid: Oid,
        tid: Tid,
        expected: &str,
        reads: impl Fn(&str) -> bool,
    ) -> Result<Vec<u8>> {
        let record = self.db.storage.load_serial(oid, tid)?;
        let found = decode_record(oid, &record)?;
        check_type(oid, expected, reads(found.type_name), found.type_name)?;
        Ok(found.state.to_vec())
    }
}

impl ConnectionInner {
    /// An object loaded in this connection whose record (at the snapshot, `before` being
    /// one past it) references `oid`, if one is found: for the `Error::Dangling` of a
    /// missing object. Only runs when a load fails, so it may read the records of every
    /// loaded object in the cache.
    fn referrer_of(&self, oid: Oid, before: Tid) -> Option<Oid> {
        self.cache
            .debug_info()
            .into_iter()
            .filter(|entry| entry.state != crate::state::PState::Ghost && entry.oid != oid)
            .find(|entry| {
                let Ok(Some(visible)) = self.db.storage.load_visible(entry.oid, before) else {
                    return false;
                };
                decode_record(entry.oid, &visible.data)
                    .is_ok_and(|record| record.references().contains(&oid))
            })
            .map(|entry| entry.oid)
    }
}

/// `Error::TypeMismatch` unless the reader accepts the stored name `found`.
fn check_type(oid: Oid, expected: &str, accepted: bool, found: &str) -> Result<()> {
    if accepted {
        Ok(())
    } else {
        Err(Error::TypeMismatch { oid, expected: expected.to_string(), found: found.to_string() })
    }
}

impl DataManager for ConnectionInner {
    /// Loads the revision visible at the snapshot, checks its type name, decodes the state
    /// (references become cached objects or ghosts) and sets serial and estimated size.
    fn setstate(&self, obj: &dyn AnyObject) -> Result<()> {
        self.check_open()?;
        let oid = obj.p_oid().ok_or(Error::ForeignObject { oid: None })?;
        // A state spilled by a savepoint of this transaction comes first (docs/spec.md §13).
        let prefetched = self.take_prefetched(oid);
        let (record, serial) = if let Some(spilled) = self.spilled_record(oid)? {
            spilled
        } else if let Some(visible) = prefetched {
            (visible.data, visible.serial)
        } else {
            let snapshot = self.txn.borrow().snapshot;
            let before = TimeStamp::from_u64(snapshot.as_u64().saturating_add(1));
            let Some(visible) = self.load_visible(oid, before)? else {
                return Err(Error::Dangling { oid, referrer: self.referrer_of(oid, before) });
            };
            (visible.data, visible.serial)
        };
        let found = decode_record(oid, &record)?;
        obj.claim_type_name()?;
        check_type(oid, obj.type_name(), obj.reads_type_name(found.type_name), found.type_name)?;
        match self.read_plan(oid, found.schema, obj.schema())? {
            ReadPlan::Positional => self.decode_with_references(|| obj.p_setstate(found.state))?,
            ReadPlan::Evolved(stored) => {
                self.decode_with_references(|| obj.p_setstate_evolved(found.state, &stored))?;
                // A historical connection never writes, so it does not store upgrades.
                if !self.historical
                    && obj.schema().is_some_and(|reader| stored.version < reader.version)
                {
                    // Upgraded: written back in the current shape at the next commit.
                    self.txn.borrow_mut().upgraded.push(oid);
                }
            }
        }
        obj.p_set_serial(serial);
        obj.p_set_estimated_size(record.len() as u64);
        bump(&self.counters.loads);
        self.sweep_if_far_over();
        Ok(())
    }

    /// Remembers the object for the next commit.
    fn register(&self, obj: &dyn AnyObject) -> Result<()> {
        self.check_open()?;
        self.check_writable("change an object")?;
        let mut txn = self.txn.borrow_mut();
        if txn.doomed {
            return Err(Error::TransactionDoomed);
        }
        let oid = obj.p_oid().ok_or(Error::ForeignObject { oid: None })?;
        let handle = self.cache.get(oid).ok_or(Error::ForeignObject { oid: Some(oid) })?;
        txn.registered.push(handle);
        Ok(())
    }

    fn oldstate(&self, obj: &dyn AnyObject, tid: Tid) -> Result<Vec<u8>> {
        self.check_open()?;
        let oid = obj.p_oid().ok_or(Error::ForeignObject { oid: None })?;
        self.old_record(oid, tid, obj.type_name(), |name| obj.reads_type_name(name))
    }

    fn name(&self) -> String {
        format!("Connection to {}", self.db.storage.name())
    }
}

impl ReferenceContext for ConnectionInner {
    /// The object's oid (adding a new object to the transaction), noted for the reference
    /// list of the record being encoded.
    fn encode_reference(&self, obj: &ObjectRef) -> Result<Oid> {
        let oid = self.add(obj)?;
        self.references.borrow_mut().push(oid);
        Ok(oid)
    }

    /// The cached object (a cache hit) or `None` (a miss: the codec then makes a ghost).
    fn lookup(&self, oid: Oid) -> Option<ObjectRef> {
        let found = self.cache.get(oid);
        bump(if found.is_some() { &self.counters.cache_hits } else { &self.counters.cache_misses });
        found
    }

    fn adopt_ghost(&self, oid: Oid, obj: &ObjectRef) -> Result<()> {
        self.cache.new_ghost(oid, obj.clone())
    }

    /// The target's oid (adding a new target to the transaction, as a strong reference
    /// does), *not* noted in the reference list: a weak reference does not keep its target
    /// reachable (docs/spec.md §12).
    fn encode_weak_reference(&self, obj: &ObjectRef) -> Result<Oid> {
        self.add(obj)
    }

    /// Weak references decoded here load their target through this connection.
    fn jar(&self) -> Option<Jar> {
        Some(self.jar.clone())
    }
}
