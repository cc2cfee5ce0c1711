//! The bundled Go 1.21.13 trace (`fixtures/traces/mixed-go1.21.13.trace`) against what Go
//! 1.27.3 makes of it (`fixtures/reference/mixed-go1.21.13/parsed.txt.gz`, the output of
//! `go tool trace -d=parsed`).
//!
//! `-d=parsed` prints the trace after Go's conversion to the v2 event model, which this crate
//! does not do; but each v1 event type maps to a known kind of converted event, so the counts
//! must agree, as must the user log records and their times.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use goroscope_format::quote::quote;
use goroscope_format::v1::{self, EventType, Trace};

fn fixture() -> Option<(PathBuf, PathBuf)> {
    let trace = goroscope_testkit::fixtures_dir().join("traces/mixed-go1.21.13.trace");
    let parsed = goroscope_testkit::reference_dir(&trace).join("parsed.txt.gz");
    if trace.exists() && parsed.exists() {
        Some((trace, parsed))
    } else {
        eprintln!("skipped: no mixed-go1.21.13 fixture");
        None
    }
}

fn gunzip(path: &Path) -> Option<String> {
    let out = Command::new("gzip").arg("-dc").arg(path).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).ok())
        .flatten()
}

/// The value of `key=` in an event line (up to the next space; quoted values whole).
fn field<'l>(line: &'l str, key: &str) -> Option<&'l str> {
    let start = line.find(&format!(" {key}="))? + key.len() + 2;
    let rest = &line[start..];
    if rest.starts_with('"') {
        // A Go-quoted string: find the closing quote, skipping escapes.
        let bytes = rest.as_bytes();
        let mut i = 1;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'"' => return Some(&rest[..=i]),
                _ => i += 1,
            }
        }
        None
    } else {
        Some(rest.split(' ').next().unwrap_or(rest))
    }
}

