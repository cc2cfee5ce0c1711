//! Go's own golden tests (`internal/trace/testdata/tests/*.test`), read from the reference
//! toolchain: each trace is converted from Go's text form, read to the end, and every event
//! is checked by the validator. A `SUCCESS` test must end without error; a `FAILURE` test
//! must end with an error whose message matches Go's regular expression. Events before the
//! error must still validate.

use std::path::Path;

use goroscope_format::read_header;
use goroscope_format::v2::golden::{Expectation, parse_txtar};
use goroscope_format::v2::text::text_to_binary;
use goroscope_trace::{Reader, Validator};

struct Outcome {
    events: usize,
    error: Option<String>,
    invalid: Vec<String>,
}

fn run(binary: &[u8]) -> Outcome {
    let (version, _) = read_header(binary).expect("header");
    let mut reader = Reader::new(binary).expect("reader");
    let mut validator = Validator::new(version);
    let mut out = Outcome {
        events: 0,
        error: None,
        invalid: Vec::new(),
    };
    while let Some(ev) = reader.next_event() {
        match ev {
            Ok(ev) => {
                out.events += 1;
                if let Err(errs) = validator.event(&ev, reader.tables()) {
                    out.invalid.extend(errs);
                }
            }
            Err(e) => out.error = Some(e.to_string()),
        }
    }
    out
}

fn golden_tests(goroot: &Path) -> Vec<std::path::PathBuf> {
    let dir = goroot.join("src/internal/trace/testdata/tests");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("Go's test directory")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    files.sort();
    files
}

#[test]
fn go_golden_tests_pass_and_fail_as_in_go() {
    let Some(goroot) = goroscope_testkit::require_goroot("go_golden_tests") else {
        return;
    };
    let files = golden_tests(&goroot);
    assert_eq!(files.len(), 22, "Go 1.27.3 ships 22 golden tests");
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let archive = parse_txtar(&text);
        let expect = archive.files.iter().find(|f| f.name == "expect").unwrap();
        let trace = archive.files.iter().find(|f| f.name == "trace").unwrap();
        let expectation = Expectation::parse(&expect.data).unwrap();
        let binary = text_to_binary(&trace.data).unwrap();
        let outcome = run(&binary);
        if !outcome.invalid.is_empty() {
            failures.push(format!("{name}: validator: {:?}", outcome.invalid));
        }
        match (&expectation, &outcome.error) {
            (Expectation::Success, None) => {}
            (Expectation::Success, Some(e)) => {
                failures.push(format!("{name}: unexpected error: {e}"));
            }
            (Expectation::Failure(re), Some(e)) => {
                let re = regex::Regex::new(re).unwrap();
                if !re.is_match(e) {
                    failures.push(format!("{name}: error {e:?} does not match {re}"));
                }
            }
            (Expectation::Failure(re), None) => {
                failures.push(format!("{name}: expected an error matching {re}, got none"));
            }
        }
        eprintln!(
            "{name}: {} events, error: {:?}",
            outcome.events, outcome.error
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Go's TestTraceGenSync: the times and clock snapshots of the Sync events.
#[test]
fn sync_events_have_go_times() {
    let Some(goroot) = goroscope_testkit::require_goroot("sync_events_have_go_times") else {
        return;
    };
    let dir = goroot.join("src/internal/trace/testdata/tests");
    /// A Sync's time and, when it has one, its snapshot's trace time, mono time and wall time.
    type WantSync = (i64, Option<(i64, u64, &'static str)>);
    let cases: [(&str, &[WantSync]); 2] = [
        (
            "go123-sync.test",
            &[(10, None), (40, None), (60, None), (63, None)],
        ),
        (
            "go125-sync.test",
            &[
                (9, Some((10, 99, "2025-02-28T15:04:09.000000123Z"))),
                (38, Some((40, 199, "2025-02-28T15:04:10.000000123Z"))),
                (58, Some((60, 299, "2025-02-28T15:04:11.000000123Z"))),
                (83, None),
            ],
        ),
    ];
    for (name, want) in cases {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let archive = parse_txtar(&text);
        let trace = archive.files.iter().find(|f| f.name == "trace").unwrap();
        let binary = text_to_binary(&trace.data).unwrap();
        let mut reader = Reader::new(&binary).unwrap();
        let mut got = Vec::new();
        while let Some(ev) = reader.next_event() {
            let ev = ev.unwrap();
            if ev.ty == goroscope_trace::event::SYNC {
                let mut line = Vec::new();
                goroscope_trace::print::write_event(&mut line, &ev, reader.tables()).unwrap();
                got.push((ev.time, String::from_utf8(line).unwrap()));
            }
        }
        assert_eq!(got.len(), want.len(), "{name}");
        for ((time, line), (want_time, snap)) in got.iter().zip(want) {
            assert_eq!(time, want_time, "{name}: {line}");
            match snap {
                Some((trace, mono, wall)) => {
                    assert!(
                        line.ends_with(&format!("Trace={trace} Mono={mono} Wall={wall}")),
                        "{name}: {line}"
                    );
                }
                None => assert!(!line.contains("Trace="), "{name}: {line}"),
            }
        }
    }
}
