//! The v2 reader: generations in order, the per-thread batches of each merged into one event
//! stream, exactly as Go's `internal/trace.Reader` does it.
//!
//! Per generation: a Sync event at the generation's smallest batch time; then, repeatedly,
//! the CPU sample that comes strictly first, or the event of the thread whose next event is
//! earliest if the ordering says it is ready, else the earliest ready event of the other
//! threads (in time order). Every event is checked for valid table references and given a
//! time strictly after the previous event's (+1 ns if needed). The trace ends with a Sync;
//! an error that ends a trace early comes after one.

use goroscope_format::v2::{
    self, EventCursor, Generation, GenerationSpan, Index, StringTable, ThreadBatches,
};
use goroscope_format::{Version, read_header};

use crate::error::{Error, Result};
use crate::event::{Ctx, Event, GenTables, NO_GOROUTINE, SYNC, Tables, Time};
use crate::order::{Ordering, StringLookup};

impl StringLookup for StringTable<'_> {
    fn lookup(&self, id: u64) -> Option<&[u8]> {
        self.get(id)
    }
}

/// The next event of one thread's batches.
#[derive(Debug, Clone)]
struct Cursor<'a> {
    m: i64,
    /// The index of the thread's ordering state, once known.
    m_slot: u32,
    thread: usize,
    batch: usize,
    events: EventCursor<'a>,
    last_ts: Time,
    ev: Event,
    /// Byte offset of `ev` in the file.
    offset: u64,
}

