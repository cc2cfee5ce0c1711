//! Critical paths of hand-built traces with known answers.
//!
//! Each trace is written in Go's text form (the form of Go's golden tests) with absolute
//! times (1 tick = 1 ns); [`TraceText::build`] turns it into a binary trace and loads it. Every
//! case also checks that the dependency graph's longest path between the same two events is
//! the walk's path, segment for segment.

use goroscope_analysis::critical::{
    Category, CriticalPath, DependencyGraph, Holder, Link, PathFinder, Target,
};
use goroscope_format::v2::EventType;
use goroscope_format::v2::text::TextReader;
use goroscope_testkit::text_trace;
use goroscope_trace::Trace;
use goroscope_trace::event::{GoId, Time};
use goroscope_trace::timeline::{Interval, Timelines};

use Category::{Blocked, GcAssist, Running, RuntimeWait, SchedLatency, Stw, Syscall};

const NO_M: &str = "18446744073709551615";

/// A trace of one generation in Go's text form, with events at absolute times.
#[derive(Default)]
struct TraceText {
    /// The Go version (`Trace Go1.N`); 22 if 0.
    minor: u32,
    /// Per thread: its events (time, `Name args…` without `dt`), in time order.
    batches: Vec<(u64, Vec<(Time, String)>)>,
    strings: Vec<String>,
    /// Stacks as lists of function-name string IDs, innermost first.
    stacks: Vec<Vec<u64>>,
}

impl TraceText {
    /// The string ID of `s`.
    fn s(&mut self, s: &str) -> u64 {
        match self.strings.iter().position(|x| x == s) {
            Some(i) => i as u64 + 1,
            None => {
                self.strings.push(s.to_owned());
                self.strings.len() as u64
            }
        }
    }

    /// The stack ID of functions `funcs`, innermost first.
    fn stack(&mut self, funcs: &[&str]) -> u64 {
        let ids: Vec<u64> = funcs.iter().map(|f| self.s(f)).collect();
        self.stacks.push(ids);
        self.stacks.len() as u64
    }

    /// Appends an event of thread `m` at `time`.
    fn on(&mut self, m: u64, time: Time, event: &str) {
        match self.batches.iter_mut().find(|b| b.0 == m) {
            Some(b) => b.1.push((time, event.to_owned())),
            None => self.batches.push((m, vec![(time, event.to_owned())])),
        }
    }

    fn text(&self) -> String {
        let mut out = format!("Trace Go1.{}\n", self.minor.max(22));
        for (m, events) in &self.batches {
            out += &format!("EventBatch gen=1 m={m} time=0 size=0\n");
            let mut prev = 0;
            for (time, ev) in events {
                let (name, rest) = ev.split_once(' ').unwrap_or((ev, ""));
                out += &format!("{name} dt={} {rest}\n", time - prev);
                prev = *time;
            }
        }
        out += &format!("EventBatch gen=1 m={NO_M} time=0 size=0\nFrequency freq=1000000000\n");
        out += &format!("EventBatch gen=1 m={NO_M} time=0 size=0\nStacks\n");
        let file = self.strings.len() + 1;
        for (i, frames) in self.stacks.iter().enumerate() {
            out += &format!("Stack id={} nframes={}\n", i + 1, frames.len());
            for (k, f) in frames.iter().enumerate() {
                let pc = 0x1000 * (i + 1) + k;
                out += &format!("\tpc={pc} func={f} file={file} line={}\n", 10 + k);
            }
        }
        out += &format!("EventBatch gen=1 m={NO_M} time=0 size=0\nStrings\n");
        for (i, s) in self
            .strings
            .iter()
            .chain(["main.go".to_owned()].iter())
            .enumerate()
        {
            out += &format!("String id={}\n\tdata={s:?}\n", i + 1);
        }
        out
    }

    /// The binary trace, with every batch's size computed, loaded.
    fn build(&self) -> Timelines {
        let text = self.text();
        let mut reader = TextReader::new(&text).unwrap();
        let mut records = Vec::new();
        while let Some(r) = reader.next_record().unwrap() {
            records.push(r);
        }
        for i in 0..records.len() {
            if records[i].ty != EventType::EVENT_BATCH {
                continue;
            }
            let mut size = 0;
            for r in records[i + 1..]
                .iter()
                .take_while(|r| r.ty != EventType::EVENT_BATCH)
            {
                let mut b = Vec::new();
                r.write_binary(&mut b);
                size += b.len() as u64;
            }
            records[i].args[3] = size;
        }
        let mut bytes = reader.version().header();
        for r in &records {
            r.write_binary(&mut bytes);
        }
        let trace = Trace::load(&bytes, Default::default()).unwrap();
        assert!(trace.warnings.is_empty(), "{:?}", trace.warnings);
        trace.timelines
    }
}

type Seg = (GoId, Category, Time, Time);

fn segs(p: &CriticalPath) -> Vec<Seg> {
    p.segments
        .iter()
        .map(|s| (s.g, s.category, s.start, s.end))
        .collect()
}

