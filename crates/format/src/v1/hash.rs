//! A fast hasher for the integer-keyed maps of the v1 parser (goroutine, P, task, stack and
//! string IDs, PCs).
//!
//! The keys come from the file, so a fixed hash function would let a crafted trace pile every
//! key into one bucket and make parsing quadratic. The hash is a folded multiply keyed by a
//! per-map random seed (the construction of `foldhash`), which keeps the speed of a
//! multiplicative hash without predictable collisions.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};

/// A map with integer keys.
pub(crate) type IntMap<K, V> = HashMap<K, V, IntState>;
/// A set of integers.
pub(crate) type IntSet<K> = HashSet<K, IntState>;

const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

#[inline(always)]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let full = u128::from(a) * u128::from(b);
    (full as u64) ^ ((full >> 64) as u64)
}

/// Builds [`IntHasher`]s with a random seed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IntState {
    seed: u64,
}

impl Default for IntState {
    fn default() -> Self {
        Self {
            seed: RandomState::new().hash_one(MULTIPLIER) | 1,
        }
    }
}

impl BuildHasher for IntState {
    type Hasher = IntHasher;

    #[inline]
    fn build_hasher(&self) -> IntHasher {
        IntHasher {
            seed: self.seed,
            hash: 0,
        }
    }
}

/// The hasher of [`IntState`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct IntHasher {
    seed: u64,
    hash: u64,
}

impl Hasher for IntHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.hash = folded_multiply(n ^ self.hash ^ self.seed, MULTIPLIER);
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    #[inline]
    fn write_i32(&mut self, n: i32) {
        self.write_u64(n as u32 as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_share_low_bits_spread_out() {
        // Keys a multiplicative hash would send to one bucket.
        let state = IntState::default();
        let mut low_bits: HashSet<u64> = HashSet::new();
        for k in 0..1024u64 {
            low_bits.insert(state.hash_one(k << 32) & 0x3ff);
        }
        assert!(low_bits.len() > 500, "{}", low_bits.len());
        let mut map: IntMap<u64, u64> = IntMap::default();
        map.insert(7, 1);
        assert_eq!(map.get(&7), Some(&1));
    }
}
