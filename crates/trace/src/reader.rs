//! The v2 reader: generations in order, the per-thread batches of each merged into one event
//! stream, exactly as Go's `internal/trace.Reader` does it.
//!
//! Per generation: a Sync event at the generation's smallest batch time; then, repeatedly,
//! the CPU sample that comes strictly first, or the event of the thread whose next event is
//! earliest if the ordering says it is ready, else the earliest ready event of the other
//! threads (in time order). Every event is checked for valid table references and given a
//! time strictly after the previous event's (+1 ns if needed). The trace ends with a Sync;
//! an error that ends a trace early comes after one.
//!
//! How it is fast: each generation's events are first decoded per thread into plain arrays
//! ([`PreEvent`]: times in ns, table references already checked, a decoding error kept as
//! the end of its thread's events), which [`parallel`] can do on another core while
//! the previous generation is ordered. The ordering loop then only picks, dispatches and
//! appends, a few hundred events at a time, into a buffer that [`Reader::next_event`] hands
//! out. With three generations or more, [`ahead`] orders whole generations on rayon's pool
//! while the reader hands out the ones before, each from a predicted starting state that is
//! checked when the generation's turn comes (a failed prediction means ordering it again
//! here). None of this changes what comes out, or when an error comes.

use std::collections::VecDeque;

use goroscope_format::v2::{
    self, EventCursor, EventType, Generation, GenerationSpan, Index, StackTable, StringTable,
    ThreadBatches,
};
use goroscope_format::{Version, read_header};

use crate::error::{Error, Result};
use crate::event::{Ctx, Event, GenTables, NO_ARG, NO_GOROUTINE, SYNC, TABLE_ARGS, Tables, Time};
use crate::order::{Ordering, StringLookup};

// The pipeline lives in its own file, a child of this module (it is the reader's).
#[path = "parallel.rs"]
mod parallel;
use parallel::{Decoder, Pipeline};
#[path = "ahead.rs"]
mod ahead;
use ahead::{Ahead, Next};

impl StringLookup for StringTable<'_> {
    fn lookup(&self, id: u64) -> Option<&[u8]> {
        self.get(id)
    }
}

/// Events the reader orders ahead of its caller, per refill of its buffer.
const CHUNK: usize = 1024;

/// Traces smaller than this are read without the pipeline: the work is too little to share.
const PIPELINE_MIN_BYTES: usize = 1 << 20;

/// One event of a thread, decoded ahead of ordering.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PreEvent {
    /// The time in ns (Go's per-batch accumulation of converted deltas).
    pub(crate) time: Time,
    /// The arguments after the time delta.
    pub(crate) args: [u64; 4],
    /// The event type.
    pub(crate) ty: EventType,
    /// It names a stack or string that its generation's tables lack.
    pub(crate) bad_ids: bool,
    /// Offset of the event within its batch's body.
    pub(crate) pos: u32,
}

/// The events of one batch, decoded ahead of ordering.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BatchEvents {
    pub(crate) events: Vec<PreEvent>,
    /// The decoding error after the last of `events`, which ends the thread's events.
    pub(crate) error: Option<v2::EventError>,
}

/// The stack and string IDs a generation's tables hold (0 always counts), owned, so that
/// events can be checked away from the tables.
#[derive(Debug, Clone, Default)]
pub(crate) struct TableIds {
    stacks: IdSet,
    strings: IdSet,
}

impl TableIds {
    pub(crate) fn new(stacks: &StackTable, strings: &StringTable<'_>) -> Self {
        Self {
            stacks: IdSet::new(stacks.ids()),
            strings: IdSet::new(strings.iter().map(|(id, _)| id)),
        }
    }

    /// Whether every stack and string that an event of type `ty` names exists (Go's
    /// `validateTableIDs`).
    #[inline(always)]
    fn check(&self, ty: EventType, args: &[u64; 4]) -> bool {
        let [st0, st1, s0, s1] = TABLE_ARGS[usize::from(ty.0)];
        let stack = |i: u8| i == NO_ARG || self.stacks.contains(args[usize::from(i) & 3]);
        let string = |i: u8| i == NO_ARG || self.strings.contains(args[usize::from(i) & 3]);
        stack(st0) && stack(st1) && string(s0) && string(s1)
    }
}

/// A set of IDs: a bitmap when they are dense, else a sorted list. 0 is always in.
#[derive(Debug, Clone, Default)]
struct IdSet {
    bits: Vec<u64>,
    sorted: Vec<u64>,
}

impl IdSet {
    fn new(ids: impl Iterator<Item = u64>) -> Self {
        let mut sorted: Vec<u64> = ids.collect();
        let max = sorted.iter().copied().max().unwrap_or(0);
        if max <= 2 * sorted.len() as u64 + 64 {
            let mut bits = vec![0u64; max as usize / 64 + 1];
            for id in sorted {
                bits[id as usize / 64] |= 1 << (id % 64);
            }
            bits[0] |= 1;
            Self {
                bits,
                sorted: Vec::new(),
            }
        } else {
            sorted.push(0);
            sorted.sort_unstable();
            Self {
                bits: Vec::new(),
                sorted,
            }
        }
    }

