// A type of the user's named like a persistent handle: the getter expects a handle, and the
// error says how to opt out (`#[persistent(guard)]`).
use persistent::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Default)]
pub struct PersistentList<T>(Vec<T>);

#[derive(Persistent, Default)]
pub struct Shelf {
    titles: PersistentList<String>,
    #[persistent(guard)]
    fine: PersistentList<u8>,
}

fn main() {}
