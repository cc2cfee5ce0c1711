//! Words for what the timeline shows: span labels (also the accessible names tests query),
//! states with reasons, stack frames, byte counts.

use goroscope_trace::event::GoState;
use goroscope_trace::timeline::{
    GoSpan, NO_THREAD_INDEX, ProcActivity, ProcSpan, StackId, ThreadSpan, Timelines,
};

use crate::model::TraceModel;
use crate::ruler::format_duration;

/// A goroutine state with its reason: `Running`, `Waiting (sync)`, `Runnable (preempted)`.
pub fn state_text(tl: &Timelines, s: &GoSpan) -> String {
    let reason = tl.strings.lossy(s.reason);
    if reason.is_empty() || !matches!(s.state, GoState::Waiting | GoState::Runnable) {
        s.state.name().to_owned()
    } else {
        format!("{} ({reason})", s.state.name())
    }
}

/// A trace time as an offset from the trace start: `+1.25 ms`.
pub fn at(tl: &Timelines, t: i64) -> String {
    format!("+{}", format_duration((t - tl.start) as f64))
}

/// The accessible label of a goroutine span: `G7 Waiting (sync) 1.5 ms at +3 ms`.
pub fn go_span_label(tl: &Timelines, id: i64, s: &GoSpan, end: i64) -> String {
    format!(
        "G{id} {} {} at {}",
        state_text(tl, s),
        format_duration((end - s.time) as f64),
        at(tl, s.time)
    )
}

/// What a P does in a span: `G7 main.worker`, `idle`, `syscall G7`, `scheduler`.
pub fn proc_activity_text(model: &TraceModel, s: &ProcSpan) -> String {
    let name = |g: i64| {
        model
            .group_of_id(g)
            .and_then(|gi| model.groups.get(gi))
            .map_or(String::new(), |gr| format!(" {}", gr.label))
    };
    match s.activity {
        ProcActivity::Idle => "idle".to_owned(),
        ProcActivity::NotExist => "not existing".to_owned(),
        ProcActivity::Syscall => format!("syscall G{}{}", s.g, name(s.g)),
        ProcActivity::Running if s.g < 0 => "scheduler".to_owned(),
        ProcActivity::Running => format!("G{}{}", s.g, name(s.g)),
    }
}

/// The accessible label of a P span: `P0 G7 main.worker 1.5 ms at +3 ms`.
pub fn proc_span_label(model: &TraceModel, p: i64, s: &ProcSpan, end: i64) -> String {
    let tl = model.timelines();
    format!(
        "P{p} {} {} at {}",
        proc_activity_text(model, s),
        format_duration((end - s.time) as f64),
        at(tl, s.time)
    )
}

/// What a thread does in a span: `P3`, `G7 without P`, `no P`.
pub fn thread_activity_text(s: &ThreadSpan) -> String {
    if s.p >= 0 {
        format!("P{}", s.p)
    } else if s.g >= 0 {
        format!("G{} without P", s.g)
    } else {
        "no P".to_owned()
    }
}

/// The accessible label of a thread span: `M12 P3 1.5 ms at +3 ms`.
pub fn thread_span_label(tl: &Timelines, m: i64, s: &ThreadSpan, end: i64) -> String {
    format!(
        "M{m} {} {} at {}",
        thread_activity_text(s),
        format_duration((end - s.time) as f64),
        at(tl, s.time)
    )
}

/// The thread a goroutine span ran on, as `M123`, if any.
pub fn thread_text(tl: &Timelines, m: u32) -> Option<String> {
    if m == NO_THREAD_INDEX {
        return None;
    }
    tl.threads.get(m as usize).map(|t| format!("M{}", t.id))
}

/// Up to `max` frames of a stack as `function file:line`, innermost first.
pub fn stack_lines(tl: &Timelines, stack: StackId, max: usize) -> Vec<String> {
    tl.stacks
        .frames(stack)
        .take(max)
        .map(|f| {
            let file = tl.strings.lossy(f.file);
            let short = file.rsplit('/').next().unwrap_or(&file).to_owned();
            format!("{} {short}:{}", tl.strings.lossy(f.func), f.line)
        })
        .collect()
}

/// The innermost frame's function, if the stack has one.
pub fn leaf_function(tl: &Timelines, stack: StackId) -> Option<String> {
    tl.stacks
        .leaf(stack)
        .map(|f| tl.strings.lossy(f.func).into_owned())
}

/// A byte count: `512 B`, `12.5 MiB`.
pub fn format_bytes(b: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{v:.0} B")
    } else if v >= 100.0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Cuts `s` to about `width` points of 11-point text, with an ellipsis; `None` if not even
/// a few characters fit.
pub fn fit_text(s: &str, width: f32) -> Option<String> {
    const CHAR_W: f32 = 6.2;
    let max = ((width - 6.0) / CHAR_W).floor() as usize;
    if max < 3 {
        return None;
    }
    let n = s.chars().count();
    if n <= max {
        return Some(s.to_owned());
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_and_fitting() {
        assert_eq!(format_bytes(512.0), "512 B");
        assert_eq!(format_bytes(12.5 * 1024.0 * 1024.0), "12.5 MiB");
        assert_eq!(format_bytes(300.0 * 1024.0), "300 KiB");
        assert_eq!(
            fit_text("main.worker", 200.0).as_deref(),
            Some("main.worker")
        );
        assert_eq!(fit_text("main.worker", 40.0).as_deref(), Some("main…"));
        assert_eq!(fit_text("main.worker", 20.0), None);
    }
}
