//! Wire decoding throughput: index a v2 trace, decode every generation's tables, and decode
//! every event of every batch with an `EventCursor` (no ordering): a batch at a time
//! (`for_each_event`), and one event at a time (`next_into`).
//!
//! The input is `GOROSCOPE_BENCH_TRACE` if set, else the smallest `bench-data/*.trace` of at
//! least 40 MB (make them with `just big-traces`); without one, the largest bundled fixture,
//! which is too small for a meaningful number but keeps the benchmark running.
//!
//! `cargo bench -p goroscope-format --bench decode`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use goroscope_format::v2::{self, EventCursor, RawEvent};

/// Decodes everything, each batch with `EventCursor::for_each_event`; returns the number of
/// events and a checksum of their arguments.
fn decode_all(data: &[u8]) -> (u64, u64) {
    let idx = v2::index(data).expect("a v2 trace");
    let mut n = 0u64;
    let mut sum = 0u64;
    for span in &idx.generations {
        let g = v2::decode(data, idx.version, span).expect("a well-formed generation");
        for t in &g.threads {
            for b in &t.batches {
                EventCursor::new(b.body)
                    .for_each_event(|_, ev| {
                        n += 1;
                        sum = sum.wrapping_add(ev.dt ^ ev.args[0]);
                    })
                    .expect("well-formed events");
            }
        }
    }
    (n, sum)
}

/// [`decode_all`] one event at a time, with `EventCursor::next_into`.
fn decode_all_next_into(data: &[u8]) -> (u64, u64) {
    let idx = v2::index(data).expect("a v2 trace");
    let mut n = 0u64;
    let mut sum = 0u64;
    let mut ev = RawEvent::default();
    for span in &idx.generations {
        let g = v2::decode(data, idx.version, span).expect("a well-formed generation");
        for t in &g.threads {
            for b in &t.batches {
                let mut c = EventCursor::new(b.body);
                while c.next_into(&mut ev).expect("well-formed events") {
                    n += 1;
                    sum = sum.wrapping_add(ev.dt ^ ev.args[0]);
                }
            }
        }
    }
    (n, sum)
}

/// Indexes and decodes the tables only.
fn decode_tables(data: &[u8]) -> usize {
    let idx = v2::index(data).expect("a v2 trace");
    idx.generations
        .iter()
        .map(|span| {
            let g = v2::decode(data, idx.version, span).expect("a well-formed generation");
            g.strings.len() + g.stacks.len()
        })
        .sum()
}

fn decode(c: &mut Criterion) {
    let Some(path) = goroscope_testkit::bench_trace() else {
        eprintln!("decode: no v2 trace found (run `just big-traces`); skipping");
        return;
    };
    let data = std::fs::read(&path).expect("read the trace");
    let (events, sum) = decode_all(&data);
    assert_eq!(decode_all_next_into(&data), (events, sum));
    eprintln!(
        "decode: {} ({} bytes, {events} events)",
        path.display(),
        data.len()
    );
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("index", |b| {
        b.iter(|| v2::index(black_box(&data)).map(|i| i.generations.len()));
    });
    g.bench_function("index+tables", |b| {
        b.iter(|| decode_tables(black_box(&data)));
    });
    g.bench_function("index+tables+events", |b| {
        b.iter(|| decode_all(black_box(&data)));
    });
    g.bench_function("index+tables+events, one at a time", |b| {
        b.iter(|| decode_all_next_into(black_box(&data)));
    });
    g.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