    #[inline]
    fn contains(&self, id: u64) -> bool {
        if self.sorted.is_empty() {
            let word = usize::try_from(id / 64).unwrap_or(usize::MAX);
            self.bits
                .get(word)
                .is_some_and(|w| w & (1 << (id % 64)) != 0)
        } else {
            self.sorted.binary_search(&id).is_ok()
        }
    }
}

/// For each event type: whether it names stacks or strings that must be checked.
static HAS_TABLE_IDS: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < v2::spec::SPECS.len() {
        let s = &v2::spec::SPECS[i];
        t[i] = !s.stack_ids.is_empty() || !s.string_ids.is_empty();
        i += 1;
    }
    t
};

/// Converts a time delta to ns exactly as [`GenTables::ticks_to_ns`] does, faster for the
/// common case: a delta below 2^32 ticks with a rate below 2^30 ns per tick gives under
/// 2^62 ns, inside the range that conversion checks, so the check can be skipped.
#[inline(always)]
fn delta_to_ns(g: &GenTables<'_>, dt: u64, small_rate: bool) -> Time {
    if small_rate && dt < 1 << 32 {
        (dt as i64 as f64 * g.ns_per_tick) as Time
    } else {
        // Out of line: otherwise the compiler merges both ways into the slow one.
        delta_to_ns_checked(g, dt)
    }
}

#[cold]
#[inline(never)]
fn delta_to_ns_checked(g: &GenTables<'_>, dt: u64) -> Time {
    g.ticks_to_ns(dt)
}

/// Decodes the events of one batch: its body and base time (in ticks). Times follow Go's
/// batch cursor: the batch starts from its base time, a time of 0 counts as unset (the next
/// event starts from the base again), and each delta is converted on its own.
pub(crate) fn predecode_batch(
    body: &[u8],
    time: u64,
    g: &GenTables<'_>,
    ids: &TableIds,
) -> BatchEvents {
    // Events take five bytes or so (at least two): this rarely grows, and the spare room is
    // given back at the end (in place).
    let mut events = Vec::with_capacity(body.len() / 4 + 16);
    let error = predecode_batch_into(body, time, g, ids, &mut events);
    events.shrink_to_fit();
    BatchEvents { events, error }
}

/// Like [`predecode_batch`], into `events` (emptied first, its room reused); returns the
/// decoding error after the last event, if any.
fn predecode_batch_into(
    body: &[u8],
    time: u64,
    g: &GenTables<'_>,
    ids: &TableIds,
    events: &mut Vec<PreEvent>,
) -> Option<v2::EventError> {
    let small_rate = (0.0..(1u64 << 30) as f64).contains(&g.ns_per_tick);
    events.clear();
    events.reserve(body.len() / 4 + 16);
    let mut error = None;
    let base = g.ticks_to_ns(time);
    let mut last_ts: Time = 0;
    let mut cursor = EventCursor::new(body);
    let decoded = cursor.for_each_event(
        #[inline(always)]
        |pos, raw| {
            if last_ts == 0 {
                last_ts = base;
            }
            let time = delta_to_ns(g, raw.dt, small_rate).wrapping_add(last_ts);
            last_ts = time;
            let bad_ids = HAS_TABLE_IDS[usize::from(raw.ty.0)] && !ids.check(raw.ty, &raw.args);
            events.push(PreEvent {
                time,
                args: raw.args,
                ty: raw.ty,
                bad_ids,
                pos: pos as u32,
            });
        },
    );
    if let Err(e) = decoded {
        error = Some(e);
    }
    error
}

/// The cursor over one thread's events, a batch at a time.
#[derive(Debug, Clone)]
struct Cursor {
    m: i64,
    /// The index of the thread's ordering state, once known.
    m_slot: u32,
    thread: u32,
    /// The batch being read.
    batch: u32,
    /// The events of that batch, and the index of the next one.
    events: Vec<PreEvent>,
    next: usize,
    /// The decoding error after `events`, which ends the thread's events.
    error: Option<v2::EventError>,
}

impl Cursor {
    /// Loads batch `b` of the cursor's thread.
    fn load(&mut self, src: &BatchSource<'_, '_>, b: usize) {
        self.batch = b as u32;
        self.next = 0;
        match src.queued {
            Some((decoder, slots)) => {
                let be = decoder.take(slots[self.thread as usize][b]);
                self.events = be.events;
                self.error = be.error;
            }
            None => {
                // Decoded here, into the room of the batch before.
                let batch = &src.threads[self.thread as usize].batches[b];
                self.error =
                    predecode_batch_into(batch.body, batch.time, src.gt, src.ids, &mut self.events);
            }
        }
    }

    /// Moves to the thread's next batch that has events; `false` at the end of its events
    /// (or at its decoding error).
    #[cold]
    fn next_batch(&mut self, src: &BatchSource<'_, '_>) -> bool {
        let n = src.threads[self.thread as usize].batches.len();
        while self.error.is_none() && (self.batch as usize) + 1 < n {
            self.load(src, self.batch as usize + 1);
            if !self.events.is_empty() {
                return true;
            }
        }
        false
    }
}

