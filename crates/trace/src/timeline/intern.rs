//! Trace-wide string and stack tables for timelines.
//!
//! Each generation of a trace has its own string and stack IDs. Timelines span generations,
//! so they refer to strings and stacks through trace-wide IDs: equal strings get one
//! [`StrId`], equal stacks (the same frames) one [`StackId`].

use std::collections::HashMap;

use crate::event::{StackRef, Tables};

/// A trace-wide string ID; 0 is the empty string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct StrId(pub u32);

/// A trace-wide stack ID; 0 is "no stack".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct StackId(pub u32);

impl StackId {
    /// No stack.
    pub const NONE: Self = Self(0);

    /// Whether this is a real stack.
    pub fn is_some(self) -> bool {
        self.0 != 0
    }
}

/// Interned strings (bytes; not necessarily UTF-8).
#[derive(Debug, Clone)]
pub struct Strings {
    bytes: Vec<u8>,
    ends: Vec<u32>,
    ids: HashMap<Box<[u8]>, u32>,
}

impl Default for Strings {
    fn default() -> Self {
        Self {
            bytes: Vec::new(),
            ends: vec![0],
            ids: HashMap::new(),
        }
    }
}

impl Strings {
    /// The ID of `s`, added if new.
    pub fn intern(&mut self, s: &[u8]) -> StrId {
        if s.is_empty() {
            return StrId(0);
        }
        if let Some(&id) = self.ids.get(s) {
            return StrId(id);
        }
        let id = self.ends.len() as u32;
        self.bytes.extend_from_slice(s);
        self.ends.push(self.bytes.len() as u32);
        self.ids.insert(s.into(), id);
        StrId(id)
    }

    /// The ID of `s` if it is interned.
    pub fn find(&self, s: &[u8]) -> Option<StrId> {
        if s.is_empty() {
            return Some(StrId(0));
        }
        self.ids.get(s).map(|&i| StrId(i))
    }

    /// The bytes of a string.
    pub fn get(&self, id: StrId) -> &[u8] {
        let i = id.0 as usize;
        match (
            i.checked_sub(1).and_then(|p| self.ends.get(p)),
            self.ends.get(i),
        ) {
            (Some(&a), Some(&b)) => &self.bytes[a as usize..b as usize],
            _ => &[],
        }
    }

    /// The string, with invalid UTF-8 replaced.
    pub fn lossy(&self, id: StrId) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.get(id))
    }

    /// The number of strings, the empty one included.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether only the empty string is present.
    pub fn is_empty(&self) -> bool {
        self.ends.len() <= 1
    }
}

/// One stack frame with trace-wide string IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Frame {
    /// The program counter.
    pub pc: u64,
    /// The function name.
    pub func: StrId,
    /// The file name.
    pub file: StrId,
    /// The line number.
    pub line: u32,
}

/// Interned stacks.
#[derive(Debug, Clone)]
pub struct Stacks {
    frames: Vec<Frame>,
    frame_ids: HashMap<Frame, u32>,
    refs: Vec<u32>,
    ends: Vec<u32>,
    ids: HashMap<Box<[u32]>, u32>,
}

impl Default for Stacks {
    fn default() -> Self {
        Self {
            frames: Vec::new(),
            frame_ids: HashMap::new(),
            refs: Vec::new(),
            ends: vec![0],
            ids: HashMap::new(),
        }
    }
}

impl Stacks {
    /// The frames of a stack, innermost first.
    pub fn frames(&self, id: StackId) -> impl ExactSizeIterator<Item = &Frame> + Clone + '_ {
        let i = id.0 as usize;
        let range = match (
            i.checked_sub(1).and_then(|p| self.ends.get(p)),
            self.ends.get(i),
        ) {
            (Some(&a), Some(&b)) => a as usize..b as usize,
            _ => 0..0,
        };
        self.refs[range].iter().map(|&f| &self.frames[f as usize])
    }

    /// The innermost frame of a stack.
    pub fn leaf(&self, id: StackId) -> Option<&Frame> {
        self.frames(id).next()
    }

    /// The number of stacks, "no stack" included.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no real stacks.
    pub fn is_empty(&self) -> bool {
        self.ends.len() <= 1
    }

    fn intern(&mut self, frames: &[Frame]) -> StackId {
        if frames.is_empty() {
            return StackId::NONE;
        }
        let refs: Vec<u32> = frames
            .iter()
            .map(|f| {
                let next = self.frames.len() as u32;
                *self.frame_ids.entry(*f).or_insert_with(|| {
                    self.frames.push(*f);
                    next
                })
            })
            .collect();
        if let Some(&id) = self.ids.get(refs.as_slice()) {
            return StackId(id);
        }
        let id = self.ends.len() as u32;
        self.refs.extend_from_slice(&refs);
        self.ends.push(self.refs.len() as u32);
        self.ids.insert(refs.into_boxed_slice(), id);
        StackId(id)
    }
}

