//! The reader's pipeline: batches of events are decoded ([`super::predecode_batch`]) on
//! rayon's pool ahead of the ordering, which stays on the reader's thread.
//!
//! Only decoding moves. The ordering takes each batch's [`BatchEvents`] from here instead of
//! decoding them itself, and they are exactly what it would have decoded, so the output
//! cannot differ from [`super::Reader::sequential`]'s (a test compares the two on every
//! fixture, damaged fixtures, Go's golden tests and the large traces).
//!
//! - When a generation becomes current, the next one's tables are decoded too, and the
//!   event batches of both are queued for decoding in file order (roughly the order in which
//!   the ordering needs them).
//! - A decoding task runs on rayon's pool while there is queued work and fewer than
//!   [`WINDOW`] decoded batches wait to be taken; memory stays bounded by that window (and
//!   by a copy of two generations' event bytes: the reader only borrows the trace, and a
//!   pool thread needs data of its own).
//! - The ordering never waits for a batch nobody has started: it takes the job back and
//!   decodes it on its own thread. So a busy pool only makes the reader sequential, never
//!   stuck, and a decoding task never blocks a pool thread.

use std::collections::VecDeque;
use std::ops::Range;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use goroscope_format::v2::{self, Generation, GenerationSpan, StackTable, StringTable};
use goroscope_format::{Error, Version};

use super::{BatchEvents, TableIds, predecode_batch};
use crate::event::GenTables;

/// Decoded batches that may wait to be taken before decoding pauses.
const WINDOW: usize = 8;

/// A generation's tables, the IDs its events are checked against, and for each of its
/// threads the queue slots of its batches.
pub(crate) type Prepared<'a> = (Generation<'a>, TableIds, Vec<Vec<u64>>);

/// Decodes generations' tables one generation ahead, and their events in the background.
pub(crate) struct Pipeline<'a> {
    data: &'a [u8],
    version: Version,
    decoder: Decoder,
    /// The generation after the current one, prepared: where it starts, and the result.
    ahead: Option<(u64, Result<Prepared<'a>, Error>)>,
}

impl<'a> Pipeline<'a> {
    pub(crate) fn new(data: &'a [u8], version: Version) -> Self {
        Self {
            data,
            version,
            decoder: Decoder::default(),
            ahead: None,
        }
    }

    /// The queue that the current generation's batches come from.
    pub(crate) fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// The generation `span`, prepared; then prepares `following`, the one after it.
    pub(crate) fn next(
        &mut self,
        span: &GenerationSpan<'a>,
        following: Option<&GenerationSpan<'a>>,
    ) -> Result<Prepared<'a>, Error> {
        let current = match self.ahead.take() {
            Some((start, prepared)) if start == span.start => prepared,
            _ => self.prepare(span),
        };
        if let Some(f) = following {
            self.ahead = Some((f.start, self.prepare(f)));
        }
        current
    }

    /// Decodes the tables of `span` and queues its event batches.
    fn prepare(&self, span: &GenerationSpan<'a>) -> Result<Prepared<'a>, Error> {
        let g = v2::decode(self.data, self.version, span)?;
        let ids = TableIds::new(&g.stacks, &g.strings);
        let slots = self.decoder.push(&g, &ids);
        Ok((g, ids, slots))
    }
}

/// What decoding needs besides the bytes: the generation's clock rate (as tables with
/// nothing else) and its table IDs.
struct GenInfo {
    clock: GenTables<'static>,
    ids: TableIds,
}

/// One batch to decode.
#[derive(Clone)]
struct Job {
    /// The generation's event bytes (a copy), and where the batch's body is in them.
    bytes: Arc<Vec<u8>>,
    body: Range<usize>,
    /// The batch's base time, in ticks.
    time: u64,
    info: Arc<GenInfo>,
}

impl Job {
    fn run(&self) -> BatchEvents {
        let body = &self.bytes[self.body.clone()];
        predecode_batch(body, self.time, &self.info.clock, &self.info.ids)
    }
}

enum Slot {
    Pending(Job),
    Running(Job),
    Done(BatchEvents),
    Taken,
}

struct Queue {
    /// The ID of `slots[0]`.
    base: u64,
    slots: VecDeque<Slot>,
    /// Decoded batches not taken yet.
    ready: usize,
    /// A decoding task is on the pool.
    active: bool,
    /// A decoding task panicked: decode on the reader's thread from now on.
    broken: bool,
}

