//! Building timelines from the ordered event stream, in one pass.

use goroscope_format::v2::EventType;

use super::intern::{Interner, StackId, StrId};
use super::lane::Lane;
use super::procs::{COUNTS_RESOLUTION_NS, ProcPart};
use super::records::{GoSpan, NO_THREAD_INDEX, Point};
use super::{
    ClockSync, CpuSample, Goroutine, Interval, Label, Log, Metrics, Region, Stw, Task, Timelines,
};
use crate::error::Result;
use crate::event::{
    Event, EventKind, GoId, GoState, NO_GOROUTINE, NO_PROC, Resource, StringRef, Tables, ThreadId,
};
use crate::order::IdMap;

/// Reads every event of `data` and builds its timelines. On a read error, returns the
/// timelines of everything before it together with the error.
pub fn build(data: &[u8]) -> Result<(Timelines, Option<crate::Error>)> {
    let mut reader = crate::stream::EventStream::new(data)?;
    let mut b = Builder::new();
    let mut error = None;
    while let Some(ev) = reader.next_event() {
        match ev {
            Ok(ev) => b.event(&ev, reader.tables()),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    Ok((b.finish(), error))
}

#[derive(Debug, Default)]
struct GState {
    /// Open regions: indexes into the goroutine's regions.
    open_regions: Vec<u32>,
    /// The open mark assist: index into the goroutine's assists.
    open_assist: Option<u32>,
    state: GoState,
}

/// Goroutine IDs below this are looked up in a table rather than a map (Go numbers
/// goroutines from 1 up; a long-running program may pass it).
const G_SLOTS: GoId = 1 << 20;

/// Builds [`Timelines`] from events fed in order.
#[derive(Debug)]
pub struct Builder {
    t: Timelines,
    intern: Interner,
    /// Per goroutine index (the order of `t.goroutines` until `finish`): its build state.
    gs: Vec<GState>,
    /// Goroutine IDs at or above [`G_SLOTS`] (or below 0): their index.
    g_map: IdMap<GoId, u32>,
    /// Per goroutine ID below [`G_SLOTS`]: its index, or `u32::MAX` (the hot path).
    g_slots: Vec<u32>,
    /// The P and thread half.
    procs: ProcPart,
    /// Thread IDs and their index, as the P and thread half numbered them.
    ms: IdMap<ThreadId, u32>,
    tasks: IdMap<u64, u32>,
    open_gc: Option<usize>,
    open_stw: IdMap<GoId, usize>,
    first: bool,
    /// The last thread looked up, and its index (threads are few and events come in runs).
    last_thread: (ThreadId, u32),
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    /// An empty builder.
    pub fn new() -> Self {
        Self {
            t: Timelines {
                metrics: Metrics {
                    counts_resolution: COUNTS_RESOLUTION_NS,
                    ..Metrics::default()
                },
                ..Timelines::default()
            },
            intern: Interner::default(),
            gs: Vec::new(),
            g_map: IdMap::default(),
            g_slots: Vec::new(),
            procs: ProcPart::new(),
            ms: IdMap::default(),
            tasks: IdMap::default(),
            open_gc: None,
            open_stw: IdMap::default(),
            first: true,
            last_thread: (-1, NO_THREAD_INDEX),
        }
    }

    /// Feeds the next event; `tables` resolves its strings and stacks.
    ///
    /// Events are expected in time order; an event earlier than the one before it (possible
    /// only across a gap in a damaged trace) is taken to happen at that earlier event's time.
    pub fn event(&mut self, ev: &Event, tables: &Tables<'_>) {
        self.procs.event(ev);
        for &(m, i) in &self.procs.new_threads {
            self.ms.insert(m, i);
        }
        self.procs.new_threads.clear();
        self.go_event(ev, tables);
    }

    /// Feeds a run of events that the P and thread half has already been fed, with the
    /// threads it numbered in them, calling `each` after each event.
    fn go_events(
        &mut self,
        events: &[Event],
        new_threads: &[(ThreadId, u32)],
        tables: &Tables<'_>,
        each: &mut dyn FnMut(&Event, &Tables<'_>),
    ) {
        self.learn_threads(new_threads);
        for ev in events {
            self.go_event(ev, tables);
            each(ev, tables);
        }
    }

    /// The goroutine half of [`Builder::event`]: everything but the P and thread lanes.
    fn go_event(&mut self, ev: &Event, tables: &Tables<'_>) {
        let clamped;
        let ev = if !self.first && ev.time < self.t.end {
            clamped = Event {
                time: self.t.end,
                ..*ev
            };
            &clamped
        } else {
            ev
        };
        if self.first {
            self.t.start = ev.time;
            self.first = false;
        }
        self.t.end = ev.time;
        match ev.kind() {
            EventKind::StateTransition => self.transition(ev, tables),
            EventKind::RangeBegin | EventKind::RangeActive | EventKind::RangeEnd => {
                self.range(ev, tables);
            }
            EventKind::Metric => self.metric(ev),
            EventKind::Label => self.label(ev, tables),
            EventKind::TaskBegin | EventKind::TaskEnd => self.task(ev, tables),
            EventKind::RegionBegin | EventKind::RegionEnd => self.region(ev, tables),
            EventKind::Log => {
                let Some((task, category, message)) = ev.log() else {
                    return;
                };
                let log = Log {
                    time: ev.time,
                    g: ev.ctx.g,
                    task,
                    category: self.intern.string(tables, category),
                    message: self.intern.string(tables, message),
                    stack: self.intern.stack(tables, ev.stack()),
                };
                self.t.logs.push(log);
            }
            EventKind::StackSample => {
                let sample = CpuSample {
                    time: ev.time,
                    g: ev.ctx.g,
                    p: ev.ctx.p,
                    m: ev.ctx.m,
                    stack: self.intern.stack(tables, ev.stack()),
                };
                self.t.cpu_samples.push(sample);
            }
            EventKind::Sync => {
                if let Some(t) = tables.gen_tables(ev.table)
                    && let Some(c) = t.clock
                {
                    self.t.clock.push(ClockSync {
                        trace: t.ticks_to_ns(c.ticks),
                        wall_ns: i128::from(c.sec) * 1_000_000_000 + i128::from(c.nsec),
                    });
                }
            }
            EventKind::Experimental | EventKind::Bad => {}
        }
    }

    fn str(&mut self, tables: &Tables<'_>, ev: &Event, id: u64) -> StrId {
        self.intern.string(
            tables,
            StringRef {
                table: ev.table,
                id,
            },
        )
    }

    /// The index of thread `m`, numbered by the P and thread half (which saw it first).
    #[inline]
    fn thread(&mut self, m: ThreadId) -> u32 {
        if self.last_thread.0 == m && m >= 0 {
            return self.last_thread.1;
        }
        match self.ms.get(&m) {
            Some(&i) => {
                self.last_thread = (m, i);
                i
            }
            None => NO_THREAD_INDEX,
        }
    }

    /// Learns what the P and thread half found: new thread indices, to use from now on.
    fn learn_threads(&mut self, threads: &[(ThreadId, u32)]) {
        for &(m, i) in threads {
            self.ms.insert(m, i);
        }
    }

    /// The index of goroutine `id`, adding it on first sight.
    #[inline]
    fn goroutine_index(&mut self, id: GoId) -> usize {
        if let Some(&i) = usize::try_from(id).ok().and_then(|i| self.g_slots.get(i))
            && i != u32::MAX
        {
            return i as usize;
        }
        self.new_goroutine(id)
    }

    #[cold]
    fn new_goroutine(&mut self, id: GoId) -> usize {
        let slot = usize::try_from(id).ok().filter(|_| id < G_SLOTS);
        if slot.is_none()
            && let Some(&i) = self.g_map.get(&id)
        {
            return i as usize;
        }
        let index = self.t.goroutines.len();
        self.t.goroutines.push(Goroutine {
            id,
            created: None,
            creator: NO_GOROUTINE,
            creation_stack: StackId::NONE,
            start_stack: StackId::NONE,
            name: StrId(0),
            ended: None,
            spans: Lane::default(),
            regions: Vec::new(),
            assists: Vec::new(),
            gc_worker: false,
        });
        self.gs.push(GState::default());
        match slot {
            Some(slot) => {
                if self.g_slots.len() <= slot {
                    self.g_slots
                        .resize((slot + 1).next_power_of_two(), u32::MAX);
                }
                self.g_slots[slot] = index as u32;
            }
            None => {
                self.g_map.insert(id, index as u32);
            }
        }
        index
    }

    fn transition(&mut self, ev: &Event, tables: &Tables<'_>) {
        let Some(tr) = ev.state_transition() else {
            return;
        };
        // Ps and threads are the other half's.
        if let Resource::Goroutine { id, old, new } = tr.resource {
            self.go_transition(ev, tables, &tr, id, old, new);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn go_transition(
        &mut self,
        ev: &Event,
        tables: &Tables<'_>,
        tr: &crate::event::StateTransition,
        id: GoId,
        old: GoState,
        new: GoState,
    ) {
        if old == new {
            return;
        }
        let stack = match tr.stack {
            Some(s) if s.id != 0 => self.intern.stack(tables, Some(s)),
            _ => StackId::NONE,
        };
        let reason = if tr.reason.id != 0 {
            self.intern.string(tables, tr.reason)
        } else {
            StrId(0)
        };
        let executing = new.executing();
        let m = if executing {
            self.thread(ev.ctx.m)
        } else {
            NO_THREAD_INDEX
        };
        let mut span = GoSpan {
            time: ev.time,
            state: new,
            reason,
            stack,
            p: if executing { ev.ctx.p } else { NO_PROC },
            m,
            ..GoSpan::default()
        };
        if old == GoState::Waiting && new == GoState::Runnable {
            span.woken = true;
            span.waker = ev.ctx.g;
            span.waker_stack = self.intern.stack(tables, ev.stack());
        }
        let creation =
            (old == GoState::NotExist).then(|| (ev.ctx.g, self.intern.stack(tables, ev.stack())));
        let index = self.goroutine_index(id);
        self.gs[index].state = new;
        let goroutine = &mut self.t.goroutines[index];
        if let Some((creator, creation_stack)) = creation {
            goroutine.created = Some(ev.time);
            goroutine.creator = creator;
            goroutine.creation_stack = creation_stack;
            goroutine.start_stack = stack;
        }
        if goroutine.name.0 == 0
            && stack.is_some()
            && let Some(f) = self.intern.stacks.frames(stack).last()
        {
            goroutine.name = f.func;
        }
        if new == GoState::NotExist {
            goroutine.ended = Some(ev.time);
        }
        let lane = &mut goroutine.spans;
        if lane.last().is_some_and(|l| l.time == ev.time) {
            lane.replace_last(span);
        } else {
            lane.push(span);
        }
    }

    fn range(&mut self, ev: &Event, tables: &Tables<'_>) {
        use EventType as T;
        let t = ev.time;
        match ev.ty {
            // An `…Active` event restates, at the start of a generation, a range that was
            // under way at its end: it begins a range only if none is open (the first
            // generation seen; a trace starting mid-range).
            T::GC_ACTIVE if self.open_gc.is_some() => {}
            T::GC_BEGIN | T::GC_ACTIVE => {
                self.t.gc.push(Interval {
                    start: (ev.ty == T::GC_BEGIN).then_some(t),
                    end: None,
                });
                self.open_gc = Some(self.t.gc.len() - 1);
            }
            T::GC_END => match self.open_gc.take() {
                Some(i) => self.t.gc[i].end = Some(t),
                None => self.t.gc.push(Interval {
                    start: None,
                    end: Some(t),
                }),
            },
            T::STW_BEGIN => {
                let kind = self.str(tables, ev, ev.args[0]);
                let stack = self.intern.stack(tables, ev.stack());
                self.t.stw.push(Stw {
                    interval: Interval {
                        start: Some(t),
                        end: None,
                    },
                    kind,
                    g: ev.ctx.g,
                    stack,
                });
                self.open_stw.insert(ev.ctx.g, self.t.stw.len() - 1);
            }
            T::STW_END => match self.open_stw.remove(&ev.ctx.g) {
                Some(i) => self.t.stw[i].interval.end = Some(t),
                None => {
                    let kind = self.str(tables, ev, ev.args[0]);
                    self.t.stw.push(Stw {
                        interval: Interval {
                            start: None,
                            end: Some(t),
                        },
                        kind,
                        g: ev.ctx.g,
                        stack: StackId::NONE,
                    });
                }
            },
            T::GC_MARK_ASSIST_BEGIN | T::GC_MARK_ASSIST_ACTIVE => {
                let g = if ev.ty == T::GC_MARK_ASSIST_ACTIVE {
                    ev.args[0] as i64
                } else {
                    ev.ctx.g
                };
                let index = self.goroutine_index(g);
                if ev.ty == T::GC_MARK_ASSIST_ACTIVE && self.gs[index].open_assist.is_some() {
                    return;
                }
                let assists = &mut self.t.goroutines[index].assists;
                assists.push(Interval {
                    start: (ev.ty == T::GC_MARK_ASSIST_BEGIN).then_some(t),
                    end: None,
                });
                let n = assists.len() as u32 - 1;
                self.gs[index].open_assist = Some(n);
            }
            T::GC_MARK_ASSIST_END => {
                let index = self.goroutine_index(ev.ctx.g);
                let open = self.gs[index].open_assist.take();
                let assists = &mut self.t.goroutines[index].assists;
                match open {
                    Some(i) => assists[i as usize].end = Some(t),
                    None => assists.push(Interval {
                        start: None,
                        end: Some(t),
                    }),
                }
            }
            _ => {}
        }
    }

    fn metric(&mut self, ev: &Event) {
        let lane = match ev.ty {
            EventType::HEAP_ALLOC => &mut self.t.metrics.heap_alloc,
            EventType::HEAP_GOAL => &mut self.t.metrics.heap_goal,
            EventType::PROCS_CHANGE => &mut self.t.metrics.gomaxprocs,
            _ => return,
        };
        let value = ev.args[0];
        if lane.last().is_some_and(|l| l.value == value) {
            return;
        }
        lane.push(Point {
            time: ev.time,
            value,
        });
    }

    fn label(&mut self, ev: &Event, tables: &Tables<'_>) {
        let label = self.str(tables, ev, ev.args[0]);
        let gc = self.intern.strings.get(label).starts_with(b"GC ");
        let index = self.goroutine_index(ev.ctx.g);
        if gc {
            self.t.goroutines[index].gc_worker = true;
        }
        self.t.labels.push(Label {
            time: ev.time,
            g: ev.ctx.g,
            label,
        });
    }

    fn task(&mut self, ev: &Event, tables: &Tables<'_>) {
        let Some((id, parent)) = ev.task() else {
            return;
        };
        let t = ev.time;
        if ev.ty == EventType::USER_TASK_BEGIN {
            let kind = self.str(tables, ev, ev.args[2]);
            let stack = self.intern.stack(tables, ev.stack());
            let index = self.t.tasks.len() as u32;
            let parent = (parent != crate::event::NO_TASK).then_some(parent);
            if let Some(p) = parent.and_then(|p| self.tasks.get(&p).copied()) {
                self.t.tasks[p as usize].children.push(index);
            }
            self.t.tasks.push(Task {
                id,
                parent,
                kind,
                interval: Interval {
                    start: Some(t),
                    end: None,
                },
                start_g: ev.ctx.g,
                end_g: NO_GOROUTINE,
                start_stack: stack,
                children: Vec::new(),
            });
            self.tasks.insert(id, index);
        } else {
            match self.tasks.remove(&id) {
                Some(i) => {
                    let task = &mut self.t.tasks[i as usize];
                    task.interval.end = Some(t);
                    task.end_g = ev.ctx.g;
                }
                None => {
                    let kind = self.intern.strings.intern(tables.task_type(ev));
                    self.t.tasks.push(Task {
                        id,
                        parent: (parent != crate::event::NO_TASK).then_some(parent),
                        kind,
                        interval: Interval {
                            start: None,
                            end: Some(t),
                        },
                        start_g: NO_GOROUTINE,
                        end_g: ev.ctx.g,
                        start_stack: StackId::NONE,
                        children: Vec::new(),
                    });
                }
            }
        }
    }

    fn region(&mut self, ev: &Event, tables: &Tables<'_>) {
        let Some((task, name)) = ev.region() else {
            return;
        };
        let kind = self.intern.string(tables, name);
        let stack = self.intern.stack(tables, ev.stack());
        let t = ev.time;
        let index = self.goroutine_index(ev.ctx.g);
        let g = &mut self.gs[index];
        if ev.ty == EventType::USER_REGION_BEGIN {
            let depth = g.open_regions.len() as u16;
            let regions = &mut self.t.goroutines[index].regions;
            regions.push(Region {
                task,
                kind,
                interval: Interval {
                    start: Some(t),
                    end: None,
                },
                depth,
                stack,
            });
            let n = regions.len() as u32 - 1;
            self.gs[index].open_regions.push(n);
        } else {
            match g.open_regions.pop() {
                Some(n) => self.t.goroutines[index].regions[n as usize].interval.end = Some(t),
                None => self.t.goroutines[index].regions.push(Region {
                    task,
                    kind,
                    interval: Interval {
                        start: None,
                        end: Some(t),
                    },
                    depth: 0,
                    stack: StackId::NONE,
                }),
            }
        }
    }

    /// The time of the last event fed.
    pub fn last_time(&self) -> i64 {
        self.t.end
    }

    /// Marks a gap after `time`: events until the next one fed are missing (a damaged part
    /// of the trace was skipped). Every live goroutine's state becomes undetermined, Ps and
    /// threads become idle, open regions and ranges stay open with no end, and the counts
    /// start again from zero.
    pub fn gap(&mut self, time: i64) {
        self.procs.gap(time);
        self.go_gap(time);
    }

    /// The goroutine half of [`Builder::gap`].
    fn go_gap(&mut self, time: i64) {
        for (index, g) in self.gs.iter_mut().enumerate() {
            if matches!(g.state, GoState::NotExist | GoState::Undetermined) {
                continue;
            }
            g.state = GoState::Undetermined;
            g.open_regions.clear();
            g.open_assist = None;
            let lane = &mut self.t.goroutines[index].spans;
            let span = GoSpan {
                time,
                state: GoState::Undetermined,
                ..GoSpan::default()
            };
            if lane.last().is_some_and(|l| l.time == time) {
                lane.replace_last(span);
            } else {
                lane.push(span);
            }
        }
        self.open_gc = None;
        self.open_stw.clear();
    }

    /// Finishes the timelines.
    pub fn finish(mut self) -> Timelines {
        self.intern.finish();
        self.procs.finish();
        let mut t = self.t;
        t.strings = self.intern.strings;
        t.stacks = self.intern.stacks;
        t.procs = self.procs.procs;
        t.threads = self.procs.threads;
        t.metrics.counts = self.procs.counts_lane;
        t.goroutines.sort_by_key(|g| g.id);
        t.procs.sort_by_key(|p| p.id);
        for g in &mut t.goroutines {
            g.spans.shrink_to_fit();
            g.regions.shrink_to_fit();
            g.assists.shrink_to_fit();
        }
        for p in &mut t.procs {
            p.spans.shrink_to_fit();
            p.sweeps.shrink_to_fit();
        }
        for m in &mut t.threads {
            m.spans.shrink_to_fit();
        }
        t
    }
}

/// Events handed to the P and thread half at a time.
const CHUNK_EVENTS: usize = 8192;

/// Chunks handed over before the goroutine half catches up with the oldest.
const CHUNKS_AHEAD: usize = 2;

/// What the P and thread half sends back: a chunk it has built, and the threads it
/// numbered in it.
type FromProcs = (Vec<Event>, Vec<(ThreadId, u32)>);

/// What the goroutine half sends the P and thread half.
enum ToProcs {
    Events(Vec<Event>),
    Gap(i64),
}

/// A [`Builder`] whose P and thread half runs on its own thread, a few thousand events
/// ahead of the goroutine half on the caller's: the two halves of the build at once, for
/// the same timelines. Made inside a [`std::thread::scope`].
pub struct Pipeline<'scope> {
    builder: Builder,
    chunk: Vec<Event>,
    spare: Vec<Vec<Event>>,
    in_flight: usize,
    to_procs: std::sync::mpsc::Sender<ToProcs>,
    from_procs: std::sync::mpsc::Receiver<FromProcs>,
    procs: std::thread::ScopedJoinHandle<'scope, ProcPart>,
}

impl<'scope> Pipeline<'scope> {
    /// Starts the P and thread half on a thread of `scope`.
    pub fn new<'env>(scope: &'scope std::thread::Scope<'scope, 'env>) -> Self {
        let (to_procs, rx) = std::sync::mpsc::channel::<ToProcs>();
        let (tx, from_procs) = std::sync::mpsc::channel();
        let spawn = std::thread::Builder::new()
            .name("timelines: Ps and threads".into())
            .spawn_scoped(scope, move || {
                let mut part = ProcPart::new();
                for msg in rx {
                    match msg {
                        ToProcs::Events(events) => {
                            for ev in &events {
                                part.event(ev);
                            }
                            let threads = std::mem::take(&mut part.new_threads);
                            if tx.send((events, threads)).is_err() {
                                break;
                            }
                        }
                        ToProcs::Gap(time) => part.gap(time),
                    }
                }
                part
            });
        // Without a thread (none left to the process), the half runs as a panic would end it.
        let procs = spawn.expect("a thread for the P and thread half of the timeline build");
        Self {
            builder: Builder::new(),
            chunk: Vec::with_capacity(CHUNK_EVENTS),
            spare: Vec::new(),
            in_flight: 0,
            to_procs,
            from_procs,
            procs,
        }
    }

    /// Feeds the next event ([`Builder::event`]). `each` is called after the event is
    /// built, with `tables`, which may by then have tables of later generations too.
    pub fn event(
        &mut self,
        ev: &Event,
        tables: &Tables<'_>,
        each: &mut dyn FnMut(&Event, &Tables<'_>),
    ) {
        self.chunk.push(*ev);
        self.gathered(tables, each);
    }

    /// The events gathered and not yet handed over, to append to (then call
    /// [`Pipeline::gathered`]).
    pub fn gathering(&mut self) -> &mut Vec<Event> {
        &mut self.chunk
    }

    /// Hands over the events appended to [`Pipeline::gathering`] once there are enough.
    pub fn gathered(&mut self, tables: &Tables<'_>, each: &mut dyn FnMut(&Event, &Tables<'_>)) {
        if self.chunk.len() >= CHUNK_EVENTS {
            self.hand_over();
            if self.in_flight > CHUNKS_AHEAD {
                self.catch_up(tables, each);
            }
        }
    }

    /// Sends the events gathered so far to the P and thread half.
    fn hand_over(&mut self) {
        let next = self
            .spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(CHUNK_EVENTS));
        let events = std::mem::replace(&mut self.chunk, next);
        // A closed channel means the other thread panicked; `finish` reports it.
        if self.to_procs.send(ToProcs::Events(events)).is_ok() {
            self.in_flight += 1;
        }
    }

    /// Builds the goroutine half of the oldest chunk handed over.
    fn catch_up(&mut self, tables: &Tables<'_>, each: &mut dyn FnMut(&Event, &Tables<'_>)) {
        let Ok((mut events, new_threads)) = self.from_procs.recv() else {
            self.in_flight = 0;
            return;
        };
        self.in_flight -= 1;
        self.builder.go_events(&events, &new_threads, tables, each);
        events.clear();
        self.spare.push(events);
    }

    /// Builds every event fed so far; `tables` must hold all of their tables.
    pub fn drain(&mut self, tables: &Tables<'_>, each: &mut dyn FnMut(&Event, &Tables<'_>)) {
        if !self.chunk.is_empty() {
            self.hand_over();
        }
        while self.in_flight > 0 {
            self.catch_up(tables, each);
        }
    }

    /// The time of the last event built (after [`Pipeline::drain`], the last fed).
    pub fn last_time(&self) -> i64 {
        self.builder.last_time()
    }

    /// Marks a gap after `time` ([`Builder::gap`]); call [`Pipeline::drain`] first.
    pub fn gap(&mut self, time: i64) {
        debug_assert!(self.chunk.is_empty() && self.in_flight == 0);
        let _ = self.to_procs.send(ToProcs::Gap(time));
        self.builder.go_gap(time);
    }

    /// Finishes the timelines; call [`Pipeline::drain`] first.
    pub fn finish(self) -> Timelines {
        let Self {
            mut builder,
            to_procs,
            procs,
            ..
        } = self;
        drop(to_procs);
        builder.procs = match procs.join() {
            Ok(part) => part,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        builder.finish()
    }
}
