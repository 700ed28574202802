// A volatile field is rebuilt with `Default` when the object loads: its type must be Default.
use persistent::prelude::*;

pub struct Handle(u32);

#[derive(Persistent)]
pub struct Session {
    user: String,
    _v_handle: Handle,
}

fn main() {}
