//! Times what the viewer does before its first frame on one trace: loading (timelines
//! built) and preparing the timeline ([`TraceModel::new`]: goroutine groups and
//! level-of-detail summaries).
//!
//! `cargo run --release -p goroscope-ui --example prepare -- FILE`

use std::time::Instant;

use goroscope_trace::Trace;
use goroscope_ui::TraceModel;

fn main() {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: prepare FILE");
        std::process::exit(2);
    };
    let t = Instant::now();
    let trace = Trace::open(path.as_ref()).expect("the trace loads");
    let load = t.elapsed();
    let t = Instant::now();
    let cpu0 = cpu_seconds();
    let model = TraceModel::new(trace);
    let prep = t.elapsed();
    let cpu = cpu_seconds() - cpu0;
    println!(
        "loaded in {load:.2?}, timeline prepared in {prep:.2?} ({cpu:.2} s CPU; first frame after {:.2?}); LOD summaries {:.1} MB",
        load + prep,
        model.lod_heap_bytes() as f64 / 1e6
    );
}

/// User and system CPU time of the process so far (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // The fields after the command name (which may contain spaces), in clock ticks.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    (f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0)) / 100.0
}
