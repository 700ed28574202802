//! Runs the built `persistent` binary on a fixture database built here and snapshots its
//! output with `insta` (tids, times, temporary paths and file sizes redacted; record sizes
//! are deterministic and kept). The fixture has two releases of one type, as two processes:
//! a child process (this binary, running `first_release_child`) writes `cli_test::Item`
//! version 1 records; the test then writes version 2 ones, so the registry holds both
//! schemas. It also holds a nested struct, an enum, a reference, a collection, a field of
//! an opaque shape, several revisions of some objects, and an unreachable format-1 record
//! written straight through the storage.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use persistent::prelude::*;
use persistent::storage::{ObjectWrite, Storage, TransactionData};
use persistent::{Oid, SqliteStorage, TransactionNote};
use persistent_testkit::{PgServer, TempDir};
use serde::{Deserialize, Serialize};

const CHILD_ENV: &str = "PERSISTENT_CLI_FIRST_RELEASE";

mod first_release {
    use persistent::prelude::*;

    /// Version 1 of the item: a `u32` price.
    #[derive(Persistent)]
    #[persistent(name = "cli_test::Item")]
    pub struct Item {
        pub label: String,
        pub price: u32,
    }
}

/// The item changed: a wider price and a stock count. Still version 1: a record of the
/// first release is read by name and not written back by itself (a higher version would
/// count as an upgrade, stored again at the next commit).
#[derive(Persistent)]
#[persistent(name = "cli_test::Item")]
struct Item {
    label: String,
    price: u64,
    stock: u32,
}

#[derive(Serialize, Deserialize, Default, Clone)]
struct Address {
    street: String,
    city: String,
}

#[derive(Serialize, Deserialize, Default, Clone)]
enum Kind {
    #[default]
    Small,
    Big(u32),
}

/// The root.
#[derive(Persistent, Default)]
#[persistent(name = "cli_test::Shop")]
struct Shop {
    name: String,
    address: Address,
    kind: Kind,
    tags: Vec<String>,
    best: Option<P<Item>>,
    items: PersistentList<P<Item>>,
    host: Option<P<Host>>,
}

/// A version number stored as a string ("1.2.3") and parsed when read: tracing cannot
/// follow a parse, so its shape is opaque.
#[derive(Clone, Copy)]
struct Release(u32, u32, u32);

impl Serialize for Release {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{}.{}.{}", self.0, self.1, self.2))
    }
}

impl<'de> Deserialize<'de> for Release {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let parts: Vec<u32> = text
            .split('.')
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(serde::de::Error::custom)?;
        match parts[..] {
            [major, minor, patch] => Ok(Release(major, minor, patch)),
            _ => Err(serde::de::Error::custom("not a release")),
        }
    }
}

/// A type with a field of an opaque shape, followed by one of a known shape.
#[derive(Persistent)]
#[persistent(name = "cli_test::Host")]
struct Host {
    name: String,
    ip: IpAddr,
    release: Release,
    port: u16,
}

/// The child: the first release writes two version-1 items under the root's list.
#[test]
fn first_release_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else { return };
    let db = Database::open(SqliteStorage::open(&path).unwrap()).unwrap();
    let conn = db.connect().unwrap();
    for (label, price) in [("old lamp", 12), ("old chair", 40)] {
        let item = first_release::Item { label: label.into(), price };
        conn.add(&P::new(item)).unwrap();
    }
    conn.set_note(TransactionNote { user: "release-1".into(), description: "first items".into() });
    conn.commit().unwrap();
}

/// The oids of the fixture's objects.
struct Fixture {
    old_items: Vec<Oid>,
    new_item: Oid,
    items_list: Oid,
    host: Oid,
    legacy: Oid,
}

