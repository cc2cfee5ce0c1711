//! Opens a trace as the viewer does ([`Trace::open`]: mapped, read, timelines built) and
//! reports the timelines' size and the time it took.
//!
//! `cargo run --release -p goroscope-trace --example timelines -- TRACE`

use std::path::Path;
use std::time::Instant;

use goroscope_trace::Trace;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: timelines TRACE");
        std::process::exit(2);
    };
    let start = Instant::now();
    let trace = match Trace::open(Path::new(&path)) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let secs = start.elapsed().as_secs_f64();
    for w in &trace.warnings {
        eprintln!("warning: {}", w.error);
    }
    let t = &trace.timelines;
    let spans: usize = t.goroutines.iter().map(|g| g.spans.len()).sum();
    let pspans: usize = t.procs.iter().map(|p| p.spans.len()).sum();
    let mspans: usize = t.threads.iter().map(|m| m.spans.len()).sum();
    println!(
        "{} events; {} goroutines, {spans} goroutine spans, {} Ps ({pspans} spans), {} threads ({mspans} spans), {} stacks, {} strings",
        trace.events,
        t.goroutines.len(),
        t.procs.len(),
        t.threads.len(),
        t.stacks.len(),
        t.strings.len()
    );
    let all = spans + pspans + mspans;
    println!(
        "opened in {secs:.3} s; timelines use {:.1} MB for a {:.1} MB trace ({:.2}x), {:.1} bytes per span",
        t.heap_bytes() as f64 / 1e6,
        trace.size as f64 / 1e6,
        t.heap_bytes() as f64 / trace.size as f64,
        t.heap_bytes() as f64 / all.max(1) as f64
    );
}
