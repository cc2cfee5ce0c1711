//! Mutator utilization and minimum mutator utilization (MMU): Go's
//! `internal/trace/gc.go` and `mud.go` (Go 1.27), with the same floating-point results.
//!
//! [`MutatorUtilization`] turns the event stream into utilization functions (Go's
//! `MutatorUtilizationV2`): step functions of the fraction of the program's Ps (or, per P,
//! whether it) ran user code rather than GC work. [`MmuCurve`] (Go's `MMUCurve`) answers the
//! usual questions about them: the minimum mean utilization over all windows of a given
//! length ([`MmuCurve::mmu`]), the worst such windows ([`MmuCurve::examples`]), and
//! quantiles of the distribution of window means ([`MmuCurve::mud`]).
//!
//! Every float operation happens in Go's order, and Go's heap and unstable sort are ported
//! step for step where the order of equal elements decides the order of additions, so the
//! values are bit-for-bit Go's.
//!
//! # Go's background-worker leak
//!
//! With [`UtilFlags::BACKGROUND`], Go marks a goroutine as a background mark worker at its
//! first `GC (dedicated)`/`GC (fractional)` label and never unmarks it. From then on each
//! time the worker starts running its P's GC count goes up twice (once for the start of a
//! marked goroutine, once for the label the runtime emits right after), but only down once
//! when it stops. After a worker has run twice on a P, that P counts as doing GC for the
//! rest of the trace, and the utilization never recovers: on a GC-heavy trace the
//! system-wide series falls to 0 within the first GC cycles and stays there. Since a point
//! that repeats the last utilization is dropped, the series then simply ends, and the MMU
//! only covers the trace up to that moment (48 ms of a 16.9 s trace of ours). This is what
//! `go tool trace` shows (its default flags include `UtilBackground`), so it is the default
//! here too.
//!
//! [`UtilFlags::CORRECT_BACKGROUND`] (not in Go) counts each run of a worker once instead: a
//! worker counts on the P it runs on from its label until it stops running. Its series
//! then cover the whole trace, and its utilization is never above the one without
//! [`UtilFlags::BACKGROUND`] (checked on every fixture).
//!
//! On one 45 MB trace of ours Go's own code panics with the default flags: a fractional
//! mark worker ends a blocked syscall, an event with no P, and Go indexes its per-P state
//! with P −1 (see below).
//!
//! # Where Go would panic
//!
//! Go indexes its per-P state with the event's P without a check, and builds bands for
//! series whose duration is 0 with negative indexes; both panic in Go. Here a range, label
//! or transition on a P outside `0..GOMAXPROCS` is ignored, and a series of zero duration
//! contributes no windows. A GOMAXPROCS above 2^20 is treated as 2^20 (Go would try to
//! allocate it).

use goroscope_format::v2::EventType;
use goroscope_trace::event::{EventKind, GoId, NO_GOROUTINE, Resource, Scope, StringRef};
use goroscope_trace::{Event, GoState, Tables};

use crate::gosort::{self, heap};
use crate::idmap::IdMap;
use crate::pass::{Facts, with_facts};

mod mud;

use mud::Mud;

/// Which work counts as not-mutator (Go's `UtilFlags`), and how series are formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UtilFlags(u32);

impl UtilFlags {
    /// No flags: utilization is always 1.
    pub const NONE: Self = Self(0);
    /// Stop-the-world pauses of the GC (`UtilSTW`).
    pub const STW: Self = Self(1);
    /// Background mark workers (`UtilBackground`), with Go's leak (see the
    /// [module docs](self)).
    pub const BACKGROUND: Self = Self(2);
    /// Mark assists (`UtilAssist`).
    pub const ASSIST: Self = Self(4);
    /// Incremental sweeping (`UtilSweep`).
    pub const SWEEP: Self = Self(8);
    /// One series per P instead of one system-wide series (`UtilPerProc`).
    pub const PER_PROC: Self = Self(16);
    /// Not in Go: with [`UtilFlags::BACKGROUND`], count each run of a background mark worker
    /// once, from its label until it stops, instead of Go's leaking count.
    pub const CORRECT_BACKGROUND: Self = Self(1 << 8);
    /// What `go tool trace`'s MMU page uses by default: system-wide, STW, background workers
    /// and assists, not sweeping.
    pub const GO_TOOL_TRACE: Self = Self(Self::STW.0 | Self::BACKGROUND.0 | Self::ASSIST.0);

