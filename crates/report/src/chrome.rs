//! The timelines as trace-event JSON, the format `chrome://tracing` and the Perfetto UI
//! (<https://ui.perfetto.dev>) open: a process per lane kind — GC and STW with counters, Ps,
//! threads (Ms), goroutines — a thread per lane, complete (`X`) events per span, and flow
//! arrows from the goroutine that unblocked another to the goroutine it woke.
//!
//! Times are microseconds since the start of the trace, with nanosecond decimals.

use std::collections::HashMap;
use std::io::{self, Write};

use goroscope_trace::GoState;
use goroscope_trace::timeline::{ProcActivity, StackId, Timelines};

use crate::events::json_string;
use crate::model::{SiteOut, describe};

/// The process IDs of the lane kinds.
pub mod pid {
    /// GC mark phases, stop-the-world pauses and counters.
    pub const RUNTIME: u32 = 1;
    /// One thread per P.
    pub const PROCS: u32 = 2;
    /// One thread per OS thread (M).
    pub const THREADS: u32 = 3;
    /// One thread per goroutine.
    pub const GOROUTINES: u32 = 4;
}

struct Writer<'a, W: Write> {
    out: W,
    t: &'a Timelines,
    first: bool,
    buf: Vec<u8>,
    sites: HashMap<StackId, String>,
}

