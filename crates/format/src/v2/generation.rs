//! Decoding the structural part of one generation: its string and stack tables, its
//! frequency and clock snapshot, its CPU samples, and its event batches grouped by thread.
//!
//! Table layouts (each table batch starts with its header byte):
//!
//! | batch        | records                                                              |
//! |--------------|----------------------------------------------------------------------|
//! | `Strings`(4) | `String`(5) id, len (≤ 1024), bytes                                  |
//! | `Stacks`(2)  | `Stack`(3) id, nframes (≤ 128), nframes × (pc, func string, file string, line) |
//! | `CPUSamples`(6) | `CPUSample`(7) time (absolute ticks), m, p, g (0 = none), stack   |
//! | sync         | < 1.25: `Frequency`(8) freq. ≥ 1.25: `Sync`(50), then `Frequency` and `ClockSnapshot`(51) dt, mono, sec, nsec |
//!
//! Events are not decoded here; see [`crate::v2::EventCursor`].

use std::collections::HashMap;

use crate::error::{Error, ErrorKind, Result};
use crate::parse::{self, PResult};
use crate::v2::batch::{Batch, BatchKind};
use crate::v2::index::GenerationSpan;
use crate::v2::spec::{EventType, MAX_FRAMES_PER_STACK, MAX_STRING_SIZE};
use crate::v2::table::IdTable;
use crate::version::Version;

/// One stack frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Frame {
    /// The program counter.
    pub pc: u64,
    /// String ID of the function name.
    pub func: u64,
    /// String ID of the file name.
    pub file: u64,
    /// The line number.
    pub line: u64,
}

/// The string table of a generation. Strings are bytes, not necessarily UTF-8.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StringTable<'a> {
    table: IdTable<&'a [u8]>,
}

impl<'a> StringTable<'a> {
    /// A table from `(id, string)` entries (for traces converted from other formats).
    /// Returns the index of the first entry whose ID is 0 or already taken.
    pub fn from_entries(entries: Vec<(u64, &'a [u8])>) -> Result<Self, usize> {
        Ok(Self {
            table: IdTable::build(entries)?,
        })
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

    /// The number of strings.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

/// The stack table of a generation. Frames are shared by PC: the first frame seen for a PC
/// wins, as in Go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackTable {
    stacks: IdTable<(u32, u32)>,
    frame_refs: Vec<u32>,
    frames: Vec<Frame>,
}

impl StackTable {
    /// A table from `(id, frames)` entries, frames innermost first (for traces converted
    /// from other formats). Frames are shared by PC, the first seen winning. Returns the
    /// index of the first entry whose ID is 0 or already taken.
    pub fn from_stacks<I, F>(stacks: I) -> Result<Self, usize>
    where
        I: IntoIterator<Item = (u64, F)>,
        F: IntoIterator<Item = Frame>,
    {
        let mut frames: Vec<Frame> = Vec::new();
        let mut by_pc: HashMap<u64, u32> = HashMap::new();
        let mut refs = Vec::new();
        let mut entries = Vec::new();
        for (id, stack) in stacks {
            let first = refs.len() as u32;
            for f in stack {
                let next = frames.len() as u32;
                let i = *by_pc.entry(f.pc).or_insert(next);
                if i == next {
                    frames.push(f);
                }
                refs.push(i);
            }
            entries.push((id, (first, refs.len() as u32 - first)));
        }
        Ok(Self {
            stacks: IdTable::build(entries)?,
            frame_refs: refs,
            frames,
        })
    }

    /// The frames of the stack with `id`, innermost first; ID 0 is the empty stack.
    #[inline]
    pub fn get(&self, id: u64) -> Option<impl ExactSizeIterator<Item = &Frame> + Clone + '_> {
        let (start, len) = if id == 0 {
            (0, 0)
        } else {
            self.stacks.get(id)?
        };
        let refs = &self.frame_refs[start as usize..(start + len) as usize];
        Some(refs.iter().map(|&i| &self.frames[i as usize]))
    }

    /// Whether `id` is 0 or a stack of this table.
    #[inline]
    pub fn is_valid_ref(&self, id: u64) -> bool {
        self.stacks.is_valid_ref(id)
    }

    /// The IDs of every stack in ID order.
    pub fn ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.stacks.iter().map(|(id, _)| id)
    }

