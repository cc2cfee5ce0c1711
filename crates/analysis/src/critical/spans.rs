//! What the walk and the dependency graph share: reading goroutine spans chunk by chunk,
//! deciding who released a wait, and turning a piece of a span into segments.

use goroscope_trace::GoState;
use goroscope_trace::event::{GoId, Time};
use goroscope_trace::timeline::{
    CHUNK, GoSpan, Goroutine, Interval, Lane, ProcActivity, ProcSpan, Record, StackId, StrId,
    Timelines,
};

use super::{Category, CategoryTotals, Contention, Holder, Link, Segment};
use crate::idmap::{FxHashMap, FxHashSet};
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
    /// Every goroutine's GC mark assists, clamped to the trace, sorted, and merged where
    /// they overlap: the time the goroutine spent assisting is their union. (A trace can
    /// record one assist twice: an assist open across a generation boundary is announced
    /// again as active in the new generation.) Goroutine `gi`'s are
    /// `assists[assists_at[gi]..assists_at[gi + 1]]`.
    assists: Vec<(Time, Time)>,
    assists_at: Vec<u32>,
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

/// Decoded chunks of lanes of one kind, each with the record after it (for span ends).
#[derive(Debug)]
struct Chunks<R> {
    /// The decoded records, one chunk after another (one vector: a chunk is decoded
    /// every few dozen steps of a walk, and an allocation for each cost as much as a
    /// tenth of its decoding).
    records: Vec<R>,
    /// (lane, chunk) → where it lies in `records`: (start, length).
    index: FxHashMap<(u32, u32), (u32, u32)>,
    /// The two chunks used last, the latest first: consecutive lookups mostly hit them (a
    /// span and the next, a waiter and its releaser).
    memo: [((u32, u32), (u32, u32)); 2],
    /// Per lane: the chunk found by time last.
    recent: FxHashMap<u32, u32>,
}

/// A key no chunk has.
const NO_CHUNK: ((u32, u32), (u32, u32)) = ((u32::MAX, u32::MAX), (0, 0));

impl<R> Default for Chunks<R> {
    fn default() -> Self {
        Self {
            records: Vec::new(),
            index: FxHashMap::default(),
            memo: [NO_CHUNK; 2],
            recent: FxHashMap::default(),
        }
    }
}

impl<R: Record> Chunks<R> {
    #[inline(always)]
    fn chunk(&mut self, lane: &Lane<R>, li: u32, c: u32) -> &[R] {
        let key = (li, c);
        let (start, len) = if self.memo[0].0 == key {
            self.memo[0].1
        } else if self.memo[1].0 == key {
            self.memo.swap(0, 1);
            self.memo[0].1
        } else {
            self.miss(lane, key)
        };
        &self.records[start as usize..(start + len) as usize]
    }

    /// Finds or decodes a chunk that is not in `memo`, and puts it there.
    #[cold]
    fn miss(&mut self, lane: &Lane<R>, key: (u32, u32)) -> (u32, u32) {
        let records = &mut self.records;
        let at = *self.index.entry(key).or_insert_with(|| {
            let start = records.len();
            records.extend(lane.iter_from(key.1 as usize * CHUNK).take(CHUNK + 1));
            (start as u32, (records.len() - start) as u32)
        });
        self.memo[1] = self.memo[0];
        self.memo[0] = (key, at);
        at
    }

    #[inline(always)]
    fn get(&mut self, lane: &Lane<R>, li: u32, i: usize) -> R {
        self.chunk(lane, li, (i / CHUNK) as u32)[i % CHUNK]
    }

    fn end(&mut self, lane: &Lane<R>, li: u32, i: usize, trace_end: Time) -> Time {
        self.get_with_end(lane, li, i, trace_end).1
    }

    /// Record `i` and the time it ends (the next record's, or `trace_end`).
    #[inline(always)]
    fn get_with_end(&mut self, lane: &Lane<R>, li: u32, i: usize, trace_end: Time) -> (R, Time) {
        let chunk = self.chunk(lane, li, (i / CHUNK) as u32);
        let k = i % CHUNK;
        (chunk[k], chunk.get(k + 1).map_or(trace_end, |r| r.time()))
    }

