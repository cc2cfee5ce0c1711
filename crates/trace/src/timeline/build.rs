//! Building timelines from the ordered event stream, in one pass.

use goroscope_format::v2::EventType;

use super::intern::{Interner, StackId, StrId};
use super::lane::Lane;
use super::records::{Counts, GoSpan, NO_THREAD_INDEX, Point, ProcActivity, ProcSpan, ThreadSpan};
use super::{
    ClockSync, CpuSample, Goroutine, Interval, Label, Log, Metrics, Proc, Region, Stw, Sweep, Task,
    Thread, Timelines,
};
use crate::error::Result;
use crate::event::{
    Event, EventKind, GoId, GoState, NO_GOROUTINE, NO_PROC, ProcId, ProcState, Resource, StringRef,
    Tables, ThreadId,
};
use crate::order::IdMap;

/// The default coalescing window of the goroutine-count series.
const COUNTS_RESOLUTION_NS: i64 = 1_000;

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
    index: u32,
    /// Open regions: indexes into the goroutine's regions.
    open_regions: Vec<u32>,
    /// The open mark assist: index into the goroutine's assists.
    open_assist: Option<u32>,
    state: GoState,
}

/// P IDs below this are looked up in a table rather than a map (a damaged trace may name
/// any ID; real ones are below GOMAXPROCS).
const P_SLOTS: ProcId = 1 << 12;