    /// The flags as Go's bit values (plus ours above them).
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Flags from bits; unknown bits are kept and ignored.
    pub const fn from_bits(bits: u32) -> Self {
        Self(bits)
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for UtilFlags {
    type Output = Self;

    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for UtilFlags {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

/// A change of mutator utilization (Go's `MutatorUtil`): from `time` on, the mean
/// utilization is `util`, in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MutatorUtil {
    /// When the utilization changes, in nanoseconds.
    pub time: i64,
    /// The utilization from then on.
    pub util: f64,
}

/// Go's `math.Min` (NaN and signed zeros as Go treats them).
fn go_min(x: f64, y: f64) -> f64 {
    if x == f64::NEG_INFINITY || y == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && x == y {
        return if x.is_sign_negative() { x } else { y };
    }
    if x < y { x } else { y }
}

/// Go's `math.Max`.
fn go_max(x: f64, y: f64) -> f64 {
    if x == f64::INFINITY || y == f64::INFINITY {
        return f64::INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && x == y {
        return if x.is_sign_negative() { y } else { x };
    }
    if x > y { x } else { y }
}

/// Appends a point unless the utilization did not change; at the same time as the last
/// point, keeps the lower utilization (Go's `addUtil`).
fn add_util(util: &mut Vec<MutatorUtil>, mu: MutatorUtil) {
    if let Some(last) = util.last_mut() {
        if mu.util == last.util {
            return;
        }
        if mu.time == last.time {
            if mu.util < last.util {
                *last = mu;
            }
            return;
        }
    }
    util.push(mu);
}

/// The largest GOMAXPROCS we allocate state for.
const MAX_PROCS: u64 = 1 << 20;

#[derive(Debug, Clone, Copy)]
struct PerP {
    /// GC work in progress on the P (positive means the P is not running the mutator).
    gc: i64,
    /// The series this P's utilization goes to.
    series: usize,
}

#[derive(Debug, Clone, Copy)]
struct ProcsCount {
    time: i64,
    n: usize,
}

/// What is known of a goroutine.
#[derive(Debug, Clone, Copy, Default)]
struct GInfo {
    /// Its state.
    state: GoState,
    /// Whether it is in a mark assist.
    in_gc: bool,
    /// Whether it was ever labelled a background mark worker (Go never unmarks it).
    bg_mark: bool,
}

/// The GC-related meaning of a range event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeClass {
    /// A stop-the-world whose kind mentions GC.
    GcStw,
    Sweep,
    Assist,
    Other,
}

/// Builds the mutator utilization functions from the event stream (Go's
/// `MutatorUtilizationV2`).
///
/// Feed every event in order to [`MutatorUtilization::event`], then call
/// [`MutatorUtilization::finish`]. Nothing is recorded before the first GOMAXPROCS metric.
#[derive(Debug, Clone)]
pub struct MutatorUtilization {
    flags: UtilFlags,
    out: Vec<Vec<MutatorUtil>>,
    stw: i64,
    ps: Vec<PerP>,
    /// The number of Ps whose GC count is positive.
    gc_ps: usize,
    goroutines: IdMap<GInfo>,
    /// For [`UtilFlags::CORRECT_BACKGROUND`]: the P a worker is counted on right now.
    bg_counted: IdMap<Option<usize>>,
    procs: Vec<ProcsCount>,
    n_sync: u64,
    last_time: Option<i64>,
    /// The system-wide utilization of `util_of.0` Ps doing GC out of `util_of.1`: the last
    /// one computed, kept to spare a division per event.
    util: f64,
    util_of: (usize, usize),
    /// Whether the system-wide series ends with `util` already.
    settled: bool,
}

impl MutatorUtilization {
    /// A builder with `flags`.
    pub fn new(flags: UtilFlags) -> Self {
        Self {
            flags,
            out: Vec::new(),
            stw: 0,
            ps: Vec::new(),
            gc_ps: 0,
            goroutines: IdMap::default(),
            bg_counted: IdMap::default(),
            procs: Vec::new(),
            n_sync: 0,
            last_time: None,
            util: 1.0,
            util_of: (0, 0),
            settled: false,
        }
    }

    fn has(&self, f: UtilFlags) -> bool {
        self.flags.contains(f)
    }

    fn classify(&self, ev: &Event, tables: &Tables<'_>) -> RangeClass {
        use EventType as T;
        match ev.ty {
            T::STW_BEGIN | T::STW_END => {
                // The name is "stop-the-world (<kind>)"; only the kind can contain "GC".
                let kind = tables.string(StringRef {
                    table: ev.table,
                    id: ev.args[0],
                });
                if kind.windows(2).any(|w| w == b"GC") {
                    RangeClass::GcStw
                } else {
                    RangeClass::Other
                }
            }
            T::GC_SWEEP_BEGIN | T::GC_SWEEP_ACTIVE | T::GC_SWEEP_END => RangeClass::Sweep,
            T::GC_MARK_ASSIST_BEGIN | T::GC_MARK_ASSIST_ACTIVE | T::GC_MARK_ASSIST_END => {
                RangeClass::Assist
            }
            _ => RangeClass::Other,
        }
    }

    /// The index of the event's P, if it is in range.
    fn proc(&self, ev: &Event) -> Option<usize> {
        usize::try_from(ev.ctx.p)
            .ok()
            .filter(|&p| p < self.ps.len())
    }

    /// Adds `d` to the GC count of P `p`, keeping `gc_ps` (the number of Ps with a positive
    /// count) up to date.
    fn p_gc_add(&mut self, p: usize, d: i64) {
        let Some(per_p) = self.ps.get_mut(p) else {
            return;
        };
        let was = per_p.gc > 0;
        per_p.gc += d;
        match (was, per_p.gc > 0) {
            (false, true) => self.gc_ps += 1,
            (true, false) => self.gc_ps -= 1,
            _ => {}
        }
    }

    /// Adds `d` to the GC count of the event's P (ignored if it has none in range, where Go
    /// would panic).
    fn gc_add(&mut self, ev: &Event, d: i64) {
        if let Some(p) = self.proc(ev) {
            self.p_gc_add(p, d);
        }
    }

    fn gomaxprocs(&mut self, time: i64, value: u64) {
        let n = value.min(MAX_PROCS) as usize;
        let per_proc = self.has(UtilFlags::PER_PROC);
        if self.ps.len() > n {
            if per_proc {
                // End each removed P's series.
                for p in &self.ps[n..] {
                    add_util(&mut self.out[p.series], MutatorUtil { time, util: 0.0 });
                }
            }
            self.gc_ps -= self.ps[n..].iter().filter(|p| p.gc > 0).count();
            self.ps.truncate(n);
        }
        while self.ps.len() < n {
            // Start a new P's series.
            let mut series = 0;
            if per_proc || self.out.is_empty() {
                series = self.out.len();
                self.out.push(vec![MutatorUtil { time, util: 1.0 }]);
            }
            self.ps.push(PerP { gc: 0, series });
        }
        if self.procs.last().is_none_or(|p| p.n != n) {
            self.procs.push(ProcsCount { time, n });
        }
    }

    /// Feeds the next event of the stream; `tables` are the reader's.
    pub fn event(&mut self, ev: &Event, tables: &Tables<'_>) {
        with_facts(ev, |facts| self.step(ev, facts, tables));
    }

    /// [`MutatorUtilization::event`] with the event's facts worked out already.
    #[inline]
    pub(crate) fn step(&mut self, ev: &Event, facts: Facts<'_>, tables: &Tables<'_>) {
        self.last_time = Some(ev.time);
        if facts.kind == EventKind::StateTransition {
            if self.ps.is_empty() {
                // Nothing can be said before GOMAXPROCS is known.
                return;
            }
            if let Some(st) = facts.transition
                && let Resource::Goroutine { id, old, new } = st.resource
            {
                self.goroutine_transition(ev, id, old, new);
            }
        } else if !self.other_event(ev, facts.kind, tables) {
            return;
        }
        self.record(ev.time);
    }

    /// An event of any other kind than a state transition (out of line: they are few).
    /// Returns whether GOMAXPROCS is known.
    #[inline(never)]
    fn other_event(&mut self, ev: &Event, kind: EventKind, tables: &Tables<'_>) -> bool {
        match kind {
            EventKind::Sync => self.n_sync = ev.sync_n().unwrap_or(0),
            EventKind::Metric => {
                if let Some(("/sched/gomaxprocs:threads", v)) = ev.metric() {
                    self.gomaxprocs(ev.time, v);
                }
            }
            _ => {}
        }
        if self.ps.is_empty() {
            // Nothing can be said before GOMAXPROCS is known.
            return false;
        }

        match kind {
            // After a full generation, active ranges only repeat what is known.
            EventKind::RangeActive if self.n_sync <= 1 => {
                self.range_active(ev, tables);
                self.range_begin(ev, tables);
            }
            EventKind::RangeBegin => self.range_begin(ev, tables),
            EventKind::RangeEnd => match self.classify(ev, tables) {
                RangeClass::GcStw if self.has(UtilFlags::STW) => self.stw -= 1,
                RangeClass::Sweep if self.has(UtilFlags::SWEEP) => self.gc_add(ev, -1),
                RangeClass::Assist if self.has(UtilFlags::ASSIST) => {
                    self.gc_add(ev, -1);
                    if let Some(Scope::Goroutine(g)) = ev.range_scope()
                        && g != NO_GOROUTINE
                    {
                        self.goroutines.get_mut(g).in_gc = false;
                    }
                }
                _ => {}
            },
            EventKind::Label => self.label(ev, tables),
            _ => {}
        }
        true
    }

    /// Records the utilization after an event at `time`.
    #[inline]
    fn record(&mut self, time: i64) {
        if self.has(UtilFlags::PER_PROC) {
            self.record_per_proc(time);
            return;
        }
        let gc_ps = if self.stw > 0 {
            self.ps.len()
        } else {
            self.gc_ps
        };
        if self.util_of != (gc_ps, self.ps.len()) {
            self.util_of = (gc_ps, self.ps.len());
            self.util = 1.0 - gc_ps as f64 / self.ps.len() as f64;
            self.settled = false;
        }
        // Adding the utilization the series ends with changes nothing.
        if !self.settled {
            let util = self.util;
            let series = &mut self.out[0];
            add_util(series, MutatorUtil { time, util });
            self.settled = series.last().is_some_and(|last| last.util == util);
        }
    }

    /// [`MutatorUtilization::record`] for one series per P.
    #[inline(never)]
    fn record_per_proc(&mut self, time: i64) {
        for p in &self.ps {
            let util = if self.stw > 0 || p.gc > 0 { 0.0 } else { 1.0 };
            add_util(&mut self.out[p.series], MutatorUtil { time, util });
        }
    }

    /// A range found active at the start of the first generation: take its share out of
    /// everything recorded so far (system-wide mode only).
    fn range_active(&mut self, ev: &Event, tables: &Tables<'_>) {
        let class = self.classify(ev, tables);
        let fix = match class {
            // An assist counts only if its goroutine (the event's) is running.
            RangeClass::Assist if self.has(UtilFlags::ASSIST) => {
                self.goroutines.get(ev.ctx.g).state.executing()
            }
            RangeClass::Sweep if self.has(UtilFlags::SWEEP) => true,
            _ => false,
        };
        if !fix || self.has(UtilFlags::PER_PROC) {
            return;
        }
        self.settled = false;
        let procs = &self.procs;
        let (mut mi, mut pi) = (0, 0);
        let series = &mut self.out[0];
        while mi < series.len() {
            if pi + 1 < procs.len() && procs[pi + 1].time < series[mi].time {
                pi += 1;
                continue;
            }
            series[mi].util -= 1.0 / procs[pi].n as f64;
            if series[mi].util < 0.0 {
                series[mi].util = 0.0;
            }
            mi += 1;
        }
    }

    fn range_begin(&mut self, ev: &Event, tables: &Tables<'_>) {
        match self.classify(ev, tables) {
            RangeClass::GcStw if self.has(UtilFlags::STW) => self.stw += 1,
            RangeClass::Sweep if self.has(UtilFlags::SWEEP) => self.gc_add(ev, 1),
            RangeClass::Assist if self.has(UtilFlags::ASSIST) => {
                self.gc_add(ev, 1);
                if let Some(Scope::Goroutine(g)) = ev.range_scope()
                    && g != NO_GOROUTINE
                {
                    self.goroutines.get_mut(g).in_gc = true;
                }
            }
            _ => {}
        }
    }

    fn goroutine_transition(&mut self, ev: &Event, g: GoId, old: GoState, new: GoState) {
        let correct = self.has(UtilFlags::CORRECT_BACKGROUND);
        let info = self.goroutines.get_mut(g);
        info.state = new;
        if info.in_gc || (!correct && info.bg_mark) {
            if !old.executing() && new.executing() {
                // Started running while doing GC work.
                self.gc_add(ev, 1);
            } else if old.executing() && !new.executing() {
                // Stopped running while doing GC work.
                self.gc_add(ev, -1);
            }
        } else if correct
            && old.executing()
            && !new.executing()
            && let Some(p) = self.bg_counted.get(g)
        {
            // The worker's run ends, on the P it was counted on (a blocked syscall ends
            // with no P).
            self.p_gc_add(p, -1);
            self.bg_counted.set(g, None);
        }
    }

    fn label(&mut self, ev: &Event, tables: &Tables<'_>) {
        if !self.has(UtilFlags::BACKGROUND) {
            return;
        }
        let Some(label) = ev.label() else {
            return;
        };
        let label = tables.string(label);
        if !label.starts_with(b"GC ") || label == b"GC (idle)" {
            return;
        }
        // Dedicated workers take the whole P, so they do not delay goroutines on it.
        if self.has(UtilFlags::PER_PROC) && label == b"GC (dedicated)" {
            return;
        }
        let g = ev.ctx.g;
        if self.has(UtilFlags::CORRECT_BACKGROUND) {
            if self.bg_counted.get(g).is_none()
                && let Some(p) = self.proc(ev)
            {
                self.p_gc_add(p, 1);
                self.bg_counted.set(g, Some(p));
            }
        } else {
            self.goroutines.get_mut(g).bg_mark = true;
            self.gc_add(ev, 1);
        }
    }

    /// Ends every series with utilization 0 at the last event and returns them: one series
    /// (or one per P with [`UtilFlags::PER_PROC`]); none if no GOMAXPROCS was seen.
    pub fn finish(mut self) -> Vec<Vec<MutatorUtil>> {
        let Some(time) = self.last_time else {
            return Vec::new();
        };
        for p in &self.ps {
            add_util(&mut self.out[p.series], MutatorUtil { time, util: 0.0 });
        }
        self.out
    }
}

/// The mutator utilization functions of `events` (Go's `MutatorUtilizationV2`).
pub fn mutator_utilization<'e>(
    events: impl IntoIterator<Item = &'e Event>,
    tables: &Tables<'_>,
    flags: UtilFlags,
) -> Vec<Vec<MutatorUtil>> {
    let mut mu = MutatorUtilization::new(flags);
    for ev in events {
        mu.event(ev, tables);
    }
    mu.finish()
}

/// Go's `bandsPerSeries`.
const BANDS_PER_SERIES: usize = 1000;

/// A window of the worst utilization (Go's `UtilWindow`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct UtilWindow {
    /// The window's start.
    pub time: i64,
    /// The mean utilization in the window.
    pub mutator_util: f64,
}

/// The minimum mutator utilization curve of utilization functions (Go's `MMUCurve`).
#[derive(Debug, Clone)]
pub struct MmuCurve {
    series: Vec<Series>,
}

#[derive(Debug, Clone)]
struct Series {
    util: Vec<MutatorUtil>,
    /// `sums[j]` is the integral of the function up to `util[j].time`.
    sums: Vec<f64>,
    bands: Vec<Band>,
    band_dur: i64,
}

#[derive(Debug, Clone, Copy)]
struct Band {
    /// The lowest utilization within the band.
    min_util: f64,
    /// The integral up to the band's left edge.
    cum_util: f64,
    /// An integrator at the band's left edge.
    integrator: Integrator,
}

/// A position in a series, integrating it (Go's `integrator`).
#[derive(Debug, Clone, Copy)]
struct Integrator {
    /// The index of the current time's non-strict predecessor.
    pos: usize,
}

impl Integrator {
    /// The integral from 0 to `time`; `time` must not decrease between calls.
    fn advance(&mut self, s: &Series, time: i64) -> f64 {
        let util = &s.util;
        let mut pos = self.pos;
        const MAX_SEQ: usize = 8;
        if pos + MAX_SEQ < util.len() && util[pos + MAX_SEQ].time > time {
            // Nearby: linear scan.
            while pos + 1 < util.len() && util[pos + 1].time <= time {
                pos += 1;
            }
        } else {
            // Far: binary search for the strict successor.
            let (mut l, mut r) = (pos, util.len());
            while l < r {
                let h = (l + r) / 2;
                if util[h].time <= time {
                    l = h + 1;
                } else {
                    r = h;
                }
            }
            pos = l.saturating_sub(1);
        }
        self.pos = pos;
        let mut partial = 0.0;
        if time != util[pos].time {
            partial = util[pos].util * (time - util[pos].time) as f64;
        }
        s.sums[pos] + partial
    }

