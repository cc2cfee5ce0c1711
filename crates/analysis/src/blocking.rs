//! Blocking attribution: every time a goroutine waited, where it waited, and who released
//! it from where.
//!
//! A wait is a waiting span of a goroutine's timeline. It ends when the goroutine becomes
//! runnable again; the event that makes it runnable names the goroutine that released it
//! (the one that unlocked the mutex, sent on the channel, …) and that goroutine's stack, or
//! no goroutine when the runtime did it (a timer, the network poller, the scheduler). A wait
//! still open when the trace ends is a leak candidate.
//!
//! Waits are aggregated by reason, by blocking site, by releaser site and by (blocking
//! site, releaser site) pair, with counts, totals and percentiles; per blocking site, the
//! number of goroutines waiting at once over time gives its peak (lock convoys). A site is
//! the innermost frame of the stack outside the runtime and the standard library's blocking
//! primitives (`runtime.`, `internal/`, `sync.`, `syscall.`, `time.Sleep`), so that waits in
//! `sync.(*Mutex).Lock` are attributed to the code that called it.

use std::collections::HashMap;

use goroscope_trace::GoState;
use goroscope_trace::event::{GoId, Time};
use goroscope_trace::timeline::{Frame, StackId, StrId, Timelines};

use crate::summary::{Distribution, Duration};

/// Where code waited or released a waiter: a function and a source line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Site {
    /// The function.
    pub func: StrId,
    /// The file.
    pub file: StrId,
    /// The line.
    pub line: u32,
}

impl Site {
    /// No site (no stack was recorded).
    pub const UNKNOWN: Self = Self {
        func: StrId(0),
        file: StrId(0),
        line: 0,
    };

    fn of(f: &Frame) -> Self {
        Self {
            func: f.func,
            file: f.file,
            line: f.line,
        }
    }

    /// `func (file:line)`, or `unknown`.
    pub fn describe(&self, t: &Timelines) -> String {
        if *self == Self::UNKNOWN {
            return "unknown".to_owned();
        }
        format!(
            "{} ({}:{})",
            t.strings.lossy(self.func),
            t.strings.lossy(self.file),
            self.line
        )
    }
}

/// Function-name prefixes of the frames that implement blocking rather than cause it.
const PRIMITIVES: &[&[u8]] = &[
    b"runtime.",
    b"internal/",
    b"sync.",
    b"sync/atomic.",
    b"syscall.",
    b"time.Sleep",
];

/// The site of a stack: its innermost frame outside the blocking primitives (the innermost
/// frame if every frame is one), or [`Site::UNKNOWN`] for no stack.
pub fn site_of(t: &Timelines, stack: StackId) -> Site {
    let mut frames = t.stacks.frames(stack);
    let leaf = frames.clone().next();
    frames
        .find(|f| {
            let name = t.strings.get(f.func);
            !PRIMITIVES.iter().any(|p| name.starts_with(p))
        })
        .or(leaf)
        .map_or(Site::UNKNOWN, Site::of)
}

/// One wait of one goroutine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    /// The goroutine that waited.
    pub g: GoId,
    /// Why (`chan receive`, `sync`, `select`, …).
    pub reason: StrId,
    /// Where it waited (its stack when it blocked).
    pub stack: StackId,
    /// When it began waiting.
    pub start: Time,
    /// When it was released, or `None` if still waiting at the end of the trace.
    pub end: Option<Time>,
    /// The goroutine that released it; -1 for the runtime (timers, network poller) or when
    /// still waiting.
    pub releaser: GoId,
    /// The releaser's stack.
    pub releaser_stack: StackId,
}

impl Wait {
    /// How long it waited, up to `trace_end` for waits still open.
    pub fn duration(&self, trace_end: Time) -> Duration {
        self.end.unwrap_or(trace_end) - self.start
    }
}

