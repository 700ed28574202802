use persistent::prelude::*;

#[derive(Persistent)]
pub struct Pair(i64, i64);

#[derive(Persistent)]
pub struct Marker;

fn main() {}
