// Objects are single-threaded, as in ZODB: a `P<T>` cannot cross threads.
use persistent::prelude::*;

#[derive(Persistent, Default)]
pub struct Counter {
    hits: u64,
}

fn main() {
    let counter = P::new(Counter::default());
    std::thread::spawn(move || counter.hits());
}