/// Counts and durations of a set of waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WaitStats {
    /// How many waits.
    pub count: u64,
    /// How long they lasted (total and percentiles).
    pub duration: Distribution,
}

/// Waits grouped under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group<K> {
    /// What the waits have in common.
    pub key: K,
    /// Their numbers.
    pub stats: WaitStats,
}

/// How many goroutines waited at one site at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Congestion {
    /// The blocking site.
    pub site: Site,
    /// The most goroutines waiting there at the same time.
    pub peak: u32,
    /// When that peak was first reached.
    pub at: Time,
    /// Time-weighted average number of waiters while at least one waited.
    pub mean: f64,
    /// How many of the site's waits ended in the trace (a convoy hands off; a leak does
    /// not).
    pub released: u64,
}

/// Goroutines still waiting at one site when the trace ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// Where they wait.
    pub site: Site,
    /// Why.
    pub reason: StrId,
    /// Which goroutines, sorted.
    pub goroutines: Vec<GoId>,
    /// Where they were created (site of the creator's stack), most common first, with
    /// counts.
    pub created_at: Vec<(Site, u32)>,
    /// The longest any of them has waited.
    pub longest: Duration,
}

/// The result of [`analyze`].
#[derive(Debug, Clone, Default)]
pub struct Blocking {
    /// Every wait, grouped by goroutine ID and in time order within a goroutine.
    pub waits: Vec<Wait>,
    /// By reason, longest total first.
    pub by_reason: Vec<Group<StrId>>,
    /// By blocking site, longest total first.
    pub by_site: Vec<Group<Site>>,
    /// By releaser site (waits released by a goroutine only), longest total first.
    pub by_releaser: Vec<Group<Site>>,
    /// By (blocking site, releaser site), longest total first.
    pub by_pair: Vec<Group<(Site, Site)>>,
    /// Peak concurrent waiters per blocking site, highest peak first.
    pub congestion: Vec<Congestion>,
    /// Goroutines waiting when the trace ended, grouped by (site, reason), most first.
    pub leaks: Vec<Leak>,
}

fn group<K: Copy + Eq + std::hash::Hash + Ord>(
    items: impl Iterator<Item = (K, Duration)>,
) -> Vec<Group<K>> {
    let mut by: HashMap<K, Vec<Duration>> = HashMap::new();
    for (k, d) in items {
        by.entry(k).or_default().push(d);
    }
    let mut out: Vec<Group<K>> = by
        .into_iter()
        .map(|(key, mut ds)| Group {
            key,
            stats: WaitStats {
                count: ds.len() as u64,
                duration: Distribution::of(&mut ds),
            },
        })
        .collect();
    out.sort_by(|a, b| {
        b.stats
            .duration
            .total
            .cmp(&a.stats.duration.total)
            .then_with(|| a.key.cmp(&b.key))
    });
    out
}

/// Attributes every wait of every goroutine of `t`.
pub fn analyze(t: &Timelines) -> Blocking {
    let mut waits = Vec::new();
    for g in &t.goroutines {
        let mut spans = g.spans.iter().peekable();
        while let Some(s) = spans.next() {
            if s.state != GoState::Waiting {
                continue;
            }
            let next = spans.peek();
            let (end, releaser, releaser_stack) = match next {
                Some(n) if n.woken => (Some(n.time), n.waker, n.waker_stack),
                Some(n) => (Some(n.time), -1, StackId::NONE),
                None => (None, -1, StackId::NONE),
            };
            waits.push(Wait {
                g: g.id,
                reason: s.reason,
                stack: s.stack,
                start: s.time,
                end,
                releaser,
                releaser_stack,
            });
        }
    }
    let mut sites: HashMap<StackId, Site> = HashMap::new();
    let mut site = |s: StackId| *sites.entry(s).or_insert_with(|| site_of(t, s));
    let keyed: Vec<(Site, Site, Duration)> = waits
        .iter()
        .map(|w| (site(w.stack), site(w.releaser_stack), w.duration(t.end)))
        .collect();
    let by_reason = group(waits.iter().map(|w| (w.reason, w.duration(t.end))));
    let by_site = group(keyed.iter().map(|&(s, _, d)| (s, d)));
    let by_releaser = group(
        keyed
            .iter()
            .zip(&waits)
            .filter(|(_, w)| w.releaser >= 0)
            .map(|(&(_, r, d), _)| (r, d)),
    );
    let by_pair = group(keyed.iter().map(|&(s, r, d)| ((s, r), d)));
    let congestion = congestion(t, &waits, &keyed);
    let leaks = leaks(t, &waits, &keyed, &mut site);
    Blocking {
        waits,
        by_reason,
        by_site,
        by_releaser,
        by_pair,
        congestion,
        leaks,
    }
}

