//! Whole-trace tests on small hand-written traces, one per record kind and ordering rule.

use super::*;
use crate::uvarint;

/// Writes v1 records.
struct Enc {
    out: Vec<u8>,
}

impl Enc {
    fn new(version: Version) -> Self {
        Self {
            out: version.header(),
        }
    }

    fn vals(&mut self, values: &[u64]) {
        for &v in values {
            uvarint::write(&mut self.out, v);
        }
    }

    fn batch(mut self, pid: i64, ticks: u64) -> Self {
        self.out.push(0x41);
        self.vals(&[pid as u64, ticks]);
        self
    }

    /// An event with `values` (`dt` first for timed events): inline when there are at most
    /// three values, length-prefixed otherwise.
    fn ev(mut self, ty: EventType, values: &[u64]) -> Self {
        if values.len() <= 3 && !values.is_empty() {
            self.out.push(ty.0 | ((values.len() as u8 - 1) << 6));
            self.vals(values);
        } else {
            self.out.push(ty.0 | 0xc0);
            let mut block = Vec::new();
            for &v in values {
                uvarint::write(&mut block, v);
            }
            uvarint::write(&mut self.out, block.len() as u64);
            self.out.extend_from_slice(&block);
        }
        self
    }

    fn string(mut self, id: u64, s: &str) -> Self {
        self.out.push(EventType::STRING.0);
        self.vals(&[id, s.len() as u64]);
        self.out.extend_from_slice(s.as_bytes());
        self
    }

    fn user_log(mut self, dt: u64, task: u64, key: u64, message: &str) -> Self {
        self = self.ev(EventType::USER_LOG, &[dt, task, key, 0]);
        self.vals(&[message.len() as u64]);
        self.out.extend_from_slice(message.as_bytes());
        self
    }

    /// Ticks per second, so that one tick is one nanosecond.
    fn freq(self) -> Self {
        self.ev(EventType::FREQUENCY, &[1_000_000_000])
    }

    fn done(self) -> Vec<u8> {
        self.out
    }
}

fn message(err: &Error) -> &str {
    match &err.kind {
        ErrorKind::V1(m) => m,
        other => panic!("not a v1 error: {other:?}"),
    }
}

fn types(trace: &Trace<'_>) -> Vec<(i64, EventType, i32, u64)> {
    trace
        .events
        .iter()
        .map(|e| (e.ts, e.ty, e.p, e.g))
        .collect()
}

/// P 0 starts, creates goroutine 5 and stops it from running: the prelude of most tests.
fn prelude(version: Version) -> Enc {
    Enc::new(version)
        .batch(0, 1000)
        .freq()
        .ev(EventType::PROC_START, &[0, 7])
        .ev(EventType::GO_CREATE, &[10, 5, 0, 0])
}

#[test]
fn a_minimal_trace() {
    let data = prelude(Version::GO121).done();
    let trace = parse(&data).unwrap();
    assert_eq!(trace.version, Version::GO121);
    assert_eq!(trace.ticks_per_sec, 1_000_000_000);
    assert_eq!(
        types(&trace),
        [
            (0, EventType::PROC_START, 0, 0),
            (10, EventType::GO_CREATE, 0, 0)
        ]
    );
    assert_eq!(trace.events[0].args[0], 7);
    assert_eq!(trace.events[1].args[..2], [5, 0]);
    // Offsets point at the records: header 16, batch header 4, frequency 6.
    assert_eq!(trace.events[0].offset, 26);
}

#[test]
fn batches_of_two_ps_merge_by_goroutine_sequence() {
    // P 1's batch comes first in the file and starts goroutine 5, which P 0 creates: the
    // start must wait for the creation.
    let mut data = Enc::new(Version::GO121)
        .batch(1, 1000)
        .ev(EventType::PROC_START, &[5, 8])
        .ev(EventType::GO_START, &[10, 5, 1])
        .ev(EventType::GO_END, &[1])
        .done();
    data.extend_from_slice(&prelude(Version::GO121).done()[16..]);
    let trace = parse(&data).unwrap();
    assert_eq!(
        types(&trace),
        [
            (0, EventType::PROC_START, 0, 0),
            (5, EventType::PROC_START, 1, 0),
            (10, EventType::GO_CREATE, 0, 0),
            (15, EventType::GO_START, 1, 5),
            (16, EventType::GO_END, 1, 5),
        ]
    );
}

#[test]
fn local_events_are_renamed() {
    let data = prelude(Version::GO121)
        .ev(EventType::GO_START_LOCAL, &[1, 5])
        .ev(EventType::GO_BLOCK, &[1, 0])
        .ev(EventType::GO_UNBLOCK_LOCAL, &[1, 5, 0])
        .done();
    let trace = parse(&data).unwrap();
    let tys: Vec<_> = trace.events.iter().map(|e| e.ty).collect();
    assert_eq!(
        tys[2..],
        [
            EventType::GO_START,
            EventType::GO_BLOCK,
            EventType::GO_UNBLOCK
        ]
    );
}

