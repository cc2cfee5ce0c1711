//! pprof-style profiles of time spent waiting: `go tool trace -pprof=net|sync|syscall|sched`,
//! sample for sample, and the `released-by` profile, which charges blocked time to the code
//! that released the waiter.
//!
//! A [`Profile`] is a list of [`Sample`]s: a stack (innermost frame first), how many waits
//! it stands for and how long they lasted in total. Any analysis can make one from its own
//! `(stack, count, duration)` samples with a [`ProfileBuilder`]; `goroscope-report` writes
//! it as a gzipped `profile.proto` that `go tool pprof` reads.
//!
//! # Go's four profiles
//!
//! [`GoProfiler`] (or [`go_profiles`] over an [`EventStream`]) computes them exactly as
//! Go 1.27's `cmd/trace/pprof.go` does, quirks included:
//!
//! | kind | a sample is time spent | starting at (and with the stack of) |
//! |---|---|---|
//! | [`net`](GoProfileKind::Net) | waiting with the reason `network` | the `GoBlock` |
//! | [`sync`](GoProfileKind::Sync) | waiting with a reason containing `chan`, `sync` or `select` (so `synctest` too) | the `GoBlock` |
//! | [`syscall`](GoProfileKind::Syscall) | in a syscall | the `GoSyscallBegin` (none for a goroutine created in a syscall; for one first seen in a syscall, the status event's stack if it has one) |
//! | [`sched`](GoProfileKind::Sched) | runnable | whatever made it runnable: the *creator's* stack for a new goroutine, the *unblocker's* for an unblock, its own for a `GoStop`, none after a syscall that lost its P; a status event's stack, if any |
//!
//! - Per goroutine, a sample starts at the first transition into the state (for the reason)
//!   and ends at the next transition out of it; transitions into the same state in between
//!   (the status events at generation boundaries) change nothing.
//! - The stack is the *event's* stack of the transition that started the sample, not the
//!   goroutine's own transition stack (hence the creator and the unblocker for `sched`).
//! - Each sample counts only its overlap with the goroutine's `[StartTime, EndTime]` from
//!   Go's summary (see [`crate::summary`]), `EndTime` being the end of the trace for a
//!   goroutine that did not end. A goroutine's first scheduling latency (creation to first
//!   run) therefore never counts, while a goroutine that never ran has `StartTime` 0 and all
//!   its samples count. Only samples with a positive overlap are counted.
//! - Samples are merged by their first 128 PCs, across generations; stacks are cut at 128
//!   frames.
//! - On a damaged trace, as `go tool trace` does, samples use only the events up to the last
//!   Sync before the error, while `StartTime`/`EndTime` see every event read.
//!
//! Go's sample order is Go's map order (random); ours is sorted by stack, so the same trace
//! always gives the same profile. The one thing we do not reproduce: when equal PCs carry
//! different frame information in different generations (which a real program never
//! produces), Go keeps the most recently recorded generation's, we keep the first seen.
//!
//! # The released-by profile
//!
//! [`released_by`] charges each wait of [`crate::blocking`] to the stack of the goroutine
//! that released it (made it runnable): for a lock convoy or a slow producer, the code
//! everyone waits for is at the top. A sample's count is the number of waits, its delay
//! their total duration, with no `[StartTime, EndTime]` filter. Waits not released by a
//! goroutine's code get a one-frame synthetic stack (PC 0, no file):
//!
//! - [`RUNTIME_FRAME`] `(runtime)`: released by the runtime with no goroutine running (a
//!   timer or the network poller inside the scheduler), or the wait ended some other way
//!   (the goroutine exited or the next generation showed it runnable).
//! - [`STILL_BLOCKED_FRAME`] `(still blocked at trace end)`: the wait had not ended when the
//!   trace ended; its duration runs to the end of the trace.
//! - [`NO_STACK_FRAME`] `(releaser stack unknown)`: released by a goroutine, but the trace
//!   has no stack for the release.
//!
//! Note that a release by the runtime *inside* a goroutine (a timer run while a goroutine
//! was on the P, for instance) is charged to that goroutine's stack at that moment, which
//! is what the trace records.

use std::sync::Arc;

