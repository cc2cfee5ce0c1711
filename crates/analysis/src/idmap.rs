//! Small, fast maps for the hot paths: goroutine and P IDs, interned strings.
//!
//! Go's analyses key their state by `map[GoID]…`; a trace of 55M events makes tens of
//! millions of such lookups. Goroutine and P IDs are small, dense integers in real traces, so
//! they index a vector; IDs that are negative (other than −1, "none") or implausibly large
//! fall back to a hash map, so a hostile trace cannot make us allocate gigabytes.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The multiplicative hash of rustc (`FxHasher`): fast and good enough for integer keys we
/// control. Not DoS-resistant, which is fine for keys read from one trace file.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`FxHasher`].
pub(crate) type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A `HashSet` with [`FxHasher`].
pub(crate) type FxHashSet<K> = std::collections::HashSet<K, BuildHasherDefault<FxHasher>>;

/// IDs from −1 up to this bound are stored densely.
const DENSE_LIMIT: i64 = 1 << 22;

/// A map from an `i64` ID to `V` with Go's map semantics for missing keys: they read as
/// `V::default()` (use `Option<T>` where presence matters).
#[derive(Debug, Clone, Default)]
pub(crate) struct IdMap<V> {
    /// `dense[id + 1]` for `-1 <= id < DENSE_LIMIT`.
    dense: Vec<V>,
    sparse: FxHashMap<i64, V>,
}

impl<V: Copy + Default> IdMap<V> {
    /// The index of `id` in `dense` if it has one there (the dense part never grows past
    /// `DENSE_LIMIT`, so an index inside it is always in the dense range).
    #[inline]
    fn dense_index(&self, id: i64) -> Option<usize> {
        // −1 maps to 0; IDs below −1 wrap to huge indexes.
        let i = id.wrapping_add(1) as u64;
        (i < self.dense.len() as u64).then_some(i as usize)
    }

    /// The value for `id`, or the default.
    #[inline]
    pub(crate) fn get(&self, id: i64) -> V {
        match self.dense_index(id) {
            Some(i) => self.dense[i],
            None => self.get_cold(id),
        }
    }

    #[cold]
    fn get_cold(&self, id: i64) -> V {
        if (-1..DENSE_LIMIT).contains(&id) {
            V::default()
        } else {
            self.sparse.get(&id).copied().unwrap_or_default()
        }
    }

    /// A mutable reference to the value for `id`, inserting the default if needed.
    #[inline]
    pub(crate) fn get_mut(&mut self, id: i64) -> &mut V {
        match self.dense_index(id) {
            Some(i) => &mut self.dense[i],
            None => self.get_mut_cold(id),
        }
    }

    #[cold]
    fn get_mut_cold(&mut self, id: i64) -> &mut V {
        if (-1..DENSE_LIMIT).contains(&id) {
            let i = (id + 1) as usize;
            if i >= self.dense.len() {
                let len = (i + 1)
                    .next_power_of_two()
                    .clamp(64, DENSE_LIMIT as usize + 1);
                self.dense.resize(len, V::default());
            }
            &mut self.dense[i]
        } else {
            self.sparse.entry(id).or_default()
        }
    }

    /// Sets the value for `id`.
    #[inline]
    pub(crate) fn set(&mut self, id: i64, v: V) {
        *self.get_mut(id) = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_sparse_ids() {
        let mut m: IdMap<Option<u32>> = IdMap::default();
        for id in [
            -1,
            0,
            5,
            1000,
            DENSE_LIMIT - 1,
            DENSE_LIMIT,
            -7,
            i64::MAX,
            i64::MIN,
        ] {
            assert_eq!(m.get(id), None);
            m.set(id, Some(id as u32));
            assert_eq!(m.get(id), Some(id as u32));
        }
        m.set(5, None);
        assert_eq!(m.get(5), None);
        assert_eq!(m.get(6), None);
        assert!(m.dense.len() <= DENSE_LIMIT as usize + 1);
    }
}
