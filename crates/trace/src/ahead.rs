//! Generations ordered ahead on rayon's pool, each on its own, and handed back to the reader
//! to be stitched in order (see the ordering's `speculation` module for why the result is
//! the sequential one, or is thrown away).
//!
//! - When the reader starts a generation, the next ones are prepared: their tables decoded,
//!   and, but for the reader's turns (it orders one generation in `window + 1` itself
//!   while the pool is behind it), their event batches copied (a pool thread cannot borrow
//!   the trace) and a job queued on the pool that decodes and orders them into events of
//!   their own.
//! - The reader takes a generation's job when it gets there: done (then it stitches the
//!   result), running (then it waits), or not started (then it orders the generation itself,
//!   from the real state, as the sequential reader does). So a busy pool only makes the
//!   reader sequential, never stuck.
//! - At most `window` generations (one less than the pool's threads) are ordered ahead,
//!   so memory stays bounded by a few generations' events.

use std::collections::VecDeque;
use std::ops::Range;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use goroscope_format::v2::{self, Batch, Generation, GenerationSpan, StackTable, StringTable};
use goroscope_format::{Error as FormatError, Version};

use super::{
    BatchSource, Current, Sample, StringLookup, TableIds, Time, order_chunk, samples_in_time_order,
    start_cursors,
};
use crate::event::{Event, GenTables};
use crate::order::{IdMap, Ordering};

/// Events ordered ahead are handed over in parts of this many (or a few more), in buffers
/// that go round: no part is ever copied or grown.
const PART: usize = 1 << 16;

/// At most this many spare buffers wait to be reused.
const SPARE: usize = 64;

/// A generation ordered ahead: its events (times strictly increasing from nothing before),
/// in parts, and the ordering that predicted its starting state.
pub(crate) struct Done {
    pub(crate) parts: Vec<Vec<Event>>,
    pub(crate) order: Ordering,
    /// The index of the tables its events name.
    pub(crate) table: u32,
}

/// What the reader gets for a generation.
pub(crate) enum Next<'a> {
    /// Its tables failed to decode.
    Failed(FormatError),
    /// To be ordered by the reader.
    Here(Generation<'a>, TableIds),
    /// Ordered ahead.
    Ahead(Generation<'a>, TableIds, Box<Done>),
}

/// The generations in flight ahead of the reader.
pub(crate) struct Ahead<'a> {
    data: &'a [u8],
    version: Version,
    initial_gen: u64,
    window: usize,
    /// Generations prepared after the current one, in order.
    queue: VecDeque<Prepared<'a>>,
    /// Event buffers given back, for jobs to reuse.
    buffers: Arc<Mutex<Vec<Vec<Event>>>>,
    /// Every generation is ordered ahead, on the reader's thread if no pool thread has
    /// started it (for tests).
    eager: bool,
    /// The last job the reader took was done before the reader got to it.
    pool_ahead: bool,
}

struct Prepared<'a> {
    start: u64,
    tables: Result<(Generation<'a>, TableIds), FormatError>,
    job: Option<JobHandle>,
}

impl<'a> Ahead<'a> {
    /// Orders the generations of `data` ahead; `initial_gen` is its first generation.
    pub(crate) fn new(data: &'a [u8], version: Version, initial_gen: u64) -> Self {
        Self {
            data,
            version,
            initial_gen,
            window: rayon::current_num_threads().saturating_sub(1).clamp(1, 8),
            queue: VecDeque::new(),
            buffers: Arc::default(),
            eager: false,
            pool_ahead: false,
        }
    }

    /// Like [`Ahead::new`], but every generation is ordered ahead (the first one too), for
    /// tests: the reader only stitches.
    #[cfg(test)]
    pub(crate) fn eager(data: &'a [u8], version: Version, initial_gen: u64) -> Self {
        Self {
            eager: true,
            ..Self::new(data, version, initial_gen)
        }
    }

    /// Generation `span`, whose events will name tables `table`; `following` are the spans
    /// after it, some of which are prepared now.
    pub(crate) fn next(
        &mut self,
        span: &GenerationSpan<'a>,
        following: &[GenerationSpan<'a>],
        table: u32,
    ) -> Next<'a> {
        let current = match self.queue.pop_front() {
            Some(p) if p.start == span.start => p,
            _ if self.eager => {
                self.queue.clear();
                self.prepare(span, table)
            }
            _ => {
                self.queue.clear();
                Prepared {
                    start: span.start,
                    tables: self.decode(span),
                    job: None,
                }
            }
        };
        if let Some(j) = &current.job {
            self.pool_ahead = j.0.is_done();
        }
        // A failed generation ends the trace: nothing after it is needed.
        let mut stop = current.tables.is_err() || self.queue.iter().any(|p| p.tables.is_err());
        let len = self.window + usize::from(!self.pool_ahead);
        while !stop && self.queue.len() < len {
            let Some(f) = following.get(self.queue.len()) else {
                break;
            };
            let t = table + 1 + self.queue.len() as u32;
            let p = self.prepare(f, t);
            stop = p.tables.is_err();
            self.queue.push_back(p);
        }
        let (g, ids) = match current.tables {
            Ok(t) => t,
            Err(e) => return Next::Failed(e),
        };
        match current.job.and_then(|j| j.0.take(self.eager)) {
            Some(Some(done)) => Next::Ahead(g, ids, done),
            _ => Next::Here(g, ids),
        }
    }