    /// The first time after `time` at which the utilization changes.
    fn next(&self, s: &Series, time: i64) -> i64 {
        s.util[self.pos..]
            .iter()
            .find(|u| u.time > time)
            .map_or(i64::MAX, |u| u.time)
    }
}

impl Series {
    fn new(util: Vec<MutatorUtil>, bands_per_series: usize) -> Self {
        let mut sums = Vec::with_capacity(util.len());
        let mut prev = MutatorUtil::default();
        let mut sum = 0.0;
        for u in &util {
            sum += prev.util * (u.time - prev.time) as f64;
            sums.push(sum);
            prev = *u;
        }
        let num_bands = bands_per_series.min(util.len());
        let dur = util[util.len() - 1].time - util[0].time;
        let band_dur = ((dur + num_bands as i64 - 1) / num_bands as i64).max(1);
        let mut s = Self {
            util,
            sums,
            bands: Vec::with_capacity(num_bands + 1),
            band_dur,
        };
        let mut left = Integrator { pos: 0 };
        for i in 0..=num_bands {
            let (start, end) = s.band_time(i);
            let cum_util = left.advance(&s, start);
            let mut min_util = 1.0;
            for u in s.util[left.pos..].iter().take_while(|u| u.time < end) {
                min_util = go_min(min_util, u.util);
            }
            s.bands.push(Band {
                min_util,
                cum_util,
                integrator: left,
            });
        }
        s
    }

