//! Go's pprof rules and quirks (`cmd/trace/pprof.go`), one by one, on hand-built event
//! sequences with known answers; the profile builder; the released-by profile.

use goroscope_analysis::pprof::{
    Frame, GoProfileKind, GoProfiler, GoProfiles, MAX_STACK, NO_STACK_FRAME, ProfileBuilder,
    RUNTIME_FRAME, STILL_BLOCKED_FRAME, Sample, released_by,
};
use goroscope_format::v2::{EventType as T, Frame as WireFrame, StackTable, StringTable};
use goroscope_trace::event::{Ctx, GenTables, GoId, NO_GOROUTINE, SYNC, Time};
use goroscope_trace::{Event, Tables};

// Strings.
const CHAN_RECV: u64 = 1;
const NETWORK: u64 = 2;
const SLEEP: u64 = 3;
const SELECT: u64 = 4;
const SYNCTEST: u64 = 5;
const FOREVER: u64 = 6;
const PREEMPTED: u64 = 7;
const SYNC_MUTEX: u64 = 8;
const FILE: u64 = 20;

// Stacks: 1 = main.a, 2 = main.b, 3 = main.c; 4 has the same PCs as 1 (another ID, as in
// another generation); 5 and 6 are 130 frames deep and differ only past frame 128.
const A: u64 = 1;
const B: u64 = 2;
const C: u64 = 3;
const A_AGAIN: u64 = 4;
const DEEP1: u64 = 5;
const DEEP2: u64 = 6;

fn tables() -> Tables<'static> {
    let strings: Vec<(u64, &[u8])> = vec![
        (CHAN_RECV, b"chan receive"),
        (NETWORK, b"network"),
        (SLEEP, b"sleep"),
        (SELECT, b"select"),
        (SYNCTEST, b"synctest"),
        (FOREVER, b"forever"),
        (PREEMPTED, b"preempted"),
        (SYNC_MUTEX, b"sync.Mutex.Lock"),
        (10, b"main.a"),
        (11, b"main.b"),
        (12, b"main.c"),
        (13, b"main.main"),
        (14, b"main.deep"),
        (FILE, b"main.go"),
    ];
    let frame = |pc, func, line| WireFrame {
        pc,
        func,
        file: FILE,
        line,
    };
    let deep = |last: u64| {
        let mut f: Vec<WireFrame> = (0..128).map(|i| frame(0x1000 + i, 14, i)).collect();
        f.push(frame(last, 13, 1));
        f.push(frame(last + 1, 13, 2));
        f
    };
    let stacks = StackTable::from_stacks([
        (A, vec![frame(0x10, 10, 1), frame(0x100, 13, 9)]),
        (B, vec![frame(0x20, 11, 2), frame(0x100, 13, 9)]),
        (C, vec![frame(0x30, 12, 3)]),
        (A_AGAIN, vec![frame(0x10, 10, 1), frame(0x100, 13, 9)]),
        (DEEP1, deep(0x5000)),
        (DEEP2, deep(0x6000)),
    ])
    .expect("stacks");
    Tables {
        gens: vec![GenTables {
            generation: 1,
            ns_per_tick: 1.0,
            strings: StringTable::from_entries(strings).expect("strings"),
            stacks,
            clock: None,
            experimental: Vec::new(),
        }],
        extra: vec![Vec::new()],
    }
}

/// An event at `time` on P 0 with goroutine `g` running.
fn ev(ty: T, time: Time, g: GoId, args: &[u64]) -> Event {
    let mut a = [0; 4];
    a[..args.len()].copy_from_slice(args);
    Event {
        ty,
        time,
        ctx: Ctx { m: 1, p: 0, g },
        args: a,
        table: 0,
    }
}

fn sync(time: Time) -> Event {
    Event {
        ty: SYNC,
        time,
        ctx: Ctx::NONE,
        args: [1, 0, 0, 0],
        table: 0,
    }
}