fn name(t: &Timelines, id: goroscope_trace::timeline::StrId) -> String {
    t.strings.lossy(id).into_owned()
}

fn leaf(t: &Timelines, stack: goroscope_trace::timeline::StackId) -> String {
    t.stacks
        .leaf(stack)
        .map_or(String::new(), |f| name(t, f.func))
}

/// The walk's path of `g` over `[start, end]`, checked for tiling and against the
/// dependency graph's longest path between the same events.
fn walk(t: &Timelines, g: GoId, start: Time, end: Time) -> CriticalPath {
    let p = PathFinder::new(t).goroutine(g, start, end).unwrap();
    check_tiles(&p);
    let dag = DependencyGraph::build_with(t, &[(g, start), (g, end)]).unwrap();
    let path = dag
        .longest_path(dag.node(g, start).unwrap(), dag.node(g, end).unwrap())
        .unwrap();
    assert_eq!(
        path.weight,
        end - start,
        "the longest path explains everything"
    );
    assert_eq!(dag.critical_path(&path), p, "graph and walk agree");
    p
}

fn check_tiles(p: &CriticalPath) {
    let mut at = p.start;
    for s in &p.segments {
        assert_eq!(s.start, at, "{:?}", p.segments);
        assert!(s.end > s.start);
        at = s.end;
    }
    assert_eq!(at, p.end);
    assert_eq!(p.totals.total(), p.duration());
    assert_eq!(p.segments.last().map(|s| s.next), Some(Link::End));
}

/// g1 waits on a channel that g2 fills after computing for 490 ns; before that g2 did
/// unrelated work and slept. The path takes g2's computation and its sleep inside g1's wait,
/// but not its work before g1 started waiting.
#[test]
fn a_channel_wait_follows_the_sender_only_within_the_wait() {
    let mut tt = TraceText::default();
    let recv = tt.s("chan receive");
    let sleep = tt.s("sleep");
    let recv_stack = tt.stack(&["runtime.chanrecv1", "main.consumer"]);
    let send_stack = tt.stack(&["runtime.chansend1", "main.producer"]);
    let sleep_stack = tt.stack(&["time.Sleep", "main.producer"]);
    let done = tt.stack(&["time.Sleep", "main.consumer"]);
    tt.on(0, 0, "ProcStatus p=0 pstatus=1");
    tt.on(0, 0, "GoStatus g=1 m=0 gstatus=2");
    tt.on(
        0,
        100,
        &format!("GoBlock reason_string={recv} stack={recv_stack}"),
    );
    tt.on(0, 810, "GoStart g=1 g_seq=2");
    tt.on(
        0,
        1000,
        &format!("GoBlock reason_string={sleep} stack={done}"),
    );
    tt.on(1, 0, "ProcStatus p=1 pstatus=1");
    tt.on(1, 0, "GoStatus g=2 m=1 gstatus=2");
    tt.on(
        1,
        90,
        &format!("GoBlock reason_string={sleep} stack={sleep_stack}"),
    );
    tt.on(1, 300, "GoUnblock g=2 g_seq=1 stack=0");
    tt.on(1, 310, "GoStart g=2 g_seq=2");
    tt.on(1, 800, &format!("GoUnblock g=1 g_seq=1 stack={send_stack}"));
    tt.on(
        1,
        1100,
        &format!("GoBlock reason_string={sleep} stack={sleep_stack}"),
    );
    let t = tt.build();
    let p = walk(&t, 1, 10, 1000);
    assert_eq!(
        segs(&p),
        [
            (1, Running, 10, 100),
            (2, RuntimeWait, 100, 300),
            (2, SchedLatency, 300, 310),
            (2, Running, 310, 800),
            (1, SchedLatency, 800, 810),
            (1, Running, 810, 1000),
        ]
    );
    let links: Vec<Link> = p.segments.iter().map(|s| s.next).collect();
    use Link::{Blocked as B, Continue as C, End, Released as R};
    assert_eq!(links, [B, C, C, R, C, End]);
    // The sender's computation, not its earlier work (0..90), is on the path.
    assert_eq!(p.totals.get(Running), 90 + 490 + 190);
    assert_eq!(p.totals.get(RuntimeWait), 200);
    assert_eq!(p.totals.get(SchedLatency), 20);
    // Stacks: the sleep, the send that released g1, where g1 waited, where g1 stopped.
    assert_eq!(name(&t, p.segments[1].reason), "sleep");
    assert_eq!(leaf(&t, p.segments[1].stack), "time.Sleep");
    assert_eq!(leaf(&t, p.segments[3].stack), "runtime.chansend1");
    assert_eq!(leaf(&t, p.segments[4].stack), "runtime.chanrecv1");
    assert_eq!(leaf(&t, p.segments[0].stack), "runtime.chanrecv1");
    assert_eq!(name(&t, p.by_site(&t)[1].site.func), "main.consumer");
    // While g1 was runnable, g2 held the other P.
    assert_eq!(p.holders(4).0, [Holder { g: 2, time: 10 }]);
    // Per function: the producer's send site has the computation.
    let sites = p.by_site(&t);
    assert_eq!(name(&t, sites[0].site.func), "main.producer");
    assert_eq!(sites[0].by_category.get(Running), 490);
    assert_eq!(sites.iter().map(|s| s.total).sum::<i64>(), 990);
    let profile = p.profile();
    assert_eq!(profile.total(), 990);
    assert_eq!(leaf(&t, profile.samples[0].stack), "runtime.chansend1");
    assert_eq!(profile.samples[0].time, 490);
    assert_eq!(p.goroutines(), [1, 2]);
}

