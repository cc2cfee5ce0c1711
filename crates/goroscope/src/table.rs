//! Aligned text tables and human-friendly durations for terminal output.

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

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// Renders rows under a header, each column as wide as its widest cell, two spaces apart.
pub fn render(header: &[&str], align: &[Align], rows: &[Vec<String>]) -> String {
    let n = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
        let mut first = true;
        let mut pending = String::new();
        for (i, cell) in cells.enumerate().take(n) {
            if !first {
                pending.push_str("  ");
            }
            first = false;
            let pad = widths[i].saturating_sub(cell.chars().count());
            if align.get(i) == Some(&Align::Right) {
                pending.extend(std::iter::repeat_n(' ', pad));
                pending.push_str(cell);
            } else {
                pending.push_str(cell);
                pending.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(pending.trim_end());
        out.push('\n');
    };
    line(&mut out, &mut header.iter().copied());
    for row in rows {
        line(&mut out, &mut row.iter().map(String::as_str));
    }
    out
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
    }

    #[test]
    fn tables_align() {
        let t = render(
            &["name", "n"],
            &[Align::Left, Align::Right],
            &[
                vec!["a".into(), "10".into()],
                vec!["long".into(), "2".into()],
            ],
        );
        assert_eq!(t, "name   n\na     10\nlong   2\n");
    }
}