/// Wire statuses.
const RUNNABLE: u64 = 1;
const RUNNING: u64 = 2;
const SYSCALL: u64 = 3;
const WAITING: u64 = 4;

/// A GoStatus of `g`, first seen (from Undetermined).
fn status(time: Time, g: GoId, wire: u64) -> Event {
    ev(T::GO_STATUS, time, NO_GOROUTINE, &[g as u64, 1, wire])
}

/// A GoStatus of `g` at a later generation boundary (old state = new state).
fn status_again(time: Time, g: GoId, old: u64, wire: u64) -> Event {
    ev(
        T::GO_STATUS,
        time,
        NO_GOROUTINE,
        &[g as u64, 1, old << 32 | wire],
    )
}

fn create(time: Time, by: GoId, g: GoId, stack: u64) -> Event {
    ev(T::GO_CREATE, time, by, &[g as u64, 0, stack])
}

fn start(time: Time, g: GoId) -> Event {
    ev(T::GO_START, time, NO_GOROUTINE, &[g as u64, 1])
}

fn block(time: Time, g: GoId, reason: u64, stack: u64) -> Event {
    ev(T::GO_BLOCK, time, g, &[reason, stack])
}

fn stop(time: Time, g: GoId, stack: u64) -> Event {
    ev(T::GO_STOP, time, g, &[PREEMPTED, stack])
}

fn unblock(time: Time, by: GoId, g: GoId, stack: u64) -> Event {
    ev(T::GO_UNBLOCK, time, by, &[g as u64, 1, stack])
}

fn syscall(time: Time, g: GoId, stack: u64) -> Event {
    ev(T::GO_SYSCALL_BEGIN, time, g, &[1, stack])
}

fn syscall_end(time: Time, g: GoId) -> Event {
    ev(T::GO_SYSCALL_END, time, g, &[])
}

fn syscall_end_blocked(time: Time, g: GoId) -> Event {
    ev(T::GO_SYSCALL_END_BLOCKED, time, g, &[])
}

fn run(events: &[Event]) -> GoProfiles {
    let tables = tables();
    let mut p = GoProfiler::new();
    for e in events {
        p.event(e, &tables);
    }
    p.finish()
}

/// A profile as (leaf function or "-", count, delay) rows.
fn rows(profiles: &GoProfiles, kind: GoProfileKind) -> Vec<(String, u64, i64)> {
    profiles
        .get(kind)
        .samples
        .iter()
        .map(|s| {
            let leaf = s
                .stack
                .first()
                .map_or("-".to_owned(), |f| String::from_utf8_lossy(&f.func).into());
            (leaf, s.count, s.delay)
        })
        .collect()
}

fn row(leaf: &str, count: u64, delay: i64) -> (String, u64, i64) {
    (leaf.to_owned(), count, delay)
}

/// G1 runs from 10; it creates G2 at 20 (stack A); G2 first runs at 30.
fn prologue() -> Vec<Event> {
    vec![
        sync(1),
        status(10, 1, RUNNING),
        create(20, 1, 2, A),
        start(30, 2),
    ]
}

#[test]
fn the_first_scheduling_latency_never_counts() {
    let mut evs = prologue();
    evs.extend([
        // G2 is preempted at 40 (own stack B) and runs again at 45.
        stop(40, 2, B),
        start(45, 2),
        sync(100),
    ]);
    let p = run(&evs);
    // Creation (20) to first run (30) is before G2's StartTime: dropped. 40→45 counts, with
    // G2's own stack at the GoStop.
    assert_eq!(rows(&p, GoProfileKind::Sched), [row("main.b", 1, 5)]);
}

