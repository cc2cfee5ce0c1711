//! Opens a trace as the viewer does ([`Trace::open`]: mapped, read, timelines built) and
//! reports the timelines' size and the time it took.
//!
//! `cargo run --release -p goroscope-trace --example timelines -- TRACE`
//!
//! With `GOROSCOPE_DIGEST` set, it also prints a hash of the timelines' `Debug` form (every
//! lane's bytes included), to check that a change to the build leaves them alone.

use std::hash::Hasher;
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
    let mb = |b: usize| b as f64 / 1e6;
    let g_lanes: usize = t.goroutines.iter().map(|g| g.spans.heap_bytes()).sum();
    let p_lanes: usize = t.procs.iter().map(|p| p.spans.heap_bytes()).sum();
    let m_lanes: usize = t.threads.iter().map(|m| m.spans.heap_bytes()).sum();
    println!(
        "goroutine lanes {:.1} MB ({:.2} B/span), P lanes {:.1} MB ({:.2} B/span), thread lanes {:.1} MB, counts {:.1} MB, the rest {:.1} MB",
        mb(g_lanes),
        g_lanes as f64 / spans.max(1) as f64,
        mb(p_lanes),
        p_lanes as f64 / pspans.max(1) as f64,
        mb(m_lanes),
        mb(t.metrics.counts.heap_bytes()),
        mb(t.heap_bytes() - g_lanes - p_lanes - m_lanes - t.metrics.counts.heap_bytes()),
    );
    let regions: usize = t
        .goroutines
        .iter()
        .map(|g| g.regions.capacity() * size_of::<goroscope_trace::timeline::Region>())
        .sum();
    let assists: usize = t
        .goroutines
        .iter()
        .map(|g| g.assists.capacity() * size_of::<goroscope_trace::timeline::Interval>())
        .sum();
    let sweeps: usize = t.procs.iter().map(|p| p.sweeps.heap_bytes()).sum();
    println!(
        "regions {:.1} MB, assists {:.1} MB, sweeps {:.1} MB ({}), heap_alloc {:.1} MB, heap_goal {:.1}, goroutine structs {:.1} MB, cpu samples {}, logs {}, labels {}",
        mb(regions),
        mb(assists),
        mb(sweeps),
        t.procs.iter().map(|p| p.sweeps.len()).sum::<usize>(),
        mb(t.metrics.heap_alloc.heap_bytes()),
        mb(t.metrics.heap_goal.heap_bytes()),
        mb(t.goroutines.len() * size_of::<goroscope_trace::timeline::Goroutine>()),
        t.cpu_samples.len(),
        t.logs.len(),
        t.labels.len()
    );
    if std::env::var_os("GOROSCOPE_DIGEST").is_some() {
        // Everything but the interners' maps (whose order is random): their contents by ID.
        let mut h = DigestWriter(std::hash::DefaultHasher::new());
        let strings: Vec<&[u8]> = (0..t.strings.len())
            .map(|i| t.strings.get(goroscope_trace::timeline::StrId(i as u32)))
            .collect();
        let stacks: Vec<Vec<_>> = (0..t.stacks.len())
            .map(|i| {
                t.stacks
                    .frames(goroscope_trace::timeline::StackId(i as u32))
                    .collect()
            })
            .collect();
        // Lanes by their records, not their bytes (the encoding may change).
        let w = &mut h;
        let mut put = |args: std::fmt::Arguments<'_>| {
            std::fmt::Write::write_fmt(w, args).expect("hashing");
        };
        put(format_args!(
            "{:?}{:?}{strings:?}{stacks:?}",
            t.start, t.end
        ));
        for g in &t.goroutines {
            put(format_args!(
                "{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}",
                g.id,
                g.created,
                g.creator,
                g.creation_stack,
                g.start_stack,
                g.name,
                g.ended,
                g.regions,
                g.assists,
                g.gc_worker
            ));
            g.spans.iter().for_each(|r| put(format_args!("{r:?}")));
        }
        for p in &t.procs {
            let sweeps: Vec<_> = p.sweeps.iter().collect();
            put(format_args!("{:?}{:?}", p.id, sweeps));
            p.spans.iter().for_each(|r| put(format_args!("{r:?}")));
        }
        for m in &t.threads {
            put(format_args!("{:?}", m.id));
            m.spans.iter().for_each(|r| put(format_args!("{r:?}")));
        }
        let mt = &t.metrics;
        for lane in [&mt.heap_alloc, &mt.heap_goal, &mt.gomaxprocs] {
            lane.iter().for_each(|r| put(format_args!("{r:?}")));
        }
        mt.counts.iter().for_each(|r| put(format_args!("{r:?}")));
        put(format_args!(
            "{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}",
            mt.counts_resolution, t.gc, t.stw, t.tasks, t.logs, t.labels, t.cpu_samples, t.clock
        ));
        println!("digest {:016x}", h.0.finish());
    }
}

/// Hashes what is written to it, without keeping it.
struct DigestWriter(std::hash::DefaultHasher);

impl std::fmt::Write for DigestWriter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.write(s.as_bytes());
        Ok(())
    }
}
