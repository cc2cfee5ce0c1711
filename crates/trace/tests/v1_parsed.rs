//! v1 traces converted to the v2 event model, printed as `go tool trace -d=parsed` prints
//! them, against Go 1.27.3's own output.
//!
//! Inputs: the bundled Go 1.21.13 trace (against its stored reference output) and Go's v1
//! testdata (against `go tool trace -d=parsed` run live). Every converted stream must also
//! pass the port of Go's validator. Damaged copies must give an error or a stream, never a
//! panic, and the same events and error as Go.
//!
//! Go's output is not deterministic in two places, both Go map iterations:
//! - The `GoStatus` Runnable events of the goroutines that existed before tracing come in
//!   map order. Before comparing with `go tool trace`, both outputs have those runs of lines
//!   put in goroutine ID order (keeping the times); nothing else is changed.
//! - `tracev1.Parse` visits the Ps in map order, which orders the events of different Ps
//!   with equal timestamps. Where that shows (Go's stress traces), `go tool trace` differs
//!   from run to run; those outputs are compared as the same events at the same times,
//!   ignoring the order among ties.
//!
//! For an exact comparison the tests also build an oracle: a copy of Go's `internal/trace`
//! with both map iterations sorted (the orders the Rust code uses), printing what
//! `go tool trace -d=parsed` prints. Its output must equal ours byte for byte.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use goroscope_format::Version;
use goroscope_trace::{Error, EventStream, Validator, print};

/// What `go tool trace -d=parsed` would print: stdout, and the error message if any.
struct Printed {
    out: Vec<u8>,
    err: Option<String>,
}

fn render(data: &[u8]) -> Printed {
    let mut out = Vec::new();
    let mut stream = match EventStream::new(data) {
        Ok(s) => s,
        Err(e) => {
            return Printed {
                out,
                err: Some(message(&e)),
            };
        }
    };
    while let Some(ev) = stream.next_event() {
        match ev {
            Ok(ev) => {
                print::write_event(&mut out, &ev, stream.tables()).unwrap();
                out.push(b'\n');
            }
            Err(e) => {
                return Printed {
                    out,
                    err: Some(message(&e)),
                };
            }
        }
    }
    Printed { out, err: None }
}

/// An error's message in Go's words, without our byte offsets.
fn message(e: &Error) -> String {
    match e {
        Error::Decode(d) => d.kind.to_string(),
        Error::Order(o) => o.message.clone(),
    }
}

/// Puts every run of Go's pre-existing-goroutine `GoStatus` lines in goroutine order.
fn canonical(text: &[u8]) -> Vec<u8> {
    const PREFIX: &[u8] = b"M=-1 P=-1 G=-1 StateTransition Time=";
    const SUFFIX: &[u8] = b" Undetermined->Runnable Reason=\"\"";
    let parse = |line: &[u8]| -> Option<(i64, i64)> {
        let rest = line.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
        let rest = std::str::from_utf8(rest).ok()?;
        let (time, g) = rest.split_once(" GoID=")?;
        Some((time.parse().ok()?, g.parse().ok()?))
    };
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < lines.len() {
        let mut run = Vec::new();
        while let Some(tg) = lines.get(i).and_then(|l| parse(l)) {
            run.push(tg);
            i += 1;
        }
        if run.is_empty() {
            out.extend_from_slice(lines[i]);
            i += 1;
            if i < lines.len() {
                out.push(b'\n');
            }
            continue;
        }
        let mut goroutines: Vec<i64> = run.iter().map(|r| r.1).collect();
        goroutines.sort_unstable();
        for ((time, _), g) in run.iter().zip(goroutines) {
            out.extend_from_slice(PREFIX);
            out.extend_from_slice(format!("{time} GoID={g}").as_bytes());
            out.extend_from_slice(SUFFIX);
            out.push(b'\n');
        }
    }
    out
}

fn first_difference(ours: &[u8], go: &[u8]) -> String {
    let ours: Vec<_> = ours.split(|&b| b == b'\n').collect();
    let go: Vec<_> = go.split(|&b| b == b'\n').collect();
    for (i, (a, b)) in ours.iter().zip(&go).enumerate() {
        if a != b {
            return format!(
                "line {}:\n  ours: {}\n  go:   {}",
                i + 1,
                String::from_utf8_lossy(a),
                String::from_utf8_lossy(b)
            );
        }
    }
    format!("ours {} lines, go {} lines", ours.len(), go.len())
}

