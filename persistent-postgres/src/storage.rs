//! `PostgresStorage`: opening (URL, TLS, pool, schema) and the `Storage` implementation's
//! reads. Commits are `commit.rs`, pack is `pack.rs`, copying (`transactions_after`,
//! `restore`) is `copy.rs`. Every read is one statement, so one
//! round trip and one consistent view; a read on a session whose connection was lost (a
//! server restart) is tried once more on a fresh session.

use std::fmt;
use std::time::Duration;

use persistent_core::storage::{
    Changes, CommitOutcome, PackProgress, PackReport, Revision, RevisionInfo, Storage,
    StoredTransaction, TransactionData, TransactionInfo, VisibleRecord,
};
use persistent_core::{Error, Oid, Result, StorageErrorKind, Tid, TimeStamp};
use postgres::config::SslMode as DriverSslMode;

use crate::options::PostgresOptions;
use crate::pg_error::{connection_lost, pg_error};
use crate::pool::{Pool, Session};
use crate::schema::ensure_schema;
use crate::url::{self, SslMode};
use persistent_core::storage::read_ahead::{self, Known, ReadAhead};
use persistent_core::storage::sql_int::{oid_from_sql, oid_to_sql, tid_bound, tid_from_sql};

/// A history-preserving storage in a PostgreSQL database (RelStorage's layout).
///
/// Any number of processes, on any machines, may open the same database: commits are atomic
/// and durable when `commit` returns, conflicts are detected by the server, and tids
/// increase strictly across all of them. Each value keeps a small pool of sessions (see
/// [`PostgresOptions::pool_size`]), so threads sharing it run their calls in parallel.
///
/// Its `name()` and `Debug` show the URL with the password replaced by `***`.
pub struct PostgresStorage {
    pub(crate) pool: Pool,
    /// The redacted URL.
    pub(crate) name: String,
    pub(crate) options: PostgresOptions,
    /// Records fetched ahead by `load_visible`.
    read_ahead: ReadAhead,
}

impl fmt::Debug for PostgresStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStorage")
            .field("url", &self.name)
            .field("pool_size", &self.options.pool_size)
            .finish_non_exhaustive()
    }
}

/// `SET` statements for a duration option (zero: no limit).
fn millis(duration: Duration) -> u128 {
    duration.as_millis()
}

impl PostgresStorage {
    /// Connects to the database at `url` (`postgres://user:password@host:port/dbname`, with
    /// `sslmode` and `sslrootcert` honoured as libpq does) and creates the schema on first
    /// use, or checks it.
    ///
    /// # Errors
    /// `Error::Storage`, its message naming the URL without its password: kind
    /// `Unavailable` when the server cannot be reached, `Denied` for a wrong password, a
    /// role without the rights needed or a refused server certificate, `NotAStorage` for a
    /// missing database or one holding other tables or another schema version, `Invalid`
    /// for a URL that does not parse.
    pub fn open(url: &str) -> Result<PostgresStorage> {
        PostgresStorage::open_with(url, PostgresOptions::default())
    }

    /// `open` with options (pool size, timeouts, the CA certificate file).
    ///
    /// # Errors
    /// As `open`.
    pub fn open_with(url: &str, options: PostgresOptions) -> Result<PostgresStorage> {
        let parsed = url::parse(url)?;
        let name = parsed.redacted.clone();
        let mut config: postgres::Config = parsed.driver.parse().map_err(|e| {
            Error::storage_with_source(
                StorageErrorKind::Invalid,
                format!("{name} is not a PostgreSQL connection URL; write postgres://USER:PASSWORD@HOST:PORT/DATABASE"),
                e,
            )
        })?;
        config.ssl_mode(match parsed.ssl_mode {
            SslMode::Disable => DriverSslMode::Disable,
            SslMode::Prefer => DriverSslMode::Prefer,
            _ => DriverSslMode::Require,
        });
        config.connect_timeout(options.connect_timeout);
        if config.get_application_name().is_none() {
            config.application_name(&options.application_name);
        }
        let ca_file = options.ca_file.clone().or(parsed.root_cert.as_ref().map(Into::into));
        let tls = crate::tls::connector(parsed.ssl_mode, ca_file.as_deref(), &name)?;
        let setup = format!(
            "SET lock_timeout = {}; SET statement_timeout = {}",
            millis(options.lock_timeout),
            millis(options.statement_timeout)
        );
        let pool = Pool::new(config, tls, setup, options.pool_size, name.clone());
        let storage = PostgresStorage { pool, name, options, read_ahead: ReadAhead::default() };
        {
            let mut session = storage.pool.get()?;
            ensure_schema(&mut session.client, &storage.name)?;
        }
        Ok(storage)
    }

