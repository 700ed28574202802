//! `MemoryStorage`: a history-preserving storage kept in memory, for tests and demos.
//! STUB: being implemented.

/// A history-preserving storage in memory.
#[derive(Default)]
pub struct MemoryStorage {}