/// Runs the port of Go's validator over the converted stream of `data`.
fn validate(data: &[u8]) -> Result<usize, String> {
    let mut stream = EventStream::new(data).map_err(|e| e.to_string())?;
    let mut v = Validator::new(stream.version());
    let mut n = 0;
    while let Some(ev) = stream.next_event() {
        let ev = ev.map_err(|e| e.to_string())?;
        v.event(&ev, stream.tables())
            .map_err(|errs| format!("event {n} at {}: {}", ev.time, errs.join("; ")))?;
        n += 1;
    }
    Ok(n)
}

fn fixture() -> Option<(Vec<u8>, PathBuf)> {
    let trace = goroscope_testkit::fixtures_dir().join("traces/mixed-go1.21.13.trace");
    let parsed = goroscope_testkit::reference_dir(&trace).join("parsed.txt.gz");
    if !trace.exists() || !parsed.exists() {
        eprintln!("skipped: no mixed-go1.21.13 fixture");
        return None;
    }
    Some((std::fs::read(trace).unwrap(), parsed))
}

fn go_testdata(goroot: &Path) -> Vec<(String, Vec<u8>)> {
    let dir = goroot.join("src/internal/trace/internal/tracev1/testdata");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// `go tool trace -d=parsed` on `path`: stdout, and stderr if it failed.
fn go_parsed(goroot: &Path, path: &Path) -> Printed {
    let out = Command::new(goroscope_testkit::go_command(goroot))
        .args(["tool", "trace", "-d=parsed"])
        .arg(path)
        .env("TZ", "UTC")
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOROOT", goroot)
        .output()
        .expect("run go tool trace");
    Printed {
        out: out.stdout,
        err: (!out.status.success())
            .then(|| String::from_utf8_lossy(&out.stderr).trim().to_owned()),
    }
}

/// The oracle's `main`: for each path, what `go tool trace -d=parsed` would print, in
/// `PATH.go.txt`, and the error or panic, if any, in `PATH.go.err`.
const ORACLE_MAIN: &str = r#"package main

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"v1parsed/internal/trace"
)

func main() {
	for _, path := range os.Args[1:] {
		dump(path)
	}
}

func dump(path string) {
	in, err := os.Open(path)
	if err != nil {
		panic(err)
	}
	defer in.Close()
	out, err := os.Create(path + ".go.txt")
	if err != nil {
		panic(err)
	}
	defer out.Close()
	w := bufio.NewWriter(out)
	defer w.Flush()
	fail := func(msg string) {
		if err := os.WriteFile(path+".go.err", []byte(msg), 0o644); err != nil {
			panic(err)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			fail(fmt.Sprintf("panic: %v", r))
		}
	}()
	r, err := trace.NewReader(bufio.NewReader(in))
	if err != nil {
		fail(err.Error())
		return
	}
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			return
		} else if err != nil {
			fail(err.Error())
			return
		}
		fmt.Fprintln(w, ev.String())
	}
}
"#;

/// Copies Go's `internal/trace` (without tests and the packages the oracle does not need)
/// under `dst`, with imports renamed and both map iterations sorted.
fn copy_trace_package(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !["testdata", "testtrace", "traceviewer", "testgen"].contains(&name.as_str()) {
                copy_trace_package(&path, &dst.join(&name));
            }
            continue;
        }
        if !name.ends_with(".go") || name.ends_with("_test.go") {
            continue;
        }
        let mut text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("\"internal/trace\"", "\"v1parsed/internal/trace\"")
            .replace("\"internal/trace/", "\"v1parsed/internal/trace/");
        let patches: &[(&str, &str)] = match name.as_str() {
            "parser.go" => &[(
                "\tfor pid := range p.batchOffsets {",
                "\tfor _, pid := range slices.Sorted(maps.Keys(p.batchOffsets)) {",
            )],
            "tracev1.go" => &[(
                "\t\t\tfor gid := range it.createdPreInit {",
                "\t\t\tfor _, gid := range slices.Sorted(maps.Keys(it.createdPreInit)) {",
            )],
            _ => &[],
        };
        for (from, to) in patches {
            assert!(text.contains(from), "{name} changed: update the patch");
            text = text.replacen(from, to, 1);
            for pkg in ["maps", "slices"] {
                if !text.contains(&format!("\t\"{pkg}\"\n")) {
                    text = text.replacen("import (\n", &format!("import (\n\t\"{pkg}\"\n"), 1);
                }
            }
        }
        assert!(
            !text.contains("\"internal/"),
            "{name}: imports another std-internal package"
        );
        std::fs::write(dst.join(&name), text).unwrap();
    }
}

