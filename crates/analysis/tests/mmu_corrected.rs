//! [`UtilFlags::CORRECT_BACKGROUND`], our fix of Go's background-worker leak, checked on
//! every fixture against what it must be: counting workers can only lower utilization, so
//! at every instant the corrected utilization is at most the one without background workers;
//! and unlike Go's leaking count, the series covers the whole trace like that one.

use goroscope_analysis::mmu::{MmuCurve, MutatorUtil, UtilFlags, mutator_utilization};
use goroscope_trace::{Event, EventStream};

/// The utilization of a step function at `t` (0 outside it).
fn at(series: &[MutatorUtil], t: i64) -> f64 {
    match series.partition_point(|u| u.time <= t) {
        0 => 0.0,
        i => series[i - 1].util,
    }
}

#[test]
fn corrected_background_is_bounded_by_no_background() {
    let mut checked = 0;
    for trace in goroscope_testkit::fixture_traces() {
        let data = std::fs::read(&trace).expect("fixture");
        let Ok(mut stream) = EventStream::new(&data) else {
            eprintln!("skipped {}: not readable", trace.display());
            continue;
        };
        let mut events: Vec<Event> = Vec::new();
        while let Some(Ok(ev)) = stream.next_event() {
            events.push(ev);
        }
        let tables = stream.tables();
        let corrected = mutator_utilization(
            &events,
            tables,
            UtilFlags::GO_TOOL_TRACE | UtilFlags::CORRECT_BACKGROUND,
        );
        let no_bg = mutator_utilization(&events, tables, UtilFlags::STW | UtilFlags::ASSIST);
        if no_bg.is_empty() {
            // No GOMAXPROCS in the trace (a v1 trace can lack it): no series, as in Go.
            assert!(corrected.is_empty(), "{}", trace.display());
            continue;
        }
        assert_eq!(corrected.len(), 1, "{}", trace.display());
        let (c, n) = (&corrected[0], &no_bg[0]);
        assert_eq!(c.first().map(|u| u.time), n.first().map(|u| u.time));
        assert!(
            c.last().map(|u| u.time) >= n.last().map(|u| u.time),
            "{}: the corrected series ends early",
            trace.display()
        );
        for t in c.iter().chain(n).map(|u| u.time) {
            assert!(
                at(c, t) <= at(n, t),
                "{}: at {t} corrected {} > no-background {}",
                trace.display(),
                at(c, t),
                at(n, t)
            );
        }
        let (cc, nc) = (MmuCurve::new(&corrected), MmuCurve::new(&no_bg));
        for w in [1_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000] {
            assert!(cc.mmu(w) <= nc.mmu(w), "{}: window {w}", trace.display());
        }
        checked += 1;
    }
    assert!(checked > 0);
}
