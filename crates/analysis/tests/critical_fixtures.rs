//! Critical paths on the bundled traces: every task, region and goroutine lifetime is tiled
//! exactly by its path, the categories add up, and the dependency graph's longest path is the
//! walk's path wherever the walk starts where the graph does.

use goroscope_analysis::critical::{
    Category, CriticalPath, DependencyGraph, Link, PathFinder, Profile, Target, by_site, task_kinds,
};
use goroscope_testkit::fixture_traces;
use goroscope_trace::Trace;
use goroscope_trace::timeline::Timelines;

fn open(name: &str) -> Trace {
    let path = fixture_traces()
        .into_iter()
        .find(|p| p.to_string_lossy().contains(name))
        .unwrap();
    Trace::open(&path).unwrap()
}

/// Every trace that loads (v1 traces load through the conversion).
fn all() -> Vec<(String, Trace)> {
    fixture_traces()
        .into_iter()
        .filter_map(|p| {
            let name = p.file_name()?.to_string_lossy().into_owned();
            Some((name, Trace::open(&p).ok()?))
        })
        .collect()
}

/// The path tiles `[start, end]`, its totals add up, and its links are consistent.
fn check(t: &Timelines, p: &CriticalPath, what: &str) {
    let mut at = p.start;
    for (i, s) in p.segments.iter().enumerate() {
        assert_eq!(s.start, at, "{what}: gap or overlap at segment {i}");
        assert!(s.end > s.start, "{what}: empty segment {i}");
        at = s.end;
        match (s.next, p.segments.get(i + 1)) {
            (Link::End, None) => {}
            (Link::Continue, Some(n)) => assert_eq!(n.g, s.g, "{what}: {i}"),
            (Link::Released | Link::Created | Link::Blocked, Some(n)) => {
                assert_ne!(n.g, s.g, "{what}: {i}");
            }
            (l, n) => panic!("{what}: segment {i} links {l:?} to {n:?}"),
        }
        let (holders, idle_procs) = p.holders(i);
        if s.category == Category::SchedLatency {
            assert!(holders.iter().all(|h| h.g != s.g && h.time > 0), "{what}");
            let held: i64 = holders.iter().map(|h| h.time).sum::<i64>() + idle_procs;
            assert!(held <= s.duration() * t.procs.len() as i64, "{what}");
        } else {
            assert!(holders.is_empty() && idle_procs == 0, "{what}");
        }
        assert!(t.goroutine(s.g).is_some(), "{what}");
    }
    assert_eq!(at, p.end, "{what}: path ends early");
    assert_eq!(p.totals.total(), p.duration(), "{what}: totals");
    let sites: i64 = p.by_site(t).iter().map(|s| s.total).sum();
    assert_eq!(sites, p.duration(), "{what}: sites");
    assert_eq!(p.profile().total(), p.duration(), "{what}: profile");
}

/// The walk without segments ([`PathFinder::totals`]) finds the path's own totals, and no
/// category is negative.
fn check_totals(finder: &PathFinder<'_>, p: &CriticalPath, what: &str) {
    assert_eq!(
        finder.totals(p.target),
        Some((p.duration(), p.totals)),
        "{what}: totals()"
    );
    assert!(
        p.totals.iter().all(|(_, d)| d >= 0),
        "{what}: {:?}",
        p.totals
    );
}

#[test]
fn every_task_path_tiles_the_task() {
    let mut checked = 0;
    for (name, trace) in all() {
        let t = &trace.timelines;
        let finder = PathFinder::new(t);
        for (i, task) in t.tasks.iter().enumerate() {
            let Some(p) = finder.task(i) else {
                assert!(task.interval.end.is_none(), "{name}: task {i}");
                continue;
            };
            let what = format!("{name}: task {i}");
            check(t, &p, &what);
            check_totals(&finder, &p, &what);
            let (start, end) = task.interval.clamped(t.start, t.end);
            assert_eq!((p.start, p.end), (start, end));
            assert_eq!(p.segments.last().unwrap().g, task.end_g);
            checked += 1;
        }
    }
    assert!(checked >= 7 + 2 * 7, "{checked}");
}