impl<W: Write> Writer<'_, W> {
    fn ts(&mut self, ns: i64) {
        let rel = (ns - self.t.start).max(0);
        let _ = write!(self.buf, "{}.{:03}", rel / 1000, rel % 1000);
    }

    fn begin(&mut self) -> io::Result<()> {
        if self.first {
            self.first = false;
        } else {
            self.buf.extend_from_slice(b",\n");
        }
        if self.buf.len() > 1 << 16 {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    fn meta(&mut self, pid: u32, tid: Option<i64>, what: &str, name: &str) -> io::Result<()> {
        self.begin()?;
        let _ = write!(self.buf, "{{\"ph\":\"M\",\"pid\":{pid},");
        if let Some(tid) = tid {
            let _ = write!(self.buf, "\"tid\":{tid},");
        }
        let _ = write!(self.buf, "\"name\":\"{what}\",\"args\":{{\"name\":");
        json_string(&mut self.buf, name.as_bytes());
        self.buf.extend_from_slice(b"}}");
        Ok(())
    }

    fn sort(&mut self, pid: u32, tid: Option<i64>, index: i64) -> io::Result<()> {
        self.begin()?;
        match tid {
            Some(tid) => {
                let _ = write!(
                    self.buf,
                    "{{\"ph\":\"M\",\"pid\":{pid},\"tid\":{tid},\"name\":\"thread_sort_index\",\"args\":{{\"sort_index\":{index}}}}}"
                );
            }
            None => {
                let _ = write!(
                    self.buf,
                    "{{\"ph\":\"M\",\"pid\":{pid},\"name\":\"process_sort_index\",\"args\":{{\"sort_index\":{index}}}}}"
                );
            }
        }
        Ok(())
    }

    /// A complete event; `args` is a JSON object body (without braces) or empty.
    #[allow(clippy::too_many_arguments)]
    fn slice(
        &mut self,
        pid: u32,
        tid: i64,
        start: i64,
        end: i64,
        name: &str,
        cat: &str,
        args: &str,
    ) -> io::Result<()> {
        if end <= start {
            return Ok(());
        }
        self.begin()?;
        let _ = write!(
            self.buf,
            "{{\"ph\":\"X\",\"pid\":{pid},\"tid\":{tid},\"ts\":"
        );
        self.ts(start);
        self.buf.extend_from_slice(b",\"dur\":");
        let d = end - start;
        let _ = write!(self.buf, "{}.{:03}", d / 1000, d % 1000);
        self.buf.extend_from_slice(b",\"name\":");
        json_string(&mut self.buf, name.as_bytes());
        let _ = write!(self.buf, ",\"cat\":\"{cat}\"");
        if !args.is_empty() {
            let _ = write!(self.buf, ",\"args\":{{{args}}}");
        }
        self.buf.push(b'}');
        Ok(())
    }

    fn site(&mut self, stack: StackId) -> String {
        if !stack.is_some() {
            return String::new();
        }
        let t = self.t;
        self.sites
            .entry(stack)
            .or_insert_with(|| describe(SiteOut::of_stack(t, stack).as_ref(), ""))
            .clone()
    }

    fn goroutine_name(&self, g: i64) -> String {
        match self.t.goroutine(g) {
            Some(x) if x.name.0 != 0 => format!("G{g} {}", self.t.strings.lossy(x.name)),
            _ => format!("G{g}"),
        }
    }
}

fn json_str(s: &str) -> String {
    let mut v = Vec::new();
    json_string(&mut v, s.as_bytes());
    String::from_utf8(v).unwrap_or_default()
}

/// Writes the timelines of `t` as one trace-event JSON document to `out`.
pub fn write(t: &Timelines, out: impl Write) -> io::Result<()> {
    let mut w = Writer {
        out,
        t,
        first: true,
        buf: Vec::with_capacity(1 << 17),
        sites: HashMap::new(),
    };
    w.buf
        .extend_from_slice(b"{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");

    // Processes and their order.
    for (p, name) in [
        (pid::RUNTIME, "GC and STW"),
        (pid::PROCS, "Ps"),
        (pid::THREADS, "Threads (Ms)"),
        (pid::GOROUTINES, "Goroutines"),
    ] {
        w.meta(p, None, "process_name", name)?;
        w.sort(p, None, i64::from(p))?;
    }

    // GC and STW.
    w.meta(pid::RUNTIME, Some(1), "thread_name", "GC mark phases")?;
    w.meta(pid::RUNTIME, Some(2), "thread_name", "stop-the-world")?;
    for g in &t.gc {
        let (a, b) = g.clamped(t.start, t.end);
        w.slice(pid::RUNTIME, 1, a, b, "GC mark phase", "gc", "")?;
    }
    for s in &t.stw {
        let (a, b) = s.interval.clamped(t.start, t.end);
        let kind = t.strings.lossy(s.kind);
        let args = format!("\"kind\":{},\"goroutine\":{}", json_str(&kind), s.g);
        w.slice(pid::RUNTIME, 2, a, b, &format!("STW: {kind}"), "stw", &args)?;
    }
    for c in t.metrics.counts.iter() {
        w.begin()?;
        let _ = write!(
            w.buf,
            "{{\"ph\":\"C\",\"pid\":{},\"name\":\"goroutines\",\"ts\":",
            pid::RUNTIME
        );
        w.ts(c.time);
        let _ = write!(
            w.buf,
            ",\"args\":{{\"running\":{},\"runnable\":{},\"waiting\":{},\"syscall\":{}}}}}",
            c.running, c.runnable, c.waiting, c.syscall
        );
    }
    for (name, lane) in [
        ("heap live", &t.metrics.heap_alloc),
        ("heap goal", &t.metrics.heap_goal),
    ] {
        for p in lane.iter() {
            w.begin()?;
            let _ = write!(
                w.buf,
                "{{\"ph\":\"C\",\"pid\":{},\"name\":\"{name}\",\"ts\":",
                pid::RUNTIME
            );
            w.ts(p.time);
            let _ = write!(w.buf, ",\"args\":{{\"bytes\":{}}}}}", p.value);
        }
    }

    // Ps.
    let gc_worker: HashMap<i64, bool> = t.goroutines.iter().map(|g| (g.id, g.gc_worker)).collect();
    for p in &t.procs {
        w.meta(pid::PROCS, Some(p.id), "thread_name", &format!("P{}", p.id))?;
        w.sort(pid::PROCS, Some(p.id), p.id)?;
        let spans: Vec<_> = p.spans.iter().collect();
        for (i, s) in spans.iter().enumerate() {
            let end = spans.get(i + 1).map_or(t.end, |n| n.time);
            let (name, cat) = match s.activity {
                ProcActivity::Running if s.g >= 0 => {
                    let cat = if gc_worker.get(&s.g).copied().unwrap_or(false) {
                        "gc worker"
                    } else {
                        "running"
                    };
                    (w.goroutine_name(s.g), cat)
                }
                ProcActivity::Running => ("(scheduler)".to_owned(), "scheduler"),
                ProcActivity::Syscall => (format!("syscall: {}", w.goroutine_name(s.g)), "syscall"),
                ProcActivity::Idle | ProcActivity::NotExist => continue,
            };
            let args = if s.g >= 0 {
                format!("\"goroutine\":{}", s.g)
            } else {
                String::new()
            };
            w.slice(
                pid::PROCS,
                p.id,
                s.time.max(t.start),
                end,
                &name,
                cat,
                &args,
            )?;
        }
    }

    // Threads.
    for (i, m) in t.threads.iter().enumerate() {
        let tid = i as i64 + 1;
        w.meta(
            pid::THREADS,
            Some(tid),
            "thread_name",
            &format!("M{}", m.id),
        )?;
        w.sort(pid::THREADS, Some(tid), tid)?;
        let spans: Vec<_> = m.spans.iter().collect();
        for (j, s) in spans.iter().enumerate() {
            let end = spans.get(j + 1).map_or(t.end, |n| n.time);
            let (name, cat) = if s.p >= 0 {
                (format!("P{}", s.p), "holds P")
            } else if s.g >= 0 {
                (format!("{} (no P)", w.goroutine_name(s.g)), "no P")
            } else {
                continue;
            };
            w.slice(pid::THREADS, tid, s.time.max(t.start), end, &name, cat, "")?;
        }
    }

    // Goroutines, and flows from unblockers.
    let mut flow = 0u64;
    for g in &t.goroutines {
        let name = w.goroutine_name(g.id);
        w.meta(pid::GOROUTINES, Some(g.id), "thread_name", &name)?;
        let spans: Vec<_> = g.spans.iter().collect();
        for (i, s) in spans.iter().enumerate() {
            let end = spans.get(i + 1).map_or(t.end, |n| n.time);
            let start = s.time.max(t.start);
            let reason = t.strings.lossy(s.reason);
            let (label, cat) = match s.state {
                GoState::Running => (format!("running on P{}", s.p), "running"),
                GoState::Runnable => ("runnable".to_owned(), "runnable"),
                GoState::Waiting => (format!("blocked: {reason}"), "waiting"),
                GoState::Syscall => ("syscall".to_owned(), "syscall"),
                GoState::NotExist | GoState::Undetermined => continue,
            };
            let site = w.site(s.stack);
            let mut args = format!("\"state\":\"{}\"", s.state.name());
            if !reason.is_empty() {
                args.push_str(&format!(",\"reason\":{}", json_str(&reason)));
            }
            if !site.is_empty() {
                args.push_str(&format!(",\"site\":{}", json_str(&site)));
            }
            if s.woken && s.waker >= 0 {
                args.push_str(&format!(",\"unblocked_by\":{}", s.waker));
            }
            w.slice(pid::GOROUTINES, g.id, start, end, &label, cat, &args)?;
            if s.woken && s.waker >= 0 && s.time >= t.start {
                flow += 1;
                for (ph, tid, extra) in [("s", s.waker, ""), ("f", g.id, ",\"bp\":\"e\"")] {
                    w.begin()?;
                    let _ = write!(
                        w.buf,
                        "{{\"ph\":\"{ph}\",\"pid\":{},\"tid\":{tid},\"ts\":",
                        pid::GOROUTINES
                    );
                    w.ts(s.time);
                    let _ = write!(
                        w.buf,
                        ",\"id\":{flow},\"name\":\"unblock\",\"cat\":\"unblock\"{extra}}}"
                    );
                }
            }
        }
    }
    w.buf.extend_from_slice(b"\n]}\n");
    w.flush()?;
    w.out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixture_exports_as_valid_trace_event_json() {
        let path = goroscope_testkit::fixture_traces()
            .into_iter()
            .find(|p| p.ends_with("sched-go1.27.3.trace"))
            .expect("fixture");
        let trace = goroscope_trace::Trace::open(&path).unwrap();
        let mut out = Vec::new();
        write(&trace.timelines, &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let events = v["traceEvents"].as_array().unwrap();
        let count = |ph: &str| events.iter().filter(|e| e["ph"] == ph).count();
        assert!(count("X") > 100);
        assert_eq!(count("s"), count("f"));
        assert!(count("s") > 10);
        for e in events {
            if e["ph"] == "X" {
                assert!(e["dur"].as_f64().unwrap() > 0.0);
                assert!(e["ts"].as_f64().unwrap() >= 0.0);
            }
        }
    }
}
