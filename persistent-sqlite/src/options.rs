//! `SqliteOptions`: how `SqliteStorage::open_with` opens or creates a file. Today: the
//! permissions of a new file (owner only by default, as PostgreSQL and Redis keep their data).

/// Options for [`SqliteStorage::open_with`](crate::SqliteStorage::open_with).
///
/// ```
/// # use persistent_sqlite::SqliteOptions;
/// let options = SqliteOptions::default().with_file_mode(0o640); // group may read
/// assert_eq!(options.file_mode, 0o640);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqliteOptions {
    /// The Unix permission bits a NEW database file is created with; SQLite gives its `-wal`
    /// and `-shm` files the same permissions. An existing file keeps its own. Default
    /// `0o600`: readable and writable by its owner only. Ignored on non-Unix systems.
    pub file_mode: u32,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions { file_mode: 0o600 }
    }
}

impl SqliteOptions {
    /// These options with new files created with permission bits `mode` (e.g. `0o640`).
    #[must_use]
    pub fn with_file_mode(mut self, mode: u32) -> SqliteOptions {
        self.file_mode = mode;
        self
    }
}

/// Creates the file at `path` with the options' permissions if it does not exist yet, so
/// that SQLite opens a file that was private from its first byte.
pub(crate) fn create_private(
    path: &std::path::Path,
    options: SqliteOptions,
) -> std::io::Result<()> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.mode(options.file_mode);
    }
    #[cfg(not(unix))]
    let _ = options;
    match open.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}
