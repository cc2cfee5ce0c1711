//! Go's own trace test corpus, read at the format level: the golden tests of
//! `internal/trace/testdata/tests`, `cmd/trace`'s text trace and the fuzz corpus of
//! `internal/trace`, all from the reference toolchain (skipped without one).
//!
//! "Format level" means the header, the generation index, each generation's tables and every
//! event of every event batch; ordering errors (such as the two golden tests that expect
//! `expected a proc but didn't have one`) are found later, by `goroscope-trace`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use goroscope_format::quote;
use goroscope_format::read_header;
use goroscope_format::v2::golden::{Expectation, GoldenTest};
use goroscope_format::v2::{self, EventCursor, text};

/// What the format level makes of one trace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Decoded {
    generations: usize,
    event_batches: usize,
    events: usize,
    /// The first error, after everything before it was decoded.
    error: Option<String>,
}

impl Decoded {
    fn show(&self) -> String {
        let counts = format!(
            "{} generations, {} event batches, {} events",
            self.generations, self.event_batches, self.events
        );
        match &self.error {
            None => format!("ok: {counts}"),
            Some(e) => format!("{counts}, then: {e}"),
        }
    }
}

/// Reads `data` through every format-level decoder, stopping at the first error.
fn decode_all(data: &[u8]) -> Decoded {
    let mut out = Decoded::default();
    if let Err(e) = decode_into(data, &mut out) {
        out.error = Some(e);
    }
    out
}

fn decode_into(data: &[u8], out: &mut Decoded) -> Result<(), String> {
    read_header(data).map_err(|e| e.to_string())?;
    let index = v2::index(data).map_err(|e| e.to_string())?;
    for span in &index.generations {
        let generation = v2::decode(data, index.version, span).map_err(|e| e.to_string())?;
        out.generations += 1;
        for thread in &generation.threads {
            for batch in &thread.batches {
                out.event_batches += 1;
                let mut cursor = EventCursor::new(batch.body);
                while let Some(_ev) = cursor.next_event().map_err(|e| {
                    format!("{} at byte {}", e.kind, batch.body_offset + e.pos as u64)
                })? {
                    out.events += 1;
                }
            }
        }
    }
    match index.error {
        Some(e) => Err(e.to_string()),
        None => Ok(()),
    }
}

fn golden_tests(goroot: &Path) -> Vec<PathBuf> {
    let dir = goroot.join("src/internal/trace/testdata/tests");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    out.sort();
    out
}

