//! Compressed, append-only sequences of timed records ("lanes").
//!
//! A lane holds records in time order, each encoded relative to the one before it (time as
//! a varint delta, other fields as the record kind chooses), so a span costs a few bytes.
//! Every [`CHUNK`] records a checkpoint keeps the decoding context of the record before (its
//! [`Record::Context`]: the time, and whatever else the next is encoded against) and its
//! byte offset; lookups by index or by time binary-search the checkpoints and decode at most
//! one chunk.

use goroscope_format::uvarint;

/// Records between checkpoints.
pub const CHUNK: usize = 128;

/// A record kind that a [`Lane`] can store.
pub trait Record: Copy + Default + std::fmt::Debug {
    /// What the encoding of a record depends on of the records before it (the time, and
    /// whatever fields are encoded against earlier ones), kept at each checkpoint. The first
    /// record is encoded against the default.
    type Context: Copy + Default + std::fmt::Debug;
    /// The record's time (nanoseconds); records are appended in non-decreasing time.
    fn time(&self) -> i64;
    /// The context to encode the record after this one against, given `before`, the
    /// context this one was encoded against.
    fn context(&self, before: &Self::Context) -> Self::Context;
    /// Writes the record's encoding relative to `prev`, the context of the record before it
    /// (whose time is not after it).
    fn encode(&self, prev: &Self::Context, out: &mut RecordBytes);
    /// Decodes a record encoded relative to `prev`, advancing `pos`.
    fn decode(prev: &Self::Context, bytes: &[u8], pos: &mut usize) -> Self;
}

#[derive(Debug, Clone, Copy)]
struct Checkpoint<C> {
    /// The context of the record before the chunk, default for the first chunk.
    prev: C,
    /// The time of the chunk's first record.
    time: i64,
    /// Byte offset of the chunk's first record.
    offset: u32,
}

/// A compressed sequence of records in time order.
#[derive(Debug, Clone)]
pub struct Lane<R: Record> {
    bytes: Vec<u8>,
    checkpoints: Vec<Checkpoint<R::Context>>,
    len: u32,
    last: R,
    /// The context the next record is encoded against.
    last_context: R::Context,
    /// The context `last` is encoded against.
    before_last: R::Context,
    /// Byte offset where `last` starts.
    last_offset: u32,
}

impl<R: Record> Default for Lane<R> {
    fn default() -> Self {
        Self {
            bytes: Vec::new(),
            checkpoints: Vec::new(),
            len: 0,
            last: R::default(),
            last_context: R::Context::default(),
            before_last: R::Context::default(),
            last_offset: 0,
        }
    }
}

impl<R: Record> Lane<R> {
    /// Appends a record. Its time must not be before the last record's.
    #[inline]
    pub fn push(&mut self, r: R) {
        debug_assert!(self.len == 0 || r.time() >= self.last.time());
        let prev = self.last_context;
        if (self.len as usize).is_multiple_of(CHUNK) {
            self.checkpoints.push(Checkpoint {
                prev,
                time: r.time(),
                offset: self.bytes.len() as u32,
            });
        }
        self.last_offset = self.bytes.len() as u32;
        let mut enc = RecordBytes::new();
        r.encode(&prev, &mut enc);
        enc.append_to(&mut self.bytes);
        self.before_last = prev;
        self.last_context = r.context(&prev);
        self.last = r;
        self.len += 1;
    }

    /// Replaces the last record (same time or later than the one before it).
    pub fn replace_last(&mut self, r: R) {
        if self.len == 0 {
            self.push(r);
            return;
        }
        let i = self.len as usize - 1;
        if i.is_multiple_of(CHUNK) {
            self.checkpoints[i / CHUNK].time = r.time();
        }
        self.bytes.truncate(self.last_offset as usize);
        let mut enc = RecordBytes::new();
        r.encode(&self.before_last, &mut enc);
        enc.append_to(&mut self.bytes);
        self.last_context = r.context(&self.before_last);
        self.last = r;
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The last record.
    pub fn last(&self) -> Option<R> {
        (self.len > 0).then_some(self.last)
    }

    /// Bytes used by the encoded records and checkpoints.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.checkpoints.capacity() * size_of::<Checkpoint<R::Context>>()
    }