impl<'a> Cursor<'a> {
    fn new(m: i64, thread: usize, threads: &[ThreadBatches<'a>], table: u32) -> Self {
        let body = threads[thread].batches.first().map_or(&[][..], |b| b.body);
        Self {
            m,
            m_slot: u32::MAX,
            thread,
            batch: 0,
            events: EventCursor::new(body),
            last_ts: 0,
            ev: Event {
                ty: SYNC,
                time: 0,
                ctx: Ctx::NONE,
                args: [0; 4],
                table,
            },
            offset: 0,
        }
    }

    /// Reads the cursor's next event. Returns `false` when its batches are exhausted.
    #[inline]
    fn next(&mut self, threads: &[ThreadBatches<'a>], g: &GenTables<'_>) -> Result<bool> {
        let batches = &threads[self.thread].batches;
        while self.batch < batches.len() && self.events.is_done() {
            self.batch += 1;
            self.last_ts = 0;
            if let Some(b) = batches.get(self.batch) {
                self.events = EventCursor::new(b.body);
            }
        }
        let Some(batch) = batches.get(self.batch) else {
            return Ok(false);
        };
        if self.last_ts == 0 {
            self.last_ts = g.ticks_to_ns(batch.time);
        }
        let pos = self.events.position();
        let raw = match self.events.next_event() {
            Ok(Some(raw)) => raw,
            Ok(None) => return Ok(false),
            Err(e) => {
                let err = goroscope_format::Error::new(e.kind, batch.body_offset + e.pos as u64)
                    .in_generation(batch.generation)
                    .in_batch(batch.offset);
                return Err(err.into());
            }
        };
        self.offset = batch.body_offset + pos as u64;
        self.ev.ty = raw.ty;
        self.ev.args = raw.args;
        self.ev.time = g.ticks_to_ns(raw.dt).wrapping_add(self.last_ts);
        self.last_ts = self.ev.time;
        Ok(true)
    }
}

/// Go's min-heap of cursors keyed on their next event's time, with Go's exact tie rules.
mod heap {
    use super::Cursor;

    pub(super) fn insert<'a>(heap: &mut Vec<Cursor<'a>>, c: Cursor<'a>) {
        heap.push(c);
        let last = heap.len() - 1;
        sift_up(heap, last);
    }

    pub(super) fn update(heap: &mut [Cursor<'_>], i: usize) {
        if sift_up(heap, i) != i {
            return;
        }
        sift_down(heap, i);
    }

    pub(super) fn remove(heap: &mut Vec<Cursor<'_>>, mut i: usize) {
        while i > 0 {
            heap.swap((i - 1) / 2, i);
            i = (i - 1) / 2;
        }
        let last = heap.len() - 1;
        heap.swap(0, last);
        heap.pop();
        sift_down(heap, 0);
    }

    fn sift_up(heap: &mut [Cursor<'_>], mut i: usize) -> usize {
        while i > 0 && heap[(i - 1) / 2].ev.time > heap[i].ev.time {
            heap.swap((i - 1) / 2, i);
            i = (i - 1) / 2;
        }
        i
    }

    fn sift_down(heap: &mut [Cursor<'_>], mut i: usize) {
        loop {
            let m = min3(heap, i, 2 * i + 1, 2 * i + 2);
            if m == i {
                break;
            }
            heap.swap(i, m);
            i = m;
        }
    }

    fn min3(b: &[Cursor<'_>], i0: usize, i1: usize, i2: usize) -> usize {
        let mut min_i = i0;
        let mut min_t = b.get(i0).map_or(i64::MAX, |c| c.ev.time);
        if let Some(c) = b.get(i1)
            && c.ev.time < min_t
        {
            min_t = c.ev.time;
            min_i = i1;
        }
        if let Some(c) = b.get(i2)
            && c.ev.time < min_t
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

/// The generation being ordered.
struct Current<'a> {
    generation: u64,
    table: u32,
    threads: Vec<ThreadBatches<'a>>,
    frontier: Vec<Cursor<'a>>,
    samples: Vec<Sample>,
    next_sample: usize,
}

/// Reads the ordered event stream of a v2 trace.
pub struct Reader<'a> {
    data: &'a [u8],
    version: Version,
    spans: std::vec::IntoIter<GenerationSpan<'a>>,
    index_error: Option<goroscope_format::Error>,
    order: Ordering,
    tables: Tables<'a>,
    current: Option<Current<'a>>,
    syncs: u64,
    last_ts: Time,
    pending: Option<Error>,
    /// The final Sync has been returned.
    ended: bool,
    done: bool,
}

impl<'a> Reader<'a> {
    /// A reader over the whole v2 trace `data` (header included). Fails if the header is not
    /// a v2 trace header.
    pub fn new(data: &'a [u8]) -> Result<Self> {
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
            tables: Tables::default(),
            current: None,
            syncs: 0,
            last_ts: 0,
            pending: None,
            ended: false,
            done: false,
        })
    }

    /// The trace's format version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The tables of every generation read so far, for resolving strings and stacks of
    /// events.
    pub fn tables(&self) -> &Tables<'a> {
        &self.tables
    }

    /// Takes the tables out of the reader (after the last event).
    pub fn into_tables(self) -> Tables<'a> {
        self.tables
    }

    /// Reads the next event; `None` after the last one or after an error.
    pub fn next_event(&mut self) -> Option<Result<Event>> {
        if self.done {
            return None;
        }
        match self.step() {
            Ok(Some(ev)) => Some(self.finish(ev)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }

    /// Validates table references and applies the strictly-increasing time rule.
    fn finish(&mut self, mut ev: Event) -> Result<Event> {
        if ev.ty != SYNC
            && let Err(e) = self.validate_table_ids(&ev)
        {
            self.done = true;
            return Err(e);
        }
        if ev.time <= self.last_ts {
            // Go's int64 arithmetic wraps; so does ours (only crafted traces get here).
            ev.time = self.last_ts.wrapping_add(1);
        }
        self.last_ts = ev.time;
        Ok(ev)
    }

    fn validate_table_ids(&self, ev: &Event) -> Result<()> {
        let Some(spec) = ev.ty.spec() else {
            return Ok(());
        };
        let Some(t) = self.tables.gen_tables(ev.table) else {
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

    fn sync(&mut self, table: u32, time: Time) -> Event {
        self.syncs += 1;
        Event {
            ty: SYNC,
            time,
            ctx: Ctx::NONE,
            args: [self.syncs, 0, 0, 0],
            table,
        }
    }

    fn step(&mut self) -> Result<Option<Event>> {
        if let Some(ev) = self.order.next() {
            return Ok(Some(ev));
        }
        let exhausted = self
            .current
            .as_ref()
            .is_none_or(|c| c.frontier.is_empty() && c.next_sample >= c.samples.len());
        if exhausted {
            return self.next_generation();
        }
        let Some(cur) = self.current.as_mut() else {
            return self.next_generation();
        };
        if let Some(s) = cur.samples.get(cur.next_sample)
            && cur.frontier.first().is_none_or(|c| s.time < c.ev.time)
        {
            cur.next_sample += 1;
            return Ok(Some(Event {
                ty: v2::EventType::CPU_SAMPLE,
                time: s.time,
                ctx: s.ctx,
                args: [s.stack, 0, 0, 0],
                table: cur.table,
            }));
        }
        if cur.frontier.is_empty() {
            return Err(Error::order(format!(
                "broken trace: frontier is empty:\n[gen={}]\n",
                cur.generation
            )));
        }
        if !self.try_advance(0)? {
            let cur = self.current.as_mut().expect("a generation is current");
            cur.frontier.sort_by_key(|c| c.ev.time);
            let mut advanced = false;
            for i in 1..cur.frontier.len() {
                if self.try_advance(i)? {
                    advanced = true;
                    break;
                }
            }
            if !advanced {
                let cur = self.current.as_ref().expect("a generation is current");
                let frontier: String = cur
                    .frontier
                    .iter()
                    .map(|c| format!("M {} [{} time={}]\n", c.m, c.ev.ty.name(), c.ev.time))
                    .collect();
                return Err(Error::order(format!(
                    "broken trace: failed to advance: frontier:\n[gen={}]\n\n{frontier}\n{}",
                    cur.generation,
                    self.order.dump()
                ))
                .at(cur.generation, cur.frontier.first().map_or(0, |c| c.offset)));
            }
        }
        match self.order.next() {
            Some(ev) => Ok(Some(ev)),
            None => Err(Error::order("internal error: advanced but nothing queued")),
        }
    }

    fn try_advance(&mut self, i: usize) -> Result<bool> {
        let Some(cur) = self.current.as_mut() else {
            return Ok(false);
        };
        let Tables { gens, extra } = &mut self.tables;
        let table = &gens[cur.table as usize];
        let c = &mut cur.frontier[i];
        let ok = self
            .order
            .advance(
                &c.ev,
                &table.strings,
                extra,
                c.m,
                &mut c.m_slot,
                cur.generation,
            )
            .map_err(|e| e.at(cur.generation, c.offset))?;
        if !ok {
            return Ok(false);
        }
        if cur.frontier[i].next(&cur.threads, table)? {
            heap::update(&mut cur.frontier, i);
        } else {
            heap::remove(&mut cur.frontier, i);
        }
        Ok(true)
    }

    fn next_generation(&mut self) -> Result<Option<Event>> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        if self.ended {
            return Ok(None);
        }
        let Some(span) = self.spans.next() else {
            self.current = None;
            match self.index_error.take() {
                Some(e) => self.pending = Some(e.into()),
                None => self.ended = true,
            }
            let t = self.last_ts;
            return Ok(Some(self.sync(u32::MAX, t)));
        };
        match v2::decode(self.data, self.version, &span) {
            Ok(g) => self.install(g).map(Some),
            Err(e) => {
                self.current = None;
                self.pending = Some(e.into());
                let t = self.last_ts;
                Ok(Some(self.sync(u32::MAX, t)))
            }
        }
    }

    fn install(&mut self, g: Generation<'a>) -> Result<Event> {
        let table = self.tables.gens.len() as u32;
        let tables = GenTables {
            generation: g.generation,
            ns_per_tick: g.ns_per_tick(),
            strings: g.strings,
            stacks: g.stacks,
            clock: g.clock,
            experimental: g.experimental,
        };
        let mut samples: Vec<Sample> = g
            .cpu_samples
            .iter()
            .map(|s| Sample {
                time: tables.ticks_to_ns(s.time),
                ctx: Ctx {
                    m: s.m as i64,
                    p: s.p as i64,
                    g: if s.g == 0 { NO_GOROUTINE } else { s.g as i64 },
                },
                stack: s.stack,
            })
            .collect();
        samples.sort_by_key(|s| s.time);
        let min_ts = tables.ticks_to_ns(g.min_ts);
        self.tables.gens.push(tables);
        let threads = g.threads;
        let mut frontier = Vec::with_capacity(threads.len());
        let t = &self.tables.gens[table as usize];
        for (i, th) in threads.iter().enumerate() {
            let mut c = Cursor::new(th.m as i64, i, &threads, table);
            if c.next(&threads, t)? {
                heap::insert(&mut frontier, c);
            }
        }
        self.current = Some(Current {
            generation: g.generation,
            table,
            threads,
            frontier,
            samples,
            next_sample: 0,
        });
        Ok(self.sync(table, min_ts))
    }
}

impl Iterator for Reader<'_> {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_event()
    }
}