    /// Every distinct frame (one per PC).
    pub fn frames(&self) -> &[Frame] {
        &self.frames
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

/// A snapshot of the trace, monotonic and wall clocks taken at one instant (Go 1.25+).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockSnapshot {
    /// The trace clock, in ticks (the sync batch's time plus the record's delta).
    pub ticks: u64,
    /// The runtime's monotonic clock, in nanoseconds.
    pub mono: u64,
    /// Wall-clock seconds since the Unix epoch.
    pub sec: u64,
    /// Wall-clock nanoseconds within the second.
    pub nsec: u64,
}

/// A CPU profile sample, as written (time in absolute ticks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuSample {
    /// Absolute time in ticks.
    pub time: u64,
    /// The thread ID.
    pub m: u64,
    /// The P, or `u64::MAX` for none.
    pub p: u64,
    /// The goroutine, or 0 for none.
    pub g: u64,
    /// Stack ID.
    pub stack: u64,
    /// Byte offset of the record.
    pub offset: u64,
}

/// The event batches of one thread, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadBatches<'a> {
    /// The thread ID as written (`u64::MAX` for none).
    pub m: u64,
    /// Its batches in file order.
    pub batches: Vec<Batch<'a>>,
}

/// The decoded structure of one generation.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation<'a> {
    /// The generation number.
    pub generation: u64,
    /// The trace's format version.
    pub version: Version,
    /// Ticks per second.
    pub freq: u64,
    /// The clock snapshot (Go 1.25+).
    pub clock: Option<ClockSnapshot>,
    /// The string table.
    pub strings: StringTable<'a>,
    /// The stack table.
    pub stacks: StackTable,
    /// CPU samples in file order (not yet sorted by time).
    pub cpu_samples: Vec<CpuSample>,
    /// Event batches per thread, threads in order of first appearance.
    pub threads: Vec<ThreadBatches<'a>>,
    /// Experimental batches in file order.
    pub experimental: Vec<Batch<'a>>,
    /// The smallest batch time of the generation, computed as Go does (a zero time counts
    /// as "unset").
    pub min_ts: u64,
    /// Byte offset of the generation's first record.
    pub start: u64,
    /// Byte offset just past the generation.
    pub end: u64,
}

impl Generation<'_> {
    /// Nanoseconds per tick, as Go computes it (`1 / (freq / 1e9)` in f64).
    pub fn ns_per_tick(&self) -> f64 {
        1.0 / (self.freq as f64 / 1e9)
    }

    /// The number of event batches.
    pub fn event_batch_count(&self) -> usize {
        self.threads.iter().map(|t| t.batches.len()).sum()
    }
}

#[derive(Default)]
struct Builder<'a> {
    strings: Vec<(u64, &'a [u8])>,
    string_offsets: Vec<u64>,
    stacks: Vec<(u64, (u32, u32))>,
    stack_offsets: Vec<u64>,
    frame_refs: Vec<u32>,
    frames: Vec<Frame>,
    frame_by_pc: HashMap<u64, u32>,
    freq: Option<u64>,
    clock: Option<ClockSnapshot>,
    cpu_samples: Vec<CpuSample>,
}

