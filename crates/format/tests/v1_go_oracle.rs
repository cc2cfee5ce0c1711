//! Differential test of `goroscope_format::v1` against Go's own v1 parser.
//!
//! The test copies `internal/trace/internal/tracev1` out of the reference GOROOT into a
//! scratch module, with two changes: the `version` import points to a one-line stand-in, and
//! the Ps are visited in ascending order instead of Go's random map order (the one place
//! where Go's result is not deterministic; `v1::parse` uses the same order). A small command
//! prints everything `tracev1.Parse` returns; the test prints our result the same way and
//! compares, for every trace of Go's testdata and the bundled 1.21 fixture.
//!
//! A second test does the same for about a thousand damaged copies (cut short, bits flipped,
//! bytes overwritten) of those traces: the same error message, or the same result when the
//! damage goes unnoticed.
//!
//! Extra traces can be compared by listing them in `GOROSCOPE_V1_TRACES` (colon-separated).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use goroscope_format::quote::quote;
use goroscope_format::v1::{self, EventType};

const VERSION_GO: &str = "package version\n\ntype Version uint32\n";

const DUMP_GO: &str = r#"package tracev1

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"v1oracle/version"
)

// Dump prints what Parse returns for a trace body of format ver.
func Dump(w io.Writer, data []byte, ver uint32) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	tr, err := Parse(bytes.NewReader(data), version.Version(ver))
	if err != nil {
		fmt.Fprintf(bw, "error: %s\n", err)
		return
	}
	for _, id := range slices.Sorted(maps.Keys(tr.Strings)) {
		fmt.Fprintf(bw, "string %d %s\n", id, strconv.Quote(tr.Strings[id]))
	}
	for _, id := range slices.Sorted(maps.Keys(tr.Stacks)) {
		fmt.Fprintf(bw, "stack %d %v\n", id, tr.Stacks[id])
	}
	for _, pc := range slices.Sorted(maps.Keys(tr.PCs)) {
		f := tr.PCs[pc]
		fmt.Fprintf(bw, "pc %d %d %d %d\n", pc, f.Fn, f.File, f.Line)
	}
	for i, s := range tr.InlineStrings {
		fmt.Fprintf(bw, "inline %d %s\n", i, strconv.Quote(s))
	}
	for i := 0; i < tr.Events.Len(); i++ {
		ev := tr.Events.Ptr(i)
		fmt.Fprintf(bw, "%d %d p=%d g=%d stk=%d %d %d %d %d\n", ev.Ts, ev.Type, ev.P, ev.G, ev.StkID, ev.Args[0], ev.Args[1], ev.Args[2], ev.Args[3])
	}
}
"#;

const MAIN_GO: &str = r#"package main

import (
	"fmt"
	"os"

	"v1oracle/tracev1"
)

func main() {
	for _, path := range os.Args[1:] {
		dumpFile(path)
	}
}

func dumpFile(path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	var ver uint32
	if _, err := fmt.Sscanf(string(data[:16]), "go 1.%d trace\x00\x00\x00", &ver); err != nil {
		panic(err)
	}
	out, err := os.Create(path + ".go.txt")
	if err != nil {
		panic(err)
	}
	defer out.Close()
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(out, "panic: %v\n", r)
		}
	}()
	tracev1.Dump(out, data[16:], ver)
}
"#;