/// Where a generation's decoded batches come from: the pipeline's queue, or decoding on the
/// spot.
struct BatchSource<'c, 'a> {
    threads: &'c [ThreadBatches<'a>],
    gt: &'c GenTables<'a>,
    strings: &'c dyn StringLookup,
    ids: &'c TableIds,
    queued: Option<(&'c Decoder, &'c [Vec<u64>])>,
}

impl BatchSource<'_, '_> {
    /// Byte offset in the file of the next event of cursor `c`.
    fn offset(&self, c: &Cursor) -> u64 {
        let pos = c.events.get(c.next).map_or(0, |e| u64::from(e.pos));
        self.threads[c.thread as usize]
            .batches
            .get(c.batch as usize)
            .map_or(0, |b| b.body_offset + pos)
    }

    /// The error that ends cursor `c`'s events, as the reader reports it.
    fn decode_error(&self, c: &Cursor) -> Option<Error> {
        let e = c.error.as_ref()?;
        let batch = &self.threads[c.thread as usize].batches[c.batch as usize];
        Some(
            goroscope_format::Error::new(e.kind.clone(), batch.body_offset + e.pos as u64)
                .in_generation(batch.generation)
                .in_batch(batch.offset)
                .into(),
        )
    }
}

/// Go's min-heap of cursors keyed on their next event's time, with Go's exact tie rules.
/// It holds `(time, cursor index)` pairs, so that moving an entry moves 16 bytes.
mod heap {
    use crate::event::Time;

    pub(super) type Entry = (Time, u32);

    pub(super) fn insert(heap: &mut Vec<Entry>, e: Entry) {
        heap.push(e);
        let last = heap.len() - 1;
        sift_up(heap, last);
    }

    #[inline]
    pub(super) fn update(heap: &mut [Entry], i: usize) {
        if sift_up(heap, i) != i {
            return;
        }
        sift_down(heap, i);
    }

    pub(super) fn remove(heap: &mut Vec<Entry>, mut i: usize) {
        while i > 0 {
            heap.swap((i - 1) / 2, i);
            i = (i - 1) / 2;
        }
        let last = heap.len() - 1;
        heap.swap(0, last);
        heap.pop();
        sift_down(heap, 0);
    }

    #[inline]
    fn sift_up(heap: &mut [Entry], mut i: usize) -> usize {
        while i > 0 && heap[(i - 1) / 2].0 > heap[i].0 {
            heap.swap((i - 1) / 2, i);
            i = (i - 1) / 2;
        }
        i
    }

    #[inline]
    fn sift_down(heap: &mut [Entry], mut i: usize) {
        loop {
            let m = min3(heap, i, 2 * i + 1, 2 * i + 2);
            if m == i {
                break;
            }
            heap.swap(i, m);
            i = m;
        }
    }

    #[inline]
    fn min3(b: &[Entry], i0: usize, i1: usize, i2: usize) -> usize {
        let mut min_i = i0;
        let mut min_t = b.get(i0).map_or(Time::MAX, |e| e.0);
        if let Some(e) = b.get(i1)
            && e.0 < min_t
        {
            min_t = e.0;
            min_i = i1;
        }
        if let Some(e) = b.get(i2)
            && e.0 < min_t
        {
            min_i = i2;
        }
        min_i
    }
}

/// A CPU sample with its time converted.
#[derive(Debug, Clone, Copy)]
struct Sample {
    time: Time,
    ctx: Ctx,
    stack: u64,
}

/// A generation's CPU samples in time order, their ticks converted with `clock`'s rate.
fn samples_in_time_order(samples: &[v2::CpuSample], clock: &GenTables<'_>) -> Vec<Sample> {
    let mut out: Vec<Sample> = samples
        .iter()
        .map(|s| Sample {
            time: clock.ticks_to_ns(s.time),
            ctx: Ctx {
                m: s.m as i64,
                p: s.p as i64,
                g: if s.g == 0 { NO_GOROUTINE } else { s.g as i64 },
            },
            stack: s.stack,
        })
        .collect();
    out.sort_by_key(|s| s.time);
    out
}

/// The generation being ordered.
struct Current<'a> {
    generation: u64,
    table: u32,
    threads: Vec<ThreadBatches<'a>>,
    ids: TableIds,
    /// For each thread, the pipeline's queue slots of its batches (when pipelined).
    slots: Option<Vec<Vec<u64>>>,
    /// One cursor per thread with events (exhausted ones stay, out of the heap).
    cursors: Vec<Cursor>,
    /// The frontier: Go's heap of the cursors that have an event.
    heap: Vec<heap::Entry>,
    samples: Vec<Sample>,
    next_sample: usize,
}

impl Current<'_> {
    fn exhausted(&self) -> bool {
        self.heap.is_empty() && self.next_sample >= self.samples.len()
    }
}