use goroscope_trace::event::{GoId, Resource, StackRef, StateTransition, StringRef, Time};
use goroscope_trace::timeline::{StackId, StrId, Timelines};
use goroscope_trace::{Event, EventKind, EventStream, GoState, Tables};

use crate::blocking::Wait;
use crate::idmap::{FxHashMap, IdMap};
use crate::intern::SymCache;
use crate::pass::{Facts, with_facts};
use crate::summary::Duration;

/// How many frames of a stack count: Go merges samples by their first 128 PCs and cuts
/// stacks there.
pub const MAX_STACK: usize = 128;

/// The synthetic frame of waits released by the runtime (see the [module docs](self)).
pub const RUNTIME_FRAME: &str = "(runtime)";
/// The synthetic frame of waits still open at the end of the trace.
pub const STILL_BLOCKED_FRAME: &str = "(still blocked at trace end)";
/// The synthetic frame of waits released by a goroutine whose stack the trace lacks.
pub const NO_STACK_FRAME: &str = "(releaser stack unknown)";

/// One stack frame of a profile.
///
/// Strings are bytes as the trace has them (Go cuts long strings, so they may be invalid
/// UTF-8). A synthetic frame has PC 0 and is told apart from others by its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Frame {
    /// The program counter; 0 for a synthetic frame.
    pub pc: u64,
    /// The function name.
    pub func: Arc<[u8]>,
    /// The file name.
    pub file: Arc<[u8]>,
    /// The line number.
    pub line: u64,
}

impl Frame {
    /// A synthetic frame named `name`: PC 0, no file, line 0.
    pub fn synthetic(name: &str) -> Self {
        Self {
            pc: 0,
            func: name.as_bytes().into(),
            file: Arc::from(&b""[..]),
            line: 0,
        }
    }

    /// Whether this is a synthetic frame (PC 0).
    pub fn is_synthetic(&self) -> bool {
        self.pc == 0
    }
}

/// One sample of a profile: a stack and what it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The frames, innermost first; empty when the trace had no stack.
    pub stack: Vec<Frame>,
    /// How many waits (pprof's `contentions/count`).
    pub count: u64,
    /// Their total duration in nanoseconds (pprof's `delay/nanoseconds`).
    pub delay: Duration,
}

/// A profile: samples with distinct stacks, in a deterministic order (by stack).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// The samples, sorted by stack (frame by frame, innermost first).
    pub samples: Vec<Sample>,
}

impl Profile {
    /// The number of waits over all samples.
    pub fn total_count(&self) -> u64 {
        self.samples.iter().map(|s| s.count).sum()
    }

    /// The total delay over all samples.
    pub fn total_delay(&self) -> Duration {
        self.samples.iter().map(|s| s.delay).sum()
    }

    fn sorted(mut samples: Vec<Sample>) -> Self {
        samples.sort_unstable_by(|a, b| {
            a.stack
                .cmp(&b.stack)
                .then(a.count.cmp(&b.count))
                .then(a.delay.cmp(&b.delay))
        });
        Self { samples }
    }
}

/// What identifies a frame when merging samples: the PC, or the whole frame for a synthetic
/// one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum FrameKey {
    Pc(u64),
    Synthetic(Frame),
}

/// Builds a [`Profile`] from `(stack, count, duration)` samples, for any analysis.
///
/// Samples whose first [`MAX_STACK`] frames have the same PCs (synthetic frames: the same
/// frame) are merged, as Go merges them; the stack kept is the last one added, cut at
/// [`MAX_STACK`] frames.
#[derive(Debug, Clone, Default)]
pub struct ProfileBuilder {
    index: FxHashMap<Vec<FrameKey>, usize>,
    samples: Vec<Sample>,
}

impl ProfileBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `count` waits of total duration `delay` at `stack` (innermost frame first).
    pub fn add(&mut self, stack: &[Frame], count: u64, delay: Duration) {
        let stack = &stack[..stack.len().min(MAX_STACK)];
        let key: Vec<FrameKey> = stack
            .iter()
            .map(|f| {
                if f.is_synthetic() {
                    FrameKey::Synthetic(f.clone())
                } else {
                    FrameKey::Pc(f.pc)
                }
            })
            .collect();
        match self.index.get(&key) {
            Some(&i) => {
                let s = &mut self.samples[i];
                s.count += count;
                s.delay = s.delay.wrapping_add(delay);
                if s.stack != stack {
                    s.stack = stack.to_vec();
                }
            }
            None => {
                self.index.insert(key, self.samples.len());
                self.samples.push(Sample {
                    stack: stack.to_vec(),
                    count,
                    delay,
                });
            }
        }
    }

    /// The profile, samples sorted by stack.
    pub fn finish(self) -> Profile {
        Profile::sorted(self.samples)
    }
}

