//! Reads a trace (mapped, as `Trace::open` maps it) and counts its events by kind, reading
//! the ordered stream in bulk: a quick way to time the reader.
//!
//! `cargo run --release -p goroscope-trace --example count -- TRACE`

use std::collections::BTreeMap;
use std::time::Instant;

use goroscope_trace::EventKind;

const KINDS: [EventKind; 15] = [
    EventKind::Bad,
    EventKind::Sync,
    EventKind::Metric,
    EventKind::Label,
    EventKind::StackSample,
    EventKind::RangeBegin,
    EventKind::RangeActive,
    EventKind::RangeEnd,
    EventKind::TaskBegin,
    EventKind::TaskEnd,
    EventKind::RegionBegin,
    EventKind::RegionEnd,
    EventKind::Log,
    EventKind::StateTransition,
    EventKind::Experimental,
];

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: count TRACE");
        std::process::exit(2);
    };
    // Mapped, as `Trace::open` does.
    let data = goroscope_trace::TraceData::open(path.as_ref()).expect("read trace");
    let start = Instant::now();
    let mut reader = goroscope_trace::EventStream::new(&data).expect("trace header");
    let mut by_kind = [0u64; 16];
    let mut n = 0u64;
    let mut events = Vec::new();
    loop {
        events.clear();
        match reader.next_events(&mut events) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                eprintln!("error: {e}");
                break;
            }
        }
        n += events.len() as u64;
        for ev in &events {
            by_kind[ev.kind() as usize] += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let kinds: BTreeMap<&str, u64> = KINDS
        .iter()
        .map(|&k| (k.name(), by_kind[k as usize]))
        .filter(|&(_, n)| n > 0)
        .collect();
    for (k, v) in &kinds {
        println!("{k:>16} {v}");
    }
    println!(
        "{n} events, {} bytes in {secs:.3} s: {:.0} MB/s, {:.1} M events/s",
        data.len(),
        data.len() as f64 / secs / 1e6,
        n as f64 / secs / 1e6
    );
}