    /// The last record of the lane before `t`: `hint` or the one before it, else in the
    /// chunk looked up last, else by the lane's index.
    fn locate(
        &mut self,
        lane: &Lane<R>,
        li: u32,
        t: Time,
        hint: Option<usize>,
        trace_end: Time,
    ) -> Option<usize> {
        if let Some(h) = hint {
            for i in [Some(h), h.checked_sub(1)].into_iter().flatten() {
                if i < lane.len() {
                    let (r, end) = self.get_with_end(lane, li, i, trace_end);
                    if r.time() < t && t <= end {
                        return Some(i);
                    }
                }
            }
        }
        if let Some(&c) = self.recent.get(&li) {
            let chunk = self.chunk(lane, li, c);
            let body = &chunk[..chunk.len().min(CHUNK)];
            let covers = body.first().is_some_and(|r| r.time() < t)
                && chunk.get(CHUNK).is_none_or(|r| r.time() >= t);
            if covers {
                return Some(c as usize * CHUNK + body.partition_point(|r| r.time() < t) - 1);
            }
        }
        let i = lane.index_at(t - 1)?;
        self.recent.insert(li, (i / CHUNK) as u32);
        Some(i)
    }

    fn trim(&mut self) {
        if self.index.len() > 4096 {
            self.records.clear();
            self.index.clear();
            self.memo = [NO_CHUNK; 2];
            self.recent.clear();
        }
    }
}

/// Where the segments of pieces go.
#[derive(Debug)]
pub(super) enum Sink {
    /// Segments, latest first, with the holders of scheduling latency.
    Segments(Segments),
    /// Time and segment count per (stack, category), as [`super::Profile`] counts them,
    /// without keeping the segments.
    Profile(SiteTimes),
    /// Only the time per category.
    Totals(CategoryTotals),
    /// What a report shows of a path, without keeping its segments.
    Brief(Brief),
}

/// A path in brief as the walk makes it: time and segment count per (stack, category),
/// the goroutines, and the longest segments.
#[derive(Debug, Default)]
pub(super) struct Brief {
    pub times: SiteTimes,
    /// Segments so far.
    pub count: u64,
    pub goroutines: FxHashSet<GoId>,
    /// The goroutine of the segment before (most follow one on the same goroutine).
    last_g: Option<GoId>,
    /// How many of the longest segments to keep.
    pub keep: usize,
    /// The `keep` longest so far, the least of them on top.
    pub longest: std::collections::BinaryHeap<Longest>,
}

impl Brief {
    pub fn new(keep: usize) -> Self {
        Self {
            keep,
            ..Self::default()
        }
    }
}

/// A segment among the longest of a path: ordered by its key (longer first, then by its
/// position in the path), so that the greatest is the one to drop.
#[derive(Debug, Clone)]
pub(super) struct Longest {
    /// (duration, reversed; the position, counted so that earlier segments come first).
    pub key: (std::cmp::Reverse<Duration>, u64),
    pub segment: Segment,
}

