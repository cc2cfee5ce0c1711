//! Documents as aligned plain text for terminals, optionally with ANSI colour.

use std::fmt::Write as _;

use crate::doc::{Document, Section, Table, Tone, Value};

/// How to render text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextOptions {
    /// Use ANSI colours and bold.
    pub color: bool,
    /// Shorten text cells longer than this (keeping both ends), if set.
    pub max_cell: Option<usize>,
}

impl Default for TextOptions {
    fn default() -> Self {
        Self {
            color: false,
            max_cell: Some(72),
        }
    }
}

const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

fn code(tone: Tone) -> Option<&'static str> {
    match tone {
        Tone::Plain => None,
        Tone::Good => Some("\x1b[32m"),
        Tone::Warn => Some("\x1b[33m"),
        Tone::Bad => Some("\x1b[31m"),
        Tone::Dim => Some("\x1b[2m"),
    }
}

/// `s` shortened to `max` characters by replacing its middle with `…`.
pub fn elide(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max || max < 8 {
        return s.to_owned();
    }
    let head = (max - 1) * 2 / 5;
    let tail = max - 1 - head;
    let mut out: String = s.chars().take(head).collect();
    out.push('…');
    out.extend(s.chars().skip(n - tail));
    out
}

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, out: &mut String, text: &str, tone: Tone) {
        match code(tone).filter(|_| self.color) {
            Some(c) => {
                out.push_str(c);
                out.push_str(text);
                out.push_str(RESET);
            }
            None => out.push_str(text),
        }
    }

    fn bold(&self, out: &mut String, text: &str) {
        if self.color {
            out.push_str(BOLD);
            out.push_str(text);
            out.push_str(RESET);
        } else {
            out.push_str(text);
        }
    }
}

/// Renders a document as text.
pub fn render(doc: &Document, o: &TextOptions) -> String {
    let p = Painter { color: o.color };
    let mut out = String::new();
    for (i, s) in doc.sections.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        section(&mut out, s, o, &p);
    }
    out
}

fn cell_text(v: &Value, o: &TextOptions) -> (String, Tone) {
    let (inner, tone) = v.untoned();
    let mut s = inner.human();
    if let (Value::Text(_), Some(max)) = (inner, o.max_cell) {
        s = elide(&s, max);
    }
    (s, tone)
}

fn section(out: &mut String, s: &Section, o: &TextOptions, p: &Painter) {
    if !s.title.is_empty() {
        p.bold(out, &s.title);
        out.push('\n');
    }
    let width = s
        .facts
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    for (label, value) in &s.facts {
        let (text, tone) = cell_text(
            value,
            &TextOptions {
                max_cell: None,
                ..*o
            },
        );
        let _ = write!(out, "{label:<width$}  ");
        p.paint(out, &text, tone);
        out.push('\n');
    }
    if let Some(t) = &s.table {
        if t.rows.is_empty() {
            if let Some(e) = &s.empty {
                p.paint(out, e, Tone::Dim);
                out.push('\n');
            }
        } else {
            table(out, t, o, p);
        }
    }
    for n in &s.notes {
        let (text, tone) = cell_text(
            n,
            &TextOptions {
                max_cell: None,
                ..*o
            },
        );
        p.paint(out, &text, tone);
        out.push('\n');
    }
}

/// Renders one table: each column as wide as its widest cell, two spaces apart, numbers
/// right-aligned.
fn table(out: &mut String, t: &Table, o: &TextOptions, p: &Painter) {
    let n = t.columns.len();
    // The last column can run on; the others are shortened to keep the table readable.
    let last = TextOptions {
        max_cell: None,
        ..*o
    };
    let cells: Vec<Vec<(String, Tone)>> = t
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(i, v)| cell_text(v, if i + 1 == n { &last } else { o }))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = t.columns.iter().map(|c| c.title.chars().count()).collect();
    for row in &cells {
        for (w, (c, _)) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    // A column is numeric if any of its cells is.
    let numeric: Vec<bool> = (0..n)
        .map(|i| {
            t.rows
                .iter()
                .any(|r| r.get(i).is_some_and(Value::is_numeric))
        })
        .collect();
    let line = |out: &mut String, row: &[(String, Tone)], header: bool| {
        let mut pending = String::new();
        for (i, (cell, tone)) in row.iter().enumerate().take(n) {
            let mut piece = String::new();
            if i > 0 {
                piece.push_str("  ");
            }
            let pad = widths[i].saturating_sub(cell.chars().count());
            let last = i + 1 == n;
            if numeric[i] {
                piece.extend(std::iter::repeat_n(' ', pad));
            }
            pending.push_str(&piece);
            if header {
                p.bold(&mut pending, cell);
            } else {
                p.paint(&mut pending, cell, *tone);
            }
            if !numeric[i] && !last {
                pending.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(pending.trim_end());
        out.push('\n');
    };
    let header: Vec<(String, Tone)> = t
        .columns
        .iter()
        .map(|c| (c.title.clone(), Tone::Plain))
        .collect();
    line(out, &header, true);
    for row in &cells {
        line(out, row, false);
    }
}

/// Renders one table without colour (for tests and simple callers).
pub fn table_plain(t: &Table) -> String {
    let mut out = String::new();
    table(
        &mut out,
        t,
        &TextOptions {
            color: false,
            max_cell: None,
        },
        &Painter { color: false },
    );
    out
}

/// Eight levels of a bar, for sparklines.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A one-line chart of `values` in `[0, 1]`, at most `width` characters (averaging
/// neighbours).
pub fn sparkline(values: &[f64], width: usize) -> String {
    if values.is_empty() || width == 0 {
        return String::new();
    }
    let per = values.len().div_ceil(width);
    values
        .chunks(per)
        .map(|c| {
            let v = c.iter().sum::<f64>() / c.len() as f64;
            let i = (v.clamp(0.0, 1.0) * 7.0).round() as usize;
            BARS[i]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align() {
        let mut t = Table::new("t", &[("name", "name"), ("n", "n")]);
        t.row(vec!["a".into(), Value::Int(10)]);
        t.row(vec!["long".into(), Value::Int(2)]);
        assert_eq!(table_plain(&t), "name   n\na     10\nlong   2\n");
    }

    #[test]
    fn colour_does_not_change_alignment() {
        let mut t = Table::new("t", &[("name", "name"), ("n", "n")]);
        t.row(vec!["a".into(), Value::Int(10).tone(Tone::Bad)]);
        let doc = Document {
            sections: vec![Section::new("").with_table(t, "")],
        };
        let plain = render(&doc, &TextOptions::default());
        let coloured = render(
            &doc,
            &TextOptions {
                color: true,
                ..TextOptions::default()
            },
        );
        let stripped = coloured
            .replace("\x1b[31m", "")
            .replace("\x1b[1m", "")
            .replace("\x1b[0m", "");
        assert_eq!(stripped, plain);
        assert!(coloured.contains("\x1b[31m10\x1b[0m"));
    }

    #[test]
    fn long_cells_are_elided_in_the_middle() {
        let s = "main.worker (/very/long/path/to/some/file/main.go:123)";
        let e = elide(s, 30);
        assert_eq!(e.chars().count(), 30);
        assert!(e.starts_with("main.worker"));
        assert!(e.ends_with("main.go:123)"));
    }

    #[test]
    fn sparklines() {
        assert_eq!(sparkline(&[0.0, 1.0, 0.5], 3), "▁█▅");
        assert_eq!(sparkline(&[0.0, 0.0, 1.0, 1.0], 2), "▁█");
    }
}
