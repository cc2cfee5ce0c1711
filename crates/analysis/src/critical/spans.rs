//! What the walk and the dependency graph share: reading goroutine spans chunk by chunk,
//! deciding who released a wait, and turning a piece of a span into segments.

use std::collections::HashMap;

use goroscope_trace::GoState;
use goroscope_trace::event::{GoId, Time};
use goroscope_trace::timeline::{
    CHUNK, GoSpan, Goroutine, Interval, ProcActivity, StackId, StrId, Timelines,
};

use super::{Category, Holder, Link, Segment};
use crate::summary::Duration;

/// A stop-the-world pause, clamped to the trace.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pause {
    pub start: Time,
    pub end: Time,
    pub kind: StrId,
}

/// The trace and the indexes built once per finder.
#[derive(Debug)]
pub(super) struct Context<'t> {
    pub t: &'t Timelines,
    /// STW pauses, sorted and disjoint.
    pub stw: Vec<Pause>,
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wake {
    /// Another goroutine released it, at `at`, from `stack`.
    Goroutine { gi: u32, stack: StackId, at: Time },
    /// The runtime released it (no goroutine named).
    Runtime,
    /// Not known: still waiting at the end, a gap, or a releaser that cannot be followed.
    Unknown,
}

/// A piece `[start, end]` of goroutine `gi`'s span `span` (`None`: before its first span).
#[derive(Debug, Clone, Copy)]
pub(super) struct Piece {
    pub gi: u32,
    pub span: Option<usize>,
    pub start: Time,
    pub end: Time,
    /// The stack of running time at the end of the piece, if the path knows it better than
    /// the span (a release or creation made there).
    pub end_stack: Option<StackId>,
    /// How the path goes on after the piece.
    pub next: Link,
}

/// Reads goroutine spans, keeping decoded chunks (with the record after each chunk, for
/// span ends).
#[derive(Debug)]
pub(super) struct SpanReader<'t> {
    t: &'t Timelines,
    chunks: HashMap<(u32, u32), Box<[GoSpan]>>,
}

impl<'t> SpanReader<'t> {
    pub fn new(t: &'t Timelines) -> Self {
        Self {
            t,
            chunks: HashMap::new(),
        }
    }

    fn chunk(&mut self, gi: u32, c: u32) -> &[GoSpan] {
        let t = self.t;
        self.chunks.entry((gi, c)).or_insert_with(|| {
            t.goroutines[gi as usize]
                .spans
                .iter_from(c as usize * CHUNK)
                .take(CHUNK + 1)
                .collect()
        })
    }

    /// Span `i` of goroutine `gi` (which must exist).
    pub fn get(&mut self, gi: u32, i: usize) -> GoSpan {
        let c = (i / CHUNK) as u32;
        self.chunk(gi, c)[i % CHUNK]
    }

    /// When span `i` ends: the next span's start, or the end of the trace.
    pub fn end(&mut self, gi: u32, i: usize) -> Time {
        let t_end = self.t.end;
        let c = (i / CHUNK) as u32;
        self.chunk(gi, c)
            .get(i % CHUNK + 1)
            .map_or(t_end, |s| s.time)
    }

    /// Forgets decoded chunks when many are kept (for whole-trace passes).
    pub fn trim(&mut self) {
        if self.chunks.len() > 4096 {
            self.chunks.clear();
        }
    }

    /// The number of spans of goroutine `gi`.
    pub fn len(&self, gi: u32) -> usize {
        self.t.goroutines[gi as usize].spans.len()
    }

    /// The span of `gi` in which the instant just before `t` lies (the last span starting
    /// before `t`), trying `hint` and the span before it first.
    pub fn locate(&mut self, gi: u32, t: Time, hint: Option<usize>) -> Option<usize> {
        if let Some(h) = hint {
            for i in [Some(h), h.checked_sub(1)].into_iter().flatten() {
                if i < self.len(gi) && self.get(gi, i).time < t && t <= self.end(gi, i) {
                    return Some(i);
                }
            }
        }
        self.t.goroutines[gi as usize].spans.index_at(t - 1)
    }

    /// The state of `gi` just before `t`, if it has a span then.
    pub fn state_before(&mut self, gi: u32, t: Time) -> Option<GoState> {
        let i = self.locate(gi, t, None)?;
        Some(self.get(gi, i).state)
    }
}

/// Clamps an interval to the trace.
fn clamp(i: Interval, t: &Timelines) -> (Time, Time) {
    i.clamped(t.start, t.end)
}

