//! Builds the timelines of a trace and reports their size and the time it took.
//!
//! `cargo run --release -p goroscope-trace --example timelines -- TRACE`

use std::time::Instant;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: timelines TRACE");
        std::process::exit(2);
    };
    let data = std::fs::read(&path).expect("read trace");
    let start = Instant::now();
    let (t, err) = goroscope_trace::timeline::build(&data).expect("trace header");
    let secs = start.elapsed().as_secs_f64();
    if let Some(e) = err {
        eprintln!("error: {e}");
    }
    let spans: usize = t.goroutines.iter().map(|g| g.spans.len()).sum();
    let pspans: usize = t.procs.iter().map(|p| p.spans.len()).sum();
    let mspans: usize = t.threads.iter().map(|m| m.spans.len()).sum();
    println!(
        "{} goroutines, {spans} goroutine spans, {} Ps ({pspans} spans), {} threads ({mspans} spans), {} stacks, {} strings",
        t.goroutines.len(),
        t.procs.len(),
        t.threads.len(),
        t.stacks.len(),
        t.strings.len()
    );
    println!(
        "built in {secs:.3} s; timelines use {:.1} MB for a {:.1} MB trace ({:.2}x)",
        t.heap_bytes() as f64 / 1e6,
        data.len() as f64 / 1e6,
        t.heap_bytes() as f64 / data.len() as f64
    );
}