/// g3 holds a mutex that g2 waits for; g2 then holds the one g1 waits for. The path runs
/// through all three, each followed back only to the start of the wait it explains.
#[test]
fn a_mutex_handoff_chain_crosses_three_goroutines() {
    let mut tt = TraceText::default();
    let sync = tt.s("sync");
    let sleep = tt.s("sleep");
    let lock_a = tt.stack(&["sync.(*Mutex).Lock", "main.a"]);
    let lock_b = tt.stack(&["sync.(*Mutex).Lock", "main.b"]);
    let unlock_b = tt.stack(&["sync.(*Mutex).Unlock", "main.b"]);
    let unlock_c = tt.stack(&["sync.(*Mutex).Unlock", "main.c"]);
    let park = tt.stack(&["time.Sleep", "main.main"]);
    tt.on(0, 0, "ProcStatus p=0 pstatus=1");
    tt.on(0, 0, "GoStatus g=1 m=0 gstatus=2");
    tt.on(
        0,
        100,
        &format!("GoBlock reason_string={sync} stack={lock_a}"),
    );
    tt.on(0, 630, "GoStart g=1 g_seq=2");
    tt.on(
        0,
        700,
        &format!("GoBlock reason_string={sleep} stack={park}"),
    );
    tt.on(1, 0, "ProcStatus p=1 pstatus=1");
    tt.on(1, 0, "GoStatus g=2 m=1 gstatus=2");
    tt.on(
        1,
        50,
        &format!("GoBlock reason_string={sync} stack={lock_b}"),
    );
    tt.on(1, 420, "GoStart g=2 g_seq=2");
    tt.on(1, 600, &format!("GoUnblock g=1 g_seq=1 stack={unlock_b}"));
    tt.on(
        1,
        900,
        &format!("GoBlock reason_string={sleep} stack={park}"),
    );
    tt.on(2, 0, "ProcStatus p=2 pstatus=1");
    tt.on(2, 0, "GoStatus g=3 m=2 gstatus=2");
    tt.on(2, 400, &format!("GoUnblock g=2 g_seq=1 stack={unlock_c}"));
    tt.on(
        2,
        1000,
        &format!("GoBlock reason_string={sleep} stack={park}"),
    );
    let t = tt.build();
    let p = walk(&t, 1, 20, 700);
    assert_eq!(
        segs(&p),
        [
            (1, Running, 20, 100),
            (3, Running, 100, 400),
            (2, SchedLatency, 400, 420),
            (2, Running, 420, 600),
            (1, SchedLatency, 600, 630),
            (1, Running, 630, 700),
        ]
    );
    use Link::{Blocked as B, Continue as C, End, Released as R};
    let links: Vec<Link> = p.segments.iter().map(|s| s.next).collect();
    assert_eq!(links, [B, R, C, R, C, End]);
    assert_eq!(leaf(&t, p.segments[1].stack), "sync.(*Mutex).Unlock");
    assert_eq!(name(&t, p.segments[2].reason), "");
    let sites = p.by_site(&t);
    let func = |i: usize| name(&t, sites[i].site.func);
    assert_eq!(
        (func(0), func(1), func(2)),
        ("main.c".into(), "main.b".into(), "main.a".into())
    );
    assert_eq!(p.goroutines(), [1, 2, 3]);
}

/// g1 is preempted while g2 takes the only running P; another P sits idle. The runnable
/// stretch is scheduling latency naming g2 and counting the idle P-time.
#[test]
fn scheduling_latency_names_the_goroutine_on_the_p() {
    let mut tt = TraceText::default();
    let preempted = tt.s("preempted");
    let sleep = tt.s("sleep");
    let work = tt.stack(&["main.work"]);
    let park = tt.stack(&["time.Sleep", "main.other"]);
    tt.on(0, 0, "ProcStatus p=0 pstatus=1");
    tt.on(0, 0, "ProcStatus p=1 pstatus=2");
    tt.on(0, 0, "GoStatus g=1 m=0 gstatus=2");
    tt.on(0, 0, &format!("GoStatus g=2 m={NO_M} gstatus=1"));
    tt.on(
        0,
        100,
        &format!("GoStop reason_string={preempted} stack={work}"),
    );
    tt.on(0, 105, "GoStart g=2 g_seq=1");
    tt.on(
        0,
        400,
        &format!("GoBlock reason_string={sleep} stack={park}"),
    );
    tt.on(0, 410, "GoStart g=1 g_seq=1");
    tt.on(
        0,
        500,
        &format!("GoBlock reason_string={sleep} stack={park}"),
    );
    let t = tt.build();
    let p = walk(&t, 1, 10, 500);
    assert_eq!(
        segs(&p),
        [
            (1, Running, 10, 100),
            (1, SchedLatency, 100, 410),
            (1, Running, 410, 500),
        ]
    );
    let latency = &p.segments[1];
    assert_eq!(p.holders(1), (&[Holder { g: 2, time: 295 }][..], 310));
    assert_eq!(name(&t, latency.reason), "preempted");
    assert_eq!(leaf(&t, latency.stack), "main.work");
}