/// Counts of the converted events, by a key naming what they are.
fn go_counts(parsed: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for line in parsed.lines().filter(|l| l.starts_with("M=")) {
        let kind = line.split(' ').nth(3).unwrap_or_default();
        let key = match kind {
            "StateTransition" => {
                let t = line
                    .split(' ')
                    .find(|w| w.contains("->"))
                    .unwrap_or_default();
                let what = if line.contains(" GoID=") { "G" } else { "P" };
                if t.starts_with("Undetermined->") {
                    format!("{what} Undetermined->")
                } else {
                    format!("{what} {t}")
                }
            }
            "RangeBegin" | "RangeEnd" | "Metric" => {
                format!("{kind} {}", field(line, "Name").unwrap_or_default())
            }
            _ => kind.to_owned(),
        };
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

/// The same counts, predicted from the v1 events by Go's conversion rules.
fn our_counts(trace: &Trace<'_>) -> BTreeMap<String, usize> {
    let n = |ty: EventType| trace.events.iter().filter(|e| e.ty == ty).count();
    let region = |mode| {
        trace
            .events
            .iter()
            .filter(|e| e.ty == EventType::USER_REGION && e.args[1] == mode)
            .count()
    };
    let blocks = [
        EventType::GO_STOP,
        EventType::GO_SLEEP,
        EventType::GO_BLOCK,
        EventType::GO_BLOCK_SEND,
        EventType::GO_BLOCK_RECV,
        EventType::GO_BLOCK_SELECT,
        EventType::GO_BLOCK_SYNC,
        EventType::GO_BLOCK_COND,
        EventType::GO_BLOCK_NET,
        EventType::GO_BLOCK_GC,
    ];
    // Before the first GOMAXPROCS event the converter turns creations and starts into
    // status events ("Undetermined->"); the first start or stop of each P too.
    let first_procs = trace
        .events
        .iter()
        .position(|e| e.ty == EventType::GOMAXPROCS)
        .unwrap_or(trace.events.len());
    let pre = &trace.events[..first_procs];
    let pre_starts = pre.iter().filter(|e| e.ty == EventType::GO_START).count();
    let pre_creates = pre.iter().filter(|e| e.ty == EventType::GO_CREATE).count();
    // Goroutines created before it that get no other status event become Runnable.
    let mut created: std::collections::BTreeSet<u64> = std::collections::BTreeSet::new();
    for e in pre {
        match e.ty {
            EventType::GO_CREATE => {
                created.insert(e.args[0]);
            }
            EventType::GO_WAITING | EventType::GO_IN_SYSCALL | EventType::GO_START => {
                created.remove(&e.args[0]);
            }
            _ => {}
        }
    }
    let statuses = n(EventType::GO_WAITING) + n(EventType::GO_IN_SYSCALL) + pre_starts;
    let mut seen_p = std::collections::BTreeSet::new();
    let (mut p_status, mut p_status_idle) = (0, 0);
    for e in &trace.events {
        if matches!(e.ty, EventType::PROC_START | EventType::PROC_STOP) && seen_p.insert(e.p) {
            p_status += 1;
            p_status_idle += usize::from(e.ty == EventType::PROC_STOP);
        }
    }
    let syscalls = n(EventType::GO_SYSCALL);
    let blocked_syscalls = n(EventType::GO_SYS_BLOCK);

    let mut counts = BTreeMap::new();
    let mut put = |key: &str, value: usize| {
        if value > 0 {
            counts.insert(key.to_owned(), value);
        }
    };
    put("Sync", 2);
    put("Log", n(EventType::USER_LOG));
    put("Label", n(EventType::GO_START_LABEL));
    put("TaskBegin", n(EventType::USER_TASK_CREATE));
    put("TaskEnd", n(EventType::USER_TASK_END));
    put("RegionBegin", region(0));
    put("RegionEnd", region(1));
    put("StackSample", n(EventType::CPU_SAMPLE));
    put(
        "Metric \"/sched/gomaxprocs:threads\"",
        n(EventType::GOMAXPROCS) - 1,
    );
    put("Metric \"/gc/heap/goal:bytes\"", n(EventType::HEAP_GOAL));
    put(
        "Metric \"/memory/classes/heap/objects:bytes\"",
        n(EventType::HEAP_ALLOC),
    );
    put(
        "RangeBegin \"GC concurrent mark phase\"",
        n(EventType::GC_START),
    );
    put(
        "RangeEnd \"GC concurrent mark phase\"",
        n(EventType::GC_DONE),
    );
    put(
        "RangeBegin \"GC incremental sweep\"",
        n(EventType::GC_SWEEP_START),
    );
    put(
        "RangeEnd \"GC incremental sweep\"",
        n(EventType::GC_SWEEP_DONE),
    );
    put(
        "RangeBegin \"GC mark assist\"",
        n(EventType::GC_MARK_ASSIST_START),
    );
    put(
        "RangeEnd \"GC mark assist\"",
        n(EventType::GC_MARK_ASSIST_DONE),
    );
    let mut stw: BTreeMap<String, usize> = BTreeMap::new();
    for e in trace.events.iter().filter(|e| e.ty == EventType::STW_START) {
        let name = format!("stop-the-world ({})", trace.stw_reason(e.args[0]).as_str());
        *stw.entry(name).or_insert(0) += 1;
    }
    for (name, count) in stw {
        put(&format!("RangeBegin \"{name}\""), count);
        put(&format!("RangeEnd \"{name}\""), count);
    }
    put(
        "G NotExist->Runnable",
        n(EventType::GO_CREATE) - pre_creates,
    );
    put("G Undetermined->", statuses + created.len());
    put(
        "G Runnable->Running",
        n(EventType::GO_START) + n(EventType::GO_START_LABEL) - pre_starts,
    );
    put(
        "G Running->Runnable",
        n(EventType::GO_SCHED) + n(EventType::GO_PREEMPT),
    );
    put(
        "G Running->Waiting",
        blocks.iter().map(|&t| n(t)).sum::<usize>(),
    );
    put("G Running->NotExist", n(EventType::GO_END));
    put("G Waiting->Runnable", n(EventType::GO_UNBLOCK));
    put("G Running->Syscall", syscalls);
    put("G Syscall->Running", syscalls - blocked_syscalls);
    put("G Syscall->Runnable", n(EventType::GO_SYS_EXIT));
    put("P Undetermined->", p_status);
    put(
        "P Idle->Running",
        n(EventType::PROC_START) - (p_status - p_status_idle),
    );
    put("P Running->Idle", n(EventType::PROC_STOP) - p_status_idle);
    counts
}

#[test]
fn v1_fixture_agrees_with_go() {
    let Some((path, parsed)) = fixture() else {
        return;
    };
    let Some(parsed) = gunzip(&parsed) else {
        eprintln!("skipped: gzip is not available");
        return;
    };
    let data = std::fs::read(&path).unwrap();
    let trace = v1::parse(&data).unwrap();

    assert_eq!(trace.version.minor(), 21);
    assert!(trace.events.windows(2).all(|w| w[0].ts <= w[1].ts));
    assert_eq!(trace.events.first().map(|e| e.ts), Some(0));
    assert_eq!(our_counts(&trace), go_counts(&parsed));

    // The user log records, in order, with their key, message and time. Go bumps equal
    // times by 1 ns, so the converted time may be a little later.
    let go_logs: Vec<(i64, String, String)> = parsed
        .lines()
        .filter(|l| l.starts_with("M=") && l.contains(" Log Time="))
        .map(|l| {
            (
                field(l, "Time").unwrap().parse().unwrap(),
                field(l, "Category").unwrap().to_owned(),
                field(l, "Message").unwrap().to_owned(),
            )
        })
        .collect();
    let our_logs: Vec<(i64, String, String)> = trace
        .events
        .iter()
        .filter(|e| e.ty == EventType::USER_LOG)
        .map(|e| {
            (
                e.ts,
                quote(trace.strings.get(e.args[1]).unwrap()),
                quote(trace.inline_strings[e.args[2] as usize]),
            )
        })
        .collect();
    assert_eq!(go_logs.len(), our_logs.len());
    for (go, ours) in go_logs.iter().zip(&our_logs) {
        assert_eq!((&go.1, &go.2), (&ours.1, &ours.2));
        assert!(
            (ours.0..ours.0 + 8).contains(&go.0),
            "log at {} became {}",
            ours.0,
            go.0
        );
    }

    // The final Sync comes 1 ns after the last converted event.
    let last_sync: i64 = parsed
        .lines()
        .rev()
        .find(|l| l.contains(" Sync Time="))
        .and_then(|l| field(l, "Time"))
        .unwrap()
        .parse()
        .unwrap();
    let last = trace.events.last().unwrap().ts;
    assert!(
        (last + 1..last + 16).contains(&last_sync),
        "last event {last}, final sync {last_sync}"
    );
}
