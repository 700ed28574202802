// `#[serde(skip)]` is refused with a pointer to volatile fields.
use persistent::prelude::*;

#[derive(Persistent)]
pub struct Session {
    user: String,
    #[serde(skip)]
    scratch: Vec<u8>,
}

fn main() {}