/// Syscalls are their own category, and a syscall that lost its P is followed by scheduling
/// latency until the goroutine runs again.
#[test]
fn syscalls_are_their_own_category() {
    let mut tt = TraceText::default();
    let sleep = tt.s("sleep");
    let read = tt.stack(&["syscall.read", "main.read"]);
    let write = tt.stack(&["syscall.write", "main.write"]);
    let park = tt.stack(&["time.Sleep", "main.main"]);
    tt.on(0, 0, "ProcStatus p=0 pstatus=1");
    tt.on(0, 0, "GoStatus g=1 m=0 gstatus=2");
    tt.on(0, 100, &format!("GoSyscallBegin p_seq=1 stack={read}"));
    tt.on(0, 350, "GoSyscallEnd");
    tt.on(0, 400, &format!("GoSyscallBegin p_seq=2 stack={write}"));
    tt.on(0, 450, "GoSyscallEndBlocked");
    tt.on(0, 470, "ProcStart p=0 p_seq=4");
    tt.on(0, 480, "GoStart g=1 g_seq=1");
    tt.on(
        0,
        500,
        &format!("GoBlock reason_string={sleep} stack={park}"),
    );
    tt.on(1, 0, "ProcStatus p=1 pstatus=1");
    tt.on(1, 0, "GoStatus g=2 m=1 gstatus=2");
    tt.on(1, 420, "ProcSteal p=0 p_seq=3 m=0");
    tt.on(
        1,
        600,
        &format!("GoBlock reason_string={sleep} stack={park}"),
    );
    let t = tt.build();
    let p = walk(&t, 1, 10, 500);
    assert_eq!(
        segs(&p),
        [
            (1, Running, 10, 100),
            (1, Syscall, 100, 350),
            (1, Running, 350, 400),
            (1, Syscall, 400, 450),
            (1, SchedLatency, 450, 480),
            (1, Running, 480, 500),
        ]
    );
    assert_eq!(leaf(&t, p.segments[1].stack), "syscall.read");
    assert_eq!(leaf(&t, p.segments[3].stack), "syscall.write");
    // After the blocked syscall it sits where the syscall returned.
    assert_eq!(leaf(&t, p.segments[4].stack), "syscall.write");
    assert_eq!(p.holders(4), (&[Holder { g: 2, time: 30 }][..], 20));
    assert_eq!(p.totals.get(Syscall), 300);
}

/// A sleep ended by a timer: the runtime released it, so it is runtime wait, and the reason
/// says it was a sleep.
#[test]
fn a_timer_wake_up_is_runtime_wait() {
    let mut tt = TraceText::default();
    let sleep = tt.s("sleep");
    let nap = tt.stack(&["time.Sleep", "main.nap"]);
    tt.on(0, 0, "ProcStatus p=0 pstatus=1");
    tt.on(0, 0, "GoStatus g=1 m=0 gstatus=2");
    tt.on(
        0,
        100,
        &format!("GoBlock reason_string={sleep} stack={nap}"),
    );
    tt.on(0, 600, "GoUnblock g=1 g_seq=1 stack=0");
    tt.on(0, 605, "GoStart g=1 g_seq=2");
    tt.on(
        0,
        700,
        &format!("GoBlock reason_string={sleep} stack={nap}"),
    );
    let t = tt.build();
    let p = walk(&t, 1, 10, 700);
    assert_eq!(
        segs(&p),
        [
            (1, Running, 10, 100),
            (1, RuntimeWait, 100, 600),
            (1, SchedLatency, 600, 605),
            (1, Running, 605, 700),
        ]
    );
    assert_eq!(name(&t, p.segments[1].reason), "sleep");
    assert_eq!(leaf(&t, p.segments[1].stack), "time.Sleep");
    let sites = p.by_site(&t);
    assert_eq!(name(&t, sites[0].site.func), "main.nap");
    assert_eq!(sites[0].by_category.get(RuntimeWait), 500);
}

