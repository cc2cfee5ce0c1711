//! Differential tests: goroscope's dumps of every bundled fixture against the outputs of
//! Go 1.27.3's tools stored beside it (`fixtures/reference/<trace>/`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use goroscope_testkit::{fixture_traces, reference_dir};

/// A stored reference output, gunzipped if needed; `None` if Go could not produce it.
fn reference(dir: &Path, name: &str) -> Option<Vec<u8>> {
    let plain = dir.join(name);
    if let Ok(bytes) = std::fs::read(&plain) {
        return Some(bytes);
    }
    let gz = dir.join(format!("{name}.gz"));
    let file = std::fs::File::open(gz).ok()?;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut out)
        .expect("gunzip reference");
    Some(out)
}

fn goroscope(args: &[&str], trace: &Path) -> (bool, Vec<u8>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_goroscope"))
        .args(args)
        .arg(trace)
        .output()
        .expect("run goroscope");
    (
        out.status.success(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn traces() -> Vec<PathBuf> {
    let t = fixture_traces();
    assert!(!t.is_empty(), "no fixtures in fixtures/traces");
    t
}

fn first_difference(a: &[u8], b: &[u8]) -> String {
    let line = a
        .split(|&c| c == b'\n')
        .zip(b.split(|&c| c == b'\n'))
        .position(|(x, y)| x != y);
    match line {
        Some(i) => {
            let get = |s: &[u8]| {
                String::from_utf8_lossy(s.split(|&c| c == b'\n').nth(i).unwrap_or_default())
                    .into_owned()
            };
            format!("line {}:\n  ours: {}\n  go:   {}", i + 1, get(a), get(b))
        }
        None => format!(
            "lengths differ: ours {} bytes, go {} bytes",
            a.len(),
            b.len()
        ),
    }
}

#[test]
fn parsed_events_equal_go_tool_trace_d_parsed() {
    let mut failures = Vec::new();
    let mut compared = 0;
    for trace in traces() {
        let dir = reference_dir(&trace);
        let Some(want) = reference(&dir, "parsed.txt") else {
            continue;
        };
        let go_failed = dir.join("parsed.err").exists();
        let (ok, got, err) = goroscope(&["dump", "--format", "go"], &trace);
        let name = trace.file_name().unwrap().to_string_lossy().into_owned();
        compared += 1;
        if ok == go_failed {
            failures.push(format!("{name}: exit status differs from Go's: {err}"));
        }
        if got != want {
            failures.push(format!("{name}: {}", first_difference(&got, &want)));
        }
    }
    assert!(compared >= 11, "only {compared} fixtures compared");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn wire_records_equal_go_tool_trace_d_wire() {
    let mut failures = Vec::new();
    for trace in traces() {
        let dir = reference_dir(&trace);
        let name = trace.file_name().unwrap().to_string_lossy().into_owned();
        let (ok, got, err) = goroscope(&["dump", "--format", "wire"], &trace);
        match reference(&dir, "wire.txt") {
            Some(want) => {
                if !ok {
                    failures.push(format!("{name}: failed where Go succeeded: {err}"));
                } else if got != want {
                    failures.push(format!("{name}: {}", first_difference(&got, &want)));
                }
            }
            None => {
                // Go cannot print this trace (v1): neither can we, with a clear error.
                assert!(dir.join("wire.err").exists(), "{name}: no wire reference");
                if ok {
                    failures.push(format!("{name}: succeeded where Go failed"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The rows with a count > 0, as a set (Go's sort is unstable, so ties come in any order).
fn footprint_rows(table: &[u8]) -> Vec<String> {
    let mut rows: Vec<String> = String::from_utf8_lossy(table)
        .lines()
        .skip(2)
        .filter(|l| l.split_whitespace().nth_back(1).is_some_and(|c| c != "0"))
        .map(str::to_owned)
        .collect();
    rows.sort();
    rows
}

#[test]
fn footprint_equals_go_tool_trace_d_footprint() {
    let mut failures = Vec::new();
    for trace in traces() {
        let dir = reference_dir(&trace);
        let name = trace.file_name().unwrap().to_string_lossy().into_owned();
        let Some(want) = reference(&dir, "footprint.txt") else {
            continue;
        };
        let (ok, got, err) = goroscope(&["dump", "--format", "footprint"], &trace);
        if !ok {
            failures.push(format!("{name}: {err}"));
            continue;
        }
        let (got, want) = (footprint_rows(&got), footprint_rows(&want));
        if got != want {
            failures.push(format!("{name}:\n  ours: {got:?}\n  go:   {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