    /// Gives back an event buffer for a job to reuse.
    pub(crate) fn recycle(&self, events: Vec<Event>) {
        recycle(&self.buffers, events);
    }

    fn decode(&self, span: &GenerationSpan<'a>) -> Result<(Generation<'a>, TableIds), FormatError> {
        let g = v2::decode(self.data, self.version, span)?;
        let ids = TableIds::new(&g.stacks, &g.strings);
        Ok((g, ids))
    }

    /// Decodes the tables of `span` and queues a job that orders it, unless it is the
    /// reader's turn to order one itself. While the pool is behind (the reader had to wait
    /// for the last job, or found it not started), that is one generation in `window + 1`,
    /// so that the reader's thread works too (on two cores, the reader and one job take
    /// turns); while the pool is ahead (the reader is busy with what it hands out, as when
    /// timelines are built), it is none. Either way no more than `window` generations'
    /// events wait in memory.
    fn prepare(&self, span: &GenerationSpan<'a>, table: u32) -> Prepared<'a> {
        let tables = self.decode(span);
        let turn =
            !self.eager && !self.pool_ahead && (table as usize).is_multiple_of(self.window + 1);
        let job = match &tables {
            Ok(_) if turn => None,
            Ok((g, ids)) => {
                let job = Arc::new(Job::new(Input::new(
                    g,
                    ids,
                    table,
                    self.initial_gen,
                    Arc::clone(&self.buffers),
                )));
                let j = Arc::clone(&job);
                rayon::spawn(move || j.run());
                Some(JobHandle(job))
            }
            Err(_) => None,
        };
        Prepared {
            start: span.start,
            tables,
            job,
        }
    }
}

/// The reader's hold on a job: dropping it drops the job if it has not started (a running
/// one finishes on its own).
struct JobHandle(Arc<Job>);

impl Drop for JobHandle {
    fn drop(&mut self) {
        self.0.take_if_pending();
    }
}

fn recycle(buffers: &Mutex<Vec<Vec<Event>>>, mut events: Vec<Event>) {
    if events.capacity() < PART {
        return;
    }
    events.clear();
    let mut b = buffers.lock().unwrap_or_else(PoisonError::into_inner);
    if b.len() < SPARE {
        b.push(events);
    }
}

/// An empty buffer for a part of events: a spare one, or a new one.
fn buffer(buffers: &Mutex<Vec<Vec<Event>>>) -> Vec<Event> {
    let spare = buffers.lock().unwrap_or_else(PoisonError::into_inner).pop();
    // Room for the few events queued past the limit.
    spare.unwrap_or_else(|| Vec::with_capacity(PART + 64))
}

/// A batch of events, copied.
struct BatchCopy {
    /// Where its body is in [`Input::bytes`].
    body: Range<usize>,
    /// Its base time, in ticks.
    time: u64,
    /// The file offsets of the batch and of its body.
    offset: u64,
    body_offset: u64,
}

/// What a job needs, owned.
struct Input {
    generation: u64,
    initial_gen: u64,
    table: u32,
    /// The generation's event batch bodies, one after the other.
    bytes: Vec<u8>,
    /// Per thread: its ID and its batches.
    threads: Vec<(u64, Vec<BatchCopy>)>,
    clock: GenTables<'static>,
    ids: TableIds,
    strings: OwnedStrings,
    samples: Vec<Sample>,
    buffers: Arc<Mutex<Vec<Vec<Event>>>>,
}

impl Input {
    fn new(
        g: &Generation<'_>,
        ids: &TableIds,
        table: u32,
        initial_gen: u64,
        buffers: Arc<Mutex<Vec<Vec<Event>>>>,
    ) -> Self {
        let size = g
            .threads
            .iter()
            .flat_map(|t| &t.batches)
            .map(|b| b.body.len())
            .sum();
        let mut bytes = Vec::with_capacity(size);
        let threads = g
            .threads
            .iter()
            .map(|t| {
                let batches = t
                    .batches
                    .iter()
                    .map(|b| {
                        let start = bytes.len();
                        bytes.extend_from_slice(b.body);
                        BatchCopy {
                            body: start..bytes.len(),
                            time: b.time,
                            offset: b.offset,
                            body_offset: b.body_offset,
                        }
                    })
                    .collect();
                (t.m, batches)
            })
            .collect();
        let clock = GenTables {
            generation: g.generation,
            ns_per_tick: g.ns_per_tick(),
            strings: StringTable::default(),
            stacks: StackTable::default(),
            clock: None,
            experimental: Vec::new(),
        };
        let samples = samples_in_time_order(&g.cpu_samples, &clock);
        Self {
            generation: g.generation,
            initial_gen,
            table,
            bytes,
            threads,
            clock,
            ids: ids.clone(),
            strings: OwnedStrings::new(&g.strings),
            samples,
            buffers,
        }
    }