/// A stop-the-world pause inside running and runnable time is STW; a mark assist inside
/// running time is GC assist.
#[test]
fn stw_pauses_and_mark_assists_are_their_own_categories() {
    let mut tt = TraceText::default();
    let sleep = tt.s("sleep");
    let kind = tt.s("GOMAXPROCS");
    let stw = tt.stack(&["runtime.stopTheWorld", "main.resize"]);
    let alloc = tt.stack(&["runtime.mallocgc", "main.alloc"]);
    let park = tt.stack(&["time.Sleep", "main.main"]);
    tt.on(0, 0, "ProcStatus p=0 pstatus=1");
    tt.on(0, 0, "GoStatus g=1 m=0 gstatus=2");
    tt.on(0, 0, &format!("GoStatus g=2 m={NO_M} gstatus=1"));
    tt.on(0, 100, &format!("STWBegin kind_string={kind} stack={stw}"));
    tt.on(0, 150, "STWEnd");
    tt.on(0, 200, &format!("GCMarkAssistBegin stack={alloc}"));
    tt.on(0, 260, "GCMarkAssistEnd");
    tt.on(
        0,
        300,
        &format!("GoBlock reason_string={sleep} stack={park}"),
    );
    tt.on(0, 320, "GoStart g=2 g_seq=1");
    tt.on(
        0,
        330,
        &format!("GoBlock reason_string={sleep} stack={park}"),
    );
    let t = tt.build();
    let p = walk(&t, 1, 10, 300);
    assert_eq!(
        segs(&p),
        [
            (1, Running, 10, 100),
            (1, Stw, 100, 150),
            (1, Running, 150, 200),
            (1, GcAssist, 200, 260),
            (1, Running, 260, 300),
        ]
    );
    assert_eq!(name(&t, p.segments[1].reason), "GOMAXPROCS");
    // g2 was runnable all along: the pause delayed it too.
    let q = walk(&t, 2, 50, 250);
    assert_eq!(
        segs(&q),
        [
            (2, SchedLatency, 50, 100),
            (2, Stw, 100, 150),
            (2, SchedLatency, 150, 250),
        ]
    );
    assert_eq!(q.holders(0).0, [Holder { g: 1, time: 50 }]);
}

/// Overlapping mark assists of one goroutine count once: GC assist is their union, in the
/// path's segments and in its totals alike, and a pause inside an assist is STW.
#[test]
fn overlapping_mark_assists_count_as_their_union() {
    let mut tt = TraceText::default();
    let sleep = tt.s("sleep");
    let kind = tt.s("GOMAXPROCS");
    let stw = tt.stack(&["runtime.stopTheWorld", "main.resize"]);
    let alloc = tt.stack(&["runtime.mallocgc", "main.alloc"]);
    let park = tt.stack(&["time.Sleep", "main.main"]);
    tt.on(0, 0, "ProcStatus p=0 pstatus=1");
    tt.on(0, 0, "GoStatus g=1 m=0 gstatus=2");
    tt.on(0, 100, &format!("STWBegin kind_string={kind} stack={stw}"));
    tt.on(0, 150, "STWEnd");
    tt.on(0, 200, &format!("GCMarkAssistBegin stack={alloc}"));
    tt.on(0, 260, "GCMarkAssistEnd");
    tt.on(
        0,
        300,
        &format!("GoBlock reason_string={sleep} stack={park}"),
    );
    let mut t = tt.build();
    // Assists as a trace can record them (see the two-generation case below): out of order,
    // one open since the trace began, one overlapping another, one inside another.
    let g1 = t.goroutines.iter_mut().find(|g| g.id == 1).unwrap();
    let assist = |start, end| Interval { start, end };
    g1.assists.extend([
        assist(Some(230), Some(280)),
        assist(Some(205), Some(210)),
        assist(None, Some(120)),
    ]);
    let p = walk(&t, 1, 10, 300);
    assert_eq!(
        segs(&p),
        [
            (1, GcAssist, 10, 100),
            (1, Stw, 100, 150),
            (1, Running, 150, 200),
            (1, GcAssist, 200, 280),
            (1, Running, 280, 300),
        ]
    );
    assert_eq!(p.totals.get(GcAssist), 90 + 80);
    assert_eq!(p.totals.get(Stw), 50);
    assert_eq!(p.totals.get(Running), 70);
    let finder = PathFinder::new(&t);
    assert_eq!(finder.totals(p.target), Some((290, p.totals)));
    // Pieces that start or end inside the assists split the same way in both modes.
    for (start, end) in [(10, 115), (120, 235), (207, 290), (205, 300)] {
        let p = finder.goroutine(1, start, end).unwrap();
        check_tiles(&p);
        assert!(p.totals.iter().all(|(_, d)| d >= 0), "{start}..{end}");
        assert_eq!(
            finder.totals(p.target),
            Some((end - start, p.totals)),
            "{start}..{end}"
        );
    }
}

/// An assist open across a generation boundary, as Go writes it: begun in the first
/// generation, announced again as active in the second (`GCMarkAssistActive`), ended there.
/// The timelines record one assist; the path's segments and its totals agree on every piece
/// of it, and GC assist is exactly the assist's time.
const ASSIST_ACROSS_GENERATIONS: &str = r#"Trace Go1.22
EventBatch gen=1 m=18446744073709551615 time=0 size=?
Frequency freq=1000000000
EventBatch gen=1 m=0 time=0 size=?
ProcStatus dt=1 p=0 pstatus=1
GoStatus dt=1 g=1 m=0 gstatus=2
GCMarkAssistBegin dt=98 stack=1
EventBatch gen=1 m=18446744073709551615 time=0 size=?
Stacks
Stack id=1 nframes=1
	pc=100 func=1 file=2 line=10