    /// Runs `read` on a session; if the session's connection turns out lost, once more on a
    /// fresh one. Errors become `Error::Storage` naming `what`.
    pub(crate) fn read<T>(
        &self,
        what: &str,
        read: impl Fn(&mut Session) -> Result<T, postgres::Error>,
    ) -> Result<T> {
        let mut session = self.pool.get()?;
        match read(&mut session) {
            Ok(value) => Ok(value),
            Err(error) if connection_lost(&error) => {
                session.discard();
                let mut fresh = self.pool.get()?;
                read(&mut fresh).map_err(|e| self.err(what, e))
            }
            Err(error) => Err(self.err(what, error)),
        }
    }

    pub(crate) fn err(&self, what: &str, error: postgres::Error) -> Error {
        pg_error(&self.name, what, error)
    }
}

/// The size of a record as stored (`length(state)`).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "record lengths")]
fn size(length: i32) -> usize {
    length as usize
}

impl Storage for PostgresStorage {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn load(&self, oid: Oid) -> Result<Revision> {
        const SQL: &str = "SELECT o.tid, o.state FROM current_object c \
             JOIN object_state o ON o.zoid = c.zoid AND o.tid = c.tid WHERE c.zoid = $1";
        let found = self.read("loading an object", |s| {
            let statement = s.prepare(SQL)?;
            s.client.query_opt(&statement, &[&oid_to_sql(oid)])
        })?;
        let (tid, data) = found
            .map(|row| (row.get::<_, i64>(0), row.get::<_, Vec<u8>>(1)))
            .filter(|(_, data)| !data.is_empty())
            .ok_or(Error::NotFound(oid))?;
        Ok(Revision { data, serial: tid_from_sql(tid), next_serial: None })
    }

    fn load_visible(&self, oid: Oid, before: Tid) -> Result<Option<VisibleRecord>> {
        // The revision asked for and the visible ones of the next oids, with the newest
        // committed tid of the same view (`persistent_core::storage::read_ahead`).
        const SQL: &str = "SELECT k.tid, b.zoid, b.tid, \
               CASE WHEN b.zoid = $1 OR length(b.state) <= $4 THEN b.state END \
             FROM tid_clock k LEFT JOIN LATERAL ( \
               SELECT DISTINCT ON (zoid) zoid, tid, state FROM object_state \
               WHERE zoid BETWEEN $1 AND $2 AND tid < $3 ORDER BY zoid, tid DESC) b ON true \
             WHERE k.id = 0";
        let (zoid, bound) = (oid_to_sql(oid), tid_bound(before));
        let visible = |tid: i64, data: Vec<u8>| {
            Some(VisibleRecord::new(data, tid_from_sql(tid))).filter(|r| !r.data.is_empty())
        };
        // A record a block covers but was too large to keep is read alone, not with the
        // next oids again.
        let span = match self.read_ahead.lookup(zoid, bound) {
            Some(Known::Record(tid, data)) => return Ok(visible(tid, data)),
            Some(Known::Absent) => return Ok(None),
            Some(Known::NotKept) => 1,
            None => read_ahead::SPAN,
        };
        let hi = zoid.saturating_add(span - 1);
        let rows = self.read("loading a revision before a tid", |s| {
            let statement = s.prepare(SQL)?;
            s.client.query(&statement, &[&zoid, &hi, &bound, &read_ahead::MAX_KEPT])
        })?;
        let newest: i64 = rows.first().map_or(0, |row| row.get(0));
        let block: Vec<read_ahead::Row> = rows
            .iter()
            .filter_map(|row| Some((row.get::<_, Option<i64>>(1)?, row.get(2), row.get(3))))
            .collect();
        let found = block
            .iter()
            .find(|row| row.0 == zoid)
            .map(|(_, tid, state)| (*tid, state.clone().unwrap_or_default()));
        if span > 1 {
            self.read_ahead
                .keep(read_ahead::Block { before: bound, lo: zoid, hi, rows: block }, newest);
        }
        Ok(found.and_then(|(tid, data)| visible(tid, data)))
    }

