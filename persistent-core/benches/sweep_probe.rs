mod common;
fn main() {
    for held in [true, false] {
        let (_dm, cache, rows) = common::loaded_cache(1_000_000);
        let kept = if held {
            Some(rows)
        } else {
            drop(rows);
            None
        };
        cache.set_cache_size(10_000);
        let t = std::time::Instant::now();
        cache.incrgc();
        println!("held {held}: {:?} per eviction", t.elapsed() / 990_000);
        drop(kept);
    }
}