EventBatch gen=1 m=18446744073709551615 time=0 size=?
Strings
String id=1
	data="runtime.mallocgc"
String id=2
	data="main.go"
EventBatch gen=2 m=0 time=1000 size=?
ProcStatus dt=1 p=0 pstatus=1
GoStatus dt=1 g=1 m=0 gstatus=2
GCMarkAssistActive dt=1 g=1
GCMarkAssistEnd dt=297
GoBlock dt=200 reason_string=3 stack=2
EventBatch gen=2 m=18446744073709551615 time=0 size=?
Frequency freq=1000000000
EventBatch gen=2 m=18446744073709551615 time=0 size=?
Stacks
Stack id=2 nframes=1
	pc=200 func=4 file=5 line=20
EventBatch gen=2 m=18446744073709551615 time=0 size=?
Strings
String id=3
	data="sleep"
String id=4
	data="main.main"
String id=5
	data="main.go"
"#;

#[test]
fn an_assist_across_a_generation_boundary_counts_once() {
    let trace = Trace::load(&text_trace(ASSIST_ACROSS_GENERATIONS), Default::default()).unwrap();
    assert!(trace.warnings.is_empty(), "{:?}", trace.warnings);
    let t = &trace.timelines;
    let g1 = t.goroutine(1).unwrap();
    // The union of the recorded assists, clamped to the trace.
    let mut assists: Vec<(Time, Time)> = g1
        .assists
        .iter()
        .map(|a| a.clamped(t.start, t.end))
        .collect();
    assists.sort_unstable();
    let mut union: Vec<(Time, Time)> = Vec::new();
    for a in assists {
        match union.last_mut() {
            Some(l) if a.0 <= l.1 => l.1 = l.1.max(a.1),
            _ => union.push(a),
        }
    }
    // One assist, from its begin in the first generation to its end in the second: the
    // restatement at the boundary is not a second assist.
    assert_eq!(union, vec![(100, 1300)]);
    assert_eq!(g1.assists.len(), 1);
    let finder = PathFinder::new(t);
    // g1 runs from its first status until it blocks, about 1500 ns later.
    let (first, last) = (g1.spans.get(0).unwrap().time, g1.spans.last().unwrap().time);
    for (start, end) in [
        (first, last),
        (50, 150),
        (150, 1200),
        (1100, 1400),
        (1300, last),
    ] {
        let p = finder.goroutine(1, start, end).unwrap();
        check_tiles(&p);
        let what = format!("{start}..{end}");
        assert!(
            p.totals.iter().all(|(_, d)| d >= 0),
            "{what}: {:?}",
            p.totals
        );
        assert_eq!(
            finder.totals(p.target),
            Some((end - start, p.totals)),
            "{what}"
        );
        let assisting: Time = union
            .iter()
            .map(|&(a, b)| (b.min(end) - a.max(start)).max(0))
            .sum();
        assert_eq!(
            p.totals.get(GcAssist),
            assisting,
            "{what}: {:?} {union:?} {:?}",
            p.segments,
            t.start
        );
        assert_eq!(p.totals.get(Running), end - start - assisting, "{what}");
    }
}