/// The oracle command, built once per test run; `None` without a toolchain.
fn oracle() -> Option<&'static PathBuf> {
    static ORACLE: OnceLock<Option<PathBuf>> = OnceLock::new();
    ORACLE
        .get_or_init(|| {
            let goroot = goroscope_testkit::require_goroot("v1_parsed oracle")?;
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("v1-parsed-oracle");
            let _ = std::fs::remove_dir_all(&dir);
            copy_trace_package(
                &goroot.join("src/internal/trace"),
                &dir.join("internal/trace"),
            );
            std::fs::write(dir.join("go.mod"), "module v1parsed\n\ngo 1.24\n").unwrap();
            std::fs::write(dir.join("main.go"), ORACLE_MAIN).unwrap();
            let exe = dir.join("v1parsed");
            let status = Command::new(goroscope_testkit::go_command(&goroot))
                .current_dir(&dir)
                .env("GOROOT", &goroot)
                .env("GOTOOLCHAIN", "local")
                .env("GOPROXY", "off")
                .env("GOFLAGS", "-mod=mod")
                .env("GOWORK", "off")
                .env("GOTELEMETRY", "off")
                .args(["build", "-o"])
                .arg(&exe)
                .arg(".")
                .status()
                .expect("run go build");
            assert!(status.success(), "building the oracle failed");
            Some(exe)
        })
        .as_ref()
}

/// Runs the oracle and us on every `(name, trace)`; returns the differences.
fn compare_oracle(exe: &Path, dir: &Path, inputs: &[(String, Vec<u8>)]) -> Vec<String> {
    std::fs::create_dir_all(dir).unwrap();
    let paths: Vec<PathBuf> = (0..inputs.len())
        .map(|i| dir.join(format!("{i}.trace")))
        .collect();
    for ((_, data), path) in inputs.iter().zip(&paths) {
        std::fs::write(path, data).unwrap();
        let _ = std::fs::remove_file(path.with_extension("trace.go.err"));
    }
    for chunk in paths.chunks(200) {
        let status = Command::new(exe).args(chunk).status().unwrap();
        assert!(status.success());
    }
    let mut failures = Vec::new();
    let (mut errors, mut panics) = (0, 0);
    for ((name, data), path) in inputs.iter().zip(&paths) {
        let go = Printed {
            out: std::fs::read(path.with_extension("trace.go.txt")).unwrap(),
            err: std::fs::read_to_string(path.with_extension("trace.go.err")).ok(),
        };
        if go.err.as_deref().is_some_and(|e| e.starts_with("panic: ")) {
            // Go crashes on some damaged traces (a stack or string ID with nothing behind
            // it) while printing an event: up to that event, the outputs must agree.
            panics += 1;
            let ours = render(data);
            if !ours.out.starts_with(&go.out) {
                failures.push(format!(
                    "{name}: before Go's {:?}: {}",
                    go.err,
                    first_difference(&ours.out, &go.out)
                ));
            }
            continue;
        }
        errors += usize::from(go.err.is_some());
        let ours = render(data);
        if go.err != ours.err {
            failures.push(format!(
                "{name}: go error {:?}, ours {:?}",
                go.err, ours.err
            ));
        } else if go.out != ours.out {
            failures.push(format!("{name}: {}", first_difference(&ours.out, &go.out)));
        }
    }
    eprintln!(
        "{} traces: {errors} errors, {panics} Go panics (compared up to the panic)",
        inputs.len()
    );
    failures
}