fn build(path: &Path) -> Fixture {
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["first_release_child", "--exact", "--test-threads=1", "--quiet"])
        .env(CHILD_ENV, path)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the first release failed");

    let storage = SqliteStorage::open(path).unwrap();
    let mut old_items = storage.list_oids(None, 100).unwrap();
    old_items.retain(|&oid| oid != Oid::ROOT && oid != Oid::SCHEMAS);
    assert_eq!(old_items.len(), 2);
    let db = Database::open(storage).unwrap();
    let conn = db.connect().unwrap();
    let shop = conn.root::<Shop>().unwrap();
    shop.set_name("Corner shop".to_string()).unwrap();
    shop.set_address(Address { street: "1 Main St".into(), city: "Oslo".into() }).unwrap();
    shop.set_tags(vec!["tools".into(), "lamps".into()]).unwrap();
    conn.set_note(TransactionNote { user: "alice".into(), description: "open the shop".into() });
    conn.commit().unwrap();

    let items = shop.items().unwrap();
    for &oid in &old_items {
        items.push(conn.get::<Item>(oid).unwrap()).unwrap();
    }
    let new_item = P::new(Item { label: "new desk".into(), price: 250, stock: 3 });
    items.push(new_item.clone()).unwrap();
    shop.set_best(Some(new_item.clone())).unwrap();
    shop.set_kind(Kind::Big(12)).unwrap();
    conn.set_note(TransactionNote { user: "bob".into(), description: "stock up".into() });
    conn.commit().unwrap();

    let host = P::new(Host {
        name: "till".into(),
        ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7)),
        release: Release(1, 2, 3),
        port: 8080,
    });
    shop.set_host(Some(host.clone())).unwrap();
    new_item.set_stock(2).unwrap();
    conn.set_note(TransactionNote { user: "bob".into(), description: "sell a desk".into() });
    conn.commit().unwrap();
    new_item.set_stock(1).unwrap();
    conn.commit().unwrap();

    // A format-1 record nothing references, written straight through the storage.
    let storage = SqliteStorage::open(path).unwrap();
    let legacy = storage.new_oid().unwrap();
    let name = b"cli_test::Legacy";
    let mut record = vec![1, u8::try_from(name.len()).unwrap()];
    record.extend_from_slice(name);
    record.push(7);
    let txn = TransactionData {
        user: "importer".into(),
        description: "an old record".into(),
        writes: vec![ObjectWrite::new(legacy, None, record)],
        ..TransactionData::default()
    };
    storage.commit(&txn).unwrap();

    Fixture {
        old_items,
        new_item: new_item.p_oid().unwrap(),
        items_list: items.p_oid().unwrap(),
        host: host.p_oid().unwrap(),
        legacy,
    }
}

/// Redacts what changes from run to run: tids, times, the temporary directory, file sizes.
fn settings(dir: &TempDir) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    let dir = regex_escape(&dir.join("").display().to_string());
    settings.add_filter(&dir, "[DIR]/");
    settings.add_filter(r"0x[0-9a-f]{16}", "[TID]");
    settings.add_filter(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", "[TIME]");
    settings.add_filter(r"size:( +)\d+ bytes \(database", "size:$1[SIZE] bytes (database");
    settings.add_filter(
        r#""(size_bytes|file_bytes_before|file_bytes_after)": \d+"#,
        r#""$1": "[SIZE]""#,
    );
    settings.add_filter(
        r"file size: +\d+ -> \d+ bytes",
        "file size:            [SIZE] -> [SIZE] bytes",
    );
    settings.set_prepend_module_to_snapshot(false);
    settings
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$#&-~".contains(c);
            special.then_some('\\').into_iter().chain(std::iter::once(c))
        })
        .collect()
}

fn persistent() -> Command {
    Command::cargo_bin("persistent").unwrap()
}

/// Runs the binary; its exit code and standard output (standard error if stdout is empty).
fn run(args: &[&str]) -> (Option<i32>, String) {
    let Output { status, stdout, stderr } = persistent().args(args).output().unwrap();
    let text = if stdout.is_empty() { stderr } else { stdout };
    (status.code(), String::from_utf8(text).unwrap())
}

/// Runs the binary, expecting exit code 0; its standard output.
fn ok(args: &[&str]) -> String {
    let (code, text) = run(args);
    assert_eq!(code, Some(0), "{args:?}: {text}");
    text
}