/// Reads the ordered event stream of a v2 trace.
///
/// Events are ordered a thousand or so at a time into a buffer that [`Reader::next_event`]
/// hands out; what comes out, and when errors come, is exactly as if they were ordered one
/// by one (an error comes after every event before it, and ends the stream).
pub struct Reader<'a> {
    data: &'a [u8],
    version: Version,
    spans: std::vec::IntoIter<GenerationSpan<'a>>,
    index_error: Option<goroscope_format::Error>,
    /// The ordering state; its output buffer holds the events ordered ahead.
    order: Ordering,
    /// The next event of the buffer to hand out.
    out_pos: usize,
    tables: Tables<'a>,
    current: Option<Current<'a>>,
    /// Decodes generations ahead, on another thread, when enabled.
    pipeline: Option<Pipeline<'a>>,
    /// Orders generations ahead, on rayon's pool, when enabled.
    ahead: Option<Ahead<'a>>,
    /// The events of a generation ordered ahead, in parts, to hand out after the buffer.
    queued: VecDeque<Vec<Event>>,
    /// Generations ordered ahead and adopted, and ordered here after all.
    adopted: u32,
    redone: u32,
    syncs: u64,
    /// The table the last Sync names.
    last_sync_table: u32,
    last_ts: Time,
    pending: Option<Error>,
    /// The final Sync has been ordered.
    ended: bool,
    /// No more events will be ordered.
    finished: bool,
    /// The error to hand out once the buffer is empty.
    error: Option<Error>,
}

impl<'a> Reader<'a> {
    /// A reader over the whole v2 trace `data` (header included). Fails if the header is not
    /// a v2 trace header.
    ///
    /// For a trace of a megabyte or more, when rayon's pool has more than one thread, the
    /// pool works ahead of the reader: it orders generations ahead if there are three or more
    /// ([`Reader::parallel`]), else it decodes events ahead ([`Reader::pipelined`]). All
    /// return the same events and errors as [`Reader::sequential`].
    pub fn new(data: &'a [u8]) -> Result<Self> {
        let mut r = Self::sequential(data)?;
        if data.len() >= PIPELINE_MIN_BYTES && rayon::current_num_threads() > 1 {
            if r.spans.len() >= 3 {
                r.order_ahead();
            } else {
                r.decode_ahead();
            }
        }
        Ok(r)
    }

    /// A reader that decodes events on rayon's pool ahead of the ordering, which stays on
    /// the calling thread, whatever the trace's size.
    pub fn pipelined(data: &'a [u8]) -> Result<Self> {
        let mut r = Self::sequential(data)?;
        r.decode_ahead();
        Ok(r)
    }

    fn decode_ahead(&mut self) {
        self.pipeline = Some(Pipeline::new(self.data, self.version));
    }

    fn order_ahead(&mut self) {
        let first = self.spans.as_slice().first().map_or(0, |s| s.generation);
        self.ahead = Some(Ahead::new(self.data, self.version, first));
    }

    /// A reader that orders generations on rayon's pool ahead of the one it hands out,
    /// each on its own from a predicted starting state, and keeps each result only if the
    /// prediction holds (else it orders that generation again itself), whatever the trace's
    /// size. At most a generation per pool thread is ordered ahead.
    pub fn parallel(data: &'a [u8]) -> Result<Self> {
        let mut r = Self::sequential(data)?;
        r.order_ahead();
        Ok(r)
    }

    /// A reader that orders every generation ahead (on its own thread if the pool has not
    /// started it) and only stitches: what [`Reader::parallel`] does at most.
    #[cfg(test)]
    pub(crate) fn eager(data: &'a [u8]) -> Result<Self> {
        let mut r = Self::sequential(data)?;
        let first = r.spans.as_slice().first().map_or(0, |s| s.generation);
        r.ahead = Some(Ahead::eager(r.data, r.version, first));
        Ok(r)
    }

    /// A reader that does all its work on the calling thread. It returns the same events
    /// and errors as [`Reader::new`].
    pub fn sequential(data: &'a [u8]) -> Result<Self> {
        let (version, _) = read_header(data)?;
        let Index {
            generations, error, ..
        } = v2::index(data)?;
        Ok(Self {
            data,
            version,
            spans: generations.into_iter(),
            index_error: error,
            order: Ordering::default(),
            out_pos: 0,
            tables: Tables::default(),
            current: None,
            pipeline: None,
            ahead: None,
            queued: VecDeque::new(),
            adopted: 0,
            redone: 0,
            syncs: 0,
            last_sync_table: u32::MAX,
            last_ts: 0,
            pending: None,
            ended: false,
            finished: false,
            error: None,
        })
    }

    /// How many generations were ordered ahead and adopted, and how many were ordered
    /// again after all (a prediction failed), so far.
    #[cfg(test)]
    pub(crate) fn ahead_counts(&self) -> (u32, u32) {
        (self.adopted, self.redone)
    }

