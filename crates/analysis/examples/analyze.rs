//! Times every analysis of a trace, stage by stage:
//!
//! ```text
//! cargo run --release -p goroscope-analysis --example analyze -- TRACE [STAGE...]
//! ```
//!
//! Loads the trace (the timelines), then runs each analysis as the commands do: the goroutine
//! summary, the MMU and Go's four pprof profiles in one more pass over the events
//! (`events`, an [`EventAnalyses`] pass), blocking attribution with the released-by
//! profile, the scheduler diagnostics, the findings, and the critical paths the report
//! shows (every task type, else the main goroutine). For each stage it prints the wall
//! time, the process's CPU time (all threads, user + system), the resident memory after it
//! and the peak above the memory before it. With STAGE names (`events`, `blocking`,
//! `sched`, `findings`, `critical`; or `summary`, `mmu`, `pprof` for a pass of each alone)
//! it runs only those after loading. With `GOROSCOPE_DIGEST` set, it also prints a hash of
//! each result (of its `Debug` form), to check that a change leaves the results alone; the
//! critical paths, which the stage finds in brief as the report shows them, are then walked
//! again whole (outside the stage) to hash every segment and to check the briefs.

use std::path::Path;
use std::time::{Duration, Instant};

use goroscope_analysis::critical::{self, PathFinder};
use goroscope_analysis::findings::{self, Config};
use goroscope_analysis::pprof;
use goroscope_analysis::summary::Summarizer;
use goroscope_analysis::{EventAnalyses, MmuCurve, MutatorUtilization, UtilFlags, blocking, sched};
use goroscope_trace::{EventStream, Trace, TraceData};

/// The process's CPU time so far, all threads, user + system (from `/proc/self/stat`).
fn cpu_time() -> Duration {
    let text = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which may hold spaces) in parentheses.
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 Hz).
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// A `kB` field of `/proc/self/status`, in MB.
fn status_mb(field: &str) -> f64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|l| l.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Resets the peak resident size to the current one (Linux: `clear_refs` value 5).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Prints a hash of `value`'s `Debug` form if `GOROSCOPE_DIGEST` is set.
fn digest(name: &str, value: &impl std::fmt::Debug) {
    if std::env::var_os("GOROSCOPE_DIGEST").is_none() {
        return;
    }
    struct Hashing(std::collections::hash_map::DefaultHasher);
    impl std::fmt::Write for Hashing {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            std::hash::Hasher::write(&mut self.0, s.as_bytes());
            Ok(())
        }
    }
    let mut h = Hashing(std::collections::hash_map::DefaultHasher::new());
    std::fmt::Write::write_fmt(&mut h, format_args!("{value:?}")).expect("hashing");
    println!("  digest {name}: {:016x}", std::hash::Hasher::finish(&h.0));
}

/// Runs `f` as one stage and prints its costs.
fn stage<T>(name: &str, f: impl FnOnce() -> T) -> T {
    reset_peak();
    let before = status_mb("VmRSS:");
    let (cpu, wall) = (cpu_time(), Instant::now());
    let out = f();
    let (wall, cpu) = (wall.elapsed(), cpu_time() - cpu);
    let (rss, peak) = (status_mb("VmRSS:"), status_mb("VmHWM:"));
    println!(
        "{name:<12} wall {:>7.3}s  cpu {:>7.3}s  rss {rss:>7.1} MB  peak +{:>6.1} MB",
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        (peak - before).max(0.0),
    );
    out
}

/// A critical path with its holders inline in its segments, for digests that do not depend
/// on how a path stores them.
mod flat {
    use goroscope_analysis::critical::{self, Category, CategoryTotals, Holder, Link, Target};
    use goroscope_trace::event::{GoId, Time};
    use goroscope_trace::timeline::{StackId, StrId};

