//! Timings of critical-path analysis on a large trace (not run by default).
//!
//! `GOROSCOPE_CRITICAL_TRACE=path cargo test --release -p goroscope-analysis --test
//! critical_timing -- --ignored --nocapture` (default: `bench-data/big-285mb.trace`).

use std::time::Instant;

use goroscope_analysis::critical::{DependencyGraph, PathFinder, task_kinds};
use goroscope_testkit::workspace_root;
use goroscope_trace::Trace;

#[test]
#[ignore = "needs a large trace; run by hand with --release"]
fn time_critical_paths() {
    let path = std::env::var_os("GOROSCOPE_CRITICAL_TRACE")
        .map(Into::into)
        .unwrap_or_else(|| workspace_root().join("bench-data/big-285mb.trace"));
    if !path.exists() {
        eprintln!("no trace at {}", path.display());
        return;
    }
    let clock = Instant::now();
    let trace = Trace::open(&path).unwrap();
    let t = &trace.timelines;
    let spans: usize = t.goroutines.iter().map(|g| g.spans.len()).sum();
    let regions: usize = t.goroutines.iter().map(|g| g.regions.len()).sum();
    println!(
        "{}: loaded in {:.2?}: {} goroutines, {spans} spans, {} Ps, {} tasks, {regions} regions",
        path.display(),
        clock.elapsed(),
        t.goroutines.len(),
        t.procs.len(),
        t.tasks.len()
    );
    let clock = Instant::now();
    let finder = PathFinder::new(t);
    println!("finder: {:.2?}", clock.elapsed());
    for (kind, n) in task_kinds(t).into_iter().take(5) {
        let clock = Instant::now();
        let b = finder.task_kind(kind);
        let took = clock.elapsed();
        let Some(b) = b else { continue };
        let segments = b.slowest.path.segment_count;
        println!(
            "task type {:?}: {n} tasks in {took:.2?} ({:.2?} per task); p50 {} ns, max {} ns; slowest 1%: {} paths, the slowest {segments} segments",
            t.strings.lossy(kind),
            took / n.max(1) as u32,
            b.duration.p50,
            b.duration.max,
            b.slowest.paths.len()
        );
        for (c, _) in b.mean.iter() {
            println!(
                "  {:>14}: median {:>12} slowest-1% mean {:>12}",
                c.name(),
                b.median.totals.get(c),
                b.slowest.mean.get(c)
            );
        }
    }
    // Whole-life paths of the goroutines with the most spans.
    let mut gs: Vec<_> = t.goroutines.iter().collect();
    gs.sort_by_key(|g| std::cmp::Reverse(g.spans.len()));
    let clock = Instant::now();
    let mut segments = 0;
    for g in gs.iter().take(20) {
        let first = g.spans.get(0).map_or(t.start, |s| s.time);
        let p = finder.goroutine(g.id, first, t.end).unwrap();
        segments += p.segments.len();
    }
    println!(
        "lifetime paths of the 20 goroutines with most spans: {segments} segments in {:.2?}",
        clock.elapsed()
    );
    if std::env::var_os("GOROSCOPE_CRITICAL_GRAPH").is_some() {
        let clock = Instant::now();
        let dag = DependencyGraph::build(t).unwrap();
        println!(
            "dependency graph: {} nodes, {} edges, {} MB, in {:.2?}",
            dag.graph().node_count(),
            dag.graph().edge_count(),
            dag.heap_bytes() >> 20,
            clock.elapsed()
        );
        // The longest path of every task that ended, in the graph.
        let clock = Instant::now();
        let paths = (0..t.tasks.len()).filter_map(|i| dag.task(i)).count();
        println!(
            "graph longest paths of {paths} tasks: {:.2?}",
            clock.elapsed()
        );
    }
}