    /// The trace's format version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The tables of every generation read so far, for resolving strings and stacks of
    /// events (they may already include generations after the last event handed out).
    pub fn tables(&self) -> &Tables<'a> {
        &self.tables
    }

    /// Takes the tables out of the reader (after the last event).
    pub fn into_tables(self) -> Tables<'a> {
        self.tables
    }

    /// Reads the next event; `None` after the last one or after an error.
    #[inline]
    pub fn next_event(&mut self) -> Option<Result<Event>> {
        if let Some(&ev) = self.order.out.get(self.out_pos) {
            self.out_pos += 1;
            return Some(Ok(ev));
        }
        self.refill()
    }

    /// Appends the next events (at least one, unless the stream has ended) to `out`;
    /// returns the error that ends the stream instead, once, after every event before it.
    /// Returns `Ok(false)` after the last event. Cheaper per event than
    /// [`Reader::next_event`]: events are ordered straight into `out`, and a part of a
    /// generation ordered ahead is handed over whole when `out` is empty (`out`'s buffer
    /// is kept for later parts).
    pub fn next_events(&mut self, out: &mut Vec<Event>) -> Result<bool> {
        if self.out_pos < self.order.out.len() {
            // Left over from `next_event`.
            out.extend_from_slice(&self.order.out[self.out_pos..]);
            self.out_pos = self.order.out.len();
            return Ok(true);
        }
        let start = out.len();
        loop {
            if let Some(part) = self.queued.pop_front() {
                let spent = if out.is_empty() {
                    std::mem::replace(out, part)
                } else {
                    out.extend_from_slice(&part);
                    part
                };
                if let Some(a) = &self.ahead {
                    a.recycle(spent);
                }
                if out.len() > start {
                    return Ok(true);
                }
                continue;
            }
            if self.finished {
                break;
            }
            // Order into `out` itself, in the reader's place.
            self.order.out.clear();
            std::mem::swap(out, &mut self.order.out);
            self.order_until(start + CHUNK);
            std::mem::swap(out, &mut self.order.out);
            if out.len() > start {
                return Ok(true);
            }
        }
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(false),
        }
    }

    /// The number of Syncs ordered so far, and the table the last one names (`u32::MAX` for
    /// none). [`Reader::next_events`] hands out every event it orders, so after it these are
    /// the Syncs handed out: a caller learns that a generation began without looking at
    /// every event.
    pub fn syncs(&self) -> (u64, u32) {
        (self.syncs, self.last_sync_table)
    }

    /// Orders the next events into the empty buffer and hands out the first.
    #[inline(never)]
    fn refill(&mut self) -> Option<Result<Event>> {
        self.out_pos = 0;
        if let Some(events) = self.queued.pop_front() {
            let old = std::mem::replace(&mut self.order.out, events);
            if let Some(a) = &self.ahead {
                a.recycle(old);
            }
            if let Some(&ev) = self.order.out.first() {
                self.out_pos = 1;
                return Some(Ok(ev));
            }
        }
        self.order.out.clear();
        self.order_until(CHUNK);
        match self.order.out.first() {
            Some(&ev) => {
                self.out_pos = 1;
                Some(Ok(ev))
            }
            None => self.error.take().map(Err),
        }
    }

    /// Orders events into `self.order.out` until it holds `limit`, the stream ends (or
    /// fails: then `self.error` says why), or parts ordered ahead are queued.
    fn order_until(&mut self, limit: usize) {
        while !self.finished && self.order.out.len() < limit && self.queued.is_empty() {
            let Tables { gens, extra } = &mut self.tables;
            let step = match &mut self.current {
                Some(cur) if !cur.exhausted() => {
                    let gt = &gens[cur.table as usize];
                    order_chunk(
                        &mut self.order,
                        cur,
                        gt,
                        &gt.strings,
                        extra,
                        self.pipeline.as_ref().map(Pipeline::decoder),
                        &mut self.last_ts,
                        limit,
                    )
                }
                _ => self.next_generation(),
            };
            match step {
                Ok(()) => {}
                Err(Stop::End) => self.finished = true,
                Err(Stop::Error(e)) => {
                    self.finished = true;
                    self.error = Some(e);
                }
            }
        }
    }

    /// Orders one event directly (a Sync, which needs no checks).
    fn emit(&mut self, ev: Event) {
        let start = self.order.out.len();
        self.order.out.push(ev);
        bump_times(&mut self.order.out[start..], &mut self.last_ts);
    }

    fn sync(&mut self, table: u32, time: Time) -> Event {
        self.syncs += 1;
        self.last_sync_table = table;
        Event {
            ty: SYNC,
            time,
            ctx: Ctx::NONE,
            args: [self.syncs, 0, 0, 0],
            table,
        }
    }

    fn next_generation(&mut self) -> Result<(), Stop> {
        if let Some(e) = self.pending.take() {
            return Err(Stop::Error(e));
        }
        if self.ended {
            return Err(Stop::End);
        }
        self.current = None;
        let Some(span) = self.spans.next() else {
            match self.index_error.take() {
                Some(e) => self.pending = Some(e.into()),
                None => self.ended = true,
            }
            let sync = self.sync(u32::MAX, self.last_ts);
            self.emit(sync);
            return Ok(());
        };
        let table = self.tables.gens.len() as u32;
        let decoded = match (&mut self.ahead, &mut self.pipeline) {
            (Some(a), _) => match a.next(&span, self.spans.as_slice(), table) {
                Next::Failed(e) => Err(e),
                Next::Here(g, ids) => Ok((g, ids, None)),
                Next::Ahead(g, ids, done) => return self.stitch(g, ids, *done),
            },
            (None, Some(p)) => p
                .next(&span, self.spans.as_slice().first())
                .map(|(g, ids, slots)| (g, ids, Some(slots))),
            (None, None) => v2::decode(self.data, self.version, &span).map(|g| {
                let ids = TableIds::new(&g.stacks, &g.strings);
                (g, ids, None)
            }),
        };
        let sync = match decoded {
            Ok((g, ids, slots)) => self.install(g, ids, slots).map_err(Stop::Error)?,
            Err(e) => {
                self.pending = Some(e.into());
                self.sync(u32::MAX, self.last_ts)
            }
        };
        self.emit(sync);
        Ok(())
    }

    /// Hands out generation `g` as `done` ordered it ahead, if that is what ordering it here
    /// would give (see [`Ordering::adopt`]); else orders it here.
    fn stitch(&mut self, g: Generation<'a>, ids: TableIds, done: ahead::Done) -> Result<(), Stop> {
        let ahead::Done {
            mut parts,
            order,
            table,
        } = done;
        // Go's times only grow: the Sync comes after the events before, and the first events
        // of the generation after it (+1 ns each while they would not). Ordered ahead, they
        // grew from nothing; from the first that is later than the one before it on, they
        // are as they would be here.
        let min_ts = GenTables {
            generation: g.generation,
            ns_per_tick: g.ns_per_tick(),
            strings: StringTable::default(),
            stacks: StackTable::default(),
            clock: None,
            experimental: Vec::new(),
        }
        .ticks_to_ns(g.min_ts);
        let sync_time = if min_ts <= self.last_ts {
            self.last_ts.wrapping_add(1)
        } else {
            min_ts
        };
        let times_ok = table == self.tables.gens.len() as u32
            && parts
                .iter()
                .flatten()
                .scan(sync_time, |last, ev| {
                    (ev.time <= *last).then(|| {
                        let ok = *last != Time::MAX;
                        *last = last.wrapping_add(1);
                        ok
                    })
                })
                .all(|ok| ok);
        if !times_ok || !self.order.adopt(order, &mut parts, &mut self.tables.extra) {
            self.redone += 1;
            let sync = self.install(g, ids, None).map_err(Stop::Error)?;
            self.emit(sync);
            return Ok(());
        }
        let table = self.tables.gens.len() as u32;
        self.tables.gens.push(GenTables {
            generation: g.generation,
            ns_per_tick: g.ns_per_tick(),
            strings: g.strings,
            stacks: g.stacks,
            clock: g.clock,
            experimental: g.experimental,
        });
        let sync = self.sync(table, min_ts);
        self.emit(sync);
        let mut last = self.last_ts;
        for ev in parts.iter_mut().flatten() {
            if ev.time > last {
                break;
            }
            ev.time = last.wrapping_add(1);
            last = ev.time;
        }
        if let Some(ev) = parts.iter().rev().find_map(|p| p.last()) {
            self.last_ts = ev.time;
        }
        self.adopted += 1;
        self.current = None;
        self.queued.extend(parts);
        Ok(())
    }

    /// Makes `g` the current generation (its batches queued in the pipeline's `slots`, if
    /// pipelined) and loads each thread's first events; returns its Sync.
    fn install(
        &mut self,
        g: Generation<'a>,
        ids: TableIds,
        slots: Option<Vec<Vec<u64>>>,
    ) -> Result<Event> {
        let table = self.tables.gens.len() as u32;
        let tables = GenTables {
            generation: g.generation,
            ns_per_tick: g.ns_per_tick(),
            strings: g.strings,
            stacks: g.stacks,
            clock: g.clock,
            experimental: g.experimental,
        };
        let samples = samples_in_time_order(&g.cpu_samples, &tables);
        let min_ts = tables.ticks_to_ns(g.min_ts);
        self.tables.gens.push(tables);
        let mut cur = Current {
            generation: g.generation,
            table,
            threads: g.threads,
            ids,
            slots,
            cursors: Vec::new(),
            heap: Vec::new(),
            samples,
            next_sample: 0,
        };
        let gt = &self.tables.gens[table as usize];
        let src = BatchSource {
            threads: &cur.threads,
            gt,
            strings: &gt.strings,
            ids: &cur.ids,
            queued: self
                .pipeline
                .as_ref()
                .map(Pipeline::decoder)
                .zip(cur.slots.as_deref()),
        };
        let (cursors, heap) = start_cursors(&src)?;
        cur.cursors = cursors;
        cur.heap = heap;
        self.current = Some(cur);
        Ok(self.sync(table, min_ts))
    }
}

