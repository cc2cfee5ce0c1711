//! Analyses on hand-written traces whose answers are known exactly.
//!
//! The traces are in Go's text form (frequency 1 GHz, so one tick is one nanosecond).

use goroscope_analysis::blocking::analyze;
use goroscope_analysis::sched::{Options, diagnose};
use goroscope_testkit::text_trace;
use goroscope_trace::{LoadOptions, Trace};

/// G1 (main.consumer) creates G2 (main.producer) and blocks receiving on a channel; G2 runs
/// for 890 ns, sends, and exits; G1 runs again. One P, one thread.
const HANDOFF: &str = r#"Trace Go1.22
EventBatch gen=1 m=18446744073709551615 time=0 size=?
Frequency freq=1000000000
EventBatch gen=1 m=7 time=0 size=?
ProcStatus dt=1 p=0 pstatus=1
GoStatus dt=1 g=1 m=7 gstatus=2
GoCreate dt=48 new_g=2 new_stack=2 stack=1
GoBlock dt=50 reason_string=1 stack=3
GoStart dt=10 g=2 g_seq=1
GoUnblock dt=890 g=1 g_seq=1 stack=4
GoDestroy dt=10
GoStart dt=10 g=1 g_seq=2
GoBlock dt=80 reason_string=5 stack=1
EventBatch gen=1 m=18446744073709551615 time=0 size=?
Stacks
Stack id=1 nframes=1
	pc=100 func=2 file=6 line=10
Stack id=2 nframes=1
	pc=200 func=3 file=6 line=20
Stack id=3 nframes=2
	pc=300 func=7 file=8 line=444
	pc=101 func=2 file=6 line=12
Stack id=4 nframes=2
	pc=400 func=9 file=8 line=555
	pc=201 func=3 file=6 line=22
EventBatch gen=1 m=18446744073709551615 time=0 size=?
Strings
String id=1
	data="chan receive"
String id=2
	data="main.consumer"
String id=3
	data="main.producer"
String id=5
	data="forever"
String id=6
	data="main.go"
String id=7
	data="runtime.chanrecv1"
String id=8
	data="chan.go"
String id=9
	data="runtime.chansend1"
"#;

fn load(text: &str) -> Trace {
    Trace::load(&text_trace(text), LoadOptions::default()).expect("hand-written trace loads")
}

#[test]
fn a_channel_handoff_is_attributed_to_the_sender() {
    let trace = load(HANDOFF);
    assert!(trace.warnings.is_empty(), "{:?}", trace.warnings);
    let t = &trace.timelines;
    let b = analyze(t);
    let w = b
        .waits
        .iter()
        .find(|w| w.g == 1 && w.end.is_some())
        .expect("G1's wait");
    // G1 blocks at 1+1+48+50 = 100 and is unblocked at 100+10+890 = 1000.
    assert_eq!((w.start, w.end), (100, Some(1000)));
    assert_eq!(t.strings.lossy(w.reason), "chan receive");
    assert_eq!(w.releaser, 2);
    // Sites skip runtime frames: the wait is in main.consumer line 12, the release in
    // main.producer line 22.
    let pair = &b
        .by_pair
        .iter()
        .find(|g| g.key.1.line == 22)
        .expect("pair")
        .key;
    assert_eq!(t.strings.lossy(pair.0.func), "main.consumer");
    assert_eq!(pair.0.line, 12);
    assert_eq!(t.strings.lossy(pair.1.func), "main.producer");
    // G1's last block ("forever") is still open at the end: a leak candidate, created before
    // the trace (no creation site).
    assert_eq!(b.leaks.len(), 1);
    assert_eq!(b.leaks[0].goroutines, [1]);
    assert_eq!(t.strings.lossy(b.leaks[0].reason), "forever");
}

#[test]
fn scheduling_latency_and_utilization_are_exact() {
    let trace = load(HANDOFF);
    let t = &trace.timelines;
    let d = diagnose(
        t,
        &Options {
            windows: 1,
            ..Options::default()
        },
    );
    // G2: runnable at 50 (created), running at 110: 60 ns. G1: runnable at 1000 (unblocked),
    // running at 1020: 20 ns.
    assert_eq!(d.latency.count, 2);
    assert_eq!(d.latency.overall.total, 80);
    assert_eq!(d.latency.overall.max, 60);
    // Times: the first Sync is bumped to 1, so the P's status lands at 2 and G1's at 3; the
    // trace ends with the final Sync at 1101. The P is held from 2 to 1101 (1099 ns) and
    // runs no goroutine for 22 of them: 2..3, 100..110, 1010..1020 and 1100..1101.
    let u = d.utilization[0];
    assert!(u.idle == 0.0, "{u:?}");
    assert!((u.scheduler - 22.0 / 1099.0).abs() < 1e-9, "{u:?}");
    assert!((u.running - 1077.0 / 1099.0).abs() < 1e-9, "{u:?}");
    assert_eq!(d.lost_total, 0);
}
