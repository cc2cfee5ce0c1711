//! Live conformance: goroscope and Go 1.27.3's own `go tool trace` run on the same inputs in
//! the same test, outputs compared byte for byte.
//!
//! Inputs: Go's 22 golden tests (converted from Go's text form by `goroscope convert`) and
//! every bundled fixture. Needs the reference toolchain (see `scripts/test.sh`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn goroscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_goroscope"))
        .args(args)
        .output()
        .expect("run goroscope")
}

fn go_tool_trace(goroot: &Path, flag: &str, trace: &Path) -> Output {
    Command::new(goroscope_testkit::go_command(goroot))
        .args(["tool", "trace", flag])
        .arg(trace)
        .env("TZ", "UTC")
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOROOT", goroot)
        .output()
        .expect("run go tool trace")
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Compares one input; returns a description of the difference, if any.
fn compare(goroot: &Path, trace: &Path, flag: &str, ours: &str) -> Option<String> {
    let go = go_tool_trace(goroot, flag, trace);
    let us = goroscope(&["dump", "--format", ours, trace.to_str().unwrap()]);
    let name = trace.file_name().unwrap().to_string_lossy();
    if go.status.success() != us.status.success() {
        return Some(format!(
            "{name} {flag}: Go {} ({}), goroscope {} ({})",
            go.status,
            String::from_utf8_lossy(&go.stderr).trim(),
            us.status,
            String::from_utf8_lossy(&us.stderr).trim()
        ));
    }
    (go.stdout != us.stdout).then(|| {
        let line = go
            .stdout
            .split(|&b| b == b'\n')
            .zip(us.stdout.split(|&b| b == b'\n'))
            .position(|(a, b)| a != b)
            .map_or("(length)".to_owned(), |i| (i + 1).to_string());
        format!("{name} {flag}: output differs at line {line}")
    })
}

#[test]
fn conformance_go_golden_tests_print_as_in_go() {
    let Some(goroot) = goroscope_testkit::require_goroot("conformance_go_golden_tests") else {
        return;
    };
    let dir = goroot.join("src/internal/trace/testdata/tests");
    let scratch = scratch_dir("golden");
    let mut tests: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    tests.sort();
    let mut failures = Vec::new();
    for test in &tests {
        let text = std::fs::read_to_string(test).unwrap();
        let archive = goroscope_format::v2::golden::parse_txtar(&text);
        let trace = archive.files.iter().find(|f| f.name == "trace").unwrap();
        let stem = test.file_stem().unwrap().to_string_lossy();
        let txt = scratch.join(format!("{stem}.txt"));
        let bin = scratch.join(format!("{stem}.trace"));
        std::fs::write(&txt, trace.data.as_bytes()).unwrap();
        let out = goroscope(&[
            "convert",
            "--to",
            "binary",
            "-o",
            bin.to_str().unwrap(),
            txt.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{stem}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        failures.extend(compare(&goroot, &bin, "-d=parsed", "go"));
        failures.extend(compare(&goroot, &bin, "-d=wire", "wire"));
    }
    assert_eq!(tests.len(), 22);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn conformance_fixtures_print_as_in_go() {
    let Some(goroot) = goroscope_testkit::require_goroot("conformance_fixtures") else {
        return;
    };
    let mut failures = Vec::new();
    for trace in goroscope_testkit::fixture_traces() {
        failures.extend(compare(&goroot, &trace, "-d=parsed", "go"));
        // Go cannot print v1 traces in the wire form; the stored references check that.
        if !trace.to_string_lossy().contains("go1.21") {
            failures.extend(compare(&goroot, &trace, "-d=wire", "wire"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