/// Our result in the oracle's format.
fn dump(data: &[u8]) -> String {
    let mut out = String::new();
    let trace = match v1::parse(data) {
        Ok(t) => t,
        Err(e) => {
            // Compare the message only: Go has no offsets.
            return format!("error: {}\n", e.kind);
        }
    };
    for (id, s) in trace.strings.iter() {
        writeln!(out, "string {id} {}", quote(s)).unwrap();
    }
    for (id, pcs) in trace.stacks.iter() {
        let pcs: Vec<String> = pcs.iter().map(u64::to_string).collect();
        writeln!(out, "stack {id} [{}]", pcs.join(" ")).unwrap();
    }
    for f in trace.frames.iter() {
        writeln!(out, "pc {} {} {} {}", f.pc, f.func, f.file, f.line as i64).unwrap();
    }
    for (i, s) in trace.inline_strings.iter().enumerate() {
        writeln!(out, "inline {i} {}", quote(s)).unwrap();
    }
    for ev in &trace.events {
        // Go keeps the inline message index in a fourth slot.
        let (a2, a3) = if ev.ty == EventType::USER_LOG {
            (0, ev.args[2])
        } else {
            (ev.args[2], 0)
        };
        writeln!(
            out,
            "{} {} p={} g={} stk={} {} {} {a2} {a3}",
            ev.ts, ev.ty.0, ev.p, ev.g, ev.stack, ev.args[0], ev.args[1]
        )
        .unwrap();
    }
    out
}

/// Builds the oracle command in a scratch folder; `None` (skip) without a toolchain.
fn build_oracle(goroot: &Path, dir: &Path) -> PathBuf {
    let src = goroot.join("src/internal/trace/internal/tracev1");
    let pkg = dir.join("tracev1");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::create_dir_all(dir.join("version")).unwrap();
    std::fs::create_dir_all(dir.join("cmd/v1dump")).unwrap();
    std::fs::write(dir.join("go.mod"), "module v1oracle\n\ngo 1.24\n").unwrap();
    std::fs::write(dir.join("version/version.go"), VERSION_GO).unwrap();
    std::fs::write(pkg.join("dump.go"), DUMP_GO).unwrap();
    std::fs::write(dir.join("cmd/v1dump/main.go"), MAIN_GO).unwrap();
    std::fs::copy(src.join("order.go"), pkg.join("order.go")).unwrap();
    let parser = std::fs::read_to_string(src.join("parser.go")).unwrap();
    let parser = parser.replace("\"internal/trace/version\"", "\"v1oracle/version\"");
    let random_order =
        "\tfor pid := range p.batchOffsets {\n\t\tallProcs = append(allProcs, proc{pid: pid})\n\t}";
    assert!(
        parser.contains(random_order),
        "parser.go changed: update the patch"
    );
    let parser = parser.replace(
        random_order,
        "\tfor _, pid := range slices.Sorted(maps.Keys(p.batchOffsets)) {\n\t\tallProcs = append(allProcs, proc{pid: pid})\n\t}",
    );
    let parser = parser.replace("import (\n", "import (\n\t\"maps\"\n");
    std::fs::write(pkg.join("parser.go"), parser).unwrap();

    let exe = dir.join("v1dump");
    let status = Command::new(goroscope_testkit::go_command(goroot))
        .current_dir(dir)
        .env("GOROOT", goroot)
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOFLAGS", "-mod=mod")
        .env("GOWORK", "off")
        .env("GOTELEMETRY", "off")
        .args(["build", "-o"])
        .arg(&exe)
        .arg("./cmd/v1dump")
        .status()
        .expect("run go build");
    assert!(status.success(), "building the oracle failed");
    exe
}

fn first_difference(ours: &str, go: &str) -> String {
    for (i, (a, b)) in ours.lines().zip(go.lines()).enumerate() {
        if a != b {
            return format!("line {}:\n  ours: {a}\n  go:   {b}", i + 1);
        }
    }
    format!(
        "lengths differ: ours {} lines, go {} lines",
        ours.lines().count(),
        go.lines().count()
    )
}

/// The oracle, built once per test run; `None` without a toolchain.
fn oracle() -> Option<&'static (PathBuf, PathBuf)> {
    static ORACLE: OnceLock<Option<(PathBuf, PathBuf)>> = OnceLock::new();
    ORACLE
        .get_or_init(|| {
            let goroot = goroscope_testkit::require_goroot("v1_go_oracle")?;
            // One folder per process: test runners such as nextest run each test of this
            // file in its own process, at the same time.
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("v1-oracle-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let exe = build_oracle(&goroot, &dir);
            Some((exe, dir))
        })
        .as_ref()
}

