//! The `tracing` events of docs/spec.md §6.2 fire, at their levels and under the target
//! `persistent`: a commit (span and event), an abort, a conflict and its resolution, a
//! `transact` retry, a sweep, a pack (span and progress), a slow load. A small subscriber
//! of this file records them (no subscriber crate needed).

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use persistent::prelude::*;
use persistent::{CacheLimits, DatabaseConfig, TimeStamp};
use persistent_tests::{Backend, Item};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// One recorded event or span: kind ("event" or "span"), level, target, message or span
/// name, and the fields as `name=value` text.
#[derive(Clone, Debug)]
struct Seen {
    kind: &'static str,
    level: Level,
    target: String,
    name: String,
    fields: Vec<String>,
}

/// The global subscriber of this test binary: it records every span and event of a
/// thread inside `recorded` into that thread's list. Global rather than scoped per test:
/// tracing caches each callsite's interest across threads, and scoped subscribers coming and
/// going on parallel test threads left events unrecorded now and then.
#[derive(Default)]
struct Recorder {
    next_id: AtomicU64,
}

thread_local! {
    /// What this thread's `recorded` call has seen so far (`None` outside `recorded`).
    static SEEN: RefCell<Option<Vec<Seen>>> = const { RefCell::new(None) };
}

/// Collects the message and the other fields of an event or span.
#[derive(Default)]
struct Fields {
    message: String,
    fields: Vec<String>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.fields.push(format!("{}={value:?}", field.name()));
        }
    }
}

impl Recorder {
    fn push(kind: &'static str, metadata: &Metadata<'_>, name: String, fields: Vec<String>) {
        let seen = Seen {
            kind,
            level: *metadata.level(),
            target: metadata.target().to_string(),
            name,
            fields,
        };
        SEEN.with(|list| {
            if let Some(list) = list.borrow_mut().as_mut() {
                list.push(seen);
            }
        });
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut fields = Fields::default();
        span.record(&mut fields);
        Recorder::push("span", span.metadata(), span.metadata().name().to_string(), fields.fields);
        Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        Recorder::push("event", event.metadata(), fields.message, fields.fields);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// Runs `work` on this thread, recording its spans and events; what it recorded.
fn recorded(work: impl FnOnce()) -> Vec<Seen> {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        tracing::subscriber::set_global_default(Recorder::default())
            .expect("no other global subscriber in this test binary");
    });
    SEEN.with(|list| *list.borrow_mut() = Some(Vec::new()));
    work();
    let seen = SEEN.with(|list| list.borrow_mut().take()).unwrap_or_default();
    assert!(seen.iter().all(|s| s.target == "persistent"), "{seen:#?}");
    seen
}

/// The recorded events (not spans) named `name`.
fn events<'a>(seen: &'a [Seen], name: &str) -> Vec<&'a Seen> {
    seen.iter().filter(|s| s.kind == "event" && s.name == name).collect()
}

#[test]
fn a_commit_is_a_span_and_an_event_with_its_duration() {
    let db = Backend::memory().open();
    let conn = db.connect().unwrap();
    let seen = recorded(|| {
        conn.add(&P::new(Item::numbered(1))).unwrap();
        conn.add(&P::new(Item::numbered(2))).unwrap();
        conn.commit().unwrap();
    });
    let span = seen.iter().find(|s| s.kind == "span" && s.name == "commit").expect("span");
    assert_eq!(span.level, Level::DEBUG);
    assert!(span.fields.contains(&"oids=2".to_string()), "{span:?}");
    let commit = events(&seen, "commit");
    assert_eq!(commit.len(), 1, "{seen:#?}");
    assert_eq!(commit[0].level, Level::DEBUG);
    assert!(commit[0].fields.iter().any(|f| f.starts_with("duration_us=")), "{commit:?}");
    assert!(commit[0].fields.contains(&"oids=2".to_string()), "{commit:?}");
}

#[test]
fn an_abort_is_an_event() {
    let db = Backend::memory().open();
    let conn = db.connect().unwrap();
    let seen = recorded(|| {
        conn.add(&P::new(Item::numbered(1))).unwrap();
        conn.abort().unwrap();
    });
    let abort = events(&seen, "abort");
    assert_eq!(abort.len(), 1, "{seen:#?}");
    assert!(abort[0].fields.contains(&"forgotten=1".to_string()), "{abort:?}");
}