#[test]
fn timestamps_that_contradict_the_order_fail() {
    let mut data = Enc::new(Version::GO121)
        .batch(1, 1000)
        .ev(EventType::PROC_START, &[1, 8])
        .ev(EventType::GO_START, &[1, 5, 1])
        .done();
    data.extend_from_slice(&prelude(Version::GO121).done()[16..]);
    let err = parse(&data).unwrap_err();
    assert!(is_time_order(&err), "{err}");
    assert_eq!(message(&err), TIME_ORDER);
}

#[test]
fn an_impossible_order_fails() {
    // Goroutine 5 starts with sequence 2, which nothing ever reaches.
    let data = prelude(Version::GO121)
        .ev(EventType::GO_START, &[1, 5, 2])
        .done();
    let err = parse(&data).unwrap_err();
    assert_eq!(message(&err), "no consistent ordering of events possible");
    assert_eq!(err.offset, 35, "the stuck event");
}

#[test]
fn ticks_become_nanoseconds_as_go_computes_them() {
    // 3 ticks per ns: Go multiplies by 1e9/3e9 in floating point and truncates.
    let data = Enc::new(Version::GO121)
        .batch(0, 1000)
        .ev(EventType::FREQUENCY, &[3_000_000_000])
        .ev(EventType::PROC_START, &[0, 0])
        .ev(EventType::HEAP_ALLOC, &[3, 1])
        .ev(EventType::HEAP_ALLOC, &[2, 1])
        .ev(EventType::HEAP_ALLOC, &[1, 1])
        .done();
    let trace = parse(&data).unwrap();
    let ts: Vec<_> = trace.events.iter().map(|e| e.ts).collect();
    let expected: Vec<i64> = [0i64, 3, 5, 6]
        .iter()
        .map(|&t| (t as f64 * (1e9 / 3e9)) as i64)
        .collect();
    assert_eq!(ts, expected);
    assert_eq!(ts, [0, 1, 1, 2]);
}

#[test]
fn frequency_must_be_there_and_positive() {
    let data = Enc::new(Version::GO121)
        .batch(0, 0)
        .ev(EventType::PROC_START, &[0, 0])
        .done();
    assert_eq!(message(&parse(&data).unwrap_err()), "no EvFrequency event");
    let data = Enc::new(Version::GO121)
        .batch(0, 0)
        .ev(EventType::FREQUENCY, &[0])
        .done();
    assert!(is_time_order(&parse(&data).unwrap_err()));
    let empty = Version::GO121.header();
    assert_eq!(message(&parse(&empty).unwrap_err()), "no EvFrequency event");
}

#[test]
fn strings_and_stacks() {
    let data = prelude(Version::GO121)
        .string(1, "main.main")
        .string(2, "main.go")
        .string(3, "main.f")
        // Stack 9: two frames, innermost first.
        .ev(EventType::STACK, &[9, 2, 0x20, 3, 2, 14, 0x10, 1, 2, 7])
        // Stack 4 names PC 0x10 again with other data: the first frame wins.
        .ev(EventType::STACK, &[4, 1, 0x10, 3, 2, 99])
        // Stacks without frames, and stack 0, are not kept.
        .ev(EventType::STACK, &[6, 0])
        .ev(EventType::STACK, &[0, 1, 0x30, 1, 2, 1])
        // IDs are truncated to 32 bits.
        .ev(EventType::STACK, &[(1 << 32) | 8, 1, 0x40, 1, 2, 5])
        .ev(EventType::GO_START, &[1, 5, 1])
        .ev(EventType::GO_SCHED, &[1, 9])
        .ev(EventType::GO_START, &[1, 5, 2])
        .ev(EventType::GO_SCHED, &[1, 6])
        .done();
    let trace = parse(&data).unwrap();
    assert_eq!(trace.strings.get(1), Some(&b"main.main"[..]));
    assert_eq!(trace.strings.len(), 3);
    assert_eq!(trace.stacks.get(9), Some(&[0x20, 0x10][..]));
    assert_eq!(trace.stacks.get(4), Some(&[0x10][..]));
    assert_eq!(trace.stacks.get(8), Some(&[0x40][..]));
    assert_eq!(trace.stacks.get(6), None);
    assert_eq!(trace.stacks.len(), 3);
    let f = trace.frames.get(0x10).unwrap();
    assert_eq!((f.func, f.file, f.line), (1, 2, 7));
    assert_eq!(trace.frames.len(), 3);
    let sched: Vec<u32> = trace
        .events
        .iter()
        .filter(|e| e.ty == EventType::GO_SCHED)
        .map(|e| e.stack)
        .collect();
    assert_eq!(sched, [9, 0], "a stack without frames becomes 0");
}

