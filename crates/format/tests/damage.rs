//! Real traces, whole and damaged: the bundled fixtures (`fixtures/traces`, v2 ones) and a
//! trace written by the reference Go toolchain when the test runs.
//!
//! - Whole traces go to Go's text form and back without losing a record, and Go's own
//!   `go tool trace -d=wire` prints what [`text::binary_to_text`] prints.
//! - Truncated and bit-flipped copies go through every decoder of the crate: the header,
//!   the index, each generation's tables, every event batch, the raw reader and the text
//!   writer. None may panic or hang, and every error must point inside the file.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use goroscope_format::v2::{self, EventCursor, RawReader, RawRecord, Record, text};
use goroscope_format::{Error, read_header};

/// A Go program that writes a small trace (about 12 KB) with two generations: goroutines, a
/// mutex, a channel, a task with regions and logs, garbage enough for a GC cycle, a file
/// read, and a sleep across the generation boundary.
const PROGRAM: &str = r#"package main

import (
	"context"
	"os"
	"runtime/trace"
	"sync"
	"time"
)

var sink []byte

func main() {
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	if err := trace.Start(f); err != nil {
		panic(err)
	}
	ctx, task := trace.NewTask(context.Background(), "work")
	var mu sync.Mutex
	var wg sync.WaitGroup
	ch := make(chan int)
	total := 0
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			trace.WithRegion(ctx, "worker", func() {
				for j := 0; j < 50; j++ {
					mu.Lock()
					total += j
					mu.Unlock()
					if j%10 == 0 {
						ch <- j
					}
				}
			})
		}()
	}
	go func() {
		for v := range ch {
			trace.Logf(ctx, "recv", "%d", v)
		}
	}()
	wg.Wait()
	close(ch)
	for i := 0; i < 80; i++ {
		sink = make([]byte, 64<<10)
	}
	os.ReadFile("/proc/self/status")
	time.Sleep(1200 * time.Millisecond)
	task.End()
	trace.Stop()
	if err := f.Close(); err != nil {
		panic(err)
	}
}
"#;

/// The trace [`PROGRAM`] writes, made once per build directory (and program text) and kept
/// in Cargo's scratch folder for integration tests.
fn self_made_trace(test: &str) -> Option<(String, Vec<u8>)> {
    static TRACE: OnceLock<Option<Vec<u8>>> = OnceLock::new();
    let goroot = goroscope_testkit::require_goroot(test)?;
    let data = TRACE.get_or_init(|| Some(make_self_made_trace(&goroot)));
    data.clone().map(|d| ("selfmade-go1.27.3".to_owned(), d))
}