/// One of the profiles `go tool trace -pprof=KIND` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GoProfileKind {
    /// `net`: time blocked on the network.
    Net,
    /// `sync`: time blocked on channels, `select` and `sync` primitives.
    Sync,
    /// `syscall`: time in syscalls.
    Syscall,
    /// `sched`: time runnable, waiting for a P (scheduling latency).
    Sched,
}

impl GoProfileKind {
    /// All four, in Go's order.
    pub const ALL: [Self; 4] = [Self::Net, Self::Sync, Self::Syscall, Self::Sched];

    /// The name `go tool trace -pprof=` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Net => "net",
            Self::Sync => "sync",
            Self::Syscall => "syscall",
            Self::Sched => "sched",
        }
    }

    /// The kind named `name` (`net`, `sync`, `syscall`, `sched`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The kind's bit in a set of kinds: `1 << k` for `GoProfileKind::ALL[k]`.
    const fn bit(self) -> u8 {
        1 << self as u8
    }

    /// The kinds whose samples are time spent in state `s`, as a set of bits.
    fn spent_in(s: GoState) -> u8 {
        match s {
            GoState::Waiting => Self::Net.bit() | Self::Sync.bit(),
            GoState::Syscall => Self::Syscall.bit(),
            GoState::Runnable => Self::Sched.bit(),
            _ => 0,
        }
    }

    /// The kinds a transition into their state with these reason flags starts a sample of,
    /// as a set of bits.
    fn started_by(reason: u32) -> u8 {
        let mut kinds = Self::Syscall.bit() | Self::Sched.bit();
        if reason & REASON_NET != 0 {
            kinds |= Self::Net.bit();
        }
        if reason & REASON_SYNC != 0 {
            kinds |= Self::Sync.bit();
        }
        kinds
    }
}

impl std::fmt::Display for GoProfileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The four profiles of [`GoProfiler`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoProfiles {
    /// `-pprof=net`.
    pub net: Profile,
    /// `-pprof=sync`.
    pub sync: Profile,
    /// `-pprof=syscall`.
    pub syscall: Profile,
    /// `-pprof=sched`.
    pub sched: Profile,
}

impl GoProfiles {
    /// The profile of `kind`.
    pub fn get(&self, kind: GoProfileKind) -> &Profile {
        match kind {
            GoProfileKind::Net => &self.net,
            GoProfileKind::Sync => &self.sync,
            GoProfileKind::Syscall => &self.syscall,
            GoProfileKind::Sched => &self.sched,
        }
    }

    /// Takes the profile of `kind` out.
    pub fn take(&mut self, kind: GoProfileKind) -> Profile {
        std::mem::take(match kind {
            GoProfileKind::Net => &mut self.net,
            GoProfileKind::Sync => &mut self.sync,
            GoProfileKind::Syscall => &mut self.syscall,
            GoProfileKind::Sched => &mut self.sched,
        })
    }
}

/// Reason flags, cached per string of a generation.
const REASON_NET: u32 = 1;
const REASON_SYNC: u32 = 2;
const REASON_FOREVER: u32 = 4;

fn reason_flags(reason: &[u8]) -> u32 {
    let has = |needle: &[u8]| reason.windows(needle.len()).any(|w| w == needle);
    let mut flags = 0;
    if reason == b"network" {
        flags |= REASON_NET;
    }
    if has(b"chan") || has(b"sync") || has(b"select") {
        flags |= REASON_SYNC;
    }
    if reason == b"forever" {
        flags |= REASON_FOREVER;
    }
    flags
}

/// What the profiler knows of one goroutine, in one cache line: what a transition reads.
/// (Go's summary `EndTime`, set at most once per summary, is in [`GoProfiler::ends`].)
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(64))]
struct GState {
    /// Go's summary `StartTime` of the goroutine's current summary (0: not run yet).
    start: Time,
    /// Per [`GoProfileKind`], meaningful while the kind is `active`: when its sample began
    /// and the stack it is charged to.
    track_start: [Time; 4],
    track_stack: [u32; 4],
    /// Whether Go's summary has the goroutine (it was created or first seen with an
    /// unknown state).
    summary: bool,
    /// Whether the summary's `EndTime` is set (it is in [`GoProfiler::ends`]; 0 otherwise).
    ended: bool,
    /// The kinds with a sample in progress, as a set of [`GoProfileKind::bit`]s.
    active: u8,
}

