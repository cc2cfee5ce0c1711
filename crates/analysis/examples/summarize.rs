//! Times the summary of a trace:
//!
//! ```text
//! cargo run --release -p goroscope-analysis --example summarize -- TRACE [RUNS [MODE]]
//! ```
//!
//! Prints the best of RUNS (default 3) CPU times to read the events alone and to read and
//! summarise them. MODE `own` times only the summarizer's work (events are read in chunks
//! that stay in cache, outside the clock); `read` and `summary` do one pass of one kind (for
//! profilers); `kinds` counts the events by type.

use std::time::{Duration, Instant};

use goroscope_analysis::summary::{Summarizer, Summary};
use goroscope_trace::EventStream;

fn read_only(data: &[u8]) -> u64 {
    let mut reader = EventStream::new(data).expect("a trace");
    let mut events = 0;
    while let Some(ev) = reader.next_event() {
        ev.expect("a valid trace");
        events += 1;
    }
    events
}

fn summarise(data: &[u8]) -> Summary {
    let mut reader = EventStream::new(data).expect("a trace");
    let mut s = Summarizer::new();
    while let Some(ev) = reader.next_event() {
        s.event(&ev.expect("a valid trace"), reader.tables());
    }
    s.finalize()
}

/// This thread's CPU time so far (from `/proc/thread-self/schedstat`), which a loaded
/// machine disturbs less than wall time.
fn cpu_time() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = text.split_whitespace().next().and_then(|n| n.parse().ok());
    Duration::from_nanos(ns.unwrap_or(0))
}

/// The summary's own time: events are read in chunks that stay in cache, and only the
/// summarizer's work on each chunk is timed.
fn own_time(data: &[u8]) -> Duration {
    let mut reader = EventStream::new(data).expect("a trace");
    let mut s = Summarizer::new();
    let mut chunk = Vec::with_capacity(16384);
    let mut own = Duration::ZERO;
    loop {
        chunk.clear();
        while chunk.len() < 16384 {
            match reader.next_event() {
                Some(ev) => chunk.push(ev.expect("a valid trace")),
                None => break,
            }
        }
        let t = cpu_time();
        for ev in &chunk {
            s.event(ev, reader.tables());
        }
        own += cpu_time() - t;
        if chunk.len() < 16384 {
            break;
        }
    }
    let t = cpu_time();
    let summary = s.finalize();
    own += cpu_time() - t;
    assert!(!summary.goroutines.is_empty() || summary.tasks.is_empty());
    own
}

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs {
        let t = cpu_time();
        let r = f();
        best = best.min(cpu_time() - t);
        out = Some(r);
    }
    (best, out.expect("at least one run"))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: summarize TRACE [RUNS]");
    let runs = args
        .next()
        .map_or(3, |r| r.parse().expect("a number of runs"));
    let only = args.next();
    let data = std::fs::read(&path).expect("readable trace");
    // For instruction counts (`perf stat`): one pass of one kind.
    match only.as_deref() {
        Some("read") => return println!("{}", read_only(&data)),
        Some("summary") => return println!("{}", summarise(&data).goroutines.len()),
        Some("kinds") => {
            let mut reader = EventStream::new(&data).expect("a trace");
            let mut counts = std::collections::BTreeMap::new();
            while let Some(ev) = reader.next_event() {
                *counts.entry(ev.expect("valid").ty.name()).or_insert(0u64) += 1;
            }
            return println!("{counts:#?}");
        }
        Some("own") => {
            let own = (0..runs).map(|_| own_time(&data)).min();
            return println!("summary's own CPU time, best of {runs}: {own:?}");
        }
        _ => {}
    }

    let (read, events) = best(runs, || read_only(&data));
    let (summarised, summary) = best(runs, || summarise(&data));
    let t = Instant::now();
    let groups = summary.groups();
    let grouped = t.elapsed();

    println!("{events} events, best of {runs}");
    println!("read only:         {read:?}");
    println!("read + summarise:  {summarised:?}");
    println!("summary's own:     {:?}", summarised.saturating_sub(read));
    println!("groups:            {grouped:?}");
    println!(
        "{} goroutines, {} tasks, {} regions, {} groups",
        summary.goroutines.len(),
        summary.tasks.len(),
        summary.regions.len(),
        groups.len()
    );
}