/// A task begun on g1 and ended on g2, which g1 created: the path reaches g2's creation and
/// continues on g1 before the `go` statement. The graph's task path is the same.
#[test]
fn a_task_path_crosses_a_go_statement() {
    let mut tt = TraceText::default();
    let sleep = tt.s("sleep");
    let request = tt.s("request");
    let begin = tt.stack(&["runtime/trace.NewTask", "main.handle"]);
    let spawn = tt.stack(&["main.handle"]);
    let entry = tt.stack(&["main.worker"]);
    let end = tt.stack(&["runtime/trace.(*Task).End", "main.worker"]);
    let park = tt.stack(&["time.Sleep", "main.main"]);
    tt.on(0, 0, "ProcStatus p=0 pstatus=1");
    tt.on(0, 0, "GoStatus g=1 m=0 gstatus=2");
    tt.on(
        0,
        10,
        &format!("UserTaskBegin task=1 parent_task=0 name_string={request} stack={begin}"),
    );
    tt.on(
        0,
        100,
        &format!("GoCreate new_g=2 new_stack={entry} stack={spawn}"),
    );
    tt.on(
        0,
        120,
        &format!("GoBlock reason_string={sleep} stack={park}"),
    );
    tt.on(1, 0, "ProcStatus p=1 pstatus=1");
    tt.on(1, 150, "GoStart g=2 g_seq=1");
    tt.on(1, 500, &format!("UserTaskEnd task=1 stack={end}"));
    tt.on(1, 600, "GoDestroy");
    let t = tt.build();
    assert_eq!(t.tasks.len(), 1);
    let finder = PathFinder::new(&t);
    let p = finder.task(0).unwrap();
    check_tiles(&p);
    assert_eq!(p.target, Target::Task(0));
    assert_eq!(
        segs(&p),
        [
            (1, Running, 10, 100),
            (2, SchedLatency, 100, 150),
            (2, Running, 150, 500),
        ]
    );
    assert_eq!(p.segments[0].next, Link::Created);
    assert_eq!(leaf(&t, p.segments[0].stack), "main.handle");
    assert_eq!(leaf(&t, p.segments[1].stack), "main.worker");
    let dag = DependencyGraph::build(&t).unwrap();
    let q = dag.task(0).unwrap();
    assert_eq!(q.segments, p.segments);
    // A region-less, single-task type: its breakdown is that task.
    let b = finder.task_kind(t.tasks[0].kind).unwrap();
    assert_eq!(b.paths.len(), 1);
    assert_eq!(
        (b.median.duration, b.median.totals),
        (p.duration(), p.totals)
    );
    assert_eq!(b.median_sites, p.by_site(&t));
    assert_eq!(b.slowest.path, p.brief(&t, PathFinder::KEEP));
    // Keeping all its segments, the brief has them all.
    let all = PathFinder::new(&t).keeping(0);
    let b0 = all.task_kind(t.tasks[0].kind).unwrap();
    let longest: Vec<_> = b0
        .slowest
        .path
        .longest
        .iter()
        .map(|l| l.1.clone())
        .collect();
    assert_eq!(longest, p.segments);
    assert_eq!(b.slowest.profile, p.profile());
    assert_eq!(b.slowest.paths.len(), 1);
    assert_eq!(b.slowest.mean, p.totals);
    assert_eq!(b.duration.max, 490);
}

/// A wait whose release is not in the trace (still waiting at its end) is blocked; an
/// interval that ends in the middle of a wait does not follow the later release.
#[test]
fn unexplained_waits_are_blocked() {
    let mut tt = TraceText::default();
    let recv = tt.s("chan receive");
    let stack = tt.stack(&["runtime.chanrecv1", "main.wait"]);
    let send = tt.stack(&["runtime.chansend1", "main.send"]);
    tt.on(0, 0, "ProcStatus p=0 pstatus=1");
    tt.on(0, 0, "GoStatus g=1 m=0 gstatus=2");
    tt.on(
        0,
        100,
        &format!("GoBlock reason_string={recv} stack={stack}"),
    );
    tt.on(0, 310, "GoStart g=1 g_seq=2");
    tt.on(
        0,
        500,
        &format!("GoBlock reason_string={recv} stack={stack}"),
    );
    tt.on(1, 0, "ProcStatus p=1 pstatus=1");
    tt.on(1, 0, "GoStatus g=2 m=1 gstatus=2");
    tt.on(1, 300, &format!("GoUnblock g=1 g_seq=1 stack={send}"));
    tt.on(
        1,
        400,
        &format!("GoBlock reason_string={recv} stack={stack}"),
    );
    let t = tt.build();
    // Go's reader ends the generation just after its last event.
    assert_eq!(t.end, 501);
    let finder = PathFinder::new(&t);
    // g2 waits from 400 to the end: nobody released it.
    let p = finder.goroutine(2, 10, t.end).unwrap();
    check_tiles(&p);
    assert_eq!(segs(&p), [(2, Running, 10, 400), (2, Blocked, 400, 501)]);
    assert_eq!(name(&t, p.segments[1].reason), "chan receive");
    // At 200, g1's wait has not been released yet: the later release is not followed.
    let q = finder.goroutine(1, 10, 200).unwrap();
    check_tiles(&q);
    assert_eq!(segs(&q), [(1, Running, 10, 100), (1, Blocked, 100, 200)]);
    // Unknown goroutines, intervals that end before they start, tasks that never ended.
    assert!(finder.goroutine(7, 0, 100).is_none());
    assert!(finder.goroutine(1, 200, 100).is_none());
    assert!(finder.task(0).is_none());
    // Intervals are clamped to the trace.
    let r = finder.goroutine(1, -50, 10_000).unwrap();
    assert_eq!((r.start, r.end), (t.start, t.end));
}

/// A coroutine switch (`iter.Pull`): the switch event unblocks the other goroutine, and the
/// reader adds the switching goroutine's block and the other's start a nanosecond apart
/// each. The switch releases the waiter.
#[test]
fn a_coroutine_switch_releases_the_other_goroutine() {
    let mut tt = TraceText {
        minor: 23,
        ..TraceText::default()
    };
    let sleep = tt.s("sleep");
    let park = tt.stack(&["time.Sleep", "main.main"]);
    tt.on(0, 0, "ProcStatus p=0 pstatus=1");
    tt.on(0, 0, "GoStatus g=1 m=0 gstatus=2");
    tt.on(0, 0, &format!("GoStatus g=2 m={NO_M} gstatus=4"));
    tt.on(0, 100, "GoSwitch g=2 g_seq=1");
    tt.on(0, 300, "GoSwitch g=1 g_seq=1");
    tt.on(
        0,
        400,
        &format!("GoBlock reason_string={sleep} stack={park}"),
    );
    let t = tt.build();
    let p = walk(&t, 1, 10, 400);
    assert_eq!(
        segs(&p),
        [
            (1, Running, 10, 101),
            (2, SchedLatency, 101, 102),
            (2, Running, 102, 300),
            (1, SchedLatency, 300, 302),
            (1, Running, 302, 400),
        ]
    );
    use Link::{Blocked as B, Continue as C, End, Released as R};
    let links: Vec<Link> = p.segments.iter().map(|s| s.next).collect();
    assert_eq!(links, [B, C, R, C, End]);
}