fn congestion(t: &Timelines, waits: &[Wait], keyed: &[(Site, Site, Duration)]) -> Vec<Congestion> {
    let mut edges: HashMap<Site, Vec<(Time, i32)>> = HashMap::new();
    let mut released: HashMap<Site, u64> = HashMap::new();
    for (w, k) in waits.iter().zip(keyed) {
        let e = edges.entry(k.0).or_default();
        e.push((w.start, 1));
        e.push((w.end.unwrap_or(t.end), -1));
        if w.end.is_some() {
            *released.entry(k.0).or_default() += 1;
        }
    }
    let mut out: Vec<Congestion> = edges
        .into_iter()
        .map(|(site, mut e)| {
            // Ends before starts at the same instant: a hand-off is not two waiters.
            e.sort_unstable();
            let (mut depth, mut peak, mut at) = (0i64, 0i64, 0);
            let (mut area, mut busy, mut last) = (0f64, 0i64, e.first().map_or(0, |x| x.0));
            for (time, d) in e {
                if depth > 0 {
                    area += depth as f64 * (time - last) as f64;
                    busy += time - last;
                }
                last = time;
                depth += i64::from(d);
                if depth > peak {
                    peak = depth;
                    at = time;
                }
            }
            Congestion {
                site,
                peak: peak as u32,
                at,
                mean: if busy > 0 { area / busy as f64 } else { 0.0 },
                released: released.get(&site).copied().unwrap_or(0),
            }
        })
        .collect();
    out.sort_by(|a, b| b.peak.cmp(&a.peak).then_with(|| a.site.cmp(&b.site)));
    out
}

fn leaks(
    t: &Timelines,
    waits: &[Wait],
    keyed: &[(Site, Site, Duration)],
    site: &mut impl FnMut(StackId) -> Site,
) -> Vec<Leak> {
    let mut by: HashMap<(Site, StrId), Vec<(GoId, Duration)>> = HashMap::new();
    for (w, k) in waits.iter().zip(keyed) {
        if w.end.is_none() {
            by.entry((k.0, w.reason)).or_default().push((w.g, k.2));
        }
    }
    let mut out: Vec<Leak> = by
        .into_iter()
        .map(|((s, reason), gs)| {
            let mut created: HashMap<Site, u32> = HashMap::new();
            for (g, _) in &gs {
                let stack = t.goroutine(*g).map_or(StackId::NONE, |g| g.creation_stack);
                *created.entry(site(stack)).or_default() += 1;
            }
            let mut created_at: Vec<(Site, u32)> = created.into_iter().collect();
            created_at.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let mut goroutines: Vec<GoId> = gs.iter().map(|x| x.0).collect();
            goroutines.sort_unstable();
            Leak {
                site: s,
                reason,
                longest: gs.iter().map(|x| x.1).max().unwrap_or(0),
                goroutines,
                created_at,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.goroutines
            .len()
            .cmp(&a.goroutines.len())
            .then_with(|| a.site.cmp(&b.site))
            .then_with(|| a.reason.cmp(&b.reason))
    });
    out
}