    /// Releases unused capacity.
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.checkpoints.shrink_to_fit();
    }

    /// Every record, in order.
    pub fn iter(&self) -> LaneIter<'_, R> {
        self.iter_from(0)
    }

    /// The records from index `i` on.
    pub fn iter_from(&self, i: usize) -> LaneIter<'_, R> {
        let i = i.min(self.len as usize);
        let mut it = LaneIter {
            lane: self,
            pos: 0,
            prev: R::Context::default(),
            index: 0,
        };
        if i < self.len as usize {
            let cp = &self.checkpoints[i / CHUNK];
            it.pos = cp.offset as usize;
            it.prev = cp.prev;
            it.index = (i / CHUNK) * CHUNK;
            while it.index < i {
                it.next();
            }
        } else {
            it.index = self.len as usize;
        }
        it
    }

    /// The record at index `i`.
    pub fn get(&self, i: usize) -> Option<R> {
        self.iter_from(i).next()
    }

    /// The index of the last record whose time is at or before `t` (the span containing
    /// `t`), or `None` if every record is after `t`.
    pub fn index_at(&self, t: i64) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let c = self.checkpoints.partition_point(|cp| cp.time <= t);
        if c == 0 {
            return None;
        }
        let base = (c - 1) * CHUNK;
        let mut last = base;
        for (k, r) in self.iter_from(base).enumerate().take(CHUNK) {
            if r.time() > t {
                break;
            }
            last = base + k;
        }
        Some(last)
    }

    /// The records of the spans overlapping `[from, to)`: the span containing `from` (if
    /// any) and every record that starts before `to`.
    pub fn iter_range(&self, from: i64, to: i64) -> impl Iterator<Item = R> + '_ {
        let start = self.index_at(from).unwrap_or(0);
        self.iter_from(start).take_while(move |r| r.time() < to)
    }
}

/// An iterator over a lane's records.
#[derive(Debug, Clone)]
pub struct LaneIter<'a, R: Record> {
    lane: &'a Lane<R>,
    pos: usize,
    prev: R::Context,
    index: usize,
}

impl<R: Record> Iterator for LaneIter<'_, R> {
    type Item = R;

    // Always inlined, like the decodings: out of line, each record came back through
    // memory, and reading it back waited on those stores.
    #[inline(always)]
    fn next(&mut self) -> Option<R> {
        if self.index >= self.lane.len as usize {
            return None;
        }
        let r = R::decode(&self.prev, &self.lane.bytes, &mut self.pos);
        self.prev = r.context(&self.prev);
        self.index += 1;
        Some(r)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.lane.len as usize - self.index;
        (n, Some(n))
    }
}

impl<R: Record> ExactSizeIterator for LaneIter<'_, R> {}

/// One record's encoding, assembled in registers and appended to its lane in one copy
/// (appending byte by byte, each with its own capacity check, cost a tenth of the timeline
/// build). The first sixteen bytes, all of most records, are kept in an integer: written
/// byte by byte into memory and read back whole, they made the read wait for the writes.
#[derive(Debug)]
pub struct RecordBytes {
    /// The first [`RecordBytes::SHORT`] bytes, the first in the lowest byte.
    short: u128,
    /// Every byte, for longer records.
    bytes: [u8; RecordBytes::CAPACITY],
    len: usize,
}

impl RecordBytes {
    /// The most bytes a record may take. The longest encodings: a goroutine span, a head
    /// byte and seven uvarints, at most 56 bytes; the counts, six uvarints, at most 60.
    pub const CAPACITY: usize = 64;

    /// Bytes kept in `short`, and copied at once when appending a short record.
    const SHORT: usize = 16;

    fn new() -> Self {
        Self {
            short: 0,
            bytes: [0; Self::CAPACITY],
            len: 0,
        }
    }

    /// Appends one byte.
    #[inline(always)]
    pub fn byte(&mut self, b: u8) {
        if self.len < Self::SHORT {
            self.short |= u128::from(b) << (8 * self.len);
        }
        // The mask keeps the index in bounds without a check; a record never comes near it.
        self.bytes[self.len & (Self::CAPACITY - 1)] = b;
        self.len += 1;
    }