impl PartialEq for Longest {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Longest {}

impl PartialOrd for Longest {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Longest {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// Offers `segment` with `key` to the `keep` least keys of `heap`.
pub(super) fn offer(
    heap: &mut std::collections::BinaryHeap<Longest>,
    keep: usize,
    key: (std::cmp::Reverse<Duration>, u64),
    segment: &Segment,
) {
    if heap.len() < keep {
        heap.push(Longest {
            key,
            segment: segment.clone(),
        });
    } else if heap.peek().is_some_and(|top| key < top.key) {
        heap.pop();
        heap.push(Longest {
            key,
            segment: segment.clone(),
        });
    }
}

/// Segments, latest first, and the holders of their scheduling latency (indexes count
/// from the latest segment).
#[derive(Debug, Default)]
pub(super) struct Segments {
    pub segments: Vec<Segment>,
    pub contention: Vec<Contention>,
    pub held: Vec<Holder>,
}

/// Time and segment count per (stack, category) of the segments of one or more paths.
pub(super) type SiteTimes = FxHashMap<(StackId, Category), (Duration, u64)>;

/// Reads goroutine and P spans, keeping the chunks it decoded.
#[derive(Debug)]
pub(super) struct SpanReader<'t> {
    t: &'t Timelines,
    go: Chunks<GoSpan>,
    procs: Chunks<ProcSpan>,
    /// The STW pause index found last (see [`SpanReader::stw_from`]).
    stw_hint: usize,
    /// A piece's parts, kept between pieces to save an allocation per piece.
    parts: Vec<(Time, Time, Category, StrId)>,
}

impl<'t> SpanReader<'t> {
    pub fn new(t: &'t Timelines) -> Self {
        Self {
            t,
            go: Chunks::default(),
            procs: Chunks::default(),
            stw_hint: 0,
            parts: Vec::new(),
        }
    }

    #[inline(always)]
    fn lane(&self, gi: u32) -> &'t Lane<GoSpan> {
        &self.t.goroutines[gi as usize].spans
    }

    /// Span `i` of goroutine `gi` (which must exist).
    #[inline(always)]
    pub fn get(&mut self, gi: u32, i: usize) -> GoSpan {
        self.go.get(self.lane(gi), gi, i)
    }

    /// Span `i` of goroutine `gi` (which must exist) and when it ends: the next span's
    /// start, or the end of the trace.
    #[inline(always)]
    pub fn get_with_end(&mut self, gi: u32, i: usize) -> (GoSpan, Time) {
        self.go.get_with_end(self.lane(gi), gi, i, self.t.end)
    }

    /// Forgets the decoded chunks when more than a few thousand are kept (long paths,
    /// whole-trace passes); they are decoded again when needed.
    pub fn trim(&mut self) {
        self.go.trim();
        self.procs.trim();
    }

    /// The number of spans of goroutine `gi`.
    pub fn len(&self, gi: u32) -> usize {
        self.lane(gi).len()
    }

    /// The index of the first of the (sorted, disjoint) pauses `stw` that ends after `t`.
    /// Walks look up nearby times one after another, so the index found last usually
    /// answers without a search.
    fn stw_from(&mut self, stw: &[Pause], t: Time) -> usize {
        let h = self.stw_hint;
        let fits = h <= stw.len()
            && (h == 0 || stw[h - 1].end <= t)
            && stw.get(h).is_none_or(|s| s.end > t);
        if !fits {
            self.stw_hint = stw.partition_point(|s| s.end <= t);
        }
        self.stw_hint
    }

    /// The span of `gi` in which the instant just before `t` lies (the last span starting
    /// before `t`), trying `hint` and the span before it first.
    pub fn locate(&mut self, gi: u32, t: Time, hint: Option<usize>) -> Option<usize> {
        self.go.locate(self.lane(gi), gi, t, hint, self.t.end)
    }

    /// The state of `gi` just before `t`, if it has a span then.
    pub fn state_before(&mut self, gi: u32, t: Time) -> Option<GoState> {
        let i = self.locate(gi, t, None)?;
        Some(self.get(gi, i).state)
    }

