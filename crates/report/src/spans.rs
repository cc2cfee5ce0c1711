//! The timelines as one CSV table of spans (`goroscope export --format csv`), for pandas,
//! DuckDB or a spreadsheet: every goroutine, P and thread state span, GC mark phase and
//! stop-the-world pause, one per row, times in nanoseconds since the trace start.
//!
//! Columns: `lane` (`goroutine`, `proc`, `thread`, `gc`, `stw`), `id` (goroutine, P or
//! thread ID; 0 for `gc` and `stw`), `state`, `start_ns`, `end_ns`, `duration_ns`,
//! `goroutine` (the goroutine a P or thread ran; -1 for none), `proc` (the P a goroutine ran
//! on or a thread held; -1), `reason` (block reason, STW kind), `site` (where the goroutine
//! was: `function (file:line)`), `unblocked_by` (the goroutine that made a runnable span
//! runnable; -1).

use std::collections::HashMap;
use std::io::{self, Write};

use goroscope_trace::GoState;
use goroscope_trace::timeline::{ProcActivity, StackId, Timelines};

use crate::csv::record;
use crate::model::{SiteOut, describe};

/// The header row.
pub const COLUMNS: [&str; 11] = [
    "lane",
    "id",
    "state",
    "start_ns",
    "end_ns",
    "duration_ns",
    "goroutine",
    "proc",
    "reason",
    "site",
    "unblocked_by",
];

/// Writes every span of `t` as CSV to `out`.
pub fn write(t: &Timelines, mut out: impl Write) -> io::Result<()> {
    let mut buf = String::with_capacity(1 << 17);
    record(&mut buf, COLUMNS);
    let rel = |x: i64| (x - t.start).max(0);
    let row = |buf: &mut String,
               lane: &str,
               id: i64,
               state: &str,
               (start, end): (i64, i64),
               g: i64,
               p: i64,
               reason: &str,
               site: &str,
               waker: i64| {
        let (a, b) = (rel(start), rel(end));
        let cells = [
            lane.to_owned(),
            id.to_string(),
            state.to_owned(),
            a.to_string(),
            b.to_string(),
            (b - a).to_string(),
            g.to_string(),
            p.to_string(),
            reason.to_owned(),
            site.to_owned(),
            waker.to_string(),
        ];
        record(buf, cells.iter().map(String::as_str));
    };
    let mut sites: HashMap<StackId, String> = HashMap::new();
    for g in &t.goroutines {
        let spans: Vec<_> = g.spans.iter().collect();
        for (i, s) in spans.iter().enumerate() {
            if matches!(s.state, GoState::NotExist | GoState::Undetermined) {
                continue;
            }
            let end = spans.get(i + 1).map_or(t.end, |n| n.time);
            let site = sites
                .entry(s.stack)
                .or_insert_with(|| describe(SiteOut::of_stack(t, s.stack).as_ref(), ""));
            row(
                &mut buf,
                "goroutine",
                g.id,
                s.state.name(),
                (s.time, end),
                g.id,
                s.p,
                &t.strings.lossy(s.reason),
                site,
                if s.woken { s.waker } else { -1 },
            );
        }
        if buf.len() > 1 << 16 {
            out.write_all(buf.as_bytes())?;
            buf.clear();
        }
    }
    for p in &t.procs {
        let spans: Vec<_> = p.spans.iter().collect();
        for (i, s) in spans.iter().enumerate() {
            let end = spans.get(i + 1).map_or(t.end, |n| n.time);
            let state = match s.activity {
                ProcActivity::Idle => "Idle",
                ProcActivity::Running if s.g >= 0 => "Running",
                ProcActivity::Running => "Scheduler",
                ProcActivity::Syscall => "Syscall",
                ProcActivity::NotExist => continue,
            };
            row(
                &mut buf,
                "proc",
                p.id,
                state,
                (s.time, end),
                s.g,
                p.id,
                "",
                "",
                -1,
            );
        }
        if buf.len() > 1 << 16 {
            out.write_all(buf.as_bytes())?;
            buf.clear();
        }
    }
    for m in &t.threads {
        let spans: Vec<_> = m.spans.iter().collect();
        for (i, s) in spans.iter().enumerate() {
            let end = spans.get(i + 1).map_or(t.end, |n| n.time);
            let state = if s.p >= 0 {
                "HoldsP"
            } else if s.g >= 0 {
                "NoP"
            } else {
                "Idle"
            };
            row(
                &mut buf,
                "thread",
                m.id,
                state,
                (s.time, end),
                s.g,
                s.p,
                "",
                "",
                -1,
            );
        }
    }
    for g in &t.gc {
        row(
            &mut buf,
            "gc",
            0,
            "Mark",
            g.clamped(t.start, t.end),
            -1,
            -1,
            "",
            "",
            -1,
        );
    }
    for s in &t.stw {
        row(
            &mut buf,
            "stw",
            0,
            "STW",
            s.interval.clamped(t.start, t.end),
            s.g,
            -1,
            &t.strings.lossy(s.kind),
            "",
            -1,
        );
    }
    out.write_all(buf.as_bytes())?;
    out.flush()
}
