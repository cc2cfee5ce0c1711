//! Checks that the two modes of the critical-path walk agree on a trace:
//!
//! ```text
//! cargo run --release -p goroscope-analysis --example critical_check -- TRACE
//! ```
//!
//! For every task and region, compares the totals of [`PathFinder::path`] (summed from its
//! segments) with [`PathFinder::totals`] (the walk without segments), and checks that both
//! sum to the interval's duration with no negative category. Prints the first mismatch with
//! the goroutines, STW pauses and GC mark assists of the path's segments there, then the
//! number of mismatches, the time that moved between categories and the paths' running, GC
//! assist and STW time, per task and region type. Also counts the goroutines whose recorded
//! assists overlap. Exits with status 1 on a mismatch.

use std::collections::BTreeMap;
use std::path::Path;

use goroscope_analysis::critical::{Category, CategoryTotals, CriticalPath, PathFinder, Target};
use goroscope_trace::Trace;
use goroscope_trace::timeline::Timelines;

/// Every task and region of `t`, with its type.
fn targets(t: &Timelines) -> Vec<(Target, String)> {
    let mut out: Vec<(Target, String)> = t
        .tasks
        .iter()
        .enumerate()
        .map(|(i, task)| {
            let kind = format!("task {}", t.strings.lossy(task.kind));
            (Target::Task(i as u32), kind)
        })
        .collect();
    for g in &t.goroutines {
        for (i, r) in g.regions.iter().enumerate() {
            let kind = format!("region {}", t.strings.lossy(r.kind));
            let target = Target::Region {
                g: g.id,
                index: i as u32,
            };
            out.push((target, kind));
        }
    }
    out
}

/// What is wrong with `path` and `totals`, if anything.
fn problem(path: &CriticalPath, duration: i64, totals: &CategoryTotals) -> Option<String> {
    let negative = |c: &CategoryTotals| c.iter().any(|(_, d)| d < 0);
    if path.totals != *totals {
        Some("path totals differ from totals()".into())
    } else if path.totals.total() != duration || totals.total() != duration {
        Some("totals do not sum to the duration".into())
    } else if negative(&path.totals) || negative(totals) {
        Some("a category is negative".into())
    } else {
        None
    }
}

/// Prints the mismatch of `target`: both totals, and the assists and pauses that overlap
/// the path's running and GC-assist segments.
fn explain(t: &Timelines, target: Target, path: &CriticalPath, totals: &CategoryTotals) {
    println!(
        "first mismatch: {target:?} [{}, {}] ({} ns)",
        path.start,
        path.end,
        path.duration()
    );
    for (c, d) in path.totals.iter() {
        let other = totals.get(c);
        let mark = if d != other { "  <--" } else { "" };
        println!(
            "  {:>14}: path {d:>12}  totals() {other:>12}{mark}",
            c.name()
        );
    }
    let mut shown = 0;
    for s in &path.segments {
        if !matches!(s.category, Category::Running | Category::GcAssist) {
            continue;
        }
        let Some(g) = t.goroutine(s.g) else { continue };
        let assists: Vec<(i64, i64)> = g
            .assists
            .iter()
            .map(|a| a.clamped(t.start, t.end))
            .filter(|&(a, b)| a < s.end && s.start < b)
            .collect();
        let pauses: Vec<(i64, i64)> = t
            .stw
            .iter()
            .map(|p| p.interval.clamped(t.start, t.end))
            .filter(|&(a, b)| a < s.end && s.start < b)
            .collect();
        if assists.is_empty() && pauses.is_empty() {
            continue;
        }
        println!(
            "  segment g{} {} [{}, {}]: assists {assists:?}, STW {pauses:?}",
            s.g,
            s.category.name(),
            s.start,
            s.end
        );
        shown += 1;
        if shown == 20 {
            println!("  …");
            break;
        }
    }
}

/// Two intervals that overlap.
type Overlap = ((i64, i64), (i64, i64));

/// The goroutines whose assists overlap, with the overlapping pairs.
fn overlapping_assists(t: &Timelines) -> Vec<(i64, Vec<Overlap>)> {
    let mut out = Vec::new();
    for g in &t.goroutines {
        let mut a: Vec<(i64, i64)> = g
            .assists
            .iter()
            .map(|a| a.clamped(t.start, t.end))
            .collect();
        a.sort_unstable();
        let pairs: Vec<_> = a
            .windows(2)
            .filter(|w| w[1].0 < w[0].1)
            .map(|w| (w[0], w[1]))
            .collect();
        if !pairs.is_empty() {
            out.push((g.id, pairs));
        }
    }
    out
}

fn main() {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: critical_check TRACE");
        std::process::exit(2);
    };
    let trace = Trace::open(Path::new(&path)).expect("opening the trace");
    let t = &trace.timelines;
    let overlaps = overlapping_assists(t);
    println!("{} goroutines with overlapping assists", overlaps.len());
    for (g, pairs) in overlaps.iter().take(10) {
        println!("  g{g}: {pairs:?}");
    }
    let finder = PathFinder::new(t);
    let targets = targets(t);
    // Per type: targets, mismatches, path minus totals() per category, and the paths'
    // totals summed.
    let mut by: BTreeMap<String, (usize, usize, [i64; 8], CategoryTotals)> = BTreeMap::new();
    let mut first = true;
    for (target, kind) in &targets {
        let (Some(p), Some((duration, totals))) = (finder.path(*target), finder.totals(*target))
        else {
            continue;
        };
        let e = by.entry(kind.clone()).or_default();
        e.0 += 1;
        e.3.add_all(&p.totals);
        if let Some(why) = problem(&p, duration, &totals) {
            e.1 += 1;
            for (k, c) in Category::ALL.iter().enumerate() {
                e.2[k] += p.totals.get(*c) - totals.get(*c);
            }
            if first {
                println!("{why}");
                explain(t, *target, &p, &totals);
                first = false;
            }
        }
    }
    let mut bad = 0;
    for (kind, (n, mismatches, diff, sum)) in &by {
        bad += mismatches;
        print!("{kind}: {n} targets, {mismatches} mismatches");
        for (k, c) in Category::ALL.iter().enumerate() {
            if diff[k] != 0 {
                print!("; {} path - totals() = {} ns", c.name(), diff[k]);
            }
        }
        println!();
        println!(
            "  path totals summed: running {} ns, GC assist {} ns, STW {} ns",
            sum.get(Category::Running),
            sum.get(Category::GcAssist),
            sum.get(Category::Stw)
        );
    }
    println!("{} targets, {bad} mismatches", targets.len());
    if bad > 0 {
        std::process::exit(1);
    }
}
