//! The tables of a `SqliteStorage` file (after RelStorage's history-preserving layout),
//! their creation in an empty file, the check that an existing file holds this schema in a
//! version this library reads, and the in-place upgrades of older versions (1 to 2 to 3,
//! each in the one write transaction of the schema check). Nothing here reads or writes
//! objects otherwise.

use std::path::Path;

use persistent_core::Error;
use persistent_core::StorageErrorKind;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::sql_error::sql_error;
use persistent_core::storage::sql_int::{oid_from_sql, oid_to_sql};

/// The schema version this library writes and reads, recorded in the `schema_info` table.
/// Version 2 added `object_ref`; version 3 replaced the index on `object_state (tid)` by
/// the list of oids in each `"transaction"` row (`oid_list.rs`). Older files are migrated
/// when opened (`migrate_1_to_2`, `migrate_2_to_3`).
pub const SCHEMA_VERSION: i64 = 3;

/// The value of the `schema` key in `schema_info` that marks our files.
const SCHEMA_NAME: &str = "persistent-sqlite";

/// The tables every file of this schema has.
const TABLES: [&str; 6] =
    ["schema_info", "object_state", "current_object", "transaction", "oid_allocator", "object_ref"];

/// The reference lists of the revisions (version 2): one row per oid a revision's record
/// references, written with the revision and removed with it. `pack` follows them.
const CREATE_OBJECT_REF: &str = "
CREATE TABLE object_ref (
    zoid INTEGER NOT NULL,
    tid INTEGER NOT NULL,
    to_zoid INTEGER NOT NULL,
    PRIMARY KEY (zoid, tid, to_zoid)
) WITHOUT ROWID;
";

