//! Differential test of `goroscope_format::v1` against Go's own v1 parser.
//!
//! The test copies `internal/trace/internal/tracev1` out of the reference GOROOT into a
//! scratch module, with two changes: the `version` import points to a one-line stand-in, and
//! the Ps are visited in ascending order instead of Go's random map order (the one place
//! where Go's result is not deterministic; `v1::parse` uses the same order). A small command
//! prints everything `tracev1.Parse` returns; the test prints our result the same way and
//! compares, for every trace of Go's testdata and the bundled 1.21 fixture.
//!
//! Extra traces can be compared by listing them in `GOROSCOPE_V1_TRACES` (colon-separated).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

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
		tracev1.Dump(out, data[16:], ver)
		out.Close()
	}
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

#[test]
fn v1_matches_go_tracev1() {
    let Some(goroot) = goroscope_testkit::require_goroot("v1_matches_go_tracev1") else {
        return;
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("v1-oracle");
    let _ = std::fs::remove_dir_all(&dir);
    let exe = build_oracle(&goroot, &dir);

    let mut inputs: Vec<PathBuf> =
        std::fs::read_dir(goroot.join("src/internal/trace/internal/tracev1/testdata"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
    let fixture = goroscope_testkit::fixtures_dir().join("traces/mixed-go1.21.13.trace");
    if fixture.exists() {
        inputs.push(fixture);
    }
    if let Some(extra) = std::env::var_os("GOROSCOPE_V1_TRACES") {
        inputs.extend(std::env::split_paths(&extra));
    }
    inputs.sort();

    // Work on copies, so that the oracle's output lands in the scratch folder.
    let copies: Vec<PathBuf> = inputs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let copy = dir.join(format!("{i}-{}", p.file_name().unwrap().to_string_lossy()));
            std::fs::copy(p, &copy).unwrap();
            copy
        })
        .collect();
    let status = Command::new(&exe).args(&copies).status().unwrap();
    assert!(status.success());

    let mut failures = Vec::new();
    for (input, copy) in inputs.iter().zip(&copies) {
        let data = std::fs::read(copy).unwrap();
        let ours = dump(&data);
        let go = std::fs::read_to_string(copy.with_file_name(format!(
            "{}.go.txt",
            copy.file_name().unwrap().to_string_lossy()
        )))
        .unwrap();
        if ours != go {
            failures.push(format!(
                "{}: {}",
                input.display(),
                first_difference(&ours, &go)
            ));
        } else {
            eprintln!(
                "{}: identical ({} lines)",
                input.display(),
                go.lines().count()
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
