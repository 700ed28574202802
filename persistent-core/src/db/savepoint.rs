//! Savepoints (docs/spec.md §13): points inside a transaction to roll back to, which also
//! bound the transaction's memory. At a savepoint every Changed object's record is encoded
//! (as a commit would) and appended to the transaction's spill area; the objects become
//! `UpToDate`, leave `registered`, and the cache may evict them. Loads of a spilled oid read
//! the spill area, not the storage; commit stores the spilled records together with the
//! states still Changed; rollback drops the layers of later savepoints and invalidates what
//! changed since.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::rc::Weak;

use super::connection::{Connection, ConnectionInner};
use crate::any_object::ObjectRef;
use crate::codec::envelope::references_of;
use crate::error::{Error, Result, StorageErrorKind};
use crate::oid::hash::BuildOidHasher;
use crate::oid::Oid;
use crate::state::PState;
use crate::storage::ObjectWrite;
use crate::timestamp::Tid;

/// Spill areas stay in memory up to this many bytes, then move to a temporary file.
const MEMORY_SPILL_LIMIT: usize = 4 << 20;

/// A point in a connection's transaction that [`Savepoint::rollback`] returns to
/// (docs/spec.md §13). It stays valid until its transaction ends (commit or abort) or a
/// rollback to an earlier savepoint discards it; rolling back to it does not.
#[derive(Clone, Debug)]
pub struct Savepoint {
    conn: Weak<ConnectionInner>,
    id: u64,
}

impl Savepoint {
    /// Restores every object changed since this savepoint to its state at the savepoint,
    /// and forgets the objects added since (they lose oid and jar). Savepoints taken after
    /// this one become invalid; this one stays valid.
    ///
    /// # Errors
    ///
    /// `Error::InvalidSavepoint` when the savepoint is no longer valid;
    /// `Error::ConnectionClosed`; `Error::TransactionDoomed` after a failed commit;
    /// `Error::Borrowed` (nothing changed) when an object to restore is borrowed.
    pub fn rollback(&self) -> Result<()> {
        let conn = self.conn.upgrade().ok_or(Error::InvalidSavepoint)?;
        conn.rollback(self.id)
    }

    /// Whether [`rollback`](Self::rollback) would accept this savepoint now.
    #[must_use]
    pub fn is_valid(&self) -> bool {
        self.conn.upgrade().is_some_and(|conn| conn.savepoint_index(self.id).is_some())
    }
}

impl Connection {
    /// Takes a savepoint of the transaction (docs/spec.md §13): the Changed objects' states
    /// are encoded into the transaction's spill area (memory, then a temporary file), after
    /// which the objects count as saved and the cache may evict them. Loads of those objects
    /// in this transaction read the spill area; commit stores them.
    ///
    /// # Errors
    ///
    /// `Error::ConnectionClosed`; `Error::TransactionDoomed` after a failed commit; what a
    /// commit's encoding refuses (`Error::AlreadyBorrowed` while a write guard is alive, an
    /// encoding failure, `Error::ForeignObject`), or an I/O failure of the spill file. On
    /// failure no savepoint is taken and no object changes state.
    pub fn savepoint(&self) -> Result<Savepoint> {
        let id = self.inner.savepoint()?;
        Ok(Savepoint { conn: self.inner.this.clone(), id })
    }

    /// Rolls back to `savepoint`: the same as [`Savepoint::rollback`], checking that it is
    /// one of this connection's.
    ///
    /// # Errors
    ///
    /// As [`Savepoint::rollback`]; a savepoint of another connection is
    /// `Error::InvalidSavepoint`.
    pub fn rollback(&self, savepoint: &Savepoint) -> Result<()> {
        if !Weak::ptr_eq(&savepoint.conn, &self.inner.this) {
            return Err(Error::InvalidSavepoint);
        }
        self.inner.rollback(savepoint.id)
    }

    /// How many object states the transaction's savepoints hold in their spill area (one
    /// per object and savepoint that spilled it), and the area's size in bytes.
    #[must_use]
    pub fn spilled(&self) -> (usize, u64) {
        let txn = self.inner.txn.borrow();
        let count = txn.spill.layers.iter().map(HashMap::len).sum();
        (count, txn.spill.area.len())
    }
}

/// Where one spilled record lies, and the serial the object was read at (`None` for an
/// object new in this transaction): the expected serial of its write at commit.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spilled {
    offset: u64,
    len: usize,
    pub(crate) serial: Option<Tid>,
}

/// One savepoint of the transaction: its id, how many objects were added before it, and the
/// spill area's length before its layer was written.
#[derive(Debug)]
struct Mark {
    id: u64,
    added_len: usize,
    area_len: u64,
}