#[test]
fn every_region_and_goroutine_lifetime_path_tiles_it() {
    for (name, trace) in all() {
        let t = &trace.timelines;
        let finder = PathFinder::new(t);
        for g in &t.goroutines {
            for i in 0..g.regions.len() {
                let p = finder.region(g.id, i).unwrap();
                let what = format!("{name}: g{} region {i}", g.id);
                check(t, &p, &what);
                check_totals(&finder, &p, &what);
            }
            let (Some(first), Some(last)) = (g.spans.get(0), g.spans.last()) else {
                continue;
            };
            let end = if last.time > first.time {
                last.time
            } else {
                t.end
            };
            let p = finder.goroutine(g.id, first.time, end).unwrap();
            let what = format!("{name}: g{}", g.id);
            check(t, &p, &what);
            check_totals(&finder, &p, &what);
        }
    }
}

/// The annotations program: workers sleep in their steps, a task is handed over a channel,
/// main waits for the workers.
#[test]
fn annotation_tasks_have_the_expected_paths() {
    let trace = open("annotations-go1.27.3");
    let t = &trace.timelines;
    let finder = PathFinder::new(t);
    let kind = |i: usize| t.strings.lossy(t.tasks[i].kind).into_owned();
    let find = |k: &str| (0..t.tasks.len()).find(|&i| kind(i) == k).unwrap();
    // Every child task sleeps three 50µs steps: runtime waits for timers dominate.
    for c in 0..4 {
        let p = finder.task(find(&format!("child-{c}"))).unwrap();
        let sleeps: i64 = p
            .segments
            .iter()
            .filter(|s| s.category == Category::RuntimeWait)
            .map(|s| {
                assert_eq!(t.strings.lossy(s.reason), "sleep");
                s.duration()
            })
            .sum();
        assert!(sleeps >= 150_000, "child-{c}: {sleeps}");
        assert!(sleeps * 2 > p.duration(), "child-{c}");
        assert_eq!(
            p.goroutines(),
            [t.tasks[find(&format!("child-{c}"))].start_g]
        );
    }
    // The handed-over task ends on the finisher goroutine, which waited on the channel: the
    // path goes back to main, which sent the task after its own 100µs region.
    let i = find("handed-over");
    let (start_g, end_g) = (t.tasks[i].start_g, t.tasks[i].end_g);
    assert_ne!(start_g, end_g);
    let p = finder.task(i).unwrap();
    assert!(p.goroutines().contains(&start_g));
    let released = p
        .segments
        .iter()
        .find(|s| s.next == Link::Released)
        .unwrap();
    assert_eq!(released.g, start_g);
    let func = |s: goroscope_trace::timeline::StackId| {
        goroscope_analysis::blocking::site_of(t, s)
            .describe(t)
            .split(' ')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(func(released.stack), "main.main");
    // Main's task waits for the workers (wg.Wait): the path runs through worker goroutines.
    let root = finder.task(find("root")).unwrap();
    let workers: Vec<i64> = (0..4)
        .map(|c| t.tasks[find(&format!("child-{c}"))].start_g)
        .collect();
    assert!(
        root.goroutines().iter().any(|g| workers.contains(g)),
        "{:?}",
        root.goroutines()
    );
    // The never-ended task has no path; the kinds list counts every task.
    assert!(finder.task(find("never-ended")).is_none());
    assert_eq!(
        task_kinds(t).iter().map(|k| k.1).sum::<usize>(),
        t.tasks.len()
    );
}

/// Where the walk's path starts on the goroutine and at the instant the graph's path starts
/// from, both are the same path, segment for segment.
#[test]
fn the_graph_agrees_with_the_walk() {
    let mut compared = 0;
    let mut skipped = 0;
    for (name, trace) in all() {
        let t = &trace.timelines;
        let finder = PathFinder::new(t);
        let dag = DependencyGraph::build(t).unwrap();
        let same_start = |p: &CriticalPath, g| p.segments.first().is_some_and(|s| s.g == g);
        for (i, task) in t.tasks.iter().enumerate() {
            let (Some(p), Some(start)) = (finder.task(i), task.interval.start) else {
                continue;
            };
            if !same_start(&p, task.start_g) {
                skipped += 1;
                continue;
            }
            let from = dag.node(task.start_g, start).unwrap();
            let to = dag.node(task.end_g, p.end).unwrap();
            let path = dag.longest_path(from, to).unwrap();
            assert_eq!(path.weight, p.duration(), "{name}: task {i}");
            assert_eq!(
                dag.task(i).unwrap().segments,
                p.segments,
                "{name}: task {i}"
            );
            compared += 1;
        }
        for g in &t.goroutines {
            let (Some(first), Some(last)) = (g.spans.get(0), g.spans.last()) else {
                continue;
            };
            if last.time <= first.time {
                continue;
            }
            let p = finder.goroutine(g.id, first.time, last.time).unwrap();
            if !same_start(&p, g.id) || p.segments.iter().any(|s| s.category == Category::Blocked) {
                skipped += 1;
                continue;
            }
            let from = dag.node(g.id, first.time).unwrap();
            let to = dag.node(g.id, last.time).unwrap();
            let path = dag.longest_path(from, to).unwrap();
            let mut q = dag.critical_path(&path);
            q.target = p.target;
            assert_eq!(q, p, "{name}: g{}", g.id);
            compared += 1;
        }
    }
    assert!(
        compared > 10 * skipped,
        "compared {compared}, skipped {skipped}"
    );
}

#[test]
fn a_breakdown_of_every_fixture_task_type() {
    for (name, trace) in all() {
        let t = &trace.timelines;
        let finder = PathFinder::new(t);
        for (kind, n) in task_kinds(t) {
            let Some(b) = finder.task_kind(kind) else {
                continue;
            };
            assert_eq!(b.paths.len() + b.skipped, n, "{name}");
            assert_eq!(b.slowest.paths.len(), b.paths.len().div_ceil(100));
            assert_eq!(b.slowest.paths[0].duration, b.duration.max);
            assert_eq!(b.slowest.path.duration(), b.duration.max);
            assert_eq!(b.slowest.path.target, b.slowest.paths[0].target);
            // The brief of the walk is the brief of the whole path, however many of the
            // longest segments it keeps.
            let whole = finder.path(b.slowest.path.target).unwrap();
            assert_eq!(b.slowest.path, whole.brief(t, PathFinder::KEEP), "{name}");
            for keep in [0, 1, 3] {
                let brief = finder.brief(whole.target, keep).unwrap();
                assert_eq!(brief, whole.brief(t, keep), "{name}");
            }
            assert!(b.median.duration <= b.duration.max);
            assert_eq!(b.median.duration, b.duration.p50, "{name}");
            // The slowest 1% as their full paths would give them.
            let slow: Vec<CriticalPath> = b
                .slowest
                .paths
                .iter()
                .map(|p| finder.path(p.target).unwrap())
                .collect();
            assert_eq!(b.slowest.profile, Profile::of(&slow), "{name}");
            assert_eq!(b.slowest.sites, by_site(t, &slow), "{name}");
            let median = finder.path(b.median.target).unwrap();
            assert_eq!(b.median_sites, median.by_site(t), "{name}");
            assert!(b.paths.windows(2).all(|w| w[0].duration >= w[1].duration));
            for p in &b.paths {
                let Target::Task(i) = p.target else {
                    panic!("{name}: not a task")
                };
                assert_eq!(t.tasks[i as usize].kind, kind);
                assert_eq!(p.totals.total(), p.duration);
            }
        }
        // Regions by type, too.
        let mut kinds: Vec<_> = t
            .goroutines
            .iter()
            .flat_map(|g| g.regions.iter().map(|r| r.kind))
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        for kind in kinds {
            let b = finder.region_kind(kind).unwrap();
            // Each category's mean is rounded down.
            let lost = b.duration.total / b.paths.len() as i64 - b.mean.total();
            assert!((0..8).contains(&lost), "{name}: {lost}");
        }
    }
}
