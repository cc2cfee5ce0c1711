//! A report as a document: sections of facts, notes and tables, independent of how it is
//! shown. [`crate::text`], [`crate::markdown`] and [`crate::csv`] render documents.
//!
//! Values keep their kind (a duration is nanoseconds, a fraction is a fraction), so each
//! renderer can show them its own way: scaled with a unit for people, raw for CSV.

use crate::units;

/// How a value reads: whether it is good or bad news (for colour).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tone {
    /// Plain.
    #[default]
    Plain,
    /// Better (an improvement, a passed check).
    Good,
    /// Worth a look (a warning).
    Warn,
    /// Bad (a regression, an error, a failed check).
    Bad,
    /// Less important (units, context).
    Dim,
}

/// One value of a fact or a table cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Nothing.
    Empty,
    /// Text.
    Text(String),
    /// A count.
    Int(i64),
    /// A duration in nanoseconds.
    Dur(i64),
    /// A change of a duration (shown with its sign).
    DurDelta(i64),
    /// A change of a count (shown with its sign).
    IntDelta(i64),
    /// A time in nanoseconds since the start of the trace.
    Time(i64),
    /// A byte count.
    Bytes(u64),
    /// A fraction, shown as a percentage.
    Frac(f64),
    /// A change of a fraction (percentage points, with its sign).
    FracDelta(f64),
    /// A number with this many decimals.
    Float(f64, u8),
    /// A ratio after/before, or undefined.
    Ratio(Option<f64>),
    /// A value with a tone.
    Toned(Box<Value>, Tone),
}

impl Value {
    /// Text from anything displayable.
    pub fn text(s: impl Into<String>) -> Self {
        Self::Text(s.into())
    }

    /// This value with a tone.
    #[must_use]
    pub fn tone(self, tone: Tone) -> Self {
        if tone == Tone::Plain {
            self
        } else {
            Self::Toned(Box::new(self), tone)
        }
    }

    /// The value without its tone, and the tone.
    pub fn untoned(&self) -> (&Value, Tone) {
        match self {
            Self::Toned(v, t) => (v.untoned().0, *t),
            v => (v, Tone::Plain),
        }
    }

    /// Whether the value is a number (right-aligned in tables).
    pub fn is_numeric(&self) -> bool {
        !matches!(self.untoned().0, Self::Text(_) | Self::Empty)
    }

    /// For people: durations scaled with a unit, fractions as percentages.
    pub fn human(&self) -> String {
        match self {
            Self::Empty => String::new(),
            Self::Text(s) => s.clone(),
            Self::Int(n) => n.to_string(),
            Self::Dur(ns) => units::duration(*ns),
            Self::DurDelta(ns) => units::duration_delta(*ns),
            Self::IntDelta(n) if *n > 0 => format!("+{n}"),
            Self::IntDelta(n) => n.to_string(),
            Self::Time(ns) => units::duration(*ns),
            Self::Bytes(n) => units::bytes(*n),
            Self::Frac(f) => units::percent(*f),
            Self::FracDelta(f) => {
                if *f == 0.0 {
                    "0".to_owned()
                } else {
                    format!("{:+.1}pp", f * 100.0)
                }
            }
            Self::Float(f, d) => format!("{f:.prec$}", prec = usize::from(*d)),
            Self::Ratio(r) => units::ratio(*r),
            Self::Toned(v, _) => v.human(),
        }
    }

    /// For programs: nanoseconds, bytes and fractions as plain numbers.
    pub fn raw(&self) -> String {
        match self {
            Self::Empty => String::new(),
            Self::Text(s) => s.clone(),
            Self::Int(n) | Self::Dur(n) | Self::DurDelta(n) | Self::IntDelta(n) | Self::Time(n) => {
                n.to_string()
            }
            Self::Bytes(n) => n.to_string(),
            Self::Frac(f) | Self::FracDelta(f) => format!("{f:.6}"),
            Self::Float(f, d) => format!("{f:.prec$}", prec = usize::from(*d)),
            Self::Ratio(Some(r)) if r.is_finite() => format!("{r:.6}"),
            Self::Ratio(_) => String::new(),
            Self::Toned(v, _) => v.raw(),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}

/// A column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its name for programs (CSV header): `snake_case`, with the unit (`total_ns`).
    pub key: String,
    /// Its title for people.
    pub title: String,
}

/// A table: named columns and rows of values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// Its name for programs (`by_site`), unique in a document.
    pub key: String,
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows, each as long as `columns`.
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    /// An empty table named `key` with columns given as `(key, title)`.
    pub fn new(key: &str, columns: &[(&str, &str)]) -> Self {
        Self {
            key: key.to_owned(),
            columns: columns
                .iter()
                .map(|(k, t)| Column {
                    key: (*k).to_owned(),
                    title: (*t).to_owned(),
                })
                .collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    pub fn row(&mut self, row: Vec<Value>) {
        debug_assert_eq!(row.len(), self.columns.len(), "row width of {}", self.key);
        self.rows.push(row);
    }
}

/// A part of a document: a heading, then facts, notes and a table, each optional.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Section {
    /// The heading.
    pub title: String,
    /// Labelled values (`p99  1.2ms`).
    pub facts: Vec<(String, Value)>,
    /// Lines of text.
    pub notes: Vec<Value>,
    /// A table.
    pub table: Option<Table>,
    /// Shown when the table has no rows (`no leaks`).
    pub empty: Option<String>,
}

impl Section {
    /// A section with a heading.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }

    /// Adds a fact.
    #[must_use]
    pub fn fact(mut self, label: impl Into<String>, value: impl Into<Value>) -> Self {
        self.facts.push((label.into(), value.into()));
        self
    }

    /// Adds a line of text.
    #[must_use]
    pub fn note(mut self, line: impl Into<Value>) -> Self {
        self.notes.push(line.into());
        self
    }

    /// Sets the table, and what to say when it is empty.
    #[must_use]
    pub fn with_table(mut self, table: Table, empty: &str) -> Self {
        self.table = Some(table);
        self.empty = Some(empty.to_owned());
        self
    }
}

/// A whole report.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    /// Its sections, in order.
    pub sections: Vec<Section>,
}

impl Document {
    /// Every table, in order.
    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.sections.iter().filter_map(|s| s.table.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_two_ways() {
        let v = Value::Dur(1_500_000).tone(Tone::Bad);
        assert_eq!(v.human(), "1.50ms");
        assert_eq!(v.raw(), "1500000");
        assert!(v.is_numeric());
        assert_eq!(v.untoned().1, Tone::Bad);
        assert_eq!(Value::Frac(0.5).raw(), "0.500000");
        assert_eq!(Value::FracDelta(-0.012).human(), "-1.2pp");
        assert_eq!(Value::IntDelta(3).human(), "+3");
        assert_eq!(Value::Ratio(None).raw(), "");
    }
}