/// The transaction's savepoints and their spilled records: `layers[i]` holds the records
/// written by the savepoint `marks[i]` (the objects Changed since the one before it).
#[derive(Default)]
pub(crate) struct Spill {
    area: SpillArea,
    layers: Vec<HashMap<Oid, Spilled, BuildOidHasher>>,
    marks: Vec<Mark>,
}

impl Spill {
    /// The newest spilled record of `oid`, if any.
    pub(crate) fn find(&self, oid: Oid) -> Option<Spilled> {
        self.layers.iter().rev().find_map(|layer| layer.get(&oid).copied())
    }

    pub(crate) fn contains(&self, oid: Oid) -> bool {
        self.layers.iter().any(|layer| layer.contains_key(&oid))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.layers.iter().all(HashMap::is_empty)
    }

    /// Every spilled oid (each once), with its newest record.
    pub(crate) fn newest(&self) -> HashMap<Oid, Spilled, BuildOidHasher> {
        let mut all = HashMap::default();
        for layer in &self.layers {
            all.extend(layer.iter().map(|(oid, spilled)| (*oid, *spilled)));
        }
        all
    }

    pub(crate) fn read(&self, spilled: Spilled) -> Result<Vec<u8>> {
        self.area.read(spilled.offset, spilled.len)
    }
}

/// The bytes of spilled records: in memory while small, in a temporary file past
/// `MEMORY_SPILL_LIMIT` (a transaction that spills that much is one that must not keep its
/// changes in memory).
enum SpillArea {
    Memory(Vec<u8>),
    File(SpillFile),
}

impl Default for SpillArea {
    fn default() -> SpillArea {
        SpillArea::Memory(Vec::new())
    }
}

/// A temporary file in `std::env::temp_dir()`, removed when dropped.
struct SpillFile {
    file: File,
    path: PathBuf,
    len: u64,
}

impl Drop for SpillFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn spill_error(what: &str, error: std::io::Error) -> Error {
    Error::storage_with_source(StorageErrorKind::Io, format!("savepoint spill file: {what}"), error)
}

impl SpillArea {
    fn len(&self) -> u64 {
        match self {
            SpillArea::Memory(bytes) => bytes.len() as u64,
            SpillArea::File(file) => file.len,
        }
    }

    fn append(&mut self, bytes: &[u8]) -> Result<()> {
        if let SpillArea::Memory(memory) = self {
            if memory.len() + bytes.len() <= MEMORY_SPILL_LIMIT {
                memory.extend_from_slice(bytes);
                return Ok(());
            }
            let mut file = SpillFile::create()?;
            file.write(memory)?;
            *self = SpillArea::File(file);
        }
        match self {
            SpillArea::File(file) => file.write(bytes),
            SpillArea::Memory(_) => unreachable!("moved to a file above"),
        }
    }

    fn read(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        match self {
            SpillArea::Memory(bytes) => {
                let start = usize::try_from(offset).unwrap_or(usize::MAX);
                bytes.get(start..start.saturating_add(len)).map(<[u8]>::to_vec).ok_or_else(|| {
                    Error::storage(StorageErrorKind::Corrupt, "savepoint spill area: short read")
                })
            }
            SpillArea::File(file) => {
                let mut out = vec![0; len];
                let mut handle = &file.file;
                handle.seek(SeekFrom::Start(offset)).map_err(|e| spill_error("seek", e))?;
                handle.read_exact(&mut out).map_err(|e| spill_error("read", e))?;
                Ok(out)
            }
        }
    }

    fn truncate(&mut self, len: u64) {
        match self {
            SpillArea::Memory(bytes) => bytes.truncate(usize::try_from(len).unwrap_or(usize::MAX)),
            SpillArea::File(file) => {
                // Shrinking only frees disk space; if it fails the tail is just unused.
                if file.file.set_len(len).is_ok() {
                    file.len = len;
                }
            }
        }
    }
}

impl SpillFile {
    fn create() -> Result<SpillFile> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "persistent-savepoint-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| spill_error("create", e))?;
        Ok(SpillFile { file, path, len: 0 })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        let mut handle = &self.file;
        handle.seek(SeekFrom::Start(self.len)).map_err(|e| spill_error("seek", e))?;
        handle.write_all(bytes).map_err(|e| spill_error("write", e))?;
        self.len += bytes.len() as u64;
        Ok(())
    }
}

impl ConnectionInner {
    pub(crate) fn savepoint_index(&self, id: u64) -> Option<usize> {
        self.txn.borrow().spill.marks.iter().position(|mark| mark.id == id)
    }