impl<'t> Context<'t> {
    pub fn new(t: &'t Timelines) -> Self {
        let mut raw: Vec<Pause> = t
            .stw
            .iter()
            .map(|s| {
                let (start, end) = clamp(s.interval, t);
                Pause {
                    start,
                    end,
                    kind: s.kind,
                }
            })
            .filter(|p| p.start < p.end)
            .collect();
        raw.sort_by_key(|p| (p.start, p.end));
        let mut stw: Vec<Pause> = Vec::with_capacity(raw.len());
        for p in raw {
            match stw.last_mut() {
                Some(l) if p.start <= l.end => l.end = l.end.max(p.end),
                _ => stw.push(p),
            }
        }
        Self { t, stw }
    }

    /// The index of goroutine `g` in [`Timelines::goroutines`].
    pub fn index(&self, g: GoId) -> Option<u32> {
        self.t
            .goroutines
            .binary_search_by_key(&g, |g| g.id)
            .ok()
            .map(|i| i as u32)
    }

    pub fn goroutine(&self, gi: u32) -> &'t Goroutine {
        &self.t.goroutines[gi as usize]
    }

    /// Whether goroutine `gi` could act (release or create another) just before `t`: it has
    /// a span then and is not waiting.
    fn can_act(&self, spans: &mut SpanReader<'_>, gi: u32, t: Time) -> bool {
        spans
            .state_before(gi, t)
            .is_some_and(|s| !matches!(s, GoState::Waiting | GoState::NotExist))
    }

    /// The creator of `gi`, if `gi` was created at `t` by a goroutine that was executing.
    pub fn creator(&self, spans: &mut SpanReader<'_>, gi: u32, t: Time) -> Option<u32> {
        let g = self.goroutine(gi);
        if g.created != Some(t) || g.creator < 0 || g.creator == g.id {
            return None;
        }
        let ci = self.index(g.creator)?;
        self.can_act(spans, ci, t).then_some(ci)
    }

    /// How the waiting span `i` of `gi` ended.
    pub fn wake(&self, spans: &mut SpanReader<'_>, gi: u32, i: usize) -> Wake {
        if i + 1 >= spans.len(gi) {
            return Wake::Unknown;
        }
        let next = spans.get(gi, i + 1);
        let g = self.goroutine(gi);
        if next.woken {
            if next.waker < 0 {
                return Wake::Runtime;
            }
            if next.waker == g.id {
                return Wake::Unknown;
            }
            return match self.index(next.waker) {
                Some(wi) if self.can_act(spans, wi, next.time) => Wake::Goroutine {
                    gi: wi,
                    stack: next.waker_stack,
                    at: next.time,
                },
                _ => Wake::Unknown,
            };
        }
        // Waiting → running with no unblock: a coroutine switch (iter.Pull), where the
        // goroutine that ran on the same P blocked at that instant and handed over.
        if next.state == GoState::Running
            && let Some(w) = self.switcher(spans, next.p, next.time)
            && w != g.id
            && let Some(wi) = self.index(w)
        {
            let stack = spans
                .locate(wi, next.time + 1, None)
                .map_or(StackId::NONE, |j| spans.get(wi, j).stack);
            return Wake::Goroutine {
                gi: wi,
                stack,
                at: next.time,
            };
        }
        Wake::Unknown
    }

    /// The goroutine that ran on P `p` until exactly `t` and blocked then.
    fn switcher(&self, spans: &mut SpanReader<'_>, p: i64, t: Time) -> Option<GoId> {
        let lane = &self.t.proc(p)?.spans;
        let ps = lane.get(lane.index_at(t - 1)?)?;
        if ps.activity != ProcActivity::Running || ps.g < 0 {
            return None;
        }
        let wi = self.index(ps.g)?;
        let j = spans.locate(wi, t, None)?;
        let running = spans.get(wi, j).state == GoState::Running;
        let k = j + 1;
        let blocked = k < spans.len(wi) && {
            let n = spans.get(wi, k);
            n.time == t && n.state == GoState::Waiting
        };
        (running && blocked).then_some(ps.g)
    }

    /// The category of a piece of goroutine `gi`'s span `i` before splitting by STW pauses
    /// and assists.
    fn base(&self, spans: &mut SpanReader<'_>, gi: u32, span: Option<usize>) -> Category {
        let Some(i) = span else {
            return Category::Unknown;
        };
        match spans.get(gi, i).state {
            GoState::Running => Category::Running,
            GoState::Runnable => Category::SchedLatency,
            GoState::Syscall => Category::Syscall,
            GoState::Waiting => match self.wake(spans, gi, i) {
                Wake::Runtime => Category::RuntimeWait,
                _ => Category::Blocked,
            },
            GoState::NotExist | GoState::Undetermined => Category::Unknown,
        }
    }

    /// Appends the segments of `p`, latest first, to `out`.
    pub fn emit(
        &self,
        spans: &mut SpanReader<'_>,
        p: &Piece,
        holders: bool,
        out: &mut Vec<Segment>,
    ) {
        if p.start >= p.end {
            return;
        }
        let g = self.goroutine(p.gi);
        let base = self.base(spans, p.gi, p.span);
        let (stack, reason) = match p.span {
            None => (StackId::NONE, StrId(0)),
            Some(i) => {
                let s = spans.get(p.gi, i);
                match s.state {
                    GoState::Running => {
                        let next = (i + 1 < spans.len(p.gi)).then(|| spans.get(p.gi, i + 1).stack);
                        (p.end_stack.or(next).unwrap_or(StackId::NONE), StrId(0))
                    }
                    GoState::Runnable if !s.stack.is_some() && i > 0 => {
                        // Woken: the goroutine sits where it waited.
                        let prev = spans.get(p.gi, i - 1);
                        (prev.stack, s.reason)
                    }
                    _ => (s.stack, s.reason),
                }
            }
        };
        // Cut points: STW pauses (running and runnable time), assists (running time).
        let mut cuts: Vec<(Time, Time, Category, StrId)> = Vec::new();
        if matches!(base, Category::Running | Category::SchedLatency) {
            let from = self.stw.partition_point(|s| s.end <= p.start);
            for s in self.stw[from..].iter().take_while(|s| s.start < p.end) {
                cuts.push((s.start, s.end, Category::Stw, s.kind));
            }
        }
        if base == Category::Running && !g.assists.is_empty() {
            let t = self.t;
            let from = g.assists.partition_point(|a| clamp(*a, t).1 <= p.start);
            for a in g.assists[from..]
                .iter()
                .take_while(|a| clamp(**a, t).0 < p.end)
            {
                let (s, e) = clamp(*a, t);
                cuts.push((s, e, Category::GcAssist, StrId(0)));
            }
        }
        // Walk the piece from its end back, taking the first cut that covers each instant
        // (STW before assists).
        let mut bounds: Vec<Time> = vec![p.start, p.end];
        for c in &cuts {
            bounds.extend([c.0, c.1].into_iter().filter(|&x| x > p.start && x < p.end));
        }
        bounds.sort_unstable();
        bounds.dedup();
        let mut next = p.next;
        let mut last: Option<Segment> = None;
        for w in bounds.windows(2).rev() {
            let (a, b) = (w[0], w[1]);
            let (category, why) = cuts
                .iter()
                .find(|c| c.0 <= a && b <= c.1)
                .map_or((base, reason), |c| {
                    (c.2, if c.3 != StrId(0) { c.3 } else { reason })
                });
            // Merge with the later piece when nothing changes.
            if let Some(l) = last.as_mut()
                && l.category == category
                && l.reason == why
            {
                l.start = a;
                continue;
            }
            if let Some(l) = last.take() {
                out.push(self.finish(l, holders));
            }
            last = Some(Segment {
                g: g.id,
                category,
                start: a,
                end: b,
                stack,
                reason: why,
                next,
                holders: Vec::new(),
                idle_procs: 0,
            });
            next = Link::Continue;
        }
        if let Some(l) = last {
            out.push(self.finish(l, holders));
        }
    }

    fn finish(&self, mut s: Segment, holders: bool) -> Segment {
        if holders && s.category == Category::SchedLatency {
            let (h, idle) = self.holders(s.start, s.end);
            s.holders = h;
            s.idle_procs = idle;
        }
        s
    }

    /// The goroutines that held Ps during `[a, b]`, longest first, and the idle P-time.
    pub fn holders(&self, a: Time, b: Time) -> (Vec<Holder>, Duration) {
        let mut out: Vec<Holder> = Vec::new();
        let mut idle = 0;
        for p in &self.t.procs {
            let mut it = p.spans.iter_range(a, b).peekable();
            while let Some(s) = it.next() {
                let end = it.peek().map_or(b, |n| n.time).min(b);
                let d = end - s.time.max(a);
                if d <= 0 {
                    continue;
                }
                match s.activity {
                    ProcActivity::Running | ProcActivity::Syscall if s.g >= 0 => {
                        match out.iter_mut().find(|h| h.g == s.g) {
                            Some(h) => h.time += d,
                            None => out.push(Holder { g: s.g, time: d }),
                        }
                    }
                    ProcActivity::Idle => idle += d,
                    _ => {}
                }
            }
        }
        out.sort_by(|x, y| y.time.cmp(&x.time).then_with(|| x.g.cmp(&y.g)));
        (out, idle)
    }
}