/// Runs Go and us on every `(name, trace)` and returns the differences.
fn compare(exe: &Path, dir: &Path, inputs: &[(String, Vec<u8>)]) -> Vec<String> {
    std::fs::create_dir_all(dir).unwrap();
    let paths: Vec<PathBuf> = inputs
        .iter()
        .enumerate()
        .map(|(i, (_, data))| {
            let path = dir.join(format!("{i}.trace"));
            std::fs::write(&path, data).unwrap();
            path
        })
        .collect();
    for chunk in paths.chunks(500) {
        let status = Command::new(exe).args(chunk).status().unwrap();
        assert!(status.success());
    }
    let mut failures = Vec::new();
    for ((name, data), path) in inputs.iter().zip(&paths) {
        let ours = dump(data);
        let go = std::fs::read_to_string(path.with_extension("trace.go.txt")).unwrap();
        if ours != go {
            failures.push(format!("{name}: {}", first_difference(&ours, &go)));
        }
    }
    failures
}

fn go_testdata(goroot: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(goroot.join("src/internal/trace/internal/tracev1/testdata"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
    files.sort();
    files
}

fn fixture() -> Option<PathBuf> {
    let path = goroscope_testkit::fixtures_dir().join("traces/mixed-go1.21.13.trace");
    path.exists().then_some(path)
}

fn read(path: &Path) -> (String, Vec<u8>) {
    (path.display().to_string(), std::fs::read(path).unwrap())
}

#[test]
fn v1_matches_go_tracev1() {
    let Some((exe, dir)) = oracle() else {
        return;
    };
    let goroot = goroscope_testkit::goroot().unwrap();
    let mut inputs: Vec<(String, Vec<u8>)> = go_testdata(&goroot).iter().map(|p| read(p)).collect();
    inputs.extend(fixture().as_deref().map(read));
    if let Some(extra) = std::env::var_os("GOROSCOPE_V1_TRACES") {
        inputs.extend(std::env::split_paths(&extra).map(|p| read(&p)));
    }
    let failures = compare(exe, &dir.join("whole"), &inputs);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Truncated and corrupted copies (the header kept intact) of `data`.
fn mutants(name: &str, data: &[u8], rng: &mut Rng, count: usize) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let body = data.len() - 16;
    for k in 0..count {
        let mut m = data.to_vec();
        let what = match k % 4 {
            0 => {
                let at = 16 + rng.below(body);
                m.truncate(at);
                format!("cut at {at}")
            }
            1 | 2 => {
                let at = 16 + rng.below(body);
                let bit = rng.below(8);
                m[at] ^= 1 << bit;
                format!("bit {bit} of byte {at} flipped")
            }
            _ => {
                let at = 16 + rng.below(body);
                let v = rng.next() as u8;
                m[at] = v;
                format!("byte {at} set to {v}")
            }
        };
        out.push((format!("{name} ({what})"), m));
    }
    out
}

#[test]
fn v1_damage_matches_go_tracev1() {
    let Some((exe, dir)) = oracle() else {
        return;
    };
    let goroot = goroscope_testkit::goroot().unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut inputs = Vec::new();
    for path in go_testdata(&goroot) {
        let (name, data) = read(&path);
        // The large stress traces add time, not coverage.
        let count = if data.len() > 50_000 { 4 } else { 100 };
        inputs.extend(mutants(&name, &data, &mut rng, count));
    }
    if let Some(path) = fixture() {
        let (name, data) = read(&path);
        inputs.extend(mutants(&name, &data, &mut rng, 16));
    }
    let failures = compare(exe, &dir.join("damaged"), &inputs);
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        inputs.len(),
        failures.join("\n")
    );
}
