use persistent::prelude::*;

#[derive(Persistent)]
#[persistent(name = "app::Account", colour = "red", name = "again")]
pub struct Account {
    #[persistent(volatile, sticky)]
    cache: u32,
    #[persistent(no_getter = true)]
    balance: i64,
}

#[derive(Persistent)]
#[persistent(name = app::Ledger)]
pub struct Ledger {
    total: i64,
}

fn main() {}
