//! Documents as CSV (RFC 4180): raw numbers (nanoseconds, bytes, fractions), one header row
//! of column keys per table.

use std::fmt::Write as _;

use crate::doc::{Document, Table};

/// Quotes a field if it needs it.
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Writes one record (a line ending in CRLF-free `\n`, as most tools expect).
pub fn record<'a>(out: &mut String, fields: impl IntoIterator<Item = &'a str>) {
    let mut first = true;
    for f in fields {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(&field(f));
    }
    out.push('\n');
}

/// One table as CSV: a header row of column keys, then the rows with raw values.
pub fn table(t: &Table) -> String {
    let mut out = String::new();
    record(&mut out, t.columns.iter().map(|c| c.key.as_str()));
    for r in &t.rows {
        let raw: Vec<String> = r.iter().map(|v| v.raw()).collect();
        record(&mut out, raw.iter().map(String::as_str));
    }
    out
}

/// Every table of the document: each preceded by a `# table: KEY` line and followed by an
/// empty line (`pandas.read_csv(..., comment="#")` reads one; `--table KEY` selects one).
pub fn render(doc: &Document) -> String {
    let mut out = String::new();
    for (i, t) in doc.tables().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "# table: {}", t.key);
        out.push_str(&table(t));
    }
    out
}

/// The keys of the document's tables.
pub fn keys(doc: &Document) -> Vec<&str> {
    doc.tables().map(|t| t.key.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::{Section, Value};

    #[test]
    fn quotes_and_raw_values() {
        let mut t = Table::new("by_site", &[("site", "site"), ("total_ns", "total")]);
        t.row(vec!["a, \"b\"".into(), Value::Dur(1500)]);
        assert_eq!(table(&t), "site,total_ns\n\"a, \"\"b\"\"\",1500\n");
        let doc = Document {
            sections: vec![Section::new("x").with_table(t, "")],
        };
        assert!(render(&doc).starts_with("# table: by_site\nsite,total_ns\n"));
        assert_eq!(keys(&doc), ["by_site"]);
    }
}
