//! `SqliteStorage`. STUB: being implemented.