    #[derive(Debug)]
    #[allow(dead_code)] // Read by `Debug`.
    pub struct CriticalPath<'a> {
        target: Target,
        start: Time,
        end: Time,
        segments: Vec<Segment<'a>>,
        totals: &'a CategoryTotals,
    }

    #[derive(Debug)]
    #[allow(dead_code)] // Read by `Debug`.
    struct Segment<'a> {
        g: GoId,
        category: Category,
        start: Time,
        end: Time,
        stack: StackId,
        reason: StrId,
        next: Link,
        holders: &'a [Holder],
        idle_procs: i64,
    }

    impl<'a> CriticalPath<'a> {
        pub fn of(p: &'a critical::CriticalPath) -> Self {
            let segments = p
                .segments
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let (holders, idle_procs) = p.holders(i);
                    Segment {
                        g: s.g,
                        category: s.category,
                        start: s.start,
                        end: s.end,
                        stack: s.stack,
                        reason: s.reason,
                        next: s.next,
                        holders,
                        idle_procs,
                    }
                })
                .collect();
            Self {
                target: p.target,
                start: p.start,
                end: p.end,
                segments,
                totals: &p.totals,
            }
        }
    }
}

/// The samples of Go's four profiles.
fn samples(profiles: &pprof::GoProfiles) -> u64 {
    [
        pprof::GoProfileKind::Net,
        pprof::GoProfileKind::Sync,
        pprof::GoProfileKind::Syscall,
        pprof::GoProfileKind::Sched,
    ]
    .into_iter()
    .map(|k| profiles.get(k).total_count())
    .sum()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: analyze TRACE [STAGE...]");
    let only: Vec<String> = args.collect();
    let run = |s: &str| only.is_empty() || only.iter().any(|o| o == s);
    // A pass of one analysis alone only when named.
    let named = |s: &str| only.iter().any(|o| o == s);
    let path = Path::new(&path);
    let (cpu0, wall0) = (cpu_time(), Instant::now());

    let trace = stage("load", || Trace::open(path).expect("a readable trace"));
    let t = &trace.timelines;
    println!(
        "{} events, {} goroutines, {} procs, {} tasks",
        trace.events,
        t.goroutines.len(),
        t.procs.len(),
        t.tasks.len()
    );
    let data = TraceData::open(path).expect("a readable trace");
    if run("events") {
        let r = stage("events", || {
            let mut stream = EventStream::new(&data).expect("a trace");
            let analyses = EventAnalyses::new()
                .with_summary()
                .with_utilization(UtilFlags::GO_TOOL_TRACE)
                .with_profiles();
            let (r, error) = analyses.run(&mut stream);
            assert!(error.is_none(), "a valid trace");
            let s = r.summary.expect("a summary");
            let groups = s.groups();
            let utils = r.utilization.expect("utilization");
            let curve = MmuCurve::new(&utils);
            let profiles = r.profiles.expect("profiles");
            ((s, groups), (curve.mmu(1_000_000), utils), profiles)
        });
        println!(
            "  {} goroutines, {} groups; mmu(1ms) = {:.4}; {} samples",
            r.0.0.goroutines.len(),
            r.0.1.len(),
            r.1.0,
            samples(&r.2)
        );
        digest("summary", &r.0);
        digest("mmu", &r.1);
        digest("pprof", &r.2);
    }
    if named("summary") {
        let s = stage("summary", || {
            let mut stream = EventStream::new(&data).expect("a trace");
            let mut s = Summarizer::new();
            while let Some(ev) = stream.next_event() {
                s.event(&ev.expect("a valid trace"), stream.tables());
            }
            let s = s.finalize();
            let groups = s.groups();
            (s, groups)
        });
        println!(
            "  {} goroutines, {} groups",
            s.0.goroutines.len(),
            s.1.len()
        );
        digest("summary", &s);
    }
    if named("mmu") {
        let curve = stage("mmu", || {
            let mut stream = EventStream::new(&data).expect("a trace");
            let mut u = MutatorUtilization::new(UtilFlags::GO_TOOL_TRACE);
            while let Some(ev) = stream.next_event() {
                u.event(&ev.expect("a valid trace"), stream.tables());
            }
            let utils = u.finish();
            let curve = MmuCurve::new(&utils);
            (curve.mmu(1_000_000), utils)
        });
        println!("  mmu(1ms) = {:.4}", curve.0);
        digest("mmu", &curve);
    }
    if named("pprof") {
        let (profiles, _) = stage("pprof", || {
            let mut stream = EventStream::new(&data).expect("a trace");
            pprof::go_profiles(&mut stream)
        });
        println!("  {} samples", samples(&profiles));
        digest("pprof", &profiles);
    }
    let b = (run("blocking") || run("findings")).then(|| {
        let b = stage("blocking", || blocking::analyze(t));
        let r = stage("released-by", || pprof::released_by(t, &b.waits, |_| true));
        println!(
            "  {} waits, released-by {} samples",
            b.waits.len(),
            r.total_count()
        );
        digest("blocking", &b);
        digest("released-by", &r);
        b
    });
    let d = (run("sched") || run("findings")).then(|| {
        let d = stage("sched", || sched::diagnose(t, &sched::Options::default()));
        println!("  {} latencies", d.latency.count);
        digest("sched", &d);
        d
    });
    if let (Some(b), Some(d)) = (&b, &d) {
        let f = stage("findings", || {
            findings::evaluate(t, b, d, &Config::default())
        });
        println!("  {} findings", f.len());
        digest("findings", &f);
    }
    if run("critical") {
        let (paths, breakdowns) = stage("critical", || {
            let finder = PathFinder::new(t);
            let kinds = critical::task_kinds(t);
            if !kinds.is_empty() {
                let b: Vec<_> = kinds
                    .iter()
                    .take(5)
                    .filter_map(|&(k, _)| finder.task_kind(k))
                    .collect();
                return (Vec::new(), b);
            }
            let g = t
                .goroutines
                .iter()
                .find(|g| matches!(t.strings.get(g.name), b"runtime.main" | b"main.main"))
                .or_else(|| t.goroutines.first());
            // In brief, as the report shows it.
            let path = g.and_then(|g| {
                let first = g.spans.iter().next().map_or(t.start, |s| s.time);
                let target = critical::Target::Goroutine {
                    g: g.id,
                    start: first.max(t.start),
                    end: g.ended.unwrap_or(t.end),
                };
                finder.brief(target, PathFinder::KEEP)
            });
            (path.into_iter().collect::<Vec<_>>(), Vec::new())
        });
        // The digests hash every segment of the paths the report shows in brief: each is
        // walked again whole (outside the stage), and its brief checked against the stage's.
        let finder = PathFinder::new(t);
        let whole = |brief: &critical::PathBrief| {
            let p = finder.path(brief.target).expect("the path of a brief");
            assert_eq!(&p.brief(t, PathFinder::KEEP), brief, "a brief and its path");
            p
        };
        for b in &breakdowns {
            let slowest = &b.slowest.path;
            println!(
                "  {:?}: {} paths; slowest {} segments",
                t.strings.lossy(b.kind),
                b.paths.len(),
                slowest.segment_count
            );
            if std::env::var_os("GOROSCOPE_DIGEST").is_none() {
                continue;
            }
            let slowest = whole(slowest);
            // What the report shows.
            let shown = (
                (&b.paths, b.skipped, &b.duration, &b.mean),
                (b.median.duration, &b.median.totals, &b.median_sites),
                (b.slowest.paths.len(), &b.slowest.mean, &b.slowest.sites),
                (&b.slowest.profile, flat::CriticalPath::of(&slowest)),
            );
            digest("critical", &shown);
        }
        for p in &paths {
            println!("  path of {} segments", p.segment_count);
            if std::env::var_os("GOROSCOPE_DIGEST").is_some() {
                digest("critical", &flat::CriticalPath::of(&whole(p)));
            }
        }
    }
    println!(
        "total        wall {:>7.3}s  cpu {:>7.3}s  peak rss {:.1} MB (since the last stage)",
        wall0.elapsed().as_secs_f64(),
        (cpu_time() - cpu0).as_secs_f64(),
        status_mb("VmHWM:")
    );
}