    /// Calls `f` with every span of the P at index `pi` of [`Timelines::procs`] that
    /// overlaps `[a, b)`, clipped to it.
    fn each_proc_span(&mut self, pi: u32, a: Time, b: Time, mut f: impl FnMut(ProcSpan, Duration)) {
        let lane = &self.t.procs[pi as usize].spans;
        let mut i = self
            .procs
            .locate(lane, pi, a + 1, None, self.t.end)
            .unwrap_or(0);
        while i < lane.len() {
            let s = self.procs.get(lane, pi, i);
            if s.time >= b {
                break;
            }
            let end = self.procs.end(lane, pi, i, self.t.end).min(b);
            let d = end - s.time.max(a);
            if d > 0 {
                f(s, d);
            }
            i += 1;
        }
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
        let mut assists: Vec<(Time, Time)> = Vec::new();
        let mut assists_at = Vec::with_capacity(t.goroutines.len() + 1);
        for g in &t.goroutines {
            let first = assists.len();
            assists_at.push(first as u32);
            assists.extend(g.assists.iter().map(|a| clamp(*a, t)).filter(|a| a.0 < a.1));
            assists[first..].sort_unstable();
            let mut n = first;
            for i in first..assists.len() {
                let a = assists[i];
                match n.checked_sub(1).filter(|&l| l >= first) {
                    Some(l) if a.0 <= assists[l].1 => assists[l].1 = assists[l].1.max(a.1),
                    _ => {
                        assists[n] = a;
                        n += 1;
                    }
                }
            }
            assists.truncate(n);
        }
        assists_at.push(assists.len() as u32);
        Self {
            t,
            stw,
            assists,
            assists_at,
        }
    }

    /// The GC mark assists of goroutine `gi`: clamped to the trace, sorted and disjoint.
    pub fn assists(&self, gi: u32) -> &[(Time, Time)] {
        let (a, b) = (
            self.assists_at[gi as usize] as usize,
            self.assists_at[gi as usize + 1] as usize,
        );
        &self.assists[a..b]
    }

    /// Splits `[start, end)` of goroutine `gi`, whose time there is `base`, into the
    /// stretches that count as `base`, as STW (the pauses, inside running and runnable
    /// time) and as GC assist (the assists outside pauses, inside running time). Calls `f`
    /// with each, latest first: (start, end, category, the pause's kind or [`StrId`] 0).
    ///
    /// This is the one place that decides how a piece's time is divided: the segments of
    /// a path and its totals are both made from it, so they cannot disagree.
    fn split(
        &self,
        spans: &mut SpanReader<'_>,
        gi: u32,
        base: Category,
        start: Time,
        end: Time,
        mut f: impl FnMut(Time, Time, Category, StrId),
    ) {
        // Cut points: STW pauses (running and runnable time), assists (running time). Both
        // lists are disjoint, so only a pause and an assist can overlap; the pause wins.
        let mut cuts: Vec<(Time, Time, Category, StrId)> = Vec::new();
        if matches!(base, Category::Running | Category::SchedLatency) {
            let from = spans.stw_from(&self.stw, start);
            for s in self.stw[from..].iter().take_while(|s| s.start < end) {
                cuts.push((s.start.max(start), s.end.min(end), Category::Stw, s.kind));
            }
        }
        if base == Category::Running {
            let assists = self.assists(gi);
            let from = assists.partition_point(|a| a.1 <= start);
            for a in assists[from..].iter().take_while(|a| a.0 < end) {
                cuts.push((a.0.max(start), a.1.min(end), Category::GcAssist, StrId(0)));
            }
        }
        if cuts.is_empty() {
            f(start, end, base, StrId(0));
            return;
        }
        let mut bounds: Vec<Time> = vec![start, end];
        for c in &cuts {
            bounds.extend([c.0, c.1].into_iter().filter(|&x| x > start && x < end));
        }
        bounds.sort_unstable();
        bounds.dedup();
        for w in bounds.windows(2).rev() {
            let (a, b) = (w[0], w[1]);
            let (category, why) = cuts
                .iter()
                .find(|c| c.0 <= a && b <= c.1)
                .map_or((base, StrId(0)), |c| (c.2, c.3));
            f(a, b, category, why);
        }
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
        Wake::Unknown
    }

