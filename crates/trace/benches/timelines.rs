//! Loading a v2 trace as the viewer does, minus the file mapping: every event ordered and
//! the timelines built (`Trace::load`), with the build in two halves on two threads (the
//! default) and on one thread (`LoadOptions::one_thread`).
//!
//! The input is `GOROSCOPE_BENCH_TRACE` if set, else the smallest `bench-data/*.trace` of at
//! least 40 MB (make them with `just big-traces`); without one, the largest bundled fixture
//! (too small for a meaningful number, but it keeps the benchmark running).
//!
//! `cargo bench -p goroscope-trace --bench timelines`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use goroscope_trace::{LoadOptions, Trace};

/// Loads `data`; returns the number of events and of goroutine spans.
fn load(data: &[u8], one_thread: bool) -> (u64, usize) {
    let t = Trace::load(
        data,
        LoadOptions {
            one_thread,
            ..LoadOptions::default()
        },
    )
    .expect("a readable trace");
    let spans = t.timelines.goroutines.iter().map(|g| g.spans.len()).sum();
    (t.events, spans)
}

fn timelines(c: &mut Criterion) {
    let Some(path) = goroscope_testkit::bench_trace() else {
        eprintln!("timelines: no v2 trace found (run `just big-traces`); skipping");
        return;
    };
    let data = std::fs::read(&path).expect("read the trace");
    let (events, spans) = load(&data, false);
    eprintln!(
        "timelines: {} ({} bytes, {events} events, {spans} goroutine spans, {} threads in rayon's pool)",
        path.display(),
        data.len(),
        rayon::current_num_threads()
    );
    let mut g = c.benchmark_group("timelines");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(15));
    g.bench_function("two halves", |b| {
        b.iter(|| load(black_box(&data), false));
    });
    g.bench_function("one thread", |b| {
        b.iter(|| load(black_box(&data), true));
    });
    g.finish();
}

criterion_group!(benches, timelines);
criterion_main!(benches);
