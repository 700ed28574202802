//! `TempDir`: a scratch directory for on-disk storages, removed with its contents on drop.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh directory under the system temp dir, unique per process and call.
pub struct TempDir {
    root: PathBuf,
}

impl TempDir {
    /// Creates the directory (named after `tag`, the pid and a counter).
    ///
    /// # Panics
    ///
    /// If a stale directory of that name cannot be removed or the directory cannot be
    /// created.
    pub fn new(tag: &str) -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let serial = NEXT.fetch_add(1, Ordering::Relaxed);
        let root = std::env::temp_dir()
            .join(format!("persistent-tests-{tag}-{}-{serial}", std::process::id()));
        if root.exists() {
            std::fs::remove_dir_all(&root).expect("clear a stale temp dir");
        }
        std::fs::create_dir_all(&root).expect("create the temp dir");
        TempDir { root }
    }

    /// The directory itself.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// `name` inside the directory.
    #[must_use]
    pub fn join(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
