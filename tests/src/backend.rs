//! `Backend`: one storage kind that a database test runs against, able to open a NEW
//! `Database` over the same stored data (a shared `MemoryStorage`, or the same SQLite file
//! reopened with a fresh `SqliteStorage`), and `for_each_backend!`, which turns one scenario
//! function into a `#[test]` per backend.

use std::path::PathBuf;
use std::sync::Arc;

use persistent::storage::{MemoryStorage, ObjectWrite, Storage, TransactionData};
use persistent::SqliteStorage;
use persistent::{Database, DatabaseConfig, Oid, Tid};

use persistent_testkit::TempDir;

/// Where a scenario's data lives.
pub enum Backend {
    /// One `MemoryStorage`, shared by every database opened over it.
    Memory(Arc<MemoryStorage>),
    /// A SQLite file in a temp dir, reopened for every database.
    Sqlite {
        /// Keeps the directory alive.
        dir: TempDir,
        /// The database file.
        path: PathBuf,
    },
}

impl Backend {
    /// An empty memory storage.
    #[must_use]
    pub fn memory() -> Backend {
        Backend::Memory(Arc::new(MemoryStorage::new()))
    }

    /// A path for a new SQLite file in a fresh temp dir.
    #[must_use]
    pub fn sqlite() -> Backend {
        let dir = TempDir::new("db");
        let path = dir.join("data.db");
        Backend::Sqlite { dir, path }
    }

    /// A new database over the stored data, default settings.
    #[must_use]
    pub fn open(&self) -> Database {
        self.open_with(DatabaseConfig::default())
    }

    /// A new database over the stored data with `config`.
    #[must_use]
    pub fn open_with(&self, config: DatabaseConfig) -> Database {
        Database::open_with(self.storage(), config).expect("open the database")
    }

    /// A storage over the data: the shared memory storage, or a freshly opened file.
    #[must_use]
    pub fn storage(&self) -> Arc<dyn Storage> {
        match self {
            Backend::Memory(storage) => storage.clone(),
            Backend::Sqlite { path, .. } => {
                Arc::new(SqliteStorage::open(path).expect("open the SQLite file"))
            }
        }
    }

    /// The kind, for messages.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Memory(_) => "memory",
            Backend::Sqlite { .. } => "sqlite",
        }
    }
}

/// Writes `record` (a whole envelope, good or bad) for `oid` straight through the storage,
/// replacing whatever is current; returns the tid.
pub fn write_raw(storage: &dyn Storage, oid: Oid, record: Vec<u8>) -> Tid {
    let expected_serial = match storage.load(oid) {
        Ok(revision) => Some(revision.serial),
        Err(_) => None,
    };
    storage
        .commit(&TransactionData {
            user: "test".into(),
            description: format!("raw record for {oid}"),
            extension: Vec::new(),
            read_current: Vec::new(),
            writes: vec![ObjectWrite::new(oid, expected_serial, record)],
        })
        .expect("raw commit")
        .tid
}

/// `for_each_backend!(scenario, ...)`: for each `fn scenario(&Backend)`, a module `scenario`
/// with the tests `memory` and `sqlite`.
#[macro_export]
macro_rules! for_each_backend {
    ($($scenario:ident),+ $(,)?) => {
        $(
            mod $scenario {
                #[test]
                fn memory() {
                    super::$scenario(&$crate::Backend::memory());
                }

                #[test]
                fn sqlite() {
                    super::$scenario(&$crate::Backend::sqlite());
                }
            }
        )+
    };
}

/// A record in format 1, written by hand (the envelope is private to the library): version
/// byte 1, the type name's length as a one-byte varint, the name, the state. Format 1 has no
/// checksum, so tests use it to store exactly the state bytes they want.
///
/// # Panics
/// If the type name is 128 bytes or longer.
#[must_use]
pub fn format1_record(type_name: &str, state: &[u8]) -> Vec<u8> {
    let length = u8::try_from(type_name.len()).ok().filter(|n| *n < 128);
    let mut out = vec![1, length.expect("one varint byte is enough for the test names")];
    out.extend_from_slice(type_name.as_bytes());
    out.extend_from_slice(state);
    out
}