/// A finished sample, waiting for the next Sync to be kept.
#[derive(Debug, Clone, Copy)]
struct Pending {
    kind: u8,
    stack: u32,
    g: GoId,
    start: Time,
    end: Time,
    /// The goroutine's `StartTime` and `EndTime` when the sample ended.
    g_start: Time,
    g_end: Time,
}

/// The samples of one (goroutine, stack, kind), reduced to what the final `StartTime`
/// decides between (see [`GoProfiler::finish`]).
#[derive(Debug, Clone, Copy, Default)]
struct Agg {
    /// Count and total of the samples' full durations (the goroutine's final `StartTime`
    /// is 0).
    full_count: u64,
    full: Duration,
    /// The `StartTime` the clipped values were computed with, and the count and total of
    /// the samples' overlaps with `[clip_start, ∞)`.
    clip_start: Time,
    clip_count: u64,
    clip: Duration,
}

/// Computes Go's four profiles in one pass over the event stream (see the
/// [module docs](self)).
///
/// Feed every event of the stream, in order, to [`GoProfiler::event`], then call
/// [`GoProfiler::finish`]; or let [`go_profiles`] drive an [`EventStream`].
///
/// # How the `[StartTime, EndTime]` filter is applied in one pass
///
/// Go computes the summary first and then the samples' overlaps with each goroutine's
/// final `[StartTime, EndTime]`. Here the goroutine's `StartTime` and `EndTime` are tracked
/// with the same rules as the summary (a new summary, with both 0, whenever a goroutine is
/// created or first seen; `StartTime` at its first run; `EndTime` when it exits or blocks
/// `forever`), and a sample ending at time `b` is folded into a per-(goroutine, stack)
/// aggregate, since `EndTime ≥ b` whenever the goroutine had not ended by then: its overlap
/// is then its full duration if the final `StartTime` is 0, its overlap with
/// `[StartTime, ∞)` if the final `StartTime` is the one current at `b`, and 0 otherwise (a
/// later summary of the same ID starts after `b`). Samples ending after the goroutine's
/// `EndTime` (rare) are kept whole and measured against the final interval at the end.
#[derive(Debug, Clone, Default)]
pub struct GoProfiler {
    /// Goroutine ID → index in `goroutines` plus one.
    index: IdMap<u32>,
    goroutines: Vec<GState>,
    /// Go's summary `EndTime` of each goroutine of `goroutines` (0: not ended).
    ends: Vec<Time>,
    reasons: SymCache,
    /// Interned stacks: by generation stack, by PCs, and their frames.
    stack_by_ref: SymCache,
    stack_by_pcs: FxHashMap<Box<[u64]>, u32>,
    stacks: Vec<Vec<Frame>>,
    strings: FxHashMap<Box<[u8]>, Arc<[u8]>>,
    /// Samples since the last Sync.
    pending: Vec<Pending>,
    aggs: FxHashMap<(GoId, u32, u8), Agg>,
    /// Samples that ended after their goroutine's `EndTime`.
    late: Vec<Pending>,
    /// The time of the last Sync (the last event `go tool trace` keeps).
    last_sync: Time,
}

impl GoProfiler {
    /// An empty profiler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next event of the stream; `tables` are the reader's.
    pub fn event(&mut self, ev: &Event, tables: &Tables<'_>) {
        with_facts(ev, |facts| self.step(ev, facts, tables));
    }