    fn band_time(&self, i: usize) -> (i64, i64) {
        let start = i as i64 * self.band_dur + self.util[0].time;
        (start, start + self.band_dur)
    }

    fn duration(&self) -> i64 {
        self.util[self.util.len() - 1].time - self.util[0].time
    }

    /// A lower bound of the mean utilization of the windows starting in each band (Go's
    /// `mkBandUtil`).
    fn band_utils(&self, series: usize, window: i64, out: &mut Vec<BandUtil>) {
        if window <= 0 {
            // A series of zero duration has no windows (Go indexes band −1 here).
            return;
        }
        let bd = self.band_dur;
        let min_bands = ((window + bd - 1) / bd) as usize;
        let max_bands = ((window + 2 * (bd - 1)) / bd) as usize;
        let tail_dur = window % bd;
        let n = (self.bands.len() + 1).saturating_sub(max_bands);
        for i in 0..n {
            let mut util = 0.0;
            let l = self.bands[i].min_util;
            let r1 = self.bands[i + min_bands - 1].min_util;
            let r2 = self.bands[i + max_bands - 1].min_util;
            let min_band = go_min(l, go_min(r1, r2));
            if min_bands == 1 {
                util += min_band * window as f64;
            } else {
                util += min_band * bd as f64;
                let mut mid_band = 0.0;
                if min_band == l {
                    mid_band = go_min(r1, r2);
                } else if min_band == r1 {
                    mid_band = go_min(l, r2);
                } else if min_band == r2 {
                    mid_band = go_min(l, r1);
                }
                util += mid_band * tail_dur as f64;
            }
            if min_bands > 2 {
                util += self.bands[i + min_bands - 1].cum_util - self.bands[i + 1].cum_util;
            }
            out.push(BandUtil {
                series,
                band: i,
                util_bound: util / window as f64,
            });
        }
    }