/// Loads each thread's first events: the cursors of a generation and its frontier. Fails if
/// a thread's first event does not decode.
fn start_cursors(src: &BatchSource<'_, '_>) -> Result<(Vec<Cursor>, Vec<heap::Entry>)> {
    let mut cursors = Vec::new();
    let mut heap = Vec::new();
    for (i, th) in src.threads.iter().enumerate() {
        let mut c = Cursor {
            m: th.m as i64,
            m_slot: u32::MAX,
            thread: i as u32,
            batch: 0,
            events: Vec::new(),
            next: 0,
            error: None,
        };
        if th.batches.is_empty() {
            continue;
        }
        c.load(src, 0);
        if c.events.is_empty() && !c.next_batch(src) {
            if let Some(e) = src.decode_error(&c) {
                return Err(e);
            }
            continue;
        }
        heap::insert(&mut heap, (c.events[0].time, cursors.len() as u32));
        cursors.push(c);
    }
    Ok((cursors, heap))
}

/// Why the reader stops ordering.
enum Stop {
    /// The stream ended normally.
    End,
    /// The stream ends with this error.
    Error(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Self::Error(e)
    }
}

/// Applies the strictly-increasing time rule to `evs`, the events just ordered.
#[inline(always)]
fn bump_times(evs: &mut [Event], last_ts: &mut Time) {
    for ev in evs {
        if ev.time <= *last_ts {
            // Go's int64 arithmetic wraps; so does ours (only crafted traces get here).
            ev.time = last_ts.wrapping_add(1);
        }
        *last_ts = ev.time;
    }
}

