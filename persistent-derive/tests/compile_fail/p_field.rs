use persistent::prelude::*;

#[derive(Persistent)]
pub struct Account {
    p_oid: u64,
    balance: i64,
    set_balance: i64,
}

fn main() {}
