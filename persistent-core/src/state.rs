//! `PState`: the four states of a persistent object's life cycle.

/// The persistent state of an object (Python's `_p_state`).
///
/// Without a jar an object always reports `UpToDate`. `Changed` and `Sticky` exclude each
/// other: entering one leaves the other.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(i8)]
pub enum PState {
    /// Identity without state: the data is loaded on first access.
    Ghost = -1,
    /// Loaded and not modified since.
    UpToDate = 0,
    /// Modified since it was loaded; registered with its data manager.
    Changed = 1,
    /// Loaded and pinned: never turned back into a ghost by the cache.
    Sticky = 2,
}

impl PState {
    /// The integer value Python uses for this state.
    #[must_use]
    pub fn value(self) -> i8 {
        self as i8
    }
}
