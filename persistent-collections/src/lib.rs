//! `PersistentList` and `PersistentMapping`. STUB: being implemented.