    fn load_before(&self, oid: Oid, before: Tid) -> Result<Option<Revision>> {
        const SQL: &str = "SELECT o.tid, o.state, \
               (SELECT min(n.tid) FROM object_state n WHERE n.zoid = o.zoid AND n.tid > o.tid) \
             FROM object_state o WHERE o.zoid = $1 AND o.tid < $2 ORDER BY o.tid DESC LIMIT 1";
        let found = self.read("loading a revision before a tid", |s| {
            let statement = s.prepare(SQL)?;
            s.client.query_opt(&statement, &[&oid_to_sql(oid), &tid_bound(before)])
        })?;
        Ok(found
            .map(|row| Revision {
                data: row.get(1),
                serial: tid_from_sql(row.get(0)),
                next_serial: row.get::<_, Option<i64>>(2).map(tid_from_sql),
            })
            .filter(|revision| !revision.data.is_empty()))
    }

    fn load_serial(&self, oid: Oid, serial: Tid) -> Result<Vec<u8>> {
        const SQL: &str = "SELECT state FROM object_state WHERE zoid = $1 AND tid = $2";
        let Ok(tid) = persistent_core::storage::sql_int::tid_to_sql(serial) else {
            return Err(Error::NotFound(oid));
        };
        let found = self.read("loading a revision", |s| {
            let statement = s.prepare(SQL)?;
            s.client.query_opt(&statement, &[&oid_to_sql(oid), &tid])
        })?;
        found.map(|row| row.get(0)).ok_or(Error::NotFound(oid))
    }

    fn new_oids(&self, count: usize) -> Result<Vec<Oid>> {
        const SQL: &str = "SELECT nextval('oid_seq') FROM generate_series(1, $1::int8)";
        if count == 0 {
            return Ok(Vec::new());
        }
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        let rows = self.read("allocating oids", |s| {
            let statement = s.prepare(SQL)?;
            s.client.query(&statement, &[&count])
        })?;
        Ok(rows.iter().map(|row| oid_from_sql(row.get(0))).collect())
    }

    fn last_transaction(&self) -> Result<Tid> {
        const SQL: &str = "SELECT tid FROM tid_clock WHERE id = 0";
        let row = self.read("reading the last transaction", |s| {
            let statement = s.prepare(SQL)?;
            s.client.query_one(&statement, &[])
        })?;
        Ok(tid_from_sql(row.get(0)))
    }

    fn commit(&self, txn: &TransactionData) -> Result<CommitOutcome> {
        crate::commit::commit(self, txn)
    }

    fn changes_since(&self, after: Tid) -> Result<Changes> {
        // One statement: the newest tid and the changes come from one snapshot.
        const SQL: &str = "SELECT k.tid, c.zoid, c.tid FROM tid_clock k \
             LEFT JOIN (SELECT zoid, max(tid) AS tid FROM object_state WHERE tid > $1 \
                        GROUP BY zoid) c ON true WHERE k.id = 0";
        let rows = self.read("listing changed objects", |s| {
            let statement = s.prepare(SQL)?;
            s.client.query(&statement, &[&tid_bound(after)])
        })?;
        let newest = rows.first().map_or(TimeStamp::ZERO, |row| tid_from_sql(row.get(0)));
        let changed = rows
            .iter()
            .filter_map(|row| {
                let zoid: Option<i64> = row.get(1);
                zoid.map(|zoid| (oid_from_sql(zoid), tid_from_sql(row.get(2))))
            })
            .collect();
        Ok(Changes::new(newest, changed))
    }

    fn history(&self, oid: Oid, limit: usize) -> Result<Vec<RevisionInfo>> {
        const SQL: &str = r#"SELECT o.tid, t.username, t.description, length(o.state)
             FROM object_state o JOIN "transaction" t ON t.tid = o.tid
             WHERE o.zoid = $1 ORDER BY o.tid DESC LIMIT $2"#;
        // At least one row, to tell an object without revisions (NotFound) from `limit` 0.
        let wanted = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
        let rows = self.read("reading the history", |s| {
            let statement = s.prepare(SQL)?;
            s.client.query(&statement, &[&oid_to_sql(oid), &wanted])
        })?;
        if rows.is_empty() {
            return Err(Error::NotFound(oid));
        }
        Ok(rows
            .iter()
            .take(limit)
            .map(|row| RevisionInfo {
                tid: tid_from_sql(row.get(0)),
                user: row.get(1),
                description: row.get(2),
                size: size(row.get(3)),
            })
            .collect())
    }

