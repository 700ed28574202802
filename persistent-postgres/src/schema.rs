//! The tables of a `PostgresStorage` database (RelStorage's history-preserving layout), their
//! creation on first open, and the check that an existing database holds this schema in a
//! version this library reads. Nothing here reads or writes objects.
//!
//! * `object_state(zoid, tid, state)`: every revision, keyed by (oid, tid), with an index on
//!   `tid` for change lists and the undo log;
//! * `current_object(zoid, tid)`: each object's current revision (commits lock its rows);
//! * `"transaction"(tid, username, description, extension)`;
//! * `object_ref(zoid, tid, to_zoid)`: the reference list of each revision, for `pack`;
//! * `tid_clock`: one row holding the newest tid and the one before it. Updating it is the
//!   commit lock: a committing session holds the row until it commits, so tids are handed
//!   out, and become visible, in order;
//! * `oid_seq`: the oid allocator (never reaching `Oid::SCHEMAS`, the largest `int8`);
//! * `schema_info(key, value)`: `schema`, `version`, and `packed_before` once packed.

use persistent_core::{Error, StorageErrorKind};
use postgres::Client;

use crate::pg_error::pg_error;

/// The schema version this library writes and reads, recorded in `schema_info`.
pub const SCHEMA_VERSION: i64 = 1;

/// The value of the `schema` key in `schema_info` that marks our databases.
const SCHEMA_NAME: &str = "persistent-postgres";

/// The advisory lock key taken while the schema is created or checked ("persist" + 1), so
/// two processes opening a new database at once do not both create it.
const SCHEMA_LOCK: i64 = 0x7065_7273_6973_7401;

/// The tables every database of this schema has.
const TABLES: [&str; 6] =
    ["schema_info", "object_state", "current_object", "transaction", "object_ref", "tid_clock"];

/// Creates every table in a database that has none of them.
const CREATE_TABLES: &str = r#"
CREATE TABLE schema_info (
    key text PRIMARY KEY,
    value text NOT NULL
);
CREATE TABLE "transaction" (
    tid int8 PRIMARY KEY,
    username text NOT NULL,
    description text NOT NULL,
    extension bytea NOT NULL
);
CREATE TABLE object_state (
    zoid int8 NOT NULL,
    tid int8 NOT NULL,
    state bytea NOT NULL,
    PRIMARY KEY (zoid, tid)
);
CREATE INDEX object_state_tid ON object_state (tid);
CREATE TABLE current_object (
    zoid int8 PRIMARY KEY,
    tid int8 NOT NULL
);
CREATE TABLE object_ref (
    zoid int8 NOT NULL,
    tid int8 NOT NULL,
    to_zoid int8 NOT NULL,
    PRIMARY KEY (zoid, tid, to_zoid)
);
CREATE TABLE tid_clock (
    id int4 PRIMARY KEY CHECK (id = 0),
    tid int8 NOT NULL,
    previous int8 NOT NULL
);
INSERT INTO tid_clock (id, tid, previous) VALUES (0, 0, 0);
CREATE SEQUENCE oid_seq AS int8 MINVALUE 1 MAXVALUE 9223372036854775806 START 1;
"#;

/// Creates the schema if the database has none of our tables, else checks that it is ours
/// and of [`SCHEMA_VERSION`]. Runs in one transaction under an advisory lock.
pub(crate) fn ensure_schema(client: &mut Client, name: &str) -> Result<(), Error> {
    let err = |what: &'static str| move |e| pg_error(name, what, e);
    let mut tx = client.transaction().map_err(err("starting the schema check"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .map_err(err("waiting for the schema lock"))?;
    let present: Vec<String> = tx
        .query(
            "SELECT t FROM unnest($1::text[]) AS t WHERE to_regclass(quote_ident(t)) IS NOT NULL",
            &[&TABLES.as_slice()],
        )
        .map_err(err("listing tables"))?
        .iter()
        .map(|row| row.get(0))
        .collect();
    if present.is_empty() {
        tx.batch_execute(CREATE_TABLES).map_err(err("creating the schema"))?;
        tx.execute(
            "INSERT INTO schema_info (key, value) VALUES ('schema', $1), ('version', $2)",
            &[&SCHEMA_NAME, &SCHEMA_VERSION.to_string()],
        )
        .map_err(err("recording the schema version"))?;
        return tx.commit().map_err(err("committing the new schema"));
    }
    let foreign = |detail: String| {
        Error::storage(
            StorageErrorKind::NotAStorage,
            format!(
                "{name} holds tables that are not a persistent-postgres storage ({detail}); \
                 use an empty database or one made by PostgresStorage"
            ),
        )
    };
    if !present.iter().any(|t| t == "schema_info") {
        return Err(foreign(format!("it has the tables {}", present.join(", "))));
    }
    let info = |tx: &mut postgres::Transaction<'_>, key: &str| -> Result<Option<String>, Error> {
        tx.query_opt("SELECT value FROM schema_info WHERE key = $1", &[&key])
            .map(|row| row.map(|row| row.get(0)))
            .map_err(err("reading the schema version"))
    };
    let schema = info(&mut tx, "schema")?;
    if schema.as_deref() != Some(SCHEMA_NAME) {
        return Err(foreign(format!("its schema is {schema:?}")));
    }
    let version = info(&mut tx, "version")?;
    if version.as_deref() != Some(SCHEMA_VERSION.to_string().as_str()) {
        return Err(Error::storage(
            StorageErrorKind::NotAStorage,
            format!(
                "{name} has persistent-postgres schema version {}, but this library reads \
                 version {SCHEMA_VERSION}; use a matching version of the library",
                version.as_deref().unwrap_or("(none)")
            ),
        ));
    }
    if let Some(missing) = TABLES.iter().find(|t| !present.iter().any(|have| have == *t)) {
        return Err(foreign(format!("the table {missing} is missing")));
    }
    tx.commit().map_err(err("finishing the schema check"))
}