impl Queue {
    fn slot(&mut self, id: u64) -> &mut Slot {
        let i = usize::try_from(id - self.base).unwrap_or(usize::MAX);
        &mut self.slots[i]
    }

    /// The next batch for a decoding task, if the window allows one.
    fn next_job(&mut self) -> Option<(u64, Job)> {
        if self.ready >= WINDOW || self.broken {
            return None;
        }
        let i = self
            .slots
            .iter()
            .position(|s| matches!(s, Slot::Pending(_)))?;
        let Slot::Pending(job) = std::mem::replace(&mut self.slots[i], Slot::Taken) else {
            unreachable!("found a pending slot");
        };
        self.slots[i] = Slot::Running(job.clone());
        Some((self.base + i as u64, job))
    }

    /// Drops the taken slots at the front.
    fn trim(&mut self) {
        while matches!(self.slots.front(), Some(Slot::Taken)) {
            self.slots.pop_front();
            self.base += 1;
        }
    }
}

struct Shared {
    queue: Mutex<Queue>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The queue of batches to decode, and the background task that decodes them.
pub(crate) struct Decoder {
    shared: Arc<Shared>,
}

impl Default for Decoder {
    fn default() -> Self {
        Self {
            shared: Arc::new(Shared {
                queue: Mutex::new(Queue {
                    base: 0,
                    slots: VecDeque::new(),
                    ready: 0,
                    active: false,
                    broken: false,
                }),
                changed: Condvar::new(),
            }),
        }
    }
}

impl Decoder {
    /// Queues the event batches of `g` in file order; returns each thread's slots.
    fn push(&self, g: &Generation<'_>, ids: &TableIds) -> Vec<Vec<u64>> {
        let mut order: Vec<(u64, usize, usize)> = g
            .threads
            .iter()
            .enumerate()
            .flat_map(|(t, th)| {
                th.batches
                    .iter()
                    .enumerate()
                    .map(move |(b, batch)| (batch.offset, t, b))
            })
            .collect();
        order.sort_unstable();
        let size = order
            .iter()
            .map(|&(_, t, b)| g.threads[t].batches[b].body.len())
            .sum();
        let mut bytes = Vec::with_capacity(size);
        let bodies: Vec<Range<usize>> = order
            .iter()
            .map(|&(_, t, b)| {
                let start = bytes.len();
                bytes.extend_from_slice(g.threads[t].batches[b].body);
                start..bytes.len()
            })
            .collect();
        let bytes = Arc::new(bytes);
        let info = Arc::new(GenInfo {
            clock: GenTables {
                generation: g.generation,
                ns_per_tick: g.ns_per_tick(),
                strings: StringTable::default(),
                stacks: StackTable::default(),
                clock: None,
                experimental: Vec::new(),
            },
            ids: ids.clone(),
        });
        let mut slots: Vec<Vec<u64>> = g
            .threads
            .iter()
            .map(|th| vec![0; th.batches.len()])
            .collect();
        let mut q = self.shared.lock();
        let first = q.base + q.slots.len() as u64;
        for (k, (&(_, t, b), body)) in order.iter().zip(bodies).enumerate() {
            slots[t][b] = first + k as u64;
            q.slots.push_back(Slot::Pending(Job {
                bytes: Arc::clone(&bytes),
                body,
                time: g.threads[t].batches[b].time,
                info: Arc::clone(&info),
            }));
        }
        self.wake(&mut q);
        slots
    }

    /// Starts a decoding task if there is work, room in the window, and none running.
    fn wake(&self, q: &mut Queue) {
        if q.active || q.broken || q.ready >= WINDOW {
            return;
        }
        if !q.slots.iter().any(|s| matches!(s, Slot::Pending(_))) {
            return;
        }
        q.active = true;
        let shared = Arc::clone(&self.shared);
        rayon::spawn(move || decode_task(&shared));
    }