    /// [`GoProfiler::event`] with the event's facts worked out already.
    #[inline]
    pub(crate) fn step(&mut self, ev: &Event, facts: Facts<'_>, tables: &Tables<'_>) {
        match facts.kind {
            EventKind::Sync => {
                self.last_sync = ev.time;
                self.commit();
            }
            EventKind::StateTransition => {
                if let Some(st) = facts.transition {
                    self.transition(ev, st, tables);
                }
            }
            _ => {}
        }
    }

    fn transition(&mut self, ev: &Event, st: &StateTransition, tables: &Tables<'_>) {
        let Resource::Goroutine { id, old, new } = st.resource else {
            return;
        };
        let t = ev.time;
        let reason = if new == GoState::Waiting {
            self.reason(st.reason, tables)
        } else {
            0
        };

        // The summary's StartTime and EndTime (summary.go's transition handling).
        let s = match self.slot(id) {
            Some(s) => s,
            None => self.insert(id),
        };
        if old != new {
            let g = &mut self.goroutines[s];
            if matches!(old, GoState::Undetermined | GoState::NotExist) {
                // A new summary.
                g.summary = true;
                g.start = 0;
                if g.ended {
                    g.ended = false;
                    self.ends[s] = 0;
                }
            }
            // Without a summary (Go's would dereference nil), nothing changes.
            if g.summary {
                match new {
                    GoState::Running if g.start == 0 => g.start = t,
                    GoState::Waiting if reason & REASON_FOREVER != 0 => {
                        g.ended = true;
                        self.ends[s] = t;
                    }
                    GoState::NotExist => {
                        g.ended = true;
                        self.ends[s] = t;
                    }
                    _ => {}
                }
            }
        }

        // The samples (pprof.go's makeComputePprofFunc): a kind's sample ends at the first
        // transition out of its state, and starts at one into it (if the reason fits)
        // while none is in progress; transitions within the state change nothing.
        let g = &mut self.goroutines[s];
        let spent = GoProfileKind::spent_in(new);
        let ending = g.active & !spent;
        let starting = !g.active & spent & GoProfileKind::started_by(reason);
        g.active = (g.active & spent) | starting;
        let mut bits = ending;
        while bits != 0 {
            let k = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            self.pending.push(Pending {
                kind: k as u8,
                stack: g.track_stack[k],
                g: id,
                start: g.track_start[k],
                end: t,
                g_start: g.start,
                g_end: if g.ended { self.ends[s] } else { 0 },
            });
        }
        if starting != 0 {
            let stack = self.stack(ev.stack(), tables);
            let g = &mut self.goroutines[s];
            let mut bits = starting;
            while bits != 0 {
                let k = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                g.track_start[k] = t;
                g.track_stack[k] = stack;
            }
        }
    }

    fn slot(&self, id: GoId) -> Option<usize> {
        match self.index.get(id) {
            0 => None,
            i => Some(i as usize - 1),
        }
    }

    #[cold]
    fn insert(&mut self, id: GoId) -> usize {
        self.goroutines.push(GState::default());
        self.ends.push(0);
        let s = self.goroutines.len();
        self.index.set(id, s as u32);
        s - 1
    }

    fn reason(&mut self, r: StringRef, tables: &Tables<'_>) -> u32 {
        self.reasons.get(r, || reason_flags(tables.string(r)))
    }

    /// The interned stack of an event's stack (index 0 is the empty stack).
    fn stack(&mut self, r: Option<StackRef>, tables: &Tables<'_>) -> u32 {
        if self.stacks.is_empty() {
            self.stacks.push(Vec::new());
            self.stack_by_pcs.insert(Box::default(), 0);
        }
        let Some(r) = r else {
            return 0;
        };
        let Self {
            stack_by_ref,
            stack_by_pcs,
            stacks,
            strings,
            ..
        } = self;
        stack_by_ref.get_id(r.table, r.id, || {
            let frames: Vec<_> = tables.frames(r).take(MAX_STACK).collect();
            let mut pcs: Vec<u64> = frames.iter().map(|f| f.pc).collect();
            // Go's key is the first 128 PCs padded with zeros.
            while pcs.last() == Some(&0) {
                pcs.pop();
            }
            if let Some(&i) = stack_by_pcs.get(&pcs[..]) {
                return i;
            }
            let i = stacks.len() as u32;
            let mut intern = |s: &[u8]| -> Arc<[u8]> {
                strings
                    .entry(s.into())
                    .or_insert_with(|| Arc::from(s))
                    .clone()
            };
            let frames = frames
                .iter()
                .map(|f| Frame {
                    pc: f.pc,
                    func: intern(f.func),
                    file: intern(f.file),
                    line: f.line,
                })
                .collect();
            stacks.push(frames);
            stack_by_pcs.insert(pcs.into(), i);
            i
        })
    }