    /// The category of a piece of goroutine `gi`'s span `i`, ending at `end`, before
    /// splitting by STW pauses and assists.
    fn base(
        &self,
        spans: &mut SpanReader<'_>,
        gi: u32,
        span: Option<usize>,
        end: Time,
    ) -> Category {
        let Some(i) = span else {
            // Before a goroutine that the runtime created (a `time.AfterFunc` callback, …)
            // existed, whoever waits for it waits for the runtime.
            let g = self.goroutine(gi);
            return if g.created == Some(end) && g.creator < 0 {
                Category::RuntimeWait
            } else {
                Category::Unknown
            };
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
    pub fn emit(&self, spans: &mut SpanReader<'_>, p: &Piece, sink: &mut Sink) {
        if p.start >= p.end {
            return;
        }
        let g = self.goroutine(p.gi);
        let base = self.base(spans, p.gi, p.span, p.end);
        if let Sink::Totals(totals) = sink {
            self.split(spans, p.gi, base, p.start, p.end, |a, b, category, _| {
                totals.add(category, b - a);
            });
            return;
        }
        let mut parts = std::mem::take(&mut spans.parts);
        parts.clear();
        self.split(spans, p.gi, base, p.start, p.end, |a, b, category, why| {
            parts.push((a, b, category, why));
        });
        let (stack, reason) = match p.span {
            None => (g.start_stack, StrId(0)),
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
        let mut next = p.next;
        let mut last: Option<Segment> = None;
        for &(a, b, category, why) in &parts {
            let why = if why != StrId(0) { why } else { reason };
            // Merge with the later piece when nothing changes.
            if let Some(l) = last.as_mut()
                && l.category == category
                && l.reason == why
            {
                l.start = a;
                continue;
            }
            if let Some(l) = last.take() {
                self.put(spans, sink, l);
            }
            last = Some(Segment {
                g: g.id,
                category,
                start: a,
                end: b,
                stack,
                reason: why,
                next,
            });
            next = Link::Continue;
        }
        if let Some(l) = last {
            self.put(spans, sink, l);
        }
        spans.parts = parts;
    }

    /// Hands a finished segment to the sink (finding holders if it wants them).
    fn put(&self, spans: &mut SpanReader<'_>, sink: &mut Sink, s: Segment) {
        match sink {
            Sink::Segments(out) => {
                if s.category == Category::SchedLatency {
                    let first = out.held.len();
                    let idle = self.holders(spans, s.start, s.end, &mut out.held);
                    if first < out.held.len() || idle != 0 {
                        out.contention.push(Contention {
                            segment: out.segments.len() as u32,
                            first: first as u32,
                            last: out.held.len() as u32,
                            idle_procs: idle,
                        });
                    }
                }
                out.segments.push(s);
            }
            Sink::Profile(by) => {
                let e = by.entry((s.stack, s.category)).or_default();
                e.0 += s.duration();
                e.1 += 1;
            }
            Sink::Brief(b) => {
                let e = b.times.entry((s.stack, s.category)).or_default();
                e.0 += s.duration();
                e.1 += 1;
                if b.last_g != Some(s.g) {
                    b.goroutines.insert(s.g);
                    b.last_g = Some(s.g);
                }
                // Segments come latest first: of equally long ones, the later counted is
                // the earlier in the path, and is kept.
                let key = (std::cmp::Reverse(s.duration()), u64::MAX - b.count);
                b.count += 1;
                offer(&mut b.longest, b.keep, key, &s);
            }
            Sink::Totals(_) => unreachable!("totals take no segments"),
        }
    }

    /// Appends the goroutines that held Ps during `[a, b]` to `out`, longest first; returns
    /// the idle P-time.
    pub fn holders(
        &self,
        spans: &mut SpanReader<'_>,
        a: Time,
        b: Time,
        out: &mut Vec<Holder>,
    ) -> Duration {
        let first = out.len();
        let mut idle = 0;
        for pi in 0..self.t.procs.len() as u32 {
            spans.each_proc_span(pi, a, b, |s, d| match s.activity {
                ProcActivity::Running | ProcActivity::Syscall if s.g >= 0 => {
                    match out[first..].iter_mut().find(|h| h.g == s.g) {
                        Some(h) => h.time += d,
                        None => out.push(Holder { g: s.g, time: d }),
                    }
                }
                ProcActivity::Idle => idle += d,
                _ => {}
            });
        }
        out[first..].sort_by(|x, y| y.time.cmp(&x.time).then_with(|| x.g.cmp(&y.g)));
        idle
    }
}