    /// The decoded events of the batch in slot `id`: decoded already, being decoded (then it
    /// waits), or not started (then it decodes them here).
    pub(crate) fn take(&self, id: u64) -> BatchEvents {
        let mut q = self.shared.lock();
        loop {
            match std::mem::replace(q.slot(id), Slot::Taken) {
                Slot::Done(events) => {
                    q.ready -= 1;
                    q.trim();
                    self.wake(&mut q);
                    return events;
                }
                Slot::Pending(job) => {
                    q.trim();
                    drop(q);
                    return job.run();
                }
                Slot::Running(job) => {
                    *q.slot(id) = Slot::Running(job);
                    q = self
                        .shared
                        .changed
                        .wait(q)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                Slot::Taken => unreachable!("batch slot {id} taken twice"),
            }
        }
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // A task still running finds nothing left to do.
        let mut q = self.shared.lock();
        q.slots.clear();
        q.base = u64::MAX / 2;
        q.ready = 0;
    }
}

/// A decoding task on rayon's pool: decodes queued batches in file order while the window
/// allows, then ends (the reader starts another when there is room again).
fn decode_task(shared: &Shared) {
    let mut q = shared.lock();
    while let Some((id, job)) = q.next_job() {
        drop(q);
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| job.run()));
        q = shared.lock();
        // The reader may have been dropped meanwhile, emptying the queue.
        let Some(i) = id
            .checked_sub(q.base)
            .and_then(|i| usize::try_from(i).ok())
            .filter(|&i| i < q.slots.len())
        else {
            break;
        };
        match result {
            Ok(events) => {
                q.slots[i] = Slot::Done(events);
                q.ready += 1;
            }
            Err(_) => {
                // Let the reader decode it, and panic there as the sequential reader would.
                q.slots[i] = Slot::Pending(job);
                q.broken = true;
            }
        }
        shared.changed.notify_all();
    }
    q.active = false;
    drop(q);
    shared.changed.notify_all();
}

#[cfg(test)]
mod tests {
    //! The pipelined reader must hand out exactly what the sequential one does: the same
    //! events, the same error, at the same place.

    use std::path::Path;

    use goroscope_format::v2::golden::GoldenTest;

    use super::super::Reader;
    use crate::event::Event;

    /// Every event, and the error (as text) that ends the stream, if any.
    type Stream = (Vec<Event>, Option<String>);

    fn read(mut r: Reader<'_>) -> Stream {
        let mut events = Vec::new();
        while let Some(ev) = r.next_event() {
            match ev {
                Ok(ev) => events.push(ev),
                Err(e) => return (events, Some(e.to_string())),
            }
        }
        (events, None)
    }

    /// Like [`read`], in bulk ([`Reader::next_events`]), with single events now and then,
    /// into a buffer sometimes emptied and sometimes not (so parts are taken whole and
    /// appended).
    fn read_in_bulk(mut r: Reader<'_>) -> Stream {
        let mut events = Vec::new();
        let mut buf = Vec::new();
        for round in 0.. {
            if round % 5 == 4 {
                events.append(&mut buf);
                match r.next_event() {
                    Some(Ok(ev)) => events.push(ev),
                    Some(Err(e)) => return (events, Some(e.to_string())),
                    None => return (events, None),
                }
                continue;
            }
            if round % 2 == 0 {
                events.append(&mut buf);
            }
            let before = buf.len();
            match r.next_events(&mut buf) {
                Ok(true) => assert!(buf.len() > before, "no events but not at the end"),
                Ok(false) => break,
                Err(e) => {
                    events.append(&mut buf);
                    return (events, Some(e.to_string()));
                }
            }
        }
        events.append(&mut buf);
        (events, None)
    }

    /// Reads `data` sequentially, pipelined and with generations ordered ahead; fails if
    /// they differ. Returns the number of events.
    fn same_both_ways(name: &str, data: &[u8]) -> usize {
        let n = same(name, data, Reader::pipelined);
        same(&format!("{name} (ordered ahead)"), data, Reader::parallel);
        same(&format!("{name} (all ordered ahead)"), data, Reader::eager);
        n
    }

    fn same<'a>(
        name: &str,
        data: &'a [u8],
        other: fn(&'a [u8]) -> crate::Result<Reader<'a>>,
    ) -> usize {
        let (Ok(seq), Ok(par)) = (Reader::sequential(data), other(data)) else {
            assert_eq!(Reader::sequential(data).err(), other(data).err(), "{name}");
            return 0;
        };
        let (seq, par) = (read(seq), read_in_bulk(par));
        assert_eq!(seq.1, par.1, "{name}: errors differ");
        assert_eq!(seq.0.len(), par.0.len(), "{name}: event counts differ");
        if let Some(i) = (0..seq.0.len()).find(|&i| seq.0[i] != par.0[i]) {
            panic!(
                "{name}: event {i} differs:\n sequential {:?}\n pipelined  {:?}",
                seq.0[i], par.0[i]
            );
        }
        seq.0.len()
    }