#[test]
fn sched_samples_carry_the_unblockers_stack() {
    let mut evs = prologue();
    evs.extend([
        block(40, 2, CHAN_RECV, B),
        // G1 (stack C) unblocks G2 at 50; G2 runs at 58.
        unblock(50, 1, 2, C),
        start(58, 2),
        sync(100),
    ]);
    let p = run(&evs);
    assert_eq!(rows(&p, GoProfileKind::Sched), [row("main.c", 1, 8)]);
    // The wait itself has the blocked goroutine's stack.
    assert_eq!(rows(&p, GoProfileKind::Sync), [row("main.b", 1, 10)]);
}

#[test]
fn reasons_are_matched_as_go_matches_them() {
    let mut evs = prologue();
    let mut t = 40;
    for reason in [CHAN_RECV, NETWORK, SLEEP, SELECT, SYNCTEST, SYNC_MUTEX] {
        evs.push(block(t, 2, reason, A));
        evs.push(unblock(t + 3, 1, 2, C));
        evs.push(start(t + 4, 2));
        t += 10;
    }
    evs.push(sync(200));
    let p = run(&evs);
    assert_eq!(rows(&p, GoProfileKind::Net), [row("main.a", 1, 3)]);
    // chan receive, select, synctest (contains "sync") and sync.Mutex.Lock; not sleep.
    assert_eq!(rows(&p, GoProfileKind::Sync), [row("main.a", 4, 12)]);
    assert_eq!(rows(&p, GoProfileKind::Sched), [row("main.c", 6, 6)]);
}

#[test]
fn a_status_in_the_same_state_does_not_restart_a_sample() {
    let mut evs = prologue();
    evs.extend([
        block(40, 2, CHAN_RECV, A),
        sync(50),
        // The next generation restates G2 as waiting: the sample goes on.
        status_again(51, 2, 4, WAITING),
        unblock(60, 1, 2, C),
        start(61, 2),
        sync(100),
    ]);
    let p = run(&evs);
    assert_eq!(rows(&p, GoProfileKind::Sync), [row("main.a", 1, 20)]);
}

#[test]
fn equal_pcs_merge_across_stack_ids_and_deep_stacks_are_cut_at_128() {
    let mut evs = prologue();
    evs.extend([
        syscall(40, 2, A),
        syscall_end(42, 2),
        syscall(50, 2, A_AGAIN),
        syscall_end(55, 2),
        syscall(60, 2, DEEP1),
        syscall_end(61, 2),
        syscall(70, 2, DEEP2),
        syscall_end(72, 2),
        sync(100),
    ]);
    let p = run(&evs);
    let samples = &p.syscall.samples;
    assert_eq!(samples.len(), 2, "{samples:?}");
    let deep = samples.iter().find(|s| s.stack.len() == MAX_STACK).unwrap();
    assert_eq!((deep.count, deep.delay), (2, 3));
    let a = samples.iter().find(|s| s.stack.len() == 2).unwrap();
    assert_eq!((a.count, a.delay), (2, 7));
}

#[test]
fn samples_after_the_last_sync_are_dropped() {
    let mut evs = prologue();
    evs.extend([
        stop(40, 2, B),
        start(45, 2),
        sync(50),
        // A damaged trace: these events came after the last Sync.
        stop(60, 2, C),
        start(70, 2),
    ]);
    let p = run(&evs);
    assert_eq!(rows(&p, GoProfileKind::Sched), [row("main.b", 1, 5)]);
}

#[test]
fn a_goroutine_that_never_runs_counts_from_zero() {
    let evs = [
        sync(1),
        status(10, 1, RUNNING),
        // G3 enters the trace in a syscall, and leaves it blocked without ever running:
        // its StartTime is 0, so the whole sample counts (no stack: a status).
        status(12, 3, SYSCALL),
        syscall_end_blocked(40, 3),
        sync(100),
    ];
    let p = run(&evs);
    assert_eq!(rows(&p, GoProfileKind::Syscall), [row("-", 1, 28)]);
    // And it waits for a P until the end: no sample, since the state never ended.
    assert!(p.sched.samples.is_empty());
}