/// Orders events of `cur` until the buffer holds [`CHUNK`] events or the generation is
/// exhausted. This is the reader's hot loop; it borrows the reader's parts one by one so
/// that they stay in registers.
#[inline(never)]
#[allow(clippy::too_many_arguments)] // The reader's parts, borrowed one by one.
fn order_chunk(
    order: &mut Ordering,
    cur: &mut Current<'_>,
    gt: &GenTables<'_>,
    strings: &dyn StringLookup,
    extra: &mut Vec<Vec<u8>>,
    decoder: Option<&Decoder>,
    last_ts: &mut Time,
    limit: usize,
) -> Result<(), Stop> {
    let Current {
        generation,
        table,
        threads,
        ids,
        slots,
        cursors,
        heap,
        samples,
        next_sample,
    } = cur;
    let src = BatchSource {
        threads,
        gt,
        strings,
        ids,
        queued: decoder.zip(slots.as_deref()),
    };
    let at = (*generation, *table);
    while order.out.len() < limit && !(heap.is_empty() && *next_sample >= samples.len()) {
        let start = order.out.len();
        if let Some(s) = samples.get(*next_sample)
            && heap.first().is_none_or(|&(t, _)| s.time < t)
        {
            // CPU samples name their stack where Go checks nothing: no table check.
            *next_sample += 1;
            order.out.push(Event {
                ty: EventType::CPU_SAMPLE,
                time: s.time,
                ctx: s.ctx,
                args: [s.stack, 0, 0, 0],
                table: *table,
            });
            bump_times(&mut order.out[start..], last_ts);
            continue;
        }
        let sample_time = samples.get(*next_sample).map_or(Time::MAX, |s| s.time);
        if run_top(
            order,
            cursors,
            heap,
            &src,
            extra,
            at,
            sample_time,
            last_ts,
            limit,
        )? {
            continue;
        }
        match advance_other(order, cursors, heap, &src, extra, at) {
            Ok(false) => bump_times(&mut order.out[start..], last_ts),
            Ok(true) => check_and_bump_times(&mut order.out, start, gt, last_ts)?,
            Err(e) => {
                // An event queued before the error (the next event of its thread failed to
                // decode) is not handed out, as in Go.
                order.out.truncate(start);
                return Err(Stop::Error(e));
            }
        }
    }
    Ok(())
}

/// Advances the cursor at the top of the heap, and goes on advancing it while it would stay
/// there: while its next event is no later than its children's (Go's heap keeps the parent
/// on a tie) and no CPU sample comes strictly before it. That is exactly what ordering one
/// event at a time does, without updating the heap in between. Returns `false` if the first
/// event is not ready (nothing changed).
#[inline(always)]
#[allow(clippy::too_many_arguments)] // The reader's parts, borrowed one by one.
fn run_top(
    order: &mut Ordering,
    cursors: &mut [Cursor],
    heap: &mut Vec<heap::Entry>,
    src: &BatchSource<'_, '_>,
    extra: &mut Vec<Vec<u8>>,
    at: (u64, u32),
    sample_time: Time,
    last_ts: &mut Time,
    limit: usize,
) -> Result<bool, Stop> {
    let next = match heap.get(1..3) {
        Some([a, b]) => a.0.min(b.0),
        _ => heap.get(1).map_or(Time::MAX, |a| a.0),
    };
    let c = &mut cursors[heap[0].1 as usize];
    let mut first = true;
    loop {
        let start = order.out.len();
        let pe = &c.events[c.next];
        let bad_ids = pe.bad_ids;
        let ready = if order.advance_fast(pe, at, c.m, c.m_slot) {
            Ok(true)
        } else {
            order.advance(pe, at, src.strings, extra, c.m, &mut c.m_slot)
        };
        match ready {
            Ok(true) => first = false,
            // Not ready: if this is not the first, the heap already holds its time and is
            // valid (the cursor stays at the top), and the caller tries the others.
            Ok(false) => return Ok(!first),
            Err(e) => return Err(Stop::Error(e.at(at.0, src.offset(c)))),
        }
        c.next += 1;
        if c.next >= c.events.len() && !c.next_batch(src) {
            if let Some(e) = src.decode_error(c) {
                // The event queued before is not handed out, as in Go.
                order.out.truncate(start);
                return Err(Stop::Error(e));
            }
            heap::remove(heap, 0);
            finish_event(order, start, bad_ids, src.gt, last_ts)?;
            return Ok(true);
        }
        let t = c.events[c.next].time;
        heap[0].0 = t;
        finish_event(order, start, bad_ids, src.gt, last_ts)?;
        if t > next || sample_time < t || order.out.len() >= limit {
            heap::update(heap, 0);
            return Ok(true);
        }
    }
}

