//! Blocking attribution on the scheduler-trouble fixture: the leaks, the lock convoy and its
//! releasers are found by name.

use goroscope_analysis::blocking::{analyze, site_of};
use goroscope_testkit::fixture_traces;
use goroscope_trace::Trace;

fn sched() -> Trace {
    let path = fixture_traces()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("sched-go1.27.3"))
        .unwrap();
    Trace::open(&path).unwrap()
}

#[test]
fn leaked_goroutines_are_found_by_site() {
    let trace = sched();
    let t = &trace.timelines;
    let b = analyze(t);
    let leak = |func: &str| {
        b.leaks
            .iter()
            .filter(|l| t.strings.lossy(l.site.func) == func)
            .map(|l| (l.goroutines.len(), t.strings.lossy(l.reason).into_owned()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        leak("main.leakyReceiver"),
        [(10, "chan receive".to_owned())]
    );
    assert_eq!(leak("main.leakyLocker"), [(3, "sync".to_owned())]);
    assert_eq!(leak("main.leakySelect"), [(2, "select".to_owned())]);
    assert_eq!(leak("main.leakyForever"), [(2, "forever".to_owned())]);
    for l in &b.leaks {
        assert!(l.longest > 0);
        assert!(!l.created_at.is_empty());
    }
    // Where they were created: the program's main.
    let receivers = b
        .leaks
        .iter()
        .find(|l| t.strings.lossy(l.site.func) == "main.leakyReceiver")
        .unwrap();
    assert_eq!(
        t.strings.lossy(receivers.created_at[0].0.func),
        "main.startLeaks"
    );
}

#[test]
fn the_lock_convoy_is_found_with_its_releasers() {
    let trace = sched();
    let t = &trace.timelines;
    let b = analyze(t);
    // The convoy is the site where the most goroutines waited at once...
    let worst = &b.congestion[0];
    assert_eq!(
        t.strings.lossy(worst.site.func),
        "main.convoyWorker",
        "{}",
        worst.site.describe(t)
    );
    // ...and the site with the most waits.
    let top = b.by_site.iter().max_by_key(|g| g.stats.count).unwrap();
    assert_eq!(top.key, worst.site);
    assert!(top.stats.count > 100, "{}", top.stats.count);
    // Convoy waiters are released by other convoy workers unlocking the mutex.
    let pair = b
        .by_pair
        .iter()
        .find(|g| g.key.0 == top.key)
        .expect("a releaser for the convoy");
    assert_eq!(t.strings.lossy(pair.key.1.func), "main.convoyWorker");
    assert!(worst.peak >= 10, "peak {}", worst.peak);
    assert!(worst.mean > 1.0, "mean {}", worst.mean);
    // Totals add up: every wait is in exactly one site group.
    let waits: u64 = b.by_site.iter().map(|g| g.stats.count).sum();
    assert_eq!(waits, b.waits.len() as u64);
    let by_reason: i64 = b.by_reason.iter().map(|g| g.stats.duration.total).sum();
    let by_site: i64 = b.by_site.iter().map(|g| g.stats.duration.total).sum();
    assert_eq!(by_reason, by_site);
}

#[test]
fn sites_skip_the_blocking_primitives() {
    let trace = sched();
    let t = &trace.timelines;
    let b = analyze(t);
    for w in b.waits.iter().filter(|w| w.stack.is_some()) {
        let s = site_of(t, w.stack);
        let name = t.strings.lossy(s.func);
        let leaf = t.stacks.leaf(w.stack).unwrap();
        if !name.starts_with("main.") {
            // Only waits with no user frame at all keep a primitive as their site.
            assert!(
                t.stacks.frames(w.stack).all(|f| {
                    let n = t.strings.lossy(f.func);
                    !n.starts_with("main.")
                }),
                "{name} for a stack with main frames (leaf {})",
                t.strings.lossy(leaf.func)
            );
        }
    }
}