/// Decodes the tables of the generation `span` of the trace `data`.
pub fn decode<'a>(
    data: &'a [u8],
    version: Version,
    span: &GenerationSpan<'a>,
) -> Result<Generation<'a>> {
    let mut b = Builder::default();
    let mut threads: Vec<ThreadBatches<'a>> = Vec::new();
    let mut thread_index: HashMap<u64, usize> = HashMap::new();
    let mut experimental = Vec::new();
    let mut min_ts = 0u64;
    for batch in &span.batches {
        if min_ts == 0 || batch.time < min_ts {
            min_ts = batch.time;
        }
        let result = match batch.kind(version) {
            BatchKind::Strings => b.strings_batch(data, batch.body),
            BatchKind::Stacks => b.stacks_batch(data, batch.body),
            BatchKind::CpuSamples => b.cpu_samples_batch(data, batch.body),
            BatchKind::Sync => b.sync_batch(batch, version),
            BatchKind::Experimental(_) => {
                experimental.push(*batch);
                Ok((&[][..], ()))
            }
            BatchKind::Events => {
                let i = *thread_index.entry(batch.m).or_insert_with(|| {
                    threads.push(ThreadBatches {
                        m: batch.m,
                        batches: Vec::new(),
                    });
                    threads.len() - 1
                });
                threads[i].batches.push(*batch);
                Ok((&[][..], ()))
            }
        };
        if let Err(e) = result {
            let e = parse::to_error(data, e);
            return Err(e.in_generation(span.generation).in_batch(batch.offset));
        }
    }
    let at_end = |kind| Error::new(kind, span.end).in_generation(span.generation);
    let freq = b.freq.ok_or_else(|| at_end(ErrorKind::MissingFrequency))?;
    if version >= Version::GO125 && b.clock.is_none() {
        return Err(at_end(ErrorKind::MissingClockSnapshot));
    }
    let string_ids: Vec<u64> = b.strings.iter().map(|s| s.0).collect();
    let strings = IdTable::build(b.strings).map_err(|i| {
        Error::new(
            ErrorKind::DuplicateString(string_ids[i]),
            b.string_offsets[i],
        )
        .in_generation(span.generation)
    })?;
    let strings = StringTable { table: strings };
    let stack_ids: Vec<u64> = b.stacks.iter().map(|s| s.0).collect();
    let stacks = IdTable::build(b.stacks).map_err(|i| {
        Error::new(ErrorKind::DuplicateStack(stack_ids[i]), b.stack_offsets[i])
            .in_generation(span.generation)
    })?;
    let stacks = StackTable {
        stacks,
        frame_refs: b.frame_refs,
        frames: b.frames,
    };
    validate_stack_strings(&stacks, &strings).map_err(at_end)?;
    Ok(Generation {
        generation: span.generation,
        version,
        freq,
        clock: b.clock,
        strings,
        stacks,
        cpu_samples: b.cpu_samples,
        threads,
        experimental,
        min_ts,
        start: span.start,
        end: span.end,
    })
}

fn validate_stack_strings(stacks: &StackTable, strings: &StringTable<'_>) -> Result<(), ErrorKind> {
    for id in stacks.ids() {
        for f in stacks.get(id).into_iter().flatten() {
            if strings.get(f.func).is_none() {
                return Err(ErrorKind::InvalidFuncString {
                    string: f.func,
                    stack: id,
                });
            }
            if strings.get(f.file).is_none() {
                return Err(ErrorKind::InvalidFileString {
                    string: f.file,
                    stack: id,
                });
            }
        }
    }
    Ok(())
}

fn expect_record<'a>(input: &'a [u8], ty: EventType, name: &'static str) -> PResult<'a, ()> {
    let (rest, found) = parse::byte(name)(input)?;
    if found != ty.0 {
        return parse::fail(
            input,
            ErrorKind::UnexpectedRecord {
                expected: name,
                found,
            },
        );
    }
    Ok((rest, ()))
}