    /// Spills every Changed object (and every new object reachable from one) into a new
    /// layer; returns the new savepoint's id.
    fn savepoint(&self) -> Result<u64> {
        self.check_open()?;
        if self.txn.borrow().doomed {
            return Err(Error::TransactionDoomed);
        }
        let (writes, pending) = self.collect_writes(true)?;
        let mut bytes = Vec::new();
        let mut layer: HashMap<Oid, Spilled, BuildOidHasher> = HashMap::default();
        let mut txn = self.txn.borrow_mut();
        let start = txn.spill.area.len();
        for write in writes {
            let spilled = Spilled {
                offset: start + bytes.len() as u64,
                len: write.data.len(),
                serial: write.expected_serial,
            };
            layer.insert(write.oid, spilled);
            bytes.extend_from_slice(&write.data);
        }
        txn.spill.area.append(&bytes)?;
        txn.next_savepoint += 1;
        let id = txn.next_savepoint;
        let added_len = txn.added.len();
        txn.spill.marks.push(Mark { id, added_len, area_len: start });
        txn.spill.layers.push(layer);
        // Every Changed object is spilled: the list only held them (and objects since
        // marked unchanged, which a commit skips anyway).
        txn.registered = Vec::new();
        drop(txn);
        for entry in pending {
            if entry.obj.header().state.get() == PState::Changed {
                entry.obj.header().state.set(PState::UpToDate);
            }
            entry.obj.p_set_estimated_size(entry.size as u64);
        }
        // The saved objects may now leave memory.
        self.cache.incrgc();
        Ok(id)
    }

    fn rollback(&self, id: u64) -> Result<()> {
        self.check_open()?;
        let index = self.savepoint_index(id).ok_or(Error::InvalidSavepoint)?;
        let mut txn = self.txn.borrow_mut();
        if txn.doomed {
            return Err(Error::TransactionDoomed);
        }
        let added_len = txn.spill.marks[index].added_len;
        let forget: Vec<ObjectRef> = txn.added[added_len..].to_vec();
        let forget_oids: HashSet<Oid, BuildOidHasher> =
            forget.iter().filter_map(|obj| obj.p_oid()).collect();
        let mut reset: Vec<ObjectRef> = txn.registered.clone();
        for layer in &txn.spill.layers[index + 1..] {
            reset.extend(layer.keys().filter_map(|oid| self.cache.get(*oid)));
        }
        reset.retain(|obj| obj.p_oid().is_none_or(|oid| !forget_oids.contains(&oid)));
        if reset.iter().chain(&forget).any(|obj| obj.is_borrowed()) {
            return Err(Error::Borrowed { operation: "roll back to a savepoint" });
        }
        let keep_len = txn.spill.marks.get(index + 1).map(|mark| mark.area_len);
        if let Some(len) = keep_len {
            txn.spill.area.truncate(len);
        }
        txn.spill.marks.truncate(index + 1);
        txn.spill.layers.truncate(index + 1);
        txn.added.truncate(added_len);
        for oid in &forget_oids {
            txn.added_oids.remove(oid);
        }
        txn.registered = Vec::new();
        drop(txn);
        for obj in &forget {
            self.forget_added(obj);
        }
        for obj in reset {
            // Not borrowed (checked above): this does not fail.
            let _ = obj.p_invalidate();
        }
        Ok(())
    }

    /// The writes of the spilled records whose oid is not in `written` (a Changed object
    /// encoded again by this commit): each object's newest spilled record.
    pub(crate) fn spilled_writes(
        &self,
        written: &HashSet<Oid, BuildOidHasher>,
    ) -> Result<Vec<ObjectWrite>> {
        let txn = self.txn.borrow();
        let mut writes = Vec::new();
        let mut newest: Vec<(Oid, Spilled)> = txn.spill.newest().into_iter().collect();
        newest.sort_unstable_by_key(|(_, spilled)| spilled.offset);
        for (oid, spilled) in newest {
            if written.contains(&oid) {
                continue;
            }
            let record = txn.spill.read(spilled)?;
            let references = references_of(oid, &record)?;
            writes.push(ObjectWrite::new(oid, spilled.serial, record).with_references(references));
        }
        Ok(writes)
    }

    /// The spilled record of `oid` and the serial to give its object, if a savepoint of this
    /// transaction spilled it.
    pub(crate) fn spilled_record(&self, oid: Oid) -> Result<Option<(Vec<u8>, Tid)>> {
        let txn = self.txn.borrow();
        let Some(spilled) = txn.spill.find(oid) else { return Ok(None) };
        let record = txn.spill.read(spilled)?;
        Ok(Some((record, spilled.serial.unwrap_or(Tid::ZERO))))
    }
}
