//! The ordered event stream: every event of a v2 trace through `Reader`, as bytes/s and
//! events/s.
//!
//! The input is `GOROSCOPE_BENCH_TRACE` if set, else the smallest `bench-data/*.trace` of at
//! least 40 MB (make them with `just big-traces`); without one, the largest bundled fixture
//! (too small for a meaningful number, but it keeps the benchmark running).
//!
//! `cargo bench -p goroscope-trace --bench read`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use goroscope_trace::{Event, Reader};

/// Reads every event one at a time; returns the count and a checksum.
fn read_each(mut r: Reader<'_>) -> (u64, i64) {
    let mut n = 0;
    let mut sum = 0i64;
    while let Some(ev) = r.next_event() {
        let ev = ev.expect("a well-formed trace");
        n += 1;
        sum = sum.wrapping_add(ev.time ^ ev.ctx.g);
    }
    (n, sum)
}

/// Reads every event a buffer at a time.
fn read_batches(mut r: Reader<'_>) -> (u64, i64) {
    let mut n = 0;
    let mut sum = 0i64;
    let mut buf: Vec<Event> = Vec::with_capacity(4096);
    while r.next_events(&mut buf).expect("a well-formed trace") {
        for ev in &buf {
            n += 1;
            sum = sum.wrapping_add(ev.time ^ ev.ctx.g);
        }
        buf.clear();
    }
    (n, sum)
}

fn read(c: &mut Criterion) {
    let Some(path) = goroscope_testkit::bench_trace() else {
        eprintln!("read: no v2 trace found (run `just big-traces`); skipping");
        return;
    };
    let data = std::fs::read(&path).expect("read the trace");
    let (events, _) = read_each(Reader::new(&data).expect("a v2 trace"));
    eprintln!(
        "read: {} ({} bytes, {events} events, {} threads in rayon's pool)",
        path.display(),
        data.len(),
        rayon::current_num_threads()
    );
    for (group, throughput) in [
        ("read-bytes", Throughput::Bytes(data.len() as u64)),
        ("read-events", Throughput::Elements(events)),
    ] {
        let mut g = c.benchmark_group(group);
        g.throughput(throughput);
        g.sample_size(10);
        g.measurement_time(Duration::from_secs(10));
        g.bench_function("next_event", |b| {
            b.iter(|| read_each(Reader::new(black_box(&data)).expect("a v2 trace")));
        });
        g.bench_function("next_events", |b| {
            b.iter(|| read_batches(Reader::new(black_box(&data)).expect("a v2 trace")));
        });
        g.bench_function("sequential", |b| {
            b.iter(|| read_each(Reader::sequential(black_box(&data)).expect("a v2 trace")));
        });
        g.finish();
    }
}

criterion_group!(benches, read);
criterion_main!(benches);