impl<'a> Builder<'a> {
    fn strings_batch(&mut self, data: &'a [u8], body: &'a [u8]) -> PResult<'a, ()> {
        let (mut input, _) = expect_record(body, EventType::STRINGS, "strings batch header")?;
        while !input.is_empty() {
            let start = input;
            let (rest, _) = expect_record(input, EventType::STRING, "string")?;
            let (rest, id) = parse::uvarint("string ID")(rest)?;
            let (rest, len) = parse::uvarint("string length")(rest)?;
            if len > MAX_STRING_SIZE {
                return parse::fail(
                    rest,
                    ErrorKind::InvalidStringSize {
                        size: len,
                        max: MAX_STRING_SIZE,
                    },
                );
            }
            let (rest, s) = parse::bytes(len, "string data")(rest)?;
            self.strings.push((id, s));
            self.string_offsets.push(parse::offset_of(data, start));
            input = rest;
        }
        Ok((input, ()))
    }

    fn stacks_batch(&mut self, data: &'a [u8], body: &'a [u8]) -> PResult<'a, ()> {
        let (mut input, _) = expect_record(body, EventType::STACKS, "stacks batch header")?;
        while !input.is_empty() {
            let start = input;
            let (rest, _) = expect_record(input, EventType::STACK, "stack")?;
            let (rest, id) = parse::uvarint("stack ID")(rest)?;
            let (mut rest, nframes) = parse::uvarint("stack frame count")(rest)?;
            if nframes > MAX_FRAMES_PER_STACK {
                return parse::fail(
                    rest,
                    ErrorKind::InvalidStackSize {
                        size: nframes,
                        max: MAX_FRAMES_PER_STACK,
                    },
                );
            }
            let first = self.frame_refs.len() as u32;
            for _ in 0..nframes {
                let (r, pc) = parse::uvarint("frame PC")(rest)?;
                let (r, func) = parse::uvarint("frame function")(r)?;
                let (r, file) = parse::uvarint("frame file")(r)?;
                let (r, line) = parse::uvarint("frame line")(r)?;
                rest = r;
                let next = self.frames.len() as u32;
                let index = *self.frame_by_pc.entry(pc).or_insert(next);
                if index == next {
                    self.frames.push(Frame {
                        pc,
                        func,
                        file,
                        line,
                    });
                }
                self.frame_refs.push(index);
            }
            self.stacks.push((id, (first, nframes as u32)));
            self.stack_offsets.push(parse::offset_of(data, start));
            input = rest;
        }
        Ok((input, ()))
    }

    fn cpu_samples_batch(&mut self, data: &'a [u8], body: &'a [u8]) -> PResult<'a, ()> {
        let (mut input, _) =
            expect_record(body, EventType::CPU_SAMPLES, "CPU samples batch header")?;
        while !input.is_empty() {
            let offset = parse::offset_of(data, input);
            let (rest, _) = expect_record(input, EventType::CPU_SAMPLE, "CPU sample")?;
            let (rest, time) = parse::uvarint("sample time")(rest)?;
            let (rest, m) = parse::uvarint("sample M")(rest)?;
            let (rest, p) = parse::uvarint("sample P")(rest)?;
            let (rest, g) = parse::uvarint("sample G")(rest)?;
            let (rest, stack) = parse::uvarint("sample stack")(rest)?;
            self.cpu_samples.push(CpuSample {
                time,
                m,
                p,
                g,
                stack,
                offset,
            });
            input = rest;
        }
        Ok((input, ()))
    }

    fn sync_batch(&mut self, batch: &Batch<'a>, version: Version) -> PResult<'a, ()> {
        let mut input = batch.body;
        if version >= Version::GO125 {
            (input, _) = expect_record(input, EventType::SYNC, "sync batch header")?;
        }
        let mut last = batch.time;
        while !input.is_empty() {
            let (rest, ty) = parse::byte("sync record")(input)?;
            match EventType(ty) {
                EventType::FREQUENCY => {
                    if self.freq.is_some() {
                        return parse::fail(input, ErrorKind::MultipleFrequencies);
                    }
                    let (rest, f) = parse::uvarint("frequency")(rest)?;
                    self.freq = Some(f);
                    input = rest;
                }
                EventType::CLOCK_SNAPSHOT if version >= Version::GO125 => {
                    if self.clock.is_some() {
                        return parse::fail(input, ErrorKind::MultipleClockSnapshots);
                    }
                    let (rest, dt) = parse::uvarint("clock snapshot delta")(rest)?;
                    let (rest, mono) = parse::uvarint("clock snapshot mono")(rest)?;
                    let (rest, sec) = parse::uvarint("clock snapshot seconds")(rest)?;
                    let (rest, nsec) = parse::uvarint("clock snapshot nanoseconds")(rest)?;
                    last = last.wrapping_add(dt);
                    self.clock = Some(ClockSnapshot {
                        ticks: last,
                        mono,
                        sec,
                        nsec,
                    });
                    input = rest;
                }
                _ => return parse::fail(input, ErrorKind::UnexpectedSyncRecord(ty)),
            }
        }
        Ok((input, ()))
    }
}