/// 200 requests of one type; two of them wait for a mutex that another goroutine holds
/// while it computes. The slowest 1% are those two, and their breakdown says why: the
/// holder's running time, under its unlock site; the median request just runs.
#[test]
fn the_slowest_tasks_of_a_type_beside_the_median() {
    let mut tt = TraceText::default();
    let sync = tt.s("sync");
    let sleep = tt.s("sleep");
    let request = tt.s("request");
    let begin = tt.stack(&["runtime/trace.NewTask", "main.serve"]);
    let end = tt.stack(&["runtime/trace.(*Task).End", "main.serve"]);
    let lock = tt.stack(&["sync.(*Mutex).Lock", "main.serve"]);
    let unlock = tt.stack(&["sync.(*Mutex).Unlock", "main.holder"]);
    let park = tt.stack(&["time.Sleep", "main.main"]);
    tt.on(0, 0, "ProcStatus p=0 pstatus=1");
    tt.on(0, 0, "GoStatus g=1 m=0 gstatus=2");
    tt.on(1, 0, "ProcStatus p=1 pstatus=1");
    tt.on(1, 0, "GoStatus g=2 m=1 gstatus=2");
    let mut seq = 0;
    for i in 0..200 {
        let base = 1000 + i * 1000;
        let id = i + 1;
        tt.on(
            0,
            base,
            &format!("UserTaskBegin task={id} parent_task=0 name_string={request} stack={begin}"),
        );
        if i == 50 || i == 150 {
            tt.on(
                0,
                base + 10,
                &format!("GoBlock reason_string={sync} stack={lock}"),
            );
            tt.on(
                1,
                base + 400,
                &format!("GoUnblock g=1 g_seq={} stack={unlock}", seq + 1),
            );
            tt.on(0, base + 410, &format!("GoStart g=1 g_seq={}", seq + 2));
            seq += 2;
            tt.on(0, base + 500, &format!("UserTaskEnd task={id} stack={end}"));
        } else {
            tt.on(0, base + 100, &format!("UserTaskEnd task={id} stack={end}"));
        }
    }
    tt.on(
        0,
        300_000,
        &format!("GoBlock reason_string={sleep} stack={park}"),
    );
    tt.on(
        1,
        300_000,
        &format!("GoBlock reason_string={sleep} stack={park}"),
    );
    let t = tt.build();
    assert_eq!(t.tasks.len(), 200);
    let finder = PathFinder::new(&t);
    let b = finder.task_kind(t.tasks[0].kind).unwrap();
    assert_eq!((b.paths.len(), b.skipped), (200, 0));
    assert_eq!((b.duration.p50, b.duration.max), (100, 500));
    // The median request only ran.
    assert_eq!(b.median.duration, 100);
    assert_eq!(b.median.totals.get(Running), 100);
    // The slowest 1%: the two that waited, slowest first, ties in task order.
    let slow: Vec<Target> = b.slowest.paths.iter().map(|p| p.target).collect();
    assert_eq!(slow, [Target::Task(50), Target::Task(150)]);
    assert_eq!(b.slowest.mean.get(Running), 490);
    assert_eq!(b.slowest.mean.get(SchedLatency), 10);
    assert_eq!(b.slowest.mean.total(), 500);
    for p in &b.slowest.paths {
        let p = finder.path(p.target).unwrap();
        assert_eq!(p.goroutines(), [1, 2]);
        assert_eq!(p.holders(1).0, []);
    }
    let p50 = finder.path(Target::Task(50)).unwrap();
    assert_eq!(b.slowest.path, p50.brief(&t, PathFinder::KEEP));
    // Where: the holder, at its unlock.
    assert_eq!(name(&t, b.slowest.sites[0].site.func), "main.holder");
    assert_eq!(b.slowest.sites[0].total, 2 * 390);
    assert_eq!(
        leaf(&t, b.slowest.profile.samples[0].stack),
        "sync.(*Mutex).Unlock"
    );
    assert_eq!(name(&t, b.median_sites[0].site.func), "main.serve");
    // The mean over all, per category, rounded down.
    assert_eq!(b.mean.get(Running), (198 * 100 + 2 * 490) / 200);
    assert_eq!(b.mean.get(SchedLatency), 2 * 10 / 200);
}
