use persistent::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
pub struct Address {
    street: String,
}

#[derive(Persistent, Serialize)]
pub struct Customer {
    name: String,
    #[serde(flatten)]
    address: Address,
}

fn main() {}