/// Completes the events just ordered from `out[start..]`: checks their table references if
/// the event named a missing stack or string, and applies the time rule.
#[inline(always)]
fn finish_event(
    order: &mut Ordering,
    start: usize,
    bad_ids: bool,
    gt: &GenTables<'_>,
    last_ts: &mut Time,
) -> Result<(), Stop> {
    if bad_ids {
        check_and_bump_times(&mut order.out, start, gt, last_ts)?;
    } else {
        bump_times(&mut order.out[start..], last_ts);
    }
    Ok(())
}

/// Like [`bump_times`] for `out[start..]`, after checking the table references of those
/// events: on an invalid one, drops it and everything after it and fails.
#[cold]
fn check_and_bump_times(
    out: &mut Vec<Event>,
    start: usize,
    gt: &GenTables<'_>,
    last_ts: &mut Time,
) -> Result<()> {
    let bad =
        (start..out.len()).find_map(|i| validate_table_ids(gt, &out[i]).err().map(|e| (i, e)));
    if let Some((i, _)) = bad {
        out.truncate(i);
    }
    bump_times(&mut out[start..], last_ts);
    match bad {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

/// The earliest cursor is not ready: tries the others in time order (Go sorts the
/// frontier, and a sorted array is still a valid heap). Returns whether the event that
/// advanced names a missing stack or string.
#[cold]
fn advance_other(
    order: &mut Ordering,
    cursors: &mut [Cursor],
    heap: &mut Vec<heap::Entry>,
    src: &BatchSource<'_, '_>,
    extra: &mut Vec<Vec<u8>>,
    at: (u64, u32),
) -> Result<bool> {
    let generation = at.0;
    if heap.is_empty() {
        return Err(Error::order(format!(
            "broken trace: frontier is empty:\n[gen={generation}]\n"
        )));
    }
    heap.sort_by_key(|&(t, _)| t);
    for i in 1..heap.len() {
        if let Some(bad_ids) = try_advance(order, cursors, heap, src, extra, at, i)? {
            return Ok(bad_ids);
        }
    }
    let frontier: String = heap
        .iter()
        .map(|&(_, c)| {
            let c = &cursors[c as usize];
            let ev = &c.events[c.next];
            format!("M {} [{} time={}]\n", c.m, ev.ty.name(), ev.time)
        })
        .collect();
    let offset = heap
        .first()
        .map_or(0, |&(_, c)| src.offset(&cursors[c as usize]));
    Err(Error::order(format!(
        "broken trace: failed to advance: frontier:\n[gen={generation}]\n\n{frontier}\n{}",
        order.dump()
    ))
    .at(generation, offset))
}

/// Tries to advance the cursor at index `i` of the heap: `None` if its event is not ready,
/// else whether the event names a missing stack or string. `at` is the generation and its
/// tables' index.
#[inline(always)]
fn try_advance(
    order: &mut Ordering,
    cursors: &mut [Cursor],
    heap: &mut Vec<heap::Entry>,
    src: &BatchSource<'_, '_>,
    extra: &mut Vec<Vec<u8>>,
    at: (u64, u32),
    i: usize,
) -> Result<Option<bool>> {
    let generation = at.0;
    let c = &mut cursors[heap[i].1 as usize];
    let pe = &c.events[c.next];
    let bad_ids = pe.bad_ids;
    match order.advance(pe, at, src.strings, extra, c.m, &mut c.m_slot) {
        Ok(true) => {}
        Ok(false) => return Ok(None),
        Err(e) => return Err(e.at(generation, src.offset(c))),
    }
    c.next += 1;
    if c.next < c.events.len() || c.next_batch(src) {
        heap[i].0 = c.events[c.next].time;
        heap::update(heap, i);
    } else {
        if let Some(e) = src.decode_error(c) {
            return Err(e);
        }
        heap::remove(heap, i);
    }
    Ok(Some(bad_ids))
}

/// Go's `validateTableIDs`: every stack and string an event of generation `t` names must
/// exist.
fn validate_table_ids(t: &GenTables<'_>, ev: &Event) -> Result<()> {
    if ev.ty == SYNC {
        return Ok(());
    }
    let Some(spec) = ev.ty.spec() else {
        return Ok(());
    };
    for &i in spec.stack_ids {
        let id = ev.args[i - 1];
        if !t.stacks.is_valid_ref(id) {
            return Err(Error::order(format!(
                "found invalid stack ID {id} for event {}",
                spec.name
            ))
            .at(t.generation, 0));
        }
    }
    for &i in spec.string_ids {
        let id = ev.args[i - 1];
        if t.strings.get(id).is_none() {
            return Err(Error::order(format!(
                "found invalid string ID {id} for event {}",
                spec.name
            ))
            .at(t.generation, 0));
        }
    }
    Ok(())
}

impl Iterator for Reader<'_> {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_event()
    }
}