    fn list_oids(&self, after: Option<Oid>, limit: usize) -> Result<Vec<Oid>> {
        const SQL: &str = "SELECT zoid FROM current_object WHERE zoid > $1 ORDER BY zoid LIMIT $2";
        const SQL_ALL: &str = "SELECT zoid FROM current_object ORDER BY zoid LIMIT $1";
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.read("listing the objects", |s| {
            if let Some(after) = after {
                let statement = s.prepare(SQL)?;
                s.client.query(&statement, &[&oid_to_sql(after), &limit])
            } else {
                let statement = s.prepare(SQL_ALL)?;
                s.client.query(&statement, &[&limit])
            }
        })?;
        Ok(rows.iter().map(|row| oid_from_sql(row.get(0))).collect())
    }

    fn transactions(&self, before: Tid, limit: usize) -> Result<Vec<TransactionInfo>> {
        const SQL: &str = r#"SELECT t.tid, t.username, t.description,
               array(SELECT s.zoid FROM object_state s WHERE s.tid = t.tid ORDER BY s.zoid)
             FROM "transaction" t WHERE t.tid < $1 AND t.tid > 0 ORDER BY t.tid DESC LIMIT $2"#;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.read("listing transactions", |s| {
            let statement = s.prepare(SQL)?;
            s.client.query(&statement, &[&tid_bound(before), &limit])
        })?;
        Ok(rows
            .iter()
            .map(|row| {
                let oids: Vec<i64> = row.get(3);
                TransactionInfo::new(
                    tid_from_sql(row.get(0)),
                    row.get(1),
                    row.get(2),
                    oids.into_iter().map(oid_from_sql).collect(),
                )
            })
            .collect())
    }

    fn pack(&self, before: Tid, progress: &mut dyn FnMut(&PackProgress)) -> Result<PackReport> {
        crate::pack::pack(self, before, progress)
    }

    fn transactions_after(&self, after: Tid, limit: usize) -> Result<Vec<StoredTransaction>> {
        crate::copy::transactions_after(self, after, limit)
    }

    fn restore(&self, batch: &[StoredTransaction]) -> Result<()> {
        crate::copy::restore(self, batch)
    }

    fn load_visible_many(&self, oids: &[Oid], before: Tid) -> Result<Vec<Option<VisibleRecord>>> {
        // One statement for all: each oid's newest revision below the bound, in order.
        const SQL: &str = "SELECT b.tid, b.state \
             FROM unnest($1::int8[]) WITH ORDINALITY AS o(zoid, i) \
             LEFT JOIN LATERAL (SELECT s.tid, s.state FROM object_state s \
               WHERE s.zoid = o.zoid AND s.tid < $2 ORDER BY s.tid DESC LIMIT 1) b ON true \
             ORDER BY o.i";
        let zoids: Vec<i64> = oids.iter().map(|oid| oid_to_sql(*oid)).collect();
        let rows = self.read("loading revisions before a tid", |s| {
            let statement = s.prepare(SQL)?;
            s.client.query(&statement, &[&zoids, &tid_bound(before)])
        })?;
        Ok(rows
            .iter()
            .map(|row| {
                let tid: Option<i64> = row.get(0);
                let data: Option<Vec<u8>> = row.get(1);
                tid.zip(data)
                    .filter(|(_, data)| !data.is_empty())
                    .map(|(tid, data)| VisibleRecord::new(data, tid_from_sql(tid)))
            })
            .collect())
    }

    fn packed_before(&self) -> Result<Tid> {
        const SQL: &str = "SELECT value::int8 FROM schema_info WHERE key = 'packed_before'";
        let row = self.read("reading the pack's bound", |s| {
            let statement = s.prepare(SQL)?;
            s.client.query_opt(&statement, &[])
        })?;
        Ok(row.map_or(TimeStamp::ZERO, |row| tid_from_sql(row.get(0))))
    }
}