/// Builds [`Timelines`] from events fed in order.
#[derive(Debug)]
pub struct Builder {
    t: Timelines,
    intern: Interner,
    gs: IdMap<GoId, GState>,
    ps: IdMap<ProcId, (u32, Option<u32>)>,
    /// Per P ID below [`P_SLOTS`]: its index, or `u32::MAX` (the hot path of `ps`).
    p_slots: Vec<u32>,
    ms: IdMap<ThreadId, u32>,
    /// Per thread index: the P and goroutine it holds.
    m_state: Vec<(ProcId, GoId)>,
    tasks: IdMap<u64, u32>,
    open_gc: Option<usize>,
    open_stw: IdMap<GoId, usize>,
    counts: Counts,
    /// The last point of `counts`, not yet in the lane.
    pending_counts: Option<Counts>,
    busy_threads: u32,
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
            gs: IdMap::default(),
            ps: IdMap::default(),
            p_slots: Vec::new(),
            ms: IdMap::default(),
            m_state: Vec::new(),
            tasks: IdMap::default(),
            open_gc: None,
            open_stw: IdMap::default(),
            counts: Counts::default(),
            pending_counts: None,
            busy_threads: 0,
            first: true,
            last_thread: (-1, NO_THREAD_INDEX),
        }
    }

    /// Feeds the next event; `tables` resolves its strings and stacks.
    ///
    /// Events are expected in time order; an event earlier than the one before it (possible
    /// only across a gap in a damaged trace) is taken to happen at that earlier event's time.
    pub fn event(&mut self, ev: &Event, tables: &Tables<'_>) {
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

    fn thread(&mut self, m: ThreadId) -> u32 {
        if m < 0 {
            return NO_THREAD_INDEX;
        }
        if self.last_thread.0 == m {
            return self.last_thread.1;
        }
        if let Some(&i) = self.ms.get(&m) {
            self.last_thread = (m, i);
            return i;
        }
        let i = self.t.threads.len() as u32;
        self.t.threads.push(Thread {
            id: m,
            spans: Lane::default(),
        });
        self.m_state.push((NO_PROC, NO_GOROUTINE));
        self.ms.insert(m, i);
        self.last_thread = (m, i);
        i
    }

    /// Records that thread `m` now holds `p` (if given) and runs `g` (if given).
    fn set_thread(&mut self, time: i64, m: ThreadId, p: Option<ProcId>, g: Option<GoId>) {
        let i = self.thread(m);
        if i == NO_THREAD_INDEX {
            return;
        }
        let (op, og) = self.m_state[i as usize];
        let (np, ng) = (p.unwrap_or(op), g.unwrap_or(og));
        if (np, ng) == (op, og) {
            return;
        }
        let was_busy = op >= 0 || og >= 0;
        let busy = np >= 0 || ng >= 0;
        if was_busy != busy {
            if busy {
                self.busy_threads += 1;
            } else {
                self.busy_threads = self.busy_threads.saturating_sub(1);
            }
            self.counts.threads = self.busy_threads;
            self.push_counts(time);
        }
        self.m_state[i as usize] = (np, ng);
        // While the thread holds a P, the goroutine it runs is on the P's lane; the thread's
        // lane records the P, and the goroutine only when it runs one without a P.
        let shown = if np >= 0 { NO_GOROUTINE } else { ng };
        let lane = &mut self.t.threads[i as usize].spans;
        if lane.last().is_some_and(|l| l.p == np && l.g == shown) {
            return;
        }
        let span = ThreadSpan {
            time,
            p: np,
            g: shown,
        };
        if lane.last().is_some_and(|l| l.time == time) {
            lane.replace_last(span);
        } else {
            lane.push(span);
        }
    }

    fn proc_index(&mut self, p: ProcId) -> Option<u32> {
        if p < 0 {
            return None;
        }
        // P IDs are small: most are found in `p_slots` without hashing.
        if let Some(&slot) = usize::try_from(p).ok().and_then(|p| self.p_slots.get(p))
            && slot != u32::MAX
        {
            return Some(slot);
        }
        if let Some(&(i, _)) = self.ps.get(&p) {
            return Some(i);
        }
        let i = self.t.procs.len() as u32;
        self.t.procs.push(Proc {
            id: p,
            spans: Lane::default(),
            sweeps: Vec::new(),
        });
        self.ps.insert(p, (i, None));
        if p < P_SLOTS {
            let p = p as usize;
            if self.p_slots.len() <= p {
                self.p_slots.resize(p + 1, u32::MAX);
            }
            self.p_slots[p] = i;
        }
        Some(i)
    }

    fn set_proc(&mut self, time: i64, p: ProcId, activity: ProcActivity, g: GoId, m: ThreadId) {
        let Some(i) = self.proc_index(p) else {
            return;
        };
        let m = if activity == ProcActivity::Idle {
            NO_THREAD_INDEX
        } else {
            self.thread(m)
        };
        let span = ProcSpan {
            time,
            activity,
            g,
            m,
        };
        let lane = &mut self.t.procs[i as usize].spans;
        match lane.last() {
            Some(l) if l.activity == span.activity && l.g == span.g && l.m == span.m => {}
            Some(l) if l.time == time => lane.replace_last(span),
            _ => lane.push(span),
        }
    }

    fn goroutine(&mut self, id: GoId) -> &mut GState {
        let goroutines = &mut self.t.goroutines;
        self.gs.entry(id).or_insert_with(|| {
            let index = goroutines.len() as u32;
            goroutines.push(Goroutine {
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
            GState {
                index,
                ..GState::default()
            }
        })
    }

    /// Records the counts at `time`: points closer than the resolution to the last one
    /// replace it (keeping its time). The last point waits in `pending_counts` until a
    /// later one does not replace it (re-encoding the lane's last record on every event
    /// cost a tenth of the build).
    fn push_counts(&mut self, time: i64) {
        self.counts.time = time;
        match &mut self.pending_counts {
            Some(last) if time - last.time < self.t.metrics.counts_resolution => {
                let t = last.time;
                *last = self.counts;
                last.time = t;
            }
            pending => {
                if let Some(last) = pending.replace(self.counts) {
                    self.t.metrics.counts.push(last);
                }
            }
        }
    }

    fn count(&mut self, state: GoState, delta: i32) {
        let slot = match state {
            GoState::Runnable => &mut self.counts.runnable,
            GoState::Running => &mut self.counts.running,
            GoState::Waiting => &mut self.counts.waiting,
            GoState::Syscall => &mut self.counts.syscall,
            _ => return,
        };
        *slot = slot.saturating_add_signed(delta);
    }

    fn transition(&mut self, ev: &Event, tables: &Tables<'_>) {
        let Some(tr) = ev.state_transition() else {
            return;
        };
        match tr.resource {
            Resource::Goroutine { id, old, new } => {
                self.go_transition(ev, tables, &tr, id, old, new);
            }
            Resource::Proc { id, old, new } => {
                if old == new && old != ProcState::Undetermined {
                    return;
                }
                match new {
                    ProcState::Running => {
                        let (activity, g) = if ev.ty == EventType::PROC_STATUS && ev.args[1] == 3 {
                            (ProcActivity::Syscall, ev.ctx.g)
                        } else {
                            (ProcActivity::Running, NO_GOROUTINE)
                        };
                        self.set_proc(ev.time, id, activity, g, ev.ctx.m);
                        self.set_thread(ev.time, ev.ctx.m, Some(id), None);
                    }
                    ProcState::Idle | ProcState::NotExist => {
                        let activity = if new == ProcState::Idle {
                            ProcActivity::Idle
                        } else {
                            ProcActivity::NotExist
                        };
                        self.set_proc(ev.time, id, activity, NO_GOROUTINE, -1);
                        match ev.ty {
                            EventType::PROC_STOP => {
                                self.set_thread(ev.time, ev.ctx.m, Some(NO_PROC), None);
                            }
                            EventType::PROC_STEAL if ev.args[3] != 4 => {
                                // The thread that lost the P: the stealer itself for a
                                // self-steal, otherwise the victim named in the event.
                                let victim = if ev.args[2] as i64 == ev.ctx.m || ev.args[2] == 0 {
                                    ev.ctx.m
                                } else {
                                    ev.args[2] as i64
                                };
                                self.set_thread(ev.time, victim, Some(NO_PROC), None);
                            }
                            _ => {}
                        }
                    }
                    ProcState::Undetermined => {}
                }
            }
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
        let name = if stack.is_some() {
            self.intern.stacks.frames(stack).last().map(|f| f.func)
        } else {
            None
        };
        let g = self.goroutine(id);
        let index = g.index as usize;
        g.state = new;
        let goroutine = &mut self.t.goroutines[index];
        if let Some((creator, creation_stack)) = creation {
            goroutine.created = Some(ev.time);
            goroutine.creator = creator;
            goroutine.creation_stack = creation_stack;
            goroutine.start_stack = stack;
        }
        if goroutine.name.0 == 0
            && let Some(name) = name
        {
            goroutine.name = name;
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
        self.count(old, -1);
        self.count(new, 1);
        self.push_counts(ev.time);

        // What the goroutine's thread and P do now.
        let t = ev.time;
        match (old, new) {
            (_, GoState::Running) => {
                self.set_thread(t, ev.ctx.m, None, Some(id));
                self.set_proc(t, ev.ctx.p, ProcActivity::Running, id, ev.ctx.m);
            }
            (_, GoState::Syscall) => {
                self.set_thread(t, ev.ctx.m, None, Some(id));
                self.set_proc(t, ev.ctx.p, ProcActivity::Syscall, id, ev.ctx.m);
            }
            (GoState::Running | GoState::Syscall, _) => {
                self.set_thread(t, ev.ctx.m, None, Some(NO_GOROUTINE));
                if old == GoState::Running {
                    self.set_proc(t, ev.ctx.p, ProcActivity::Running, NO_GOROUTINE, ev.ctx.m);
                }
            }
            _ => {}
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
                let st = self.goroutine(g);
                if ev.ty == T::GC_MARK_ASSIST_ACTIVE && st.open_assist.is_some() {
                    return;
                }
                let index = st.index as usize;
                let assists = &mut self.t.goroutines[index].assists;
                assists.push(Interval {
                    start: (ev.ty == T::GC_MARK_ASSIST_BEGIN).then_some(t),
                    end: None,
                });
                let n = assists.len() as u32 - 1;
                self.goroutine(g).open_assist = Some(n);
            }
            T::GC_MARK_ASSIST_END => {
                let st = self.goroutine(ev.ctx.g);
                let (index, open) = (st.index as usize, st.open_assist.take());
                let assists = &mut self.t.goroutines[index].assists;
                match open {
                    Some(i) => assists[i as usize].end = Some(t),
                    None => assists.push(Interval {
                        start: None,
                        end: Some(t),
                    }),
                }
            }
            T::GC_SWEEP_BEGIN | T::GC_SWEEP_ACTIVE => {
                let p = if ev.ty == T::GC_SWEEP_ACTIVE {
                    ev.args[0] as i64
                } else {
                    ev.ctx.p
                };
                let Some(i) = self.proc_index(p) else {
                    return;
                };
                if ev.ty == T::GC_SWEEP_ACTIVE && self.ps.get(&p).is_some_and(|e| e.1.is_some()) {
                    return;
                }
                let sweeps = &mut self.t.procs[i as usize].sweeps;
                sweeps.push(Sweep {
                    interval: Interval {
                        start: (ev.ty == T::GC_SWEEP_BEGIN).then_some(t),
                        end: None,
                    },
                    g: ev.ctx.g,
                    swept: 0,
                    reclaimed: 0,
                });
                let n = sweeps.len() as u32 - 1;
                if let Some(e) = self.ps.get_mut(&p) {
                    e.1 = Some(n);
                }
            }
            T::GC_SWEEP_END => {
                let p = ev.ctx.p;
                let Some(i) = self.proc_index(p) else {
                    return;
                };
                let open = self.ps.get_mut(&p).and_then(|e| e.1.take());
                let sweeps = &mut self.t.procs[i as usize].sweeps;
                let sweep = match open {
                    Some(n) => &mut sweeps[n as usize],
                    None => {
                        sweeps.push(Sweep {
                            g: ev.ctx.g,
                            ..Sweep::default()
                        });
                        sweeps.last_mut().expect("just pushed")
                    }
                };
                sweep.interval.end = Some(t);
                sweep.swept = ev.args[0];
                sweep.reclaimed = ev.args[1];
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
        let g = self.goroutine(ev.ctx.g);
        let index = g.index as usize;
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
        let g = self.goroutine(ev.ctx.g);
        let index = g.index as usize;
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
            self.goroutine(ev.ctx.g).open_regions.push(n);
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
        let ids: Vec<GoId> = self.gs.keys().copied().collect();
        for id in ids {
            let g = self.goroutine(id);
            if matches!(g.state, GoState::NotExist | GoState::Undetermined) {
                continue;
            }
            g.state = GoState::Undetermined;
            g.open_regions.clear();
            g.open_assist = None;
            let index = g.index as usize;
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
        let procs: Vec<ProcId> = self.ps.keys().copied().collect();
        for p in procs {
            self.set_proc(time, p, ProcActivity::Idle, NO_GOROUTINE, -1);
        }
        let threads: Vec<ThreadId> = self.ms.keys().copied().collect();
        for m in threads {
            self.set_thread(time, m, Some(NO_PROC), Some(NO_GOROUTINE));
        }
        self.open_gc = None;
        self.open_stw.clear();
        self.counts = Counts::default();
        self.busy_threads = 0;
        self.push_counts(time);
    }

    /// Finishes the timelines.
    pub fn finish(mut self) -> Timelines {
        if let Some(last) = self.pending_counts.take() {
            self.t.metrics.counts.push(last);
        }
        self.intern.finish();
        let mut t = self.t;
        t.strings = self.intern.strings;
        t.stacks = self.intern.stacks;
        t.goroutines.sort_by_key(|g| g.id);
        t.procs.sort_by_key(|p| p.id);
        for g in &mut t.goroutines {
            g.spans.shrink_to_fit();
            g.regions.shrink_to_fit();
        }
        for p in &mut t.procs {
            p.spans.shrink_to_fit();
        }
        for m in &mut t.threads {
            m.spans.shrink_to_fit();
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_closer_than_the_resolution_replace_the_last_point() {
        let mut b = Builder::new();
        let res = b.t.metrics.counts_resolution;
        // (time, runnable): runs of close points, far points, a point exactly one
        // resolution after the last kept one.
        let mut time = 0;
        let mut steps = Vec::new();
        for i in 0..200u32 {
            time += match i % 7 {
                0 => res * 3,
                3 => res,
                _ => res / 5,
            };
            steps.push((time, i));
        }
        // The rule, on a plain vector: a point within the resolution of the last one
        // replaces it and keeps its time.
        let mut want: Vec<Counts> = Vec::new();
        for &(time, runnable) in &steps {
            let c = Counts {
                time,
                runnable,
                ..Counts::default()
            };
            match want.last_mut() {
                Some(l) if time - l.time < res => *l = Counts { time: l.time, ..c },
                _ => want.push(c),
            }
        }
        for &(time, runnable) in &steps {
            b.counts.runnable = runnable;
            b.push_counts(time);
        }
        let t = b.finish();
        let got: Vec<Counts> = t.metrics.counts.iter().collect();
        assert_eq!(got, want);
        assert!(want.len() > 40 && want.len() < 150, "{}", want.len());
    }
}