    /// Appends `v` as a uvarint.
    #[inline(always)]
    pub fn put(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.byte(v as u8 | 0x80);
            v >>= 7;
        }
        self.byte(v as u8);
    }

    /// Appends `v` zigzag-encoded as a uvarint.
    #[inline(always)]
    pub fn put_i(&mut self, v: i64) {
        self.put(enc::zigzag(v));
    }

    #[inline(always)]
    fn append_to(&self, out: &mut Vec<u8>) {
        debug_assert!(self.len <= Self::CAPACITY);
        if self.len <= Self::SHORT {
            // A fixed-size copy (two moves) and a shorter length, instead of a variable one.
            let end = out.len() + self.len;
            out.extend_from_slice(&self.short.to_le_bytes());
            out.truncate(end);
        } else {
            out.extend_from_slice(&self.bytes[..self.len.min(Self::CAPACITY)]);
        }
    }
}

/// Varint helpers for record decodings.
pub(crate) mod enc {
    use super::uvarint;

    #[inline]
    pub(crate) fn get(bytes: &[u8], pos: &mut usize) -> u64 {
        // Lanes decode only what they encoded themselves. (`read_at` keeps a one-byte value,
        // the most common, to a compare and an add, with no slice of the rest to make.)
        uvarint::read_at(bytes, pos).unwrap_or(0)
    }

    #[inline]
    pub(crate) fn zigzag(v: i64) -> u64 {
        ((v << 1) ^ (v >> 63)) as u64
    }

    #[inline]
    pub(crate) fn unzigzag(v: u64) -> i64 {
        ((v >> 1) as i64) ^ -((v & 1) as i64)
    }

    #[inline]
    pub(crate) fn get_i(bytes: &[u8], pos: &mut usize) -> i64 {
        unzigzag(get(bytes, pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, Default, PartialEq)]
    struct Pt {
        t: i64,
        v: i64,
    }

    impl Record for Pt {
        type Context = Self;
        fn time(&self) -> i64 {
            self.t
        }
        fn context(&self, _: &Self) -> Self {
            *self
        }
        fn encode(&self, prev: &Self, out: &mut RecordBytes) {
            out.put((self.t - prev.t) as u64);
            out.put_i(self.v - prev.v);
        }
        fn decode(prev: &Self, bytes: &[u8], pos: &mut usize) -> Self {
            let t = prev.t + enc::get(bytes, pos) as i64;
            let v = prev.v + enc::get_i(bytes, pos);
            Self { t, v }
        }
    }

    fn lane(n: i64) -> Lane<Pt> {
        let mut l = Lane::default();
        for i in 0..n {
            l.push(Pt {
                t: 1000 + i * 10,
                v: (i * 7919) % 101 - 50,
            });
        }
        l
    }

    #[test]
    fn round_trips_across_chunks() {
        let l = lane(1000);
        let all: Vec<Pt> = l.iter().collect();
        assert_eq!(all.len(), 1000);
        for (i, p) in all.iter().enumerate() {
            assert_eq!(p.t, 1000 + i as i64 * 10);
            assert_eq!(l.get(i), Some(*p));
        }
        assert_eq!(l.get(1000), None);
        assert!(l.heap_bytes() < 1000 * 8);
    }

    #[test]
    fn finds_spans_by_time() {
        let l = lane(300);
        assert_eq!(l.index_at(999), None);
        assert_eq!(l.index_at(1000), Some(0));
        assert_eq!(l.index_at(1009), Some(0));
        assert_eq!(l.index_at(1010), Some(1));
        assert_eq!(l.index_at(1000 + 64 * 10), Some(64));
        assert_eq!(l.index_at(1_000_000), Some(299));
        let r: Vec<i64> = l.iter_range(1015, 1040).map(|p| p.t).collect();
        assert_eq!(r, [1010, 1020, 1030]);
    }

    #[test]
    fn replaces_the_last_record() {
        let mut l = lane(65);
        l.replace_last(Pt { t: 5000, v: 3 });
        assert_eq!(l.get(64), Some(Pt { t: 5000, v: 3 }));
        assert_eq!(l.index_at(5000), Some(64));
        let mut l = lane(3);
        l.replace_last(Pt { t: 1020, v: -9 });
        l.push(Pt { t: 1030, v: 1 });
        assert_eq!(l.iter().map(|p| p.v).collect::<Vec<_>>(), [-50, -9, -9, 1]);
    }
}
