//! A fast hasher for oid keys that keeps their locality: the low bits are the oid itself, so
//! the dense, mostly sequential oids a storage hands out land in neighbouring buckets
//! (cache-friendly, no collisions among them), and the top 7 bits, which the hash table uses
//! as a tag, are mixed by one multiply.

use std::hash::{BuildHasherDefault, Hasher};

/// Hashes a `u64` to itself with its top 7 bits replaced by a multiplicative mix; other
/// input is folded in eight bytes at a time. Not for untrusted keys: oids come from our own
/// storage, and keys that differ only above bit 56 would share buckets.
#[derive(Default, Clone, Copy)]
pub(crate) struct OidHasher(u64);

const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;
/// The bits the hash table uses as a tag.
const TAG_BITS: u64 = 0xFE00_0000_0000_0000;

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
        let folded = self.0.rotate_left(5) ^ value;
        self.0 = (folded & !TAG_BITS) | (folded.wrapping_mul(MULTIPLIER) & TAG_BITS);
    }
}

/// Builds `OidHasher`s.
pub(crate) type BuildOidHasher = BuildHasherDefault<OidHasher>;