/// Creates every table in an empty database.
const CREATE_TABLES: &str = r#"
CREATE TABLE schema_info (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE object_state (
    zoid INTEGER NOT NULL,
    tid INTEGER NOT NULL,
    state BLOB NOT NULL,
    PRIMARY KEY (zoid, tid)
) WITHOUT ROWID;
CREATE TABLE current_object (
    zoid INTEGER PRIMARY KEY,
    tid INTEGER NOT NULL
);
CREATE TABLE "transaction" (
    tid INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    description TEXT NOT NULL,
    extension BLOB NOT NULL,
    oids BLOB NOT NULL DEFAULT x''
);
CREATE TABLE oid_allocator (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    last_oid INTEGER NOT NULL
);
INSERT INTO oid_allocator (id, last_oid) VALUES (0, 0);
"#;

/// Creates the schema if the database has no tables yet, else checks that it is ours and
/// of [`SCHEMA_VERSION`] (migrating a version 1 file). Runs inside `BEGIN IMMEDIATE`, so two processes opening a new
/// file at once do not both create it.
pub(crate) fn ensure_schema(conn: &mut Connection, path: &Path) -> Result<(), Error> {
    let err = |what: &'static str| move |e| sql_error(path, what, e);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(err("starting the schema check"))?;
    let mut tables = {
        let mut stmt = tx
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .map_err(err("listing tables"))?;
        let rows =
            stmt.query_map([], |row| row.get::<_, String>(0)).map_err(err("listing tables"))?;
        rows.collect::<Result<Vec<String>, _>>().map_err(err("listing tables"))?
    };
    if tables.is_empty() {
        tx.execute_batch(CREATE_TABLES).map_err(err("creating the schema"))?;
        tx.execute_batch(CREATE_OBJECT_REF).map_err(err("creating the schema"))?;
        tx.execute(
            "INSERT INTO schema_info (key, value) VALUES ('schema', ?1), ('version', ?2)",
            (SCHEMA_NAME, SCHEMA_VERSION.to_string()),
        )
        .map_err(err("recording the schema version"))?;
        return tx.commit().map_err(err("committing the new schema"));
    }
    let foreign = |detail: String| {
        Error::storage(
            StorageErrorKind::NotAStorage,
            format!(
                "{} is an SQLite database but not a persistent-sqlite storage ({detail}); \
                 open a file made by SqliteStorage or a new path",
                path.display()
            ),
        )
    };
    if !tables.iter().any(|t| t == "schema_info") {
        return Err(foreign(format!("it has the tables {}", tables.join(", "))));
    }
    let info = |key: &str| -> Result<Option<String>, Error> {
        tx.query_row("SELECT value FROM schema_info WHERE key = ?1", [key], |row| row.get(0))
            .optional()
            .map_err(err("reading the schema version"))
    };
    let name = info("schema")?;
    if name.as_deref() != Some(SCHEMA_NAME) {
        return Err(foreign(format!("its schema is {name:?}")));
    }
    let mut version = info("version")?;
    if version.as_deref() == Some("1") {
        migrate_1_to_2(&tx, path)?;
        version = Some("2".to_string());
        tables.push("object_ref".to_string());
    }
    if version.as_deref() == Some("2") {
        migrate_2_to_3(&tx, path)?;
        version = Some(SCHEMA_VERSION.to_string());
    }
    if version.as_deref() != Some(SCHEMA_VERSION.to_string().as_str()) {
        return Err(Error::storage(
            StorageErrorKind::NotAStorage,
            format!(
                "{} has persistent-sqlite schema version {}, but this library reads version \
                 {SCHEMA_VERSION}; use a matching version of the library",
                path.display(),
                version.as_deref().unwrap_or("(none)")
            ),
        ));
    }
    if let Some(missing) = TABLES.iter().find(|t| !tables.iter().any(|have| have == *t)) {
        return Err(foreign(format!("the table {missing} is missing")));
    }
    tx.commit().map_err(err("finishing the schema check"))
}

/// Upgrades a version 1 file to version 2, inside the caller's write transaction: creates
/// `object_ref` and fills it from the reference list of every stored record. A record that
/// is not a readable envelope (written straight through the storage) references nothing.
/// One transaction for the whole file: a crash leaves it at version 1, and opening it again
/// migrates again.
fn migrate_1_to_2(tx: &rusqlite::Transaction<'_>, path: &Path) -> Result<(), Error> {
    let err = |what: &'static str| move |e| sql_error(path, what, e);
    tx.execute_batch(CREATE_OBJECT_REF).map_err(err("creating object_ref"))?;
    let mut read = tx
        .prepare("SELECT zoid, tid, state FROM object_state ORDER BY zoid, tid")
        .map_err(err("reading records to migrate"))?;
    let mut insert = tx
        .prepare("INSERT OR IGNORE INTO object_ref (zoid, tid, to_zoid) VALUES (?1, ?2, ?3)")
        .map_err(err("filling object_ref"))?;
    let mut rows = read.query([]).map_err(err("reading records to migrate"))?;
    while let Some(row) = rows.next().map_err(err("reading records to migrate"))? {
        let (zoid, tid): (i64, i64) = (
            row.get(0).map_err(err("reading a record"))?,
            row.get(1).map_err(err("reading a record"))?,
        );
        let state = row.get_ref(2).map_err(err("reading a record"))?.as_blob().unwrap_or_default();
        let references =
            persistent_core::codec::references_of(oid_from_sql(zoid), state).unwrap_or_default();
        for to in references {
            insert.execute((zoid, tid, oid_to_sql(to))).map_err(err("filling object_ref"))?;
        }
    }
    drop(rows);
    tx.execute("UPDATE schema_info SET value = '2' WHERE key = 'version'", [])
        .map_err(err("recording the schema version"))?;
    Ok(())
}

/// Upgrades a version 2 file to version 3, inside the caller's write transaction: adds the
/// `oids` column to `"transaction"`, fills it from the revisions each transaction still has
/// (read in tid order through the `tid` index, created here if a file lacks it), and drops
/// that index. One transaction for the whole file, as `migrate_1_to_2`.
fn migrate_2_to_3(tx: &rusqlite::Transaction<'_>, path: &Path) -> Result<(), Error> {
    let err = |what: &'static str| move |e| sql_error(path, what, e);
    tx.execute_batch(
        r#"ALTER TABLE "transaction" ADD COLUMN oids BLOB NOT NULL DEFAULT x'';
           CREATE INDEX IF NOT EXISTS object_state_tid ON object_state (tid);"#,
    )
    .map_err(err("adding the transactions' oid lists"))?;
    let mut read = tx
        .prepare("SELECT tid, zoid FROM object_state INDEXED BY object_state_tid ORDER BY tid")
        .map_err(err("reading the revisions to migrate"))?;
    let mut update = tx
        .prepare(r#"UPDATE "transaction" SET oids = ?2 WHERE tid = ?1"#)
        .map_err(err("filling the transactions' oid lists"))?;
    let mut rows = read.query([]).map_err(err("reading the revisions to migrate"))?;
    let mut current: Option<(i64, Vec<persistent_core::Oid>)> = None;
    let mut flush = |done: Option<(i64, Vec<persistent_core::Oid>)>| -> Result<(), Error> {
        if let Some((tid, oids)) = done {
            update
                .execute((tid, crate::oid_list::encode(oids)))
                .map_err(err("filling the transactions' oid lists"))?;
        }
        Ok(())
    };
    while let Some(row) = rows.next().map_err(err("reading the revisions to migrate"))? {
        let (tid, zoid): (i64, i64) = (
            row.get(0).map_err(err("reading a revision"))?,
            row.get(1).map_err(err("reading a revision"))?,
        );
        match &mut current {
            Some((open, oids)) if *open == tid => oids.push(oid_from_sql(zoid)),
            _ => flush(current.replace((tid, vec![oid_from_sql(zoid)])))?,
        }
    }
    flush(current.take())?;
    drop(rows);
    tx.execute_batch(
        "DROP INDEX object_state_tid;
         UPDATE schema_info SET value = '3' WHERE key = 'version';",
    )
    .map_err(err("recording the schema version"))?;
    Ok(())
}
