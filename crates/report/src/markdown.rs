//! Documents as GitHub-flavoured Markdown (for issues, pull requests and wikis).

use std::fmt::Write as _;

use crate::doc::{Document, Table, Value};

/// Escapes text for a Markdown table cell or line.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' | '*' | '_' | '`' | '<' | '>' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Renders a document as Markdown, with `title` as the top heading.
pub fn render(doc: &Document, title: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}", escape(title));
    for s in &doc.sections {
        out.push('\n');
        if !s.title.is_empty() {
            let _ = writeln!(out, "## {}\n", escape(&s.title));
        }
        if !s.facts.is_empty() {
            for (label, value) in &s.facts {
                let _ = writeln!(out, "- **{}**: {}", escape(label), escape(&value.human()));
            }
            out.push('\n');
        }
        if let Some(t) = &s.table {
            if t.rows.is_empty() {
                if let Some(e) = &s.empty {
                    let _ = writeln!(out, "_{}_", escape(e));
                }
            } else {
                table(&mut out, t);
            }
        }
        if !s.notes.is_empty() && s.table.as_ref().is_some_and(|t| !t.rows.is_empty()) {
            out.push('\n');
        }
        for n in &s.notes {
            let _ = writeln!(out, "{}\n", escape(&n.human()));
        }
    }
    out
}

fn table(out: &mut String, t: &Table) {
    out.push('|');
    for c in &t.columns {
        let _ = write!(out, " {} |", escape(&c.title));
    }
    out.push_str("\n|");
    for i in 0..t.columns.len() {
        let numeric = t
            .rows
            .iter()
            .any(|r| r.get(i).is_some_and(Value::is_numeric));
        out.push_str(if numeric { " ---: |" } else { " --- |" });
    }
    out.push('\n');
    for r in &t.rows {
        out.push('|');
        for v in r {
            let _ = write!(out, " {} |", escape(&v.human()));
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::Section;

    #[test]
    fn tables_and_escapes() {
        let mut t = Table::new("t", &[("site", "site"), ("total_ns", "total")]);
        t.row(vec!["main.(*T).f|x".into(), Value::Dur(1500)]);
        let doc = Document {
            sections: vec![Section::new("By site").with_table(t, "none")],
        };
        assert_eq!(
            render(&doc, "goroscope blocking"),
            "# goroscope blocking\n\n## By site\n\n| site | total |\n| --- | ---: |\n| main.(\\*T).f\\|x | 1.50µs |\n"
        );
    }
}
