//! A bounded fuzz run of every target, as part of the test suite: the seed corpus plus a few
//! thousand mutants each must not panic and no input may take more than a few seconds.

use std::time::Duration;

use goroscope_fuzz::{TARGETS, run, seeds};

#[test]
fn every_target_survives_a_bounded_fuzz_run() {
    // Small seeds keep the debug-build run short; CI also runs the release fuzzer on all.
    let corpus: Vec<Vec<u8>> = seeds().into_iter().filter(|s| s.len() <= 40_000).collect();
    assert!(corpus.len() > 10, "seed corpus too small: {}", corpus.len());
    let runs = std::env::var("GOROSCOPE_FUZZ_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let mut problems = Vec::new();
    for t in TARGETS {
        let r = run(*t, &corpus, runs, Duration::from_secs(8), 0x600d_5eed);
        for (i, (input, msg)) in r.crashes.iter().enumerate() {
            let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("crash-{}-{i}.bin", t.name));
            let _ = std::fs::write(&path, input);
            problems.push(format!(
                "{}: panic {msg:?} on a {}-byte input ({})",
                t.name,
                input.len(),
                path.display()
            ));
        }
        if let Some((input, took)) = &r.slowest
            && *took > Duration::from_secs(5)
        {
            problems.push(format!(
                "{}: {took:?} on a {}-byte input",
                t.name,
                input.len()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