/// Turns generation-local string and stack references into trace-wide IDs, caching the
/// mapping of each generation.
#[derive(Debug, Default)]
pub struct Interner {
    /// The strings.
    pub strings: Strings,
    /// The stacks.
    pub stacks: Stacks,
    /// Per generation table: local stack ID → trace-wide ID + 1 (0 = not yet mapped).
    stack_maps: Vec<Vec<u32>>,
    /// Per generation table: local string ID → trace-wide ID + 1 (0 = not yet mapped).
    string_maps: Vec<Vec<u32>>,
    scratch: Vec<Frame>,
}

/// The largest local ID cached in a dense map; larger IDs are interned every time.
const DENSE_LIMIT: u64 = 1 << 22;

impl Interner {
    /// The trace-wide ID of a generation's stack.
    pub fn stack(&mut self, tables: &Tables<'_>, r: Option<StackRef>) -> StackId {
        let Some(r) = r else {
            return StackId::NONE;
        };
        if r.id == 0 {
            return StackId::NONE;
        }
        let t = r.table as usize;
        if r.id < DENSE_LIMIT {
            if self.stack_maps.len() <= t {
                self.stack_maps.resize_with(t + 1, Vec::new);
            }
            if let Some(&v) = self.stack_maps[t].get(r.id as usize)
                && v != 0
            {
                return StackId(v - 1);
            }
        }
        let mut frames = std::mem::take(&mut self.scratch);
        frames.clear();
        for f in tables.frames(r) {
            frames.push(Frame {
                pc: f.pc,
                func: self.strings.intern(f.func),
                file: self.strings.intern(f.file),
                line: u32::try_from(f.line).unwrap_or(u32::MAX),
            });
        }
        let id = self.stacks.intern(&frames);
        self.scratch = frames;
        if r.id < DENSE_LIMIT {
            let map = &mut self.stack_maps[t];
            if map.len() <= r.id as usize {
                map.resize(r.id as usize + 1, 0);
            }
            map[r.id as usize] = id.0 + 1;
        }
        id
    }

    /// The trace-wide ID of a generation's string.
    pub fn string(&mut self, tables: &Tables<'_>, r: crate::event::StringRef) -> StrId {
        if r.id == 0 {
            return StrId(0);
        }
        let t = r.table as usize;
        if r.id < DENSE_LIMIT {
            if self.string_maps.len() <= t {
                self.string_maps.resize_with(t + 1, Vec::new);
            }
            if let Some(&v) = self.string_maps[t].get(r.id as usize)
                && v != 0
            {
                return StrId(v - 1);
            }
        }
        let id = self.strings.intern(tables.string(r));
        if r.id < DENSE_LIMIT {
            let map = &mut self.string_maps[t];
            if map.len() <= r.id as usize {
                map.resize(r.id as usize + 1, 0);
            }
            map[r.id as usize] = id.0 + 1;
        }
        id
    }

    /// Drops the per-generation caches (after the last event).
    pub fn finish(&mut self) {
        self.stack_maps = Vec::new();
        self.string_maps = Vec::new();
        self.scratch = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_intern_once() {
        let mut s = Strings::default();
        let a = s.intern(b"chan receive");
        let b = s.intern(b"sync");
        assert_eq!(s.intern(b"chan receive"), a);
        assert_ne!(a, b);
        assert_eq!(s.get(a), b"chan receive");
        assert_eq!(s.get(StrId(0)), b"");
        assert_eq!(s.intern(b""), StrId(0));
        assert_eq!(s.find(b"sync"), Some(b));
        assert_eq!(s.get(StrId(99)), b"");
    }

    #[test]
    fn stacks_intern_by_frames() {
        let mut st = Stacks::default();
        let f = |pc| Frame {
            pc,
            func: StrId(1),
            file: StrId(2),
            line: 3,
        };
        let a = st.intern(&[f(1), f(2)]);
        let b = st.intern(&[f(2)]);
        assert_eq!(st.intern(&[f(1), f(2)]), a);
        assert_ne!(a, b);
        assert_eq!(st.frames(a).map(|f| f.pc).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(st.leaf(b).map(|f| f.pc), Some(2));
        assert_eq!(st.intern(&[]), StackId::NONE);
        assert_eq!(st.frames(StackId::NONE).count(), 0);
    }
}
