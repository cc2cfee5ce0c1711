//! Interned strings: block reasons, range names, goroutine and region names.
//!
//! The hot paths compare and accumulate by [`Sym`] (a `u32`); a string is hashed only the
//! first time a generation's string ID is seen. Strings are kept as Go has them (bytes,
//! possibly invalid UTF-8, since the runtime cuts them at 1024 bytes) and turned into text,
//! with U+FFFD for invalid bytes as Go's `encoding/json` does, only for output.

use std::sync::Arc;

use goroscope_trace::event::StringRef;

use crate::idmap::FxHashMap;

/// An interned string.
pub(crate) type Sym = u32;

/// The empty string is always symbol 0.
pub(crate) const EMPTY: Sym = 0;

/// The interned strings of one analysis.
#[derive(Debug, Clone)]
pub(crate) struct Interner {
    ids: FxHashMap<Box<[u8]>, Sym>,
    bytes: Vec<Box<[u8]>>,
}

impl Default for Interner {
    fn default() -> Self {
        let mut i = Self {
            ids: FxHashMap::default(),
            bytes: Vec::new(),
        };
        i.intern(b"");
        i
    }
}

impl Interner {
    /// The symbol of `s`, adding it if new.
    pub(crate) fn intern(&mut self, s: &[u8]) -> Sym {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = Sym::try_from(self.bytes.len()).expect("fewer than 2^32 distinct strings");
        self.bytes.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }

    /// The bytes of a symbol.
    pub(crate) fn bytes(&self, s: Sym) -> &[u8] {
        &self.bytes[s as usize]
    }

    /// Every symbol as shared text, indexed by symbol.
    pub(crate) fn texts(&self) -> Vec<Arc<str>> {
        self.bytes
            .iter()
            .map(|b| Arc::from(String::from_utf8_lossy(b)))
            .collect()
    }
}

/// IDs below this bound are cached densely per generation.
const DENSE_IDS: u64 = 1 << 20;

/// A cache from an ID of a generation's table (a string or a stack) to a `u32` derived from
/// what it names: a symbol, an interned stack.
#[derive(Debug, Clone, Default)]
pub(crate) struct SymCache {
    /// `tables[table][id]` is the value plus one, or 0 when not cached yet.
    tables: Vec<Vec<u32>>,
    sparse: FxHashMap<(u32, u64), u32>,
}

impl SymCache {
    /// The symbol for `r`, computed by `make` on the first lookup.
    #[inline]
    pub(crate) fn get(&mut self, r: StringRef, make: impl FnOnce() -> Sym) -> Sym {
        self.get_id(r.table, r.id, make)
    }

    /// The value for ID `id` of generation table `table`, computed by `make` on the first
    /// lookup (`make` must not return `u32::MAX`).
    #[inline]
    pub(crate) fn get_id(&mut self, table: u32, id: u64, make: impl FnOnce() -> u32) -> u32 {
        if id >= DENSE_IDS || table == u32::MAX {
            return *self.sparse.entry((table, id)).or_insert_with(make);
        }
        let t = table as usize;
        if t >= self.tables.len() {
            self.tables.resize_with(t + 1, Vec::new);
        }
        let ids = &mut self.tables[t];
        let i = id as usize;
        if i >= ids.len() {
            ids.resize((i + 1).next_power_of_two().max(64), 0);
        }
        if ids[i] == 0 {
            ids[i] = make() + 1;
        }
        ids[i] - 1
    }
}