    /// Keeps the samples that ended up to this Sync.
    fn commit(&mut self) {
        // Drained in place: the buffer is reused by the next generation.
        let mut pending = std::mem::take(&mut self.pending);
        for p in pending.drain(..) {
            if p.g_end != 0 {
                self.late.push(p);
                continue;
            }
            let a = self.aggs.entry((p.g, p.stack, p.kind)).or_default();
            let full = p.end - p.start.max(0);
            if full > 0 {
                a.full_count += 1;
                a.full = a.full.wrapping_add(full);
            }
            if p.g_start != 0 {
                if a.clip_start != p.g_start {
                    a.clip_start = p.g_start;
                    a.clip_count = 0;
                    a.clip = 0;
                }
                let clip = p.end - p.start.max(p.g_start);
                if clip > 0 {
                    a.clip_count += 1;
                    a.clip = a.clip.wrapping_add(clip);
                }
            }
        }
        self.pending = pending;
    }

    /// The four profiles.
    pub fn finish(self) -> GoProfiles {
        let trace_end = self.last_sync;
        let n = self.stacks.len();
        let mut totals = vec![vec![(0u64, 0 as Duration); n]; 4];
        let interval = |g: GoId| -> Option<(Time, Time)> {
            let s = self.slot(g)?;
            let (g, end) = (&self.goroutines[s], self.ends[s]);
            g.summary
                .then_some((g.start, if end == 0 { trace_end } else { end }))
        };
        // Sums only: the order does not matter.
        #[allow(clippy::iter_over_hash_type)]
        for (&(g, stack, kind), a) in &self.aggs {
            let Some((start, _)) = interval(g) else {
                continue;
            };
            let (count, delay) = if start == 0 {
                (a.full_count, a.full)
            } else if a.clip_start == start {
                (a.clip_count, a.clip)
            } else {
                (0, 0)
            };
            let t = &mut totals[kind as usize][stack as usize];
            t.0 += count;
            t.1 = t.1.wrapping_add(delay);
        }
        for p in &self.late {
            let Some((start, end)) = interval(p.g) else {
                continue;
            };
            let o = overlap((start, end), (p.start, p.end));
            if o > 0 {
                let t = &mut totals[p.kind as usize][p.stack as usize];
                t.0 += 1;
                t.1 = t.1.wrapping_add(o);
            }
        }
        let mut profiles = totals.into_iter().map(|per_stack| {
            Profile::sorted(
                per_stack
                    .into_iter()
                    .enumerate()
                    .filter(|&(_, (count, _))| count > 0)
                    .map(|(i, (count, delay))| Sample {
                        stack: self.stacks[i].clone(),
                        count,
                        delay,
                    })
                    .collect(),
            )
        });
        let mut next = || profiles.next().unwrap_or_default();
        GoProfiles {
            net: next(),
            sync: next(),
            syscall: next(),
            sched: next(),
        }
    }
}

/// Go's `interval.overlap`: the length of the intersection, 0 when disjoint.
fn overlap(i1: (Time, Time), i2: (Time, Time)) -> Duration {
    if i1.1 < i2.0 || i2.1 < i1.0 {
        return 0;
    }
    i1.1.min(i2.1).wrapping_sub(i1.0.max(i2.0))
}

/// Computes Go's four profiles over every event `stream` yields. A reader error ends the
/// stream; it is returned beside the profiles of the events up to the last Sync before it,
/// as `go tool trace` keeps them.
pub fn go_profiles(stream: &mut EventStream<'_>) -> (GoProfiles, Option<goroscope_trace::Error>) {
    let mut p = GoProfiler::new();
    let error = stream.for_each_event(|ev, tables| p.event(ev, tables));
    (p.finish(), error)
}

