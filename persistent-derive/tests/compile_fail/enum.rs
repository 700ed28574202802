use persistent::prelude::*;

#[derive(Persistent)]
pub enum Shape {
    Circle { radius: f64 },
    Square { side: f64 },
}

#[derive(Persistent)]
pub union Bits {
    int: u32,
    float: f32,
}

fn main() {}
