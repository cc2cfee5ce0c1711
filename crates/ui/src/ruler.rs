//! The time ruler: tick spacing that adapts to the zoom, and labels in time since the trace
//! start or in wall-clock time (UTC) when the trace has clock snapshots (Go 1.25+).

use egui::{Align2, Color32, FontId, Painter, Pos2, Rect, Stroke, pos2};

use crate::time_view::TimeView;

/// The smallest distance between two labelled ticks, in points.
pub const MIN_TICK_SPACING: f32 = 90.0;

/// The smallest "nice" step (1, 2 or 5 times a power of ten nanoseconds) that is at least
/// `min_ns` long.
pub fn nice_step(min_ns: f64) -> f64 {
    if !(min_ns.is_finite() && min_ns > 1.0) {
        return 1.0;
    }
    let exp = min_ns.log10().floor();
    let base = 10f64.powf(exp);
    for m in [1.0, 2.0, 5.0, 10.0] {
        let s = m * base;
        if s >= min_ns * (1.0 - 1e-9) {
            return s;
        }
    }
    10.0 * base
}

/// The times of the ticks `step` apart within `[from, to]`, counting from `origin` (a time
/// that falls on a tick: 0 for relative time, the wall-clock epoch offset otherwise).
pub fn ticks(from: f64, to: f64, step: f64, origin: f64) -> impl Iterator<Item = f64> {
    let first = ((from - origin) / step).ceil();
    let last = ((to - origin) / step).floor();
    let n = if last >= first {
        (last - first) as u64 + 1
    } else {
        0
    };
    (0..n.min(10_000)).map(move |i| origin + (first + i as f64) * step)
}

/// A duration as people write it: `950 ns`, `12.5 µs`, `3 ms`, `1.25 s`.
pub fn format_duration(ns: f64) -> String {
    let a = ns.abs();
    let (v, unit) = if a < 1e3 {
        (ns, "ns")
    } else if a < 1e6 {
        (ns / 1e3, "µs")
    } else if a < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    let s = if v.abs() >= 100.0 || unit == "ns" {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    };
    format!("{s} {unit}")
}

/// A tick label for relative time `t` (ns since the trace start) on ticks `step` apart:
/// the unit is chosen from the step, with just enough decimals to tell ticks apart.
pub fn format_relative(t: f64, step: f64) -> String {
    let (unit_ns, unit) = if step < 1e2 {
        (1.0, "ns")
    } else if step < 1e5 {
        (1e3, "µs")
    } else if step < 1e8 {
        (1e6, "ms")
    } else {
        (1e9, "s")
    };
    let decimals = (-(step / unit_ns).log10().floor()).max(0.0) as usize;
    format!("{:.*} {unit}", decimals, t / unit_ns)
}

/// A tick label for wall-clock time `wall_ns` (ns since the Unix epoch, UTC) on ticks
/// `step` apart: `HH:MM:SS` with as many fraction digits as the step needs.
pub fn format_wall(wall_ns: i128, step: f64) -> String {
    let secs = wall_ns.div_euclid(1_000_000_000);
    let nanos = wall_ns.rem_euclid(1_000_000_000) as u64;
    let day = secs.rem_euclid(86_400) as u64;
    let mut s = format!("{:02}:{:02}:{:02}", day / 3600, (day / 60) % 60, day % 60);
    let digits = if step >= 1e9 {
        0
    } else {
        (9 - step.log10().floor().max(0.0) as usize).min(9)
    };
    if digits > 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(&frac[..digits]);
    }
    s
}

/// The calendar date (UTC) of wall-clock time `wall_ns`, as `YYYY-MM-DD`.
pub fn format_date(wall_ns: i128) -> String {
    let days = wall_ns.div_euclid(86_400 * 1_000_000_000) as i64;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// How the ruler labels time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Clock {
    /// Time since the trace start.
    Relative,
    /// Wall-clock time: `offset` nanoseconds are added to a relative time to get ns since the
    /// Unix epoch.
    Wall {
        /// Wall-clock ns at relative time 0.
        offset: i128,
    },
}