#[test]
fn stack_records_are_checked_as_go_does() {
    let cases: [(&[u64], &str); 3] = [
        (
            &[9],
            "EvStack has wrong number of arguments: want at least 2, got 1",
        ),
        (&[9, 1001], "EvStack has bad number of frames: 1001"),
        (
            &[9, 2, 1, 1, 1, 1],
            "EvStack has wrong number of arguments: want 10, got 6",
        ),
    ];
    for (values, want) in cases {
        let data = prelude(Version::GO121).ev(EventType::STACK, values).done();
        let err = parse(&data).unwrap_err();
        assert_eq!(message(&err), want);
        assert_eq!(err.batch, Some(16));
    }
}

#[test]
fn duplicate_strings_fail() {
    let data = prelude(Version::GO121).string(1, "a").string(1, "b").done();
    assert_eq!(
        message(&parse(&data).unwrap_err()),
        "string has duplicate id 1"
    );
}

#[test]
fn events_with_the_wrong_argument_count_fail() {
    let data = prelude(Version::GO121)
        .ev(EventType::GO_START, &[1, 5])
        .done();
    assert_eq!(
        message(&parse(&data).unwrap_err()),
        "GoStart has wrong number of arguments: want 3, got 2"
    );
}

#[test]
fn user_log_messages_are_interned() {
    let data = prelude(Version::GO121)
        .string(1, "key")
        .user_log(1, 0, 1, "hello")
        .user_log(1, 0, 1, "world")
        .user_log(1, 0, 1, "hello")
        .done();
    let trace = parse(&data).unwrap();
    assert_eq!(trace.inline_strings, [&b"hello"[..], b"world"]);
    let logs: Vec<_> = trace
        .events
        .iter()
        .filter(|e| e.ty == EventType::USER_LOG)
        .map(|e| (e.args[0], e.args[1], e.args[2]))
        .collect();
    assert_eq!(logs, [(0, 1, 0), (0, 1, 1), (0, 1, 0)]);
}

#[test]
fn cpu_samples_are_sorted_into_the_stream() {
    let data = prelude(Version::GO119)
        .ev(EventType::HEAP_ALLOC, &[100, 1])
        // Samples carry their real time, P and goroutine; written out of order.
        .ev(EventType::CPU_SAMPLE, &[1, 1050, 0, 5, 0])
        .ev(EventType::CPU_SAMPLE, &[1, 1020, u64::MAX, 0, 0])
        .done();
    let trace = parse(&data).unwrap();
    assert_eq!(
        types(&trace),
        [
            (0, EventType::PROC_START, 0, 0),
            (10, EventType::GO_CREATE, 0, 0),
            (20, EventType::CPU_SAMPLE, -1, 0),
            (50, EventType::CPU_SAMPLE, 0, 5),
            (110, EventType::HEAP_ALLOC, 0, 0),
        ]
    );
    assert_eq!(trace.cpu_samples().count(), 2);
    assert_eq!(trace.events[3].args, [0, 0, 5]);

    // Go 1.11 traces have no CPU samples.
    let data = prelude(Version::GO111)
        .ev(EventType::CPU_SAMPLE, &[1, 1050, 0, 5, 0])
        .done();
    assert_eq!(message(&parse(&data).unwrap_err()), "unknown event type 49");
    // Samples must be length-prefixed with exactly five values.
    let data = prelude(Version::GO119)
        .ev(EventType::CPU_SAMPLE, &[1, 1050, 0])
        .done();
    assert_eq!(
        message(&parse(&data).unwrap_err()),
        "CPU sample has wrong number of arguments: want 5, got 0"
    );
}

#[test]
fn syscall_exits_get_their_real_time_and_fake_p() {
    let data = prelude(Version::GO121)
        .ev(EventType::GO_START, &[1, 5, 1])
        .ev(EventType::GO_SYSCALL, &[1, 0])
        .ev(EventType::GO_SYS_BLOCK, &[1])
        .ev(EventType::HEAP_ALLOC, &[10, 1])
        // Emitted at 1034; the syscall really returned at tick 1030.
        .ev(EventType::GO_SYS_EXIT, &[10, 5, 2, 1030])
        .done();
    let trace = parse(&data).unwrap();
    let tail: Vec<_> = types(&trace)[2..].to_vec();
    assert_eq!(
        tail,
        [
            (11, EventType::GO_START, 0, 5),
            (12, EventType::GO_SYSCALL, 0, 5),
            (13, EventType::GO_SYS_BLOCK, 0, 5),
            (23, EventType::HEAP_ALLOC, 0, 0),
            (30, EventType::GO_SYS_EXIT, SYSCALL_P, 5),
        ]
    );
    // An exit before its block is a time-order error.
    let data = prelude(Version::GO121)
        .ev(EventType::GO_START, &[1, 5, 1])
        .ev(EventType::GO_SYSCALL, &[1, 0])
        .ev(EventType::GO_SYS_BLOCK, &[1])
        .ev(EventType::GO_SYS_EXIT, &[10, 5, 2, 1005])
        .done();
    assert!(is_time_order(&parse(&data).unwrap_err()));
}

