//! A fast hasher for oid keys: one multiply, good high bits for the hash table's tag.

use std::hash::{BuildHasherDefault, Hasher};

/// Hashes a `u64` with a single odd multiply (Fibonacci hashing); other input is folded in
/// eight bytes at a time. Not for untrusted keys: oids come from our own storage.
#[derive(Default, Clone, Copy)]
pub(crate) struct OidHasher(u64);

const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for OidHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(MULTIPLIER);
    }
}

/// Builds `OidHasher`s.
pub(crate) type BuildOidHasher = BuildHasherDefault<OidHasher>;