#[test]
fn inspecting_commands() {
    let dir = TempDir::new("cli-commands");
    let path = dir.join("shop.db");
    let fixture = build(&path);
    let url = format!("sqlite:{}", path.display());
    let oid = |oid: Oid| oid.0.to_string();
    settings(&dir).bind(|| {
        insta::assert_snapshot!("info", ok(&["info", &url]));
        insta::assert_snapshot!("log", ok(&["log", &url]));
        insta::assert_snapshot!(
            "history_of_new_item",
            ok(&["history", &url, &oid(fixture.new_item)])
        );
        insta::assert_snapshot!("show_root", ok(&["show", &url, "0"]));
        insta::assert_snapshot!("show_root_json", ok(&["show", "--json", &url, "0"]));
        insta::assert_snapshot!("show_old_item", ok(&["show", &url, &oid(fixture.old_items[0])]));
        insta::assert_snapshot!("show_new_item", ok(&["show", &url, &oid(fixture.new_item)]));
        insta::assert_snapshot!("show_opaque_field", ok(&["show", &url, &oid(fixture.host)]));
        insta::assert_snapshot!("show_collection", ok(&["show", &url, &oid(fixture.items_list)]));
        insta::assert_snapshot!("show_format_1", ok(&["show", &url, &oid(fixture.legacy)]));
        let referrers = ok(&["show", &url, &oid(fixture.new_item), "--referrers"]);
        insta::assert_snapshot!("referrers", referrers);
        let referrers = ok(&["show", "--json", &url, &oid(fixture.new_item), "--referrers"]);
        insta::assert_snapshot!("referrers_json", referrers);
        insta::assert_snapshot!("stats", ok(&["stats", &url]));
        insta::assert_snapshot!("stats_json", ok(&["stats", "--json", &url]));
        insta::assert_snapshot!("migrate", ok(&["migrate", &url]));
        insta::assert_snapshot!("migrate_json", ok(&["migrate", "--json", &url]));
        // The unreachable legacy record is a finding.
        let (code, verify) = run(&["verify", &url]);
        assert_eq!(code, Some(1), "{verify}");
        insta::assert_snapshot!("verify_finds_unreachable", verify);
    });
}

