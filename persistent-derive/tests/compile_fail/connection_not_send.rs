// One connection per thread: a `Connection` cannot cross threads (the `Database` can).
use persistent::prelude::*;
use persistent::storage::MemoryStorage;

fn main() {
    let db = Database::open(MemoryStorage::new()).unwrap();
    let conn = db.connect().unwrap();
    std::thread::spawn(move || conn.commit());
}
