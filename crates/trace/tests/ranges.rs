//! Ranges under way at a generation boundary. Go restates them at the start of the next
//! generation (`GCActive`, `GCMarkAssistActive`, `GCSweepActive`); the timelines keep one
//! range from its begin to its end, not a second one from the start of the trace.

use goroscope_testkit::text_trace;
use goroscope_trace::Trace;
use goroscope_trace::timeline::Interval;

/// A GC, a mark assist and a sweep, each begun in the first generation, restated as active
/// in the second, and ended there.
const ACROSS_GENERATIONS: &str = r#"Trace Go1.22
EventBatch gen=1 m=18446744073709551615 time=0 size=?
Frequency freq=1000000000
EventBatch gen=1 m=0 time=0 size=?
ProcStatus dt=1 p=0 pstatus=1
GoStatus dt=1 g=1 m=0 gstatus=2
GCBegin dt=10 gc_seq=1 stack=1
GCSweepBegin dt=10 stack=1
GCMarkAssistBegin dt=78 stack=1
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
GCActive dt=1 gc_seq=2
GCSweepActive dt=1 p=0
GCMarkAssistActive dt=1 g=1
GCMarkAssistEnd dt=297
GCSweepEnd dt=10 swept_value=5 reclaimed_value=3
GCEnd dt=10 gc_seq=3
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
fn ranges_restated_at_a_generation_boundary_stay_one_range() {
    let trace = Trace::load(&text_trace(ACROSS_GENERATIONS), Default::default()).unwrap();
    assert!(trace.warnings.is_empty(), "{:?}", trace.warnings);
    let t = &trace.timelines;
    let closed = |i: &Interval| i.start.is_some() && i.end.is_some();
    assert_eq!(t.gc.len(), 1, "{:?}", t.gc);
    assert!(closed(&t.gc[0]), "{:?}", t.gc);
    let g = t.goroutine(1).unwrap();
    assert_eq!(g.assists.len(), 1, "{:?}", g.assists);
    assert!(closed(&g.assists[0]), "{:?}", g.assists);
    let sweeps: Vec<_> = t.procs[0].sweeps.iter().collect();
    assert_eq!(sweeps.len(), 1, "{sweeps:?}");
    assert!(closed(&sweeps[0].interval), "{sweeps:?}");
    assert_eq!((sweeps[0].swept, sweeps[0].reclaimed), (5, 3));
    // Each ends after it began, in the second generation.
    for i in [t.gc[0], g.assists[0], sweeps[0].interval] {
        assert!(i.start.unwrap() < 1000 && i.end.unwrap() > 1000, "{i:?}");
    }
}
