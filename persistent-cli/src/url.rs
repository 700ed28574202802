//! Opening a storage named by a URL: `sqlite:PATH` or a bare path. What lives here: parsing
//! the URL into a [`Location`] and opening it as an [`Opened`] storage with the extras its
//! backend has (a file size, an integrity check). What does not: anything a command does
//! with the storage. Adding a backend is one [`Location`] variant, one arm in
//! [`Location::parse`] and one in [`open`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use persistent::storage::Storage;
use persistent::{SqliteOptions, SqliteStorage};

use crate::CliError;

/// Where a URL points.
#[derive(Debug, PartialEq, Eq)]
pub enum Location {
    /// An SQLite file (`sqlite:PATH`, `sqlite://PATH` or a bare path).
    Sqlite(PathBuf),
}

/// Whether opening may create the storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The storage must exist (every command but `copy`'s destination): opening never
    /// creates a file.
    Existing,
    /// The storage is created if it does not exist.
    Create,
}

/// A SQLite storage's integrity check.
type IntegrityCheck = Box<dyn Fn() -> persistent::Result<bool>>;

/// An opened storage and what its backend offers beside the `Storage` trait.
pub struct Opened {
    /// The storage.
    pub storage: Arc<dyn Storage>,
    /// The database file, for backends that keep one.
    pub file: Option<PathBuf>,
    /// The backend's own integrity check, if it has one (SQLite's `PRAGMA integrity_check`).
    integrity: Option<IntegrityCheck>,
}

impl Opened {
    /// The bytes the storage takes on disk (the database file and its WAL), if it is a file.
    ///
    /// # Errors
    /// An I/O error reading the file's metadata.
    pub fn size_on_disk(&self) -> Result<Option<u64>, CliError> {
        let Some(file) = &self.file else { return Ok(None) };
        let mut size = std::fs::metadata(file)?.len();
        let mut wal = file.clone().into_os_string();
        wal.push("-wal");
        if let Ok(meta) = std::fs::metadata(&wal) {
            size += meta.len();
        }
        Ok(Some(size))
    }

    /// Runs the backend's integrity check: `None` when the backend has none.
    ///
    /// # Errors
    /// The storage's error when the check cannot run.
    pub fn integrity_check(&self) -> Result<Option<bool>, CliError> {
        self.integrity.as_ref().map(|check| check()).transpose().map_err(CliError::from)
    }
}

impl Location {
    /// The location `url` names, or a usage error for an unknown scheme or an empty path.
    ///
    /// # Errors
    /// A usage error naming the URL.
    pub fn parse(url: &str) -> Result<Location, CliError> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            if rest.is_empty() {
                return Err(CliError::usage(format!("the URL {url:?} names no file")));
            }
            return Ok(Location::Sqlite(PathBuf::from(rest)));
        }
        if let Some((scheme, _)) = url.split_once(':') {
            // A one-letter "scheme" is a Windows drive letter, part of a bare path.
            let looks_like_scheme = scheme.len() > 1
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
            if looks_like_scheme {
                return Err(CliError::usage(format!(
                    "unknown storage URL scheme {scheme:?} in {url:?} (known: sqlite:PATH, or a bare path)"
                )));
            }
        }
        if url.is_empty() {
            return Err(CliError::usage("the storage URL is empty".to_string()));
        }
        Ok(Location::Sqlite(PathBuf::from(url)))
    }
}

/// Opens the storage `url` names. With [`Mode::Existing`] the storage must exist: opening
/// never creates one.
///
/// # Errors
/// A usage error for an unknown scheme or (with `Mode::Existing`) a missing file; a storage
/// error.
pub fn open(url: &str, mode: Mode) -> Result<Opened, CliError> {
    match Location::parse(url)? {
        Location::Sqlite(path) => open_sqlite(path, mode),
    }
}

fn open_sqlite(path: PathBuf, mode: Mode) -> Result<Opened, CliError> {
    if mode == Mode::Existing && !Path::new(&path).is_file() {
        return Err(CliError::usage(format!("no database file at {}", path.display())));
    }
    let storage = Arc::new(SqliteStorage::open_with(&path, SqliteOptions::default())?);
    let checked = Arc::clone(&storage);
    Ok(Opened {
        storage,
        file: Some(path),
        integrity: Some(Box::new(move || checked.integrity_check())),
    })
}

#[cfg(test)]
mod tests {
    use super::Location;
    use std::path::PathBuf;

    fn sqlite(path: &str) -> Location {
        Location::Sqlite(PathBuf::from(path))
    }

    #[test]
    fn schemes() {
        assert_eq!(Location::parse("sqlite:/a/b.db").unwrap(), sqlite("/a/b.db"));
        assert_eq!(Location::parse("sqlite:///a/b.db").unwrap(), sqlite("/a/b.db"));
        assert_eq!(Location::parse("b.db").unwrap(), sqlite("b.db"));
        assert_eq!(Location::parse("C:b.db").unwrap(), sqlite("C:b.db"));
        assert!(Location::parse("postgres://x").is_err());
        assert!(Location::parse("sqlite:").is_err());
        assert!(Location::parse("").is_err());
    }
}
