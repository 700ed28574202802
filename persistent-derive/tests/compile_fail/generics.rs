use persistent::prelude::*;

#[derive(Persistent)]
pub struct Boxed<T> {
    value: T,
}

#[derive(Persistent)]
pub struct Borrowed<'a> {
    text: &'a str,
}

#[derive(Persistent)]
pub struct Sized<const N: usize> {
    bytes: [u8; N],
}

fn main() {}