/// The released-by profile of `waits` (from [`crate::blocking::analyze`] over `t`): each
/// wait for which `include` says yes is charged to its releaser's stack (see the
/// [module docs](self)). Waits of zero duration are left out.
pub fn released_by(
    t: &Timelines,
    waits: &[Wait],
    mut include: impl FnMut(&Wait) -> bool,
) -> Profile {
    let mut strings: FxHashMap<StrId, Arc<[u8]>> = FxHashMap::default();
    let mut stacks: FxHashMap<StackId, Vec<Frame>> = FxHashMap::default();
    let runtime = [Frame::synthetic(RUNTIME_FRAME)];
    let still_blocked = [Frame::synthetic(STILL_BLOCKED_FRAME)];
    let no_stack = [Frame::synthetic(NO_STACK_FRAME)];
    let mut b = ProfileBuilder::new();
    for w in waits {
        let delay = w.duration(t.end);
        if delay <= 0 || !include(w) {
            continue;
        }
        let stack: &[Frame] = if w.end.is_none() {
            &still_blocked
        } else if w.releaser_stack.is_some() {
            stacks.entry(w.releaser_stack).or_insert_with(|| {
                let mut s = |id: StrId| {
                    strings
                        .entry(id)
                        .or_insert_with(|| Arc::from(t.strings.get(id)))
                        .clone()
                };
                t.stacks
                    .frames(w.releaser_stack)
                    .map(|f| Frame {
                        pc: f.pc,
                        func: s(f.func),
                        file: s(f.file),
                        line: u64::from(f.line),
                    })
                    .collect()
            })
        } else if w.releaser >= 0 {
            &no_stack
        } else {
            &runtime
        };
        b.add(stack, 1, delay);
    }
    b.finish()
}

/// The critical-path profile: the time of `profile` (from [`crate::critical::Profile`]) by
/// stack, under one synthetic outermost frame per category (`[critical path: running]`,
/// `[critical path: sched latency]`, ...), so that `go tool pprof` shows the categories
/// at the root of its graphs. `count` is the number of path segments.
pub fn critical_path(t: &Timelines, profile: &crate::critical::Profile) -> Profile {
    let mut strings: FxHashMap<StrId, Arc<[u8]>> = FxHashMap::default();
    let mut b = ProfileBuilder::new();
    let mut stack = Vec::new();
    for sample in &profile.samples {
        stack.clear();
        for f in t.stacks.frames(sample.stack) {
            let mut s = |id: StrId| {
                strings
                    .entry(id)
                    .or_insert_with(|| Arc::from(t.strings.get(id)))
                    .clone()
            };
            stack.push(Frame {
                pc: f.pc,
                func: s(f.func),
                file: s(f.file),
                line: u64::from(f.line),
            });
        }
        // Keep the category frame when the stack is cut at MAX_STACK frames.
        stack.truncate(MAX_STACK - 1);
        stack.push(Frame::synthetic(&format!(
            "[critical path: {}]",
            sample.category.name()
        )));
        b.add(&stack, sample.count, sample.time);
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_as_go_matches_them() {
        assert_eq!(reason_flags(b"network"), REASON_NET);
        assert_eq!(reason_flags(b"network poll"), 0);
        for r in [
            &b"chan receive"[..],
            b"chan send",
            b"select",
            b"select (no cases)",
            b"sync",
            b"sync.(*Cond).Wait",
            b"synctest",
        ] {
            assert_eq!(
                reason_flags(r),
                REASON_SYNC,
                "{}",
                String::from_utf8_lossy(r)
            );
        }
        assert_eq!(reason_flags(b"forever"), REASON_FOREVER);
        assert_eq!(reason_flags(b"sleep"), 0);
        assert_eq!(reason_flags(b""), 0);
    }

    #[test]
    fn overlap_is_gos() {
        assert_eq!(overlap((10, 20), (0, 5)), 0);
        assert_eq!(overlap((10, 20), (0, 10)), 0);
        assert_eq!(overlap((10, 20), (0, 15)), 5);
        assert_eq!(overlap((10, 20), (12, 15)), 3);
        assert_eq!(overlap((10, 20), (12, 30)), 8);
        assert_eq!(overlap((10, 20), (20, 30)), 0);
        assert_eq!(overlap((10, 20), (21, 30)), 0);
    }
}
