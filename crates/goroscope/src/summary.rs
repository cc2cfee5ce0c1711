//! `goroscope summary`: what a trace holds and where its goroutines spent their time.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use goroscope_analysis::summary::Summarizer;
use goroscope_trace::{LoadOptions, Trace};

use crate::table::{Align, bytes, duration, render};

/// Runs the command.
pub fn run(path: &Path, top: usize) -> ExitCode {
    let mut summarizer = Summarizer::new();
    let mut feed = |ev: &goroscope_trace::Event, tables: &goroscope_trace::Tables<'_>| {
        summarizer.event(ev, tables);
    };
    let trace = match Trace::open_with(
        path,
        LoadOptions {
            on_event: Some(&mut feed),
            ..LoadOptions::default()
        },
    ) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("goroscope: {e}");
            return ExitCode::from(crate::exit::UNREADABLE);
        }
    };
    for w in &trace.warnings {
        eprintln!("goroscope: warning: {w}: {}", path.display());
    }
    let summary = summarizer.finalize();
    print!("{}", render_summary(path, &trace, &summary, top));
    ExitCode::SUCCESS
}

fn render_summary(
    path: &Path,
    trace: &Trace,
    summary: &goroscope_analysis::summary::Summary,
    top: usize,
) -> String {
    let t = &trace.timelines;
    let mut out = String::new();
    let span = t.end - t.start;
    let alive = t.goroutines.iter().filter(|g| g.ended.is_none()).count();
    let _ = writeln!(out, "trace       {}", path.display());
    let _ = writeln!(
        out,
        "format      {} ({} events, {})",
        trace.version,
        trace.events,
        bytes(trace.size)
    );
    let _ = writeln!(
        out,
        "span        {} on {} Ps and {} threads; {} goroutines, {alive} alive at the end",
        duration(span),
        t.procs.len(),
        t.threads.len(),
        t.goroutines.len(),
    );
    let mark: i64 =
        t.gc.iter()
            .map(|g| {
                let (a, b) = g.clamped(t.start, t.end);
                b - a
            })
            .sum();
    let stws: Vec<i64> = t
        .stw
        .iter()
        .map(|s| {
            let (a, b) = s.interval.clamped(t.start, t.end);
            b - a
        })
        .collect();
    let _ = writeln!(
        out,
        "GC          {} mark phases ({} in all); {} stop-the-world pauses ({} in all, longest {})",
        t.gc.len(),
        duration(mark),
        stws.len(),
        duration(stws.iter().sum()),
        duration(stws.iter().copied().max().unwrap_or(0)),
    );
    if !t.tasks.is_empty() {
        let regions: usize = t.goroutines.iter().map(|g| g.regions.len()).sum();
        let _ = writeln!(
            out,
            "annotations {} tasks, {regions} regions, {} logs",
            t.tasks.len(),
            t.logs.len()
        );
    }
    if !trace.warnings.is_empty() {
        let _ = writeln!(
            out,
            "damaged     {} part(s) could not be read (see the warnings)",
            trace.warnings.len()
        );
    }

    let mut groups = summary.groups();
    groups.sort_by(|a, b| {
        b.exec_time
            .total
            .cmp(&a.exec_time.total)
            .then_with(|| a.name.cmp(&b.name))
    });
    let shown = groups.len().min(top);
    let _ = writeln!(
        out,
        "\nGoroutines by start function ({shown} of {} groups, most execution time first)",
        groups.len()
    );
    let rows: Vec<Vec<String>> = groups
        .iter()
        .take(top)
        .map(|g| {
            let name = if g.name.is_empty() {
                "(no stack seen)"
            } else {
                &g.name
            };
            vec![
                name.to_owned(),
                g.count().to_string(),
                duration(g.exec_time.total),
                duration(g.sched_wait_time.total),
                duration(g.sched_wait_time.p99),
                duration(g.block_time.total),
                duration(g.syscall_time.total + g.syscall_block_time.total),
            ]
        })
        .collect();
    out.push_str(&render(
        &[
            "start function",
            "count",
            "running",
            "sched wait",
            "p99 wait",
            "blocked",
            "syscall",
        ],
        &[
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
        ],
        &rows,
    ));
    out
}