/// The events of an output, each with its time taken out, sorted; and the times, sorted.
fn events_and_times(text: &[u8]) -> (Vec<Vec<u8>>, Vec<i64>) {
    let mut events: Vec<Vec<u8>> = Vec::new();
    let mut times = Vec::new();
    for line in text.split(|&b| b == b'\n') {
        let Some(start) = line.windows(6).position(|w| w == b" Time=") else {
            if let Some(last) = events.last_mut() {
                last.extend_from_slice(line);
                last.push(b'\n');
            }
            continue;
        };
        let rest = &line[start + 6..];
        let len = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
        times.push(std::str::from_utf8(&rest[..len]).unwrap().parse().unwrap());
        let mut ev = line[..start].to_vec();
        ev.extend_from_slice(&rest[len..]);
        ev.push(b'\n');
        events.push(ev);
    }
    events.sort_unstable();
    times.sort_unstable();
    (events, times)
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// How our output compares with `go tool trace -d=parsed`.
#[derive(Debug, PartialEq, Eq)]
enum Live {
    /// Byte for byte (after sorting the pre-existing goroutines).
    Identical,
    /// The same events at the same times, in another order among equal times.
    SameUpToTies,
    /// Go panicked.
    GoPanicked,
}

/// Compares our output for `data` with Go's.
fn compare_live(goroot: &Path, name: &str, data: &[u8], path: &Path) -> Result<Live, String> {
    std::fs::write(path, data).unwrap();
    let go = go_parsed(goroot, path);
    if go.err.as_deref().is_some_and(|e| e.contains("panic")) {
        return Ok(Live::GoPanicked);
    }
    let ours = render(data);
    if go.err != ours.err {
        return Err(format!(
            "{name}: go error {:?}, ours {:?}",
            go.err, ours.err
        ));
    }
    let (ours, go) = (canonical(&ours.out), canonical(&go.out));
    if ours == go {
        Ok(Live::Identical)
    } else if events_and_times(&ours) == events_and_times(&go) {
        Ok(Live::SameUpToTies)
    } else {
        Err(format!("{name}: {}", first_difference(&ours, &go)))
    }
}

#[test]
fn fixture_prints_as_go_printed_it() {
    let Some((data, parsed)) = fixture() else {
        return;
    };
    let mut go = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(parsed).unwrap())
        .read_to_end(&mut go)
        .unwrap();
    let ours = render(&data);
    assert_eq!(ours.err, None);
    assert!(ours.out == go, "raw: {}", first_difference(&ours.out, &go));
}

#[test]
fn fixture_passes_the_validator() {
    let Some((data, _)) = fixture() else {
        return;
    };
    let n = validate(&data).unwrap();
    assert!(n > 50_000, "{n} events");
}

