//! Opening a storage named by a URL: `sqlite:PATH` or a bare path. The tool only reads.

use std::path::{Path, PathBuf};

use persistent::{SqliteOptions, SqliteStorage};

use crate::CliError;

/// An opened storage and the file it lives in.
pub struct Opened {
    /// The storage, used read-only.
    pub storage: SqliteStorage,
    /// The database file.
    pub path: PathBuf,
}

/// The path a URL names, or a usage error for an unknown scheme.
fn path_of(url: &str) -> Result<PathBuf, CliError> {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        if rest.is_empty() {
            return Err(CliError::usage(format!("{url}: the URL names no file")));
        }
        return Ok(PathBuf::from(rest));
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
    Ok(PathBuf::from(url))
}

/// Opens the storage `url` names. The file must exist: opening never creates one.
///
/// # Errors
/// A usage error for an unknown scheme or a missing file; a storage error.
pub fn open(url: &str) -> Result<Opened, CliError> {
    let path = path_of(url)?;
    if !Path::new(&path).is_file() {
        return Err(CliError::usage(format!("no database file at {}", path.display())));
    }
    let storage = SqliteStorage::open_with(&path, SqliteOptions::default())?;
    Ok(Opened { storage, path })
}

#[cfg(test)]
mod tests {
    use super::path_of;

    #[test]
    fn schemes() {
        assert_eq!(path_of("sqlite:/a/b.db").unwrap().to_str(), Some("/a/b.db"));
        assert_eq!(path_of("sqlite:///a/b.db").unwrap().to_str(), Some("/a/b.db"));
        assert_eq!(path_of("b.db").unwrap().to_str(), Some("b.db"));
        assert_eq!(path_of("C:b.db").unwrap().to_str(), Some("C:b.db"));
        assert!(path_of("postgres://x").is_err());
    }
}
