//! The analyses of one loaded trace, each on its own: blocking attribution, the scheduler
//! diagnostics, the findings over both, and the critical paths of the report (the largest
//! task types, else the main goroutine). Loading (the timelines) is outside the clock.
//!
//! The input is `GOROSCOPE_BENCH_TRACE` if set, else the smallest `bench-data/*.trace` of at
//! least 40 MB (make them with `just big-traces`); without one, the largest bundled fixture
//! (too small for a meaningful number, but it keeps the benchmark running).
//!
//! `cargo bench -p goroscope-analysis --bench analyses`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use goroscope_analysis::critical::{self, PathFinder};
use goroscope_analysis::findings::{self, Config};
use goroscope_analysis::{blocking, sched};
use goroscope_trace::Trace;
use goroscope_trace::timeline::Timelines;

/// The critical paths `goroscope report` shows: the five largest task types, else the main
/// goroutine from its first to its last event. Returns the number of segments kept.
fn report_paths(t: &Timelines) -> usize {
    let finder = PathFinder::new(t);
    let kinds = critical::task_kinds(t);
    if !kinds.is_empty() {
        return kinds
            .iter()
            .take(5)
            .filter_map(|&(k, _)| finder.task_kind(k))
            .map(|b| b.slowest.path.segment_count)
            .sum();
    }
    let g = t
        .goroutines
        .iter()
        .find(|g| matches!(t.strings.get(g.name), b"runtime.main" | b"main.main"))
        .or_else(|| t.goroutines.first());
    g.and_then(|g| {
        let first = g.spans.iter().next().map_or(t.start, |s| s.time);
        finder.goroutine(g.id, first.max(t.start), g.ended.unwrap_or(t.end))
    })
    .map_or(0, |p| p.segments.len())
}

fn analyses(c: &mut Criterion) {
    let Some(path) = goroscope_testkit::bench_trace() else {
        eprintln!("analyses: no v2 trace found (run `just big-traces`); skipping");
        return;
    };
    let trace = Trace::open(&path).expect("a readable trace");
    let t = &trace.timelines;
    eprintln!(
        "analyses: {} ({} bytes, {} events, {} threads in rayon's pool)",
        path.display(),
        trace.size,
        trace.events,
        rayon::current_num_threads()
    );
    let options = sched::Options::default();
    let mut g = c.benchmark_group("analyses");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("blocking", |b| b.iter(|| blocking::analyze(black_box(t))));
    g.bench_function("sched", |b| {
        b.iter(|| sched::diagnose(black_box(t), &options));
    });
    let blocked = blocking::analyze(t);
    let diagnostics = sched::diagnose(t, &options);
    g.bench_function("findings", |b| {
        b.iter(|| findings::evaluate(black_box(t), &blocked, &diagnostics, &Config::default()));
    });
    g.bench_function("critical-paths", |b| b.iter(|| report_paths(black_box(t))));
    g.finish();
}

criterion_group!(benches, analyses);
criterion_main!(benches);