fn make_self_made_trace(goroot: &Path) -> Vec<u8> {
    // FNV-1a of the program, so that editing it makes a new trace.
    let hash = PROGRAM.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("selfmade-{hash:016x}"));
    let trace = dir.join("selfmade.trace");
    if let Ok(data) = std::fs::read(&trace) {
        return data;
    }
    // Test processes may race to make it: each works in its own folder, and the rename into
    // place is atomic.
    let work = dir.join(format!("work-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("main.go"), PROGRAM).unwrap();
    let out = work.join("out.trace");
    let status = Command::new(goroscope_testkit::go_command(goroot))
        .arg("run")
        .arg("main.go")
        .arg(&out)
        .current_dir(&work)
        .env("GOROOT", goroot)
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOFLAGS", "-mod=mod")
        .env("GOWORK", "off")
        // With idle Ps the background sweeper does not yield after every span; with few
        // Ps on a busy machine it yields thousands of times, and the trace grows tenfold.
        .env("GOMAXPROCS", "8")
        .status()
        .unwrap();
    assert!(status.success(), "go run of the trace program failed");
    std::fs::rename(&out, &trace).unwrap();
    let _ = std::fs::remove_dir_all(&work);
    std::fs::read(&trace).unwrap()
}

/// Every v2 fixture (v1 traces have their own decoder and tests).
fn fixtures(test: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for path in goroscope_testkit::fixture_traces() {
        let data = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if read_header(&data).is_ok_and(|(version, _)| !version.is_v1()) {
            out.push((name, data));
        }
    }
    if out.is_empty() {
        eprintln!("{test}: no v2 fixtures in fixtures/traces");
    }
    out
}

/// Every v2 fixture and the self-made trace (when a Go toolchain is at hand).
fn real_traces(test: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = fixtures(test);
    out.extend(self_made_trace(test));
    out
}

/// Checks that an error points inside a file of `len` bytes.
fn check_error(e: &Error, len: u64, what: &str) {
    assert!(e.offset <= len, "{what}: offset {} > {len}: {e}", e.offset);
    if let Some(b) = e.batch {
        assert!(b <= len, "{what}: batch offset {b} > {len}: {e}");
    }
}

/// Runs every decoder over `data`, the text writer too when `with_text`. Returns the number
/// of events decoded.
fn exercise(data: &[u8], with_text: bool) -> usize {
    let len = data.len() as u64;
    let mut events = 0;
    if let Err(e) = read_header(data) {
        check_error(&e, len, "header");
    }
    match v2::index(data) {
        Err(e) => check_error(&e, len, "index"),
        Ok(index) => {
            if let Some(e) = &index.error {
                check_error(e, len, "index");
            }
            for span in index.generations.iter().chain(&index.partial) {
                assert!(span.start <= span.end && span.end <= len, "span {span:?}");
                let generation = match v2::decode(data, index.version, span) {
                    Ok(g) => g,
                    Err(e) => {
                        check_error(&e, len, "decode");
                        continue;
                    }
                };
                for id in generation.stacks.ids() {
                    for frame in generation.stacks.get(id).into_iter().flatten() {
                        assert!(generation.strings.get(frame.func).is_some());
                    }
                }
                for batch in generation.threads.iter().flat_map(|t| &t.batches) {
                    let mut cursor = EventCursor::new(batch.body);
                    let mut one_by_one = Vec::new();
                    let error = loop {
                        match cursor.next_event() {
                            Ok(Some(ev)) => {
                                events += 1;
                                one_by_one.push(ev);
                            }
                            Ok(None) => break None,
                            Err(e) => {
                                let at = batch.body_offset + e.pos as u64;
                                assert!(at <= len, "event error at {at} > {len}");
                                break Some(e);
                            }
                        }
                    };
                    // Decoding the whole batch at once gives the same events and error.
                    let mut all = Vec::new();
                    let result = EventCursor::new(batch.body).for_each_event(|_, ev| all.push(ev));
                    assert_eq!(result.err(), error);
                    assert_eq!(all, one_by_one);
                }
            }
        }
    }
    match RawReader::new(data) {
        Err(e) => check_error(&e, len, "raw reader"),
        Ok(mut reader) => {
            let mut rec = RawRecord::default();
            loop {
                let before = reader.position();
                match reader.read_into(&mut rec) {
                    Ok(true) => assert!(reader.position() > before, "no progress"),
                    Ok(false) => break,
                    Err(e) => {
                        check_error(&e, len, "raw reader");
                        break;
                    }
                }
            }
        }
    }
    if with_text && let Err(e) = text::binary_to_text(data) {
        check_error(&e, len, "text");
    }
    events
}

/// The offsets of every record, batch body and generation end of an intact trace.
fn boundaries(data: &[u8]) -> Vec<usize> {
    let Ok((_, header)) = read_header(data) else {
        return Vec::new();
    };
    let mut out = vec![header];
    for rec in v2::Batches::new(data, header) {
        match rec {
            Ok(Record::Batch(b)) => {
                out.push(b.offset as usize);
                out.push(b.body_offset as usize);
                out.push(b.body_offset as usize + b.body.len());
            }
            Ok(Record::EndOfGeneration(at)) => {
                out.push(at as usize);
                out.push(at as usize + 1);
            }
            Err(_) => break,
        }
    }
    out
}

/// A deterministic xorshift64 generator.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// Bytes of damaged copies each test decodes, at most, shared by the traces. Debug builds
/// decode 10–20 MB/s (the text writer 4 MB/s), so the default keeps each test well under
/// 20 s there; release builds do much more. `GOROSCOPE_DAMAGE_MB` overrides it.
fn budget() -> usize {
    let mb = std::env::var("GOROSCOPE_DAMAGE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) { 64 } else { 2048 });
    mb << 20
}

/// Traces up to this size are cut at every byte, whatever the budget (about 6 s of CPU in
/// a debug build at 16 KiB).
const EVERY_CUT_ALWAYS: usize = 16 << 10;
/// Traces up to this size are cut at every byte when the budget allows; larger ones at
/// evenly spaced points and around every batch boundary.
const EVERY_CUT_MAX: usize = 200 << 10;
/// The number of evenly spaced cut points of a larger trace.
const SPACED_CUTS: usize = 2000;
/// Bit flips per trace.
const FLIPS: usize = 3000;
/// The text writer (the raw reader, which runs on every copy, plus formatting) runs on one
/// damaged copy in this many: it is the slowest decoder by far in debug builds.
const TEXT_EVERY: usize = 8;

/// Cuts `data` at every byte when it is small and the budget `share` allows, else at evenly
/// spaced points and around every batch boundary, and decodes every cut copy.
fn truncate(name: &str, data: &[u8], share: usize) {
    let start = Instant::now();
    let every_cut = data.len() <= EVERY_CUT_ALWAYS
        || (data.len() <= EVERY_CUT_MAX && data.len() * data.len() / 2 <= share);
    let mut cuts: Vec<usize> = if every_cut {
        (0..=data.len()).collect()
    } else {
        let step = (data.len() / SPACED_CUTS).max(1);
        let mut cuts: Vec<usize> = (0..=data.len()).step_by(step).collect();
        for b in boundaries(data) {
            cuts.extend(b.saturating_sub(2)..=b + 2);
        }
        cuts.retain(|&c| c <= data.len());
        cuts.sort_unstable();
        cuts.dedup();
        // Within the budget: keep every n-th cut.
        let work: usize = cuts.iter().sum();
        if work > share {
            let stride = work.div_ceil(share.max(1));
            cuts = cuts.into_iter().step_by(stride).collect();
        }
        cuts
    };
    if cuts.last() != Some(&data.len()) {
        cuts.push(data.len());
    }
    for (i, &cut) in cuts.iter().enumerate() {
        exercise(&data[..cut], i % TEXT_EVERY == 0);
    }
    eprintln!(
        "{name}: {} bytes, {} cuts{} in {:.1?}",
        data.len(),
        cuts.len(),
        if every_cut { " (every byte)" } else { "" },
        start.elapsed()
    );
}

#[test]
fn truncated_fixtures_never_panic() {
    let traces = fixtures("truncated_fixtures_never_panic");
    let share = budget() / traces.len().max(1);
    for (name, data) in &traces {
        truncate(name, data, share);
    }
}

#[test]
fn truncated_self_made_trace_never_panics() {
    if let Some((name, data)) = self_made_trace("truncated_self_made_trace_never_panics") {
        truncate(&name, &data, budget());
    }
}

#[test]
fn bit_flipped_traces_never_panic() {
    let traces = real_traces("bit_flipped_traces_never_panic");
    let share = budget() / traces.len().max(1);
    for (name, data) in &traces {
        let start = Instant::now();
        // Small traces get one flip per copy; larger ones several, so that every trace gets
        // FLIPS flips within the budget.
        let copies = (share / data.len().max(1)).clamp(1, FLIPS);
        let flips_per_copy = FLIPS.div_ceil(copies);
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15 ^ data.len() as u64);
        let mut copy = data.clone();
        let mut flipped = Vec::with_capacity(flips_per_copy);
        for i in 0..copies {
            flipped.clear();
            for _ in 0..flips_per_copy {
                let r = rng.next();
                let at = (r >> 3) as usize % data.len();
                copy[at] ^= 1 << (r & 7);
                flipped.push(at);
            }
            exercise(&copy, i % TEXT_EVERY == 0);
            for &at in &flipped {
                copy[at] = data[at];
            }
        }
        eprintln!(
            "{name}: {} bytes, {copies} copies × {flips_per_copy} flips in {:.1?}",
            data.len(),
            start.elapsed()
        );
    }
}

#[test]
fn real_traces_round_trip_through_text() {
    for (name, data) in real_traces("real_traces_round_trip_through_text") {
        let intact_events = exercise(&data, true);
        let text = text::binary_to_text(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
        let again = text::text_to_binary(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(text::binary_to_text(&again).unwrap(), text, "{name}");
        // The runtime pads batch sizes to 10 bytes and the text form writes minimal
        // uvarints: only batch headers may differ, every batch and its body are the same.
        let (_, header) = read_header(&data).unwrap();
        let ours: Vec<_> = v2::Batches::new(&data, header)
            .map(|r| strip_offsets(r.unwrap()))
            .collect();
        let theirs: Vec<_> = v2::Batches::new(&again, header)
            .map(|r| strip_offsets(r.unwrap()))
            .collect();
        assert_eq!(ours, theirs, "{name}");
        assert_eq!(exercise(&again, true), intact_events, "{name}");
        eprintln!(
            "{name}: {} bytes, {} records, {intact_events} events, {} bytes re-encoded",
            data.len(),
            text.lines().count() - 1,
            again.len()
        );
    }
}

/// A batch without its position in the file.
fn strip_offsets(rec: Record<'_>) -> Option<(u64, u64, u64, u8, &[u8])> {
    match rec {
        Record::Batch(b) => Some((b.generation, b.m, b.time, b.experiment, b.body)),
        Record::EndOfGeneration(_) => None,
    }
}

#[test]
fn go_prints_the_self_made_trace_as_we_do() {
    let test = "go_prints_the_self_made_trace_as_we_do";
    let (Some(goroot), Some((name, data))) = (
        goroscope_testkit::require_goroot(test),
        self_made_trace(test),
    ) else {
        return;
    };
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}.trace", std::process::id()));
    std::fs::write(&path, &data).unwrap();
    let out = Command::new(goroscope_testkit::go_command(&goroot))
        .args(["tool", "trace", "-d=wire"])
        .arg(&path)
        .env("GOROOT", &goroot)
        .env("GOTOOLCHAIN", "local")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = text::binary_to_text(&data).unwrap();
    let (header, body) = ours.split_once('\n').unwrap();
    assert_eq!(header, "Trace Go1.26");
    assert!(
        body == String::from_utf8(out.stdout).unwrap(),
        "{name}: -d=wire differs"
    );
}