#[test]
fn a_goroutine_that_runs_later_drops_its_samples_from_before() {
    let evs = [
        sync(1),
        status(10, 1, RUNNING),
        status(12, 3, SYSCALL),
        syscall_end_blocked(40, 3),
        // G3 first runs at 50: its StartTime is 50, after the syscall sample.
        start(50, 3),
        stop(60, 3, C),
        start(64, 3),
        sync(100),
    ];
    let p = run(&evs);
    assert!(p.syscall.samples.is_empty(), "{:?}", p.syscall);
    // 40→50 is before StartTime; 60→64 counts.
    assert_eq!(rows(&p, GoProfileKind::Sched), [row("main.c", 1, 4)]);
}

#[test]
fn a_sample_ending_at_start_time_is_dropped() {
    let evs = [
        sync(1),
        status(10, 1, RUNNING),
        // G4 is first seen in a syscall with a P (so running for the summary only after
        // the syscall returns).
        status(12, 4, SYSCALL),
        // Its syscall sample [12, 40] ends when it returns to running at 40, which is its
        // StartTime: overlap 0, dropped.
        syscall_end(40, 4),
        syscall(50, 4, A),
        syscall_end(55, 4),
        sync(100),
    ];
    let p = run(&evs);
    assert_eq!(rows(&p, GoProfileKind::Syscall), [row("main.a", 1, 5)]);
}

#[test]
fn a_goroutine_blocked_forever_ends_there() {
    let mut evs = prologue();
    evs.extend([
        stop(40, 2, B),
        start(45, 2),
        // `select {}`: EndTime 50. Not a sync sample (the reason is "forever").
        block(50, 2, FOREVER, C),
        sync(100),
    ]);
    let p = run(&evs);
    assert_eq!(rows(&p, GoProfileKind::Sched), [row("main.b", 1, 5)]);
    assert!(p.sync.samples.is_empty());
}

#[test]
fn a_syscall_ended_by_the_goroutines_exit_counts_up_to_the_exit() {
    let mut evs = prologue();
    evs.extend([
        syscall(40, 2, A),
        // The goroutine exits in the syscall at 47: EndTime 47 = the sample's end.
        ev(T::GO_DESTROY_SYSCALL, 47, 2, &[]),
        sync(100),
    ]);
    let p = run(&evs);
    assert_eq!(rows(&p, GoProfileKind::Syscall), [row("main.a", 1, 7)]);
}

#[test]
fn a_reused_goroutine_id_is_judged_by_its_last_summary() {
    let mut evs = prologue();
    evs.extend([
        syscall(40, 2, A),
        syscall_end(45, 2),
        ev(T::GO_DESTROY, 50, 2, &[]),
        // The same ID again, created in a syscall (as for a cgo callback), and run at 80:
        // the new summary's StartTime (80) is after every sample of the first one.
        ev(T::GO_CREATE_SYSCALL, 60, NO_GOROUTINE, &[2]),
        syscall_end_blocked(70, 2),
        start(80, 2),
        sync(100),
    ]);
    let p = run(&evs);
    assert!(p.syscall.samples.is_empty(), "{:?}", p.syscall);

    // If the new incarnation never runs, its StartTime is 0 and every sample of the ID
    // counts in full, the first incarnation's included.
    let mut evs = prologue();
    evs.extend([
        syscall(40, 2, A),
        syscall_end(45, 2),
        ev(T::GO_DESTROY, 50, 2, &[]),
        ev(T::GO_CREATE_SYSCALL, 60, NO_GOROUTINE, &[2]),
        syscall_end_blocked(70, 2),
        sync(100),
    ]);
    let p = run(&evs);
    assert_eq!(
        rows(&p, GoProfileKind::Syscall),
        [row("-", 1, 10), row("main.a", 1, 5)]
    );
}

#[test]
fn zero_length_samples_do_not_count() {
    let mut evs = prologue();
    evs.extend([stop(40, 2, B), start(40, 2), sync(100)]);
    let p = run(&evs);
    assert!(p.sched.samples.is_empty());
}

