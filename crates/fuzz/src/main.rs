//! Runs goroscope's fuzz targets on stable Rust.
//!
//! `goroscope-fuzz [TARGET|all] [SECONDS] [SEED]`: mutates the seed corpus for SECONDS per
//! target (default 60) and writes any input that panics to `fuzz-crashes/`.

use std::time::Duration;

use goroscope_fuzz::{TARGETS, run, seeds};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map_or("all", String::as_str);
    let seconds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(60);
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0x5eed);
    let corpus = seeds();
    let mut failed = false;
    for t in TARGETS.iter().filter(|t| which == "all" || t.name == which) {
        let r = run(*t, &corpus, u64::MAX, Duration::from_secs(seconds), seed);
        let slowest = r.slowest.as_ref().map_or(Duration::ZERO, |s| s.1);
        println!(
            "{:<10} {:>9} inputs, {} crashes, slowest {:.1} ms",
            t.name,
            r.runs,
            r.crashes.len(),
            slowest.as_secs_f64() * 1e3
        );
        for (i, (input, msg)) in r.crashes.iter().enumerate() {
            failed = true;
            let dir = std::path::Path::new("fuzz-crashes");
            let _ = std::fs::create_dir_all(dir);
            let path = dir.join(format!("{}-{i}.bin", t.name));
            let _ = std::fs::write(&path, input);
            println!("  panic: {msg} (input saved to {})", path.display());
        }
    }
    if failed {
        std::process::exit(1);
    }
}
