//! Scheduler diagnostics: how long runnable goroutines waited for a P, how busy the Ps were,
//! when Ps sat idle while goroutines waited, how deep the run queues got, stop-the-world
//! pauses, mark assists, syscalls that lost their P, long runs, and GOMAXPROCS changes.
//!
//! Everything is computed from the timelines; time windows split the trace into equal
//! parts (by default 200) so that bursts show.

use goroscope_trace::GoState;
use goroscope_trace::event::{GoId, ProcId, Time};
use goroscope_trace::timeline::{ProcActivity, StackId, StrId, Timelines};

use crate::idmap::{FxHashMap, IdMap};
use crate::summary::{Distribution, Duration};

/// Thresholds and resolution of [`diagnose`].
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// How many windows to split the trace into.
    pub windows: usize,
    /// Runs at least this long count as long runs (ns).
    pub long_run: Duration,
    /// How many items the top-N lists keep.
    pub top: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            windows: 200,
            long_run: 10_000_000,
            top: 20,
        }
    }
}

/// Scheduling latencies: how long goroutines stayed runnable before running.
#[derive(Debug, Clone, Default)]
pub struct Latency {
    /// Over all runs.
    pub overall: Distribution,
    /// The number of latencies measured.
    pub count: u64,
    /// Per P the goroutine then ran on, by P ID.
    pub per_proc: Vec<(ProcId, Distribution)>,
    /// Per goroutine group (start function), largest total first.
    pub per_group: Vec<(StrId, u64, Distribution)>,
    /// Per window: (window start, p99 latency of the runs that started in it, count).
    pub per_window: Vec<(Time, Duration, u64)>,
    /// A log2 histogram: `histogram[i]` counts latencies in `[2^i, 2^(i+1))` ns.
    pub histogram: Vec<u64>,
}

/// What the Ps did in one window, as fractions of (number of Ps × window length).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Utilization {
    /// The window's start.
    pub start: Time,
    /// Running user goroutines.
    pub running: f64,
    /// Running GC workers.
    pub gc: f64,
    /// Held by a thread in a syscall.
    pub syscall: f64,
    /// Held but running no goroutine (the scheduler itself).
    pub scheduler: f64,
    /// Idle.
    pub idle: f64,
}

/// A stretch of lost work conservation: Ps idle while goroutines were runnable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LostWindow {
    /// The window's start.
    pub start: Time,
    /// P-time lost in the window: ∫ min(idle Ps, runnable goroutines) dt.
    pub lost: Duration,
}

/// A peak of the run-queue depth.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueSpike {
    /// When.
    pub time: Time,
    /// Runnable goroutines then.
    pub runnable: u32,
}

/// A stop-the-world pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    /// When it began.
    pub start: Time,
    /// How long it lasted.
    pub duration: Duration,
    /// Why.
    pub kind: StrId,
}

/// Syscalls that blocked long enough to lose their P.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockingSyscalls {
    /// How many.
    pub count: u64,
    /// Their durations.
    pub duration: Distribution,
    /// By syscall stack, most time first: (stack, count, total).
    pub by_stack: Vec<(StackId, u64, Duration)>,
}

/// A long run of a goroutine without a switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongRun {
    /// The goroutine.
    pub g: GoId,
    /// The P.
    pub p: ProcId,
    /// When it started running.
    pub start: Time,
    /// How long it ran.
    pub duration: Duration,
    /// What ended it (the state it went to), if it ended in the trace.
    pub ended_by: Option<GoState>,
    /// Its stack when it stopped (where it was preempted or blocked).
    pub stack: StackId,
}

/// The scheduler diagnostics of a trace.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    /// The window length used (ns).
    pub window: Duration,
    /// Scheduling latency.
    pub latency: Latency,
    /// P utilization per window.
    pub utilization: Vec<Utilization>,
    /// Total P-time lost to idle Ps while goroutines were runnable.
    pub lost_total: Duration,
    /// The worst windows for lost work conservation, worst first.
    pub lost_windows: Vec<LostWindow>,
    /// The deepest run queues, deepest first (at least a window apart).
    pub queue_spikes: Vec<QueueSpike>,
    /// Stop-the-world pauses, longest first.
    pub pauses: Vec<Pause>,
    /// Their durations.
    pub pause_durations: Distribution,
    /// GC mark assist time by goroutine group, most first: (group, total).
    pub assists: Vec<(StrId, Duration)>,
    /// Syscalls that lost their P.
    pub blocking_syscalls: BlockingSyscalls,
    /// Runs at least [`Options::long_run`] long, longest first.
    pub long_runs: Vec<LongRun>,
    /// GOMAXPROCS over time: (time, value).
    pub gomaxprocs: Vec<(Time, u64)>,
    /// The most threads busy at once.
    pub peak_threads: u32,
}