#[test]
fn timer_goroutines_and_gc_use_fake_ps() {
    let data = prelude(Version::GO121)
        .ev(EventType::TIMER_GOROUTINE, &[5])
        .ev(EventType::GO_START, &[1, 5, 1])
        .ev(EventType::GO_CREATE, &[1, 6, 0, 0])
        .ev(EventType::GC_START, &[1, 0, 0])
        .ev(EventType::GO_SCHED, &[1, 0])
        .ev(EventType::GO_START, &[1, 6, 1])
        .ev(EventType::GO_BLOCK, &[1, 0])
        .ev(EventType::GC_DONE, &[1])
        .ev(EventType::GO_START, &[1, 5, 2])
        .ev(EventType::GO_UNBLOCK, &[1, 6, 2, 0])
        .done();
    let trace = parse(&data).unwrap();
    assert_eq!(trace.timer_goroutines, [5]);
    let p_of = |ty| {
        trace
            .events
            .iter()
            .find(|e| e.ty == ty)
            .map(|e| e.p)
            .unwrap()
    };
    assert_eq!(p_of(EventType::GC_START), GC_P);
    assert_eq!(p_of(EventType::GO_UNBLOCK), TIMER_P);
}

#[test]
fn stw_reasons() {
    let data = prelude(Version::GO121)
        .ev(EventType::STW_START, &[1, 9])
        .ev(EventType::STW_DONE, &[1])
        .done();
    let trace = parse(&data).unwrap();
    let stw = trace
        .events
        .iter()
        .find(|e| e.ty == EventType::STW_START)
        .unwrap();
    assert_eq!(trace.stw_reason(stw.args[0]), StwReason::Gomaxprocs);
}

#[test]
fn events_before_the_first_batch_fail() {
    let mut data = Version::GO121.header();
    data.extend_from_slice(&[0x06, 0]);
    let err = parse(&data).unwrap_err();
    assert_eq!(
        message(&err),
        "read event 6 with current P of 0, but P has no batches yet"
    );
    assert_eq!(err.offset, 16);
}

#[test]
fn errors_inside_batches_name_the_batch() {
    let mut data = prelude(Version::GO121).done();
    let second = data.len() as u64;
    data.extend_from_slice(&Enc::new(Version::GO121).batch(1, 0).done()[16..]);
    data.extend_from_slice(&[0x45, 0x80]);
    let err = parse(&data).unwrap_err();
    assert_eq!(
        message(&err),
        "failed to read event 5 argument: malformatted base-128 varint"
    );
    assert_eq!(err.batch, Some(second));
    assert_eq!(err.offset, data.len() as u64 - 1);
}

#[test]
fn headers_other_than_v1_are_refused() {
    assert_eq!(parse(b"").unwrap_err().kind, ErrorKind::NotATrace);
    let err = parse(&Version::GO122.header()).unwrap_err();
    assert_eq!(message(&err), "go 1.22 trace is not in the v1 format");
}

/// Go's `TestCorruptedInputs`: inputs that once crashed Go's parser, read as version 5.
#[test]
fn go_corrupted_inputs_fail() {
    let inputs: [&[u8]; 8] = [
        b"gotrace\x00\x020",
        b"gotrace\x00Q00\x020",
        b"gotrace\x00T00\x020",
        b"gotrace\x00\xc3\x0200",
        b"go 1.5 trace\x00\x00\x00\x00\x020",
        b"go 1.5 trace\x00\x00\x00\x00Q00\x020",
        b"go 1.5 trace\x00\x00\x00\x00T00\x020",
        b"go 1.5 trace\x00\x00\x00\x00\xc3\x0200",
    ];
    for data in inputs {
        let result = parser::Parser::new(data, 0, 5).parse(Version::GO111);
        assert!(result.is_err(), "{data:?}");
        assert!(parse(data).is_err(), "{data:?}");
    }
}

/// Go's fuzz corpus entry `4055b17cae1a3443`: a `FutileWakeup` (type 36), which old runtimes
/// wrote. The parser keeps it; it is Go's conversion to the v2 model that fails on it
/// ("unexpected event type 36").
#[test]
fn futile_wakeups_parse() {
    let data = b"go 1.11 trace\x00\x00\x00A00\x020$0";
    let trace = parse(data).unwrap();
    assert_eq!(types(&trace), [(0, EventType::FUTILE_WAKEUP, 48, 0)]);
    assert_eq!(trace.ticks_per_sec, 48);
}