#[test]
fn a_conflict_its_resolution_and_a_retry_are_events() {
    let db = Backend::memory().open();
    let setup = db.connect().unwrap();
    let length = setup.add(&P::new(Length::new(0))).unwrap();
    let item = setup.add(&P::new(Item::numbered(0))).unwrap();
    setup.commit().unwrap();
    let (a, b) = (db.connect().unwrap(), db.connect().unwrap());
    let seen = recorded(|| {
        // A Length merges.
        a.get::<Length>(length).unwrap().add(1).unwrap();
        b.get::<Length>(length).unwrap().add(2).unwrap();
        a.commit().unwrap();
        b.commit().unwrap();
        // An item does not: `transact` runs again.
        let mut attempts = 0;
        b.transact(|b| {
            attempts += 1;
            b.get::<Item>(item)?.update(|item| item.n += 1)?;
            if attempts == 1 {
                a.get::<Item>(item)?.update(|item| item.n += 10)?;
                a.commit()?;
            }
            Ok(())
        })
        .unwrap();
    });
    let conflicts = events(&seen, "conflict");
    assert_eq!(conflicts.len(), 2, "{seen:#?}");
    assert_eq!(conflicts[0].level, Level::INFO);
    assert_eq!(conflicts[0].fields, vec![format!("oid={length}")]);
    assert_eq!(conflicts[1].fields, vec![format!("oid={item}")]);
    let resolved = events(&seen, "conflict resolved");
    assert_eq!(resolved.len(), 1, "{seen:#?}");
    assert_eq!(resolved[0].fields, vec![format!("oid={length}")]);
    let retries = events(&seen, "retry");
    assert_eq!(retries.len(), 1, "{seen:#?}");
    assert_eq!(retries[0].level, Level::INFO);
    assert!(retries[0].fields.contains(&"attempt=1".to_string()), "{retries:?}");
}

#[test]
fn a_sweep_that_evicts_is_a_debug_event_with_its_count() {
    let config = DatabaseConfig::default().with_cache(CacheLimits::default().with_cache_size(5));
    let db = Backend::memory().open_with(config);
    let conn = db.connect().unwrap();
    let oids: Vec<Oid> =
        (0..20).map(|n| conn.add(&P::new(Item::numbered(n))).unwrap()).collect::<Vec<_>>();
    conn.commit().unwrap();
    let seen = recorded(|| {
        // The commit's transaction start swept the cache down to 5: load 8, sweep again.
        for oid in &oids[..8] {
            conn.get::<Item>(*oid).unwrap();
        }
        conn.cache().incrgc();
    });
    let sweeps = events(&seen, "sweep");
    assert!(!sweeps.is_empty(), "{seen:#?}");
    assert!(sweeps.iter().all(|s| s.level == Level::DEBUG));
    assert!(sweeps.last().unwrap().fields.contains(&"loaded=5".to_string()), "{sweeps:?}");
    // Only sweeps that evict are reported: a second one has nothing to do.
    let quiet = recorded(|| conn.cache().incrgc());
    assert!(events(&quiet, "sweep").is_empty(), "{quiet:#?}");
}

#[test]
fn a_pack_is_a_span_with_progress_events_and_a_report() {
    for backend in [Backend::memory(), Backend::sqlite()] {
        let db = backend.open();
        let conn = db.connect().unwrap();
        let item = P::new(Item::numbered(0));
        conn.add(&item).unwrap();
        conn.commit().unwrap();
        item.update(|item| item.n += 1).unwrap();
        conn.commit().unwrap();
        let mut calls = 0;
        let seen = recorded(|| {
            db.pack(TimeStamp::MAX, &mut |_| calls += 1).unwrap();
        });
        let span = seen.iter().find(|s| s.kind == "span" && s.name == "pack").expect("span");
        assert_eq!(span.level, Level::INFO);
        let progress = events(&seen, "pack progress");
        assert!(calls > 0, "{} reports progress", backend.name());
        assert_eq!(progress.len(), calls, "every progress call is an event: {seen:#?}");
        let done = events(&seen, "pack");
        assert_eq!(done.len(), 1, "{seen:#?}");
        assert_eq!(done[0].level, Level::INFO);
        // The item is reachable from no root: its two revisions go.
        assert!(done[0].fields.contains(&"revisions_removed=2".to_string()), "{done:?}");
    }
}

#[test]
fn a_load_slower_than_the_threshold_is_a_warning() {
    let backend = Backend::memory();
    let db = backend.open();
    let conn = db.connect().unwrap();
    let oid = conn.add(&P::new(Item::numbered(0))).unwrap();
    conn.commit().unwrap();

    let fast = backend.open_with(DatabaseConfig::default());
    let seen = recorded(|| {
        fast.connect().unwrap().get::<Item>(oid).unwrap();
    });
    assert!(events(&seen, "slow load").is_empty(), "a fast load is quiet: {seen:#?}");

    let strict =
        backend.open_with(DatabaseConfig::default().with_slow_load_threshold(Duration::ZERO));
    let seen = recorded(|| {
        strict.connect().unwrap().get::<Item>(oid).unwrap();
    });
    let slow = events(&seen, "slow load");
    assert_eq!(slow.len(), 1, "{seen:#?}");
    assert_eq!(slow[0].level, Level::WARN);
    assert!(slow[0].fields.contains(&format!("oid={oid}")), "{slow:?}");
}