    fn v2_traces(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<_> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "trace"))
            .filter_map(|p| Some((p.display().to_string(), std::fs::read(&p).ok()?)))
            .filter(|(_, d)| goroscope_format::read_header(d).is_ok_and(|(v, _)| !v.is_v1()))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn pipelined_reader_matches_sequential_on_fixtures() {
        let traces = v2_traces(&goroscope_testkit::fixtures_dir().join("traces"));
        assert!(!traces.is_empty(), "no v2 fixtures");
        for (name, data) in &traces {
            assert!(same_both_ways(name, data) > 0, "{name}: no events");
        }
    }

    #[test]
    fn pipelined_reader_matches_sequential_on_damaged_fixtures() {
        // Cuts and flipped bytes put errors in tables, events and ordering, in the first and
        // in later generations: they must come at the same event either way.
        for (name, data) in v2_traces(&goroscope_testkit::fixtures_dir().join("traces")) {
            let n = data.len();
            for k in 1..7 {
                let at = 16 + (n - 16) * k / 7;
                same_both_ways(&format!("{name} cut at {at}"), &data[..at]);
                let mut flipped = data.clone();
                flipped[at] ^= 0x5a;
                same_both_ways(&format!("{name} byte {at} flipped"), &flipped);
            }
        }
    }

    #[test]
    fn generations_ordered_ahead_match_sequential_under_random_damage() {
        // Property: whatever bytes change, ordering every generation ahead gives what
        // ordering them in turn gives. Flipped bytes in statuses, IDs and sequence numbers
        // make predictions fail, events error, or orders change; the traces with several
        // generations are the ones where that matters.
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let traces: Vec<_> = v2_traces(&goroscope_testkit::fixtures_dir().join("traces"))
            .into_iter()
            .filter(|(_, d)| goroscope_format::v2::index(d).is_ok_and(|i| i.generations.len() > 1))
            .collect();
        assert!(traces.len() >= 2, "fixtures with several generations");
        for (name, data) in &traces {
            for _ in 0..40 {
                let mut d = data.clone();
                for _ in 0..1 + next() % 3 {
                    let at = 16 + (next() as usize) % (d.len() - 16);
                    d[at] ^= 1 << (next() % 8);
                }
                let what = format!("{name} with bytes flipped");
                same(&what, &d, Reader::eager);
            }
        }
    }

    /// File offsets of the status argument of every goroutine and P status event after
    /// the first generation of `data`.
    fn status_offsets(data: &[u8]) -> Vec<usize> {
        use goroscope_format::v2::{EventCursor, EventType, RawEvent};
        let idx = goroscope_format::v2::index(data).expect("a v2 trace");
        let mut out = Vec::new();
        for span in idx.generations.iter().skip(1) {
            for b in &span.batches {
                let mut c = EventCursor::new(b.body);
                let mut raw = RawEvent::default();
                loop {
                    let pos = c.position();
                    if !matches!(c.next_into(&mut raw), Ok(true)) {
                        break;
                    }
                    // Type, then uvarints: dt, g, m, status or dt, p, status.
                    let skip = match raw.ty {
                        EventType::GO_STATUS | EventType::GO_STATUS_STACK => 3,
                        EventType::PROC_STATUS => 2,
                        _ => continue,
                    };
                    let body = &b.body[pos + 1..];
                    let mut at = 0;
                    for _ in 0..skip {
                        while body[at] & 0x80 != 0 {
                            at += 1;
                        }
                        at += 1;
                    }
                    out.push(b.body_offset as usize + pos + 1 + at);
                }
            }
        }
        out
    }

    #[test]
    fn generations_ordered_ahead_match_sequential_when_statuses_disagree() {
        // Property: a status that contradicts the generation before (a prediction that fails
        // once the state is known, or an error) gives the same stream both ways.
        let mut redone = 0;
        for (name, data) in v2_traces(&goroscope_testkit::fixtures_dir().join("traces")) {
            let offsets = status_offsets(&data);
            for (k, &at) in offsets.iter().enumerate().step_by(offsets.len() / 25 + 1) {
                let mut d = data.clone();
                d[at] = 1 + (d[at] + k as u8 % 3) % 4;
                same(
                    &format!("{name} with status at {at} changed"),
                    &d,
                    Reader::eager,
                );
                let mut r = Reader::eager(&d).expect("a v2 trace");
                while let Some(Ok(_)) = r.next_event() {}
                redone += r.ahead_counts().1;
            }
        }
        assert!(redone > 0, "no prediction failed");
    }

    #[test]
    fn pipelined_reader_matches_sequential_on_go_golden_tests() {
        let Some(goroot) = goroscope_testkit::require_goroot("pipelined_reader_golden") else {
            return;
        };
        let dir = goroot.join("src/internal/trace/testdata/tests");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("Go's test directory")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "test"))
            .collect();
        files.sort();
        assert_eq!(files.len(), 22, "Go's golden tests");
        for f in files {
            let text = std::fs::read_to_string(&f).expect("a golden test");
            let test = GoldenTest::parse(&text).expect("a golden test");
            let data = test.to_binary().expect("Go's text form");
            same_both_ways(&f.display().to_string(), &data);
        }
    }

    /// The large traces of `bench-data/` (`just big-traces`); slow, so run by hand:
    /// `cargo test --release -p goroscope-trace -- --ignored pipelined`.
    #[test]
    #[ignore = "needs bench-data/*.trace and a release build"]
    fn pipelined_reader_matches_sequential_on_big_traces() {
        let traces = v2_traces(&goroscope_testkit::workspace_root().join("bench-data"));
        assert!(
            !traces.is_empty(),
            "no bench-data/*.trace (run `just big-traces`)"
        );
        for (name, data) in &traces {
            let n = same_both_ways(name, data);
            let (adopted, redone) = ahead_counts(data);
            eprintln!(
                "{name}: {n} events, identical; ordered ahead: {adopted} generations adopted, {redone} ordered again"
            );
        }
    }

    /// Reads `data` with every generation ordered ahead; returns how many were adopted and
    /// how many ordered again.
    fn ahead_counts(data: &[u8]) -> (u32, u32) {
        let mut r = Reader::eager(data).expect("a v2 trace");
        while let Some(Ok(_)) = r.next_event() {}
        r.ahead_counts()
    }

    #[test]
    fn generations_ordered_ahead_are_adopted() {
        // On well-formed traces the predictions hold: every generation ordered ahead is
        // adopted.
        for (name, data) in v2_traces(&goroscope_testkit::fixtures_dir().join("traces")) {
            let (adopted, redone) = ahead_counts(&data);
            let syncs = Reader::sequential(&data)
                .expect("a v2 trace")
                .flatten()
                .filter(|e| e.ty == crate::event::SYNC)
                .count();
            eprintln!("{name}: {adopted} adopted, {redone} ordered again");
            assert_eq!((adopted as usize, redone), (syncs - 1, 0), "{name}");
        }
    }

    #[test]
    fn batches_come_out_whoever_decodes_them() {
        // Slots taken before a task ran are decoded on the taker's thread; the result is the
        // same as a task's, and every slot can be taken exactly once.
        let data =
            std::fs::read(goroscope_testkit::fixtures_dir().join("traces/mixed-go1.27.3.trace"))
                .expect("a fixture");
        let idx = goroscope_format::v2::index(&data).expect("a v2 fixture");
        let g = goroscope_format::v2::decode(&data, idx.version, &idx.generations[0])
            .expect("a generation");
        let ids = super::TableIds::new(&g.stacks, &g.strings);
        let clock = crate::event::GenTables {
            generation: g.generation,
            ns_per_tick: g.ns_per_tick(),
            strings: g.strings.clone(),
            stacks: g.stacks.clone(),
            clock: None,
            experimental: Vec::new(),
        };
        let decoder = super::Decoder::default();
        let slots = decoder.push(&g, &ids);
        let mut n = 0;
        for (t, th) in g.threads.iter().enumerate() {
            for (b, batch) in th.batches.iter().enumerate() {
                let want = super::predecode_batch(batch.body, batch.time, &clock, &ids);
                assert_eq!(decoder.take(slots[t][b]), want);
                n += want.events.len();
            }
        }
        assert!(n > 0);
        assert!(decoder.shared.lock().slots.is_empty());
    }
}