    /// Orders the generation on its own; `None` if that fails in any way (the reader then
    /// orders it itself and meets the same failure, if it is one).
    fn run(self) -> Option<Box<Done>> {
        let threads: Vec<v2::ThreadBatches<'_>> = self
            .threads
            .iter()
            .map(|(m, batches)| v2::ThreadBatches {
                m: *m,
                batches: batches
                    .iter()
                    .map(|b| Batch {
                        generation: self.generation,
                        m: *m,
                        time: b.time,
                        experiment: 0,
                        body: &self.bytes[b.body.clone()],
                        offset: b.offset,
                        body_offset: b.body_offset,
                    })
                    .collect(),
            })
            .collect();
        let src = BatchSource {
            threads: &threads,
            gt: &self.clock,
            strings: &self.strings,
            ids: &self.ids,
            queued: None,
        };
        let (cursors, heap) = start_cursors(&src).ok()?;
        let mut cur = Current {
            generation: self.generation,
            table: self.table,
            threads,
            ids: self.ids.clone(),
            slots: None,
            cursors,
            heap,
            samples: self.samples,
            next_sample: 0,
        };
        let mut order = Ordering::ahead(self.generation, self.initial_gen);
        order.out = buffer(&self.buffers);
        let mut parts = Vec::new();
        let mut last = Time::MIN;
        let mut extra = Vec::new();
        while !cur.exhausted() {
            if order.out.len() >= PART {
                parts.push(order.take_out(buffer(&self.buffers)));
            }
            order_chunk(
                &mut order,
                &mut cur,
                &self.clock,
                &self.strings,
                &mut extra,
                None,
                &mut last,
                PART,
            )
            .ok()?;
        }
        parts.push(order.take_out(Vec::new()));
        Some(Box::new(Done {
            parts,
            order,
            table: self.table,
        }))
    }
}

/// A generation's strings, owned (for the names of tasks and regions).
struct OwnedStrings {
    bytes: Vec<u8>,
    index: IdMap<u64, (usize, usize)>,
}

impl OwnedStrings {
    fn new(t: &StringTable<'_>) -> Self {
        let mut bytes = Vec::new();
        let mut index = IdMap::default();
        for (id, s) in t.iter() {
            index.insert(id, (bytes.len(), s.len()));
            bytes.extend_from_slice(s);
        }
        Self { bytes, index }
    }
}

impl StringLookup for OwnedStrings {
    fn lookup(&self, id: u64) -> Option<&[u8]> {
        if id == 0 {
            return Some(b"");
        }
        let &(at, len) = self.index.get(&id)?;
        self.bytes.get(at..at + len)
    }
}

enum State {
    Pending(Box<Input>),
    Running,
    Done(Option<Box<Done>>),
    Taken,
}

/// A generation's job: its input until a pool thread starts it, then its result.
struct Job {
    state: Mutex<State>,
    changed: Condvar,
}

impl Job {
    fn new(input: Input) -> Self {
        Self {
            state: Mutex::new(State::Pending(Box::new(input))),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs the job on a pool thread, unless the reader took it first.
    fn run(&self) {
        let input = {
            let mut s = self.lock();
            match std::mem::replace(&mut *s, State::Running) {
                State::Pending(input) => input,
                other => {
                    *s = other;
                    return;
                }
            }
        };
        // A panic is the reader's to meet, ordering the generation itself.
        let done = std::panic::catch_unwind(AssertUnwindSafe(|| (*input).run())).unwrap_or(None);
        *self.lock() = State::Done(done);
        self.changed.notify_all();
    }

    /// The result: `Some` once the job has run (waiting if it runs now), `None` if it had
    /// not started (it never will), unless `run`: then it runs here.
    fn take(&self, run: bool) -> Option<Option<Box<Done>>> {
        let mut s = self.lock();
        loop {
            match std::mem::replace(&mut *s, State::Taken) {
                State::Pending(input) if run => {
                    drop(s);
                    return Some((*input).run());
                }
                State::Pending(_) | State::Taken => return None,
                State::Done(done) => return Some(done),
                State::Running => {
                    *s = State::Running;
                    s = self.changed.wait(s).unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
    }

    /// Whether the job has run.
    fn is_done(&self) -> bool {
        matches!(*self.lock(), State::Done(_))
    }

    /// Drops the job's input if it has not started.
    fn take_if_pending(&self) {
        let mut s = self.lock();
        if matches!(*s, State::Pending(_)) {
            *s = State::Taken;
        }
    }
}
