//! Human-friendly numbers: durations that pick their unit, byte counts, percentages.

/// Formats nanoseconds with a unit that keeps 3–4 significant digits (`12.3ms`, `850ns`).
pub fn duration(ns: i64) -> String {
    let a = ns.unsigned_abs() as f64;
    let sign = if ns < 0 { "-" } else { "" };
    let (v, unit) = if a >= 60e9 {
        return format!("{sign}{:.1}m", a / 60e9);
    } else if a >= 1e9 {
        (a / 1e9, "s")
    } else if a >= 1e6 {
        (a / 1e6, "ms")
    } else if a >= 1e3 {
        (a / 1e3, "µs")
    } else {
        return format!("{sign}{ns}ns", ns = a as i64);
    };
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{sign}{v:.digits$}{unit}")
}

/// Formats a signed change of a duration with its sign (`+1.20ms`, `-850ns`, `0`).
pub fn duration_delta(ns: i64) -> String {
    match ns {
        0 => "0".to_owned(),
        n if n > 0 => format!("+{}", duration(n)),
        n => duration(n),
    }
}

/// Formats a byte count (`1.5 MB`).
pub fn bytes(n: u64) -> String {
    let f = n as f64;
    if f >= 1e9 {
        format!("{:.2} GB", f / 1e9)
    } else if f >= 1e6 {
        format!("{:.1} MB", f / 1e6)
    } else if f >= 1e3 {
        format!("{:.1} kB", f / 1e3)
    } else {
        format!("{n} B")
    }
}

/// Formats a fraction as a percentage with one decimal (`12.5%`).
pub fn percent(fraction: f64) -> String {
    if !fraction.is_finite() {
        return "-".to_owned();
    }
    format!("{:.1}%", fraction * 100.0)
}

/// Formats a ratio (`×1.25`); `-` when undefined.
pub fn ratio(r: Option<f64>) -> String {
    match r {
        Some(r) if r.is_finite() => {
            if r >= 100.0 {
                format!("×{r:.0}")
            } else {
                format!("×{r:.2}")
            }
        }
        _ => "-".to_owned(),
    }
}

/// `after / before`, or `None` when `before` is 0 (and `Some(1.0)` when both are).
pub fn ratio_of(before: f64, after: f64) -> Option<f64> {
    if before == 0.0 {
        (after == 0.0).then_some(1.0)
    } else {
        Some(after / before)
    }
}

/// Parses a duration written `850ns`, `12us`, `12µs`, `5ms`, `1.5s`, `2m` into nanoseconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    goroscope_analysis::findings::parse_duration(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_scale() {
        assert_eq!(duration(850), "850ns");
        assert_eq!(duration(1_500), "1.50µs");
        assert_eq!(duration(12_345_678), "12.3ms");
        assert_eq!(duration(2_500_000_000), "2.50s");
        assert_eq!(duration(123_400_000), "123ms");
        assert_eq!(duration(90_000_000_000), "1.5m");
        assert_eq!(duration(-1_500), "-1.50µs");
        assert_eq!(duration_delta(1_500), "+1.50µs");
        assert_eq!(duration_delta(0), "0");
    }

    #[test]
    fn other_units() {
        assert_eq!(bytes(1_500_000), "1.5 MB");
        assert_eq!(bytes(12), "12 B");
        assert_eq!(percent(0.125), "12.5%");
        assert_eq!(ratio(Some(1.25)), "×1.25");
        assert_eq!(ratio(None), "-");
        assert_eq!(ratio_of(0.0, 0.0), Some(1.0));
        assert_eq!(ratio_of(0.0, 1.0), None);
        assert_eq!(ratio_of(2.0, 3.0), Some(1.5));
    }
}
