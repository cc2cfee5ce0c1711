//! The string, stack and frame tables of a v1 trace.
//!
//! A v1 trace has one table of each for the whole file. Stacks hold PCs only; the frame of a
//! PC (function, file, line) is kept once, from the first stack that named it, as in Go.

use crate::v2::Frame;
use crate::v2::table::IdTable;

/// The string table: IDs (never 0 on the wire) to bytes, not necessarily UTF-8.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StringTable<'a> {
    table: IdTable<&'a [u8]>,
}

impl<'a> StringTable<'a> {
    pub(crate) fn new(entries: Vec<(u64, &'a [u8])>) -> Self {
        // IDs are unique and non-zero: the parser rejects anything else.
        Self {
            table: IdTable::build(entries).unwrap_or_default(),
        }
    }

    /// The string with `id`; ID 0 is the empty string.
    #[inline]
    pub fn get(&self, id: u64) -> Option<&'a [u8]> {
        if id == 0 {
            return Some(b"");
        }
        self.table.get(id)
    }

    /// Every `(id, string)` in ID order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &'a [u8])> + '_ {
        self.table.iter()
    }

    /// The largest ID, 0 for an empty table. Go's converter numbers the strings it adds
    /// after it.
    pub fn max_id(&self) -> u64 {
        self.iter().last().map_or(0, |(id, _)| id)
    }

    /// The number of strings.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

/// The stack table: IDs to PCs, innermost first. Only stacks with at least one frame are
/// kept; a later stack with the same ID replaces an earlier one, as in Go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackTable {
    stacks: IdTable<(u32, u32)>,
    pcs: Vec<u64>,
}

impl StackTable {
    /// Builds the table from `(id, (start, len))` ranges into `pcs`.
    pub(crate) fn new(entries: Vec<(u64, (u32, u32))>, pcs: Vec<u64>) -> Self {
        Self {
            stacks: IdTable::build(entries).unwrap_or_default(),
            pcs,
        }
    }

    /// The PCs of the stack with `id`, innermost first; ID 0 is the empty stack.
    #[inline]
    pub fn get(&self, id: u32) -> Option<&[u64]> {
        if id == 0 {
            return Some(&[]);
        }
        let (start, len) = self.stacks.get(u64::from(id))?;
        self.pcs.get(start as usize..start as usize + len as usize)
    }

    /// Whether a stack with `id` and at least one frame exists.
    #[inline]
    pub fn contains(&self, id: u32) -> bool {
        id != 0 && self.stacks.get(u64::from(id)).is_some()
    }

    /// Every `(id, pcs)` in ID order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &[u64])> + '_ {
        self.stacks.iter().map(|(id, (start, len))| {
            let pcs = self
                .pcs
                .get(start as usize..start as usize + len as usize)
                .unwrap_or_default();
            (id as u32, pcs)
        })
    }

    /// The number of stacks.
    pub fn len(&self) -> usize {
        self.stacks.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.stacks.is_empty()
    }
}

/// The frame of every PC that appears in a stack, sorted by PC.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrameTable {
    frames: Vec<Frame>,
}

impl FrameTable {
    pub(crate) fn new(mut frames: Vec<Frame>) -> Self {
        frames.sort_unstable_by_key(|f| f.pc);
        Self { frames }
    }

    /// The frame of `pc`. Its function and file are string IDs.
    #[inline]
    pub fn get(&self, pc: u64) -> Option<&Frame> {
        let i = self.frames.binary_search_by_key(&pc, |f| f.pc).ok()?;
        self.frames.get(i)
    }

    /// Every frame in PC order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Frame> + '_ {
        self.frames.iter()
    }

    /// The number of frames.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_by_id() {
        let t = StringTable::new(vec![(3, &b"c"[..]), (1, b"a")]);
        assert_eq!(t.get(0), Some(&b""[..]));
        assert_eq!(t.get(3), Some(&b"c"[..]));
        assert_eq!(t.get(2), None);
        assert_eq!(t.max_id(), 3);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn stacks_by_id() {
        let t = StackTable::new(vec![(2, (1, 2)), (7, (0, 1))], vec![10, 20, 30]);
        assert_eq!(t.get(2), Some(&[20, 30][..]));
        assert_eq!(t.get(7), Some(&[10][..]));
        assert_eq!(t.get(0), Some(&[][..]));
        assert_eq!(t.get(3), None);
        assert!(t.contains(7) && !t.contains(0) && !t.contains(3));
        assert_eq!(t.iter().map(|(id, _)| id).collect::<Vec<_>>(), [2, 7]);
    }

    #[test]
    fn frames_by_pc() {
        let f = |pc| Frame {
            pc,
            func: 1,
            file: 2,
            line: 3,
        };
        let t = FrameTable::new(vec![f(30), f(10), f(20)]);
        assert_eq!(t.get(20), Some(&f(20)));
        assert_eq!(t.get(25), None);
        assert_eq!(t.iter().map(|f| f.pc).collect::<Vec<_>>(), [10, 20, 30]);
    }
}