#[test]
fn go_testdata_prints_as_go_prints_it() {
    let Some(goroot) = goroscope_testkit::require_goroot("v1_parsed go testdata") else {
        return;
    };
    let dir = scratch("v1-parsed");
    let mut failures = Vec::new();
    let inputs = go_testdata(&goroot);
    assert_eq!(inputs.len(), 12);
    for (name, data) in &inputs {
        match compare_live(&goroot, name, data, &dir.join(name)) {
            Ok(Live::Identical) => eprintln!("{name}: identical"),
            Ok(how) => eprintln!("{name}: {how:?}"),
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn traces_print_as_the_oracle_prints_them() {
    let Some(exe) = oracle() else {
        return;
    };
    let goroot = goroscope_testkit::goroot().unwrap();
    let mut inputs = go_testdata(&goroot);
    if let Some((data, _)) = fixture() {
        inputs.push(("mixed-go1.21.13".to_owned(), data));
    }
    inputs.push((
        "futile".to_owned(),
        b"go 1.11 trace\x00\x00\x00A00\x020$0".to_vec(),
    ));
    let failures = compare_oracle(exe, &scratch("v1-parsed-oracle-in"), &inputs);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn go_testdata_passes_the_validator() {
    let Some(goroot) = goroscope_testkit::require_goroot("v1_parsed validator") else {
        return;
    };
    let failures: Vec<String> = go_testdata(&goroot)
        .iter()
        .filter_map(|(name, data)| validate(data).err().map(|e| format!("{name}: {e}")))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Go's fuzz corpus entry `4055b17cae1a3443`: a `FutileWakeup`, which Go's converter
/// rejects after the first Sync.
#[test]
fn futile_wakeup_is_an_error_after_the_first_sync() {
    let data = b"go 1.11 trace\x00\x00\x00A00\x020$0";
    let ours = render(data);
    assert_eq!(ours.out, b"M=-1 P=-1 G=-1 Sync Time=-1 N=1\n");
    assert_eq!(ours.err.as_deref(), Some("unexpected event type 36"));
    let mut stream = EventStream::new(data).unwrap();
    assert_eq!(stream.version(), Version::GO111);
    assert!(stream.next_event().unwrap().is_ok());
    let err = stream.next_event().unwrap().unwrap_err();
    assert_eq!(err.offset(), Some(21));
    assert!(stream.next_event().is_none());

    let Some(goroot) = goroscope_testkit::require_goroot("v1_parsed futile wakeup") else {
        return;
    };
    let dir = scratch("v1-parsed");
    let diff = compare_live(&goroot, "futile", data, &dir.join("futile.trace"));
    assert_eq!(diff, Ok(Live::Identical));
}

/// An empty v1 trace (a header only) is one Sync at time 0, as in Go.
#[test]
fn empty_trace_is_one_sync() {
    // A batch of P 0 at tick 0, and the frequency (10⁹ ticks per second).
    let data = b"go 1.21 trace\x00\x00\x00A\x00\x00\x02\x80\x94\xeb\xdc\x03";
    let ours = render(data);
    assert_eq!(ours.err, None);
    assert_eq!(
        String::from_utf8_lossy(&ours.out),
        "M=-1 P=-1 G=-1 Sync Time=0 N=1\n"
    );
}

/// Damaged copies of a trace: cut short at many points, bits flipped, bytes overwritten.
/// Fewer of the large traces, which take long to read in debug builds.
fn damaged(data: &[u8], small: usize) -> Vec<(String, Vec<u8>)> {
    let count = if data.len() > 50_000 {
        small / 6
    } else {
        small
    };
    let mut out = Vec::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64 ^ data.len() as u64;
    let mut rand = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for k in 0..count {
        let mut d = data.to_vec();
        let pos = 16 + (rand() as usize) % (data.len() - 16);
        let name = match k % 3 {
            0 => {
                d.truncate(pos);
                format!("cut at {pos}")
            }
            1 => {
                let bit = rand() % 8;
                d[pos] ^= 1 << bit;
                format!("bit {bit} flipped at {pos}")
            }
            _ => {
                let b = rand() as u8;
                d[pos] = b;
                format!("byte {b:#x} at {pos}")
            }
        };
        out.push((name, d));
    }
    out
}

#[test]
fn damaged_traces_never_panic() {
    let mut inputs = Vec::new();
    if let Some((data, _)) = fixture() {
        inputs.push(("mixed-go1.21.13".to_owned(), data));
    }
    if let Some(goroot) = goroscope_testkit::goroot() {
        inputs.extend(go_testdata(&goroot));
    }
    let mut errors = 0;
    let mut total = 0;
    for (name, data) in &inputs {
        for (what, d) in damaged(data, 90) {
            let result = std::panic::catch_unwind(|| render(&d));
            let printed = result.unwrap_or_else(|_| panic!("{name}, {what}: panicked"));
            errors += usize::from(printed.err.is_some());
            total += 1;
        }
    }
    eprintln!("{total} damaged traces, {errors} errors");
    assert!(inputs.is_empty() || errors > 0);
}

/// Damaged traces against the oracle: the same events and the same error. (Against
/// `go tool trace` itself, for a few small ones.)
#[test]
fn damaged_traces_print_as_go_prints_them() {
    let Some(exe) = oracle() else {
        return;
    };
    let goroot = goroscope_testkit::goroot().unwrap();
    let mut inputs = Vec::new();
    let mut sources = go_testdata(&goroot);
    if let Some((data, _)) = fixture() {
        sources.push(("mixed-go1.21.13".to_owned(), data));
    }
    for (name, data) in &sources {
        for (what, d) in damaged(data, 60) {
            inputs.push((format!("{name}, {what}"), d));
        }
    }
    let failures = compare_oracle(exe, &scratch("v1-parsed-damaged"), &inputs);
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    let dir = scratch("v1-parsed-damaged-live");
    let mut failures = Vec::new();
    for (name, data) in sources.iter().filter(|(n, _)| n.starts_with("user_task")) {
        for (i, (what, d)) in damaged(data, 6).into_iter().enumerate() {
            let path = dir.join(format!("{name}-{i}"));
            if let Err(e) = compare_live(&goroot, &format!("{name}, {what}"), &d, &path) {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