fn name(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// The text of a golden test's trace without blank lines and comments, as Go prints it back.
fn canonical(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The golden tests that expect a failure, and what the format level makes of them. Go
/// fails both while ordering the events of the first generation; the format level sees the
/// damage of the second generation of `fail-first-gen-first` (a batch announcing 50 bytes
/// that are not there), which Go reports only after the first generation.
const EXPECTED_FAILURES: [(&str, Option<&str>); 2] = [
    ("go122-create-syscall-with-p.test", None),
    (
        "go122-fail-first-gen-first.test",
        Some(
            "failed to read full batch: read 0 but wanted 50 at byte 41 (generation 1, batch at byte 36)",
        ),
    ),
];

#[test]
fn golden_tests_convert_and_decode() {
    let Some(goroot) = goroscope_testkit::require_goroot("golden_tests_convert_and_decode") else {
        return;
    };
    let tests = golden_tests(&goroot);
    assert_eq!(tests.len(), 22, "Go 1.27.3 has 22 golden tests");
    let mut table = String::from("| test | expect | bytes | format level |\n|---|---|---|---|\n");
    let mut failures = Vec::new();
    for path in &tests {
        let file = name(path);
        let source = std::fs::read_to_string(path).unwrap();
        let test = GoldenTest::parse(&source).unwrap_or_else(|e| panic!("{file}: {e}"));
        let binary = test.to_binary().unwrap_or_else(|e| panic!("{file}: {e}"));
        // text → binary → text is the identity.
        assert_eq!(
            text::binary_to_text(&binary).unwrap_or_else(|e| panic!("{file}: {e}")),
            canonical(&test.trace_text),
            "{file}: text round trip"
        );
        let outcome = decode_all(&binary);
        let expect = match &test.expect {
            Expectation::Success => "SUCCESS".to_owned(),
            Expectation::Failure(re) => format!("FAILURE {}", quote::quote(re.as_bytes())),
        };
        let _ = writeln!(
            table,
            "| {file} | {expect} | {} | {} |",
            binary.len(),
            outcome.show()
        );
        let known = EXPECTED_FAILURES.iter().find(|(f, _)| *f == file);
        match (&test.expect, known) {
            (Expectation::Success, _) => {
                if let Some(e) = &outcome.error {
                    failures.push(format!("{file}: {e}"));
                }
            }
            (Expectation::Failure(re), Some((_, error))) => {
                assert!(
                    re.contains("expected a proc but didn't have one"),
                    "{file}: {re}"
                );
                assert_eq!(outcome.error.as_deref(), *error, "{file}");
                assert!(outcome.generations >= 1, "{file}: {outcome:?}");
            }
            (Expectation::Failure(_), None) => {
                failures.push(format!("{file}: a new FAILURE test; record what it does"));
            }
        }
    }
    eprintln!("{table}");
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn syscall_steal_proc_simple_matches_the_reference() {
    let Some(goroot) =
        goroscope_testkit::require_goroot("syscall_steal_proc_simple_matches_the_reference")
    else {
        return;
    };
    let path =
        goroot.join("src/internal/trace/testdata/tests/go122-syscall-steal-proc-simple.test");
    let test = GoldenTest::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(test.expect, Expectation::Success);
    let binary = test.to_binary().unwrap();
    assert_eq!(binary.len(), 104);
    // The reference's §8.2: header | EventBatch gen=1 m=0 time=0 size=15 | ProcStatus dt=1
    // p=0 pstatus=1 | GoStatus dt=1 g=1 m=0 gstatus=2 | …
    let mut expected = b"go 1.22 trace\0\0\0".to_vec();
    expected.extend_from_slice(&[0x01, 0x01, 0x00, 0x00, 0x0f]);
    expected.extend_from_slice(&[0x0d, 0x01, 0x00, 0x01]);
    expected.extend_from_slice(&[0x19, 0x01, 0x01, 0x00, 0x02]);
    assert_eq!(&binary[..expected.len()], expected.as_slice());
    assert_eq!(
        decode_all(&binary),
        Decoded {
            generations: 1,
            event_batches: 2,
            events: 7,
            error: None,
        }
    );
}

#[test]
fn cmd_trace_text_trace_converts_and_decodes() {
    let Some(goroot) =
        goroscope_testkit::require_goroot("cmd_trace_text_trace_converts_and_decodes")
    else {
        return;
    };
    let path = goroot.join("src/cmd/trace/testdata/go122.test");
    let source = std::fs::read_to_string(&path).unwrap();
    let binary = text::text_to_binary(&source).unwrap();
    assert_eq!(text::binary_to_text(&binary).unwrap(), canonical(&source));
    let decoded = decode_all(&binary);
    eprintln!("go122.test: {} bytes, {}", binary.len(), decoded.show());
    assert_eq!(decoded.error, None);
    assert!(
        decoded.generations >= 1 && decoded.events > 1000,
        "{decoded:?}"
    );
}

/// Runs `go tool trace -d=wire` on `binary`.
fn go_wire_dump(goroot: &Path, binary: &[u8], tag: &str) -> String {
    let path = std::env::temp_dir().join(format!(
        "goroscope-format-conformance-{}-{tag}.trace",
        std::process::id()
    ));
    std::fs::write(&path, binary).unwrap();
    let out = Command::new(goroscope_testkit::go_command(goroot))
        .args(["tool", "trace", "-d=wire"])
        .arg(&path)
        .env("GOROOT", goroot)
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{tag}: go tool trace -d=wire: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Go reads our binaries back to the very text they came from: the conversion is Go's.
#[test]
fn go_reads_our_binaries_back_to_the_same_text() {
    let Some(goroot) =
        goroscope_testkit::require_goroot("go_reads_our_binaries_back_to_the_same_text")
    else {
        return;
    };
    let mut sources: Vec<(String, String)> = golden_tests(&goroot)
        .iter()
        .map(|p| {
            let test = GoldenTest::parse(&std::fs::read_to_string(p).unwrap()).unwrap();
            (name(p), test.trace_text)
        })
        .collect();
    let go122 = goroot.join("src/cmd/trace/testdata/go122.test");
    sources.push(("go122".into(), std::fs::read_to_string(go122).unwrap()));
    for (tag, source) in sources {
        let binary = text::text_to_binary(&source).unwrap();
        let ours = text::binary_to_text(&binary).unwrap();
        let (header, body) = ours.split_once('\n').unwrap();
        assert!(header.starts_with("Trace Go1."));
        assert_eq!(go_wire_dump(&goroot, &binary, &tag), body, "{tag}");
    }
}

/// One input of a `go test fuzz v1` corpus file: a single `[]byte("…")` literal.
fn parse_fuzz_file(text: &str) -> Result<Vec<u8>, String> {
    let mut lines = text.lines();
    if lines.next() != Some("go test fuzz v1") {
        return Err("missing the `go test fuzz v1` line".into());
    }
    let values: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
    let [value] = values.as_slice() else {
        return Err(format!("expected one value, found {}", values.len()));
    };
    let literal = value
        .trim()
        .strip_prefix("[]byte(")
        .and_then(|v| v.strip_suffix(')'))
        .ok_or_else(|| format!("not a []byte literal: {value}"))?;
    quote::unquote(literal).map_err(|e| e.to_string())
}

#[test]
fn fuzz_corpus_never_panics() {
    let Some(goroot) = goroscope_testkit::require_goroot("fuzz_corpus_never_panics") else {
        return;
    };
    let dir = goroot.join("src/internal/trace/testdata/fuzz/FuzzReader");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    assert!(paths.len() >= 17, "{} fuzz inputs", paths.len());
    let mut report = String::from("| input | bytes | format level | text |\n|---|---|---|---|\n");
    for path in &paths {
        let file = name(path);
        let data = parse_fuzz_file(&std::fs::read_to_string(path).unwrap())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let outcome = std::panic::catch_unwind(|| {
            let decoded = decode_all(&data);
            let text = text::binary_to_text(&data).map(|_| ());
            (decoded, text)
        });
        let Ok((decoded, text)) = outcome else {
            panic!("{file}: the decoders panicked");
        };
        let text = match text {
            Ok(()) => "ok".to_owned(),
            Err(e) => e.to_string(),
        };
        let _ = writeln!(
            report,
            "| {file} | {} | {} | {text} |",
            data.len(),
            decoded.show()
        );
    }
    eprintln!("{report}");
}

#[test]
fn fuzz_file_parser_reads_go_literals() {
    let data = parse_fuzz_file("go test fuzz v1\n[]byte(\"go 1.22 trace\\x00\\x01ߕ\")\n").unwrap();
    assert_eq!(data, b"go 1.22 trace\0\x01\xdf\x95");
    assert!(parse_fuzz_file("go test fuzz v2\n").is_err());
}
