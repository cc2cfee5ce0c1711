//! Go's v1 test traces (`internal/trace/internal/tracev1/testdata`), with the expectations of
//! Go's `parser_test.go`: every `*_good` file parses and passes `checkTrace`, every
//! `*_unordered` file fails with "time stamps out of order", and no other suffix exists.
//!
//! Damaged copies of those traces and of the bundled 1.21 fixture must fail or parse, never
//! panic or hang. (`v1_go_oracle.rs` checks that they fail exactly as Go does.)

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use goroscope_format::v1::{self, EventType};

fn testdata(goroot: &Path) -> Vec<PathBuf> {
    let dir = goroot.join("src/internal/trace/internal/tracev1/testdata");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn v1_go_testdata_parses_as_in_go() {
    let Some(goroot) = goroscope_testkit::require_goroot("v1_go_testdata_parses_as_in_go") else {
        return;
    };
    let files = testdata(&goroot);
    assert!(files.len() >= 12, "Go's testdata went missing");
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(&path).unwrap();
        let result = v1::parse(&data);
        if name.ends_with("_good") {
            let trace = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!trace.events.is_empty(), "{name}");
            assert!(
                trace.events.windows(2).all(|w| w[0].ts <= w[1].ts),
                "{name}: not sorted"
            );
            // Go's checkTrace (which looks the STW kind up in the string table).
            if trace.version.minor() >= 21 {
                for ev in trace.events.iter().filter(|e| e.ty == EventType::STW_START) {
                    assert_ne!(
                        trace.strings.get(ev.args[0]),
                        Some(&b"unknown"[..]),
                        "{name}: unknown STW event"
                    );
                }
            }
        } else if name.ends_with("_unordered") {
            let err = result.err().unwrap_or_else(|| panic!("{name}: parsed"));
            assert!(v1::is_time_order(&err), "{name}: {err}");
        } else {
            panic!("unknown input file suffix: {name}");
        }
    }
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
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Parses `count` damaged copies of `data`: cut at random places (the header included),
/// single bits flipped, bytes overwritten. Returns how many still parsed.
fn damage(data: &[u8], count: usize, rng: &mut Rng) -> usize {
    let mut parsed = 0;
    for k in 0..count {
        let mut m = data.to_vec();
        match k % 3 {
            0 => m.truncate(rng.below(data.len())),
            1 => {
                let at = rng.below(data.len());
                m[at] ^= 1 << rng.below(8);
            }
            _ => {
                let at = rng.below(data.len());
                m[at] = rng.next() as u8;
            }
        }
        parsed += usize::from(v1::parse(&m).is_ok());
    }
    parsed
}

#[test]
fn v1_damaged_traces_never_panic_or_hang() {
    let mut inputs: Vec<PathBuf> = Vec::new();
    if let Some(goroot) = goroscope_testkit::require_goroot("v1_damaged_traces_never_panic") {
        inputs.extend(testdata(&goroot));
    }
    let fixture = goroscope_testkit::fixtures_dir().join("traces/mixed-go1.21.13.trace");
    if fixture.exists() {
        inputs.push(fixture);
    }
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let start = Instant::now();
        for path in inputs {
            let data = std::fs::read(&path).unwrap();
            // Big traces take a while to parse in a debug build; few copies of those.
            let count = if data.len() > 50_000 { 6 } else { 120 };
            let parsed = damage(&data, count, &mut rng);
            eprintln!(
                "{}: {parsed} of {count} damaged copies parse",
                path.display()
            );
            // Every prefix of the first batch, where the structure is densest.
            for len in 0..data.len().min(300) {
                let _ = v1::parse(&data[..len]);
            }
        }
        done.send(start.elapsed()).unwrap();
    });
    match finished.recv_timeout(Duration::from_secs(120)) {
        Ok(elapsed) => eprintln!("all damaged copies in {elapsed:?}"),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("parsing damaged traces hangs"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("parsing damaged traces panicked"),
    }
}

/// Records crafted to push the limits: huge lengths and counts must fail without big
/// allocations or long loops.
#[test]
fn v1_hostile_inputs_fail_fast() {
    let header = b"go 1.21 trace\0\0\0";
    let cases: [&[u8]; 6] = [
        // A string announcing 10^6 bytes that are not there.
        &[0x41, 0, 0, 0x25, 1, 0xc0, 0x84, 0x3d],
        // A length-prefixed event announcing 2048 bytes that are not there.
        &[0x41, 0, 0, 0xc4, 0x80, 0x10],
        // A stack announcing 1000 frames with two values.
        &[0x41, 0, 0, 0xc3, 3, 1, 0xe8, 0x07],
        // A user log message announcing 10^6 bytes.
        &[0x41, 0, 0, 0x02, 1, 0xf0, 2, 0, 0, 0xc0, 0x84, 0x3d],
        // A batch for the largest P, then nothing.
        &[0x41, 0xff, 0xff, 0xff, 0xff, 0x07, 0],
        // An overlong uvarint.
        &[
            0x41, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ],
    ];
    for body in cases {
        let mut data = header.to_vec();
        data.extend_from_slice(body);
        let start = Instant::now();
        assert!(v1::parse(&data).is_err(), "{body:?}");
        assert!(start.elapsed() < Duration::from_secs(1), "{body:?}");
    }
}

fn uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Many Ps whose only event can never be merged, and many events that can: Go's merge looks
/// at every stuck P after each merged event, which is quadratic (this trace of 220 kB keeps
/// Go busy for seconds); ours must not be.
#[test]
fn v1_many_stuck_ps_fail_fast() {
    const PS: u64 = 20_000;
    let mut data = b"go 1.21 trace\0\0\0".to_vec();
    // P 0: the frequency and PS heap events.
    data.extend_from_slice(&[0x41, 0, 1, 0x02]);
    uvarint(&mut data, 1_000_000_000);
    for _ in 0..PS {
        data.extend_from_slice(&[0x40 | 33, 1, 7]);
    }
    // Ps 1..=PS: a start of goroutine 1 with a sequence number that never comes.
    for pid in 1..=PS {
        data.push(0x41);
        uvarint(&mut data, pid);
        data.extend_from_slice(&[1, 0x80 | 14, 1, 1, 5]);
    }
    let start = Instant::now();
    let err = v1::parse(&data).unwrap_err();
    assert_eq!(
        err.to_string().split(" at ").next(),
        Some("no consistent ordering of events possible")
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}