/// The 99th percentile of `values` (reordered), as [`Distribution::of`] ranks it; 0 for none.
fn p99(values: &mut [Duration]) -> Duration {
    let n = values.len();
    if n == 0 {
        return 0;
    }
    *values
        .select_nth_unstable((99 * n).div_ceil(100).max(1) - 1)
        .1
}

fn dist(mut v: Vec<Duration>) -> Distribution {
    Distribution::of(&mut v)
}

/// Every scheduling latency with what it is grouped by: the P the goroutine then ran on,
/// the goroutine's group and the window in which it began running. Traces have millions of
/// latencies but few such triples (a few Ps and groups, a few hundred windows), so each
/// latency keeps its value and the index of its triple: the least that gives exact
/// percentiles per P, group and window.
#[derive(Debug, Default)]
struct Latencies {
    values: Vec<Duration>,
    keys: Vec<u32>,
    /// (P, group, window) of each key, as dense indexes.
    triples: Vec<[u32; 3]>,
    index: FxHashMap<[u32; 3], u32>,
    /// Per P: the triple pushed last with it, and its key. A goroutine's latencies on one P
    /// mostly share one (the group is the goroutine's, the window changes seldom), while
    /// the P changes often.
    last: Vec<([u32; 3], u32)>,
}

impl Latencies {
    #[inline]
    fn push(&mut self, lat: Duration, proc: u32, group: u32, window: usize) {
        let triple = [proc, group, window as u32];
        let p = proc as usize;
        if p >= self.last.len() {
            self.last.resize(p + 1, ([u32::MAX; 3], 0));
        }
        let k = match self.last[p] {
            (t, k) if t == triple => k,
            _ => {
                let triples = &mut self.triples;
                let k = *self.index.entry(triple).or_insert_with(|| {
                    triples.push(triple);
                    (triples.len() - 1) as u32
                });
                self.last[p] = (triple, k);
                k
            }
        };
        self.values.push(lat);
        self.keys.push(k);
    }

