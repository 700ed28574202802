//! The passes over a whole storage that several commands share: every stored object's
//! current record in oid order ([`each_record`]: `info`, `migrate`, `show --referrers`),
//! the walk that also tells which objects are reachable from the roots ([`walk`]:
//! `verify`, `stats`), and counting objects and transactions. Records are read one at a
//! time; the walk holds the set of reached oids (a `HashSet<Oid>`) and its frontier in
//! memory. What does not live here: what a command makes of the records.

use std::collections::HashSet;

use indicatif::ProgressBar;
use persistent::codec::{record_info, RecordInfo};
use persistent::storage::{Revision, Storage};
use persistent::{Error, Oid, Tid, TimeStamp};

use crate::commands::PAGE;
use crate::progress::set_total;
use crate::CliError;

/// An object's current record, as far as it can be read.
pub enum Record {
    /// The object has no current record: no revision, or its newest revision is empty (an
    /// undone creation).
    Absent,
    /// The current record is damaged or of an unknown format: why.
    Corrupt(String),
    /// The current record and its header.
    Read {
        /// The record as loaded.
        revision: Revision,
        /// Its header.
        info: RecordInfo,
    },
}

impl Record {
    /// Loads the current record of `oid`.
    ///
    /// # Errors
    /// The storage's error (a missing object is [`Record::Absent`], a damaged record
    /// [`Record::Corrupt`]).
    pub fn load(storage: &dyn Storage, oid: Oid) -> Result<Record, CliError> {
        match storage.load(oid) {
            Err(Error::NotFound(_)) => Ok(Record::Absent),
            Err(error) => Err(error.into()),
            Ok(revision) => Ok(match record_info(oid, &revision.data) {
                Ok(info) => Record::Read { revision, info },
                Err(error) => Record::Corrupt(error.to_string()),
            }),
        }
    }

    /// The oids the record references (none for an absent or damaged record).
    pub fn references(&self) -> &[Oid] {
        match self {
            Record::Read { info, .. } => &info.references,
            _ => &[],
        }
    }
}

/// How many objects the storage lists.
///
/// # Errors
/// The storage's error.
pub fn count_objects(storage: &dyn Storage) -> Result<u64, CliError> {
    let mut count = 0;
    let mut after = None;
    loop {
        let page = storage.list_oids(after, PAGE)?;
        let Some(&last) = page.last() else { return Ok(count) };
        count += page.len() as u64;
        after = Some(last);
    }
}

/// How many transactions the storage lists, and the oldest one's tid.
///
/// # Errors
/// The storage's error.
pub fn count_transactions(storage: &dyn Storage) -> Result<(u64, Option<Tid>), CliError> {
    let mut count = 0;
    let mut oldest = None;
    let mut before = TimeStamp::MAX;
    loop {
        let page = storage.transactions(before, PAGE)?;
        let Some(last) = page.last() else { return Ok((count, oldest)) };
        count += page.len() as u64;
        oldest = Some(last.tid);
        before = last.tid;
    }
}

/// Gives `bar` the number of stored objects as its total, if the bar is drawn (counting
/// is a pass over the oids, not done for a hidden bar).
fn size_bar(storage: &dyn Storage, bar: &ProgressBar) -> Result<(), CliError> {
    if !bar.is_hidden() {
        set_total(bar, count_objects(storage)?, "objects");
    }
    Ok(())
}

/// Calls `visit` with every stored object and its current record, in oid order, one
/// record in memory at a time; `bar` advances by one per object. Returns how many objects
/// the storage listed.
///
/// # Errors
/// The storage's error, or the first error `visit` returns.
pub fn each_record(
    storage: &dyn Storage,
    bar: &ProgressBar,
    visit: &mut dyn FnMut(Oid, Record) -> Result<(), CliError>,
) -> Result<u64, CliError> {
    size_bar(storage, bar)?;
    let mut objects = 0;
    let mut after = None;
    loop {
        let page = storage.list_oids(after, PAGE)?;
        let Some(&last) = page.last() else { return Ok(objects) };
        for &oid in &page {
            visit(oid, Record::load(storage, oid)?)?;
            bar.inc(1);
        }
        objects += page.len() as u64;
        after = Some(last);
    }
}

/// One object the walk meets.
pub struct Visit {
    /// The object.
    pub oid: Oid,
    /// Whether it is reached from the roots (`Oid::ROOT`, `Oid::SCHEMAS`) through the
    /// reference lists of current records.
    pub reachable: bool,
    /// For a reached object, the object whose record referenced it first (`None` for a
    /// root and for an unreachable object).
    pub from: Option<Oid>,
    /// Its current record.
    pub record: Record,
}

/// What a walk counted.
pub struct Walked {
    /// Objects the storage lists.
    pub objects: u64,
    /// Of those, the ones reached from the roots.
    pub reachable: u64,
}

/// Walks the storage: first every object reached from the roots, depth first (including
/// oids that are referenced but have no record: [`Record::Absent`] with a `from`), then
/// every stored object the walk did not reach, in oid order. Each object is visited once,
/// with its current record loaded once. `bar` advances by one per visit.
///
/// Memory: the set of reached oids (about 16-32 bytes per object) and the frontier.
///
/// # Errors
/// The storage's error, or the first error `visit` returns.
pub fn walk(
    storage: &dyn Storage,
    bar: &ProgressBar,
    visit: &mut dyn FnMut(&Visit) -> Result<(), CliError>,
) -> Result<Walked, CliError> {
    size_bar(storage, bar)?;
    let mut reached: HashSet<Oid> = HashSet::from([Oid::ROOT, Oid::SCHEMAS]);
    let mut frontier: Vec<(Oid, Option<Oid>)> = vec![(Oid::ROOT, None), (Oid::SCHEMAS, None)];
    while let Some((oid, from)) = frontier.pop() {
        let seen = Visit { oid, reachable: true, from, record: Record::load(storage, oid)? };
        for &target in seen.record.references() {
            if reached.insert(target) {
                frontier.push((target, Some(oid)));
            }
        }
        visit(&seen)?;
        bar.inc(1);
    }

    let mut walked = Walked { objects: 0, reachable: 0 };
    let mut after = None;
    loop {
        let page = storage.list_oids(after, PAGE)?;
        let Some(&last) = page.last() else { return Ok(walked) };
        walked.objects += page.len() as u64;
        for &oid in &page {
            if reached.contains(&oid) {
                walked.reachable += 1;
                continue;
            }
            let record = Record::load(storage, oid)?;
            visit(&Visit { oid, reachable: false, from: None, record })?;
            bar.inc(1);
        }
        after = Some(last);
    }
}
