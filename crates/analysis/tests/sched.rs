//! Scheduler diagnostics on the fixtures: the scheduler-trouble program's runnable backlog and
//! latencies are found; utilization fractions add up; numbers agree with Go's summary.

use goroscope_analysis::sched::{Options, diagnose};
use goroscope_testkit::fixture_traces;
use goroscope_trace::Trace;

fn load(name: &str) -> Trace {
    let path = fixture_traces()
        .into_iter()
        .find(|p| p.to_string_lossy().contains(name))
        .unwrap();
    Trace::open(&path).unwrap()
}

#[test]
fn the_runnable_backlog_and_its_latency_are_found() {
    let trace = load("sched-go1.27.3");
    let t = &trace.timelines;
    let d = diagnose(t, &Options::default());
    // 200 CPU-bound goroutines on 2 Ps: the run queue gets deep and runnable goroutines wait.
    assert!(d.queue_spikes[0].runnable >= 150, "{:?}", d.queue_spikes[0]);
    let hog = d
        .latency
        .per_group
        .iter()
        .find(|g| t.strings.lossy(g.0) == "main.cpuHog")
        .expect("cpuHog latencies");
    assert!(hog.2.p99 > 10_000_000, "p99 {}", hog.2.p99);
    assert!(d.latency.overall.max >= hog.2.max);
    assert_eq!(d.latency.histogram.iter().sum::<u64>(), d.latency.count);
    // The Ps are busy, so little work is lost, and the hogs run for long stretches.
    let busy: f64 =
        d.utilization.iter().map(|u| u.running + u.gc).sum::<f64>() / d.utilization.len() as f64;
    assert!(busy > 0.5, "busy {busy}");
    assert!(!d.long_runs.is_empty());
    assert!(
        d.long_runs
            .iter()
            .all(|r| r.duration >= Options::default().long_run)
    );
    assert_eq!(d.gomaxprocs.first().map(|x| x.1), Some(2));
}

#[test]
fn utilization_fractions_add_up() {
    for path in fixture_traces() {
        let Ok(trace) = Trace::open(&path) else {
            continue;
        };
        let d = diagnose(&trace.timelines, &Options::default());
        for u in &d.utilization {
            let sum = u.running + u.gc + u.syscall + u.scheduler + u.idle;
            assert!(
                sum == 0.0 || (sum - 1.0).abs() < 1e-9,
                "{}: {u:?}",
                path.display()
            );
        }
        assert!(d.lost_total >= 0);
    }
}

#[test]
fn scheduling_latency_totals_match_go_sched_wait_for_created_goroutines() {
    // Go's sched wait time of a goroutine is its total time runnable; the latencies we
    // measure are the runnable stretches that end in running. For goroutines created in the
    // trace that end, both count the same stretches.
    let trace = load("mixed-go1.27.3");
    let t = &trace.timelines;
    let d = diagnose(t, &Options::default());
    let total_latency: i64 = d.latency.per_group.iter().map(|g| g.2.total).sum();
    let runnable: i64 = t
        .goroutines
        .iter()
        .map(|g| {
            let spans: Vec<_> = g.spans.iter().collect();
            spans
                .windows(2)
                .filter(|w| {
                    w[0].state == goroscope_trace::GoState::Runnable
                        && w[1].state == goroscope_trace::GoState::Running
                })
                .map(|w| w[1].time - w[0].time)
                .sum::<i64>()
        })
        .sum();
    assert_eq!(total_latency, runnable);
    assert!(d.pauses.iter().all(|p| p.duration >= 0));
    assert!(d.pause_durations.max >= d.pauses.first().map_or(0, |p| p.duration));
}