    /// The count and `summary` of the values of each of the `n` indexes that `part` (0 for
    /// the P, 1 the group, 2 the window) of the triples takes, using `scratch` (as long as
    /// the values) to lay them out one index after another.
    fn by<T>(
        &self,
        part: usize,
        n: usize,
        scratch: &mut [Duration],
        summary: impl Fn(&mut [Duration]) -> T,
    ) -> Vec<(u64, T)> {
        let of: Vec<usize> = self.triples.iter().map(|t| t[part] as usize).collect();
        let mut start = vec![0usize; n + 1];
        for &k in &self.keys {
            start[of[k as usize] + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut at = start.clone();
        for (&v, &k) in self.values.iter().zip(&self.keys) {
            let i = of[k as usize];
            scratch[at[i]] = v;
            at[i] += 1;
        }
        start
            .windows(2)
            .map(|w| {
                let part = &mut scratch[w[0]..w[1]];
                (part.len() as u64, summary(part))
            })
            .collect()
    }
}

/// Dense indexes of the keys of a few groups (Ps, goroutine groups), in first-seen order.
#[derive(Debug)]
struct Dense<K> {
    index: FxHashMap<K, u32>,
    keys: Vec<K>,
}

impl<K: Copy + Eq + std::hash::Hash> Dense<K> {
    fn new() -> Self {
        Self {
            index: FxHashMap::default(),
            keys: Vec::new(),
        }
    }

    #[inline]
    fn of(&mut self, k: K) -> u32 {
        // Most have a few keys (Ps): a scan beats hashing.
        if self.keys.len() <= 16
            && let Some(i) = self.keys.iter().position(|&x| x == k)
        {
            return i as u32;
        }
        *self.index.entry(k).or_insert_with(|| {
            self.keys.push(k);
            (self.keys.len() - 1) as u32
        })
    }
}

/// The windows of [`diagnose`]: `n` of length `len` from `start`, the first also holding the
/// times before it and the last those after it.
#[derive(Debug, Clone, Copy)]
struct Windows {
    start: Time,
    len: Duration,
    n: usize,
    /// The window found last and the times it holds, `lo..hi`: times mostly come in
    /// order, and then need no division.
    last: usize,
    lo: Time,
    hi: Time,
}

impl Windows {
    fn new(start: Time, len: Duration, n: usize) -> Self {
        Self {
            start,
            len,
            n,
            last: 0,
            lo: 0,
            hi: 0,
        }
    }

    /// The window of `time`.
    #[inline]
    fn of(&mut self, time: Time) -> usize {
        if !(self.lo..self.hi).contains(&time) {
            let w = (((time - self.start) / self.len).max(0) as usize).min(self.n - 1);
            self.last = w;
            self.lo = if w == 0 { Time::MIN } else { self.start(w) };
            self.hi = if w == self.n - 1 {
                Time::MAX
            } else {
                self.start(w + 1)
            };
        }
        self.last
    }

    /// The start of window `w`.
    fn start(&self, w: usize) -> Time {
        self.start + w as i64 * self.len
    }
}

/// What the goroutine walk of [`diagnose`] reads of a span.
#[derive(Debug, Clone, Copy)]
struct Step {
    time: Time,
    state: GoState,
    p: ProcId,
    stack: StackId,
}

/// Computes the diagnostics of `t`.
pub fn diagnose(t: &Timelines, o: &Options) -> Diagnostics {
    let span = (t.end - t.start).max(1);
    let windows = o.windows.max(1);
    let window = (span as f64 / windows as f64).ceil().max(1.0) as Duration;
    let wins = Windows::new(t.start, window, windows);

    // The goroutine lanes and the P lanes are walked at the same time.
    let goroutines = || {
        // Latencies, long runs, blocking syscalls and assists: one walk over goroutine spans,
        // each lane decoded as it is read.
        let mut lat = Latencies::default();
        let mut procs: Dense<ProcId> = Dense::new();
        let mut groups: Dense<StrId> = Dense::new();
        let mut histogram = vec![0u64; 64];
        let mut win_of = wins;
        let mut long_runs = Vec::new();
        let mut sys = Vec::new();
        let mut sys_by_stack: FxHashMap<StackId, (u64, Duration)> = FxHashMap::default();
        let mut assists: FxHashMap<StrId, Duration> = FxHashMap::default();
        for g in &t.goroutines {
            let group = groups.of(g.name);
            // Each span is seen with the one after it; only the fields used are kept (whole
            // spans are large, and copying them from one iteration to the next cost more
            // than decoding them).
            let mut steps = g.spans.iter().map(|n| Step {
                time: n.time,
                state: n.state,
                p: n.p,
                stack: n.stack,
            });
            let mut cur = steps.next();
            while let Some(s) = cur {
                let next = steps.next();
                let end = next.map_or(t.end, |n| n.time);
                match s.state {
                    GoState::Runnable => {
                        if let Some(n) = next.filter(|n| n.state == GoState::Running) {
                            let d = n.time - s.time;
                            lat.push(d, procs.of(n.p), group, win_of.of(n.time));
                            histogram[(64 - (d.max(1) as u64).leading_zeros() - 1) as usize] += 1;
                        }
                    }
                    GoState::Running => {
                        let d = end - s.time;
                        if d >= o.long_run {
                            long_runs.push(LongRun {
                                g: g.id,
                                p: s.p,
                                start: s.time,
                                duration: d,
                                ended_by: next.map(|n| n.state),
                                stack: next.map_or(StackId::NONE, |n| n.stack),
                            });
                        }
                    }
                    // A syscall that comes back runnable (not running) lost its P.
                    GoState::Syscall if next.is_some_and(|n| n.state == GoState::Runnable) => {
                        let d = end - s.time;
                        sys.push(d);
                        let e = sys_by_stack.entry(s.stack).or_default();
                        e.0 += 1;
                        e.1 += d;
                    }
                    _ => {}
                }
                cur = next;
            }
            let assist: Duration = g
                .assists
                .iter()
                .map(|a| {
                    let (a, b) = a.clamped(t.start, t.end);
                    b - a
                })
                .sum();
            if assist > 0 {
                *assists.entry(g.name).or_default() += assist;
            }
        }
        let count = lat.values.len() as u64;
        let mut scratch = vec![0; lat.values.len()];
        let mut per_proc: Vec<(ProcId, Distribution)> = lat
            .by(0, procs.keys.len(), &mut scratch, Distribution::of)
            .into_iter()
            .zip(&procs.keys)
            .map(|((_, d), &p)| (p, d))
            .collect();
        per_proc.sort_by_key(|x| x.0);
        let mut per_group: Vec<(StrId, u64, Distribution)> = lat
            .by(1, groups.keys.len(), &mut scratch, Distribution::of)
            .into_iter()
            .zip(&groups.keys)
            .filter(|((n, _), _)| *n > 0)
            .map(|((n, d), &g)| (g, n, d))
            .collect();
        per_group.sort_by(|a, b| b.2.total.cmp(&a.2.total).then_with(|| a.0.cmp(&b.0)));
        let per_window = lat
            // Only the p99 is shown per window: one selection, not three.
            .by(2, windows, &mut scratch, p99)
            .into_iter()
            .enumerate()
            .map(|(i, (n, p99))| (t.start + i as i64 * window, p99, n))
            .collect();
        drop(scratch);
        let Latencies { mut values, .. } = lat;
        let overall = Distribution::of(&mut values);
        drop(values);
        while histogram.len() > 1 && histogram.last() == Some(&0) {
            histogram.pop();
        }
        long_runs.sort_by(|a, b| {
            b.duration
                .cmp(&a.duration)
                .then_with(|| a.start.cmp(&b.start))
        });
        long_runs.truncate(o.top);
        let mut by_stack: Vec<(StackId, u64, Duration)> = sys_by_stack
            .into_iter()
            .map(|(s, (n, d))| (s, n, d))
            .collect();
        by_stack.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        by_stack.truncate(o.top);
        let blocking_syscalls = BlockingSyscalls {
            count: sys.len() as u64,
            duration: dist(sys),
            by_stack,
        };
        let mut assists: Vec<(StrId, Duration)> = assists.into_iter().collect();
        assists.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let latency = Latency {
            overall,
            count,
            per_proc,
            per_group,
            per_window,
            histogram,
        };
        (latency, long_runs, blocking_syscalls, assists)
    };
    let procs = || {
        // P utilization per window, and the number of idle Ps over time.
        // In integer nanoseconds: the same sums as in floating point while they stay below
        // 2^53 ns (104 days of P-time in one window), and cheaper.
        let mut util = vec![[0 as Duration; 5]; windows];
        let mut win_of = wins;
        let mut idle_edges: Vec<(Time, i32)> = Vec::new();
        // The GC workers, marked by goroutine ID (a vector for small IDs): Ps switch
        // goroutines at most spans, and a search among the goroutines (whose records are
        // large) missed the cache at every step; even one among the few workers cost a
        // tenth of this walk.
        let mut workers: IdMap<bool> = IdMap::default();
        for g in t.goroutines.iter().filter(|g| g.gc_worker) {
            workers.set(g.id, true);
        }
        let gc_worker = |g: GoId| workers.get(g);
        for p in &t.procs {
            // Before its first span a P's activity is unknown; count it from there. Each
            // span is seen with the start of the next: its start, and its slot (none while
            // the P did not exist).
            let mut spans = p.spans.iter().map(|s| {
                let slot = match s.activity {
                    ProcActivity::Running if s.g >= 0 && gc_worker(s.g) => Some(1),
                    ProcActivity::Running if s.g >= 0 => Some(0),
                    ProcActivity::Running => Some(3),
                    ProcActivity::Syscall => Some(2),
                    ProcActivity::Idle => Some(4),
                    ProcActivity::NotExist => None,
                };
                (s.time, slot)
            });
            let mut cur = spans.next();
            while let Some((start, slot)) = cur {
                let next = spans.next();
                cur = next;
                let Some(slot) = slot else { continue };
                let end = next.map_or(t.end, |n| n.0);
                if slot == 4 {
                    idle_edges.push((start, 1));
                    idle_edges.push((end, -1));
                }
                let mut a = start.max(t.start);
                while a < end {
                    let w = win_of.of(a);
                    let w_end = wins.start(w + 1).min(end);
                    let b = if w_end > a { w_end } else { end };
                    util[w][slot] += b - a;
                    a = b;
                }
            }
        }
        let utilization = util
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let u = u.map(|x| x as f64);
                let total: f64 = u.iter().sum();
                let f = |x: f64| if total > 0.0 { x / total } else { 0.0 };
                Utilization {
                    start: t.start + i as i64 * window,
                    running: f(u[0]),
                    gc: f(u[1]),
                    syscall: f(u[2]),
                    scheduler: f(u[3]),
                    idle: f(u[4]),
                }
            })
            .collect();

        // Lost work conservation: idle Ps while goroutines were runnable.
        idle_edges.sort_unstable();
        let runnable: Vec<(Time, u32)> = t
            .metrics
            .counts
            .iter()
            .map(|c| (c.time, c.runnable))
            .collect();
        let mut lost = vec![0 as Duration; windows];
        let mut lost_total = 0;
        {
            let (mut i, mut j) = (0, 0);
            let (mut idle, mut run) = (0i64, 0i64);
            let mut now = t.start;
            loop {
                let next_i = idle_edges.get(i).map(|e| e.0);
                let next_j = runnable.get(j).map(|e| e.0);
                let next = match (next_i, next_j) {
                    (None, None) => t.end,
                    (a, b) => a.unwrap_or(Time::MAX).min(b.unwrap_or(Time::MAX)),
                };
                let next = next.min(t.end).max(now);
                let k = idle.min(run).max(0);
                if k > 0 && next > now {
                    let mut a = now;
                    while a < next {
                        let w = win_of.of(a);
                        let w_end = wins.start(w + 1).min(next);
                        let b = if w_end > a { w_end } else { next };
                        lost[w] += k * (b - a);
                        lost_total += k * (b - a);
                        a = b;
                    }
                }
                now = next;
                if next_i.is_none() && next_j.is_none() || now >= t.end {
                    break;
                }
                while idle_edges.get(i).is_some_and(|e| e.0 <= now) {
                    idle += i64::from(idle_edges[i].1);
                    i += 1;
                }
                while runnable.get(j).is_some_and(|e| e.0 <= now) {
                    run = i64::from(runnable[j].1);
                    j += 1;
                }
            }
        }
        let mut lost_windows: Vec<LostWindow> = lost
            .iter()
            .enumerate()
            .filter(|(_, l)| **l > 0)
            .map(|(i, &l)| LostWindow {
                start: t.start + i as i64 * window,
                lost: l,
            })
            .collect();
        lost_windows.sort_by(|a, b| b.lost.cmp(&a.lost).then_with(|| a.start.cmp(&b.start)));
        lost_windows.truncate(o.top);

        // Run-queue spikes: the deepest point of each window, deepest windows first.
        let mut best: Vec<Option<QueueSpike>> = vec![None; windows];
        for &(time, r) in &runnable {
            let w = win_of.of(time);
            if best[w].is_none_or(|b| r > b.runnable) {
                best[w] = Some(QueueSpike { time, runnable: r });
            }
        }
        let mut queue_spikes: Vec<QueueSpike> = best
            .into_iter()
            .flatten()
            .filter(|s| s.runnable > 0)
            .collect();
        queue_spikes.sort_by(|a, b| {
            b.runnable
                .cmp(&a.runnable)
                .then_with(|| a.time.cmp(&b.time))
        });
        queue_spikes.truncate(o.top);
        (utilization, lost_total, lost_windows, queue_spikes)
    };
    let (
        (latency, long_runs, blocking_syscalls, assists),
        (utilization, lost_total, lost_windows, queue_spikes),
    ) = rayon::join(goroutines, procs);

    let mut pauses: Vec<Pause> = t
        .stw
        .iter()
        .map(|s| {
            let (a, b) = s.interval.clamped(t.start, t.end);
            Pause {
                start: a,
                duration: b - a,
                kind: s.kind,
            }
        })
        .collect();
    let pause_durations = dist(pauses.iter().map(|p| p.duration).collect());
    pauses.sort_by(|a, b| {
        b.duration
            .cmp(&a.duration)
            .then_with(|| a.start.cmp(&b.start))
    });
    pauses.truncate(o.top);

    Diagnostics {
        window,
        latency,
        utilization,
        lost_total,
        lost_windows,
        queue_spikes,
        pauses,
        pause_durations,
        assists,
        blocking_syscalls,
        long_runs,
        gomaxprocs: t
            .metrics
            .gomaxprocs
            .iter()
            .map(|p| (p.time, p.value))
            .collect(),
        peak_threads: t
            .metrics
            .counts
            .iter()
            .map(|c| c.threads)
            .max()
            .unwrap_or(0),
    }
}