fn frame(pc: u64, func: &str) -> Frame {
    Frame {
        pc,
        func: func.as_bytes().into(),
        file: (&b"x.go"[..]).into(),
        line: 1,
    }
}

#[test]
fn the_builder_merges_by_pc_and_sorts_by_stack() {
    let mut b = ProfileBuilder::new();
    b.add(&[frame(0x20, "b"), frame(0x1, "main")], 1, 10);
    b.add(&[frame(0x10, "a")], 2, 5);
    b.add(&[frame(0x20, "b"), frame(0x1, "main")], 3, 7);
    b.add(&[Frame::synthetic("(x)")], 1, 1);
    b.add(&[Frame::synthetic("(y)")], 1, 2);
    b.add(&[], 1, 3);
    let p = b.finish();
    let got: Vec<(Vec<u64>, u64, i64)> = p
        .samples
        .iter()
        .map(|s: &Sample| (s.stack.iter().map(|f| f.pc).collect(), s.count, s.delay))
        .collect();
    assert_eq!(
        got,
        [
            (vec![], 1, 3),
            (vec![0], 1, 1),
            (vec![0], 1, 2),
            (vec![0x10], 2, 5),
            (vec![0x20, 0x1], 4, 17),
        ]
    );
    assert_eq!((p.total_count(), p.total_delay()), (9, 28));
}

#[test]
fn released_by_charges_waits_to_their_releaser() {
    // The sched fixture: a lock convoy, and goroutines leaked blocked.
    let trace = goroscope_testkit::fixture_traces()
        .into_iter()
        .find(|t| t.to_string_lossy().contains("sched-go1.27.3"))
        .expect("sched fixture");
    let loaded = goroscope_trace::Trace::open(&trace).unwrap();
    let t = &loaded.timelines;
    let waits = goroscope_analysis::blocking::analyze(t).waits;
    let p = released_by(t, &waits, |_| true);
    let expected: i64 = waits
        .iter()
        .map(|w| w.duration(t.end))
        .filter(|&d| d > 0)
        .sum();
    assert_eq!(p.total_delay(), expected);
    let one = |name: &str| {
        p.samples
            .iter()
            .find(|s| s.stack.len() == 1 && &*s.stack[0].func == name.as_bytes())
    };
    let still = one(STILL_BLOCKED_FRAME).expect("leaked goroutines");
    let open: Vec<_> = waits.iter().filter(|w| w.end.is_none()).collect();
    assert_eq!(still.count, open.len() as u64);
    assert!(one(RUNTIME_FRAME).is_some());
    assert!(one(NO_STACK_FRAME).is_none_or(|s| s.count > 0));
    // The convoy's waits are released by the code that unlocks the mutex.
    let unlock = p
        .samples
        .iter()
        .find(|s| s.stack.iter().any(|f| &*f.func == b"main.convoyWorker"))
        .expect("convoy releases");
    assert!(unlock.count > 0);

    // Only what `include` keeps.
    let p = released_by(t, &waits, |w| w.end.is_none());
    assert_eq!(p.samples.len(), 1);
    assert_eq!(&*p.samples[0].stack[0].func, STILL_BLOCKED_FRAME.as_bytes());
}

#[test]
fn a_goroutine_first_seen_runnable_has_no_sched_sample_until_it_ran() {
    let evs = [
        sync(1),
        status(10, 1, RUNNING),
        // G5 is runnable when the trace starts (no stack): its wait ends at its first run,
        // its StartTime, so it does not count.
        status(12, 5, RUNNABLE),
        start(50, 5),
        stop(60, 5, B),
        sync(70),
        // Restated runnable in the next generation: the sample from 60 goes on.
        status_again(71, 5, 2, RUNNABLE),
        start(90, 5),
        sync(100),
    ];
    let p = run(&evs);
    assert_eq!(rows(&p, GoProfileKind::Sched), [row("main.b", 1, 30)]);
}