#[test]
fn stats_predicts_what_pack_removes() {
    let dir = TempDir::new("cli-pack");
    let path = dir.join("shop.db");
    build(&path);
    let url = format!("sqlite:{}", path.display());
    let stats: serde_json::Value = serde_json::from_str(&ok(&["stats", "--json", &url])).unwrap();
    let reclaimable = &stats["reclaimable"];
    assert!(reclaimable["bytes"].as_u64().unwrap() > 0, "{stats}");

    // Nothing is older than three days: nothing to remove.
    let pack: serde_json::Value =
        serde_json::from_str(&ok(&["pack", "--json", &url, "--before", "3 days"])).unwrap();
    assert_eq!(pack["revisions_removed"], 0, "{pack}");

    // A bound past the newest transaction packs at the newest tid.
    let text = ok(&["pack", &url, "--before", "0xffffffffffffffff"]);
    settings(&dir).bind(|| insta::assert_snapshot!("pack", text));
    let removed = |line: &str| -> u64 {
        let found = text.lines().find(|l| l.starts_with(line)).unwrap();
        found.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(removed("revisions removed:"), reclaimable["revisions"].as_u64().unwrap());
    assert_eq!(removed("objects removed:"), reclaimable["objects"].as_u64().unwrap());
    assert_eq!(removed("record bytes removed:"), reclaimable["bytes"].as_u64().unwrap());

    let after: serde_json::Value = serde_json::from_str(&ok(&["stats", "--json", &url])).unwrap();
    assert_eq!(after["reclaimable"]["bytes"], 0, "{after}");
    assert_eq!(after["revisions"], after["objects"], "{after}");
    let (code, verify) = run(&["verify", &url]);
    assert_eq!(code, Some(0), "{verify}");
}

#[test]
fn errors_exit_2_with_a_message() {
    let dir = TempDir::new("cli-errors");
    let path = dir.join("shop.db");
    build(&path);
    let url = format!("sqlite:{}", path.display());
    let missing = dir.join("absent.db");
    let missing = missing.to_str().unwrap();
    let cases: [(&str, Vec<&str>); 8] = [
        ("bad_scheme", vec!["stats", "mysql://localhost/db"]),
        ("empty_url", vec!["info", "sqlite:"]),
        ("missing_file", vec!["stats", missing]),
        ("bad_oid", vec!["show", &url, "twelve"]),
        ("absent_oid", vec!["show", &url, "999999"]),
        ("bad_before", vec!["pack", &url, "--before", "3 fortnights"]),
        ("bad_before_time", vec!["pack", &url, "--before", "2024-02-30T00:00:00Z"]),
        ("no_before", vec!["pack", &url]),
    ];
    settings(&dir).bind(|| {
        for (name, args) in cases {
            let (code, text) = run(&args);
            assert_eq!(code, Some(2), "{args:?}: {text}");
            insta::assert_snapshot!(format!("error_{name}"), text);
        }
    });
    assert!(!Path::new(missing).exists(), "a missing file is not created");
}

#[test]
fn copy_makes_an_equal_database_and_resumes() {
    let dir = TempDir::new("cli-copy");
    let path = dir.join("shop.db");
    build(&path);
    let source = format!("sqlite:{}", path.display());
    let target_path = dir.join("copy.db");
    let target = target_path.to_str().unwrap();
    let text = ok(&["copy", &source, target]);
    settings(&dir).bind(|| insta::assert_snapshot!("copy", text));

    // The copy reads as the source: the same objects, records, history and transactions.
    let without_name = |args: &[&str]| {
        let mut value: serde_json::Value = serde_json::from_str(&ok(args)).unwrap();
        value.as_object_mut().unwrap().remove("name");
        value
    };
    assert_eq!(
        without_name(&["stats", "--json", &source]),
        without_name(&["stats", "--json", target])
    );
    let info = |url: &str| {
        let mut value = without_name(&["info", "--json", url]);
        value.as_object_mut().unwrap().remove("size_bytes");
        value
    };
    assert_eq!(info(&source), info(target));
    assert_eq!(ok(&["log", &source]), ok(&["log", target]));

    // Again: everything is there already.
    let again: serde_json::Value =
        serde_json::from_str(&ok(&["copy", "--json", &source, target])).unwrap();
    assert_eq!(again["transactions"], 0, "{again}");
    assert_eq!(again["skipped"], info(&source)["transactions"], "{again}");

    // Into itself, or into a database with other transactions: refused.
    let (code, text) = run(&["copy", &source, path.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("same database"), "{text}");
    let other = dir.join("other.db");
    build(&other);
    let (code, text) = run(&["copy", &source, other.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{text}");
}

/// The tool on PostgreSQL: the fixture copied from SQLite into a PostgreSQL database and back
/// reads the same three ways; `info`, `stats` and `verify` run on the server's copy, and
/// nothing printed shows the password of its URL.
#[test]
fn postgres_copy_round_trip() {
    let Some(server) = PgServer::shared("postgres_copy_round_trip") else { return };
    let dir = TempDir::new("cli-pg");
    let path = dir.join("shop.db");
    build(&path);
    let source = format!("sqlite:{}", path.display());
    let pg = server.fresh_database();
    let password = pg
        .strip_prefix("postgres://")
        .and_then(|rest| rest.split_once('@'))
        .and_then(|(user, _)| user.split_once(':'))
        .map(|(_, password)| password.to_string())
        .expect("the test server's URL has a password");
    let back = dir.join("back.db");
    let back = back.to_str().unwrap();
    let mut printed = ok(&["copy", &source, &pg]);
    printed += &ok(&["copy", &pg, back]);
    let stats = |url: &str| {
        let text = ok(&["stats", "--json", url]);
        let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
        value.as_object_mut().unwrap().remove("name");
        (value, text)
    };
    let (on_sqlite, _) = stats(&source);
    let (on_server, text) = stats(&pg);
    printed += &text;
    assert_eq!(on_sqlite, on_server, "the server's copy holds what the file held");
    assert_eq!(on_sqlite, stats(back).0, "the copy back holds it too");
    assert_eq!(ok(&["log", &source]), ok(&["log", back]), "the same transactions");
    printed += &ok(&["info", &pg]);
    // The fixture has an unreachable record on purpose: verify reports it (exit code 1).
    let (code, text) = run(&["verify", &pg]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("unreachable"), "{text}");
    printed += &text;
    assert!(!printed.contains(&password), "the password shows in:\n{printed}");
}
