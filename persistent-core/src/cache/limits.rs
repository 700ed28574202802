//! `CacheLimits`: the count and byte limits of a cache and its drain resistance, with a
//! builder. What the sweep does with them is in `sweep.rs`.

/// Size limits and drain resistance of a cache. Zero means "off" for either limit.
///
/// Build with `CacheLimits::default()` (no limit at all) and the `with_*` methods:
/// ```
/// # use persistent_core::CacheLimits;
/// let limits = CacheLimits::default().with_cache_size(1_000).with_cache_size_bytes(1 << 20);
/// assert_eq!(limits.cache_size, 1_000);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheLimits {
    /// Target number of non-ghost objects after `incrgc` (0: no count limit).
    pub cache_size: usize,
    /// Target total estimated size in bytes after `incrgc` (0: no byte limit).
    pub cache_size_bytes: u64,
    /// When >= 1, `incrgc` also drains about `1/drain_resistance` of the non-ghosts.
    pub drain_resistance: usize,
}

impl CacheLimits {
    /// These limits with a target of `objects` non-ghosts (0: no count limit).
    #[must_use]
    pub fn with_cache_size(mut self, objects: usize) -> CacheLimits {
        self.cache_size = objects;
        self
    }

    /// These limits with a target of `bytes` of estimated size (0: no byte limit).
    #[must_use]
    pub fn with_cache_size_bytes(mut self, bytes: u64) -> CacheLimits {
        self.cache_size_bytes = bytes;
        self
    }

    /// These limits with a drain resistance (0: off; n >= 1: each `incrgc` also evicts
    /// about `1/n` of the non-ghosts).
    #[must_use]
    pub fn with_drain_resistance(mut self, resistance: usize) -> CacheLimits {
        self.drain_resistance = resistance;
        self
    }
}
