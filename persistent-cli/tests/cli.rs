//! Runs the built `persistent` binary against a small SQLite database built here.

use std::path::Path;

use assert_cmd::Command;
use persistent::prelude::*;
use persistent::storage::{ObjectWrite, Storage, TransactionData};
use persistent::{Oid, SqliteStorage, TransactionNote};
use persistent_testkit::TempDir;

/// The root, holding a reference to a leaf.
#[derive(Persistent, Default)]
#[persistent(name = "cli_test::Parent")]
struct Parent {
    name: String,
    child: Option<P<Child>>,
}

/// A leaf object.
#[derive(Persistent)]
#[persistent(name = "cli_test::Child")]
struct Child {
    value: u32,
}

/// Builds a database of two transactions; returns the child's oid.
fn build(path: &Path) -> Oid {
    let db = Database::open(SqliteStorage::open(path).unwrap()).unwrap();
    let conn = db.connect().unwrap();
    let root = conn.root::<Parent>().unwrap();
    root.set_name("first".to_string()).unwrap();
    conn.set_note(TransactionNote { user: "alice".into(), description: "create root".into() });
    conn.commit().unwrap();
    let child = P::new(Child { value: 7 });
    root.set_child(Some(child.clone())).unwrap();
    conn.set_note(TransactionNote { user: "bob".into(), description: "add child".into() });
    conn.commit().unwrap();
    assert_eq!(child.value().unwrap().clone(), 7);
    child.p_oid().expect("the child was stored")
}

fn persistent() -> Command {
    Command::cargo_bin("persistent").unwrap()
}

fn stdout(cmd: &mut Command) -> String {
    let output = cmd.output().unwrap();
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn commands_on_a_small_database() {
    let dir = TempDir::new("cli");
    let path = dir.join("data.db");
    let child = build(&path);
    let url = format!("sqlite:{}", path.display());

    let info = stdout(persistent().args(["info", &url]));
    assert!(info.contains("objects:"), "{info}");
    let info: serde_json::Value =
        serde_json::from_str(&stdout(persistent().args(["info", "--json", &url]))).unwrap();
    // The root, the child and the schema registry.
    assert_eq!(info["objects"], 3, "{info}");
    assert!(info["transactions"].as_u64().unwrap() >= 2, "{info}");

    let log = stdout(persistent().args(["log", &url]));
    assert!(log.contains("create root") && log.contains("add child"), "{log}");
    let log: serde_json::Value =
        serde_json::from_str(&stdout(persistent().args(["--json", "log", &url]))).unwrap();
    assert!(log["transactions"].as_array().unwrap().len() >= 2, "{log}");

    let history = stdout(persistent().args(["history", path.to_str().unwrap(), "0"]));
    assert!(history.contains("alice") && history.contains("bob"), "{history}");

    let show = stdout(persistent().args(["show", &url, "0x0"]));
    assert!(show.contains("cli_test::Parent"), "{show}");
    assert!(show.contains(&format!("references: [{}]", child.0)), "{show}");
    let show: serde_json::Value =
        serde_json::from_str(&stdout(persistent().args(["show", "--json", &url, "0"]))).unwrap();
    assert_eq!(show["type"], "cli_test::Parent");
    assert_eq!(show["references"], serde_json::json!([child.0]));

    let verify = stdout(persistent().args(["verify", &url]));
    assert!(verify.contains("clean"), "{verify}");

    // Damage the child's record: a flipped byte in the middle breaks its checksum.
    {
        let storage = SqliteStorage::open(&path).unwrap();
        let revision = storage.load(child).unwrap();
        let mut bytes = revision.data.clone();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        let txn = TransactionData {
            user: "vandal".into(),
            description: "damage".into(),
            writes: vec![ObjectWrite::new(child, Some(revision.serial), bytes)],
            ..TransactionData::default()
        };
        storage.commit(&txn).unwrap();
    }
    let output = persistent().args(["verify", &url]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("corrupt-record"), "{text}");
    let output = persistent().args(["verify", "--json", &url]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["clean"], false);
    assert_eq!(report["findings"][0]["oid"], child.0);
}

#[test]
fn unknown_scheme_exits_2() {
    let output = persistent().args(["info", "mysql://localhost/db"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(err.contains("unknown storage URL scheme"), "{err}");
}

#[test]
fn unreachable_server_exits_2_without_the_password() {
    // Port 1 on this machine: nothing listens, the connection is refused at once.
    let url = "postgres://app:hunter2secret@127.0.0.1:1/db?connect_timeout=5";
    let output = persistent().args(["info", url]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(!err.is_empty());
    assert!(!err.contains("hunter2secret"), "{err}");
}

#[test]
fn missing_file_is_an_error_and_is_not_created() {
    let dir = TempDir::new("cli-missing");
    let path = dir.join("absent.db");
    let output = persistent().args(["info", path.to_str().unwrap()]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(!path.exists());
}
