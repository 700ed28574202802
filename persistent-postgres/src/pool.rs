//! A small connection pool: at most `pool_size` open sessions, idle ones kept in a `Vec`,
//! each with its prepared statements. A session whose connection was lost is dropped instead
//! of going back, so the next call opens a fresh one (that is how a storage recovers from a
//! server restart). Threads beyond the limit wait on a condition variable.
//!
//! Why not `r2d2_postgres`: it brings two crates and a background thread pool for what is
//! sixty lines here, and its health checks cost a round trip per checkout; this pool checks
//! nothing up front and lets a failed call tell (see `PostgresStorage::read`).

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use persistent_core::{Error, StorageErrorKind};
use postgres::{Client, NoTls, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::pg_error::pg_error;

/// One open session and the statements prepared on it.
pub(crate) struct Session {
    pub(crate) client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl Session {
    /// `sql` prepared on this session (once; later calls reuse it).
    pub(crate) fn prepare(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }
}

/// The pool (see the module docs).
pub(crate) struct Pool {
    config: postgres::Config,
    tls: Option<MakeRustlsConnect>,
    /// SQL run on every new session (timeouts).
    setup: String,
    max: usize,
    /// How long `get` waits for a free session.
    wait: Duration,
    /// The redacted URL, for messages.
    name: String,
    state: Mutex<State>,
    freed: Condvar,
}

#[derive(Default)]
struct State {
    idle: Vec<Session>,
    /// Sessions open now, idle or lent.
    open: usize,
}

impl Pool {
    pub(crate) fn new(
        config: postgres::Config,
        tls: Option<MakeRustlsConnect>,
        setup: String,
        max: usize,
        name: String,
    ) -> Pool {
        Pool {
            config,
            tls,
            setup,
            max: max.max(1),
            wait: Duration::from_mins(1),
            name,
            state: Mutex::default(),
            freed: Condvar::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A session: an idle one, a new one while fewer than `max` are open, else the first
    /// one given back.
    pub(crate) fn get(&self) -> Result<Lent<'_>, Error> {
        let mut state = self.state();
        loop {
            if let Some(session) = state.idle.pop() {
                if session.client.is_closed() {
                    state.open -= 1;
                    continue;
                }
                return Ok(Lent { pool: self, session: Some(session) });
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                return match self.connect() {
                    Ok(session) => Ok(Lent { pool: self, session: Some(session) }),
                    Err(error) => {
                        self.state().open -= 1;
                        self.freed.notify_one();
                        Err(error)
                    }
                };
            }
            let (next, timeout) =
                self.freed.wait_timeout(state, self.wait).unwrap_or_else(PoisonError::into_inner);
            state = next;
            if timeout.timed_out() && state.idle.is_empty() && state.open >= self.max {
                return Err(Error::storage(
                    StorageErrorKind::Busy,
                    format!(
                        "{}: every one of the {} connections stayed in use for {:?}; raise \
                         PostgresOptions::pool_size",
                        self.name, self.max, self.wait
                    ),
                ));
            }
        }
    }

    /// Opens a new session (TLS as configured) and runs the setup SQL on it.
    pub(crate) fn connect(&self) -> Result<Session, Error> {
        let connected = match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(NoTls),
        };
        let mut client = connected.map_err(|e| pg_error(&self.name, "connecting", e))?;
        client
            .batch_execute(&self.setup)
            .map_err(|e| pg_error(&self.name, "setting up the session", e))?;
        Ok(Session { client, statements: HashMap::new() })
    }

    fn give_back(&self, session: Session) {
        let mut state = self.state();
        if session.client.is_closed() {
            state.open -= 1;
        } else {
            state.idle.push(session);
        }
        drop(state);
        self.freed.notify_one();
    }

    fn forget(&self) {
        self.state().open -= 1;
        self.freed.notify_one();
    }
}

/// A session lent by the pool; goes back on drop unless `discard`ed.
pub(crate) struct Lent<'a> {
    pool: &'a Pool,
    session: Option<Session>,
}

impl Lent<'_> {
    /// Closes the session instead of giving it back (its connection failed).
    pub(crate) fn discard(mut self) {
        self.session = None;
        self.pool.forget();
    }
}

impl std::ops::Deref for Lent<'_> {
    type Target = Session;
    fn deref(&self) -> &Session {
        self.session.as_ref().expect("a lent session is present until dropped")
    }
}

impl std::ops::DerefMut for Lent<'_> {
    fn deref_mut(&mut self) -> &mut Session {
        self.session.as_mut().expect("a lent session is present until dropped")
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            self.pool.give_back(session);
        }
    }
}