    /// The exact windows starting in band `band` (Go's `bandMMU`).
    fn band_mmu(&self, band: usize, window: i64, acc: &mut Accumulator) {
        let mut left = self.bands[band].integrator;
        let mut right = left;
        let (mut time, mut end_time) = self.band_time(band);
        let util_end = self.util[self.util.len() - 1].time - window;
        if util_end < end_time {
            end_time = util_end;
        }
        acc.reset_time();
        loop {
            let r = right.advance(self, time + window);
            let l = left.advance(self, time);
            let mu = (r - l) / window as f64;
            if acc.add_mu(time, mu, window) || time == end_time {
                break;
            }
            // The windowed utilization changes by at most 1/window per ns.
            let min_time = time + ((mu - acc.bound) * window as f64) as i64;
            let t1 = left.next(self, time);
            let t2 = right.next(self, time + window) - window;
            time = if t1 < t2 { t1 } else { t2 };
            if time < min_time {
                time = min_time;
            }
            if time >= end_time {
                time = end_time;
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct BandUtil {
    series: usize,
    band: usize,
    util_bound: f64,
}

/// Tracks the statistics of a windowed utilization function (Go's `accumulator`).
#[derive(Debug)]
struct Accumulator {
    mmu: f64,
    /// Window means above this cannot change the result.
    bound: f64,
    n_worst: usize,
    /// A heap of the worst windows, the least bad on top.
    worst: Vec<UtilWindow>,
    mud: Option<Box<Mud>>,
    last_time: i64,
    last_mu: f64,
}

/// The order of Go's `utilHeap`: the least bad window on top.
fn util_heap_less(a: &UtilWindow, b: &UtilWindow) -> bool {
    if a.mutator_util != b.mutator_util {
        return a.mutator_util > b.mutator_util;
    }
    a.time > b.time
}

impl Accumulator {
    fn new(n_worst: usize, mud: Option<Box<Mud>>) -> Self {
        Self {
            mmu: 1.0,
            bound: 1.0,
            n_worst,
            worst: Vec::new(),
            mud,
            last_time: 0,
            last_mu: 0.0,
        }
    }

    fn reset_time(&mut self) {
        self.last_time = i64::MAX;
    }

    /// Adds the window mean at `time`; returns whether more are pointless.
    fn add_mu(&mut self, time: i64, mu: f64, window: i64) -> bool {
        if mu < self.mmu {
            self.mmu = mu;
        }
        self.bound = self.mmu;

        if self.n_worst == 0 {
            // The minimum cannot go below 0.
            return mu == 0.0;
        }

        if self.worst.len() < self.n_worst || mu < self.worst[0].mutator_util {
            // Among the n worst: keep the worse of overlapping windows.
            let mut keep = false;
            for i in 0..self.worst.len() {
                let ui = self.worst[i];
                if time + window > ui.time && ui.time + window > time {
                    if ui.mutator_util <= mu {
                        keep = true;
                    } else {
                        heap::remove(&mut self.worst, i, util_heap_less);
                    }
                    break;
                }
            }
            if !keep {
                heap::push(
                    &mut self.worst,
                    UtilWindow {
                        time,
                        mutator_util: mu,
                    },
                    util_heap_less,
                );
                if self.worst.len() > self.n_worst {
                    heap::pop(&mut self.worst, util_heap_less);
                }
            }
        }

        if self.worst.len() < self.n_worst {
            self.bound = 1.0;
        } else {
            self.bound = go_max(self.bound, self.worst[0].mutator_util);
        }

        if let Some(mud) = &mut self.mud {
            if self.last_time != i64::MAX {
                mud.add(self.last_mu, mu, (time - self.last_time) as f64);
            }
            self.last_time = time;
            self.last_mu = mu;
            self.bound = match mud.approx_inv_cumulative_sum() {
                Some((_, upper)) => go_max(self.bound, upper),
                // Not enough mass yet to reach the goal.
                None => 1.0,
            };
            return false;
        }

        self.worst.len() == self.n_worst && self.worst[0].mutator_util == 0.0
    }
}

impl MmuCurve {
    /// The MMU curve of utilization functions (Go's `NewMMUCurve`). Empty series are left
    /// out (Go would panic on them).
    pub fn new(utils: &[Vec<MutatorUtil>]) -> Self {
        Self::with_bands_per_series(utils, BANDS_PER_SERIES)
    }

    /// As [`MmuCurve::new`], with another number of bands per series than Go's 1000 (Go's
    /// tests compare against a single band; the results only differ in float rounding).
    pub fn with_bands_per_series(utils: &[Vec<MutatorUtil>], bands: usize) -> Self {
        let bands = bands.max(1);
        Self {
            series: utils
                .iter()
                .filter(|u| !u.is_empty())
                .map(|u| Series::new(u.clone(), bands))
                .collect(),
        }
    }

    /// The lowest mean utilization over all windows of `window` nanoseconds, in `[0, 1]`
    /// (Go's `MMU`). A window longer than a series is cut to the series' length; a window of
    /// 0 or less gives 0.
    pub fn mmu(&self, window: i64) -> f64 {
        let mut acc = Accumulator::new(0, None);
        self.run(window, &mut acc);
        acc.mmu
    }

    /// Up to `n` disjoint windows of `window` nanoseconds with the lowest mean utilization,
    /// worst first (Go's `Examples`; which of equally bad windows is unspecified, as in Go).
    pub fn examples(&self, window: i64, n: usize) -> Vec<UtilWindow> {
        let mut acc = Accumulator::new(n, None);
        self.run(window, &mut acc);
        let mut worst = acc.worst;
        gosort::sort_func(&mut worst, |a, b| util_heap_less(b, a));
        worst
    }

    /// Quantiles of the distribution of mean utilization over all windows of `window`
    /// nanoseconds (Go's `MUD`); quantile 0 is the MMU.
    pub fn mud(&self, window: i64, quantiles: &[f64]) -> Vec<f64> {
        if quantiles.is_empty() {
            return Vec::new();
        }
        let max_q = quantiles[1..]
            .iter()
            .fold(quantiles[0], |m, &q| if q > m { q } else { m });
        // The total mass is the time over which windows can start.
        let mut duration: i64 = 0;
        for s in &self.series {
            let d = s.duration();
            if d >= window {
                duration += d - window;
            }
        }
        let q_mass = duration as f64 * max_q;
        let mut mud = Box::new(Mud::default());
        mud.set_track_mass(q_mass);
        let mut acc = Accumulator::new(0, Some(mud));
        self.run(window, &mut acc);
        let mut mud = acc
            .mud
            .take()
            .expect("the accumulator keeps its distribution");
        quantiles
            .iter()
            .map(|&q| {
                let (mu, _) = mud.inv_cumulative_sum(duration as f64 * q);
                // No mass (no events, or a window as long as the trace): the quantiles
                // converge to the MMU.
                if mu.is_nan() { acc.mmu } else { mu }
            })
            .collect()
    }

    /// Go's `mmu`: refines bands from the lowest bound up while they can still matter.
    fn run(&self, window: i64, acc: &mut Accumulator) {
        if window <= 0 {
            acc.mmu = 0.0;
            return;
        }
        let mut bands = Vec::new();
        let windows: Vec<i64> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let w = window.min(s.duration());
                s.band_utils(i, w, &mut bands);
                w
            })
            .collect();
        let less = |a: &BandUtil, b: &BandUtil| a.util_bound < b.util_bound;
        heap::init(&mut bands, less);
        while let Some(top) = bands.first().copied()
            && top.util_bound < acc.bound
        {
            self.series[top.series].band_mmu(top.band, windows[top.series], acc);
            heap::pop(&mut bands, less);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's `aeq`: equal to 8 digits.
    fn aeq(x: f64, y: f64) -> bool {
        let (x, y) = if x < 0.0 && y < 0.0 { (-x, -y) } else { (x, y) };
        let factor = 1.0 - 10f64.powi(-8 + 1);
        x * factor <= y && y * factor <= x
    }

    /// Go's `TestMMU`.
    #[test]
    fn mmu_of_a_square_wave() {
        // MU
        // 1.0  *****   *****   *****
        // 0.5      *   *   *   *
        // 0.0      *****   *****
        //      0   1   2   3   4   5
        let s = 1_000_000_000;
        let util = vec![
            [
                (0, 1.0),
                (s, 0.0),
                (2 * s, 1.0),
                (3 * s, 0.0),
                (4 * s, 1.0),
                (5 * s, 0.0),
            ]
            .into_iter()
            .map(|(time, util)| MutatorUtil { time, util })
            .collect::<Vec<_>>(),
        ];
        let curve = MmuCurve::new(&util);
        let cases: [(i64, f64, &[f64]); 8] = [
            (0, 0.0, &[]),
            (1_000_000, 0.0, &[0.0, 0.0]),
            (s, 0.0, &[0.0, 0.0]),
            (2 * s, 0.5, &[0.5, 0.5]),
            (3 * s, 1.0 / 3.0, &[1.0 / 3.0]),
            (4 * s, 0.5, &[0.5]),
            (5 * s, 3.0 / 5.0, &[3.0 / 5.0]),
            (6 * s, 3.0 / 5.0, &[3.0 / 5.0]),
        ];
        for (window, want, worst) in cases {
            let got = curve.mmu(window);
            assert!(aeq(want, got), "window {window}: want {want}, got {got}");
            let got: Vec<f64> = curve
                .examples(window, 2)
                .iter()
                .map(|w| w.mutator_util)
                .collect();
            assert_eq!(got, worst, "window {window}");
        }
    }

    #[test]
    fn add_util_drops_repeats_and_keeps_the_lowest_at_one_time() {
        let mut u = Vec::new();
        let p = |time, util| MutatorUtil { time, util };
        add_util(&mut u, p(1, 1.0));
        add_util(&mut u, p(2, 1.0));
        add_util(&mut u, p(3, 0.5));
        add_util(&mut u, p(3, 0.75));
        add_util(&mut u, p(3, 0.25));
        add_util(&mut u, p(4, 0.25));
        assert_eq!(u, [p(1, 1.0), p(3, 0.25)]);
    }

    #[test]
    fn go_min_max_special_cases() {
        assert!(go_min(f64::NAN, 1.0).is_nan());
        assert_eq!(go_min(f64::NAN, f64::NEG_INFINITY), f64::NEG_INFINITY);
        assert!(go_min(0.0, -0.0).is_sign_negative());
        assert!(go_min(-0.0, 0.0).is_sign_negative());
        assert!(go_max(-0.0, 0.0).is_sign_positive());
        assert_eq!(go_max(f64::NAN, f64::INFINITY), f64::INFINITY);
        assert_eq!(go_min(0.25, 0.5), 0.25);
        assert_eq!(go_max(0.25, 0.5), 0.5);
    }

    #[test]
    fn empty_and_degenerate_series() {
        assert_eq!(MmuCurve::new(&[]).mmu(1000), 1.0);
        assert_eq!(MmuCurve::new(&[Vec::new()]).mmu(1000), 1.0);
        let one = vec![vec![MutatorUtil { time: 5, util: 0.0 }]];
        let curve = MmuCurve::new(&one);
        assert_eq!(curve.mmu(1000), 1.0);
        assert_eq!(curve.mmu(0), 0.0);
        assert_eq!(curve.mud(1000, &[0.0, 0.5]), [1.0, 1.0]);
        assert!(curve.examples(1000, 3).is_empty());
    }
}