/// Paints the ruler into `rect` (labels and tick marks) and returns the tick step, so the
/// caller can draw the grid with [`paint_grid`].
pub fn paint_ruler(
    painter: &Painter,
    rect: Rect,
    view: &TimeView,
    clock: Clock,
    text: Color32,
    line: Color32,
) -> f64 {
    let (x0, x1) = (rect.left(), rect.right());
    let step = nice_step(view.ns_per_px(rect.width()) * f64::from(MIN_TICK_SPACING));
    let font = FontId::proportional(11.0);
    let origin = match clock {
        Clock::Relative => 0.0,
        // Ticks on round wall-clock times: shift the origin by the offset modulo the step.
        Clock::Wall { offset } => -((offset.rem_euclid(step.max(1.0) as i128)) as f64),
    };
    let minor = step / if is_two(step) { 4.0 } else { 5.0 };
    for t in ticks(view.start, view.end, minor, origin) {
        let x = view.x_of(t, x0, x1);
        painter.line_segment(
            [pos2(x, rect.bottom() - 3.0), pos2(x, rect.bottom())],
            Stroke::new(1.0, line),
        );
    }
    for t in ticks(view.start - step, view.end, step, origin) {
        let x = view.x_of(t, x0, x1);
        painter.line_segment(
            [pos2(x, rect.bottom() - 8.0), pos2(x, rect.bottom())],
            Stroke::new(1.0, text),
        );
        if x < x0 {
            continue;
        }
        let label = match clock {
            Clock::Relative => format_relative(t, step),
            Clock::Wall { offset } => format_wall(offset + t.round() as i128, step),
        };
        painter.text(
            Pos2::new(x + 3.0, rect.top() + 2.0),
            Align2::LEFT_TOP,
            label,
            font.clone(),
            text,
        );
    }
    step
}

fn is_two(step: f64) -> bool {
    let m = step / 10f64.powf(step.log10().floor());
    (m - 2.0).abs() < 1e-6
}

/// Paints vertical grid lines at the ticks of `step` over `rect`.
pub fn paint_grid(
    painter: &Painter,
    rect: Rect,
    view: &TimeView,
    clock: Clock,
    step: f64,
    color: Color32,
) {
    let origin = match clock {
        Clock::Relative => 0.0,
        Clock::Wall { offset } => -((offset.rem_euclid(step.max(1.0) as i128)) as f64),
    };
    for t in ticks(view.start, view.end, step, origin) {
        let x = view.x_of(t, rect.left(), rect.right());
        painter.line_segment(
            [pos2(x, rect.top()), pos2(x, rect.bottom())],
            Stroke::new(1.0, color),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_one_two_five() {
        assert_eq!(nice_step(0.5), 1.0);
        assert_eq!(nice_step(1.5), 2.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(10.0), 10.0);
        assert_eq!(nice_step(1234.0), 2000.0);
        assert_eq!(nice_step(4.2e6), 5e6);
    }

    #[test]
    fn ticks_fall_on_multiples() {
        let t: Vec<f64> = ticks(15.0, 61.0, 10.0, 0.0).collect();
        assert_eq!(t, [20.0, 30.0, 40.0, 50.0, 60.0]);
        let t: Vec<f64> = ticks(15.0, 61.0, 10.0, -3.0).collect();
        assert_eq!(t, [17.0, 27.0, 37.0, 47.0, 57.0]);
        assert_eq!(ticks(5.0, 4.0, 1.0, 0.0).count(), 0);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(950.0), "950 ns");
        assert_eq!(format_duration(12_500.0), "12.5 µs");
        assert_eq!(format_duration(3e6), "3 ms");
        assert_eq!(format_duration(1.25e9), "1.25 s");
        assert_eq!(format_duration(250e6), "250 ms");
    }

    #[test]
    fn relative_labels_have_enough_decimals() {
        assert_eq!(format_relative(2.5e6, 5e5), "2.5 ms");
        assert_eq!(format_relative(2e6, 1e6), "2 ms");
        assert_eq!(format_relative(1.2e6, 2e5), "1.2 ms");
        assert_eq!(format_relative(150.0, 50.0), "150 ns");
        assert_eq!(format_relative(3e9, 1e9), "3 s");
        assert_eq!(format_relative(20_000.0, 10_000.0), "20 µs");
    }

    #[test]
    fn wall_labels_and_dates() {
        let t = 1_795_546_378_545_133_364i128; // 2026-11-24T18:52:58.545133364Z
        assert_eq!(format_wall(t, 1e9), "18:52:58");
        assert_eq!(format_wall(t, 1e6), "18:52:58.545");
        assert_eq!(format_wall(t, 5e5), "18:52:58.5451");
        assert_eq!(format_wall(t, 1e5), "18:52:58.5451");
        assert_eq!(format_wall(t, 1.0), "18:52:58.545133364");
        assert_eq!(format_date(t), "2026-11-24");
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_date(951_782_400 * 1_000_000_000), "2000-02-29");
    }
}
