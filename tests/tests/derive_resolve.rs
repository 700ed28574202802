//! `#[persistent(resolve = path)]` (docs/spec.md §8): a derived type merges write conflicts
//! through its own function, over memory and SQLite.

use persistent::prelude::*;
use persistent::Error;
use persistent_tests::{for_each_backend, Backend};

/// A tally whose counts merge by adding each side's increments.
#[derive(Persistent, Default)]
#[persistent(resolve = merge_tally)]
struct Tally {
    yes: u64,
    no: u64,
    /// Not mergeable: a conflict when both sides change it.
    title: String,
}

fn merge_tally(old: &Tally, committed: &Tally, mine: &Tally) -> Option<Tally> {
    if committed.title != old.title && mine.title != old.title {
        return None;
    }
    let title = if mine.title == old.title { &committed.title } else { &mine.title };
    Some(Tally {
        yes: committed.yes.checked_add(mine.yes.checked_sub(old.yes)?)?,
        no: committed.no.checked_add(mine.no.checked_sub(old.no)?)?,
        title: title.clone(),
    })
}

fn concurrent_increments_merge(backend: &Backend) {
    let setup = backend.open().connect().unwrap();
    setup.root::<Tally>().unwrap();
    setup.commit().unwrap();
    let (a, b) = (backend.open().connect().unwrap(), backend.open().connect().unwrap());
    let (tally_a, tally_b) = (a.root::<Tally>().unwrap(), b.root::<Tally>().unwrap());
    tally_a.set_yes(tally_a.yes().unwrap() + 2).unwrap();
    tally_b.set_no(tally_b.no().unwrap() + 1).unwrap();
    tally_b.set_title("budget".into()).unwrap();
    a.commit().unwrap();
    b.commit().unwrap();
    assert_eq!(b.conflicts_resolved(), 1);
    let c = backend.open().connect().unwrap();
    let tally = c.root::<Tally>().unwrap();
    assert_eq!((tally.yes().unwrap(), tally.no().unwrap()), (2, 1));
    assert_eq!(*tally.title().unwrap(), "budget");
}

fn a_refused_merge_stays_a_conflict(backend: &Backend) {
    let setup = backend.open().connect().unwrap();
    setup.root::<Tally>().unwrap();
    setup.commit().unwrap();
    let (a, b) = (backend.open().connect().unwrap(), backend.open().connect().unwrap());
    a.root::<Tally>().unwrap().set_title("one".into()).unwrap();
    b.root::<Tally>().unwrap().set_title("two".into()).unwrap();
    a.commit().unwrap();
    assert!(matches!(b.commit(), Err(Error::Conflict { .. })));
}

for_each_backend!(concurrent_increments_merge, a_refused_merge_stays_a_conflict);
