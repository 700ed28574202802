use persistent_core::Persistent;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub struct Token(u64);

#[derive(Persistent)]
pub struct Session {
    token: Token,
    #[persistent(no_getter)]
    fine: Token,
}

fn main() {}
